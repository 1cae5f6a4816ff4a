"""The ``sbprov-fleet`` command."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import sbprov
from sbprov import azure

from . import __version__
from .manifest import ManifestError, parse, parse_identity_columns
from .provision import ALREADY, FAILED, INTERRUPTED, PROVISIONED, MenderPool, Outcome, Provisioner, Settings
from .state import RunState, StateError, private_dir, write_atomic
from .ui import Progress, choose_mode, table

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SETUP = 0, 1, 2, 3

ENV_GROUP_KEY = "SBPROV_FLEET_GROUP_KEY"
ENV_MENDER_PASSWORD = "SBPROV_FLEET_MENDER_PASSWORD"
ENV_MENDER_TOKEN = "SBPROV_FLEET_MENDER_TOKEN"

DEFAULT_TEMPLATE = "gw-{mac}"
DEFAULT_DPS_HOST = "global.azure-devices-provisioning.net"
KEY_TYPES = ("ed25519", "ecdsa-p256", "rsa-2048", "rsa-3072", "rsa-4096")

DESCRIPTION = """\
Provision a fleet of gateways from a CSV manifest: for each device a key pair
(or the public key it reported), a Mender preauthorization (management API),
the Azure DPS device key derived from the enrollment group key, and a
credential bundle in OUT/<registration_id>/ (encrypted store + its key file,
an env file for the Azure IoT agent container, manifest.json).

Every row is validated before anything is done. Runs are resumable: finished
devices are recorded in OUT/.sbprov-fleet-state.jsonl and skipped ("already")
by a later run; a device interrupted half-way is redone with the same key, so
nothing is provisioned twice."""

EPILOG = f"""\
manifest columns:
  serial, mac, room         required; mac in any usual notation
  public_key                optional: inline PEM or a file path (relative to
                            the manifest); empty: generate a key pair
  registration_id           optional; empty: from --id-template
  anything else             an inventory attribute (unless in --identity)

secrets (never on the command line):
  Azure group key           --group-key-file F, else ${ENV_GROUP_KEY}
  Mender password           --mender-password-file F, else ${ENV_MENDER_PASSWORD}
                            (with --mender-user)
  Mender token (PAT)        --mender-token-file F, else ${ENV_MENDER_TOKEN}
                            (without --mender-user)
  A file of "-" is read from stdin; one trailing newline is dropped.

exit status:
  0   every device provisioned or already done
  1   at least one device failed (see the table; run again after fixing it)
  2   usage error or invalid manifest (every problem listed; nothing done)
  3   could not start (secret unreadable, Mender login refused or server
      unreachable, OUT in use by another run or unusable)
  130/143  interrupted by SIGINT/SIGTERM (finished devices are recorded;
      run again to continue)

