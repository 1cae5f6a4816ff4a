"""sbprov.azure over HTTPS against the real stack: the Go Azure emulator (DPS
+ IoT Hub; SAS tokens verified with Go's crypto, enrollment groups checked by
their group key) behind nginx with TLS on loopback (tests/emulators/stack.py,
started once per session with the Mender emulator by the ``network_stack``
fixture in conftest.py). ``azure_emu`` resets the emulator before each test
and checks afterwards that no request broke the APIs' rules, except the kinds
a test provokes on purpose (``azure_emu.expect_violations``). Argument and
lifecycle checks that need no server run without the stack."""

from __future__ import annotations

import base64
import json
import pickle
import re
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import sbprov
from sbprov import azure

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
# DPS registration and telemetry
# --------------------------------------------------------------------------

def test_register_and_send(azure_emu):
    """The whole flow: derive the device key from the group key, register
    (polling the operation once) with a payload, build the connection
    string, send telemetry of every kind and see it recorded."""
    key = azure.derive_device_key(azure_emu.group_key, "gw-berlin-0001")
    with azure_emu.provisioning("gw-berlin-0001", key) as dps:
        assert dps.registration_id == "gw-berlin-0001" and dps.id_scope == azure_emu.id_scope
        reg = dps.register({"site": "berlin", "floor": 4}, timeout=20)
        assert isinstance(reg, azure.Registration) and reg.assigned
        assert reg.status == "assigned" and reg.assigned_hub == azure_emu.hub_host
        assert reg.device_id == "gw-berlin-0001" and reg.substatus == "initialAssignment"
        assert reg.error_code is None and reg.error_message is None
        assert reg.json["registrationState"]["assignedHub"] == azure_emu.hub_host
        info = dps.last_response
        assert isinstance(info, azure.ResponseInfo) and info.status == 200 and info.request_id
        assert abs((info.server_date - datetime.now(timezone.utc)).total_seconds()) < 60
        state = azure_emu.ctl("GET", "/_emu/registrations")
        assert state["registrations"][0]["request_payload"] == {"site": "berlin", "floor": 4}
        assert state["operations"][0]["polls"] >= 1  # it was polled while "assigning"

        # Registering again (answered at once this time): the same assignment.
        azure_emu.config(immediate_assign=True)
        again = dps.register(timeout=20)
        assert again.assigned and (again.assigned_hub, again.device_id) == (reg.assigned_hub, reg.device_id)

    cs = reg.connection_string(key)
    assert cs == f"HostName={azure_emu.hub_host};DeviceId=gw-berlin-0001;SharedAccessKey={key}"
    assert reg.connection_string(key.encode()) == cs
    created = datetime(2027, 1, 15, 8, 0, 0, tzinfo=timezone.utc)
    with azure_emu.hub(cs) as hub:
        assert (hub.host_name, hub.device_id, hub.endpoint) == (azure_emu.hub_host, "gw-berlin-0001",
                                                                azure_emu.hub_url)
        assert hub.send({"co2_ppm": 812}) == 1
        sent = hub.send([
            '{"co2_ppm":1240}',
            b"\xff\x00raw",
            azure.Message({"temperature_c": 21.53}, message_id="msg-2", correlation_id="corr-9",
                          creation_time=created, properties={"room": "4.12", "Kind": "air"}),
            azure.Message("hello", content_type="text/plain", content_encoding="us-ascii",
                          creation_time=1800000000.7),
        ])
        assert sent == 4
        assert hub.send(m for m in [azure.Message([1, 2, 3])]) == 1  # any iterable; a JSON array body
        assert hub.send([]) == 0
        assert hub.last_response.status == 204

    records = azure_emu.telemetry("gw-berlin-0001")
    assert len(records) == 6
    assert [r["body_bytes"] for r in records] == [15, 16, 5, 23, 5, 7]
    first, text, raw, rich, plain, array = records
    assert json.loads(first["body"]) == {"co2_ppm": 812} and first["auth"] == "device"
    assert first["content_type"] == "application/json" and first["content_encoding"] == "utf-8"
    assert first["http_content_type"].startswith("application/json")
    assert len(first["message_id"]) == 36  # a random UUID
    assert text["body"] == '{"co2_ppm":1240}'
    assert base64.b64decode(raw["body_base64"]) == b"\xff\x00raw"
    assert json.loads(rich["body"]) == {"temperature_c": 21.53}
    assert rich["message_id"] == "msg-2" and rich["correlation_id"] == "corr-9"
    assert rich["creation_time_utc"] == "2027-01-15T08:00:00Z"
    assert rich["properties"] == {"room": "4.12", "kind": "air"}  # the emulator lower-cases names
    assert plain["body"] == "hello" and plain["content_type"] == "text/plain"
    assert plain["content_encoding"] == "us-ascii" and plain["http_content_type"] == "text/plain"
    assert plain["creation_time_utc"] == "2027-01-15T08:00:00Z"  # 1800000000, the fraction dropped
    assert json.loads(array["body"]) == [1, 2, 3]
    assert all(r["properties"] in ({}, None) for r in (first, text, raw, plain, array))


