"""sbprov.store: the credential store (mapping API, errors, env files)."""
import os
import pickle
import threading

import pytest

import sbprov
from sbprov import keys
from sbprov import store as st

FAST = 10  # scrypt cost for tests


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "store.key"
    st.create_key_file(path)
    return path


@pytest.fixture
def s(tmp_path, key):
    with st.Store(tmp_path / "store", key_file=key) as store:
        yield store


def test_round_trip_and_mapping(s):
    assert len(s) == 0 and list(s) == [] and "a" not in s
    s["b.two"] = b"second"
    s["a-one"] = bytearray(b"first")
    s["c_3"] = memoryview(b"third")
    assert s["a-one"] == b"first" and type(s["a-one"]) is bytes
    assert list(s) == ["a-one", "b.two", "c_3"] and list(s.keys()) == list(s)
    assert len(s) == 3 and "b.two" in s and "zz" not in s
    assert s.get("missing") is None and s.get("c_3") == b"third"
    assert dict(s.items())["b.two"] == b"second"
    s["a-one"] = b"replaced"
    assert s["a-one"] == b"replaced"
    del s["a-one"]
    assert "a-one" not in s and len(s) == 2
    s["empty"] = b""
    assert s["empty"] == b""


def test_binary_and_large_values(s):
    binary = bytes(range(256)) * 3 + b"\0\0end\0"
    s["bin"] = binary
    assert s["bin"] == binary
    big = os.urandom(st.VALUE_MAX)
    s["big"] = big
    assert s["big"] == big
    with pytest.raises(sbprov.InvalidInputError):
        s["too-big"] = big + b"x"
    assert "too-big" not in s


def test_persistence_and_reopen(tmp_path, key):
    with st.Store(tmp_path / "d", key_file=key) as a:
        a["x"] = b"1"
    with st.Store(tmp_path / "d", key_file=key, create=False) as b:
        assert b["x"] == b"1"
    with pytest.raises(sbprov.NotFoundError):
        st.Store(tmp_path / "nothing", key_file=key, create=False)


def test_encrypted_on_disk(s, tmp_path):
    s["secret"] = b"very-secret-value"
    raw = (tmp_path / "store" / "e.secret").read_bytes()
    assert b"very-secret-value" not in raw


def test_str_value_refused(s):
    with pytest.raises(TypeError, match="not str"):
        s["x"] = "text"
    with pytest.raises(TypeError):
        s["x"] = 42
    with pytest.raises(TypeError):
        s[1] = b"x"


def test_missing_entry_is_key_error(s):
    with pytest.raises(KeyError) as info:
        s["missing"]
    assert isinstance(info.value.__cause__, sbprov.NotFoundError)
    with pytest.raises(KeyError):
        del s["missing"]


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a b", "x" * 129, "é"])
def test_bad_names(s, bad):
    with pytest.raises(sbprov.IdentifierError):
        s[bad] = b"v"
    with pytest.raises(sbprov.IdentifierError):
        s[bad]
    assert bad not in s


def test_nul_in_name_refused(s):
    with pytest.raises(sbprov.InvalidInputError):
        s["a\0b"] = b"v"
    assert "a\0b" not in s


def test_passphrase_store(tmp_path):
    d = tmp_path / "p"
    with st.Store(d, passphrase="correct horse", scrypt_log2_n=FAST) as s:
        s["k"] = b"v"
    with st.Store(d, passphrase=b"correct horse") as s:
        assert s["k"] == b"v"
    with pytest.raises(sbprov.PassphraseError):
        st.Store(d, passphrase="wrong")


def test_wrong_key_file(tmp_path, key):
    with st.Store(tmp_path / "k", key_file=key) as s:
        s["k"] = b"v"
    other = tmp_path / "other.key"
    st.create_key_file(other)
    with pytest.raises(sbprov.InvalidKeyError):
        st.Store(tmp_path / "k", key_file=other)
    with pytest.raises(sbprov.InvalidKeyError):
        st.Store(tmp_path / "k", plaintext=True)


def test_key_source_required(tmp_path, key):
    with pytest.raises(sbprov.InvalidInputError):
        st.Store(tmp_path / "x")
    with pytest.raises(sbprov.InvalidInputError):
        st.Store(tmp_path / "x", key_file=key, plaintext=True)


def test_create_key_file(tmp_path, key):
    assert key.stat().st_size == st.KEY_SIZE
    assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(sbprov.AlreadyExistsError):
        st.create_key_file(key)
    with pytest.raises(FileExistsError):
        st.create_key_file(key)


def test_tampered_entry(s, tmp_path):
    s["victim"] = b"value"
    path = tmp_path / "store" / "e.victim"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(sbprov.TamperedError) as info:
        s["victim"]
    assert info.value.code == sbprov.ETAMPERED
    assert not isinstance(info.value, ValueError)


