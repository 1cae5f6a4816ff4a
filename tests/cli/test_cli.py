"""End-to-end tests of the installed `sbprov` command-line tool.

The binary comes from $SBPROV_STAGE/bin (the staged install made by `make build`),
or $SBPROV_CLI. Expected values are computed here independently with Python's
hmac/hashlib/base64, or are Azure's published vectors.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.parse

import pytest

CLI = os.environ.get("SBPROV_CLI") or os.path.join(os.environ.get("SBPROV_STAGE", ""), "bin", "sbprov")
D1_KEY = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="
D1_ID = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
D1_EXPECT = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="
S1_KEY = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="
S1_URI = "MyExampleHub.azure-devices.net/devices/my-symkey-device"
S1_TOKEN = ("SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device"
            "&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026")


def run(*args, stdin=None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=30)


def derive(group_key, rid):
    mac = hmac.new(base64.b64decode(group_key), rid.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def sas(uri, key, expiry, policy=None):
    sr = urllib.parse.quote(uri, safe="")
    mac = hmac.new(base64.b64decode(key), f"{sr}\n{expiry}".encode(), hashlib.sha256).digest()
    token = f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(base64.b64encode(mac).decode(), safe='')}&se={expiry}"
    return token + (f"&skn={policy}" if policy else "")


def test_binary_is_there():
    assert os.access(CLI, os.X_OK), f"no sbprov binary at {CLI} (run make build)"


def test_version():
    r = run("version")
    assert r.returncode == 0
    assert r.stdout.startswith("sbprov ") and "libsbprov" in r.stdout


@pytest.mark.parametrize("args", [[], ["--help"], ["azure", "--help"], ["azure", "derive-key", "--help"],
                                  ["azure", "sas", "--help"], ["azure", "keygen", "--help"],
                                  ["azure", "connstr", "--help"], ["azure", "connstr", "parse", "--help"],
                                  ["azure", "connstr", "build", "--help"], ["version", "--help"]])
def test_help_everywhere(args):
    r = run(*args)
    assert "usage:" in r.stdout
    assert r.returncode == (1 if args == [] else 0)


def test_derive_published_vector():
    r = run("azure", "derive-key", "--group-key", D1_KEY, "--registration-id", D1_ID)
    assert (r.returncode, r.stdout, r.stderr) == (0, D1_EXPECT + "\n", "")


def test_derive_batch_from_stdin_and_file(tmp_path):
    ids = [f"gw-{i:04d}" for i in range(300)]
    r = run("azure", "derive-key", "--group-key", D1_KEY, "--registration-ids-from", "-", stdin="\n".join(ids) + "\n")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [derive(D1_KEY, i) for i in ids]
    f = tmp_path / "ids.txt"
    f.write_text("\r\n".join(ids[:5]))  # CRLF and no final newline are fine
    keyfile = tmp_path / "group.key"
    keyfile.write_text(D1_KEY + "\n")
    r = run("azure", "derive-key", "--group-key-file", str(keyfile), "--registration-ids-from", str(f))
    assert r.stdout.splitlines() == [derive(D1_KEY, i) for i in ids[:5]]


def test_derive_batch_reports_bad_line():
    r = run("azure", "derive-key", "--group-key", D1_KEY, "--registration-ids-from", "-", stdin="good-1\nBad-2\n")
    assert r.returncode == 2
    assert r.stdout.splitlines() == [derive(D1_KEY, "good-1")]
    assert "- line 2" in r.stderr and "upper-case" in r.stderr


@pytest.mark.parametrize("key,needle", [("abc", "not a multiple of 4"), ("AAAA", "decodes to 3 bytes"),
                                        ("8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE_-ah", "base64url")])
def test_derive_bad_group_key(key, needle):
    r = run("azure", "derive-key", "--group-key", key, "--registration-id", "a")
    assert r.returncode == 2 and needle in r.stderr and r.stdout == ""


@pytest.mark.parametrize("args", [["--registration-id", "a"], ["--group-key", D1_KEY],
                                  ["--group-key", D1_KEY, "--group-key-file", "x", "--registration-id", "a"],
                                  ["--group-key", D1_KEY, "--registration-id", "a", "extra"],
                                  ["--bogus"]])
def test_derive_usage_errors(args):
    r = run("azure", "derive-key", *args)
    assert r.returncode == 1 and "sbprov:" in r.stderr


def test_missing_key_file_is_io_error(tmp_path):
    r = run("azure", "derive-key", "--group-key-file", str(tmp_path / "nope"), "--registration-id", "a")
    assert r.returncode == 3 and "No such file" in r.stderr


def test_sas_published_vector():
    r = run("azure", "sas", "--resource", S1_URI, "--key", S1_KEY, "--expiry", "1663119026", "--now", "0")
    assert (r.returncode, r.stdout) == (0, S1_TOKEN + "\n")


def test_sas_expired_against_clock():
    r = run("azure", "sas", "--resource", S1_URI, "--key", S1_KEY, "--expiry", "1663119026")
    assert r.returncode == 2 and "not after now" in r.stderr


def test_sas_ttl_and_policy(tmp_path):
    before = int(time.time())
    keyfile = tmp_path / "k"
    keyfile.write_text(S1_KEY)
    r = run("azure", "sas", "--resource", "0ne00000000/registrations/gw-1", "--key-file", str(keyfile),
            "--ttl", "3600", "--policy", "registration")
    assert r.returncode == 0
    se = int(r.stdout.strip().split("&se=")[1].split("&")[0])
    assert before + 3600 <= se <= int(time.time()) + 3600
    assert r.stdout.strip() == sas("0ne00000000/registrations/gw-1", S1_KEY, se, "registration")


@pytest.mark.parametrize("args,code,needle", [
    (["--expiry", "12x"], 1, "not an integer"),
    (["--ttl", "-5"], 1, "positive"),
    (["--expiry", "1000"], 2, "before 2020"),
    (["--expiry", "1900000000", "--policy", "a b"], 2, "policy name"),
])
def test_sas_errors(args, code, needle):
    r = run("azure", "sas", "--resource", S1_URI, "--key", S1_KEY, *args)
    assert r.returncode == code and needle in r.stderr


def test_keygen():
    r = run("azure", "keygen")
    assert r.returncode == 0
    primary, secondary = r.stdout.split()
    assert len(base64.b64decode(primary, validate=True)) == 32 and primary != secondary
    r = run("azure", "keygen", "--bytes", "64", "--json")
    keys = json.loads(r.stdout)
    assert len(base64.b64decode(keys["secondary"], validate=True)) == 64
    r = run("azure", "keygen", "--bytes", "65")
    assert r.returncode == 2 and "16 to 64" in r.stderr


def test_connstr_parse_and_build_round_trip():
    s = f"HostName=h.azure-devices.net;DeviceId=dev1;ModuleId=m1;SharedAccessKey={S1_KEY}"
    r = run("azure", "connstr", "parse", s)
    assert r.returncode == 0
    fields = json.loads(r.stdout)
    assert fields == {"HostName": "h.azure-devices.net", "DeviceId": "dev1", "ModuleId": "m1", "SharedAccessKey": S1_KEY}
    r = run("azure", "connstr", "parse", "-", stdin=s + "\n")
    assert json.loads(r.stdout) == fields
    r = run("azure", "connstr", "build", "--host-name", "h.azure-devices.net", "--device-id", "dev1",
            "--module-id", "m1", "--shared-access-key", S1_KEY)
    assert (r.returncode, r.stdout) == (0, s + "\n")


def test_connstr_build_service_and_x509(tmp_path):
    keyfile = tmp_path / "k"
    keyfile.write_text(S1_KEY + "\n")
    r = run("azure", "connstr", "build", "--host-name", "h.net", "--shared-access-key-name", "iothubowner",
            "--shared-access-key-file", str(keyfile))
    assert r.stdout == f"HostName=h.net;SharedAccessKeyName=iothubowner;SharedAccessKey={S1_KEY}\n"
    r = run("azure", "connstr", "build", "--host-name", "h.net", "--device-id", "d", "--x509")
    assert r.stdout == "HostName=h.net;DeviceId=d;x509=true\n"


@pytest.mark.parametrize("s,needle", [
    ("HostName=h.net;DeviceId=d;DeviceId=e;x509=true", "DeviceId: given twice"),
    ("HostName=h.net;Foo=1;DeviceId=d;x509=true", "unknown field at position 16"),
    ("HostName=h.net;deviceid=d;x509=true", "case-sensitive: DeviceId"),
    (f"HostName=h.net;DeviceId=d;x509=true;SharedAccessKey={S1_KEY}", "contradicts"),
    ("", "empty"),
])
def test_connstr_parse_errors(s, needle):
    r = run("azure", "connstr", "parse", s)
    assert r.returncode == 2 and needle in r.stderr and r.stdout == ""


def test_connstr_build_errors():
    r = run("azure", "connstr", "build", "--device-id", "d", "--x509")
    assert r.returncode == 2 and "HostName: required" in r.stderr
    r = run("azure", "connstr", "build", "--host-name", "h.net", "--device-id", "a;b", "--x509")
    assert r.returncode == 2 and "contains ';'" in r.stderr


def test_unknown_commands():
    assert run("frobnicate").returncode == 1
    r = run("azure", "frobnicate")
    assert r.returncode == 1 and "unknown command" in r.stderr
