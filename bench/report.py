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
ALLOCS_RE = re.compile(r"^ALLOCS (\S+) (.*)$")
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
    (
        "Sensor frames (32 bytes on the wire): `sbprov_frame_decoder_feed`, 4 KiB chunks, a callback per frame",
        "frame_sbprov",
        "frame_bare_cobs_crc",
        0.7,
        "bare pass written in the benchmark: COBS-decode each frame + CRC-32C, nothing else",
    ),
    (
        "Sensor frames vs the same readings as SenML JSON",
        "frame_sbprov",
        "frame_cjson_senml",
        30.0,
        "cJSON: parse one SenML pack per frame, walk its records, delete",
    ),
]

# Allocation rows: (what, variant of an ALLOCS line, maximum calls per frame).
ALLOC_ROWS = [
    (
        "Sensor frames: heap allocation calls per frame while feeding (`sbprov_frame_decoder_feed`)",
        "frame_sbprov",
        0,
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
    "frame_sbprov": "libsbprov: one long-lived decoder, `sbprov_frame_decoder_feed` per 4 KiB chunk, callback reading every frame (ops: frames)",
    "frame_bare_cobs_crc": "bare: COBS-decode each frame into a buffer + CRC-32C (SSE4.2 instruction when present), whole stream at once (ops: frames)",
    "frame_cjson_senml": "cJSON: `cJSON_ParseWithLength` + walk (`bn`, `bver`, `n`, `u`, `v`) + `cJSON_Delete` per SenML pack (ops: frames)",
}


def parse(path):
    """RESULT lines -> {variant: [samples]}, ALLOCS lines -> {variant: counts},
    INFO lines -> {key: value}."""
    results, allocs, info = {}, {}, {}
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
            m = ALLOCS_RE.match(line)
            if m:
                fields = dict(kv.split("=", 1) for kv in m.group(2).split())
                allocs[m.group(1)] = {
                    "calls": int(fields["calls"]),
                    "frames": int(fields["frames"]),
                    "counting": fields.get("counting", "on") == "on",
                    "detail": {k: int(fields[k]) for k in ("malloc", "calloc", "realloc", "free") if k in fields},
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
    return results, allocs, info


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


def frame_method(info):
    """Method bullets of the frame benchmark (bench/bench_frame.c), from its INFO lines."""

    def g(key):
        return info.get(key, "?")

    try:
        per_node = int(g("frame_n")) // int(g("frame_nodes"))
    except ValueError:
        per_node = "?"
    return [
        f"- Frames, identical for every variant: {g('frame_n')} readings records from {g('frame_nodes')} nodes "
        f"taking turns (seed {g('frame_seed')}: random node IDs, boot epochs, first seq numbers and values). "
        f"\"32-byte frames\" (design) are taken as 32 bytes on the wire: each record is {g('frame_record_bytes')} "
        "bytes (15-byte header without timestamp; CO2 ppm as uint16, temperature in hundredths of °C as int16, "
        "motion count as uint8; CRC-32C), made with `sbprov_frame_builder_init`/`sbprov_frame_add_reading`/"
        f"`sbprov_frame_finish`, and COBS-encoded by `sbprov_cobs_encode` to {g('frame_wire_bytes')} bytes with "
        "its code byte and the 0x00 delimiter. Two streams hold the same frames, the second with every "
        "node's epoch + 1; passes alternate between them, so one long-lived decoder accepts every frame of "
        f"every pass: within a pass a node's seq numbers are consecutive (`next`), and its first frame of a pass "
        f"is a `reboot` (1 frame in {per_node}).",
        "- libsbprov: one decoder (`sbprov_frame_decoder_new` with the default 256-node table, made before "
        f"timing) fed each stream in {g('frame_chunk')}-byte chunks (about 4 KiB, as from a `read` of a UART; "
        "not a multiple of 32, so chunk boundaries fall at every position within a frame in turn) through "
        "`sbprov_frame_decoder_feed`, with a callback that reads the node ID, epoch, seq, sequence status and "
        "every reading's kind, value and validity. It checks everything the format asks for (COBS, length, "
        "CRC-32C, version, type, readings, sequence per node).",
        "- Bare baseline, written in the benchmark as the fastest honest pass over the same bytes: over the "
        "whole stream at once (no chunks), it COBS-decodes each frame into a buffer, trusting the code bytes "
        "(no check that data bytes are non-zero), and compares the CRC-32C of the record with its trailer; "
        "no other check, no sequence tracking, no callback. CRC-32C with `_mm_crc32_u64`/`_mm_crc32_u8` "
        "(8 bytes at a time) when the CPU has SSE4.2, as libsbprov does, else a byte table.",
        "- cJSON baseline: the same readings as SenML packs, one per frame as a gateway would receive them "
        "from nodes sending JSON, rendered from the decoded frames by `sbprov_frame_to_senml` without base "
        f"time ({g('frame_senml_bytes_per_pack')} bytes on average), kept back to back in memory, e.g. "
        f"`{g('frame_senml_example')}`. Per pack: `cJSON_ParseWithLength`, a walk of its records reading "
        "`bn`, `bver`, `n`, `u` and `v` (the value scaled to hundredths), `cJSON_Delete`. cJSON makes "
        f"{g('frame_cjson_alloc_calls_per_pack')} allocation calls (malloc + free) per pack; for timing it "
        "is given glibc's allocator directly (`cJSON_InitHooks` with `__libc_malloc`/`__libc_free`), so that "
        "the counting below does not slow it down.",
        "- Before timing, the program fails unless: a fresh decoder fed both streams in the same chunks "
        "delivers every frame with exactly the encoded node, epoch, seq, values, record bytes and the "
        "expected sequence status; the bare pass decodes every frame to the encoded record bytes and finds "
        "every CRC correct; every SenML pack gives, through cJSON, the frame's node (`bn`), names, units and "
        "values. After timing, the timed decoder's counters must show exactly the frames fed as accepted "
        f"({g('frame_decoder_checked_frames')} in the last run), every drop counter and `gaps` at 0, and the "
        "expected `reboots`.",
        "- Allocations: the program defines `malloc`, `calloc`, `realloc` and `free` (calling glibc's "
        "`__libc_*` functions), which replace glibc's for every shared object in the process, libsbprov.so "
        "included; this is checked on each run (the calls made by `sbprov_frame_decoder_new`, "
        f"{g('frame_decoder_new_alloc_calls')}, must be seen). Every call made during the timed decoder's "
        "feeding (warm-up, calibration and all repetitions) is counted; its creation is outside. The row "
        "sums all runs.",
    ]


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

    runs, alloc_runs, info = [], [], {}
    for path in args.results:
        r, a, i = parse(path)
        runs.append(r)
        alloc_runs.append(a)
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
    for what, name, max_per_frame in ALLOC_ROWS:
        seen = [run[name] for run in alloc_runs if name in run]
        if not seen:
            print(f"report: missing allocation count {name}", file=sys.stderr)
            sys.exit(2)
        calls = sum(a["calls"] for a in seen)
        frames = sum(a["frames"] for a in seen)
        counted = all(a["counting"] for a in seen)
        per_frame = calls / frames if frames else float("inf")
        met = counted and frames > 0 and per_frame <= max_per_frame
        target_text = f"{max_per_frame:g} per frame"
        if not met:
            failures.append(
                f"{what}: {per_frame:g} per frame, target {target_text}"
                if counted
                else f"{what}: not counted (a build whose allocator could not be replaced)"
            )
        rows.append(
            f"| {what} | {calls:,} calls over {frames:,} frames ({len(seen)} runs) | — (absolute target) | "
            f"{per_frame:g} per frame | {target_text} | {'**met**' if met else '**NOT MET**'} |"
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
        "ops/s are medians over all timed samples; ops are derived keys, tokens or frames, as the row says. "
        "Ratio: the median over repetitions of libsbprov/baseline, "
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
    out.append(
        f"- {args.rounds} rounds; each runs the Azure C program (bench/bench_azure.c), the frame program "
        "(bench/bench_frame.c) and the Python script (bench/sas_python_sdk.py) in turn, so that slow spells "
        "of a shared machine fall on all of them. In each C run: checks, a warm-up, then the passes per "
        f"sample are calibrated to fill about {info.get('sample_ms', '?')} ms; then {info.get('reps', '?')} "
        "repetitions, each running every variant in turn (interleaved). This machine's speed was seen to "
        "change by 2x between rounds, which is why only paired ratios are used for targets."
    )
    out.append("")
    out.append("### Azure keys and SAS tokens")
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
        "- Python: the same timing scheme as the C programs, with the garbage collector off during samples "
        "(as `timeit` does), and libsbprov's SAS loops sampled in the same repetitions."
    )
    out.append(
        "- The SDK tokens come from the SDK's own code: `SymmetricKeySigningMechanism.sign` and "
        "`RenewableSasToken._build_token`, through a subclass of `RenewableSasToken` whose `refresh()` only "
        "replaces `time.time() + ttl` by the fixed expiry (bench/sas_python_sdk.py)."
    )
    out.append("")
    out.append("### Sensor frames")
    out.append("")
    out.extend(frame_method(info))
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
    out.append(
        f"- cJSON: {info.get('cjson', '?')}; CRC-32C of the bare frame pass: {info.get('frame_bare_crc', '?')} "
        "(libsbprov chooses the same way: the SSE4.2 instruction when the CPU has it)"
    )
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
