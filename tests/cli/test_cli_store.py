"""End-to-end tests of `sbprov store ...` (installed CLI)."""
import os
import stat
import subprocess

import pytest

CLI = os.environ.get("SBPROV_CLI") or os.path.join(os.environ.get("SBPROV_STAGE", ""), "bin", "sbprov")


def run(*args, stdin=b""):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, timeout=60)


@pytest.fixture
def store(tmp_path):
    key = tmp_path / "store.key"
    r = run("store", "keygen", "--out", str(key))
    assert r.returncode == 0, r.stderr
    base = ["store", "--dir", str(tmp_path / "s"), "--key-file", str(key), "--create"]

    def call(*args, stdin=b""):
        return run(*base, *args, stdin=stdin)
    call.dir = tmp_path / "s"
    call.key = key
    return call


def test_keygen(tmp_path):
    key = tmp_path / "k"
    assert run("store", "keygen", "--out", str(key)).returncode == 0
    assert key.stat().st_size == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    r = run("store", "keygen", "--out", str(key))
    assert r.returncode == 2 and b"exists" in r.stderr
    assert run("store", "keygen").returncode == 1


@pytest.mark.parametrize("value", [b"plain", b"trailing newline\n", b"a\0b\0\xff\xfe\r\n", b"",
                                   bytes(range(256)) * 4096])
def test_put_get_byte_exact(store, value):
    r = store("put", "entry", stdin=value)
    assert r.returncode == 0, r.stderr
    r = store("get", "entry")
    assert r.returncode == 0 and r.stdout == value


def test_list_delete_exists(store):
    for name in ("b", "a", "c.d"):
        assert store("put", name, stdin=name.encode()).returncode == 0
    r = store("list")
    assert r.returncode == 0 and r.stdout == b"a\nb\nc.d\n"
    assert store("exists", "a").returncode == 0
    assert store("delete", "a").returncode == 0
    r = store("exists", "a")
    assert r.returncode == 2 and r.stdout == b"" and r.stderr == b""
    r = store("delete", "a")
    assert r.returncode == 2 and b"a" in r.stderr
    assert store("list").stdout == b"b\nc.d\n"


def test_swap(store):
    store("put", "primary", stdin=b"P")
    store("put", "secondary", stdin=b"S")
    assert store("swap", "primary", "secondary").returncode == 0
    assert store("get", "primary").stdout == b"S" and store("get", "secondary").stdout == b"P"
    assert store("swap", "primary", "missing").returncode == 2
    assert store("swap", "primary").returncode == 1


def test_export_env_docker_and_systemd(store, tmp_path):
    store("put", "DB_PASSWORD", stdin=b"p@ss w=rd")
    store("put", "TOKEN", stdin='q " $ \\ ` ü'.encode())
    out = tmp_path / "docker.env"
    r = store("export-env", "--format", "docker", "--out", str(out), "TOKEN", "DB_PASSWORD")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == 'TOKEN=q " $ \\ ` ü\nDB_PASSWORD=p@ss w=rd\n'.encode()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    out2 = tmp_path / "systemd.env"
    r = store("export-env", "--format", "systemd", "--out", str(out2), "DB_PASSWORD", "TOKEN")
    assert r.returncode == 0, r.stderr
    assert out2.read_bytes() == 'DB_PASSWORD="p@ss w=rd"\nTOKEN="q \\" \\$ \\\\ \\` ü"\n'.encode()
    # import into a second store and compare
    key = store.key
    other = ["store", "--dir", str(tmp_path / "copy"), "--key-file", str(key), "--create"]
    for f, path in (("docker", out), ("systemd", out2)):
        assert run(*other, "import-env", "--format", f, str(path)).returncode == 0
        assert run(*other, "get", "TOKEN").stdout == 'q " $ \\ ` ü'.encode()


def test_export_env_errors(store, tmp_path):
    store("put", "NL", stdin=b"a\nb")
    out = tmp_path / "e.env"
    r = store("export-env", "--format", "docker", "--out", str(out), "NL")
    assert r.returncode == 2 and not out.exists()
    r = store("export-env", "--format", "ini", "--out", str(out))
    assert r.returncode == 1
    r = store("export-env", "--format", "docker", "NL")
    assert r.returncode == 1
    r = store("export-env", "--format", "docker", "--out", str(out), "MISSING")
    assert r.returncode == 2


def test_errors_and_exit_codes(store, tmp_path):
    store("put", "x", stdin=b"v")
    assert store("get", "missing").returncode == 2
    assert store("put", "bad/name", stdin=b"v").returncode == 2
    assert store("frobnicate").returncode == 1
    assert store("get").returncode == 1
    assert run("store", "--dir", str(store.dir), "get", "x").returncode == 1  # no key source
    assert run("store", "--key-file", str(store.key), "get", "x").returncode == 1  # no --dir
    # wrong key file
    other = tmp_path / "other.key"
    run("store", "keygen", "--out", str(other))
    assert run("store", "--dir", str(store.dir), "--key-file", str(other), "get", "x").returncode == 2
    # tampered entry
    path = store.dir / "e.x"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    r = store("get", "x")
    assert r.returncode == 2 and r.stdout == b""
    # unsafe directory
    os.chmod(store.dir, 0o777)
    try:
        assert store("list").returncode == 2
    finally:
        os.chmod(store.dir, 0o700)
    # missing passphrase file is an I/O error
    r = run("store", "--dir", str(tmp_path / "p"), "--passphrase-file", str(tmp_path / "none"), "list")
    assert r.returncode == 3


