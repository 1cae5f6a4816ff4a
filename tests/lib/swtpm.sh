# Software TPM (swtpm) for the script tests: sourced, not run.
#
#   . tests/lib/swtpm.sh
#   swtpm_require TAG [COMMAND HINT]...   # exit 1 naming what is missing
#   trap swtpm_cleanup EXIT               # stop swtpm, remove its state
#   trap 'exit 130' INT TERM
#   swtpm_start LOG_FILE                  # call directly, not in $(...)
#
# swtpm_start runs swtpm on two free consecutive loopback ports (server,
# control), retrying on a port race, with the TPM already started
# (startup-clear, so no tpm2_startup is needed). It exports TPM2TOOLS_TCTI
# (tpm2-tools) and TPM2OPENSSL_TCTI (the tpm2 OpenSSL provider) and sets
# SWTPM_PORT and SWTPM_PID. There is no resource manager: transient objects
# stay loaded and the TPM has few slots, so flush them (tpm2_flushcontext -t)
# after making a key persistent. Installs nothing (scripts/install-deps.sh
# does).

swtpm_tag=swtpm
SWTPM_PID=
SWTPM_PORT=
swtpm_state=

swtpm_die() {
    echo "$swtpm_tag: FAIL: $*" >&2
    exit 1
}

# swtpm_require TAG [COMMAND HINT]...: swtpm, tpm2-tools, the tpm2 OpenSSL
# provider and python3 (for the port search), plus each extra COMMAND (HINT
# says where it comes from). TAG prefixes the messages.
swtpm_require() {
    swtpm_tag=$1
    shift
    local missing=() modules
    command -v swtpm >/dev/null 2>&1 || missing+=("swtpm (Debian: swtpm swtpm-tools)")
    local t
    for t in tpm2_createprimary tpm2_evictcontrol tpm2_flushcontext tpm2_getcap; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t (Debian: tpm2-tools)")
    done
    modules=$(openssl version -m 2>/dev/null | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p')
    [ -n "$modules" ] && [ -f "$modules/tpm2.so" ] ||
        missing+=("the tpm2 OpenSSL provider ${modules:-?}/tpm2.so (Debian: tpm2-openssl)")
    command -v python3 >/dev/null 2>&1 || missing+=("python3")
    while [ $# -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)")
        shift 2
    done
    if [ ${#missing[@]} -gt 0 ]; then
        printf '%s: FAIL: missing:\n' "$swtpm_tag" >&2
        printf '  %s\n' "${missing[@]}" >&2
        echo "$swtpm_tag: run scripts/install-deps.sh as root (apt-get install swtpm swtpm-tools tpm2-tools" \
            "tpm2-openssl)" >&2
        exit 1
    fi
}

# Two free consecutive loopback ports (server, control): prints the first.
swtpm_free_ports() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000)
    socks = []
    try:
        for port in (p, p + 1):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
        for s in socks:
            s.close()
        print(p)
        break
    except OSError:
        for s in socks:
            s.close()
PY
}

# swtpm_start LOG_FILE: see the top of this file.
swtpm_start() {
    local log=$1 attempt port started=
    [ -z "$swtpm_state" ] || swtpm_die "swtpm_start: swtpm is already running"
    swtpm_state=$(mktemp -d "${TMPDIR:-/tmp}/sbprov-swtpm.XXXXXX")
    for attempt in 1 2 3 4 5; do
        port=$(swtpm_free_ports)
        [ -n "$port" ] || swtpm_die "no free loopback ports"
        swtpm socket --tpm2 --tpmstate dir="$swtpm_state" \
            --server type=tcp,port="$port",bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
            --flags not-need-init,startup-clear --log file="$log" &
        SWTPM_PID=$!
        export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
        export TPM2OPENSSL_TCTI="$TPM2TOOLS_TCTI"
        for _ in $(seq 1 50); do
            if tpm2_getcap properties-fixed >/dev/null 2>&1; then
                started=1
                break
            fi
            kill -0 "$SWTPM_PID" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$started" ] && break
        kill "$SWTPM_PID" 2>/dev/null || true
        wait "$SWTPM_PID" 2>/dev/null || true
        SWTPM_PID=
    done
    [ -n "$started" ] || swtpm_die "swtpm did not start after $attempt attempts (log: $(cat "$log" 2>/dev/null))"
    SWTPM_PORT=$port
    echo "ok: swtpm on 127.0.0.1:$port (TCTI $TPM2OPENSSL_TCTI)"
}

# swtpm_cleanup: stop swtpm (if running) and remove its state. Idempotent.
swtpm_cleanup() {
    if [ -n "$SWTPM_PID" ]; then
        kill "$SWTPM_PID" 2>/dev/null || true
        wait "$SWTPM_PID" 2>/dev/null || true
        SWTPM_PID=
    fi
    if [ -n "$swtpm_state" ]; then
        rm -rf "$swtpm_state"
        swtpm_state=
    fi
}
