module sbprov.invalid/tests/identity/gojson

go 1.19
