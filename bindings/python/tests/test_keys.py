"""sbprov.keys: generation, files, loading, signatures verified independently
(Python's `cryptography` when importable, and always the openssl CLI), CSRs,
every error path, the Key lifecycle, and the GIL released around slow calls."""

import base64
import copy
import errno
import gc
import hashlib
import os
import pickle
import shutil
import stat
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

import sbprov
from sbprov import keys
from sbprov.keys import Key

try:  # optional: the independent verifier of choice when present
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_CRYPTOGRAPHY = False

OPENSSL = shutil.which("openssl")

KINDS = [("ed25519", "ed25519", 255), ("ecdsa-p256", "ecdsa-p256", 256), ("rsa-2048", "rsa", 2048)]


def raises(exc_type, code, fn, *args, match=None, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    e = info.value
    assert isinstance(e, sbprov.Error)
    assert e.code == code, (e.code, e.message)
    assert e.message
    if match is not None:
        assert match in e.message, e.message
    return e


@pytest.fixture(scope="module")
def rsa2048():
    with keys.generate("rsa-2048") as key:
        yield key


@pytest.fixture(scope="module")
def sample_keys(rsa2048):
    ks = {"ed25519": keys.generate("ed25519"), "ecdsa-p256": keys.generate("ecdsa-p256"), "rsa-2048": rsa2048}
    yield ks
    ks["ed25519"].close()
    ks["ecdsa-p256"].close()


# --------------------------------------------------------------------------
# Independent verification
# --------------------------------------------------------------------------

def openssl(*args, input=None, check=True):
    if OPENSSL is None:
        pytest.skip("openssl CLI not installed")
    return subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=check)


def verify_openssl(tmp: Path, kind: str, public_pem: str, data: bytes, sig_b64: str) -> bool:
    """Verify with the openssl CLI: pkeyutl -rawin for Ed25519, dgst -sha256 otherwise."""
    tmp.mkdir(parents=True, exist_ok=True)
    pub, msg, sig = tmp / "pub.pem", tmp / "data.bin", tmp / "sig.bin"
    pub.write_text(public_pem)
    msg.write_bytes(data)
    sig.write_bytes(base64.b64decode(sig_b64, validate=True))
    if kind == "ed25519":
        proc = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-in", str(msg),
                       "-sigfile", str(sig), check=False)
    else:
        proc = openssl("dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(msg), check=False)
    return proc.returncode == 0


def verify_cryptography(kind: str, public_pem: str, data: bytes, sig_b64: str) -> bool:
    pub = serialization.load_pem_public_key(public_pem.encode())
    sig = base64.b64decode(sig_b64, validate=True)
    try:
        if kind == "ed25519":
            assert isinstance(pub, ed25519.Ed25519PublicKey)
            pub.verify(sig, data)
        elif kind == "ecdsa-p256":
            assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"
            pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(pub, rsa.RSAPublicKey)
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


VERIFIERS = ["openssl", pytest.param("cryptography", marks=pytest.mark.skipif(
    not HAVE_CRYPTOGRAPHY, reason="cryptography not importable; the openssl CLI verifies instead"))]


def verify_independently(tmp: Path, verifier: str, kind: str, public_pem: str, data: bytes, sig: str) -> bool:
    if verifier == "cryptography":
        return verify_cryptography(kind, public_pem, data, sig)
    return verify_openssl(tmp, kind, public_pem, data, sig)


def spki_der(public_pem: str) -> bytes:
    lines = public_pem.strip().splitlines()
    assert lines[0] == "-----BEGIN PUBLIC KEY-----" and lines[-1] == "-----END PUBLIC KEY-----"
    assert all(len(line) <= 64 for line in lines[1:-1])
    assert all(len(line) == 64 for line in lines[1:-2])
    return base64.b64decode("".join(lines[1:-1]), validate=True)


# --------------------------------------------------------------------------
# Generation and properties
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind,type_,bits", KINDS + [("ed25519", "ed25519", 255)])
def test_generate_properties(kind, type_, bits):
    with keys.generate(kind) as key:
        assert key.type == type_ and key.bits == bits and key.has_private is True
        pem = key.public_pem
        assert pem.endswith("-----END PUBLIC KEY-----\n")
        assert key.fingerprint == hashlib.sha256(spki_der(pem)).hexdigest()
        assert repr(key) == f"<sbprov.keys.Key {type_} {bits} bits private>"


def test_generate_defaults_and_rsa_kinds():
    key = keys.generate()
    assert key.type == "ed25519"
    assert keys.generate("rsa").bits == 3072
    assert keys.generate("rsa-3072").bits == 3072
    assert keys.generate("rsa-2050").bits == 2050  # any size the library accepts
    assert keys.generate().fingerprint != key.fingerprint  # fresh randomness


def test_generate_errors():
    for kind in ("dsa", "RSA", "ed448", "", "rsa-", "rsa-x", "ecdsa-p384", "rsa-2048 "):
        raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.generate, kind)
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.generate, "rsa-1024", match="must be 2048 to 4096")
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.generate, "rsa-2047", match="2047")
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.generate, "rsa-4097", match="4097")
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.generate, "rsa-999999")
    assert issubclass(sbprov.InvalidKeyError, ValueError)
    for bad in (None, 3, b"ed25519"):
        with pytest.raises(TypeError):
            keys.generate(bad)
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.generate, passphrase="pw", match="without a path")


