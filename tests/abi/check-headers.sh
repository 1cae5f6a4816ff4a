#!/usr/bin/env bash
# Every public header must compile on its own, as strict C99 and as C++.
# usage: check-headers.sh CC CXX INCLUDE_DIR...
set -euo pipefail
cc=$1 cxx=$2
shift 2
incs=()
for d in "$@"; do incs+=("-I$d"); done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
count=0
for dir in "$@"; do
    for h in "$dir"/sbprov/*.h; do
        name=sbprov/$(basename "$h")
        printf '#include <%s>\n#include <%s>\nint sbprov_header_test_dummy;\n' "$name" "$name" >"$tmp/t.c"
        cp "$tmp/t.c" "$tmp/t.cpp"
        if ! "$cc" -std=c99 -pedantic -Wall -Wextra -Werror "${incs[@]}" -c "$tmp/t.c" -o "$tmp/t.o"; then
            echo "FAIL: $name does not compile alone as C99"; status=1
        fi
        if ! "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror "${incs[@]}" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
            echo "FAIL: $name does not compile alone as C++"; status=1
        fi
        count=$((count + 1))
    done
done
[ "$count" -ge 4 ] || { echo "FAIL: found only $count headers"; exit 1; }
[ $status -eq 0 ] && echo "ok: $count public headers compile alone as C99 and C++"
exit $status
