"""Fixtures of the sbprov-fleet tests: the test stack (the Go Mender and Azure
emulators behind nginx with TLS, tests/emulators/stack.py, started once per
session), a ``fleet`` helper per test that resets both emulators, runs the
installed ``sbprov-fleet`` command and reads what the emulators recorded,
and an independent derivation of Azure device keys (Python's hmac)."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("SBPROV_SOURCE_DIR") or HERE.parents[1])
sys.path.insert(0, str(REPO / "tests" / "emulators"))
import stack as emu_stack  # noqa: E402  (the test stack: emulators behind nginx)
from stack import Control  # noqa: E402
PREAUTH_PATH = "/api/management/v2/devauth/devices"

# Neither the tool nor the control calls may go through a proxy of the environment.
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "NO_PROXY")


def fleet_command() -> List[str]:
    """The installed console script next to this interpreter (tests/fleet/run.sh
    installs examples/python into the venv), else `python -m sbprov_fleet`."""
    script = Path(sys.executable).parent / "sbprov-fleet"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "sbprov_fleet"]


def ref_derive(group_key: str, registration_id: str) -> str:
    """base64(HMAC-SHA256(base64decode(group_key), registration_id)), written
    here without libsbprov."""
    mac = hmac.new(base64.b64decode(group_key, validate=True), registration_id.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    yield from emu_stack.pytest_stack(tmp_path_factory.mktemp("fleet-stack"), pytest.skip, mender=True, azure=True)


class Fleet:
    """One test's view: its directory, the stack's values, the emulators and
    a runner of the installed command."""

    def __init__(self, stack, tmp: Path):
        e = stack.env
        self.env_stack = e
        self.tmp = tmp
        self.url = e["SBPROV_TEST_MENDER_URL"]
        self.ca = e["SBPROV_TEST_CA"]
        self.user = e["SBPROV_TEST_MENDER_USER"]
        self.password = e["SBPROV_TEST_MENDER_PASSWORD"]
        self.pat = e["SBPROV_TEST_MENDER_PAT"]
        self.group_key = e["SBPROV_TEST_AZURE_GROUP_KEY"]
        self.id_scope = e["SBPROV_TEST_AZURE_ID_SCOPE"]
        self.dps_url = e["SBPROV_TEST_AZURE_DPS_URL"]
        self.mender = Control(e["SBPROV_TEST_MENDER_CONTROL"])
        self.azure = Control(e["SBPROV_TEST_AZURE_CONTROL"])
        self.out = tmp / "out"
        self.report = tmp / "report.json"
        self.manifest = tmp / "manifest.csv"

    # ---- inputs -----------------------------------------------------------------

    @staticmethod
    def mac(n: int) -> str:
        return f"02:00:00:00:{n // 256:02x}:{n % 256:02x}"

    def write_manifest(self, rows: Sequence[Dict[str, str]], header: Optional[Sequence[str]] = None,
                       path: Optional[Path] = None) -> Path:
        path = path or self.manifest
        header = list(header or rows[0].keys())
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([row.get(h, "") for h in header])
        path.write_text(buf.getvalue())
        return path

    def devices(self, n: int, start: int = 1, **extra: str) -> List[Dict[str, str]]:
        return [dict({"serial": f"SN-{i:04d}", "mac": self.mac(i), "room": f"4.{i:02d}"}, **extra)
                for i in range(start, start + n)]

    # ---- the command --------------------------------------------------------------

    def base_args(self) -> List[str]:
        return ["--out", str(self.out), "--mender-url", self.url, "--mender-user", self.user, "--ca", self.ca,
                "--id-scope", self.id_scope, "--json-report", str(self.report)]

    def env(self, **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("SBPROV_FLEET_")}
        env.update(SBPROV_FLEET_GROUP_KEY=self.group_key, SBPROV_FLEET_MENDER_PASSWORD=self.password)
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def argv(self, *args: str, manifest: Optional[Path] = None, base: bool = True) -> List[str]:
        return [*fleet_command(), str(manifest or self.manifest), *(self.base_args() if base else []), *args]

    def run(self, *args: str, manifest: Optional[Path] = None, base: bool = True, env: Optional[dict] = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        self.report.unlink(missing_ok=True)
        return subprocess.run(self.argv(*args, manifest=manifest, base=base), capture_output=True, text=True,
                              timeout=timeout, env=env or self.env(), stdin=subprocess.DEVNULL)

    def popen(self, *args: str, **kw) -> subprocess.Popen:
        self.report.unlink(missing_ok=True)
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(), stdin=subprocess.DEVNULL, **kw)

    def results(self) -> Dict[str, dict]:
        """The last run's JSON report, by registration ID."""
        report = json.loads(self.report.read_text())
        return {d["registration_id"]: d for d in report["devices"]}

    def statuses(self) -> Dict[str, str]:
        return {rid: d["status"] for rid, d in self.results().items()}

    # ---- what was done ------------------------------------------------------------------

    def state_lines(self) -> List[dict]:
        path = self.out / ".sbprov-fleet-state.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()[1:] if line.endswith("}")]

    def finished(self) -> set:
        done = set()
        for entry in self.state_lines():
            if "device" in entry:
                done.add(entry["device"])
            else:
                done.discard(entry.get("forget"))
        return done

    def mender_devices(self) -> List[dict]:
        return self.mender("GET", "/_emu/devices")["devices"]

    def requests(self, since: int = 0) -> List[dict]:
        return self.mender("GET", f"/_emu/requests?since={since}") or []

    def last_seq(self) -> int:
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0

    def preauth_requests(self, since: int = 0) -> List[dict]:
        return [r for r in self.requests(since) if r["method"] == "POST" and r["path"] == PREAUTH_PATH]

    def bundle(self, rid: str) -> Path:
        return self.out / rid


@pytest.fixture
def fleet(stack, tmp_path):
    f = Fleet(stack, tmp_path)
    f.mender("POST", "/_emu/reset")
    f.azure("POST", "/_emu/reset")
    yield f
    assert f.mender("GET", "/_emu/violations") == [], "the Mender emulator saw requests that break the API"
    assert f.azure("GET", "/_emu/violations") == [], "the Azure emulator saw requests that break the API"