def test_key_cannot_be_instantiated_copied_or_pickled():
    with pytest.raises(TypeError):
        Key()
    with keys.generate() as key:
        for dup in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError):
                dup(key)


# --------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------

MESSAGES = [b"", b"hello", bytes(range(256)), b"\0" * 100, b"x" * 100000]


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("kind", [k for k, _, _ in KINDS])
def test_signatures_verify_independently(tmp_path, sample_keys, kind, verifier):
    key = sample_keys[kind]
    type_ = key.type
    pem = key.public_pem
    for i, data in enumerate(MESSAGES):
        sig = key.sign(data)
        assert base64.b64encode(base64.b64decode(sig, validate=True)).decode() == sig  # strict, padded
        assert "\n" not in sig
        key.verify(data, sig)
        if verifier == "openssl" and type_ == "ed25519" and not data:
            continue  # openssl 3.0 pkeyutl -rawin cannot read an empty message ("Could not allocate 0 bytes")
        assert verify_independently(tmp_path / f"{i}", verifier, type_, pem, data, sig), (kind, i)
        # and the independent verifier refuses a signature of other data
        assert not verify_independently(tmp_path / f"{i}x", verifier, type_, pem, data + b"!", sig)


def test_signature_sizes_and_determinism(sample_keys):
    ed = sample_keys["ed25519"]
    assert len(base64.b64decode(ed.sign(b"m"))) == 64
    assert ed.sign(b"m") == ed.sign(b"m")  # Ed25519 is deterministic
    assert len(base64.b64decode(sample_keys["rsa-2048"].sign(b"m"))) == 256
    der = base64.b64decode(sample_keys["ecdsa-p256"].sign(b"m"))
    assert der[0] == 0x30 and len(der) <= 72


