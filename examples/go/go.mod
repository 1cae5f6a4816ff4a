module github.com/sbprov/libsbprov/examples/go

go 1.19

require github.com/sbprov/libsbprov/bindings/go v0.0.0

replace github.com/sbprov/libsbprov/bindings/go => ../../bindings/go
