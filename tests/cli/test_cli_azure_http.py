"""End-to-end tests of `sbprov azure register|send|registry` (installed CLI)
against the Azure DPS + IoT Hub emulator behind nginx with TLS on loopback
(tests/emulators/stack.py, Stack(dir, mender=False, azure=True)).

One stack per module (it builds the Go emulator and starts nginx); the
emulator is reset before each test through its control API, and each test
ends by checking that the emulator recorded no API violation other than the
kinds the test provokes on purpose (a wrong key: "signature"). Skipped only if
go, nginx or openssl is missing.
"""
import base64
import hashlib
import hmac
import json
import os
import signal
import stat
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
    yield from emu_stack.pytest_stack(tmp_path_factory.mktemp("azure-stack"), pytest.skip, mender=False, azure=True)


def http(method, url, body=None):
    """One control-API call to a full URL; the decoded JSON answer or None."""
    return emu_stack.Control(url)(method, "", body)


def derive(group_key, registration_id):
    mac = hmac.new(base64.b64decode(group_key), registration_id.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class Azure:
    """The stack's values plus helpers to run the CLI and drive the emulator."""

    def __init__(self, stack, tmp):
        e = stack.env
        self.env = e
        self.tmp = tmp
        self.ca = e["SBPROV_TEST_CA"]
        self.control = e["SBPROV_TEST_AZURE_CONTROL"]
        self.scope = e["SBPROV_TEST_AZURE_ID_SCOPE"]
        self.hub_host = e["SBPROV_TEST_AZURE_HUB_HOST"]
        self.group_key = e["SBPROV_TEST_AZURE_GROUP_KEY"]
        self.group_key_file = self.secret("group.key", self.group_key + "\n")
        self.service_file = self.secret("service.cs", e["SBPROV_TEST_AZURE_SERVICE_CONNSTR"] + "\n")
        self.dps = ["--endpoint", e["SBPROV_TEST_AZURE_DPS_URL"], "--ca", self.ca, "--id-scope", self.scope]
        self.hub = ["--endpoint", e["SBPROV_TEST_AZURE_HUB_URL"], "--ca", self.ca]
        self.svc = [*self.hub, "--connection-string-file", str(self.service_file)]
        self.allowed_violations = set()

    def secret(self, name, text):
        path = self.tmp / name
        path.write_text(text)
        path.chmod(0o600)
        return path

    # the CLI
    def run(self, *args, stdin=None, timeout=60):
        return subprocess.run([CLI, "azure", *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                              env=CLI_ENV)

    def popen(self, *args, stdin=None):
        return subprocess.Popen([CLI, "azure", *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=CLI_ENV)

    def register(self, registration_id, *args, **kw):
        return self.run("register", *self.dps, "--registration-id", registration_id, *args, **kw)

    def send(self, connstr_file, *args, **kw):
        return self.run("send", *self.hub, "--connection-string-file", str(connstr_file), *args, **kw)

    def registry(self, verb, device_id, *args, **kw):
        return self.run("registry", verb, device_id, *self.svc, *args, **kw)

    def device_connstr(self, device_id, registration_id=None):
        """A registered device's connection string file (registered through the CLI)."""
        out = self.tmp / f"{device_id}.cs"
        r = self.register(registration_id or device_id, "--group-key-file", str(self.group_key_file),
                          "--connection-string-out", str(out))
        assert r.returncode == 0, r.stderr
        return out

    # the emulator
    def ctl(self, method, path, body=None):
        return http(method, self.control + path, body)

    def telemetry(self, device_id):
        return self.ctl("GET", f"/_emu/telemetry?device_id={device_id}") or []

    def requests(self, route):
        return [r for r in self.ctl("GET", "/_emu/requests") or [] if r["route"] == route]


@pytest.fixture
def az(stack, tmp_path):
    azure = Azure(stack, tmp_path)
    azure.ctl("POST", "/_emu/reset")
    yield azure
    violations = azure.ctl("GET", "/_emu/violations") or []
    unexpected = [v for v in violations if v["kind"] not in azure.allowed_violations]
    assert unexpected == []


# ---- register -------------------------------------------------------------------------------


def test_register_with_group_key_writes_the_connection_string(az):
    out = az.tmp / "device.cs"
    out.write_text("old contents\n")
    out.chmod(0o644)
    r = az.register("gw-cli-0001", "--group-key-file", str(az.group_key_file), "--payload", '{"site":"berlin"}',
                    "--connection-string-out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("status:    assigned\n"
                        f"hub:       {az.hub_host}\n"
                        "device:    gw-cli-0001\n"
                        "substatus: initialAssignment\n")
    assert f"written to {out}" in r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == (f"HostName={az.hub_host};DeviceId=gw-cli-0001;"
                               f"SharedAccessKey={derive(az.group_key, 'gw-cli-0001')}\n")
    assert sorted(p.name for p in az.tmp.iterdir()) == ["device.cs", "group.key", "service.cs"]  # no temp file left
    regs = az.ctl("GET", "/_emu/registrations")["registrations"]
    assert [(g["registration_id"], g["request_payload"]) for g in regs] == [("gw-cli-0001", {"site": "berlin"})]

    # Again, as JSON, with the derived key given directly and the payload from stdin.
    key = az.secret("device.key", derive(az.group_key, "gw-cli-0001"))
    r = az.register("gw-cli-0001", "--key-file", str(key), "--payload-file", "-", "--json", stdin='{"floor": 4}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"status": "assigned", "registration_id": "gw-cli-0001",
                                    "assigned_hub": az.hub_host, "device_id": "gw-cli-0001",
                                    "substatus": "reprovisionedToInitialAssignment"}
    assert r.stderr == ""


def test_register_returned_payload_in_json(az):
    key = derive(az.group_key, "gw-cli-pay")
    az.ctl("POST", "/_emu/enrollments", {"type": "individual", "registration_id": "gw-cli-pay", "primary_key": key,
                                         "payload": {"room": "4.12"}})
    r = az.register("gw-cli-pay", "--key-file", "-", "--json", stdin=key + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["payload"] == {"room": "4.12"}
    r = az.register("gw-cli-pay", "--key-file", "-", stdin=key)
    assert r.returncode == 0 and 'payload:   {"room":"4.12"}\n' in r.stdout


def test_register_wrong_key_is_401(az):
    az.allowed_violations.add("signature")
    wrong = az.secret("other.key", derive(az.group_key, "gw-cli-other"))  # a valid key, of another device
    out = az.tmp / "never.cs"
    r = az.register("gw-cli-0002", "--key-file", str(wrong), "--connection-string-out", str(out))
    assert r.returncode == 2 and r.stdout == ""
    assert "401" in r.stderr and "Unauthorized" in r.stderr
    assert not out.exists() and sorted(p.name for p in az.tmp.iterdir()) == ["group.key", "other.key", "service.cs"]
    # The most common mistake: the group key itself as the device key.
    r = az.register("gw-cli-0002", "--key-file", str(az.group_key_file))
    assert r.returncode == 2 and "401" in r.stderr and "derived device key" in r.stderr


def test_register_with_the_clock_far_off(az):
    az.ctl("POST", "/_emu/config", {"clock_offset": "3h"})
    r = az.register("gw-cli-clock", "--group-key-file", str(az.group_key_file))
    assert r.returncode == 2 and r.stdout == ""
    assert "clock" in r.stderr and "behind the server's" in r.stderr and "NTP" in r.stderr
    az.ctl("POST", "/_emu/config", {"clock_offset": "2m"})  # within Azure's 5 minutes
    r = az.register("gw-cli-clock", "--group-key-file", str(az.group_key_file))
    assert r.returncode == 0, r.stderr


def test_register_failed_or_disabled_enrollment_exits_4(az):
    az.ctl("POST", "/_emu/enrollments", [
        {"type": "individual", "registration_id": "gw-cli-failing",
         "failure": {"error_code": 400207, "error_message": "Custom allocation failed with status code: 400"}},
        {"type": "individual", "registration_id": "gw-cli-disabled", "provisioning_status": "disabled"},
    ])
    keys = {i["registration_id"]: i["primary_key"] for i in az.ctl("GET", "/_emu/enrollments")["individuals"]}
    key = az.secret("failing.key", keys["gw-cli-failing"])
    out = az.tmp / "failing.cs"
    r = az.register("gw-cli-failing", "--key-file", str(key), "--connection-string-out", str(out))
    assert r.returncode == 4, r.stderr
    assert r.stdout == "status:    failed\n"
    assert "Azure error 400207: Custom allocation failed with status code: 400" in r.stderr
    assert not out.exists()
    r = az.register("gw-cli-failing", "--key-file", str(key), "--json")
    assert r.returncode == 4
    assert json.loads(r.stdout) == {"status": "failed", "registration_id": "gw-cli-failing", "error_code": 400207,
                                    "error_message": "Custom allocation failed with status code: 400"}
    key = az.secret("disabled.key", keys["gw-cli-disabled"])
    r = az.register("gw-cli-disabled", "--key-file", str(key))
    assert r.returncode == 4 and r.stdout == "status:    disabled\n" and "disabled" in r.stderr


def test_register_still_assigning_when_the_wait_is_over(az):
    az.ctl("POST", "/_emu/config", {"assign_polls": 10})
    start = time.monotonic()
    r = az.register("gw-cli-slow", "--group-key-file", str(az.group_key_file), "--wait", "1.5", "--json")
    assert r.returncode == 4, r.stderr
    assert json.loads(r.stdout) == {"status": "assigning", "registration_id": "gw-cli-slow"}
    assert "still being assigned" in r.stderr and "--wait" in r.stderr
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_a_slow_registration(az, sig, code):
    az.ctl("POST", "/_emu/config", {"assign_polls": 10})  # ten 1 s polls before the answer
    out = az.tmp / "slow.cs"
    proc = az.popen("register", *az.dps, "--registration-id", "gw-cli-sigint", "--group-key-file",
                    str(az.group_key_file), "--connection-string-out", str(out))
    try:
        deadline = time.monotonic() + 10
        while not az.requests("dps_operation"):  # registered; now polling
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == code, stderr
    assert time.monotonic() - sent < 2
    assert "interrupted" in stderr and stdout == ""
    assert not out.exists() and not list(az.tmp.glob("slow.cs*"))  # the temporary file is gone too


# ---- send -------------------------------------------------------------------------------------


def test_send_one_message_and_lines_with_properties(az):
    cs = az.device_connstr("gw-cli-tel")
    r = az.send(cs, "--message-id", "msg-1", "--correlation-id", "corr-1", "--property", "room=4.12",
                "--property", "kind=air", stdin='{"co2_ppm":812}')
    assert (r.returncode, r.stdout) == (0, "1 message accepted\n"), r.stderr
    lines = '{"co2_ppm":1240}\n\n{"temperature_c":21.53}\r\n{"humidity":40}'  # a blank line, CRLF, no final newline
    r = az.send(cs, "--lines", "--property", "source=pipe", "--content-type", "application/json; charset=utf-8",
                stdin=lines)
    assert (r.returncode, r.stdout) == (0, "3 messages accepted\n"), r.stderr

    records = az.telemetry("gw-cli-tel")
    assert [m["body"] for m in records] == ['{"co2_ppm":812}', '{"co2_ppm":1240}', '{"temperature_c":21.53}',
                                            '{"humidity":40}']
    first = records[0]
    assert (first["message_id"], first["correlation_id"]) == ("msg-1", "corr-1")
    assert first["properties"] == {"room": "4.12", "kind": "air"}
    assert (first["content_type"], first["content_encoding"]) == ("application/json", "utf-8")
    ids = {m["message_id"] for m in records[1:]}
    assert len(ids) == 3 and "msg-1" not in ids  # a random ID each
    assert all(m["properties"] == {"source": "pipe"} for m in records[1:])
    assert all(m["content_type"] == "application/json; charset=utf-8" for m in records[1:])
    # Without --lines the body is stdin byte for byte.
    r = az.send(cs, "--content-type", "text/plain", stdin="two\nlines\n")
    assert r.returncode == 0, r.stderr
    assert az.telemetry("gw-cli-tel")[-1]["body"] == "two\nlines\n"


def test_send_lines_from_a_pipe_as_they_come(az):
    cs = az.device_connstr("gw-cli-pipe")
    proc = az.popen("send", *az.hub, "--connection-string-file", str(cs), "--lines", stdin=subprocess.PIPE)
    try:
        for i in range(3):
            proc.stdin.write(f'{{"n":{i}}}\n')
            proc.stdin.flush()
            deadline = time.monotonic() + 10
            while len(az.telemetry("gw-cli-pipe")) < i + 1:  # sent before the next line is written
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=10)  # closes stdin: the end of the data
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, stdout) == (0, "3 messages accepted\n"), stderr


def test_send_failure_says_how_many_got_through(az):
    cs = az.device_connstr("gw-cli-fail")
    az.ctl("POST", "/_emu/faults", [{"route": "hub_telemetry", "status": 400, "skip": 2, "count": 1}])
    r = az.send(cs, "--lines", stdin="".join(f'{{"n":{i}}}\n' for i in range(5)))
    assert r.returncode == 2
    assert r.stdout == "2 messages accepted\n"
    assert "line 3" in r.stderr and "400" in r.stderr
    assert [m["body"] for m in az.telemetry("gw-cli-fail")] == ['{"n":0}', '{"n":1}']
    az.ctl("DELETE", "/_emu/faults")


def test_send_with_a_wrong_key_is_401(az):
    az.allowed_violations.add("signature")
    az.device_connstr("gw-cli-wrong")
    cs = az.secret("wrong.cs", f"HostName={az.hub_host};DeviceId=gw-cli-wrong;"
                               f"SharedAccessKey={derive(az.group_key, 'someone-else')}\n")
    r = az.send(cs, stdin="{}")
    assert r.returncode == 2 and r.stdout == "0 messages accepted\n"
    assert "401" in r.stderr
    assert az.telemetry("gw-cli-wrong") == []


def test_send_with_the_clock_far_off(az):
    cs = az.device_connstr("gw-cli-clock2")
    az.ctl("POST", "/_emu/config", {"clock_offset": "3h"})  # the hub's clock ahead: our tokens look expired
    r = az.send(cs, "--lines", stdin='{"a":1}\n{"a":2}\n')
    assert r.returncode == 2 and r.stdout == "0 messages accepted\n"
    assert "line 1" in r.stderr and "clock" in r.stderr and "behind the server's" in r.stderr


def test_send_interrupted_while_waiting_for_stdin(az):
    cs = az.device_connstr("gw-cli-idle")
    proc = az.popen("send", *az.hub, "--connection-string-file", str(cs), "--lines", stdin=subprocess.PIPE)
    try:
        proc.stdin.write('{"n":1}\n')
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while not az.telemetry("gw-cli-idle"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.2)  # now blocked reading stdin
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=5)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, stderr
    assert time.monotonic() - sent < 2
    assert stdout == "1 message accepted\n" and "interrupted" in stderr


def test_send_refusals(az):
    cs = az.device_connstr("gw-cli-ref")
    r = az.send(cs, stdin="")
    assert r.returncode == 2 and "empty" in r.stderr
    r = az.send(cs, stdin="x" * (256 * 1024))
    assert r.returncode == 2 and "262143" in r.stderr
    r = az.send(cs, "--lines", stdin="ok\n" + "y" * (256 * 1024) + "\n")
    assert r.returncode == 2 and "line 2" in r.stderr and r.stdout == "1 message accepted\n"
    r = az.send(az.service_file, stdin="{}")  # a service connection string is not a device one
    assert r.returncode == 2 and "device connection string" in r.stderr
    r = az.send(az.tmp / "missing.cs", stdin="{}")
    assert r.returncode == 3


# ---- registry ------------------------------------------------------------------------------------


def test_registry_create_get_update_delete(az):
    r = az.registry("create", "gw-cli-reg")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["device:    gw-cli-reg", "status:    enabled"] and lines[3] == "auth:      symmetric keys"
    assert len(lines) == 4  # no keys without --show-keys
    assert "created" in r.stderr
    r = az.registry("create", "gw-cli-reg")
    assert r.returncode == 2 and "exists already" in r.stderr and "409" in r.stderr

    r = az.registry("get", "gw-cli-reg", "--json", "--show-keys")
    assert r.returncode == 0, r.stderr
    dev = json.loads(r.stdout)
    assert dev["device_id"] == "gw-cli-reg" and dev["status"] == "enabled" and dev["symmetric_keys"] is True
    assert len(base64.b64decode(dev["primary_key"])) == 32 and dev["primary_key"] != dev["secondary_key"]
    r = az.registry("get", "gw-cli-reg", "--json")
    assert "primary_key" not in json.loads(r.stdout) and dev["primary_key"] not in r.stdout

    # Rotate with the etag: a new primary, the old primary becomes the secondary.
    r = az.registry("update", "gw-cli-reg", "--rotate", "--etag", dev["etag"], "--json", "--show-keys")
    assert r.returncode == 0, r.stderr
    rotated = json.loads(r.stdout)
    assert rotated["secondary_key"] == dev["primary_key"] and rotated["primary_key"] != dev["primary_key"]
    assert rotated["etag"] != dev["etag"]
    # The old etag is stale now: neither update nor delete goes through.
    r = az.registry("update", "gw-cli-reg", "--rotate", "--etag", dev["etag"])
    assert r.returncode == 2 and "etag" in r.stderr and "412" in r.stderr
    r = az.registry("delete", "gw-cli-reg", "--etag", dev["etag"])
    assert r.returncode == 2 and "etag" in r.stderr

    # New primary from a file; the secondary is kept.
    primary, secondary = az.run("keygen").stdout.split()
    pfile = az.secret("primary.key", primary + "\n")
    r = az.registry("update", "gw-cli-reg", "--primary-key-file", str(pfile), "--json", "--show-keys")
    assert r.returncode == 0, r.stderr
    assert (json.loads(r.stdout)["primary_key"], json.loads(r.stdout)["secondary_key"]) == (primary,
                                                                                           dev["primary_key"])

    # The device's connection string (primary key), as the device uses it.
    out = az.tmp / "reg.cs"
    r = az.registry("get", "gw-cli-reg", "--connection-string-out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == f"HostName={az.hub_host};DeviceId=gw-cli-reg;SharedAccessKey={primary}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    r = az.send(out, stdin='{"hello":1}')
    assert r.returncode == 0, r.stderr

    current = json.loads(az.registry("get", "gw-cli-reg", "--json").stdout)["etag"]
    r = az.registry("delete", "gw-cli-reg", "--etag", current)
    assert (r.returncode, r.stdout) == (0, "device gw-cli-reg deleted\n"), r.stderr
    r = az.registry("get", "gw-cli-reg")
    assert r.returncode == 2 and "no device gw-cli-reg" in r.stderr
    r = az.registry("delete", "gw-cli-reg")
    assert r.returncode == 2 and "no device" in r.stderr
    assert az.registry("delete", "gw-cli-reg", "--missing-ok").returncode == 0
    r = az.registry("update", "gw-cli-reg", "--rotate")
    assert r.returncode == 2 and "no device" in r.stderr
    r = az.send(out, stdin='{"hello":2}')  # deleted: refused
    assert r.returncode == 2 and "0 messages accepted" in r.stdout


def test_registry_create_with_given_keys_and_policies(az):
    primary, secondary = az.run("keygen", "--bytes", "16").stdout.split()
    p = az.secret("p.key", primary)
    s = az.secret("s.key", secondary)
    out = az.tmp / "given.cs"
    r = az.registry("create", "gw-cli-given", "--primary-key-file", str(p), "--secondary-key-file", "-",
                    "--show-keys", "--connection-string-out", str(out), stdin=secondary + "\n")
    assert r.returncode == 0, r.stderr
    assert f"primary:   {primary}\n" in r.stdout and f"secondary: {secondary}\n" in r.stdout
    assert out.read_text().endswith(f"SharedAccessKey={primary}\n")
    # Both keys given, no etag: unconditional.
    r = az.registry("update", "gw-cli-given", "--primary-key-file", str(s), "--secondary-key-file", str(p),
                    "--json", "--show-keys")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["primary_key"] == secondary
    # An invalid key file is refused before anything is sent.
    bad = az.secret("bad.key", "not base64!")
    r = az.registry("create", "gw-cli-bad", "--primary-key-file", str(bad))
    assert r.returncode == 2 and "gw-cli-bad" not in json.dumps(az.ctl("GET", "/_emu/devices"))
    # A policy without RegistryWrite; a device connection string.
    e = az.env
    dev_policy = az.secret("dev-policy.cs", f"HostName={az.hub_host};SharedAccessKeyName=device;"
                                            f"SharedAccessKey={e['SBPROV_TEST_AZURE_DEVICE_POLICY_KEY']}")
    r = az.run("registry", "create", "gw-cli-nope", *az.hub, "--connection-string-file", str(dev_policy))
    assert r.returncode == 2 and "401" in r.stderr
    r = az.run("registry", "get", "gw-cli-given", *az.hub, "--connection-string-file", str(out))
    assert r.returncode == 2 and "service connection string" in r.stderr


# ---- transport ----------------------------------------------------------------------------------------


def test_transport_options(az):
    e = az.env
    az.registry("create", "gw-cli-net")
    base = ["registry", "get", "gw-cli-net", "--connection-string-file", str(az.service_file)]
    r = az.run(*base, "--endpoint", e["SBPROV_TEST_AZURE_UNTRUSTED_URL"], "--ca", az.ca)
    assert r.returncode == 2 and "not trusted" in r.stderr
    r = az.run(*base, "--endpoint", e["SBPROV_TEST_AZURE_HUB_URL"], "--ca", str(az.tmp / "missing.pem"))
    assert r.returncode == 3 and "missing.pem" in r.stderr
    r = az.run(*base, "--endpoint", e["SBPROV_TEST_AZURE_PLAIN_URL"])
    assert r.returncode == 2 and "https" in r.stderr
    r = az.run(*base, "--endpoint", e["SBPROV_TEST_AZURE_PLAIN_URL"], "--allow-http")
    assert r.returncode == 0, r.stderr
    mtls = [*base, "--endpoint", e["SBPROV_TEST_AZURE_MTLS_URL"], "--ca", az.ca]
    r = az.run(*mtls)
    assert r.returncode == 2 and "client certificate" in r.stderr
    r = az.run(*mtls, "--client-cert", e["SBPROV_TEST_CLIENT_CERT_EC"], "--client-key", e["SBPROV_TEST_CLIENT_KEY_EC"])
    assert r.returncode == 0, r.stderr
    log = Path(e["SBPROV_TEST_PROXY_LOG"])
    before = log.read_text().count("CONNECT")
    r = az.run(*base, "--endpoint", e["SBPROV_TEST_AZURE_HUB_URL"], "--ca", az.ca, "--proxy", e["SBPROV_TEST_PROXY_URL"])
    assert r.returncode == 0, r.stderr
    assert log.read_text().count("CONNECT") == before + 1
    # The hub-only endpoint is not DPS (the emulator records a "route" violation).
    az.allowed_violations.add("route")
    r = az.run("register", "--endpoint", e["SBPROV_TEST_AZURE_HUB_URL"], "--ca", az.ca, "--id-scope", az.scope,
               "--registration-id", "gw-cli-net", "--group-key-file", str(az.group_key_file))
    assert r.returncode == 2 and "404" in r.stderr


# ---- usage ------------------------------------------------------------------------------------------


REG = ["register", "--id-scope", "0ne00C0FFEE", "--registration-id", "gw-1"]
SEND = ["send", "--connection-string-file", "cs"]
RGY = ["registry", "--connection-string-file", "cs"]
USAGE = [
    (["register", "--registration-id", "gw-1", "--key-file", "k"], "--id-scope is required"),
    (["register", "--id-scope", "s", "--key-file", "k"], "--registration-id is required"),
    (REG, "exactly one of --key-file and --group-key-file"),
    (REG + ["--key-file", "k", "--group-key-file", "g"], "exactly one of"),
    (REG + ["--key-file", "k", "--payload", "{}", "--payload-file", "p"], "at most one of --payload"),
    (REG + ["--key-file", "-", "--payload-file", "-"], "stdin"),
    (REG + ["--key-file", "k", "--wait", "soon"], "--wait"),
    (REG + ["--key-file", "k", "--timeout", "0"], "--timeout"),
    (REG + ["--key-file", "k", "--connection-string-out", "-"], "needs a file"),
    (REG + ["--key-file", "k", "--client-cert", "c"], "go together"),
    (REG + ["--key-file", "k", "extra"], "unexpected argument"),
    (REG + ["--key", "c2VjcmV0c2VjcmV0c2VjcmV0"], "--key-file"),
    (REG + ["--group-key", "c2VjcmV0c2VjcmV0c2VjcmV0"], "--group-key-file"),
    (["send"], "--connection-string-file is required"),
    (["send", "--connection-string-file", "-"], "stdin is the data"),
    (["send", "--connection-string", "HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0"],
     "--connection-string-file"),
    (SEND + ["--lines", "--message-id", "m"], "--message-id"),
    (SEND + ["--property", "novalue"], "NAME=VALUE"),
    (SEND + ["--property", "bad name=1"], "not a token"),
    (SEND + ["--property", "n= padded"], "printable ASCII"),
    (SEND + [a for i in range(65) for a in ("--property", f"p{i}=1")], "at most 64"),
    (SEND + ["body.json"], "stdin"),
    (RGY, "a verb is required"),
    (RGY + ["frob", "d"], "unknown verb"),
    (RGY + ["get"], "DEVICE_ID is required"),
    (RGY + ["get", "d", "e"], "unexpected argument"),
    (["registry", "get", "d"], "--connection-string-file is required"),
    (RGY + ["update", "d"], "nothing to change"),
    (RGY + ["update", "d", "--rotate", "--secondary-key-file", "s"], "--rotate"),
    (RGY + ["get", "d", "--etag", "x"], "--etag does not go with get"),
    (RGY + ["create", "d", "--rotate"], "--rotate does not go with create"),
    (RGY + ["delete", "d", "--json"], "--json does not go with delete"),
    (RGY + ["get", "d", "--missing-ok"], "--missing-ok"),
    (RGY + ["create", "d", "--primary-key", "c2VjcmV0c2VjcmV0c2VjcmV0"], "--primary-key-file"),
    (RGY + ["create", "d", "--primary-key-file", "-", "--secondary-key-file", "-"], "stdin"),
    (["register", "--bogus"], "bad option"),
]


@pytest.mark.parametrize("args,message", USAGE, ids=[" ".join(a[0][:1] + a[0][-2:])[:60] for a in USAGE])
def test_usage_errors(args, message):
    r = subprocess.run([CLI, "azure", *args], capture_output=True, text=True, timeout=30, env=CLI_ENV)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert message in r.stderr and r.stdout == ""
    assert "c2VjcmV0c2VjcmV0c2VjcmV0" not in r.stderr  # an inline secret is not echoed


@pytest.mark.parametrize("verb", ["register", "send", "registry"])
def test_help(verb):
    r = subprocess.run([CLI, "azure", verb, "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.startswith(f"usage: sbprov azure {verb} ")
    assert "--ca FILE|DIR" in r.stdout and "--endpoint URL" in r.stdout


def test_azure_lists_the_network_verbs():
    r = subprocess.run([CLI, "azure", "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    for verb in ("register", "send", "registry", "derive-key"):
        assert f"  {verb} " in r.stdout