@pytest.mark.skipif(not HAVE_CRYPTOGRAPHY, reason="cryptography not importable")
def test_verify_signatures_made_by_cryptography(sample_keys, tmp_path):
    """The other direction: signatures made by an independent implementation
    verify with libsbprov (keys loaded from files cryptography wrote)."""
    data = b"made elsewhere"
    privs = {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ecdsa-p256": ec.generate_private_key(ec.SECP256R1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    for kind, priv in privs.items():
        if kind == "ed25519":
            sig = priv.sign(data)
        elif kind == "ecdsa-p256":
            sig = priv.sign(data, ec.ECDSA(hashes.SHA256()))
        else:
            sig = priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        pub_pem = priv.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        with keys.from_public_pem(pub_pem) as pub:
            assert pub.type == kind and not pub.has_private
            assert pub.public_pem == pub_pem
            pub.verify(data, base64.b64encode(sig).decode())
            raises(sbprov.SignatureError, sbprov.ESIGNATURE, pub.verify, data + b"x", base64.b64encode(sig))
        path = tmp_path / f"{kind}.pem"
        path.write_bytes(priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        with keys.load(path) as loaded:
            assert loaded.public_pem == pub_pem
            if kind == "ed25519":
                assert loaded.sign(data) == base64.b64encode(sig).decode()


def test_verify_accepts_bytes_like_and_refuses_str(sample_keys):
    key = sample_keys["ed25519"]
    sig = key.sign(b"data")
    assert key.sign(bytearray(b"data")) == sig
    assert key.sign(memoryview(b"xdatax")[1:5]) == sig
    key.verify(bytearray(b"data"), sig)
    key.verify(memoryview(b"data"), sig.encode())
    key.verify(b"data", bytearray(sig.encode()))
    for bad in ("data", None, 5, ["d"]):
        with pytest.raises(TypeError):
            key.sign(bad)
        with pytest.raises(TypeError):
            key.verify(bad, sig)
    with pytest.raises(TypeError, match="str"):
        key.sign("text")
    with pytest.raises(TypeError):
        key.verify(b"data", None)


@pytest.mark.parametrize("kind", [k for k, _, _ in KINDS])
def test_verify_failures(sample_keys, kind):
    key = sample_keys[kind]
    data = b"payload"
    sig = key.sign(data)
    raw = bytearray(base64.b64decode(sig))
    raw[len(raw) // 2] ^= 0x01
    tampered = base64.b64encode(bytes(raw)).decode()
    e = raises(sbprov.SignatureError, sbprov.ESIGNATURE, key.verify, data, tampered)
    assert not isinstance(e, ValueError)
    raises(sbprov.SignatureError, sbprov.ESIGNATURE, key.verify, data + b"x", sig)
    raises(sbprov.SignatureError, sbprov.ESIGNATURE, key.verify, data, base64.b64encode(bytes(raw[:-1])))
    other = keys.generate("ed25519" if kind != "ed25519" else "ecdsa-p256")
    raises(sbprov.SignatureError, sbprov.ESIGNATURE, other.verify, data, sig)
    raises(sbprov.Base64Error, sbprov.EBASE64, key.verify, data, "not base64!")
    raises(sbprov.Base64Error, sbprov.EBASE64, key.verify, data, sig[:-1])  # length not a multiple of 4
    raises(sbprov.Base64Error, sbprov.EBASE64, key.verify, data, "")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.verify, data, sig + "\0", match="NUL")


# --------------------------------------------------------------------------
# Public keys
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [k for k, _, _ in KINDS])
def test_from_public_pem(sample_keys, kind):
    key = sample_keys[kind]
    pem = key.public_pem
    for given in (pem, pem.encode(), bytearray(pem.encode()), memoryview(pem.encode())):
        with keys.from_public_pem(given) as pub:
            assert pub.type == key.type and pub.bits == key.bits and pub.has_private is False
            assert pub.public_pem == pem and pub.fingerprint == key.fingerprint
            sig = key.sign(b"m")
            pub.verify(b"m", sig)
            raises(sbprov.InvalidKeyError, sbprov.EKEY, pub.sign, b"m", match="public only")
            raises(sbprov.InvalidKeyError, sbprov.EKEY, pub.csr, "gw-1")


def test_from_public_pem_pkcs1_rsa(rsa2048, tmp_path):
    (tmp_path / "spki.pem").write_text(rsa2048.public_pem)
    pkcs1 = openssl("rsa", "-pubin", "-in", str(tmp_path / "spki.pem"), "-RSAPublicKey_out").stdout.decode()
    assert "BEGIN RSA PUBLIC KEY" in pkcs1
    with keys.from_public_pem(pkcs1) as pub:
        assert pub.public_pem == rsa2048.public_pem  # given back as SPKI, never PKCS#1
        pub.verify(b"m", rsa2048.sign(b"m"))


def test_from_public_pem_errors(sample_keys, tmp_path):
    pem = sample_keys["ecdsa-p256"].public_pem
    body = pem.splitlines()
    body[1] = body[1][:10] + ("A" if body[1][10] != "A" else "B") + body[1][11:]
    for garbage in ("", "garbage", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
                    "\n".join(body) + "\n", pem.replace("PUBLIC KEY", "CERTIFICATE"), b"\x00\xff" * 10):
        raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.from_public_pem, garbage)
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.from_public_pem, b"x" * 70000)
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.from_public_pem, pem.encode() + b"\0", match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.from_public_pem, pem + "\0", match="NUL")
    # unsupported algorithms and sizes
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp384r1", "-out",
            str(tmp_path / "p384.pem"))
    p384 = openssl("pkey", "-in", str(tmp_path / "p384.pem"), "-pubout").stdout
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.from_public_pem, p384, match="secp384r1")
    with pytest.raises(TypeError):
        keys.from_public_pem(None)


