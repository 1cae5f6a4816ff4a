#!/usr/bin/env python3
"""Turn the RESULT lines of the benchmark programs into docs/performance.md
and check the targets of the design ("Performance"). Exit status 1 if a
target is not met, 2 on bad input. Used by bench/run.sh; standard library only.
"""

import argparse
import datetime
import re
import statistics
import sys

RESULT_RE = re.compile(r"^RESULT (\S+) (.*)$")
INFO_RE = re.compile(r"^INFO (.*)$")

# Rows of the summary: (what, libsbprov variant, baseline variant, minimum ratio or None, baseline text)
ROWS = [
    (
        "Derived device keys, fleet: `sbprov_azure_deriver_new` once + `sbprov_azure_deriver_derive` per ID",
        "derive_sbprov_batch",
        "derive_bare_evp_mac",
        0.9,
        "bare OpenSSL 3: EVP_MAC HMAC/SHA256 keyed once, re-init per ID + EVP_EncodeBlock",
    ),
    (
        "Derived device keys, fleet (reference)",
        "derive_sbprov_batch",
        "derive_bare_hmac_oneshot",
        None,
        "naive OpenSSL: one-shot `HMAC(EVP_sha256(), ...)` per ID + EVP_EncodeBlock",
    ),
    (
        "Derived device key, one-shot `sbprov_azure_derive_device_key` per ID (reference)",
        "derive_sbprov_oneshot",
        "derive_bare_hmac_oneshot",
        None,
        "naive OpenSSL: one-shot `HMAC(EVP_sha256(), ...)` per ID + EVP_EncodeBlock",
    ),
    (
        "SAS tokens, key set up once on both sides: `sbprov_azure_sas_signer_token`",
        "sas_sbprov_signer",
        "sas_python_sdk",
        20.0,
        "azure-iot-device (Python SDK): signing mechanism made once, SDK token per URI",
    ),
    (
        "SAS tokens, key decoded per token on both sides: `sbprov_azure_sas_token` (reference)",
        "sas_sbprov",
        "sas_python_sdk_mechanism_per_token",
        None,
        "azure-iot-device (Python SDK): signing mechanism (key decode) per token",
    ),
]

DESCRIPTIONS = {
    "derive_sbprov_batch": "libsbprov: deriver keyed once, `sbprov_azure_deriver_derive` per ID",
    "derive_sbprov_oneshot": "libsbprov: `sbprov_azure_derive_device_key` per ID (decodes and keys every call)",
    "derive_bare_evp_mac": "bare OpenSSL 3: EVP_MAC keyed once, `EVP_MAC_init(ctx, NULL, 0, NULL)`/update/final + `EVP_EncodeBlock`",
    "derive_bare_hmac_oneshot": "naive OpenSSL: `HMAC(EVP_sha256(), ...)` per ID + `EVP_EncodeBlock`",
    "sas_sbprov": "libsbprov: `sbprov_azure_sas_token` per URI (Base64 key passed each call)",
    "sas_sbprov_signer": "libsbprov: `sbprov_azure_sas_signer_new` once, `sbprov_azure_sas_signer_token` per URI",
    "sas_python_sdk": "azure-iot-device: `SymmetricKeySigningMechanism` once, `RenewableSasToken` (fixed expiry) per URI",
    "sas_python_sdk_mechanism_per_token": "azure-iot-device: `SymmetricKeySigningMechanism` + token per URI",
}


def parse(path):
    """RESULT lines -> {variant: [samples]}, INFO lines -> {key: value}."""
    results, info = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = RESULT_RE.match(line)
            if m:
                fields = dict(kv.split("=", 1) for kv in m.group(2).split())
                results[m.group(1)] = {
                    "samples": [float(x) for x in fields["samples"].split(",")],
                    "passes": int(fields["passes"]),
                }
                continue
            m = INFO_RE.match(line)
            if m:
                rest = m.group(1)
                # "key=value with spaces" for a single key, else space-separated pairs
                if rest.count("=") == 1:
                    k, v = rest.split("=", 1)
                    info[k] = v
                else:
                    for kv in rest.split():
                        k, v = kv.split("=", 1)
                        info[k] = v
    return results, info


