#!/usr/bin/env bash
# Install the built library into a scratch prefix, then build and run a tiny
# outside project against it: with CMake's find_package (shared and static)
# and with pkg-config (shared and --static).
# usage: run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n 1)

echo "--- find_package"
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake-build/consumer"
"$work/cmake-build/consumer_static"
if ldd "$work/cmake-build/consumer_static" | grep -q libsbprov; then
    echo "FAIL: the static consumer links libsbprov.so"; exit 1
fi

echo "--- pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -o "$work/pc-consumer" "$here/main.c" $(pkg-config --cflags --libs sbprov)
LD_LIBRARY_PATH="$libdir" "$work/pc-consumer"
# Static libsbprov over the shared system libraries: the dependencies come
# from Requires.private (libcurl's own static closure is not installed here).
requires=$(pkg-config --print-requires-private sbprov | awk '{print $1}' | sort | tr '\n' ' ')
[ "$requires" = "libcjson libcurl openssl " ] || { echo "FAIL: Requires.private is '$requires'"; exit 1; }
# shellcheck disable=SC2046,SC2086
$cc -o "$work/pc-consumer-static" "$here/main.c" -DSBPROV_STATIC $(pkg-config --cflags sbprov) \
    "$libdir/libsbprov.a" $(pkg-config --libs $requires) -lpthread
"$work/pc-consumer-static"
echo "ok: find_package and pkg-config consumers build and run"