def test_passphrase_store(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    base = ["store", "--dir", str(tmp_path / "p"), "--passphrase-file", str(pw)]
    assert run(*base, "--create", "put", "k", stdin=b"v").returncode == 0
    assert run(*base, "get", "k").stdout == b"v"
    pw.write_text("wrong\n")
    assert run(*base, "get", "k").returncode == 2


def test_help():
    r = run("store", "--help")
    assert r.returncode == 0 and b"export-env" in r.stdout


# ---- a store key sealed to a device key (file keys; tests/store/tpm-store.sh
# does the same with keys held by a software TPM) --------------------------------

def new_key(path, kind):
    r = run("key", "generate", "--type", kind, "--out", str(path))
    assert r.returncode == 0, r.stderr
    r = run("key", "public", "--key", str(path), "--fingerprint")
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


@pytest.mark.parametrize("kind,scheme", [("ecdsa-p256", "ecdh-p256"), ("rsa-2048", "rsa-oaep-sha256")])
def test_sealed_store_file_key(tmp_path, kind, scheme):
    key = tmp_path / "device.pem"
    fingerprint = new_key(key, kind)
    d = tmp_path / "sealed"
    base = ["store", "--dir", str(d), "--sealing-key", str(key)]
    values = {"azure.primary": b"first secret", "bin": bytes(range(256)) + b"\0\n", "empty": b""}
    for i, (name, value) in enumerate(values.items()):
        # --provider default: the key-loading options reach sbprov_key_load.
        extra = ["--provider", "default"] if i == 1 else []
        r = run(*base, *extra, "--create", "put", name, stdin=value)
        assert r.returncode == 0, r.stderr
    # Each call is a new process that opens the store anew.
    for name, value in values.items():
        r = run(*base, "get", name)
        assert r.returncode == 0 and r.stdout == value, r.stderr
    assert run(*base, "list").stdout == b"azure.primary\nbin\nempty\n"
    meta = (d / ".sbprov-store").read_bytes()
    assert b"kdf=sealed\n" in meta and f"seal={scheme}\n".encode() in meta
    assert f"seal_key={fingerprint}\n".encode() in meta
    for path in d.iterdir():
        assert b"first secret" not in path.read_bytes()

    # Another key of the same kind: refused, naming both fingerprints.
    other = tmp_path / "other.pem"
    other_fp = new_key(other, kind)
    r = run("store", "--dir", str(d), "--sealing-key", str(other), "get", "azure.primary")
    assert r.returncode == 2 and r.stdout == b""
    assert b"not to the given key" in r.stderr
    assert fingerprint.encode() in r.stderr and other_fp.encode() in r.stderr
    # A key file is not the store's key source.
    store_key = tmp_path / "store.key"
    run("store", "keygen", "--out", str(store_key))
    r = run("store", "--dir", str(d), "--key-file", str(store_key), "get", "azure.primary")
    assert r.returncode == 2 and b"no sealing key was given" in r.stderr


def test_sealed_store_refusals(tmp_path):
    ed = tmp_path / "ed.pem"
    new_key(ed, "ed25519")
    d = tmp_path / "s"
    r = run("store", "--dir", str(d), "--sealing-key", str(ed), "--create", "put", "x", stdin=b"v")
    assert r.returncode == 2 and b"Ed25519" in r.stderr
    assert not (d / ".sbprov-store").exists()
    # A key that cannot be loaded: the loader's message, exit 2.
    r = run("store", "--dir", str(d), "--sealing-key", str(tmp_path / "missing.pem"), "--create", "list")
    assert r.returncode == 2 and b"missing.pem" in r.stderr
    assert not (d / ".sbprov-store").exists()
    # Usage errors: more than one key source; provider options without a sealing key.
    ec = tmp_path / "ec.pem"
    new_key(ec, "ecdsa-p256")
    key = tmp_path / "store.key"
    run("store", "keygen", "--out", str(key))
    r = run("store", "--dir", str(d), "--sealing-key", str(ec), "--key-file", str(key), "--create", "list")
    assert r.returncode == 1 and b"exactly one of" in r.stderr
    r = run("store", "--dir", str(d), "--sealing-key", str(ec), "--plaintext", "--create", "list")
    assert r.returncode == 1
    r = run("store", "--dir", str(d), "--key-file", str(key), "--provider", "tpm2", "--create", "list")
    assert r.returncode == 1 and b"--sealing-key only" in r.stderr
    r = run("store", "--dir", str(d), "--key-file", str(key), "--openssl-conf", "/dev/null", "--create", "list")
    assert r.returncode == 1
    # (The refused creations above leave the directory and its lock file, never a store.)
    assert not (d / ".sbprov-store").exists() and not list(d.glob("e.*"))


def test_help_names_sealing_key():
    r = run("store", "--help")
    assert r.returncode == 0
    for option in (b"--sealing-key URI", b"--provider NAME", b"--openssl-conf"):
        assert option in r.stdout
