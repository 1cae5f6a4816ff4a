"""Published Azure values (/work/shared/vectors/azure-published.json)."""

import pytest

import sbprov
from sbprov import azure


def test_vector_file_has_cases(vectors):
    assert vectors["derive"] and vectors["sas"] and vectors["url_encode"]


def test_derive_device_key(vectors):
    for case in vectors["derive"]:
        assert azure.derive_device_key(case["group_key"], case["registration_id"]) == case["expect"]


def test_derive_device_key_from_bytes(vectors):
    for case in vectors["derive"]:
        key = case["group_key"]
        for variant in (key.encode(), bytearray(key.encode()), memoryview(key.encode())):
            assert azure.derive_device_key(variant, case["registration_id"]) == case["expect"]
        assert azure.derive_device_key(key, case["registration_id"].encode()) == case["expect"]


def test_deriver_and_fleet(vectors):
    for case in vectors["derive"]:
        with azure.Deriver(case["group_key"]) as d:
            assert d.derive(case["registration_id"]) == case["expect"]
            assert d.derive(case["registration_id"]) == case["expect"]  # state reused
        keys = azure.derive_device_keys(case["group_key"], [case["registration_id"]] * 3)
        assert keys == [case["expect"]] * 3


def test_sas_token(vectors):
    for case in vectors["sas"]:
        token = azure.sas_token(case["resource_uri"], case["key"], case["expiry"], case["policy"])
        assert token == case["expect"]
        # keyword form, with a "now" before the expiry
        token = azure.sas_token(resource_uri=case["resource_uri"], key=case["key"],
                                expiry=case["expiry"], policy=case["policy"], now=case["expiry"] - 1)
        assert token == case["expect"]


def test_sas_token_with_policy_appends_skn(vectors):
    case = vectors["sas"][0]
    token = azure.sas_token(case["resource_uri"], case["key"], case["expiry"], "registration")
    # skn is not part of the signed text: the same token plus "&skn=...".
    assert token == case["expect"] + "&skn=registration"


def test_url_encode(vectors):
    for case in vectors["url_encode"]:
        assert azure.url_encode(case["in"]) == case["expect"]
        assert azure.url_encode(case["in"].encode("utf-8")) == case["expect"]


def test_sas_token_uses_hub_uri_helper(vectors):
    case = vectors["sas"][0]
    host, _, device = case["resource_uri"].partition("/devices/")
    assert azure.hub_device_uri(host, device) == case["resource_uri"]
