module sbprov.test/emulators/azure

go 1.19