# --------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [k for k, _, _ in KINDS])
def test_save_and_load_round_trip(tmp_path, sample_keys, kind):
    key = sample_keys[kind]
    path = tmp_path / "device.key"
    key.save(path)
    text = path.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with keys.load(path) as loaded:
        assert loaded.public_pem == key.public_pem and loaded.has_private
        loaded.verify(b"m", key.sign(b"m"))
        key.verify(b"m", loaded.sign(b"m"))
    # openssl reads it and derives the same public key
    assert openssl("pkey", "-in", str(path), "-pubout").stdout.decode() == key.public_pem
    assert sorted(os.listdir(tmp_path)) == ["device.key"]  # no temporary file left


def test_save_mode_ignores_umask(tmp_path, sample_keys):
    old = os.umask(0)
    try:
        sample_keys["ed25519"].save(tmp_path / "k.pem")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600


def test_save_exists_and_overwrite(tmp_path, sample_keys):
    path = tmp_path / "k.pem"
    path.write_text("old content\n")
    path.chmod(0o644)
    e = raises(sbprov.AlreadyExistsError, sbprov.EEXISTS, sample_keys["ed25519"].save, path)
    assert isinstance(e, FileExistsError) and e.errno == errno.EEXIST
    assert path.read_text() == "old content\n"  # untouched
    sample_keys["ed25519"].save(str(path), overwrite=True)
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sample_keys["ecdsa-p256"].save(os.fsencode(path), overwrite=True)
    with keys.load(path) as loaded:
        assert loaded.type == "ecdsa-p256"
    assert sorted(os.listdir(tmp_path)) == ["k.pem"]


def test_save_errors(tmp_path, sample_keys):
    key = sample_keys["ed25519"]
    e = raises(sbprov.FileSystemError, sbprov.EIO, key.save, tmp_path / "no" / "dir" / "k.pem")
    assert isinstance(e, OSError) and e.errno == errno.EIO
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.save, tmp_path / "k.pem", passphrase="", match="empty")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.save, tmp_path / "k.pem", passphrase=b"a\0b",
           match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.save, tmp_path / "k.pem", passphrase="a\0b",
           match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.save, tmp_path / "k.pem", passphrase="p" * 1024,
           match="1023")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.save, str(tmp_path / "k.pem") + "\0", match="NUL")
    with keys.from_public_pem(key.public_pem) as pub:
        raises(sbprov.InvalidKeyError, sbprov.EKEY, pub.save, tmp_path / "k.pem", match="public only")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError):
        key.save(None)
    with pytest.raises(TypeError):
        key.save(tmp_path / "k.pem", passphrase=5)
    with pytest.raises(TypeError):
        key.save(tmp_path / "k.pem", overwrite="yes")


@pytest.mark.parametrize("passphrase", ["correct horse", b"correct horse", bytearray(b"\xffbin\x01ary"),
                                        "p" * 1023])
