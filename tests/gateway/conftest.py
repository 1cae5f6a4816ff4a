"""Fixtures of the gateway daemon tests: the test stack (the Mender and Azure
emulators behind nginx with TLS, started once per session) and a ``Gateway``
helper per test that writes a configuration, starts and stops
``sbprov-gateway``, feeds it frames (``sbprov frame encode``) and reads what
the emulators recorded."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("SBPROV_SOURCE_DIR") or HERE.parents[1])
sys.path.insert(0, str(REPO / "tests" / "emulators"))
import stack as emu_stack  # noqa: E402  (the test stack: emulators behind nginx)
from stack import Control  # noqa: E402
STAGE = Path(os.environ.get("SBPROV_STAGE", REPO / "build" / "stage"))
GATEWAY = Path(os.environ.get("SBPROV_GATEWAY") or STAGE / "bin" / "sbprov-gateway")
CLI = Path(os.environ.get("SBPROV_CLI") or STAGE / "bin" / "sbprov")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "NO_PROXY")
NODE_A, NODE_B = "0011223344556677", "00112233445566aa"


def ref_derive(group_key: str, registration_id: str) -> str:
    """The DPS group-enrollment derivation, written here without libsbprov."""
    mac = hmac.new(base64.b64decode(group_key, validate=True), registration_id.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not GATEWAY.exists() or not CLI.exists():
        pytest.skip(f"{GATEWAY} or {CLI} is not built (make build)")
    yield from emu_stack.pytest_stack(tmp_path_factory.mktemp("gateway-stack"), pytest.skip, mender=True, azure=True)


class Gateway:
    """One test's gateway: its directory, configuration, process and views
    of the emulators."""

    def __init__(self, stack, tmp: Path):
        self.e = stack.env
        self.tmp = tmp
        self.state = tmp / "state"
        self.conf = tmp / "gateway.conf"
        self.mender = Control(self.e["SBPROV_TEST_MENDER_CONTROL"])
        self.azure = Control(self.e["SBPROV_TEST_AZURE_CONTROL"])
        self.group_key_file = tmp / "group.key"
        self.group_key_file.write_text(self.e["SBPROV_TEST_AZURE_GROUP_KEY"] + "\n")
        self.group_key_file.chmod(0o600)
        self.mac = "02:00:5e:10:00:42"
        self.identity_script = tmp / "identity.sh"
        self.identity_script.write_text(f"#!/bin/sh\necho mac={self.mac}\necho serial=SN-GW-42\n")
        self.identity_script.chmod(0o755)
        self.port = stack_free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.log = tmp / "gateway.log"
        self.registration_id = "gw-" + self.mac.replace(":", "")

    # ---- configuration ----------------------------------------------------------------

    def write_config(self, *, device: str = "", mender: Optional[str] = None, azure: Optional[str] = None,
                     telemetry: str = "batch_max_messages = 10\nbatch_max_ms = 300\n", input_: Optional[str] = None,
                     rooms: Optional[str] = None, extra: str = "") -> Path:
        e = self.e
        if mender is None:
            mender = (f"url = {e['SBPROV_TEST_MENDER_URL']}\nca_file = {e['SBPROV_TEST_CA']}\n"
                      "first_interval_s = 1\nmax_interval_s = 1\n")
        if azure is None:
            azure = (f"id_scope = {e['SBPROV_TEST_AZURE_ID_SCOPE']}\ndps_url = {e['SBPROV_TEST_AZURE_DPS_URL']}\n"
                     f"hub_url = {e['SBPROV_TEST_AZURE_HUB_URL']}\nca_file = {e['SBPROV_TEST_CA']}\n"
                     f"group_key_file = {self.group_key_file}\nregistration_id = gw-{{mac:compact}}\n")
        if input_ is None:
            input_ = f"udp = 127.0.0.1:{self.port}\nclock = node\n"
        if rooms is None:
            rooms = f'[room "4.12"]\nnodes = {NODE_A}, {NODE_B}\n'
        device = device or f"state_dir = {self.state}\nidentity = script:{self.identity_script}\n"
        text = (f"# written by the test\n[device]\n{device}\n[mender]\n{mender}\n[azure]\n{azure}\n"
                f"[telemetry]\n{telemetry}\n[input]\n{input_}\n[log]\nstats_interval_ms = 200\n\n{rooms}\n{extra}")
        self.conf.write_text(text)
        return self.conf

    # ---- the process ---------------------------------------------------------------

    def env(self) -> Dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k != "JOURNAL_STREAM"}

    def start(self, *args: str, wrapper: tuple = ()) -> subprocess.Popen:
        assert self.proc is None
        self.stats_path().unlink(missing_ok=True)
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([*wrapper, str(GATEWAY), "-c", str(self.conf), *args], stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL, env=self.env())
        logf.close()
        return self.proc

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        return rc

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(GATEWAY), "-c", str(self.conf), *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env(), stdin=subprocess.DEVNULL)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_log(self, fragment: str, timeout: float = 30) -> None:
        def seen():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the gateway exited ({self.proc.returncode}):\n{self.log_text()}")
            return fragment in self.log_text()
        try:
            wait_for(f"{fragment!r} in the gateway log", seen, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- gateway log ---\n{self.log_text()}") from None

    def stats_path(self) -> Path:
        return self.state / "gateway-stats.json"

    def stats(self) -> dict:
        try:
            return json.loads(self.stats_path().read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    # ---- frames ------------------------------------------------------------------------

    def send(self, records: List[dict], *, udp: bool = True, stream_to: Optional[Path] = None) -> None:
        lines = "".join(json.dumps(r) + "\n" for r in records)
        args = [str(CLI), "frame", "encode"] + (["--udp", f"127.0.0.1:{self.port}"] if udp else [])
        r = subprocess.run(args, input=lines.encode(), capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr.decode()
        if stream_to is not None:
            with open(stream_to, "wb") as f:
                f.write(r.stdout)

    @staticmethod
    def meeting(node: str = NODE_A, n: int = 20, start_ppm: int = 600, step_ppm: int = 40, seq0: int = 1,
                period_ms: int = 60000) -> List[dict]:
        """A meeting: motion every minute, CO2 rising by step_ppm per minute."""
        return [{"node": node, "epoch": 1, "seq": seq0 + i, "time_ms": 1000 + i * period_ms,
                 "readings": {"co2_ppm": start_ppm + i * step_ppm, "temperature_c": 21.5, "motion": 1}}
                for i in range(n)]

    # ---- the emulators ----------------------------------------------------------------

    def telemetry(self) -> List[dict]:
        return [m for m in self.azure("GET", "/_emu/telemetry") if m["device_id"] == self.registration_id]

    def telemetry_records(self) -> List[dict]:
        out = []
        for m in self.telemetry():
            out.extend(json.loads(m["body"]))
        return out

    def mender_requests(self, path_part: str) -> List[dict]:
        return [r for r in (self.mender("GET", "/_emu/requests") or []) if path_part in r["path"]]

    def azure_requests(self, path_part: str) -> List[dict]:
        return [r for r in (self.azure("GET", "/_emu/requests") or []) if path_part in r["path"]]

    def mender_device(self) -> Optional[dict]:
        for d in self.mender("GET", "/_emu/devices")["devices"]:
            if d.get("identity_data", {}).get("mac") == self.mac:
                return d
        return None

    def accept(self) -> None:
        dev = wait_for("the gateway's pending auth set in Mender", self.mender_device)
        self.mender("POST", "/_emu/set-status", {"device_id": dev["id"], "status": "accepted"})


def stack_free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gw(stack, tmp_path):
    """A fresh gateway with both emulators reset."""
    g = Gateway(stack, tmp_path)
    g.mender("POST", "/_emu/reset")
    g.azure("POST", "/_emu/reset")
    g.mender("DELETE", "/_emu/faults")
    g.azure("DELETE", "/_emu/faults")
    yield g
    if g.proc is not None:
        g.proc.kill()
        g.proc.wait()


@pytest.fixture
def fleet_cmd():
    """The sbprov-fleet command (installed by tests/fleet/run.sh into the venv)."""
    script = Path(sys.executable).parent / "sbprov-fleet"
    if script.exists():
        return [str(script)]
    try:
        import sbprov_fleet  # noqa: F401
    except ImportError:
        pytest.skip("sbprov-fleet is not installed (tests/fleet/run.sh --suite tests/gateway installs it)")
    return [sys.executable, "-m", "sbprov_fleet"]
