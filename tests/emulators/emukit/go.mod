module sbprov.test/emulators/emukit

go 1.19
