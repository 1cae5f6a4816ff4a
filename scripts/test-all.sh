#!/usr/bin/env bash
# Every test of the project: C unit tests (plain, valgrind, ASan+UBSan), API and
# ABI gates, the consumer build, the CLI, the Python and Go bindings.
# Run through `make test`, which builds and stages the library first and sets
# SBPROV_BUILD and SBPROV_STAGE.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${SBPROV_BUILD:?run through make test}" "${SBPROV_STAGE:?run through make test}"
asan_build=${SBPROV_BUILD_ASAN:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)

passed=0 failed=0 failures=()
suite() {
    local name=$1
    shift
    echo
    echo "=== $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: passed ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

c_tests() { (cd "$SBPROV_BUILD" && ctest --output-on-failure -j "$jobs"); }

sanitized_tests() {
    cmake -S . -B "$asan_build" -DSBPROV_SANITIZE="address;undefined" -DSBPROV_BUILD_BENCH=OFF >/dev/null &&
        cmake --build "$asan_build" -j "$jobs" >/dev/null &&
        (cd "$asan_build" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
            ctest --output-on-failure -j "$jobs" -L unit)
}

cli_tests() {
    local py
    py=$(scripts/python-venv.sh) && "$py" -m pytest -q tests/cli
}

suite "C unit, valgrind, header, symbol, ABI and consumer tests (ctest)" c_tests
suite "C unit tests under AddressSanitizer + UndefinedBehaviorSanitizer" sanitized_tests
suite "sbprov CLI (pytest)" cli_tests
suite "Python binding (pytest)" bindings/python/test.sh
suite "Go binding (go test)" bindings/go/test.sh
suite "make demo runs end to end" scripts/demo.sh

echo
if [ $failed -gt 0 ]; then
    printf 'failed suites:\n'
    printf '  %s\n' "${failures[@]}"
fi
echo "test-all: $passed passed, $failed failed"
[ $failed -eq 0 ]