def test_failed_registration_is_a_result(azure_emu):
    azure_emu.config(immediate_assign=True)
    stored = azure_emu.ctl("POST", "/_emu/enrollments", {
        "type": "individual", "registration_id": "gw-failing",
        "failure": {"error_code": 400207, "error_message": "Custom allocation failed with status code: 400"}})
    ikey = (stored[0] if isinstance(stored, list) else stored)["primary_key"]
    with azure_emu.provisioning("gw-failing", ikey) as dps:
        reg = dps.register()
    assert reg.status == "failed" and not reg.assigned
    assert reg.error_code == 400207 and "Custom allocation" in reg.error_message
    assert reg.assigned_hub is None and reg.device_id is None
    with pytest.raises(sbprov.InvalidInputError, match="failed"):
        reg.connection_string(ikey)


def test_plain_http_only_when_allowed(azure_emu):
    azure_emu.config(immediate_assign=True)
    plain = azure_emu.env["SBPROV_TEST_AZURE_PLAIN_URL"]
    with pytest.raises(sbprov.InvalidInputError, match="https"):
        azure_emu.provisioning("gw-plain", endpoint=plain)
    with azure_emu.provisioning("gw-plain", endpoint=plain, allow_http=True) as dps:
        assert dps.register().assigned


# --------------------------------------------------------------------------
# Refusals: keys, clock
# --------------------------------------------------------------------------

def test_wrong_key_is_auth_error(azure_emu):
    azure_emu.expect_violations("signature")  # a signature that verifies with no key is one
    other = azure_emu.derived_key("gw-2")  # a valid key, of another device
    for key in (other, azure_emu.group_key):  # the group key itself: the most common mistake
        with azure_emu.provisioning("gw-1", key) as dps:
            with pytest.raises(sbprov.AuthError, match="401"):
                dps.register(timeout=10)
            assert dps.last_response.status == 401

    key = azure_emu.derived_key("gw-tel")
    azure_emu.add_device("gw-tel", key)
    wrong = f"HostName={azure_emu.hub_host};DeviceId=gw-tel;SharedAccessKey={other}"
    with azure_emu.hub(wrong) as hub:
        with pytest.raises(sbprov.AuthError, match="401") as info:
            hub.send([{"n": 1}, {"n": 2}])
        assert info.value.accepted == 0
    assert azure_emu.telemetry() == []


def test_clock_offset_is_clock_error(azure_emu):
    """The server's clock 3 h ahead: SAS tokens signed here are expired for
    it; the error names the offset instead of a bare 401, and the next call
    is refused without sending an expired token. 2 min off still works."""
    azure_emu.config(clock_offset="3h", immediate_assign=True)
    with azure_emu.provisioning("gw-clock") as dps:
        with pytest.raises(sbprov.ClockError, match="behind the server's") as info:
            dps.register(timeout=10)
        assert re.search(r"\b10(799|800|801) s \(", str(info.value)) and info.value.code == sbprov.ECLOCK
        before = len(azure_emu.requests())
        with pytest.raises(sbprov.ClockError, match="already expired"):
            dps.register(timeout=10)
        assert len(azure_emu.requests()) == before

    cs = azure_emu.add_device("gw-clock", azure_emu.derived_key("gw-clock"))
    with azure_emu.hub(cs) as hub:
        with pytest.raises(sbprov.ClockError) as info:
            hub.send({"n": 1})
        assert info.value.accepted == 0

    azure_emu.config(clock_offset="120s")  # within Azure's five minutes
    with azure_emu.provisioning("gw-clock") as dps:
        assert dps.register(timeout=10).assigned


