#!/usr/bin/env python3
"""SAS-token throughput of Azure's own Python SDK (azure-iot-device), the
baseline of the libsbprov SAS benchmark (docs/performance.md).

Reads the inputs written by `sbprov-bench-azure --out-dir DIR`:
  DIR/sas_inputs.txt  line 1 the Base64 key, line 2 the policy (key) name,
                      line 3 the expiry (seconds since the epoch), then one
                      resource URI a line
  DIR/sas_tokens.txt  libsbprov's token for each URI, in the same order

Tokens are made by the SDK's own code: one SymmetricKeySigningMechanism for
the key (made once, outside the timed loop, as a client does), and per URI an
azure.iot.device RenewableSasToken whose refresh() is overridden only to use
the fixed expiry instead of time.time() + ttl; the token text comes from the
SDK's RenewableSasToken._build_token() and SymmetricKeySigningMechanism.sign().
Before timing, every SDK token must equal libsbprov's byte for byte, else the
script fails.

Prints one machine-readable line per variant:
  RESULT <name> median_ops_per_s=<x> min=<x> max=<x> reps=<r> passes=<p> n=<n> samples=<x>,...
"""

import argparse
import ctypes
import gc
import statistics
import sys
import time
from importlib import metadata

from azure.iot.device.common.auth import sastoken as sdk_sastoken
from azure.iot.device.common.auth.signing_mechanism import SymmetricKeySigningMechanism


class FixedExpirySasToken(sdk_sastoken.RenewableSasToken):
    """The SDK's renewable token with a fixed expiry instead of now + ttl."""

    def __init__(self, uri, signing_mechanism, key_name, expiry):
        self._fixed_expiry = expiry
        super().__init__(uri, signing_mechanism, key_name=key_name)

    def refresh(self):
        # Same as the SDK's refresh() except for where the expiry comes from.
        self._expiry_time = self._fixed_expiry
        self._token = self._build_token()


def token_sdk(uri, mechanism, key_name, expiry):
    return str(FixedExpirySasToken(uri, mechanism, key_name, expiry))


def make_variants(key, key_name, expiry):
    mechanism = SymmetricKeySigningMechanism(key)

    def sdk_shared_mechanism(uris):
        # The baseline: a signing mechanism per key, a token per URI.
        out = None
        for uri in uris:
            out = str(FixedExpirySasToken(uri, mechanism, key_name, expiry))
        return out

    def sdk_mechanism_per_token(uris):
        # Extra reference: the key decoded for every token, as libsbprov's
        # sbprov_azure_sas_token() does (it takes the Base64 key each call).
        out = None
        for uri in uris:
            out = str(FixedExpirySasToken(uri, SymmetricKeySigningMechanism(key), key_name, expiry))
        return out

    def passes_of(fn):
        def run(uris, passes):
            for _ in range(passes):
                fn(uris)
        return run

    return mechanism, [
        ("sas_python_sdk", passes_of(sdk_shared_mechanism)),
        ("sas_python_sdk_mechanism_per_token", passes_of(sdk_mechanism_per_token)),
    ]


def libsbprov_variants(path, key, key_name, expiry, uris):
    """libsbprov's own loops (bench/sas_loop.c) run from this process, so each
    repetition samples libsbprov and the SDK back to back."""
    lib = ctypes.CDLL(path)
    lib.sas_loop_setup.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_longlong, ctypes.c_char_p]
    lib.sas_loop_run.argtypes = [ctypes.c_int, ctypes.c_int]
    if lib.sas_loop_setup(key.encode(), key_name.encode(), expiry, "\n".join(uris).encode()) != 0:
        sys.exit("sas_python_sdk: sas_loop_setup failed")

    def loop(with_signer):
        def run(_uris, passes):
            rc = lib.sas_loop_run(with_signer, passes)
            if rc != 0:
                sys.exit(f"sas_python_sdk: libsbprov loop failed with {rc}")
        return run

    return [("sas_sbprov", loop(0)), ("sas_sbprov_signer", loop(1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="directory with sas_inputs.txt and sas_tokens.txt")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--sample-ms", type=int, default=150)
    ap.add_argument("--loop-lib", help="bench/sas_loop.c module: also sample libsbprov in this process")
    args = ap.parse_args()

    with open(f"{args.dir}/sas_inputs.txt", encoding="ascii") as f:
        lines = f.read().splitlines()
    key, key_name, expiry, uris = lines[0], lines[1], int(lines[2]), lines[3:]
    with open(f"{args.dir}/sas_tokens.txt", encoding="ascii") as f:
        expected = f.read().splitlines()
    if not uris or len(uris) != len(expected):
        sys.exit(f"sas_python_sdk: {len(uris)} URIs but {len(expected)} libsbprov tokens")

    print(f"INFO azure-iot-device={metadata.version('azure-iot-device')} python={sys.version.split()[0]}")
    mechanism, variants = make_variants(key, key_name, expiry)
    if args.loop_lib:
        variants += libsbprov_variants(args.loop_lib, key, key_name, expiry, uris)

    # Byte-for-byte check of every token before anything is timed.
    for i, (uri, want) in enumerate(zip(uris, expected)):
        got = token_sdk(uri, mechanism, key_name, expiry)
        if got != want:
            sys.exit(
                f"sas_python_sdk: MISMATCH on input {i} ({uri}):\n"
                f"  libsbprov: {want}\n  SDK:       {got}"
            )
    print(f"INFO verified=sas identical_tokens={len(uris)}")
    sys.stdout.flush()

    # Warm-up and calibration: whole passes per sample to fill sample-ms.
    passes = {}
    for name, fn in variants:
        fn(uris, 1)
        t0 = time.perf_counter()
        fn(uris, 1)
        t = time.perf_counter() - t0
        passes[name] = max(1, round(args.sample_ms / 1000 / t))

    samples = {name: [] for name, _ in variants}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does; favours the SDK, if anything
    try:
        for _ in range(args.reps):
            for name, fn in variants:
                p = passes[name]
                t0 = time.perf_counter()
                fn(uris, p)
                t = time.perf_counter() - t0
                samples[name].append(len(uris) * p / t)
    finally:
        if gc_was_enabled:
            gc.enable()

    for name, _ in variants:
        s = samples[name]
        print(
            f"RESULT {name} median_ops_per_s={statistics.median(s):.0f} min={min(s):.0f} "
            f"max={max(s):.0f} reps={args.reps} passes={passes[name]} n={len(uris)} "
            f"samples={','.join(f'{x:.0f}' for x in s)}"
        )


if __name__ == "__main__":
    main()