def test_encrypted_round_trip(tmp_path, sample_keys, passphrase):
    key = sample_keys["ecdsa-p256"]
    path = tmp_path / "enc.pem"
    key.save(path, passphrase=passphrase)
    assert path.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with keys.load(path, passphrase=passphrase) as loaded:
        assert loaded.public_pem == key.public_pem
    raw = passphrase.encode() if isinstance(passphrase, str) else bytes(passphrase)
    if b"\xff" not in raw:
        out = openssl("pkey", "-in", str(path), "-passin", "pass:" + raw.decode(), "-pubout").stdout.decode()
        assert out == key.public_pem


def test_load_passphrase_errors(tmp_path, sample_keys):
    path = tmp_path / "enc.pem"
    sample_keys["ed25519"].save(path, passphrase="right")
    e = raises(sbprov.PassphraseError, sbprov.EPASSPHRASE, keys.load, path, match="no passphrase")
    assert isinstance(e, sbprov.InvalidInputError)
    raises(sbprov.PassphraseError, sbprov.EPASSPHRASE, keys.load, path, passphrase="wrong",
           match="wrong passphrase")
    raises(sbprov.PassphraseError, sbprov.EPASSPHRASE, keys.load, path, passphrase="")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.load, path, passphrase=b"r\0ght", match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.load, path, passphrase="x" * 1024)
    # a passphrase for an unencrypted key is simply not needed
    sample_keys["ed25519"].save(tmp_path / "plain.pem")
    with keys.load(tmp_path / "plain.pem", passphrase="unused") as k:
        assert k.has_private


def test_load_errors(tmp_path):
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, keys.load, tmp_path / "missing.pem", match="No such file")
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, keys.load, f"file:{tmp_path}/missing.pem")
    (tmp_path / "garbage.pem").write_bytes(b"garbage\n")
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, keys.load, tmp_path / "garbage.pem", match="no private key")
    raises(sbprov.FileSystemError, sbprov.EIO, keys.load, tmp_path)  # a directory
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.load, "", match="empty")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.load, str(tmp_path) + "\0x", match="NUL")
    # unsupported keys
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(tmp_path / "r.pem"))
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.load, tmp_path / "r.pem", match="1024 bits")
    openssl("genpkey", "-algorithm", "ED448", "-out", str(tmp_path / "ed448.pem"))
    raises(sbprov.InvalidKeyError, sbprov.EKEY, keys.load, tmp_path / "ed448.pem")
    # a public key is not a private key
    openssl("pkey", "-in", str(tmp_path / "ed448.pem"), "-pubout", "-out", str(tmp_path / "pub.pem"))
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, keys.load, tmp_path / "pub.pem", match="public key")
    # providers, configuration and URI schemes
    raises(sbprov.ProviderError, sbprov.EPROVIDER, keys.load, "nosuchscheme:key", match="nosuchscheme")
    raises(sbprov.ProviderError, sbprov.EPROVIDER, keys.load, tmp_path / "r.pem",
           providers=["no-such-provider"], match="no-such-provider")
    raises(sbprov.ProviderError, sbprov.EPROVIDER, keys.load, tmp_path / "r.pem",
           openssl_conf=tmp_path / "missing.cnf", match="missing.cnf")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, keys.load, tmp_path / "r.pem", providers=["a,b"])
    assert isinstance(sbprov.ProviderError(sbprov.EPROVIDER, ""), sbprov.CryptoError)
    with pytest.raises(TypeError):
        keys.load(None)
    with pytest.raises(TypeError):
        keys.load(tmp_path / "r.pem", providers=5)