# --------------------------------------------------------------------------
# Throttling
# --------------------------------------------------------------------------

def test_retry_after_then_success(azure_emu):
    azure_emu.config(immediate_assign=True)
    azure_emu.faults({"route": "dps_register", "status": 429, "retry_after": "1", "count": 1})
    with azure_emu.provisioning("gw-throttled") as dps:
        start = time.monotonic()
        reg = dps.register(timeout=10)
        assert reg.assigned and time.monotonic() - start >= 0.95
        cs = reg.connection_string(azure_emu.derived_key("gw-throttled"))

    azure_emu.faults({"route": "hub_telemetry", "status": 429, "retry_after": "1", "count": 1, "skip": 1})
    with azure_emu.hub(cs) as hub:
        start = time.monotonic()
        assert hub.send([{"n": i} for i in range(3)]) == 3
        assert time.monotonic() - start >= 0.95
    assert [json.loads(r["body"])["n"] for r in azure_emu.telemetry("gw-throttled")] == [0, 1, 2]


def test_persistent_rate_limit_reports_accepted(azure_emu):
    """Throttled beyond the retry budget: RateLimitError says how many
    messages got through; resending the rest loses and repeats nothing."""
    cs = azure_emu.add_device("gw-rl", azure_emu.derived_key("gw-rl"))
    messages = [{"n": i} for i in range(4)]
    azure_emu.faults({"route": "hub_telemetry", "status": 429, "retry_after": "20", "skip": 2})
    with azure_emu.hub(cs, retry_timeout=2) as hub:
        start = time.monotonic()
        with pytest.raises(sbprov.RateLimitError, match="429") as info:
            hub.send(messages)
        assert time.monotonic() - start < 3  # Retry-After 20 s is beyond the budget: no wait
        assert info.value.accepted == 2
        assert hub.last_response.status == 429 and hub.last_response.retry_after == 20
        azure_emu.ctl("DELETE", "/_emu/faults")
        assert hub.send(messages[info.value.accepted:]) == 2
    assert [json.loads(r["body"])["n"] for r in azure_emu.telemetry("gw-rl")] == [0, 1, 2, 3]

    azure_emu.faults({"route": "dps", "status": 429, "retry_after": "30"})
    with azure_emu.provisioning("gw-rl") as dps:
        with pytest.raises(sbprov.RateLimitError, match="retry after 30 s"):
            dps.register(timeout=2)
        assert dps.last_response.retry_after == 30


# --------------------------------------------------------------------------
# Identity registry
# --------------------------------------------------------------------------

