"""Shared fixtures: published vectors, the C oracle, an independent
reference implementation written with Python's hmac/hashlib/base64, and the
Mender test stack (tests/emulators/stack.py: the Go emulator behind nginx with
TLS on loopback), started once per session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

import pytest

HERE = Path(__file__).resolve().parent


def _vectors_dir() -> Path:
    env = os.environ.get("SBPROV_VECTORS")
    if env:
        return Path(env)
    # bindings/python/tests -> bindings/python -> ../../../shared/vectors
    return (HERE.parent / "../../../shared/vectors").resolve()


def _oracle_path() -> Optional[Path]:
    env = os.environ.get("SBPROV_ORACLE")
    if env:
        return Path(env)
    build = os.environ.get("SBPROV_BUILD")
    if build:
        return Path(build) / "tests" / "sbprov-azure-oracle"
    return None


@pytest.fixture(scope="session")
def vectors() -> dict:
    path = _vectors_dir() / "azure-published.json"
    if not path.is_file():
        pytest.fail(f"published vectors not found at {path} (set SBPROV_VECTORS)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Oracle:
    """The C oracle (tests/tools/azure_oracle.c): one process per batch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, lines: List[str]) -> List[str]:
        for line in lines:
            assert "\n" not in line and "\0" not in line
        data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
        proc = subprocess.run([str(self.path)], input=data, stdout=subprocess.PIPE, check=True)
        out = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
        assert out[-1] == ""
        out = out[:-1]
        assert len(out) == len(lines), (len(out), len(lines))
        return out


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    path = _oracle_path()
    if path is None:
        pytest.fail("C oracle unknown: set SBPROV_ORACLE or SBPROV_BUILD "
                    "(bindings/python/test.sh does)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"C oracle not found or not executable: {path} (run make build)")
    return Oracle(path)


# --------------------------------------------------------------------------
# Independent reference (no libsbprov, no OpenSSL bindings of ours)
# --------------------------------------------------------------------------

def ref_b64decode_strict(text: str) -> bytes:
    """Strict padded standard Base64, as the library requires."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical")
    return raw


def ref_url_encode(data: bytes) -> str:
    """Keep A-Z a-z 0-9 - _ . ~, %XX (upper case) for every other byte."""
    return quote(data, safe="")


def ref_derive(group_key: str, registration_id: str) -> str:
    mac = hmac.new(ref_b64decode_strict(group_key), registration_id.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def ref_sas(resource_uri: str, key: str, expiry: int, policy: Optional[str] = None) -> str:
    sr = ref_url_encode(resource_uri.encode("utf-8"))
    mac = hmac.new(ref_b64decode_strict(key), f"{sr}\n{expiry}".encode("ascii"), hashlib.sha256)
    sig = ref_url_encode(base64.b64encode(mac.digest()))
    token = f"SharedAccessSignature sr={sr}&sig={sig}&se={expiry}"
    if policy is not None:
        token += f"&skn={policy}"
    return token


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_of(nbytes: int, seed: int = 0) -> str:
    """A deterministic Base64 key of nbytes bytes."""
    return b64(bytes((seed + 7 * i) % 256 for i in range(nbytes)))


GROUP_KEY = key_of(64, 1)
DEVICE_KEY = key_of(32, 2)
FAR_EXPIRY = 4102444800  # 2100-01-01


def ref_tuple(fn, *args) -> Tuple[str, object]:
    """('ok', value) or ('err', code) of calling fn with a binding API."""
    import sbprov

    try:
        return "ok", fn(*args)
    except sbprov.Error as e:
        return "err", e.code


# --------------------------------------------------------------------------
# The Mender test stack
# --------------------------------------------------------------------------

def _source_dir() -> Optional[Path]:
    """The repository: SBPROV_SOURCE_DIR (test.sh exports it, since pytest
    runs on a copy of the tests outside the tree), else the tree these tests
    sit in, if they are run from it."""
    env = os.environ.get("SBPROV_SOURCE_DIR")
    if env:
        return Path(env)
    cand = HERE.parent.parent.parent
    return cand if (cand / "tests" / "emulators" / "stack.py").is_file() else None


def _load_stack_module(source: Path):
    path = source / "tests" / "emulators" / "stack.py"
    if not path.is_file():
        pytest.fail(f"{path} not found (SBPROV_SOURCE_DIR must be the libsbprov repository)")
    spec = importlib.util.spec_from_file_location("sbprov_test_stack", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class MenderStack:
    """The running stack: its SBPROV_TEST_* values and the emulator's control
    API (plain HTTP on loopback, never through nginx or a proxy)."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.env = env
        self.url = env["SBPROV_TEST_MENDER_URL"]
        self.ca = env["SBPROV_TEST_CA"]
        self.user = env["SBPROV_TEST_MENDER_USER"]
        self.password = env["SBPROV_TEST_MENDER_PASSWORD"]
        self.pat = env["SBPROV_TEST_MENDER_PAT"]
        self._control = env["SBPROV_TEST_MENDER_CONTROL"]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def ctl(self, method: str, path: str, body: Any = None) -> Any:
        """A control call; the parsed JSON answer (None when empty). Asserts 2xx."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self._control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with self._opener.open(req, timeout=10) as r:
            assert 200 <= r.status < 300, (method, path, r.status)
            text = r.read()
        return json.loads(text) if text.strip() else None

    def reset(self) -> None:
        self.ctl("POST", "/_emu/reset")

    def faults(self, *rules: dict) -> None:
        self.ctl("POST", "/_emu/faults", list(rules))

    def emulated_device(self, device_id: str) -> dict:
        """The emulator's own record of a device (inventory, tokens...)."""
        state = self.ctl("GET", f"/_emu/devices?id={device_id}")
        devices = [d for d in state["devices"] if d["id"] == device_id]
        assert len(devices) == 1, state
        return devices[0]

    def violations(self) -> list:
        return self.ctl("GET", "/_emu/violations") or []

    def management(self, **kwargs: Any):
        """A management client logged in as the stack's user."""
        from sbprov import mender
        kwargs.setdefault("ca", self.ca)
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("connect_timeout", 3.0)
        if "token" not in kwargs:
            kwargs.setdefault("user", self.user)
            kwargs.setdefault("password", self.password)
        return mender.Management(self.url, **kwargs)


@pytest.fixture(scope="session")
def mender_stack(tmp_path_factory) -> MenderStack:
    """Start the stack once for the session. Skips (with the reason) only
    when nginx or go is missing; any other failure to start fails."""
    source = _source_dir()
    if source is None:
        pytest.fail("the repository is unknown: set SBPROV_SOURCE_DIR (bindings/python/test.sh does)")
    stack_mod = _load_stack_module(source)
    missing = []
    for tool, package, extra in (("nginx", "nginx-light", ("/usr/sbin/nginx", "/usr/local/sbin/nginx")),
                                 ("go", "golang-go", ("/usr/local/go/bin/go", "/usr/lib/go/bin/go"))):
        try:
            stack_mod.find_tool(tool, package, extra)
        except stack_mod.StackError:
            missing.append(f"{tool} (Debian: {package})")
    if missing:
        pytest.skip("the Mender network tests need " + " and ".join(missing) +
                    " to run the emulator stack (scripts/install-deps.sh installs them)")
    stack = stack_mod.Stack(tmp_path_factory.mktemp("mender-stack"), mender=True)
    try:
        stack.up()
    except stack_mod.StackError as e:
        stack.down()
        pytest.fail(f"the Mender test stack did not start: {e}")
    # Loopback never goes through a proxy the environment may name.
    saved = {var: os.environ.get(var) for var in ("no_proxy", "NO_PROXY")}
    for var, value in stack_mod.child_env(stack.env).items():
        if var in saved:
            os.environ[var] = value
    try:
        yield MenderStack(stack.env)
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        stack.down()


@pytest.fixture
def emu(mender_stack: MenderStack, request) -> MenderStack:
    """The stack with the emulator reset (devices, faults, logs, settings);
    afterwards, no request may have broken the API's rules (mark a test
    ``allow_violations`` if it sends such requests on purpose)."""
    mender_stack.reset()
    yield mender_stack
    violations = mender_stack.violations()
    mender_stack.ctl("DELETE", "/_emu/faults")
    if request.node.get_closest_marker("allow_violations") is None:
        assert violations == [], f"requests that break the Mender API's rules: {violations}"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "allow_violations: the test sends requests the emulator records as "
                                       "API violations on purpose")
