module sbprov.test/emulators/mender

go 1.19