def test_registry(azure_emu):
    with azure_emu.registry() as reg:
        assert reg.host_name == azure_emu.hub_host and reg.policy == "iothubowner"
        dev = reg.create_device("gw-reg-1")
        assert isinstance(dev, azure.DeviceIdentity)
        assert dev.device_id == "gw-reg-1" and dev.status == "enabled" and dev.etag
        assert len(dev.primary_key) == 44 and len(dev.secondary_key) == 44
        assert dev.primary_key not in repr(dev) and dev.secondary_key not in repr(dev)
        with pytest.raises(sbprov.AlreadyExistsError, match="409"):
            reg.create_device("gw-reg-1")
        assert reg.get_device("gw-reg-1") == dev

        # Rotate: a new primary, the old primary as secondary, with the etag.
        kept = reg.update_device("gw-reg-1", etag=dev.etag)  # no keys given: both kept
        assert reg.last_response.status == 200 and reg.last_response.retry_after is None
        assert (kept.primary_key, kept.secondary_key) == (dev.primary_key, dev.secondary_key)
        rotated = reg.update_device("gw-reg-1", azure.generate_key(), dev.primary_key, etag=kept.etag)
        assert rotated.primary_key not in (dev.primary_key, dev.secondary_key)
        assert rotated.secondary_key == dev.primary_key and rotated.etag != dev.etag
        with pytest.raises(sbprov.ConflictError, match="etag"):
            reg.update_device("gw-reg-1", dev.primary_key, dev.secondary_key, etag=dev.etag)
        with pytest.raises(sbprov.ConflictError):
            reg.delete_device("gw-reg-1", etag=dev.etag)
        star = reg.update_device("gw-reg-1", rotated.primary_key, rotated.secondary_key)  # etag "*"
        assert (star.primary_key, star.secondary_key) == (rotated.primary_key, rotated.secondary_key)

        # The device sends with its (now secondary) key, then is deleted.
        cs = azure.build_connection_string(host_name=reg.host_name, device_id="gw-reg-1",
                                           shared_access_key=dev.primary_key)
        with azure_emu.hub(cs) as hub:
            assert hub.send({"hello": "registry"}) == 1
            reg.delete_device("gw-reg-1", etag=star.etag)
            with pytest.raises(sbprov.NotFoundError, match="404") as info:
                reg.get_device("gw-reg-1")
            assert isinstance(info.value, LookupError)
            with pytest.raises(sbprov.NotFoundError):
                reg.delete_device("gw-reg-1")
            with pytest.raises(sbprov.NotFoundError):
                reg.update_device("gw-reg-1")
            with pytest.raises(sbprov.AuthError):
                hub.send({"hello": "again"})

        # Given keys.
        p, s = azure.generate_keys()
        given = reg.create_device("gw-reg-2", p, s)
        assert (given.primary_key, given.secondary_key) == (p, s)
        reg.delete_device("gw-reg-2")

    # A policy without RegistryWrite.
    dev_policy = azure.build_connection_string(
        host_name=azure_emu.hub_host, shared_access_key_name="device",
        shared_access_key=azure_emu.env["SBPROV_TEST_AZURE_DEVICE_POLICY_KEY"])
    with azure_emu.registry(dev_policy) as reg:
        with pytest.raises(sbprov.AuthError):
            reg.create_device("gw-reg-3")


# --------------------------------------------------------------------------
# Threads: GIL, cancel, close
# --------------------------------------------------------------------------

def test_cancel_during_slow_registration_releases_the_gil(azure_emu):
    """A registration that polls for ~5 s: another Python thread keeps
    running meanwhile (the GIL is released) and cancels it; it raises
    CancelledError at once, without waiting for the client's lock."""
    azure_emu.config(assign_polls=5)
    with azure_emu.provisioning("gw-slow") as dps:
        old = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        try:
            th, box = in_thread(dps.register, None, 30)
            start = time.monotonic()
            ticks = [start]
            cancelled_at = None
            while th.is_alive():
                now = time.monotonic()
                ticks.append(now)
                if cancelled_at is None and now - start > 0.5:
                    dps.cancel()
                    cancelled_at = now
                if now - start > 10:
                    break
            th.join(5)
        finally:
            sys.setswitchinterval(old)
        assert isinstance(box.get("error"), sbprov.CancelledError), box
        assert cancelled_at is not None and ticks[-1] - cancelled_at < 0.5, ticks[-1] - cancelled_at
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert len(ticks) > 100 and max(gaps) < 0.3, (len(ticks), max(gaps))

        # A cancel between calls stops the next call, once.
        azure_emu.config(immediate_assign=True)
        dps.cancel()
        with pytest.raises(sbprov.CancelledError):
            dps.register()
        assert dps.register().assigned


def test_close_cancels_a_call_in_another_thread(azure_emu):
    azure_emu.config(assign_polls=5)
    dps = azure_emu.provisioning("gw-close")
    th, box = in_thread(dps.register, None, 30)
    time.sleep(0.3)
    start = time.monotonic()
    dps.close()
    th.join(5)
    assert isinstance(box.get("error"), sbprov.CancelledError), box
    assert time.monotonic() - start < 1
    assert dps.closed
    dps.cancel()  # a no-op once closed
    with pytest.raises(sbprov.InvalidInputError, match="after close"):
        dps.register()