def test_load_openssl_generated_keys_with_options(tmp_path):
    """Keys written by the openssl CLI, loaded with explicit providers and a
    property query, sign verifiably."""
    specs = {"ed25519": ["-algorithm", "ED25519"],
             "ecdsa-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
             "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]}
    for kind, args in specs.items():
        path = tmp_path / f"{kind}.pem"
        openssl("genpkey", *args, "-out", str(path))
        pub = openssl("pkey", "-in", str(path), "-pubout").stdout.decode()
        for opts in ({}, {"providers": ["default"]}, {"providers": "default"},
                     {"propquery": "provider=default"}, {"providers": [], "propquery": None}):
            with keys.load(f"file:{path}" if opts else path, **opts) as key:
                assert key.type == kind and key.public_pem == pub
                sig = key.sign(b"msg")
                assert verify_openssl(tmp_path / "v", kind, pub, b"msg", sig)


def test_generate_with_path(tmp_path):
    path = tmp_path / "gen.pem"
    key = keys.generate("ecdsa-p256", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with keys.load(path) as loaded:
        assert loaded.public_pem == key.public_pem
    key.verify(b"x", key.sign(b"x"))  # the returned key is usable
    e = raises(sbprov.AlreadyExistsError, sbprov.EEXISTS, keys.generate, "ed25519", path)
    assert isinstance(e, FileExistsError)
    with keys.load(path) as loaded:
        assert loaded.type == "ecdsa-p256"  # not replaced
    key2 = keys.generate("ed25519", str(path), overwrite=True, passphrase=b"pw")
    with keys.load(path, passphrase="pw") as loaded:
        assert loaded.public_pem == key2.public_pem
    raises(sbprov.FileSystemError, sbprov.EIO, keys.generate, "ed25519", tmp_path / "x" / "y.pem")
    assert sorted(os.listdir(tmp_path)) == ["gen.pem"]


# --------------------------------------------------------------------------
# CSRs
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [k for k, _, _ in KINDS])
def test_csr(tmp_path, sample_keys, kind):
    key = sample_keys[kind]
    csr = key.csr("gw-0001", ["DNS:gw1.example", "IP:10.0.0.7", "URI:urn:x"])
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    assert csr.endswith("-----END CERTIFICATE REQUEST-----\n")
    (tmp_path / "req.pem").write_text(csr)
    proc = openssl("req", "-in", str(tmp_path / "req.pem"), "-noout", "-verify", "-text")
    text = proc.stdout.decode() + proc.stderr.decode()
    assert "verify OK" in text
    assert "CN = gw-0001" in text or "CN=gw-0001" in text
    assert "DNS:gw1.example" in text and "IP Address:10.0.0.7" in text and "URI:urn:x" in text
    pub = openssl("req", "-in", str(tmp_path / "req.pem"), "-noout", "-pubkey").stdout.decode()
    assert pub == key.public_pem
    if HAVE_CRYPTOGRAPHY:
        req = cx509.load_pem_x509_csr(csr.encode())
        assert req.is_signature_valid
        assert req.subject.get_attributes_for_oid(cx509.NameOID.COMMON_NAME)[0].value == "gw-0001"
        san = req.extensions.get_extension_for_class(cx509.SubjectAlternativeName).value
        assert san.get_values_for_type(cx509.DNSName) == ["gw1.example"]
    # without SANs, and with a comma-separated str
    plain = key.csr("gw-0001")
    (tmp_path / "plain.pem").write_text(plain)
    text = openssl("req", "-in", str(tmp_path / "plain.pem"), "-noout", "-text").stdout.decode()
    assert "Subject Alternative Name" not in text
    assert key.csr("gw-0001", "DNS:a.example,DNS:b.example").startswith("-----BEGIN CERTIFICATE REQUEST")
    assert key.csr("gw-0001", []).startswith("-----BEGIN CERTIFICATE REQUEST")


def test_csr_errors(sample_keys):
    key = sample_keys["ed25519"]
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "", match="empty")
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "x" * 65, match="64")
    key.csr("x" * 64)
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "bad\x01cn")
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "gw", ["FOO:bar"], match="FOO:bar")
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "gw", ["DNS:"])
    raises(sbprov.IdentifierError, sbprov.EID, key.csr, "gw", ["DNS:a,DNS:b"], match="','")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, key.csr, "gw\0", match="NUL")
    with pytest.raises(TypeError):
        key.csr(None)
    with pytest.raises(TypeError):
        key.csr("gw", 5)
    with pytest.raises(TypeError):
        key.csr("gw", [5])


