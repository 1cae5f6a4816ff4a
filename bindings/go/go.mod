module github.com/sbprov/libsbprov/bindings/go

go 1.19