def test_moved_entry_is_tampered(s, tmp_path):
    s["a"] = b"A"
    s["b"] = b"B"
    d = tmp_path / "store"
    os.replace(d / "e.a", d / "e.b")
    with pytest.raises(sbprov.TamperedError):
        s["b"]


def test_unsafe_directory(tmp_path, key):
    d = tmp_path / "u"
    st.Store(d, key_file=key).close()
    os.chmod(d, 0o777)
    try:
        with pytest.raises(sbprov.UnsafeError) as info:
            st.Store(d, key_file=key)
        assert isinstance(info.value, PermissionError) and info.value.code == sbprov.EUNSAFE
    finally:
        os.chmod(d, 0o700)


def test_unsafe_key_file(tmp_path, key):
    os.chmod(key, 0o644)
    with pytest.raises(sbprov.UnsafeError):
        st.Store(tmp_path / "x", key_file=key)


def test_plaintext_store(tmp_path):
    with st.Store(tmp_path / "plain", plaintext=True) as s:
        s["v"] = b"visible"
        assert s["v"] == b"visible"


def test_swap(s):
    s["primary"] = b"P"
    s["secondary"] = b"S"
    s.swap("primary", "secondary")
    assert (s["primary"], s["secondary"]) == (b"S", b"P")
    with pytest.raises(sbprov.NotFoundError):
        s.swap("primary", "missing")
    with pytest.raises(sbprov.InvalidInputError):
        s.swap("primary", "primary")


@pytest.mark.parametrize("fmt", ["docker", "systemd"])
def test_env_round_trip(tmp_path, s, fmt):
    s["DB_PASSWORD"] = b"p@ss w=rd"
    s["TOKEN"] = 'quote " dollar $ back \\ tick ` ü'.encode()
    s["not-a-var"] = b"x"
    out = tmp_path / f"env.{fmt}"
    s.export_env(["TOKEN", "DB_PASSWORD"], out, format=fmt)
    assert out.stat().st_mode & 0o777 == 0o600
    text = out.read_text()
    if fmt == "docker":
        assert text.splitlines()[1] == "DB_PASSWORD=p@ss w=rd"
    else:
        assert 'DB_PASSWORD="p@ss w=rd"' in text and '\\$' in text
    with st.Store(tmp_path / "copy", key_file=tmp_path / "store.key") as c:
        c.import_env(out, format=fmt)
        assert c["TOKEN"] == s["TOKEN"] and c["DB_PASSWORD"] == s["DB_PASSWORD"]
        assert sorted(c) == ["DB_PASSWORD", "TOKEN"]
    with pytest.raises(sbprov.IdentifierError):
        s.export_env(["not-a-var"], out, format=fmt)


def test_env_value_a_format_cannot_carry(tmp_path, s):
    s["NL"] = b"line1\nline2"
    s["BIN"] = b"\xff\x00"
    out = tmp_path / "env"
    with pytest.raises(sbprov.ParseError):
        s.export_env(["NL"], out, format="docker")
    assert not out.exists()
    s.export_env(["NL"], out, format="systemd")
    with pytest.raises(sbprov.ParseError):
        s.export_env(["BIN"], out, format="systemd")
    with pytest.raises(sbprov.NotFoundError):
        s.export_env(["MISSING"], out)
    with pytest.raises(sbprov.InvalidInputError):
        s.export_env(["NL"], out, format="ini")


def test_export_all(tmp_path, s):
    s["A"] = b"1"
    s["B"] = b"2"
    s.export_env(None, tmp_path / "all")
    assert (tmp_path / "all").read_text() == "A=1\nB=2\n"


def test_import_malformed(tmp_path, s):
    bad = tmp_path / "bad.env"
    bad.write_text("A=1\nno equals sign\n")
    with pytest.raises(sbprov.ParseError):
        s.import_env(bad)
    assert "A" not in s


def test_lifecycle(tmp_path, key):
    s = st.Store(tmp_path / "l", key_file=key)
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(sbprov.InvalidInputError):
        s["x"]
    with pytest.raises(sbprov.InvalidInputError):
        len(s)
    with pytest.raises(TypeError):
        pickle.dumps(st.Store(tmp_path / "l", key_file=key))


def test_threads_share_a_store(s):
    errors = []

    def work(i):
        try:
            for j in range(20):
                s[f"t{i}-{j}"] = bytes([i, j])
                assert s[f"t{i}-{j}"] == bytes([i, j])
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(s) == 80


# ---- a store key sealed to a device key --------------------------------------

@pytest.fixture(scope="module", params=["ecdsa-p256", "rsa-2048"])
def sealing_pem(request, tmp_path_factory):
    """A private key file of each kind that can seal (EC P-256, RSA)."""
    path = tmp_path_factory.mktemp("sealing") / f"{request.param}.pem"
    keys.generate(request.param, path).close()
    return path


