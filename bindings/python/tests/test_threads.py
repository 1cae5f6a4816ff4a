"""Several Python threads using the binding at once: right results, and each
thread's errors carry its own detail message (the library's last-error slot
is per thread, and the binding reads it right after the failing call)."""

import sys
import threading

import pytest

import sbprov
from sbprov import azure

from conftest import FAR_EXPIRY, key_of, ref_derive, ref_sas

THREADS = 8
ROUNDS = 300


@pytest.fixture(autouse=True)
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    yield
    sys.setswitchinterval(old)


def run_threads(target):
    barrier = threading.Barrier(THREADS)
    failures = []

    def wrapper(t):
        try:
            barrier.wait()
            target(t)
        except BaseException as e:  # reported below, with the thread number
            failures.append((t, repr(e)))

    threads = [threading.Thread(target=wrapper, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:5]


def test_concurrent_derivation_and_errors():
    keys = [key_of(16 + 6 * t, t) for t in range(THREADS)]
    expected = {t: [ref_derive(keys[t], f"t{t}-dev-{i}") for i in range(ROUNDS)] for t in range(THREADS)}

    def work(t):
        key = keys[t]
        with azure.Deriver(key) as d:
            for i in range(ROUNDS):
                rid = f"t{t}-dev-{i}"
                assert azure.derive_device_key(key, rid) == expected[t][i]
                assert d.derive(rid) == expected[t][i]
                # an error specific to this thread and round: upper case at a
                # position that encodes t, and a key whose length encodes i
                bad = "a" * (t + 1) + "B"
                with pytest.raises(sbprov.IdentifierError) as info:
                    d.derive(bad)
                assert info.value.message == (
                    f"registration ID: upper-case 'B' at position {t + 2}; DPS compares registration IDs "
                    "case-insensitively, so use lower case")
                bad_key = key_of(1 + (t * ROUNDS + i) % 15)
                with pytest.raises(sbprov.KeySizeError) as info:
                    azure.derive_device_key(bad_key, rid)
                assert f"decodes to {1 + (t * ROUNDS + i) % 15} bytes" in info.value.message

    run_threads(work)


def test_concurrent_sas_tokens():
    def work(t):
        key = key_of(32, t)
        for i in range(ROUNDS):
            uri = f"hub.net/devices/t{t}-{i}"
            assert azure.sas_token(uri, key, FAR_EXPIRY + i) == ref_sas(uri, key, FAR_EXPIRY + i)
            with pytest.raises(sbprov.ExpiryError) as info:
                azure.sas_token(uri, key, 1000 + t * ROUNDS + i)
            assert info.value.message.startswith(f"expiry {1000 + t * ROUNDS + i} is before 2020-01-01")

    run_threads(work)


def test_shared_deriver_between_threads():
    # Each derive() runs with the GIL held, so sharing one deriver is safe.
    key = key_of(64, 9)
    with azure.Deriver(key) as d:
        def work(t):
            for i in range(ROUNDS):
                rid = f"s{t}-{i}"
                assert d.derive(rid) == ref_derive(key, rid)
        run_threads(work)