See examples/python/README.md for the output layout and resume semantics."""


class _RefuseInline(argparse.Action):
    """Options that would put a secret on the command line: refused, and the
    value is never echoed."""

    def __init__(self, *args, hint: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.hint = hint

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} is not accepted: secrets are read from files or the environment "
                     f"(use {self.hint})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sbprov-fleet", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    p.add_argument("manifest", metavar="MANIFEST", help="the CSV manifest (UTF-8, header row)")
    p.add_argument("--out", "-o", metavar="DIR", help="output directory (created, mode 0700); required "
                   "unless --check")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__} (sbprov {sbprov.__version__})")

    g = p.add_argument_group("devices")
    g.add_argument("--id-template", default=DEFAULT_TEMPLATE, metavar="T",
                   help="registration ID of rows without one (default %(default)s). The library's template "
                        "language: {column}, {column:lower}, {column:compact}; {mac} is the MAC as 12 "
                        "lower-case hex digits, so {mac} and {mac:compact} are the same")
    g.add_argument("--identity", default="mac,serial", metavar="COLS",
                   help="columns that make the Mender identity (default %(default)s); must match what the "
                        "gateway reports")
    g.add_argument("--key-type", default="ed25519", choices=KEY_TYPES,
                   help="type of generated key pairs (default %(default)s)")

    g = p.add_argument_group("Mender (management API)")
    g.add_argument("--mender-url", metavar="URL", help="server, e.g. https://hosted.mender.io")
    g.add_argument("--mender-user", metavar="EMAIL", help="log in as this user (password: see below)")
    g.add_argument("--mender-password-file", metavar="F", help=f"the password (else ${ENV_MENDER_PASSWORD})")
    g.add_argument("--mender-token-file", metavar="F",
                   help=f"a personal access token, without --mender-user (else ${ENV_MENDER_TOKEN})")
    g.add_argument("--ca", metavar="FILE|DIR", help="trusted CAs instead of the system's")
    g.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="limit of one request in seconds (default %(default)s)")
    g.add_argument("--retries", type=int, default=3, metavar="N",
                   help="retries of a request that failed transiently (network, timeout, 429, 5xx; "
                        "default %(default)s)")

    g = p.add_argument_group("Azure DPS")
    g.add_argument("--id-scope", metavar="SCOPE", help="the DPS ID scope, e.g. 0ne00000000")
    g.add_argument("--dps-host", default=DEFAULT_DPS_HOST, metavar="HOST",
                   help="DPS host written to the env file (default %(default)s)")
    g.add_argument("--group-key-file", metavar="F", help=f"the enrollment group's key (else ${ENV_GROUP_KEY})")

    g = p.add_argument_group("run")
    g.add_argument("--jobs", "-j", type=int, default=4, metavar="N",
                   help="devices provisioned concurrently (threads; default %(default)s)")
    g.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="progress on stderr: a bar on a TTY, else one line per device (default %(default)s)")
    g.add_argument("--json-report", metavar="F", help="also write the results as JSON to F")
    g.add_argument("--check", action="store_true",
                   help="validate the manifest (and the settings given), print the plan, do nothing")

    for opt, where in (("--password", "--mender-password-file"), ("--mender-password", "--mender-password-file"),
                       ("--token", "--mender-token-file"), ("--mender-token", "--mender-token-file"),
                       ("--group-key", "--group-key-file")):
        p.add_argument(opt, action=_RefuseInline, hint=where, nargs="?", dest="refused_" + opt[2:].replace("-", "_"),
                       help=argparse.SUPPRESS)
    return p


def _die(code: int, msg: str) -> int:
    print(f"sbprov-fleet: {msg}", file=sys.stderr)
    return code


def read_secret(path: Optional[str], env: str, what: str, stdin_used: List[bool]) -> Optional[str]:
    """A secret from a file ("-": stdin) or else the environment variable;
    None if neither is given. One trailing newline is dropped."""
    if path is not None:
        if path == "-":
            if stdin_used[0]:
                raise ValueError("only one secret can be read from stdin")
            stdin_used[0] = True
            text = sys.stdin.read()
        else:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise OSError(f"{what}: {path}: {getattr(e, 'strerror', None) or e}") from None
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise ValueError(f"{what}: {path} is empty")
        return text
    value = os.environ.get(env)
    if value is not None and value == "":
        raise ValueError(f"{what}: ${env} is empty")
    return value


def _outcome_json(o: Outcome) -> Dict[str, object]:
    d = o.device
    return {"line": d.line, "serial": d.serial, "mac": d.mac, "registration_id": d.registration_id,
            "mender_device_id": o.mender_device_id or None, "status": o.status, "reason": o.reason or None,
            "note": o.note or None, "seconds": round(o.seconds, 3)}


def _summary(outcomes: List[Outcome], elapsed: float, stream) -> Dict[str, int]:
    rows = []
    for o in outcomes:
        detail = o.reason if o.status in (FAILED, INTERRUPTED) else o.note
        rows.append([o.device.serial, o.device.registration_id, o.mender_device_id or "-", o.status, detail])
    table(["device", "registration ID", "Mender device ID", "status", "reason"], rows, stream)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in (PROVISIONED, ALREADY, FAILED, INTERRUPTED)}
    parts = [f"{counts[PROVISIONED]} provisioned", f"{counts[ALREADY]} already", f"{counts[FAILED]} failed"]
    if counts[INTERRUPTED]:
        parts.append(f"{counts[INTERRUPTED]} not done")
    stream.write(f"{len(outcomes)} devices: {', '.join(parts)} in {elapsed:.1f} s\n")
    stream.flush()
    return counts


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    started = time.monotonic()

    if args.jobs < 1 or args.jobs > 64:
        parser.error("--jobs: 1 to 64")
    if args.retries < 0 or args.retries > 20:
        parser.error("--retries: 0 to 20")
    if not (0 < args.timeout <= 3600):
        parser.error("--timeout: more than 0, at most 3600 seconds")
    try:
        identity_columns = parse_identity_columns(args.identity)
    except ValueError as e:
        parser.error(str(e))

    # --- settings that need no manifest ------------------------------------------
    problems: List[str] = []
    if not args.check:
        for opt, value in (("--out", args.out), ("--mender-url", args.mender_url), ("--id-scope", args.id_scope)):
            if not value:
                problems.append(f"{opt} is required")
    if args.id_scope:
        try:
            azure.dps_registration_uri(args.id_scope, "x")
        except sbprov.Error as e:
            problems.append(f"--id-scope {args.id_scope!r}: {getattr(e, 'message', e)}")
    try:
        azure.hub_device_uri(args.dps_host, "x")
    except sbprov.Error as e:
        problems.append(f"--dps-host {args.dps_host!r}: {getattr(e, 'message', e)}")
    if args.mender_user is not None and args.mender_token_file is not None:
        problems.append("--mender-user and --mender-token-file: log in with one of them")
    if args.mender_user is None and args.mender_password_file is not None:
        problems.append("--mender-password-file needs --mender-user")
    if problems:
        for msg in problems:
            print(f"sbprov-fleet: {msg}", file=sys.stderr)
        return EXIT_USAGE

    stdin_used = [False]
    try:
        group_key = read_secret(args.group_key_file, ENV_GROUP_KEY, "group key", stdin_used)
        password = token = None
        if args.mender_user is not None:
            password = read_secret(args.mender_password_file, ENV_MENDER_PASSWORD, "Mender password", stdin_used)
        else:
            token = read_secret(args.mender_token_file, ENV_MENDER_TOKEN, "Mender token", stdin_used)
    except ValueError as e:
        return _die(EXIT_USAGE, str(e))
    except OSError as e:
        return _die(EXIT_SETUP, str(e))
    if group_key is not None:
        group_key = group_key.strip()
        try:
            with azure.Deriver(group_key):
                pass
        except sbprov.Error as e:
            return _die(EXIT_USAGE, f"the group key is not usable: {getattr(e, 'message', e)}")
    if not args.check:
        missing = []
        if group_key is None:
            missing.append(f"the group key (--group-key-file or ${ENV_GROUP_KEY})")
        if args.mender_user is not None and password is None:
            missing.append(f"the Mender password (--mender-password-file or ${ENV_MENDER_PASSWORD})")
        if args.mender_user is None and token is None:
            missing.append(f"Mender credentials (--mender-user with a password, or --mender-token-file or "
                           f"${ENV_MENDER_TOKEN})")
        if missing:
            return _die(EXIT_USAGE, "missing " + "; ".join(missing))

    # --- the manifest, every row, before anything is done -----------------------------
    try:
        devices = parse(args.manifest, id_template=args.id_template, identity_columns=identity_columns)
    except ManifestError as e:
        for line in e.lines():
            print(line, file=sys.stderr)
        print(f"sbprov-fleet: {len(e.errors)} problem(s) in the manifest; nothing was done", file=sys.stderr)
        return EXIT_USAGE

    if args.check:
        rows = [[d.serial, d.mac, d.registration_id, d.identity_json,
                 "reported" if d.public_key_pem else f"generate {args.key_type}",
                 json.dumps(d.inventory, ensure_ascii=False, sort_keys=True)] for d in devices]
        table(["device", "mac", "registration ID", "Mender identity", "key", "inventory"], rows, sys.stdout)
        print(f"{len(devices)} devices: manifest valid")
        return EXIT_OK

    # --- run ---------------------------------------------------------------------------------
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        private_dir(out)
        state = RunState(out)
        state.acquire()
    except (OSError, StateError) as e:
        return _die(EXIT_SETUP, str(e))

    settings = Settings(out=out, key_type=args.key_type, mender_url=args.mender_url, mender_user=args.mender_user,
                        mender_password=password.encode() if password is not None else None, mender_token=token,
                        ca=args.ca, timeout=args.timeout, retries=args.retries, id_scope=args.id_scope,
                        dps_host=args.dps_host, group_key=group_key)
    pool = MenderPool(settings)
    try:
        pool.check()
    except (sbprov.Error, TypeError) as e:
        pool.close()
        state.release()
        return _die(EXIT_SETUP, f"Mender {args.mender_url}: {type(e).__name__}: {getattr(e, 'message', e)}")

    stop = threading.Event()
    signalled: List[int] = []
    progress = Progress(len(devices), choose_mode(args.progress, sys.stderr))
    prov = Provisioner(settings, state, pool, stop)
    done_before = sum(1 for d in devices if state.get(d.registration_id) is not None)
    progress.message(f"sbprov-fleet: {len(devices)} devices ({done_before} recorded as done), "
                     f"Mender {args.mender_url}, ID scope {args.id_scope}, {args.jobs} jobs")

    def on_signal(signum, _frame):
        if signalled:
            os._exit(128 + signum)  # a second signal: at once (every write is atomic)
        signalled.append(signum)
        stop.set()
        pool.cancel_all()
        progress.message(f"sbprov-fleet: {signal.Signals(signum).name}: stopping (finished devices are "
                         f"recorded; run again to continue)")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    def work(dev) -> Outcome:
        if stop.is_set():
            return Outcome(dev, INTERRUPTED, reason="interrupted")
        progress.started(dev.registration_id)
        o = prov.run(dev)
        progress.finished(dev.registration_id, o.status, o.reason or o.note)
        return o

    results: Dict[int, Outcome] = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs, thread_name_prefix="fleet") as ex:
            futures = {ex.submit(work, d): i for i, d in enumerate(devices)}
            pending = set(futures)
            while pending:
                finished, pending = concurrent.futures.wait(pending, timeout=0.25)
                for f in finished:
                    results[futures[f]] = f.result()
    finally:
        progress.close()
        for s, h in old.items():
            signal.signal(s, h)
        prov.close()
        pool.close()
        state.release()

    outcomes = [results[i] for i in range(len(devices))]
    counts = _summary(outcomes, time.monotonic() - started, sys.stdout)
    if args.json_report:
        report = {"tool": "sbprov-fleet", "version": __version__, "out": str(out),
                  "elapsed_seconds": round(time.monotonic() - started, 3), "counts": counts,
                  "interrupted": bool(signalled), "devices": [_outcome_json(o) for o in outcomes]}
        try:
            write_atomic(Path(args.json_report), (json.dumps(report, indent=2) + "\n").encode(), 0o644)
        except OSError as e:
            print(f"sbprov-fleet: --json-report {args.json_report}: {e.strerror}", file=sys.stderr)
    if signalled:
        return 128 + signalled[0]
    return EXIT_FAILED if counts[FAILED] or counts[INTERRUPTED] else EXIT_OK

