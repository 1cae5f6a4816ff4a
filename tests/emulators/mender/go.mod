module sbprov.test/emulators/mender

go 1.19

require sbprov.test/emulators/emukit v0.0.0

replace sbprov.test/emulators/emukit => ../emukit
