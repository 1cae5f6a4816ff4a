#!/usr/bin/env bash
# The shared library exports exactly the functions the public headers declare,
# and nothing without the sbprov_ prefix (or internal sbprov__ helpers).
# usage: check-symbols.sh LIBRARY INCLUDE_DIR...
set -euo pipefail
lib=$1
shift
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
declared=$(cat "$@" 2>/dev/null | tr '\n' ' ' | grep -oE 'SBPROV_API[^;{]*\(' | grep -oE '\bsbprov_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
status=0
for s in $exported; do
    case "$s" in
        sbprov__*) echo "FAIL: internal symbol exported: $s"; status=1 ;;
        sbprov_*) ;;
        *) echo "FAIL: exported symbol without the sbprov_ prefix: $s"; status=1 ;;
    esac
done
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
[ -z "$missing" ] || { echo "FAIL: declared in headers but not exported: $missing"; status=1; }
[ -z "$extra" ] || { echo "FAIL: exported but not declared in a header: $extra"; status=1; }
n=$(echo "$exported" | wc -l)
[ "$n" -ge 10 ] || { echo "FAIL: only $n symbols exported"; status=1; }
[ $status -eq 0 ] && echo "ok: $n exported symbols, all sbprov_*, all declared"
exit $status