def ratio_of(lib, base, runs):
    """Ratio libsbprov/baseline. When both were measured by the same program
    run, repetition by repetition (interleaved), the median of the per-
    repetition ratios: a slow spell of the machine then hits both sides of
    each pair. Otherwise (C against Python) the ratio of the pooled medians."""
    pairs = []
    for run in runs:
        if lib in run and base in run:
            pairs += [a / b for a, b in zip(run[lib]["samples"], run[base]["samples"])]
    if pairs:
        return statistics.median(pairs), "paired"
    return pooled(lib, runs)["median"] / pooled(base, runs)["median"], "medians"


def pooled(name, runs):
    samples = [x for run in runs if name in run for x in run[name]["samples"]]
    passes = sorted({run[name]["passes"] for run in runs if name in run})
    if not samples:
        return None
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
        "runs": sum(1 for run in runs if name in run),
        "passes": passes,
    }


def fmt_ops(x):
    return f"{x:,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", nargs="+", required=True, help="outputs of the benchmark programs")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cpu", default="unknown")
    ap.add_argument("--compiler", default="unknown")
    ap.add_argument("--build-type", default="unknown")
    ap.add_argument("--c-flags", default="")
    ap.add_argument("--kernel", default="")
    ap.add_argument("--duration", default="")
    ap.add_argument("--rounds", default="?")
    ap.add_argument("--notes", help="hand-written analysis appended when a target is not met")
    args = ap.parse_args()

    runs, info = [], {}
    for path in args.results:
        r, i = parse(path)
        runs.append(r)
        info.update(i)
    names = []
    for run in runs:
        names += [n for n in run if n not in names]

    failures = []
    rows = []
    for what, lib, base, target, base_text in ROWS:
        lib_p, base_p = pooled(lib, runs), pooled(base, runs)
        if lib_p is None or base_p is None:
            print(f"report: missing result {lib if lib_p is None else base}", file=sys.stderr)
            sys.exit(2)
        ratio, how = ratio_of(lib, base, runs)
        if target is None:
            target_text, met_text = "— (reference)", "—"
        else:
            met = ratio >= target
            target_text = f">= {target:g}x"
            met_text = "**met**" if met else "**NOT MET**"
            if not met:
                failures.append(f"{what}: {ratio:.2f}x, target {target_text}")
        rows.append(
            f"| {what} | {fmt_ops(lib_p['median'])} | {fmt_ops(base_p['median'])} ({base_text}) | "
            f"{ratio:.2f}x{'' if how == 'paired' else ' †'} | {target_text} | {met_text} |"
        )

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = []
    out.append("# Performance")
    out.append("")
    out.append(
        "Generated by `bench/run.sh` (`make bench`); do not edit by hand. Targets come from the design "
        "(\"Performance\"): each is a ratio against a baseline measured in the same run, on the same "
        "inputs, never a timed assertion in a test."
    )
    out.append("")
    out.append("## Results")
    out.append("")
    out.append("| what | libsbprov ops/s | baseline ops/s | ratio | target | result |")
    out.append("|---|---:|---|---:|---|---|")
    out.extend(rows)
    out.append("")
    if failures:
        out.append("**Targets not met:** " + "; ".join(failures) + ".")
    else:
        out.append("All targets are met.")
    out.append("")
    out.append(
        "ops/s are medians over all timed samples. Ratio: the median over repetitions of libsbprov/baseline, "
        "both measured back to back in the same repetition of the same process (for the SDK rows, the "
        "Python script runs libsbprov's loops from bench/sas_loop.c through ctypes between its own "
        "samples); † where no such pairs exist, libsbprov median / baseline median."
    )
    out.append("")
    out.append("## All measurements")
    out.append("")
    out.append("| variant | median ops/s | min | max | samples (rounds) | passes over the inputs per sample |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for name in names:
        p = pooled(name, runs)
        passes = "/".join(str(x) for x in p["passes"])
        out.append(
            f"| `{name}`: {DESCRIPTIONS.get(name, '')} | {fmt_ops(p['median'])} | {fmt_ops(p['min'])} | "
            f"{fmt_ops(p['max'])} | {p['n']} ({p['runs']}) | {passes} |"
        )
    out.append("")
    out.append("## Method")
    out.append("")
    n = info.get("n", "?")
    out.append(
        f"- Inputs, identical for every variant: {n} random lower-case registration IDs "
        f"({info.get('id_len', '?')} characters, seed {info.get('seed', '?')}), a "
        f"{info.get('group_key_bytes', '?')}-byte group key (Base64), and for SAS tokens a "
        f"{info.get('sas_key_bytes', '?')}-byte key, resource URI `sbprov-bench.azure-devices.net/devices/<ID>`, "
        "policy `iothubowner` and the fixed expiry 1893456000 (2030-01-01)."
    )
    out.append(
        "- Before timing, every C variant's derived key is checked equal to the bare OpenSSL one for all "
        "inputs, and the Python SDK's SAS token is checked byte-identical to libsbprov's for all inputs; "
        "the run fails otherwise."
    )
    out.append(
        "- Keyed-once states (deriver, bare EVP_MAC context, SDK signing mechanism) are made outside the "
        "timed loops; everything else is inside. The bare baselines take the same NUL-terminated IDs "
        "(so they call strlen) and do no validation; libsbprov validates every ID, URI and policy."
    )
    out.append(
        f"- {args.rounds} rounds, alternating the C program and the Python script, so that slow spells of a "
        "shared machine fall on both. In each C run: a warm-up, then the passes per sample are calibrated "
        f"to fill about {info.get('sample_ms', '?')} ms; then {info.get('reps', '?')} repetitions, each "
        "running every variant in turn (interleaved). Python: the same scheme, with the garbage collector "
        "off during samples (as `timeit` does), and libsbprov's SAS loops sampled in the same repetitions. "
        "This machine's speed was seen to change by 2x between rounds, which is why only paired ratios "
        "are used for targets."
    )
    out.append(
        "- The SDK tokens come from the SDK's own code: `SymmetricKeySigningMechanism.sign` and "
        "`RenewableSasToken._build_token`, through a subclass of `RenewableSasToken` whose `refresh()` only "
        "replaces `time.time() + ttl` by the fixed expiry (bench/sas_python_sdk.py)."
    )
    out.append("")
    out.append("## Environment")
    out.append("")
    out.append(f"- Date: {now}" + (f" (run took {args.duration} s)" if args.duration else ""))
    out.append(f"- CPU: {args.cpu}")
    if args.kernel:
        out.append(f"- Kernel: {args.kernel}")
    out.append(f"- OpenSSL: {info.get('openssl', '?')}")
    out.append(f"- Compiler: {args.compiler}, build type {args.build_type}" + (f" (`{args.c_flags}`)" if args.c_flags.strip() else ""))
    out.append(f"- libsbprov: {info.get('sbprov', '?')}")
    out.append(f"- Python: {info.get('python', '?')}, azure-iot-device {info.get('azure-iot-device', '?')}")
    out.append("")
    out.append("## Reproduce")
    out.append("")
    out.append("```sh")
    out.append("make bench                 # build, then bench/run.sh; exits non-zero if a target is not met")
    out.append("SBPROV_BUILD=build bench/run.sh   # rerun without rebuilding")
    out.append("```")
    out.append("")
    out.append(
        "The first run makes a venv `$SBPROV_BUILD/bench-venv` with azure-iot-device from PyPI. "
        "Numbers move by several percent between runs on a shared 2-core machine; the ratios are what count."
    )
    out.append("")

    if failures and args.notes:
        with open(args.notes, encoding="utf-8") as f:
            out.append(f.read().rstrip("\n"))
            out.append("")

    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    for line in failures:
        print(f"report: target not met: {line}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
