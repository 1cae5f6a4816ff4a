module sbprov.test/emulators/azure

go 1.19

require sbprov.test/emulators/emukit v0.0.0

replace sbprov.test/emulators/emukit => ../emukit
