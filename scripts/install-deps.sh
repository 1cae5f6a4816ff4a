#!/usr/bin/env bash
# Installs the Debian packages that building and testing libsbprov need, if
# any are missing. As root it runs apt-get; otherwise it names what is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    libssl-dev libcurl4-openssl-dev libcjson-dev
    libcmocka-dev valgrind abigail-tools swig
    python3 python3-dev python3-venv python3-pip
    swtpm swtpm-tools tpm2-tools tpm2-openssl
    clang libclang-rt-14-dev iproute2
    gcc-arm-none-eabi
    nginx-light openssl curl
)
# Go: keep a toolchain that is already there (often newer than Debian's).
command -v go >/dev/null 2>&1 || packages+=(golang-go)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Python from elsewhere (pyenv, a venv) brings its own headers and venv module.
if [ ${#missing[@]} -gt 0 ] && python3 -c 'import sysconfig, os, venv; assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")' 2>/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do
        case "$p" in python3|python3-dev|python3-venv|python3-pip) ;; *) filtered+=("$p") ;; esac
    done
    missing=(${filtered[@]+"${filtered[@]}"})
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
