"""Deriver lifecycle: context manager, close, double close, use after close, GC."""

import gc
import weakref

import pytest

import sbprov
from sbprov import azure

from conftest import GROUP_KEY, key_of, ref_derive


def test_context_manager_closes():
    with azure.Deriver(GROUP_KEY) as d:
        assert not d.closed
        assert d.derive("dev-1") == ref_derive(GROUP_KEY, "dev-1")
    assert d.closed
    assert "closed" in repr(d)


def test_double_close_is_harmless():
    d = azure.Deriver(GROUP_KEY)
    d.close()
    d.close()
    d.close()
    assert d.closed


def test_close_releases_the_c_object_at_once():
    d = azure.Deriver(GROUP_KEY)
    proxy = weakref.ref(d._handle)
    assert proxy() is not None
    d.close()
    assert proxy() is None  # the owning proxy, and with it the C deriver, is gone


def test_close_while_a_handle_is_in_use_elsewhere_is_safe():
    # A derive() in flight holds its own reference: closing then only drops
    # the Deriver's reference, and the C object outlives the call.
    d = azure.Deriver(GROUP_KEY)
    in_flight = d._handle
    d.close()
    from sbprov import _sbprov_swig as raw
    assert raw.sbprov_azure_deriver_derive(in_flight, "dev-1") == ref_derive(GROUP_KEY, "dev-1")
    del in_flight


def test_cannot_be_copied_or_pickled():
    import copy
    import pickle
    with azure.Deriver(GROUP_KEY) as d:
        for dup in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(TypeError):
                dup(d)


def test_use_after_close_raises_not_crashes():
    d = azure.Deriver(GROUP_KEY)
    d.close()
    for _ in range(3):
        with pytest.raises(sbprov.InvalidInputError) as info:
            d.derive("dev-1")
        assert info.value.code == sbprov.EINVAL
        assert "after close" in info.value.message
    with pytest.raises(sbprov.InvalidInputError):
        with d:
            pass


def test_close_inside_with_then_exit():
    with azure.Deriver(GROUP_KEY) as d:
        d.close()
    assert d.closed


def test_exception_inside_with_still_closes():
    with pytest.raises(RuntimeError):
        with azure.Deriver(GROUP_KEY) as d:
            raise RuntimeError("boom")
    assert d.closed


def test_garbage_collected_without_close():
    # The SWIG proxy owns the C handle; dropping it frees the deriver.
    for i in range(1000):
        d = azure.Deriver(key_of(16 + i % 49, i))
        d.derive("dev")
        del d
    gc.collect()


def test_raw_handle_freed_once():
    # The raw layer: sbprov_azure_deriver_free() disowns the proxy (%delobject),
    # so the proxy's destructor does not free the same pointer again.
    from sbprov import _sbprov_swig as raw
    h = raw.sbprov_azure_deriver_new(GROUP_KEY)
    assert h.thisown
    raw.sbprov_azure_deriver_free(h)
    assert not h.thisown
    del h
    gc.collect()


def test_many_ids_one_deriver():
    ids = [f"device-{i:05d}" for i in range(2000)]
    keys = azure.derive_device_keys(GROUP_KEY, ids)
    assert keys == [ref_derive(GROUP_KEY, i) for i in ids]
    with azure.Deriver(GROUP_KEY.encode()) as d:
        assert [d.derive(i) for i in ids[:50]] == keys[:50]


def test_failed_constructor_leaves_a_closed_object():
    with pytest.raises(sbprov.Base64Error):
        azure.Deriver("not base64!")
