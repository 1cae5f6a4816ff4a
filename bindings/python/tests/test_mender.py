"""sbprov.mender against the real stack: the Go Mender emulator behind nginx
with TLS on loopback (tests/emulators/stack.py, started once per session by
the ``mender_stack`` fixture in conftest.py; ``emu`` resets the emulator
before each test and checks afterwards that no request broke the API's
rules). The emulator's control API injects faults and shows what the server
recorded. Argument checks that need no server run without the stack."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import sbprov
from sbprov import keys, mender
from sbprov.identity import Identity
from sbprov.store import Store

AUTH = "/api/devices/v1/authentication"


@pytest.fixture(scope="module")
def rsa_key():
    with keys.generate("rsa-2048") as key:
        yield key


def mac(n: int) -> dict:
    return {"mac": f"02:00:00:00:{n // 256:02x}:{n % 256:02x}"}


def device(emu, identity, key, **kwargs) -> mender.Device:
    kwargs.setdefault("ca", emu.ca)
    kwargs.setdefault("timeout", 10.0)
    kwargs.setdefault("connect_timeout", 3.0)
    return mender.Device(kwargs.pop("url", emu.url), identity, key, **kwargs)


def accepted_device(emu, n: int, **kwargs):
    """(Device, Management, device ID) for a preauthorized, authenticated device."""
    key = keys.generate("ed25519")
    mgmt = emu.management()
    result = mgmt.preauthorize(mac(n), key)
    dev = device(emu, mac(n), key, **kwargs)
    assert dev.authenticate() is True
    assert dev.device_id == result.device_id
    return dev, mgmt, result.device_id


def in_thread(fn, *args):
    """Run fn in a thread; returns (thread, box) where box gets "value" or "error"."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # reported by the test
            box["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, box


# --------------------------------------------------------------------------
# Authentication and preauthorization
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_preauthorized_device_is_accepted(emu, kind, rsa_key):
    key = rsa_key if kind == "rsa" else keys.generate(kind)
    ident = Identity.from_text(f"mac=02:00:00:00:01:0{len(kind)}\nserial=A\nserial=B\n")
    with emu.management() as mgmt:
        first = mgmt.preauthorize(ident, key)
        assert isinstance(first, mender.PreauthResult) and first.existed is False and first.device_id
        # Idempotent: the same identity again (as a Key, as PEM text, as a mapping).
        assert mgmt.preauthorize(ident, key) == mender.PreauthResult(first.device_id, True)
        assert mgmt.preauthorize(dict(ident.items()), key.public_pem).device_id == first.device_id
        assert mgmt.count() == 1 and mgmt.count("preauthorized") == 1

        with device(emu, ident, key) as dev:
            assert dev.token is None and dev.device_id is None and dev.token_expiry is None
            assert dev.authenticate() is True
            assert dev.device_id == first.device_id
            assert dev.token.count(".") == 2
            now = datetime.now(timezone.utc)
            assert now < dev.token_expiry < now + timedelta(days=8)
            info = dev.last_response
            assert info.status == 200 and info.request_id
            assert abs((info.server_date - now).total_seconds()) < 60

        info = mgmt.device(first.device_id)
        assert isinstance(info, mender.DeviceInfo)
        assert info.id == first.device_id and info.status == "accepted"
        assert info.identity == {"mac": ident["mac"][0], "serial": ["A", "B"]}
        assert len(info.auth_sets) == 1
        auth_set = info.auth_sets[0]
        assert isinstance(auth_set, mender.AuthSet) and auth_set.status == "accepted"
        assert keys.from_public_pem(auth_set.pubkey).fingerprint == key.fingerprint
        assert info.json["id"] == first.device_id and info.json["status"] == "accepted"
        assert info.auth_set("accepted") == auth_set and info.auth_set("pending") is None


def test_pending_then_accepted(emu):
    key = keys.generate("ed25519")
    with device(emu, mac(2), key) as dev, emu.management() as mgmt:
        assert dev.authenticate() is False
        assert dev.token is None and dev.device_id is None
        assert dev.last_response.status == 401
        assert mgmt.count("pending") == 1
        info = mgmt.find(mac(2))
        assert info is not None and info.status == "pending"
        assert mgmt.find(mac(3)) is None
        assert mgmt.accept(info.id) == info.auth_sets[0].id
        assert mgmt.device(info.id).status == "accepted"
        assert dev.authenticate() is True
        assert dev.device_id == info.id
        # Nothing pending any more: accept() without an auth set says so.
        with pytest.raises(sbprov.NotFoundError, match="no pending auth set"):
            mgmt.accept(info.id)


def test_until_accepted_while_another_thread_accepts(emu):
    key = keys.generate("ed25519")
    with device(emu, mac(4), key) as dev:
        start = time.monotonic()
        with pytest.raises(sbprov.OperationTimeoutError, match="pending") as info:
            dev.authenticate_until_accepted(0.6, first_interval=0.05, max_interval=0.2)
        assert isinstance(info.value, TimeoutError)
        assert time.monotonic() - start < 3

        def accept_later():
            time.sleep(0.4)
            with emu.management() as mgmt:  # a client of its own, as tooling would
                mgmt.accept(mgmt.find(mac(4)).id)

        th, box = in_thread(accept_later)
        start = time.monotonic()
        dev.authenticate_until_accepted(10, first_interval=0.05, max_interval=0.2)
        th.join(5)
        assert "error" not in box, box
        assert time.monotonic() - start < 5
        assert dev.device_id is not None


def test_until_accepted_honours_retry_after(emu):
    key = keys.generate("ed25519")
    with emu.management() as mgmt:
        mgmt.preauthorize(mac(5), key)
    emu.faults({"route": AUTH, "status": 429, "retry_after": "1", "count": 1})
    with device(emu, mac(5), key) as dev:
        start = time.monotonic()
        dev.authenticate_until_accepted(10, first_interval=0.05, max_interval=0.2)
        assert time.monotonic() - start >= 0.95


def test_cancel_from_another_thread_releases_the_gil(emu):
    """cancel() from another thread stops authenticate_until_accepted: the
    canceller (Python code) can only run because the wait released the GIL,
    and it does not wait for the client's lock."""
    key = keys.generate("ed25519")
    with device(emu, mac(6), key) as dev:
        th, box = in_thread(lambda: (time.sleep(0.3), dev.cancel()))
        start = time.monotonic()
        with pytest.raises(sbprov.CancelledError, match="cancelled"):
            dev.authenticate_until_accepted(10, first_interval=0.05, max_interval=0.2)
        elapsed = time.monotonic() - start
        th.join(5)
        assert "error" not in box, box
        assert 0.25 < elapsed < 2, elapsed
        # The cancel was consumed: the client works again.
        assert dev.authenticate() is False
        # A cancel between calls stops the next call, once.
        dev.cancel()
        with pytest.raises(sbprov.CancelledError):
            dev.authenticate()
        assert dev.authenticate() is False


def test_slow_request_releases_the_gil_and_can_be_cancelled(emu):
    """While a request waits for a slow server, another Python thread keeps
    running; cancel() stops a transfer in progress."""
    key = keys.generate("ed25519")
    emu.faults({"route": AUTH, "delay_ms": 1200, "count": 1})
    with device(emu, mac(7), key) as dev:
        old = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        try:
            th, box = in_thread(dev.authenticate)
            start = time.monotonic()
            ticks = [start]
            while th.is_alive():
                ticks.append(time.monotonic())
            th.join()
        finally:
            sys.setswitchinterval(old)
        assert box.get("value") is False, box
        assert ticks[-1] - start >= 1.1
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert len(ticks) > 100 and max(gaps) < 0.3, (len(ticks), max(gaps))

        emu.faults({"route": AUTH, "delay_ms": 5000, "count": 1})
        th, box = in_thread(dev.authenticate)
        time.sleep(0.3)
        start = time.monotonic()
        dev.cancel()
        th.join(5)
        assert isinstance(box.get("error"), sbprov.CancelledError), box
        assert time.monotonic() - start < 2.5


def test_close_cancels_a_call_in_another_thread(emu):
    key = keys.generate("ed25519")
    dev = device(emu, mac(8), key)
    th, box = in_thread(dev.authenticate_until_accepted, 10, 0.05, 0.2)
    time.sleep(0.3)
    start = time.monotonic()
    dev.close()
    th.join(5)
    assert isinstance(box.get("error"), sbprov.CancelledError), box
    assert time.monotonic() - start < 2
    assert dev.closed
    dev.cancel()  # a no-op once closed
    with pytest.raises(sbprov.InvalidInputError, match="after close"):
        dev.authenticate()


# --------------------------------------------------------------------------
# Device API
# --------------------------------------------------------------------------

def test_inventory_round_trip(emu):
    dev, mgmt, dev_id = accepted_device(emu, 9)
    with dev, mgmt:
        attrs = {
            "artifact_name": "gw-1.4.2",
            "network_interfaces": ["eth0", "wlan0"],
            "rooms": [21.5, 3],
            "cpu_count": 4,
            "temperature": -1.25,
            "single": ["only"],
            "unicode": "Zürich ✓",
        }
        dev.update_inventory(attrs)
        got = {a["name"]: a["value"] for a in emu.emulated_device(dev_id)["inventory"]}
        assert got == {**attrs, "single": "only"}  # a list of one is sent as the value
        assert isinstance(got["rooms"], list) and isinstance(got["cpu_count"], (int, float))

        dev.update_inventory({"extra": b"x"}, replace=False)  # PATCH: merged
        got = {a["name"]: a["value"] for a in emu.emulated_device(dev_id)["inventory"]}
        assert got["extra"] == "x" and got["artifact_name"] == "gw-1.4.2"
        dev.update_inventory({"only": "y"})  # PUT: replaced
        got = {a["name"]: a["value"] for a in emu.emulated_device(dev_id)["inventory"]}
        assert got == {"only": "y"}
        requests = emu.ctl("GET", "/_emu/requests")
        methods = [r["method"] for r in requests if r["path"].endswith("/inventory/device/attributes")]
        assert methods == ["PUT", "PATCH", "PUT"]

        # Refused before anything is sent.
        for bad, exc in (({"flag": True}, TypeError), ({"x": object()}, TypeError), ({1: "x"}, TypeError),
                         ({"x": [1, object()]}, TypeError), ({"x": []}, sbprov.InvalidInputError),
                         ({"x": ["a", 1]}, sbprov.InvalidInputError),
                         ({"x": float("nan")}, sbprov.InvalidInputError),
                         ({"x": "a\0b"}, sbprov.InvalidInputError), ({"": "x"}, sbprov.IdentifierError),
                         ({}, sbprov.InvalidInputError),
                         ({f"a{i}": i for i in range(mender.INVENTORY_MAX + 1)}, sbprov.InvalidInputError)):
            with pytest.raises(exc):
                dev.update_inventory(bad)
        with pytest.raises(TypeError):
            dev.update_inventory([("a", "b")])
        # Merged with what is there, 100 more pass the server's limit (400).
        many = {f"a{i}": i for i in range(mender.INVENTORY_MAX)}
        with pytest.raises(sbprov.RequestRefusedError, match="limit"):
            dev.update_inventory(many, replace=False)
        dev.update_inventory(many)


def test_check_update(emu):
    dev, mgmt, dev_id = accepted_device(emu, 10)
    with dev, mgmt:
        assert dev.check_update("gw-1.0", "raspberrypi4") is None
        emu.ctl("POST", "/_emu/deployments", {
            "device_id": dev_id, "id": "dep-1", "artifact_name": "gw-1.1",
            "uri": "https://s3.example/gw-1.1.mender", "device_types_compatible": ["raspberrypi4"]})
        update = dev.check_update("gw-1.0", "raspberrypi4")
        assert update == mender.Update("dep-1", "gw-1.1", "https://s3.example/gw-1.1.mender", {})
        assert update.json["artifact"]["device_types_compatible"] == ["raspberrypi4"]
        assert dev.check_update("gw-1.0", "other-board") is None  # incompatible: ends for the device
        with pytest.raises(sbprov.InvalidInputError, match="1 to 4096"):
            dev.check_update("", "raspberrypi4")
        with pytest.raises(TypeError):
            dev.check_update(None, "raspberrypi4")


def test_expired_token_is_renewed_and_decommission(emu):
    dev, mgmt, dev_id = accepted_device(emu, 11)
    with dev, mgmt:
        first = dev.token
        emu.ctl("POST", "/_emu/expire-token", {"device_id": dev_id, "now": True})
        assert dev.check_update("gw-1.0", "rpi4") is None
        assert dev.token != first

        mgmt.decommission(dev_id)
        with pytest.raises(sbprov.NotFoundError) as info:
            mgmt.device(dev_id)
        assert isinstance(info.value, LookupError)
        with pytest.raises(sbprov.NotFoundError):
            mgmt.decommission(dev_id)
        with pytest.raises(sbprov.AuthError, match="not accepted"):
            dev.check_update("gw-1.0", "rpi4")
        # Its re-authentication made the server register the identity anew, as pending.
        assert mgmt.count("accepted") == 0 and mgmt.count("pending") == 1


def test_token_store_keeps_the_token(emu, tmp_path):
    key = keys.generate("ecdsa-p256")
    with emu.management() as mgmt:
        mgmt.preauthorize(mac(12), key)
    store = Store(tmp_path / "store", plaintext=True)
    with device(emu, mac(12), key, token_store=store) as dev:
        assert dev.authenticate() is True
        token = dev.token
    assert store["mender.jwt"].decode() == token

    # A restart: the stored token is used without a round trip (the server
    # now refuses every auth request), even after the Store object is closed.
    emu.faults({"route": AUTH, "status": 500})
    dev = device(emu, mac(12), key, token_store=store)
    store.close()
    with dev:
        assert dev.token == token
        assert dev.check_update("gw-1.0", "rpi4") is None
    auths = [r for r in emu.ctl("GET", "/_emu/requests") if r["path"].startswith(AUTH)]
    assert len(auths) == 1  # the first authentication only
    emu.ctl("DELETE", "/_emu/faults")

    with Store(tmp_path / "store", plaintext=True) as store:
        with device(emu, mac(12), key, token_store=store, token_entry="gw.token") as dev:
            assert dev.token is None  # another entry: nothing stored yet
            assert dev.authenticate() is True
            assert store["gw.token"].decode() == dev.token
        with pytest.raises(sbprov.IdentifierError):
            device(emu, mac(12), key, token_store=store, token_entry="bad name")
    with pytest.raises(sbprov.InvalidInputError):
        device(emu, mac(12), key, token_entry="mender.jwt")  # no store
    with pytest.raises(TypeError):
        device(emu, mac(12), key, token_store={})


# --------------------------------------------------------------------------
# Transport: TLS, faults, proxy
# --------------------------------------------------------------------------

def test_tls_failures(emu, tmp_path):
    key = keys.generate("ed25519")
    with device(emu, mac(13), key, ca=emu.env["SBPROV_TEST_OTHER_CA"]) as dev:
        with pytest.raises(sbprov.CertificateError, match="not trusted") as info:
            dev.authenticate()
        assert isinstance(info.value, sbprov.TLSError)
        assert dev.last_response.status == 0
    for variant, reason in (("UNTRUSTED", "not trusted"), ("WRONGHOST", "host"), ("EXPIRED", "expired")):
        with device(emu, mac(13), key, url=emu.env[f"SBPROV_TEST_MENDER_{variant}_URL"]) as dev:
            with pytest.raises(sbprov.CertificateError, match=reason):
                dev.authenticate()
    with pytest.raises(sbprov.CertificateError):
        emu.management(ca=emu.env["SBPROV_TEST_OTHER_CA"])  # the login fails
    with pytest.raises(sbprov.FileSystemError):
        device(emu, mac(13), key, ca=tmp_path / "missing.pem")

    # A directory of hashed CA certificates.
    cadir = tmp_path / "cas"
    cadir.mkdir()
    shutil.copy(emu.ca, cadir / "test-ca.pem")
    subprocess.run(["openssl", "rehash", str(cadir)], check=True, capture_output=True)
    with device(emu, mac(13), key, ca=cadir) as dev:
        assert dev.authenticate() is False

    # Mutual TLS: no client certificate, then an EC one.
    with device(emu, mac(13), key, url=emu.env["SBPROV_TEST_MENDER_MTLS_URL"]) as dev:
        with pytest.raises(sbprov.TLSError, match="client certificate"):
            dev.authenticate()
    with keys.load(emu.env["SBPROV_TEST_CLIENT_KEY_EC"]) as client_key:
        dev = device(emu, mac(13), key, url=emu.env["SBPROV_TEST_MENDER_MTLS_URL"],
                     client_cert=emu.env["SBPROV_TEST_CLIENT_CERT_EC"], client_key=client_key)
    with dev:  # the client keeps its own reference to the client key
        assert dev.authenticate() is False
    with pytest.raises(sbprov.InvalidInputError, match="both"):
        device(emu, mac(13), key, client_cert=emu.env["SBPROV_TEST_CLIENT_CERT_EC"])


def test_plain_http_only_when_allowed(emu):
    key = keys.generate("ed25519")
    plain = emu.env["SBPROV_TEST_MENDER_PLAIN_URL"]
    with pytest.raises(sbprov.InvalidInputError, match="https"):
        mender.Device(plain, mac(14), key)
    with mender.Device(plain, mac(14), key, allow_http=True) as dev:
        assert dev.authenticate() is False


def test_server_errors_and_rate_limit(emu):
    key = keys.generate("ecdsa-p256")
    with device(emu, mac(15), key) as dev:
        emu.faults({"route": AUTH, "status": 503, "count": 1})
        with pytest.raises(sbprov.ServerError, match="503"):
            dev.authenticate()
        assert dev.last_response.status == 503 and dev.last_response.request_id

        emu.faults({"route": AUTH, "status": 429, "retry_after": "7", "count": 1})
        with pytest.raises(sbprov.RateLimitError, match="retry after 7 s"):
            dev.authenticate()
        info = dev.last_response
        assert isinstance(info, mender.ResponseInfo)
        assert info.status == 429 and info.retry_after == 7
        assert isinstance(info.server_date, datetime) and info.server_date.tzinfo is timezone.utc

        emu.faults({"route": AUTH, "status": 400, "count": 1,
                    "body": '{"error":"invalid auth request: bad","request_id":"r-1"}',
                    "content_type": "application/json"})
        with pytest.raises(sbprov.RequestRefusedError, match="invalid auth request: bad") as exc:
            dev.authenticate()
        assert isinstance(exc.value, ValueError)

        emu.faults({"route": AUTH, "status": 200, "count": 1, "content_type": "application/jwt",
                    "body": "not-a-jwt"})
        with pytest.raises(sbprov.ResponseError, match="not a JWT"):
            dev.authenticate()

        emu.faults({"route": AUTH, "delay_ms": 3000, "count": 1})
        with device(emu, mac(15), key, timeout=0.7) as quick:
            with pytest.raises(sbprov.OperationTimeoutError, match="timed out"):
                quick.authenticate()
        assert dev.authenticate() is False  # after the faults, the same client works
    with mender.Device("https://127.0.0.1:1", mac(15), key, connect_timeout=2) as dev:
        with pytest.raises(sbprov.NetworkError) as info:
            dev.authenticate()
        assert isinstance(info.value, ConnectionError)


# Regression: libcurl reports 0 for an absent Retry-After; the library reads the header itself.
def test_retry_after_absent_is_none(emu):
    with mender.Management(emu.url, token=emu.pat, ca=emu.ca) as mgmt:
        assert mgmt.last_response == mender.ResponseInfo(0, None, None, None)
        assert mgmt.count() == 0
        assert mgmt.last_response.status == 200 and mgmt.last_response.retry_after is None


def test_proxy(emu):
    with emu.management(proxy=emu.env["SBPROV_TEST_PROXY_URL"]) as mgmt:
        assert mgmt.count() == 0
    with open(emu.env["SBPROV_TEST_PROXY_LOG"]) as f:
        assert any("CONNECT localhost:" in line for line in f)


# --------------------------------------------------------------------------
# Management
# --------------------------------------------------------------------------

def test_management(emu):
    with pytest.raises(sbprov.AuthError, match="401"):
        emu.management(password="wrong")
    with emu.management(token=emu.pat) as mgmt:
        assert mgmt.count() == 0
        mgmt.set_token("not-the-pat")
        with pytest.raises(sbprov.AuthError):
            mgmt.count()
        with pytest.raises(sbprov.InvalidInputError, match="printable"):
            mgmt.set_token("has space")
        mgmt.login(emu.user, emu.password.encode())
        assert mgmt.count() == 0
    with mender.Management(emu.url, ca=emu.ca) as mgmt:
        with pytest.raises(sbprov.AuthError, match="not logged in"):
            mgmt.count()
        mgmt.login(emu.user, emu.password)
        key = keys.generate("ed25519")
        ids = [mgmt.preauthorize(mac(100 + i), key).device_id for i in range(7)]
        forced = mgmt.preauthorize(mac(106), keys.generate("ed25519"), force=True)
        assert forced == mender.PreauthResult(ids[6], False)
        assert len(mgmt.device(ids[6]).auth_sets) == 2

        assert mgmt.count("preauthorized") == 7
        page = mgmt.devices("preauthorized", page=1, per_page=3)
        assert isinstance(page, mender.DevicePage)
        assert len(page) == 3 and page.has_next and [d.id for d in page] == ids[:3]
        last = mgmt.devices("preauthorized", page=3, per_page=3)
        assert len(last) == 1 and not last.has_next and last[0].id == ids[6]
        assert [d.id for d in mgmt.iter_devices(per_page=3)] == ids
        assert list(mgmt.iter_devices("accepted")) == []
        assert mgmt.devices("accepted").devices == ()

        dev_id = ids[0]
        set_id = mgmt.device(dev_id).auth_sets[0].id
        with pytest.raises(sbprov.NotFoundError):
            mgmt.set_status(dev_id, "no-such-set", "accepted")
        with pytest.raises(sbprov.InvalidInputError, match="not an ID"):
            mgmt.set_status(dev_id, "a/b", "accepted")
        with pytest.raises(sbprov.InvalidInputError, match="accepted, rejected or pending"):
            mgmt.set_status(dev_id, set_id, "maybe")
        with pytest.raises(sbprov.RequestRefusedError):
            mgmt.set_status(dev_id, set_id, "pending")  # preauthorized -> pending is not allowed
        with pytest.raises(sbprov.InvalidInputError, match="status"):
            mgmt.devices("weird")
        with pytest.raises(sbprov.InvalidInputError, match="status"):
            mgmt.count("weird")
        with pytest.raises(sbprov.InvalidInputError, match="per_page"):
            mgmt.devices(per_page=501)
        with pytest.raises(sbprov.InvalidInputError, match="page"):
            mgmt.devices(page=0)
        with pytest.raises(sbprov.InvalidInputError):
            mgmt.preauthorize({}, key)
        with pytest.raises(sbprov.InvalidKeyError):
            mgmt.preauthorize(mac(120), "not a PEM")
        with pytest.raises(TypeError):
            mgmt.preauthorize(mac(120), 42)

        # accept() with several pending auth sets asks which one.
        a, b = keys.generate("ed25519"), keys.generate("ed25519")
        for k in (a, b):
            with device(emu, mac(130), k) as dev:
                assert dev.authenticate() is False
        found = mgmt.find(mac(130))
        assert [s.status for s in found.auth_sets] == ["pending", "pending"]
        with pytest.raises(sbprov.InvalidInputError, match="2 pending auth sets"):
            mgmt.accept(found.id)
        assert mgmt.accept(found.id, found.auth_sets[1].id) == found.auth_sets[1].id
        with device(emu, mac(130), b) as dev:
            assert dev.authenticate() is True
        assert mgmt.last_response.status == 204


def test_management_cancel(emu):
    emu.faults({"route": "/api/management/v2/devauth/devices/count", "delay_ms": 5000, "count": 1})
    with emu.management() as mgmt:
        th, box = in_thread(mgmt.count)
        time.sleep(0.3)
        start = time.monotonic()
        mgmt.cancel()
        th.join(5)
        assert isinstance(box.get("error"), sbprov.CancelledError), box
        assert time.monotonic() - start < 2.5
        assert mgmt.count() == 0


# --------------------------------------------------------------------------
# Arguments and lifecycle (no server needed)
# --------------------------------------------------------------------------

def test_bad_arguments():
    key = keys.generate("ed25519")
    url = "https://localhost:1"
    ident = {"mac": "02:00:00:00:00:01"}
    for bad in ({}, Identity()):
        with pytest.raises(sbprov.IdentifierError, match="no attributes"):
            mender.Device(url, bad, key)
    for bad, exc in (([("mac", "x")], TypeError), ({"mac": 1}, TypeError), ({"mac": [1]}, TypeError),
                     ({"mac": []}, sbprov.InvalidInputError), ({"a=b": "x"}, sbprov.ParseError)):
        with pytest.raises(exc):
            mender.Device(url, bad, key)
    with pytest.raises(TypeError, match="key"):
        mender.Device(url, ident, key.public_pem)
    with pytest.raises(sbprov.InvalidKeyError, match="private"):
        mender.Device(url, ident, keys.from_public_pem(key.public_pem))
    for server in ("http://127.0.0.1:1", "https://h.example/api", "not a url"):
        with pytest.raises(sbprov.InvalidInputError):
            mender.Device(server, ident, key)
    with pytest.raises(TypeError):
        mender.Device(None, ident, key)
    for kwargs, exc in (({"timeout": 0}, sbprov.InvalidInputError), ({"timeout": -1}, sbprov.InvalidInputError),
                        ({"timeout": float("inf")}, sbprov.InvalidInputError), ({"timeout": "5"}, TypeError),
                        ({"timeout": True}, TypeError), ({"connect_timeout": 1e12}, sbprov.InvalidInputError),
                        ({"tenant_token": 5}, TypeError), ({"proxy": 1}, TypeError), ({"allow_http": "yes"}, TypeError),
                        ({"client_key": "k"}, TypeError), ({"ca": ""}, sbprov.InvalidInputError),
                        ({"max_response_size": 0}, sbprov.InvalidInputError), ({"renew_margin": -5}, sbprov.InvalidInputError),
                        ({"tenant_token": "a\0b"}, sbprov.InvalidInputError)):
        with pytest.raises(exc):
            mender.Device(url, ident, key, **kwargs)
    with pytest.raises(TypeError):
        mender.Device(url, ident, key, "positional-tenant-token")
    with mender.Device(url, ident, key) as dev:
        for args, exc in (((0,), sbprov.InvalidInputError), (("10",), TypeError),
                          ((10, 0.05, 0.2, 0), sbprov.InvalidInputError), ((10, 0.05, 0.2, 1.5), TypeError)):
            with pytest.raises(exc):
                dev.authenticate_until_accepted(*args)
        with pytest.raises(TypeError):
            dev.update_inventory({"x": "y"}, replace=None)

    for kwargs in ({"user": "u"}, {"password": "p"}, {"token": "t", "user": "u", "password": "p"}):
        with pytest.raises(sbprov.InvalidInputError):
            mender.Management(url, **kwargs)
    with pytest.raises(TypeError):
        mender.Management(url, "positional-token")
    with mender.Management(url) as mgmt:
        with pytest.raises(sbprov.InvalidInputError, match="':'"):
            mgmt.login("a:b", "x")
        with pytest.raises(TypeError):
            mgmt.login("a", None)
        with pytest.raises(TypeError):
            mgmt.devices(page=1.0)
        with pytest.raises(sbprov.InvalidInputError):
            mgmt.devices(page=-1)
        with pytest.raises(sbprov.InvalidInputError):
            mgmt.device("")


def test_lifecycle():
    key = keys.generate("ed25519")
    dev = mender.Device("https://localhost:1", {"mac": "x"}, key, tenant_token="secret-tenant")
    key.close()  # the client keeps its own reference
    assert repr(dev) == "<sbprov.mender.Device https://localhost:1 open>"
    assert dev.server == "https://localhost:1"
    with pytest.raises(TypeError):
        pickle.dumps(dev)
    with dev as same:
        assert same is dev
    assert dev.closed and "closed" in repr(dev)
    dev.close()  # idempotent
    for use in (lambda: dev.token, lambda: dev.last_response, dev.authenticate,
                lambda: dev.check_update("a", "b")):
        with pytest.raises(sbprov.InvalidInputError, match="after close"):
            use()
    with pytest.raises(sbprov.InvalidInputError):
        with dev:
            pass
    mgmt = mender.Management("https://localhost:1", token="pat-1")
    assert mgmt.last_response.status == 0
    mgmt.close()
    with pytest.raises(sbprov.InvalidInputError):
        mgmt.count()
    with pytest.raises(sbprov.InvalidInputError, match="after close"):
        mender.Device("https://localhost:1", {"mac": "x"}, key)  # a closed key
