"""End-to-end tests of `sbprov identity ...` and `sbprov key ...` (installed CLI)."""
import base64
import hashlib
import os
import stat
import subprocess

import pytest

CLI = os.environ.get("SBPROV_CLI") or os.path.join(os.environ.get("SBPROV_STAGE", ""), "bin", "sbprov")


def run(*args, stdin=None, binary=False):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=not binary, timeout=60)


# ---- identity -----------------------------------------------------------------

def test_canonical_sorts_escapes_and_accumulates():
    r = run("identity", "canonical", stdin="sn=A<1>&2\nmac=00:11:22:33:44:55\nsn=second\n")
    assert r.returncode == 0, r.stderr
    want = '{"mac":"00:11:22:33:44:55","sn":["A\\u003c1\\u003e\\u00262","second"]}'
    assert r.stdout == want + "\n"
    d = run("identity", "canonical", "--digest", stdin="sn=A<1>&2\nmac=00:11:22:33:44:55\nsn=second\n")
    assert d.stdout.strip() == hashlib.sha256(want.encode()).hexdigest()


def test_canonical_rejects_line_without_equals():
    r = run("identity", "canonical", stdin="mac=00:11\ngarbage\n")
    assert r.returncode == 2 and "line 2" in r.stderr


def test_identity_from_script(tmp_path):
    script = tmp_path / "identity"
    script.write_text("#!/bin/sh\necho mac=02:00:00:00:00:01\necho serial=SN-7\n")
    script.chmod(0o755)
    r = run("identity", "show", "--script", str(script))
    assert r.stdout == "mac=02:00:00:00:00:01\nserial=SN-7\n"
    r = run("identity", "show", "--script", str(script), "--json")
    assert r.stdout == '{"mac":"02:00:00:00:00:01","serial":"SN-7"}\n'
    r = run("identity", "id", "--template", "gw-{mac:compact}", "--script", str(script))
    assert (r.returncode, r.stdout) == (0, "gw-020000000001\n")


def test_identity_script_failures(tmp_path):
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    r = run("identity", "show", "--script", str(hang), "--timeout-ms", "300")
    assert r.returncode == 2 and "300 ms" in r.stderr
    fail = tmp_path / "fail"
    fail.write_text("#!/bin/sh\necho mac=1\nexit 3\n")
    fail.chmod(0o755)
    r = run("identity", "show", "--script", str(fail))
    assert r.returncode == 2 and "3" in r.stderr
    r = run("identity", "show", "--script", str(tmp_path / "missing"))
    assert r.returncode == 2


def test_identity_id_errors():
    r = run("identity", "id", "--template", "gw-{serial}", "--stdin", stdin="mac=00:11\n")
    assert r.returncode == 2 and "serial" in r.stderr
    r = run("identity", "id", "--stdin", stdin="mac=00:11\n")
    assert r.returncode == 1


# ---- keys ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa-2048"])
def test_key_generate_sign_verify(tmp_path, kind):
    path = tmp_path / "device.pem"
    old = os.umask(0)
    try:
        r = run("key", "generate", "--type", kind, "--out", str(path))
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("-----BEGIN PUBLIC KEY-----\n") and r.stdout.endswith("-----END PUBLIC KEY-----\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    pub = run("key", "public", "--key", str(path))
    assert pub.stdout == r.stdout
    fp = run("key", "public", "--key", str(path), "--fingerprint").stdout.strip()
    der = base64.b64decode("".join(pub.stdout.strip().splitlines()[1:-1]))
    assert fp == hashlib.sha256(der).hexdigest()

    message = b"\x00binary body\n{\"id_data\":1}"
    sig = run("key", "sign", "--key", str(path), stdin=message, binary=True)
    assert sig.returncode == 0
    signature = sig.stdout.decode().strip()
    base64.b64decode(signature, validate=True)
    ok = run("key", "verify", "--key", str(path), "--signature", signature, stdin=message, binary=True)
    assert (ok.returncode, ok.stdout) == (0, b"valid\n")
    pubfile = tmp_path / "pub.pem"
    pubfile.write_text(pub.stdout)
    bad = run("key", "verify", "--public-key", str(pubfile), "--signature", signature, stdin=message + b"x",
              binary=True)
    assert bad.returncode == 2


def test_key_generate_keeps_existing_file(tmp_path):
    path = tmp_path / "k.pem"
    assert run("key", "generate", "--out", str(path)).returncode == 0
    before = path.read_bytes()
    r = run("key", "generate", "--out", str(path))
    assert r.returncode == 2 and path.read_bytes() == before
    assert run("key", "generate", "--out", str(path), "--force").returncode == 0
    assert path.read_bytes() != before
    assert sorted(os.listdir(tmp_path)) == ["k.pem"]


def test_key_passphrase(tmp_path):
    path, pw = tmp_path / "k.pem", tmp_path / "pw"
    pw.write_text("correct horse\n")
    assert run("key", "generate", "--out", str(path), "--passphrase-file", str(pw)).returncode == 0
    assert "ENCRYPTED" in path.read_text()
    # PBES2 with AES-256-CBC and PBKDF2-HMAC-SHA256, 100,000 iterations (0x186A0).
    parsed = subprocess.run(["openssl", "asn1parse", "-in", str(path)], capture_output=True, text=True).stdout
    assert "PBKDF2" in parsed and ":0186A0" in parsed and "hmacWithSHA256" in parsed and "aes-256-cbc" in parsed
    assert run("key", "public", "--key", str(path), "--passphrase-file", str(pw)).returncode == 0
    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    r = run("key", "public", "--key", str(path), "--passphrase-file", str(wrong))
    assert r.returncode == 2 and "passphrase" in r.stderr.lower()


def test_key_csr(tmp_path):
    path = tmp_path / "k.pem"
    run("key", "generate", "--type", "ecdsa-p256", "--out", str(path))
    r = run("key", "csr", "--key", str(path), "--cn", "gw-0001", "--san", "DNS:gw-0001.local")
    assert r.returncode == 0 and r.stdout.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    r = run("key", "csr", "--key", str(path), "--cn", "gw-0001", "--san", "bogus")
    assert r.returncode == 2


def test_key_usage_errors(tmp_path):
    assert run("key", "generate", "--type", "dsa", "--out", str(tmp_path / "x")).returncode == 1
    assert run("key", "sign").returncode == 1
    r = run("key", "public", "--key", str(tmp_path / "absent.pem"))
    assert r.returncode == 2
