#!/usr/bin/env bash
# sbprov_identity_probe() against real virtual interfaces: in a network
# namespace of its own (with its own /sys through `ip netns exec`), make a
# veth pair, a second veth pair named like Ethernet (eth7/eth8), a bridge, a
# macvlan, a vxlan and a tap; then
#   - with the default rules no interface qualifies (all are virtual);
#   - physical_globs naming one veth picks that veth's MAC;
#   - of two interfaces marked physical the lower ifindex wins;
#   - skip_local_mac excludes them again (veth MACs are locally administered).
# Needs root and permission to make namespaces; otherwise exits 77 (skipped).
#
# usage: netns-probe.sh IDENTITY_TOOL
set -uo pipefail
tool=$1

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -x "$tool" ] || fail "$tool is not executable"
[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace (running as uid $(id -u))"
command -v ip >/dev/null 2>&1 || skip "the ip command (iproute2) is not installed"

ns="sbprov-id-$$-$RANDOM"
if ! err=$(ip netns add "$ns" 2>&1); then
    skip "cannot create a network namespace here: $err"
fi
errfile=$(mktemp)
trap 'ip netns del "$ns" 2>/dev/null; rm -f "$errfile"' EXIT
trap 'exit 1' INT TERM

in_ns() { ip netns exec "$ns" "$@"; }
must() { "$@" || fail "command failed: $*"; }

must ip -n "$ns" link add veth0 type veth peer name veth1
must ip -n "$ns" link add eth7 type veth peer name eth8
must ip -n "$ns" link add br0 type bridge
must ip -n "$ns" link add link veth0 name macvlan0 type macvlan mode bridge
must ip -n "$ns" link add vxlan0 type vxlan id 42 dstport 4789
must ip -n "$ns" tuntap add dev tap0 mode tap
for dev in veth0 veth1 eth7 eth8 br0 macvlan0 vxlan0 tap0 lo; do
    must ip -n "$ns" link set "$dev" up
done

# Run the probe in the namespace; sets $out (stdout) and $rc (exit status).
probe() {
    out=$(in_ns "$tool" probe "$@" 2>"$errfile")
    rc=$?
    err=$(cat "$errfile")
}
mac_of() { in_ns cat "/sys/class/net/$1/address"; }
ifindex_of() { in_ns cat "/sys/class/net/$1/ifindex"; }

echo "interfaces in $ns:"
in_ns sh -c 'for d in /sys/class/net/*; do printf "  %-9s type %-4s ifindex %-3s %s %s\n" "${d##*/}" "$(cat $d/type)" "$(cat $d/ifindex)" "$(cat $d/address)" "$([ -e $d/device ] && echo device || echo no-device)"; done'

# 1. Default rules: every interface is virtual.
probe
[ "$rc" -eq 1 ] && [ "$out" = "result=-12" ] || fail "default rules: expected ENOTFOUND (-12), got rc=$rc out='$out' err='$err'"
for dev in veth0 veth1 br0 macvlan0 vxlan0 tap0; do
    case "$err" in *"$dev: virtual (name matches"*) ;; *) fail "default rules: $dev not reported as virtual by name: $err" ;; esac
done
for dev in eth7 eth8; do
    case "$err" in *"$dev: virtual (no device link)"*) ;; *) fail "default rules: $dev not reported as lacking a device: $err" ;; esac
done
case "$err" in *"lo: type 772, not Ethernet"*) ;; *) fail "default rules: lo not reported as non-Ethernet: $err" ;; esac
echo "ok: default rules find no physical interface"

# 2. physical_globs naming one veth picks its MAC.
probe --physical veth1
want=$(mac_of veth1)
[ "$rc" -eq 0 ] && [ "$out" = "mac=$want" ] || fail "--physical veth1: expected mac=$want, got rc=$rc out='$out' err='$err'"
echo "ok: physical_globs veth1 gives $want"

# A name-less-rule interface (eth8: no device link) also counts once named.
probe --physical 'eth8'
want=$(mac_of eth8)
[ "$rc" -eq 0 ] && [ "$out" = "mac=$want" ] || fail "--physical eth8: expected mac=$want, got rc=$rc out='$out' err='$err'"
echo "ok: physical_globs eth8 gives $want"

# 3. Lowest ifindex wins among those marked physical.
for pair in "veth0 veth1" "eth7 eth8" "veth1 eth8"; do
    set -- $pair
    a=$1 b=$2
    if [ "$(ifindex_of "$a")" -lt "$(ifindex_of "$b")" ]; then low=$a; else low=$b; fi
    probe --physical "$b,$a"
    want=$(mac_of "$low")
    [ "$rc" -eq 0 ] && [ "$out" = "mac=$want" ] ||
        fail "--physical $b,$a: expected $low's mac=$want, got rc=$rc out='$out' err='$err'"
    echo "ok: of $a and $b the lower ifindex ($low) wins"
done
probe --physical 'veth*,tap*,br*,macvlan*,vxlan*,eth*'
low=$(in_ns sh -c 'for d in /sys/class/net/*; do [ "${d##*/}" = lo ] || echo "$(cat $d/ifindex) ${d##*/}"; done' | sort -n | head -1 | cut -d' ' -f2)
want=$(mac_of "$low")
[ "$rc" -eq 0 ] && [ "$out" = "mac=$want" ] || fail "all marked physical: expected $low's mac=$want, got rc=$rc out='$out' err='$err'"
echo "ok: with everything marked physical the lowest ifindex ($low) wins"

# 4. skip_local_mac: veth (and every other virtual) MAC here is locally administered.
probe --physical 'veth*,eth*' --skip-local-mac
[ "$rc" -eq 1 ] && [ "$out" = "result=-12" ] || fail "--skip-local-mac: expected ENOTFOUND, got rc=$rc out='$out' err='$err'"
case "$err" in *"is locally administered"*) ;; *) fail "--skip-local-mac: reason missing: $err" ;; esac
echo "ok: skip_local_mac excludes locally administered veth MACs"

# 5. An emptied virtual list leaves only the device-link rule; still nothing here.
probe --virtual ''
[ "$rc" -eq 1 ] && [ "$out" = "result=-12" ] || fail "--virtual '': expected ENOTFOUND, got rc=$rc out='$out' err='$err'"
echo "ok: without name globs, interfaces without a device link are still virtual"
echo "ok: all netns probe checks passed"
