"""Shared fixtures: published vectors, the C oracle, an independent
reference implementation written with Python's hmac/hashlib/base64, and the
network test stack (tests/emulators/stack.py: the Go Mender and Azure
emulators behind nginx with TLS on loopback), started once per session."""

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
# The network test stack (Mender and Azure emulators)
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


class EmulatorControl:
    """An emulator of the running stack: the stack's SBPROV_TEST_* values and
    the emulator's control API (plain HTTP on loopback, never through nginx
    or a proxy). Both emulators share the control API's shape."""

    def __init__(self, env: Dict[str, str], control: str) -> None:
        self.env = env
        self.ca = env["SBPROV_TEST_CA"]
        self._control = control
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

    def violations(self) -> list:
        return self.ctl("GET", "/_emu/violations") or []


class MenderStack(EmulatorControl):
    """The Mender emulator of the running stack."""

    def __init__(self, env: Dict[str, str]) -> None:
        super().__init__(env, env["SBPROV_TEST_MENDER_CONTROL"])
        self.url = env["SBPROV_TEST_MENDER_URL"]
        self.user = env["SBPROV_TEST_MENDER_USER"]
        self.password = env["SBPROV_TEST_MENDER_PASSWORD"]
        self.pat = env["SBPROV_TEST_MENDER_PAT"]

    def emulated_device(self, device_id: str) -> dict:
        """The emulator's own record of a device (inventory, tokens...)."""
        state = self.ctl("GET", f"/_emu/devices?id={device_id}")
        devices = [d for d in state["devices"] if d["id"] == device_id]
        assert len(devices) == 1, state
        return devices[0]

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


class AzureStack(EmulatorControl):
    """The Azure emulator (DPS + IoT Hub) of the running stack, and clients
    of it with the stack's CA and short timeouts. A test declares the kinds
    of violation it provokes on purpose with :meth:`expect_violations`."""

    def __init__(self, env: Dict[str, str]) -> None:
        super().__init__(env, env["SBPROV_TEST_AZURE_CONTROL"])
        self.url = env["SBPROV_TEST_AZURE_URL"]
        self.dps_url = env["SBPROV_TEST_AZURE_DPS_URL"]
        self.hub_url = env["SBPROV_TEST_AZURE_HUB_URL"]
        self.hub_host = env["SBPROV_TEST_AZURE_HUB_HOST"]
        self.id_scope = env["SBPROV_TEST_AZURE_ID_SCOPE"]
        self.group_key = env["SBPROV_TEST_AZURE_GROUP_KEY"]
        self.service_connstr = env["SBPROV_TEST_AZURE_SERVICE_CONNSTR"]
        self.expected_violations: set = set()

    def expect_violations(self, *kinds: str) -> None:
        """Violations of these kinds ("signature", "etag", ...) are provoked
        on purpose by the running test: azure_emu does not fail on them."""
        self.expected_violations.update(kinds)

    def config(self, **settings: Any) -> dict:
        """POST /_emu/config (clock_offset="3h", assign_polls=5, ...)."""
        return self.ctl("POST", "/_emu/config", settings)

    def telemetry(self, device_id: Optional[str] = None) -> List[dict]:
        """The messages the hub recorded (of one device, or all)."""
        query = "" if device_id is None else f"?device_id={quote(device_id, safe='')}"
        return self.ctl("GET", "/_emu/telemetry" + query) or []

    def requests(self) -> List[dict]:
        return self.ctl("GET", "/_emu/requests") or []

    def derived_key(self, registration_id: str) -> str:
        """The device key derived from the stack's enrollment group key."""
        from sbprov import azure
        return azure.derive_device_key(self.group_key, registration_id)

    def add_device(self, device_id: str, key: str) -> str:
        """A hub device made through the control API (as DPS would have made
        it); returns its connection string."""
        self.ctl("POST", "/_emu/devices", {"device_id": device_id, "primary_key": key})
        return f"HostName={self.hub_host};DeviceId={device_id};SharedAccessKey={key}"

    @staticmethod
    def _transport(kwargs: Dict[str, Any], ca: str) -> Dict[str, Any]:
        kwargs.setdefault("ca", ca)
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("connect_timeout", 3.0)
        return kwargs

    def provisioning(self, registration_id: str, key: Optional[str] = None, **kwargs: Any):
        """A DPS client for the stack's scope (the derived key by default)."""
        from sbprov import azure
        kwargs.setdefault("endpoint", self.dps_url)
        return azure.Provisioning(kwargs.pop("id_scope", self.id_scope), registration_id,
                                  self.derived_key(registration_id) if key is None else key,
                                  **self._transport(kwargs, self.ca))

    def hub(self, connection_string: str, **kwargs: Any):
        from sbprov import azure
        kwargs.setdefault("endpoint", self.hub_url)
        kwargs.setdefault("retry_timeout", 8.0)
        return azure.Hub(connection_string, **self._transport(kwargs, self.ca))

    def registry(self, connection_string: Optional[str] = None, **kwargs: Any):
        from sbprov import azure
        kwargs.setdefault("endpoint", self.hub_url)
        return azure.Registry(self.service_connstr if connection_string is None else connection_string,
                              **self._transport(kwargs, self.ca))


@pytest.fixture(scope="session")
def network_stack(tmp_path_factory) -> Dict[str, str]:
    """Start the stack (the Mender and Azure emulators behind nginx) once for
    the session; its SBPROV_TEST_* values. Skips (with the reason) only when
    nginx or go is missing; any other failure to start fails."""
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
        pytest.skip("the network tests (Mender, Azure) need " + " and ".join(missing) +
                    " to run the emulator stack (scripts/install-deps.sh installs them)")
    stack = stack_mod.Stack(tmp_path_factory.mktemp("stack"), mender=True, azure=True)
    try:
        stack.up()
    except stack_mod.StackError as e:
        stack.down()
        pytest.fail(f"the test stack (Mender and Azure emulators) did not start: {e}")
    # Loopback never goes through a proxy the environment may name.
    saved = {var: os.environ.get(var) for var in ("no_proxy", "NO_PROXY")}
    for var, value in stack_mod.child_env(stack.env).items():
        if var in saved:
            os.environ[var] = value
    try:
        yield stack.env
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        stack.down()


@pytest.fixture(scope="session")
def mender_stack(network_stack: Dict[str, str]) -> MenderStack:
    """The Mender emulator of the session's stack."""
    return MenderStack(network_stack)


@pytest.fixture(scope="session")
def azure_stack(network_stack: Dict[str, str]) -> AzureStack:
    """The Azure emulator of the session's stack."""
    return AzureStack(network_stack)


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


@pytest.fixture
def azure_emu(azure_stack: AzureStack) -> AzureStack:
    """The stack with the Azure emulator reset (registrations, devices,
    telemetry, faults, logs, settings such as the clock offset); afterwards,
    no request may have broken the API's rules, except in the kinds the test
    declared with ``azure_emu.expect_violations("signature", ...)``."""
    azure_stack.reset()
    azure_stack.expected_violations = set()
    yield azure_stack
    violations = azure_stack.violations()
    azure_stack.ctl("DELETE", "/_emu/faults")
    unexpected = [v for v in violations if v.get("kind") not in azure_stack.expected_violations]
    assert unexpected == [], f"requests that break the Azure APIs' rules: {unexpected}"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "allow_violations: the test sends requests the emulator records as "
                                       "API violations on purpose")
