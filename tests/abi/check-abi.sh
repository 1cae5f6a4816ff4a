#!/usr/bin/env bash
# ABI gate: the built library must be compatible with the committed baseline.
# abidiff exits 0 only when nothing but added symbols changed (--no-added-syms);
# layout changes give 4 and removals 12 (docs/abi.md).
# usage: check-abi.sh BASELINE LIBRARY INCLUDE_DIR...
set -uo pipefail
baseline=$1 lib=$2
shift 2
hd1=() hd2=()
for d in "$@"; do hd1+=(--headers-dir1 "$d"); hd2+=(--headers-dir2 "$d"); done
report=$(abidiff --no-added-syms "${hd1[@]}" "${hd2[@]}" "$baseline" "$lib" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: ABI differs from $baseline (abidiff exit $rc):"
    echo "$report"
    echo "If this change is intended (a new major version), regenerate the baseline with 'make abi-baseline'."
    exit 1
fi
echo "ok: ABI compatible with $(basename "$baseline")"
