#!/usr/bin/env bash
# Build a libFuzzer target with clang (-fsanitize=fuzzer,address,undefined)
# from the library's own sources and run it for a bounded time on its seed
# corpus (tests/fuzz/corpus/NAME). Fails, never skips, when clang or its
# fuzzer runtime is missing: scripts/install-deps.sh installs them.
#
# usage: run-fuzzer.sh NAME WORK_DIR SOURCE_ROOT GENERATED_INCLUDE SOURCES
#   NAME               target tests/fuzz/fuzz_NAME_parse.c, corpus corpus/NAME
#   SOURCES            the library's .c files, colon-separated
# Environment: SBPROV_FUZZ_SECONDS (default 20), SBPROV_FUZZ_RUNS (default
# unlimited within the time), CLANG (default clang, then clang-14).
set -euo pipefail
name=$1 work=$2 root=$3 gen_include=$4 sources=$5
seconds=${SBPROV_FUZZ_SECONDS:-20}
runs=${SBPROV_FUZZ_RUNS:--1}
target="$root/tests/fuzz/fuzz_${name}_parse.c"
seeds="$root/tests/fuzz/corpus/$name"

die() { echo "run-fuzzer: FAIL: $*" >&2; exit 1; }
cc=${CLANG:-}
if [ -z "$cc" ]; then
    for c in clang clang-14; do command -v "$c" >/dev/null 2>&1 && { cc=$c; break; }; done
fi
[ -n "$cc" ] || die "clang not found: the fuzz tests need clang and libclang-rt-14-dev (scripts/install-deps.sh installs them)"
[ -f "$target" ] || die "no fuzz target $target"
[ -d "$seeds" ] || die "no seed corpus $seeds"
mkdir -p "$work/$name/obj" "$work/$name/corpus" "$work/$name/artifacts"

echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' > "$work/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$work/probe.c" -o "$work/probe" 2>"$work/probe.log"; then
    cat "$work/probe.log" >&2
    die "$cc cannot build with -fsanitize=fuzzer (install libclang-rt-14-dev)"
fi

flags=(-g -O1 -std=gnu11 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -D_GNU_SOURCE -DSBPROV_BUILDING_LIBRARY -DSBPROV_STATIC
       -I "$root/include" -I "$gen_include" -I "$root/libsbprov" -I "$root/tests/fuzz")
# The library sources, instrumented for coverage; an archive so the target
# pulls in only the objects it needs.
IFS=: read -r -a srcs <<< "$sources"
objs=()
for src in "${srcs[@]}"; do
    obj="$work/$name/obj/$(basename "$src" .c).o"
    objs+=("$obj")
    "$cc" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
done
wait_all() { local s=0; for job in $(jobs -p); do wait "$job" || s=1; done; return $s; }
wait_all || die "compiling the library sources with $cc failed"
rm -f "$work/$name/libsbprov-fuzz.a"
ar rcs "$work/$name/libsbprov-fuzz.a" "${objs[@]}"
"$cc" "${flags[@]}" -fsanitize=fuzzer "$target" "$work/$name/libsbprov-fuzz.a" \
    -lssl -lcrypto -lcurl -lcjson -lpthread -o "$work/$name/fuzzer" || die "linking the fuzzer failed"

echo "run-fuzzer: $name for ${seconds}s (runs $runs) on $(ls "$seeds" | wc -l) seeds"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# New inputs go to the work corpus (first directory), never into the seeds.
"$work/$name/fuzzer" -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" "$seeds" \
    || die "the fuzzer found a failure; the input is in $work/$name/artifacts/"
echo "ok: fuzz target $name ran ${seconds}s without failures"