def test_cancel_a_slow_send(azure_emu):
    """The hub answers the second message slowly: cancel() stops the
    transfer; the exception says the first message was accepted."""
    cs = azure_emu.add_device("gw-cancel", azure_emu.derived_key("gw-cancel"))
    azure_emu.faults({"route": "hub_telemetry", "delay_ms": 5000, "skip": 1, "count": 1})
    with azure_emu.hub(cs) as hub:
        th, box = in_thread(hub.send, [{"n": 0}, {"n": 1}])
        time.sleep(0.5)
        start = time.monotonic()
        hub.cancel()
        th.join(5)
        assert isinstance(box.get("error"), sbprov.CancelledError), box
        assert box["error"].accepted == 1
        assert time.monotonic() - start < 2.5

    with azure_emu.registry() as reg:
        azure_emu.faults({"route": "hub_device", "delay_ms": 5000, "count": 1})
        th, box = in_thread(reg.get_device, "gw-cancel")
        time.sleep(0.3)
        reg.cancel()
        th.join(5)
        assert isinstance(box.get("error"), sbprov.CancelledError), box


# --------------------------------------------------------------------------
# Arguments and lifecycle (no server needed)
# --------------------------------------------------------------------------

SCOPE = "0ne00C0FFEE"
KEY = azure.derive_device_key(base64.b64encode(bytes(range(64))).decode(), "gw-1")
DEVICE_CS = f"HostName=h.azure-devices.net;DeviceId=gw-1;SharedAccessKey={KEY}"
SERVICE_CS = f"HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
NOWHERE = "https://localhost:1"


def test_provisioning_arguments():
    for args, exc in (((SCOPE, "Gw-1", KEY), sbprov.IdentifierError), (("0ne-00", "gw-1", KEY), sbprov.IdentifierError),
                      ((SCOPE, "gw-1", "not base64!"), sbprov.Base64Error),
                      ((SCOPE, "gw-1", base64.b64encode(b"short").decode()), sbprov.KeySizeError),
                      ((SCOPE, "gw-1", 42), TypeError), ((SCOPE, None, KEY), TypeError),
                      ((SCOPE, "gw-1", KEY + "\0"), sbprov.InvalidInputError)):
        with pytest.raises(exc):
            azure.Provisioning(*args)
    for kwargs, exc in (({"endpoint": "http://localhost:1"}, sbprov.InvalidInputError),
                        ({"endpoint": "https://h.example/path"}, sbprov.InvalidInputError),
                        ({"endpoint": 5}, TypeError), ({"timeout": 0}, sbprov.InvalidInputError),
                        ({"connect_timeout": "1"}, TypeError), ({"token_ttl": 0}, sbprov.InvalidInputError),
                        ({"token_ttl": 1.5}, TypeError), ({"max_clock_skew": -1}, sbprov.InvalidInputError),
                        ({"max_clock_skew": True}, TypeError), ({"allow_http": "yes"}, TypeError),
                        ({"client_key": "k"}, TypeError), ({"ca": ""}, sbprov.InvalidInputError),
                        ({"client_cert": "/c.pem"}, sbprov.InvalidInputError)):
        with pytest.raises(exc):
            azure.Provisioning(SCOPE, "gw-1", KEY, **kwargs)
    with pytest.raises(TypeError):
        azure.Provisioning(SCOPE, "gw-1", KEY, "https://positional.example")
    # Keys as str, bytes or any bytes-like object.
    for key in (KEY, KEY.encode(), bytearray(KEY.encode()), memoryview(KEY.encode())):
        azure.Provisioning(SCOPE, "gw-1", key).close()
    with azure.Provisioning(SCOPE, "gw-1", KEY, endpoint=NOWHERE) as dps:
        assert dps.endpoint == NOWHERE
        for args, exc in (((None, 0), sbprov.InvalidInputError), ((None, "5"), TypeError),
                          ((object(),), TypeError), ((float("nan"),), sbprov.InvalidInputError),
                          (({"x": {1, 2}},), TypeError)):
            with pytest.raises(exc):
                dps.register(*args)
    assert azure.Provisioning(SCOPE, "gw-1", KEY).endpoint == azure.DPS_ENDPOINT