def test_sealed_round_trip(tmp_path, sealing_pem):
    d = tmp_path / "sealed"
    with keys.load(sealing_pem) as k:
        with st.Store(d, sealing_key=k) as s:
            s["azure.primary"] = b"sealed \0 secret"
        fingerprint = k.fingerprint
        rsa = k.type == "rsa"
    meta = (d / ".sbprov-store").read_text()
    assert "kdf=sealed\n" in meta and f"seal_key={fingerprint}\n" in meta
    assert ("seal=rsa-oaep-sha256\n" if rsa else "seal=ecdh-p256\n") in meta
    # Another Key object loaded from the same file opens it; the Key may be
    # closed once the store is open.
    k = keys.load(sealing_pem)
    s = st.Store(d, sealing_key=k, create=False)
    k.close()
    assert s["azure.primary"] == b"sealed \0 secret"
    s["more"] = b"x"
    s.close()
    raw = (d / "e.azure.primary").read_bytes()
    assert b"sealed \0 secret" not in raw


def test_sealed_wrong_key(tmp_path, sealing_pem):
    d = tmp_path / "sealed"
    with keys.load(sealing_pem) as k:
        st.Store(d, sealing_key=k).close()
        kind = "rsa-2048" if k.type == "rsa" else k.type
        fingerprint = k.fingerprint
    with keys.generate(kind) as other:
        with pytest.raises(sbprov.InvalidKeyError) as info:
            st.Store(d, sealing_key=other)
        assert info.value.code == sbprov.EKEY
        assert fingerprint in str(info.value) and other.fingerprint in str(info.value)
    # The store's key source is the sealing key: a key file or a passphrase is refused.
    key_file = tmp_path / "store.key"
    st.create_key_file(key_file)
    with pytest.raises(sbprov.InvalidKeyError, match="no sealing key was given"):
        st.Store(d, key_file=key_file)
    with pytest.raises(sbprov.InvalidKeyError, match="no sealing key was given"):
        st.Store(d, passphrase="pw")
    # And a key-file store is not opened with a sealing key.
    with st.Store(tmp_path / "kf", key_file=key_file):
        pass
    with keys.load(sealing_pem) as k, pytest.raises(sbprov.InvalidKeyError):
        st.Store(tmp_path / "kf", sealing_key=k)


def test_sealed_ed25519_refused(tmp_path):
    with keys.generate("ed25519") as ed:
        with pytest.raises(sbprov.InvalidKeyError, match="Ed25519") as info:
            st.Store(tmp_path / "ed", sealing_key=ed)
        assert info.value.code == sbprov.EKEY
    assert not (tmp_path / "ed" / ".sbprov-store").exists()


def test_sealed_public_only_refused(tmp_path, sealing_pem):
    with keys.load(sealing_pem) as k, keys.from_public_pem(k.public_pem) as pub:
        assert not pub.has_private
        with pytest.raises(sbprov.InvalidKeyError, match="no private part") as info:
            st.Store(tmp_path / "pub", sealing_key=pub)
        assert info.value.code == sbprov.EKEY
        # Not for opening either.
        st.Store(tmp_path / "s", sealing_key=k).close()
        with pytest.raises(sbprov.InvalidKeyError, match="no private part"):
            st.Store(tmp_path / "s", sealing_key=pub)
    assert not (tmp_path / "pub" / ".sbprov-store").exists()


def test_sealed_exactly_one_source(tmp_path, key):
    with keys.generate("ecdsa-p256") as k:
        for other in ({"key_file": key}, {"passphrase": "pw"}, {"plaintext": True}):
            with pytest.raises(sbprov.InvalidInputError, match="exactly one of") as info:
                st.Store(tmp_path / "x", sealing_key=k, **other)
            assert info.value.code == sbprov.EINVAL
    assert not (tmp_path / "x" / ".sbprov-store").exists()


def test_sealing_key_argument_checks(tmp_path, key):
    with pytest.raises(TypeError, match="sealing_key"):
        st.Store(tmp_path / "x", sealing_key=str(key))
    k = keys.generate("ecdsa-p256")
    k.close()
    with pytest.raises(sbprov.InvalidInputError, match="after close"):
        st.Store(tmp_path / "x", sealing_key=k)
    with pytest.raises(TypeError):
        st.Store(tmp_path / "x", key, None, False, True, k)  # keyword only


def test_sealed_open_releases_gil_and_key_lock(tmp_path, sealing_pem):
    """Threads opening sealed stores with one shared Key (its lock
    serialises the C key) while the GIL is released."""
    errors = []
    with keys.load(sealing_pem) as k:
        def work(i):
            try:
                with st.Store(tmp_path / f"t{i}", sealing_key=k) as s:
                    s["v"] = bytes([i])
                with st.Store(tmp_path / f"t{i}", sealing_key=k, create=False) as s:
                    assert s["v"] == bytes([i])
            except Exception as e:  # pragma: no cover
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
