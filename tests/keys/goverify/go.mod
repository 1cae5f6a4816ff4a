module sbprov.test/goverify

go 1.19