# --------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------

def test_lifecycle():
    with keys.generate() as key:
        assert not key.closed
        sig = key.sign(b"m")
    assert key.closed and repr(key) == "<sbprov.keys.Key closed>"
    key.close()
    key.close()
    for use in (lambda: key.sign(b"m"), lambda: key.verify(b"m", sig), lambda: key.public_pem,
                lambda: key.fingerprint, lambda: key.type, lambda: key.bits, lambda: key.has_private,
                lambda: key.csr("gw"), lambda: key.save("/tmp/never-written.pem")):
        e = raises(sbprov.InvalidInputError, sbprov.EINVAL, use, match="after close")
        assert "Key" in e.message
    with pytest.raises(sbprov.InvalidInputError):
        with key:
            pass
    assert not os.path.exists("/tmp/never-written.pem")


def test_close_releases_at_once_and_gc():
    key = keys.generate()
    proxy = weakref.ref(key._handle)
    key.close()
    assert proxy() is None
    for _ in range(200):
        k = keys.generate("ecdsa-p256")
        k.sign(b"x")
        del k
    gc.collect()


def test_exception_inside_with_closes():
    with pytest.raises(RuntimeError):
        with keys.generate() as key:
            raise RuntimeError("boom")
    assert key.closed


# --------------------------------------------------------------------------
# Threads and the GIL
# --------------------------------------------------------------------------

def test_rsa4096_generation_releases_the_gil():
    """A slow RSA-4096 generation in one thread; this thread keeps running
    Python code meanwhile (with the GIL held by the call it would stall)."""
    result = {}
    started = threading.Event()

    def gen():
        started.set()
        start = time.monotonic()
        result["key"] = keys.generate("rsa-4096")
        result["time"] = time.monotonic() - start

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        t = threading.Thread(target=gen)
        t.start()
        started.wait()
        ticks = [time.monotonic()]
        while t.is_alive():
            ticks.append(time.monotonic())
        t.join()
    finally:
        sys.setswitchinterval(old)
    key = result["key"]
    assert key.bits == 4096
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # This thread ticked all along the generation...
    assert ticks[-1] - ticks[0] >= 0.8 * result["time"], (ticks[-1] - ticks[0], result["time"])
    assert len(ticks) > 100, len(ticks)
    # ...and never paused for long: with the GIL held by the C call it would
    # have stalled for the whole generation (about a second or more).
    assert max(gaps) < max(0.05, result["time"] / 3), (max(gaps), result["time"])


def test_shared_key_between_threads(rsa2048, tmp_path):
    """One key, many threads: signing releases the GIL, and the key's lock
    keeps the C handle to one thread at a time. Errors stay per thread."""
    failures = []
    pem = rsa2048.public_pem
    pub = keys.from_public_pem(pem)

    def work(t):
        try:
            for i in range(20):
                data = f"t{t}-{i}".encode()
                sig = rsa2048.sign(data)
                pub.verify(data, sig)
                rsa2048.verify(data, sig)
                with pytest.raises(sbprov.SignatureError):
                    pub.verify(data + b"!", sig)
                with pytest.raises(sbprov.IdentifierError) as info:
                    rsa2048.csr("x" * (65 + t))
                assert f"{65 + t} characters" in info.value.message
        except BaseException as e:  # reported below
            failures.append((t, repr(e)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:3]
    sig = rsa2048.sign(b"final")
    assert verify_openssl(tmp_path, "rsa", pem, b"final", sig)


def test_close_while_signing_elsewhere_is_safe():
    key = keys.generate("rsa-2048")
    stop = threading.Event()
    errors = []

    def signer():
        while not stop.is_set():
            try:
                key.sign(b"x" * 1000)
            except sbprov.InvalidInputError:
                return  # closed: the expected end
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(repr(e))
                return

    threads = [threading.Thread(target=signer) for _ in range(3)]
    for th in threads:
        th.start()
    time.sleep(0.05)
    key.close()
    stop.set()
    for th in threads:
        th.join()
    assert not errors, errors