def test_hub_and_registry_arguments():
    module = DEVICE_CS + ";ModuleId=m1"
    for cs in (SERVICE_CS, module, "HostName=h.azure-devices.net;DeviceId=gw-1;x509=true", "garbage", ""):
        with pytest.raises(sbprov.ConnectionStringError):
            azure.Hub(cs)
    for cs in (DEVICE_CS, "HostName=h.azure-devices.net;SharedAccessKeyName=p"):
        with pytest.raises(sbprov.ConnectionStringError):
            azure.Registry(cs)
    with pytest.raises(sbprov.Base64Error):
        azure.Hub(DEVICE_CS.replace(KEY, "not-base64"))
    for kwargs, exc in (({"retry_timeout": 0}, sbprov.InvalidInputError), ({"retry_timeout": "1"}, TypeError),
                        ({"endpoint": "ftp://h"}, sbprov.InvalidInputError), ({"token_ttl": None}, TypeError)):
        with pytest.raises(exc):
            azure.Hub(DEVICE_CS, **kwargs)
        with pytest.raises(exc):
            azure.Registry(SERVICE_CS, **kwargs)
    with pytest.raises(TypeError):
        azure.Hub(None)
    # Connection strings as str or bytes-like.
    with azure.Hub(DEVICE_CS.encode()) as hub:
        assert (hub.host_name, hub.device_id, hub.endpoint) == ("h.azure-devices.net", "gw-1",
                                                                "https://h.azure-devices.net")
    with azure.Registry(bytearray(SERVICE_CS.encode()), endpoint=NOWHERE) as reg:
        assert (reg.host_name, reg.policy, reg.endpoint) == ("h.azure-devices.net", "iothubowner", NOWHERE)
        # Checked before anything is sent (the endpoint is not listening).
        for call, exc in ((lambda: reg.create_device("bad/id"), sbprov.IdentifierError),
                          (lambda: reg.create_device("gw-1", "not base64"), sbprov.Base64Error),
                          (lambda: reg.create_device("gw-1", KEY[:8]), sbprov.KeySizeError),
                          (lambda: reg.create_device(None), TypeError),
                          (lambda: reg.create_device("gw-1", 5), TypeError),
                          (lambda: reg.update_device("gw-1", etag=None), sbprov.InvalidInputError),
                          (lambda: reg.update_device("gw-1", etag=""), sbprov.InvalidInputError),
                          (lambda: reg.update_device("gw-1", etag="a b"), sbprov.InvalidInputError),
                          (lambda: reg.delete_device("gw-1", etag=7), TypeError),
                          (lambda: reg.get_device(""), sbprov.IdentifierError)):
            with pytest.raises(exc):
                call()


def test_send_arguments():
    """Every message is checked before the first is sent (the endpoint is not
    listening, so a request would fail with NetworkError); every exception
    says accepted == 0."""
    good = azure.Message("ok")
    cases = [
        (42, TypeError), ([42], TypeError), ([None], TypeError), ([azure.Message(None)], TypeError),
        ([azure.Message(object())], TypeError), ([azure.Message(float("inf"))], sbprov.InvalidInputError),
        ([azure.Message("x", properties=[("a", "b")])], TypeError),
        ([azure.Message("x", properties={"a": 1})], TypeError),
        ([azure.Message("x", properties={1: "a"})], TypeError),
        ([azure.Message("x", properties={"a b": "c"})], sbprov.InvalidInputError),
        ([azure.Message("x", properties={"a": "é"})], sbprov.InvalidInputError),
        ([azure.Message("x", properties={"a": "b\0"})], sbprov.InvalidInputError),
        ([azure.Message("x", properties={f"p{i}": "v" for i in range(65)})], sbprov.InvalidInputError),
        ([azure.Message("x", message_id="a\nb")], sbprov.InvalidInputError),
        # Empty header values would be dropped by libcurl: refused, not lost silently.
        ([azure.Message("x", correlation_id="")], sbprov.InvalidInputError),
        ([azure.Message("x", content_type=b"")], sbprov.InvalidInputError),
        ([azure.Message("x", properties={"a": ""})], sbprov.InvalidInputError),
        ([azure.Message("x", message_id=5)], TypeError),
        ([azure.Message("x", correlation_id="x" * 257)], sbprov.InvalidInputError),
        ([azure.Message("x", content_type="a\0b")], sbprov.InvalidInputError),
        ([azure.Message(b"x" * (azure.MESSAGE_MAX_BYTES + 1))], sbprov.InvalidInputError),
        ([azure.Message("x", creation_time=datetime(2027, 1, 1))], sbprov.InvalidInputError),
        ([azure.Message("x", creation_time=0)], sbprov.InvalidInputError),
        ([azure.Message("x", creation_time=-5)], sbprov.InvalidInputError),
        ([azure.Message("x", creation_time=1e20)], sbprov.InvalidInputError),
        ([azure.Message("x", creation_time=True)], TypeError),
        ([azure.Message("x", creation_time="2027-01-01")], TypeError),
        (["\ud800"], UnicodeEncodeError),
    ]
    with azure.Hub(DEVICE_CS, endpoint=NOWHERE, connect_timeout=2) as hub:
        for messages, exc in cases:
            with pytest.raises(exc) as info:
                hub.send([good, *messages] if isinstance(messages, list) else messages)
            assert info.value.accepted == 0, (messages, info.value)
        assert azure.MESSAGE_MAX_BYTES == 256 * 1024 - 1
        # Valid messages do reach the (absent) network.
        for messages in (good, b"", {"a": 1}, [azure.Message(b"x" * azure.MESSAGE_MAX_BYTES,
                                                              creation_time=datetime.now(timezone(timedelta(hours=2))))]):
            with pytest.raises(sbprov.NetworkError) as info:
                hub.send(messages)
            assert info.value.accepted == 0


