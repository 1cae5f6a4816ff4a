#!/usr/bin/env bash
# Runs the benchmarks (Azure keys and SAS tokens, sensor frames) and writes
# docs/performance.md (see bench/report.py).
# Builds nothing: `make bench` has built everything into $SBPROV_BUILD first.
# The Python SDK baseline lives in a venv under the build dir, made on first
# use (needs PyPI). Exits non-zero if a performance target is not met.
#
# Environment:
#   SBPROV_BUILD              build directory (required; set by `make bench`)
#   SBPROV_BENCH_SDK_VERSION  azure-iot-device version for a new venv (default 2.14.0)
#   SBPROV_BENCH_ROUNDS       rounds of (Azure C program, frame program, Python script) (default 4)
set -euo pipefail

die() { echo "bench/run.sh: $*" >&2; exit 2; }

[ -n "${SBPROV_BUILD:-}" ] || die "SBPROV_BUILD is not set: run 'make bench', or SBPROV_BUILD=<build dir> bench/run.sh"
[ -d "$SBPROV_BUILD" ] || die "SBPROV_BUILD=$SBPROV_BUILD is not a directory"
build=$(cd "$SBPROV_BUILD" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
bench_bin="$build/bench/sbprov-bench-azure"
frame_bin="$build/bench/sbprov-bench-frame"
for bin in "$bench_bin" "$frame_bin"; do
    [ -x "$bin" ] || die "$bin not found: build first ('make build' with SBPROV_BUILD_BENCH=ON)"
done

sdk_version=${SBPROV_BENCH_SDK_VERSION:-2.14.0}
rounds=${SBPROV_BENCH_ROUNDS:-4}
c_reps=7
py_reps=3
venv="$build/bench-venv"
out="$build/bench-out"
mkdir -p "$out"
start=$(date +%s)

# --- Python SDK venv ------------------------------------------------------------
if ! "$venv/bin/python" -c 'import azure.iot.device' 2>/dev/null; then
    echo "bench/run.sh: making $venv with azure-iot-device==$sdk_version"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "azure-iot-device==$sdk_version" ||
        die "pip install azure-iot-device==$sdk_version failed (is PyPI reachable?)"
fi

# --- Measurements: C and Python in alternating rounds ------------------------------
# The Azure C program checks libsbprov against bare OpenSSL and writes the SAS
# inputs and libsbprov's tokens; the Python script checks the SDK's tokens
# against them byte for byte before timing. The frame program checks the
# decoder, its bare COBS + CRC baseline and cJSON on SenML against the frames
# it encoded, and counts the decoder's heap allocations. Alternating rounds
# spread all of them over the run, so a slow spell of a shared machine does not
# fall on one side only.
results=()
frame_ms=0
for round in $(seq 1 "$rounds"); do
    echo "bench/run.sh: round $round/$rounds: libsbprov vs OpenSSL ($c_reps repetitions)"
    "$bench_bin" --reps "$c_reps" --sample-ms 40 --out-dir "$out" >"$out/c$round.txt" ||
        die "sbprov-bench-azure failed (output in $out/c$round.txt)"
    grep '^RESULT' "$out/c$round.txt" | cut -d' ' -f1-3
    echo "bench/run.sh: round $round/$rounds: frame decoder vs bare COBS + CRC-32C and cJSON ($c_reps repetitions)"
    frame_t0=$(date +%s%N)
    "$frame_bin" --reps "$c_reps" --sample-ms 40 >"$out/f$round.txt" ||
        die "sbprov-bench-frame failed (output in $out/f$round.txt)"
    frame_ms=$((frame_ms + ($(date +%s%N) - frame_t0) / 1000000))
    grep -E '^(RESULT|ALLOCS)' "$out/f$round.txt" | cut -d' ' -f1-3
    echo "bench/run.sh: round $round/$rounds: azure-iot-device ($py_reps repetitions)"
    "$venv/bin/python" "$here/sas_python_sdk.py" --dir "$out" --reps "$py_reps" --sample-ms 150 \
        --loop-lib "$build/bench/sbprov-bench-sas-loop.so" \
        >"$out/py$round.txt" || { cat "$out/py$round.txt"; die "sas_python_sdk.py failed"; }
    grep '^RESULT' "$out/py$round.txt" | cut -d' ' -f1-3
    results+=("$out/c$round.txt" "$out/f$round.txt" "$out/py$round.txt")
done

# --- Environment and report -------------------------------------------------------
cache_get() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n1; }
cc=$(cache_get CMAKE_C_COMPILER)
build_type=$(cache_get CMAKE_BUILD_TYPE)
build_type_uc=$(printf '%s' "$build_type" | tr '[:lower:]' '[:upper:]')
c_flags="$(cache_get CMAKE_C_FLAGS) $(cache_get "CMAKE_C_FLAGS_$build_type_uc")"
compiler=$("${cc:-cc}" --version 2>/dev/null | head -n1 || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
cpu="${cpu:-unknown} ($(nproc) cores)"
end=$(date +%s)
echo "bench/run.sh: the frame benchmark took $((frame_ms / 1000)).$(printf '%03d' $((frame_ms % 1000))) s of $((end - start)) s"

status=0
notes=()
[ -f "$here/notes.md" ] && notes=(--notes "$here/notes.md")
python3 "$here/report.py" --results "${results[@]}" --out "$root/docs/performance.md" --rounds "$rounds" \
    --cpu "$cpu" --compiler "$compiler" --build-type "${build_type:-unknown}" --c-flags "$(echo $c_flags)" \
    --kernel "$(uname -sr)" --duration "$((end - start))" "${notes[@]}" || status=$?
echo "bench/run.sh: wrote $root/docs/performance.md"

# The gateway daemon end to end (one run: it takes about 15 s and needs the
# emulator stack); its section is appended to the same file.
stage=${SBPROV_STAGE:-$build/stage}
if [ -x "$stage/bin/sbprov-gateway" ] && [ -x "$stage/bin/sbprov-mcu-sim" ]; then
    python3 "$here/bench_gateway.py" --stage "$stage" --batch 1000 --json "$out/gateway.json" \
        --doc "$root/docs/performance.md" >"$out/gateway.txt" 2>&1 || {
        cat "$out/gateway.txt" >&2
        [ "$status" -ne 0 ] || status=1
    }
else
    echo "bench/run.sh: $stage/bin has no sbprov-gateway or sbprov-mcu-sim (make build): gateway benchmark skipped" >&2
fi
if [ "$status" -eq 1 ]; then
    echo "bench/run.sh: performance targets NOT met (see docs/performance.md)" >&2
elif [ "$status" -ne 0 ]; then
    echo "bench/run.sh: report failed" >&2
fi
exit "$status"
