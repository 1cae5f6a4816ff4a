"""End-to-end tests of `sbprov mender ...` (installed CLI) against the Mender
emulator behind nginx with TLS on loopback (tests/emulators/stack.py).

One stack per module (it builds the Go emulator and starts nginx); the
emulator is reset before each test through its control API, and each test
ends by checking that the emulator recorded no API violation. Skipped only if
go, nginx or openssl is missing.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "emulators"))
import stack as emu_stack  # noqa: E402  (the test stack: emulators behind nginx)
CLI = os.environ.get("SBPROV_CLI") or os.path.join(os.environ.get("SBPROV_STAGE", ""), "bin", "sbprov")

# The CLI must not pick up a proxy from the test runner's environment.
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "NO_PROXY")
CLI_ENV = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from emu_stack.pytest_stack(tmp_path_factory.mktemp("mender-stack"), pytest.skip, mender=True)


def http(method, url, body=None):
    """One control-API call to a full URL; the decoded JSON answer or None."""
    return emu_stack.Control(url)(method, "", body)


class Mender:
    """The stack's values plus helpers to run the CLI and drive the emulator."""

    def __init__(self, stack, tmp):
        e = stack.env
        self.env = e
        self.tmp = tmp
        self.url = e["SBPROV_TEST_MENDER_URL"]
        self.ca = e["SBPROV_TEST_CA"]
        self.control = e["SBPROV_TEST_MENDER_CONTROL"]
        self.user = e["SBPROV_TEST_MENDER_USER"]
        self.password = e["SBPROV_TEST_MENDER_PASSWORD"]
        self.pat = e["SBPROV_TEST_MENDER_PAT"]
        self.password_file = tmp / "password"
        self.password_file.write_text(self.password + "\n")
        self.pat_file = tmp / "pat"
        self.pat_file.write_text(self.pat)
        self.conn = ["--server", self.url, "--ca", self.ca]
        self.login = ["--user", self.user, "--password-file", str(self.password_file)]
        self.keys = {}

    # the CLI
    def run(self, *args, stdin=None, timeout=60):
        return subprocess.run([CLI, "mender", *args], input=stdin, capture_output=True, text=True,
                              timeout=timeout, env=CLI_ENV)

    def popen(self, *args):
        return subprocess.Popen([CLI, "mender", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=CLI_ENV)

    def mgmt(self, verb, *args, **kw):
        return self.run(verb, *self.conn, *self.login, *args, **kw)

    def device(self, verb, key, mac, *args, **kw):
        return self.run(verb, *self.conn, "--key", str(key), "--identity", f"mac={mac}", *args, **kw)

    def key(self, name="dev", kind="ed25519"):
        """A key pair made with `sbprov key generate`: (private key path, public PEM path)."""
        path = self.tmp / f"{name}.key"
        r = subprocess.run([CLI, "key", "generate", "--out", str(path), "--type", kind], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("-----BEGIN PUBLIC KEY-----")
        pub = self.tmp / f"{name}.pub"
        pub.write_text(r.stdout)
        return path, pub

    def fingerprint(self, key):
        r = subprocess.run([CLI, "key", "public", "--key", str(key), "--fingerprint"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def preauth(self, key, mac, *args):
        r = self.mgmt("preauth", "--identity", f"mac={mac}", "--key", str(key), *args)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    # the emulator
    def ctl(self, method, path, body=None):
        return http(method, self.control + path, body)

    def emu_device(self, device_id):
        devices = self.ctl("GET", f"/_emu/devices?id={device_id}")["devices"]
        assert len(devices) == 1
        return devices[0]

    def auth_requests(self):
        return [r for r in self.ctl("GET", "/_emu/requests") or [] if r["route"] == "auth_requests"]


@pytest.fixture
def m(stack, tmp_path):
    mender = Mender(stack, tmp_path)
    mender.ctl("POST", "/_emu/reset")
    yield mender
    assert mender.ctl("GET", "/_emu/violations") in ([], None)


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---- device side: preauthorized, pending, accepted -------------------------------------


@pytest.mark.parametrize("kind,how", [("ed25519", "--public-key"), ("ecdsa-p256", "--key"),
                                      ("rsa-2048", "--public-key")])
def test_keygen_preauth_then_accepted(m, kind, how):
    key, pub = m.key(kind=kind)
    r = m.mgmt("preauth", "--identity", "mac=02:00:00:00:01:01", how, str(pub if how == "--public-key" else key))
    assert r.returncode == 0, r.stderr
    device_id = r.stdout.strip()
    assert len(device_id) == 36 and "preauthorized" in r.stderr
    r = m.device("auth", key, "02:00:00:00:01:01")
    assert (r.returncode, r.stdout) == (0, device_id + "\n"), r.stderr
    r = m.mgmt("status", device_id)
    assert r.returncode == 0, r.stderr
    assert "status:   accepted" in r.stdout
    assert f"accepted key-sha256 {m.fingerprint(key)}" in r.stdout


def test_preauth_twice_says_it_existed(m):
    key, pub = m.key()
    args = ("preauth", "--identity", "mac=02:00:00:00:02:01", "--public-key", str(pub))
    first = m.mgmt(*args, "--json")
    assert first.returncode == 0, first.stderr
    first = json.loads(first.stdout)
    assert first["existed"] is False
    again = m.mgmt(*args, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"device_id": first["device_id"], "existed": True}
    text = m.mgmt(*args)
    assert (text.returncode, text.stdout) == (0, first["device_id"] + "\n")
    assert "already known" in text.stderr and "--force" in text.stderr
    # A second key for the known identity is only added with --force.
    _, pub2 = m.key("second")
    r = m.mgmt("preauth", "--identity", "mac=02:00:00:00:02:01", "--public-key", str(pub2), "--force")
    assert (r.returncode, r.stdout.strip()) == (0, first["device_id"]), r.stderr
    sets = m.emu_device(first["device_id"])["auth_sets"]
    assert sorted(s["status"] for s in sets) == ["preauthorized", "preauthorized"]


def test_auth_pending_then_accept_then_accepted(m):
    key, _ = m.key()
    r = m.device("auth", key, "02:00:00:00:03:01")
    assert r.returncode == 4 and r.stdout == "" and "not accepted" in r.stderr
    r = m.device("auth", key, "02:00:00:00:03:01", "--json")
    assert r.returncode == 4 and json.loads(r.stdout) == {"status": "pending"}
    assert m.mgmt("count", "--status", "pending").stdout == "1\n"

    r = m.mgmt("status", "--identity", "mac=02:00:00:00:03:01", "--json")
    assert r.returncode == 0, r.stderr
    dev = json.loads(r.stdout)
    assert dev["status"] == "pending" and len(dev["auth_sets"]) == 1
    r = m.mgmt("accept", dev["id"])
    assert r.returncode == 0, r.stderr
    assert f"auth set {dev['auth_sets'][0]['id']} accepted" in r.stdout

    r = m.device("auth", key, "02:00:00:00:03:01")
    assert (r.returncode, r.stdout) == (0, dev["id"] + "\n"), r.stderr
    r = m.device("auth", key, "02:00:00:00:03:01", "--print-token")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert jwt_claims(token)["sub"] == dev["id"]
    r = m.device("auth", key, "02:00:00:00:03:01", "--json")
    out = json.loads(r.stdout)
    assert out["status"] == "accepted" and out["device_id"] == dev["id"] and out["expires"] > time.time()
    assert "token" not in out  # only with --print-token


def test_wait_until_accepted_while_the_cli_accepts(m):
    key, _ = m.key()
    start = time.monotonic()
    proc = m.popen("auth", *m.conn, "--key", str(key), "--identity", "mac=02:00:00:00:04:01",
                   "--wait", "30", "--first-interval", "0.1", "--max-interval", "0.2")
    try:
        deadline = time.monotonic() + 15
        while True:  # until the waiting device shows up as pending
            r = m.mgmt("status", "--identity", "mac=02:00:00:00:04:01", "--json")
            if r.returncode == 0:
                break
            assert time.monotonic() < deadline, r.stderr
            time.sleep(0.1)
        r = m.mgmt("accept", "--identity", "mac=02:00:00:00:04:01")
        assert r.returncode == 0, r.stderr
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == json.loads(m.mgmt("status", "--identity", "mac=02:00:00:00:04:01", "--json").stdout)["id"]
    assert time.monotonic() - start < 15
    assert len(m.auth_requests()) >= 2


def test_wait_gives_up_still_pending(m):
    key, _ = m.key()
    start = time.monotonic()
    r = m.device("auth", key, "02:00:00:00:05:01", "--wait", "0.6", "--first-interval", "0.1",
                 "--max-interval", "0.2")
    assert r.returncode == 4 and "not accepted within 600 ms" in r.stderr
    assert time.monotonic() - start < 5
    assert len(m.auth_requests()) >= 3


@pytest.mark.parametrize("where", ["waiting", "in transfer"])
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_wait_cancels_promptly(m, where, sig, code):
    key, _ = m.key()
    if where == "in transfer":  # the server holds the request for 5 s (well past the 2 s allowed below)
        m.ctl("POST", "/_emu/faults", [{"route": "auth_requests", "delay_ms": 5000}])
    proc = m.popen("auth", *m.conn, "--key", str(key), "--identity", "mac=02:00:00:00:06:01",
                   "--wait", "120", "--first-interval", "20")
    try:
        deadline = time.monotonic() + 10
        if where == "waiting":
            while not m.auth_requests():  # the first attempt is answered: now it sleeps 20 s
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        else:
            while not m.ctl("GET", "/_emu/faults")[0]["seen"]:  # the request is being held
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        time.sleep(0.2)
        sent = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, err
    assert time.monotonic() - sent < 2
    assert "interrupted" in err and out == ""
    m.ctl("DELETE", "/_emu/faults")


# ---- management: status, list, count, accept, reject, decommission ----------------------


def test_status_list_count_decommission(m):
    key, _ = m.key()
    ids = [m.preauth(key, f"02:00:00:00:07:0{i}") for i in range(3)]
    r = m.device("auth", key, "02:00:00:00:07:09")
    assert r.returncode == 4
    assert m.mgmt("count").stdout == "4\n"
    assert m.mgmt("count", "--status", "preauthorized").stdout == "3\n"
    assert m.mgmt("count", "--status", "accepted").stdout == "0\n"

    r = m.mgmt("list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert [line.split(" ")[0] for line in lines[:3]] == ids  # oldest first
    assert lines[0] == f'{ids[0]} preauthorized {{"mac":"02:00:00:00:07:00"}}'
    r = m.mgmt("list", "--status", "pending")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1 and '"02:00:00:00:07:09"' in r.stdout
    r = m.mgmt("list", "--json", "--per-page", "3")  # two pages
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    assert [d["id"] for d in listed][:3] == ids and len(listed) == 4

    r = m.mgmt("status", ids[1])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"device:   {ids[1]}\nstatus:   preauthorized\n"
                               'identity: {"mac":"02:00:00:00:07:01"}\n')
    assert f"preauthorized key-sha256 {m.fingerprint(key)}" in r.stdout
    r = m.mgmt("status", ids[1], "--json")
    assert json.loads(r.stdout)["id"] == ids[1]

    r = m.mgmt("decommission", ids[1])
    assert (r.returncode, r.stdout) == (0, f"device {ids[1]} decommissioned\n"), r.stderr
    assert m.mgmt("count").stdout == "3\n"
    r = m.mgmt("status", ids[1])
    assert r.returncode == 2 and "no device" in r.stderr
    r = m.mgmt("decommission", ids[1])
    assert r.returncode == 2 and "no device" in r.stderr
    assert m.mgmt("decommission", ids[1], "--missing-ok").returncode == 0
    r = m.mgmt("decommission", "--identity", "mac=02:00:00:00:07:09")
    assert r.returncode == 0, r.stderr
    assert m.mgmt("count").stdout == "2\n"
    r = m.mgmt("status", "not/an/id")
    assert r.returncode == 2 and "not an ID" in r.stderr


def test_reject_then_pending_then_accept_again(m):
    key, _ = m.key()
    device_id = m.preauth(key, "02:00:00:00:08:01")
    assert m.device("auth", key, "02:00:00:00:08:01").returncode == 0
    r = m.mgmt("reject", device_id)
    assert r.returncode == 0 and "rejected" in r.stdout, r.stderr
    r = m.mgmt("reject", device_id)
    assert (r.returncode, r.stdout) == (0, f"device {device_id}: already rejected\n")
    assert m.device("auth", key, "02:00:00:00:08:01").returncode == 4
    r = m.mgmt("accept", "--identity", "mac=02:00:00:00:08:01")  # the rejected set, the only one
    assert r.returncode == 0, r.stderr
    assert m.device("auth", key, "02:00:00:00:08:01").returncode == 0
    r = m.mgmt("accept", device_id)
    assert (r.returncode, r.stdout) == (0, f"device {device_id}: already accepted\n")


def test_key_rotation_and_ambiguous_accept(m):
    k1, _ = m.key("one")
    k2, _ = m.key("two")
    device_id = m.preauth(k1, "02:00:00:00:09:01")
    assert m.device("auth", k1, "02:00:00:00:09:01").returncode == 0
    assert m.device("auth", k2, "02:00:00:00:09:01").returncode == 4  # a new key: a pending auth set
    r = m.mgmt("accept", device_id)  # the one pending set; the old key's set is rejected
    assert r.returncode == 0, r.stderr
    assert m.device("auth", k2, "02:00:00:00:09:01").stdout.strip() == device_id
    assert m.device("auth", k1, "02:00:00:00:09:01").returncode == 4

    # Two pending keys: accept needs to be told which (exit 1, both listed).
    k3, _ = m.key("three")
    k4, _ = m.key("four")
    assert m.device("auth", k3, "02:00:00:00:09:01").returncode == 4
    assert m.device("auth", k4, "02:00:00:00:09:01").returncode == 4
    r = m.mgmt("accept", "--identity", "mac=02:00:00:00:09:01")
    assert r.returncode == 1 and "2 pending auth sets" in r.stderr
    status = m.mgmt("status", device_id).stdout
    by_key = {line.split()[-1]: line.split()[2] for line in status.splitlines() if line.startswith("auth set:")}
    assert len(by_key) == 4
    want = by_key[m.fingerprint(k4)]
    assert want in r.stderr and by_key[m.fingerprint(k3)] in r.stderr
    r = m.mgmt("accept", device_id, want)
    assert (r.returncode, r.stdout) == (0, f"device {device_id}: auth set {want} accepted\n"), r.stderr
    assert m.device("auth", k4, "02:00:00:00:09:01").stdout.strip() == device_id
    assert m.device("auth", k2, "02:00:00:00:09:01").returncode == 4


# ---- inventory -----------------------------------------------------------------------------


def test_inventory_reaches_the_server_typed(m):
    key, _ = m.key()
    device_id = m.preauth(key, "02:00:00:00:0a:01")
    r = m.device("inventory", key, "02:00:00:00:0a:01", "artifact_name=gw-1.4.2", "iface=eth0", "iface=wlan0",
                 "--number", "temp=21.5", "--number", "rooms=1", "--number", "rooms=2", "empty=")
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    inv = {a["name"]: a["value"] for a in m.emu_device(device_id)["inventory"]}
    assert inv == {"artifact_name": "gw-1.4.2", "iface": ["eth0", "wlan0"], "temp": 21.5, "rooms": [1, 2],
                   "empty": ""}
    # Merged by default, replaced with --replace.
    assert m.device("inventory", key, "02:00:00:00:0a:01", "site=lab").returncode == 0
    inv = {a["name"]: a["value"] for a in m.emu_device(device_id)["inventory"]}
    assert inv["site"] == "lab" and inv["temp"] == 21.5
    assert m.device("inventory", key, "02:00:00:00:0a:01", "--replace", "only=1").returncode == 0
    assert [(a["name"], a["value"]) for a in m.emu_device(device_id)["inventory"]] == [("only", "1")]
    methods = [r["method"] for r in m.ctl("GET", "/_emu/requests") if r["route"] == "inventory_attributes"]
    assert methods == ["PATCH", "PATCH", "PUT"]


def test_inventory_refusals(m):
    key, _ = m.key()
    r = m.device("inventory", key, "02:00:00:00:0b:01", "a=b")  # not accepted
    assert r.returncode == 4 and "not accepted" in r.stderr
    r = m.device("inventory", key, "02:00:00:00:0b:01", "a=b", "--number", "a=1")
    assert r.returncode == 1 and "both" in r.stderr
    r = m.device("inventory", key, "02:00:00:00:0b:01", "--number", "t=warm")
    assert r.returncode == 1 and "number" in r.stderr
    r = m.device("inventory", key, "02:00:00:00:0b:01", *[f"a{i}=x" for i in range(101)])
    assert r.returncode == 2 and "100" in r.stderr


def test_token_store_saves_a_round_trip(m):
    key, _ = m.key()
    store_key = m.tmp / "store.key"
    assert subprocess.run([CLI, "store", "keygen", "--out", str(store_key)]).returncode == 0
    store = ["--store", str(m.tmp / "store"), "--store-key-file", str(store_key)]
    device_id = m.preauth(key, "02:00:00:00:0c:01")
    r = m.device("auth", key, "02:00:00:00:0c:01", *store, "--store-create")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([CLI, "store", "--dir", str(m.tmp / "store"), "--key-file", str(store_key), "get",
                        "mender.jwt"], capture_output=True, text=True)
    assert jwt_claims(r.stdout)["sub"] == device_id
    # The server cannot authenticate anyone now; the stored token still works.
    m.ctl("POST", "/_emu/faults", [{"route": "auth_requests", "status": 500}])
    r = m.device("inventory", key, "02:00:00:00:0c:01", *store, "k=v")
    assert r.returncode == 0, r.stderr
    r = m.device("inventory", key, "02:00:00:00:0c:01", "k=v")
    assert r.returncode == 2 and "500" in r.stderr
    m.ctl("DELETE", "/_emu/faults")


# ---- identities, logins, tenants -------------------------------------------------------------


def test_identity_file_script_and_stdin(m, tmp_path):
    key, _ = m.key()
    ident = tmp_path / "identity"
    ident.write_text("mac=02:00:00:00:0d:01\nserial=SN-1\n")
    script = tmp_path / "identity.sh"
    script.write_text("#!/bin/sh\necho serial=SN-1\necho mac=02:00:00:00:0d:01\n")
    script.chmod(0o755)
    r = m.mgmt("preauth", "--identity-file", str(ident), "--key", str(key))
    assert r.returncode == 0, r.stderr
    device_id = r.stdout.strip()
    r = m.run("auth", *m.conn, "--key", str(key), "--identity-script", str(script))
    assert (r.returncode, r.stdout.strip()) == (0, device_id), r.stderr
    r = m.run("auth", *m.conn, "--key", str(key), "--identity-file", "-", stdin=ident.read_text())
    assert (r.returncode, r.stdout.strip()) == (0, device_id), r.stderr
    r = m.run("auth", *m.conn, "--key", str(key), "--identity", "serial=SN-1", "--identity", "mac=02:00:00:00:0d:01")
    assert (r.returncode, r.stdout.strip()) == (0, device_id), r.stderr


def test_logins(m):
    assert m.run("count", *m.conn, "--token-file", str(m.pat_file)).stdout == "0\n"
    r = m.run("count", *m.conn, "--token-file", "-", stdin=m.pat + "\n")
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
    r = m.run("count", *m.conn, "--user", m.user, "--password-file", "-", stdin=m.password)
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
    wrong = m.tmp / "wrong"
    wrong.write_text("not-the-password\n")
    r = m.run("count", *m.conn, "--user", m.user, "--password-file", str(wrong))
    assert r.returncode == 2 and "401" in r.stderr
    r = m.run("count", *m.conn, "--token-file", str(wrong))
    assert r.returncode == 2 and "401" in r.stderr
    r = m.run("count", *m.conn, "--user", m.user, "--password-file", str(m.tmp / "missing"))
    assert r.returncode == 3
    # A secret on the command line is refused, and not echoed.
    r = m.run("count", *m.conn, "--user", m.user, "--password", m.password)
    assert r.returncode == 1 and m.password not in r.stderr and "--password-file" in r.stderr
    r = m.run("count", *m.conn, "--token", m.pat)
    assert r.returncode == 1 and m.pat not in r.stderr


def test_tenant_token(m):
    key, _ = m.key()
    m.ctl("POST", "/_emu/config", {"tenant_token": "tenant-abc"})
    device_id = m.preauth(key, "02:00:00:00:0e:01")
    assert m.device("auth", key, "02:00:00:00:0e:01").returncode == 4
    tenant = m.tmp / "tenant"
    tenant.write_text("tenant-abc\n")
    r = m.device("auth", key, "02:00:00:00:0e:01", "--tenant-token-file", str(tenant))
    assert (r.returncode, r.stdout.strip()) == (0, device_id), r.stderr
    assert jwt_claims(m.device("auth", key, "02:00:00:00:0e:01", "--tenant-token-file", "-", "--print-token",
                               stdin="tenant-abc").stdout)["sub"] == device_id


# ---- transport: TLS, mutual TLS, proxy --------------------------------------------------------


def test_tls_failures(m):
    key, _ = m.key()
    e = m.env
    r = m.run("auth", "--server", e["SBPROV_TEST_MENDER_UNTRUSTED_URL"], "--ca", m.ca, "--key", str(key),
              "--identity", "mac=02:00:00:00:0f:01")
    assert r.returncode == 2 and "certificate is not trusted" in r.stderr
    r = m.run("count", "--server", e["SBPROV_TEST_MENDER_UNTRUSTED_URL"], "--ca", m.ca, *m.login)
    assert r.returncode == 2 and "certificate is not trusted" in r.stderr
    r = m.run("count", "--server", e["SBPROV_TEST_MENDER_EXPIRED_URL"], "--ca", m.ca, *m.login)
    assert r.returncode == 2 and "expired" in r.stderr
    r = m.run("count", "--server", e["SBPROV_TEST_MENDER_WRONGHOST_URL"], "--ca", m.ca, *m.login)
    assert r.returncode == 2 and "certificate" in r.stderr
    r = m.run("count", "--server", m.url, "--ca", e["SBPROV_TEST_OTHER_CA"], *m.login)  # the wrong CA
    assert r.returncode == 2 and "not trusted" in r.stderr
    r = m.run("count", "--server", m.url, "--ca", str(m.tmp / "missing.pem"), *m.login)
    assert r.returncode == 3 and "missing.pem" in r.stderr
    r = m.run("count", "--server", e["SBPROV_TEST_MENDER_PLAIN_URL"], *m.login)
    assert r.returncode == 2 and "https" in r.stderr
    r = m.run("count", "--server", e["SBPROV_TEST_MENDER_PLAIN_URL"], "--allow-http", *m.login)
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr


def test_mutual_tls_and_proxy(m):
    e = m.env
    mtls = ["--server", e["SBPROV_TEST_MENDER_MTLS_URL"], "--ca", m.ca]
    r = m.run("count", *mtls, *m.login)
    assert r.returncode == 2 and "client certificate" in r.stderr
    for kind in ("RSA", "EC"):
        r = m.run("count", *mtls, *m.login, "--client-cert", e[f"SBPROV_TEST_CLIENT_CERT_{kind}"],
                  "--client-key", e[f"SBPROV_TEST_CLIENT_KEY_{kind}"])
        assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
    log = Path(e["SBPROV_TEST_PROXY_LOG"])
    before = log.read_text().count("CONNECT")
    r = m.mgmt("count", "--proxy", e["SBPROV_TEST_PROXY_URL"])
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
    assert log.read_text().count("CONNECT") == before + 1


# ---- usage ------------------------------------------------------------------------------------------


USAGE = [
    (["auth", "--identity", "mac=1", "--key", "k"], "--server is required"),
    (["auth", "--server", "https://h", "--key", "k"], "an identity is required"),
    (["auth", "--server", "https://h", "--identity", "mac=1"], "--key is required"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--probe"], "one identity source"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac"], "NAME=VALUE"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--first-interval", "1"], "--wait"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--wait", "soon"], "seconds"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "extra"], "unexpected argument"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--store", "d"], "exactly one of"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--store-plaintext"], "--store DIR"),
    (["auth", "--server", "https://h", "--key", "k", "--identity-file", "-", "--passphrase-file", "-"], "stdin"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--client-cert", "c"], "go together"),
    (["auth", "--server", "https://h", "--key", "k", "--identity", "mac=1", "--timeout", "0"], "seconds"),
    (["count", "--server", "https://h"], "log in with"),
    (["count", "--server", "https://h", "--user", "u"], "--password-file"),
    (["count", "--server", "https://h", "--user", "u", "--password-file", "p", "--token-file", "t"], "either"),
    (["count", "--server", "https://h", "--token-file", "t", "--status", "sleeping"], "--status"),
    (["list", "--server", "https://h", "--token-file", "t", "--per-page", "501"], "--per-page"),
    (["status", "--server", "https://h", "--token-file", "t"], "DEVICE_ID or an identity"),
    (["status", "--server", "https://h", "--token-file", "t", "id", "--identity", "mac=1"], "not both"),
    (["preauth", "--server", "https://h", "--token-file", "t", "--identity", "mac=1"], "--public-key"),
    (["inventory", "--server", "https://h", "--key", "k", "--identity", "mac=1"], "no attributes"),
    (["inventory", "--server", "https://h", "--key", "k", "--identity", "mac=1", "novalue"], "NAME=VALUE"),
    (["accept", "--server", "https://h", "--token-file", "t", "a", "b", "c"], "unexpected argument"),
    (["frobnicate"], "unknown command"),
    (["auth", "--bogus"], "bad option"),
]


@pytest.mark.parametrize("args,message", USAGE, ids=[" ".join(a[0][:1] + a[0][-2:]) for a in USAGE])
def test_usage_errors(args, message):
    r = subprocess.run([CLI, "mender", *args], capture_output=True, text=True, timeout=30, env=CLI_ENV)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert message in r.stderr and r.stdout == ""


@pytest.mark.parametrize("verb", ["auth", "inventory", "preauth", "status", "accept", "reject", "list", "count",
                                  "decommission"])
def test_help(verb):
    r = subprocess.run([CLI, "mender", verb, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("usage: sbprov mender ") and "--server URL" in r.stdout
    assert verb in r.stdout.splitlines()[0]


def test_mender_listed():
    r = subprocess.run([CLI, "mender", "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "decommission" in r.stdout
    r = subprocess.run([CLI, "--help"], capture_output=True, text=True, timeout=30)
    assert "mender" in r.stdout