def test_lifecycle():
    dps = azure.Provisioning(SCOPE, "gw-1", KEY, endpoint=NOWHERE)
    assert repr(dps) == f"<sbprov.azure.Provisioning {SCOPE}/registrations/gw-1 at {NOWHERE} open>"
    assert dps.last_response == azure.ResponseInfo(0, None, None, None)
    with pytest.raises(TypeError):
        pickle.dumps(dps)
    with dps as same:
        assert same is dps
    assert dps.closed and "closed" in repr(dps)
    dps.close()  # idempotent
    for use in (lambda: dps.last_response, dps.register):
        with pytest.raises(sbprov.InvalidInputError, match="after close"):
            use()
    with pytest.raises(sbprov.InvalidInputError):
        with dps:
            pass

    hub = azure.Hub(DEVICE_CS)
    reg = azure.Registry(SERVICE_CS)
    for client in (hub, reg):
        assert KEY not in repr(client) and "SharedAccessKey" not in repr(client)
        with pytest.raises(TypeError):
            pickle.dumps(client)
    assert repr(hub) == "<sbprov.azure.Hub h.azure-devices.net/devices/gw-1 at https://h.azure-devices.net open>"
    assert hasattr(azure.Registry, "last_response")
    hub.close()
    reg.close()
    with pytest.raises(sbprov.InvalidInputError, match="after close") as info:
        hub.send({"a": 1})
    assert info.value.accepted == 0
    with pytest.raises(sbprov.InvalidInputError, match="after close"):
        reg.get_device("gw-1")
    hub.cancel()
    reg.cancel()


def test_contract():
    import inspect
    sig = inspect.signature(azure.Provisioning)
    assert list(sig.parameters)[:3] == ["id_scope", "registration_id", "key"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters.values())[3:])
    assert (sig.parameters["timeout"].default, sig.parameters["connect_timeout"].default,
            sig.parameters["token_ttl"].default, sig.parameters["max_clock_skew"].default) == (30.0, 10.0, 3600, 300)
    assert list(inspect.signature(azure.Provisioning.register).parameters) == ["self", "payload", "timeout"]
    assert inspect.signature(azure.Provisioning.register).parameters["timeout"].default == 60.0
    for cls in (azure.Hub, azure.Registry):
        sig = inspect.signature(cls)
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(sig.parameters.values())[1:])
        assert sig.parameters["retry_timeout"].default == 60.0 and sig.parameters["endpoint"].default is None
    assert list(inspect.signature(azure.Registry.update_device).parameters) == [
        "self", "device_id", "primary_key", "secondary_key", "etag"]
    assert inspect.signature(azure.Registry.update_device).parameters["etag"].default == "*"
    assert inspect.signature(azure.Registry.delete_device).parameters["etag"].default is None
    assert [f.name for f in __import__("dataclasses").fields(azure.Message)] == [
        "body", "message_id", "correlation_id", "content_type", "content_encoding", "creation_time", "properties"]
    assert azure.ResponseInfo is sbprov.mender.ResponseInfo
    assert (azure.DPS_API_VERSION, azure.HUB_API_VERSION) == ("2021-10-01", "2021-04-12")
    assert azure.DPS_ENDPOINT == "https://global.azure-devices-provisioning.net"
    assert azure.Message("x") == azure.Message("x")
