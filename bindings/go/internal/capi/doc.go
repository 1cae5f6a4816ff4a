// Package capi is the raw SWIG-generated binding of libsbprov (capi.go and
// capi_wrap.c, produced by ../../generate.sh from ../../sbprov.i; do not edit
// them by hand). It is internal: programs use the idiomatic package sbprov,
// which turns result codes and the thread-local error detail into Go errors.
package capi

import "unsafe"

// The generated code was produced with `swig -intgosize 64`: its C side
// describes Go strings and slices with 64-bit lengths. This constant does not
// compile (negative uintptr) where Go's int is narrower, instead of letting
// such a build corrupt memory at run time. Regenerate with -intgosize 32 for
// 32-bit targets.
const _ = unsafe.Sizeof(int(0)) - 8
