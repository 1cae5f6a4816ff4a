"""Connection strings: parse, build, aliases, duplicates, contradictions."""

import pytest

import sbprov
from sbprov import azure

from conftest import DEVICE_KEY, key_of

HOST = "myhub.azure-devices.net"
SAS = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fd&sig=abc%3D&se=1700000000"


def raises(exc_type, code, fn, *args, match=None, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert info.value.code == code
    if match is not None:
        assert match in info.value.message, info.value.message
    return info.value


def test_field_names():
    assert azure.CONNECTION_STRING_FIELDS == (
        "HostName", "DeviceId", "ModuleId", "SharedAccessKeyName", "SharedAccessKey",
        "SharedAccessSignature", "GatewayHostName", "x509")


@pytest.mark.parametrize("text,expect", [
    (f"HostName={HOST};DeviceId=dev1;SharedAccessKey={DEVICE_KEY}",
     {"HostName": HOST, "DeviceId": "dev1", "SharedAccessKey": DEVICE_KEY}),
    (f"HostName={HOST};DeviceId=dev1;ModuleId=mod1;SharedAccessKey={DEVICE_KEY};GatewayHostName=gw.local",
     {"HostName": HOST, "DeviceId": "dev1", "ModuleId": "mod1", "SharedAccessKey": DEVICE_KEY,
      "GatewayHostName": "gw.local"}),
    (f"HostName={HOST};SharedAccessKeyName=iothubowner;SharedAccessKey={DEVICE_KEY}",
     {"HostName": HOST, "SharedAccessKeyName": "iothubowner", "SharedAccessKey": DEVICE_KEY}),
    (f"DeviceId=dev1;HostName={HOST};x509=true", {"HostName": HOST, "DeviceId": "dev1", "x509": "true"}),
    (f"HostName={HOST};DeviceId=dev1;SharedAccessSignature={SAS}",
     {"HostName": HOST, "DeviceId": "dev1", "SharedAccessSignature": SAS}),
])
def test_parse(text, expect):
    assert azure.parse_connection_string(text) == expect
    assert azure.parse_connection_string(text.encode()) == expect
    # and back: build writes the fields in the library's order
    rebuilt = azure.build_connection_string(**expect)
    assert azure.parse_connection_string(rebuilt) == expect


def test_parse_value_split_at_first_equals():
    text = f"HostName={HOST};DeviceId=a=b;SharedAccessKey={DEVICE_KEY}"
    assert azure.parse_connection_string(text)["DeviceId"] == "a=b"


@pytest.mark.parametrize("text,detail", [
    ("", "empty"),
    (f"HostName={HOST};;DeviceId=d;x509=true", "stray ';'"),
    (f"HostName={HOST};DeviceId=d;x509=true;", "stray ';'"),
    (f"HostName={HOST};DeviceId;x509=true", "has no '='"),
    (f"HostName={HOST};DeviceId=d;x509=true;Foo=bar", "unknown field at position"),
    # A key pasted without its field name is never echoed.
    (f"HostName={HOST};DeviceId=d;{DEVICE_KEY}", "may be a secret"),
    (f"hostname={HOST};DeviceId=d;x509=true", "unknown field 'hostname'"),
    (f"HostName={HOST};DeviceId=d;DeviceId=e;x509=true", "DeviceId: given twice"),
    (f"HostName={HOST};DeviceId=;x509=true", "DeviceId: empty value"),
    (f"HostName={HOST};DeviceId=d;x509=false", "x509: the only accepted value is 'true'"),
    (f"HostName={HOST};DeviceId=d;SharedAccessSignature=sig", "SharedAccessSignature: expected a token"),
    (f"DeviceId=d;x509=true", "HostName: required"),
    (f"HostName={HOST};x509=true", "DeviceId: required"),
    (f"HostName={HOST};ModuleId=m;x509=true", "ModuleId: needs a DeviceId"),
    (f"HostName={HOST};GatewayHostName=gw;SharedAccessKeyName=p;SharedAccessKey={DEVICE_KEY}",
     "GatewayHostName: only device connection strings"),
    (f"HostName={HOST};SharedAccessKeyName=p", "SharedAccessKey: required with SharedAccessKeyName"),
    (f"HostName={HOST};DeviceId=d;SharedAccessKeyName=p;SharedAccessKey={DEVICE_KEY}",
     "SharedAccessKeyName: a policy name does not go with DeviceId"),
    (f"HostName={HOST};DeviceId=d", "SharedAccessKey: required"),
    (f"HostName={HOST};DeviceId=d;SharedAccessKey={DEVICE_KEY};x509=true", "x509: contradicts SharedAccessKey"),
    (f"HostName={HOST};DeviceId=d;SharedAccessKey={DEVICE_KEY};SharedAccessSignature={SAS}",
     "SharedAccessSignature: contradicts SharedAccessKey"),
    (f"HostName={HOST};DeviceId=d;SharedAccessSignature={SAS};x509=true",
     "x509: contradicts SharedAccessSignature"),
])
def test_parse_connstr_errors(text, detail):
    raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.parse_connection_string, text, match=detail)


@pytest.mark.parametrize("text,cls,code,detail", [
    (f"HostName=https://{HOST};DeviceId=d;x509=true", sbprov.IdentifierError, sbprov.EID, "HostName"),
    (f"HostName={HOST};DeviceId=d d;x509=true", sbprov.IdentifierError, sbprov.EID, "DeviceId"),
    (f"HostName={HOST};DeviceId=d;SharedAccessKey=abc", sbprov.Base64Error, sbprov.EBASE64,
     "SharedAccessKey"),
    (f"HostName={HOST};DeviceId=d;SharedAccessKey={key_of(8)}", sbprov.KeySizeError, sbprov.EKEYSIZE,
     "SharedAccessKey"),
])
def test_parse_value_errors(text, cls, code, detail):
    raises(cls, code, azure.parse_connection_string, text, match=detail)


def test_build_canonical_and_aliases():
    expect = f"HostName={HOST};DeviceId=dev1;ModuleId=m1;SharedAccessKey={DEVICE_KEY};GatewayHostName=gw"
    assert azure.build_connection_string(
        GatewayHostName="gw", SharedAccessKey=DEVICE_KEY, ModuleId="m1", DeviceId="dev1",
        HostName=HOST) == expect
    assert azure.build_connection_string(
        gateway_host_name="gw", shared_access_key=DEVICE_KEY, module_id="m1", device_id="dev1",
        host_name=HOST) == expect
    assert azure.build_connection_string(
        host_name=HOST, shared_access_key_name="iothubowner", shared_access_key=DEVICE_KEY) == \
        f"HostName={HOST};SharedAccessKeyName=iothubowner;SharedAccessKey={DEVICE_KEY}"
    assert azure.build_connection_string(
        host_name=HOST, device_id="d", shared_access_signature=SAS) == \
        f"HostName={HOST};DeviceId=d;SharedAccessSignature={SAS}"


def test_build_x509_and_none():
    expect = f"HostName={HOST};DeviceId=d;x509=true"
    assert azure.build_connection_string(HostName=HOST, DeviceId="d", x509=True) == expect
    assert azure.build_connection_string(HostName=HOST, DeviceId="d", x509="true") == expect
    assert azure.build_connection_string(HostName=HOST, DeviceId="d", x509=True, ModuleId=None,
                                         SharedAccessKey=None, gateway_host_name=None) == expect
    # x509=False means "no x509": then a credential is missing
    raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
           HostName=HOST, DeviceId="d", x509=False, match="SharedAccessKey: required")
    raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
           HostName=HOST, DeviceId="d", x509="yes", match="x509: the only accepted value")


def test_build_unknown_keyword():
    e = raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
               HostName=HOST, DeviceId="d", x509=True, Password="x")
    assert e.message.startswith("Password: not a connection-string field")
    for bad in ("hostname", "hostName", "host", "deviceid", "X509", "shared_access_keyname"):
        e = raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
                   **{"HostName": HOST, "DeviceId": "d", "x509": True, bad: "v"})
        assert e.message.startswith(f"{bad}: ")


@pytest.mark.parametrize("canonical,alias", [
    ("HostName", "host_name"), ("DeviceId", "device_id"), ("ModuleId", "module_id"),
    ("SharedAccessKeyName", "shared_access_key_name"), ("SharedAccessKey", "shared_access_key"),
    ("SharedAccessSignature", "shared_access_signature"), ("GatewayHostName", "gateway_host_name"),
])
def test_build_name_given_twice(canonical, alias):
    e = raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
               **{canonical: "a", alias: "a"})
    assert e.message.startswith(f"{canonical}: given twice")
    assert repr(canonical) in e.message and repr(alias) in e.message
    # even when one of them is None: the call is ambiguous
    raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.build_connection_string,
           **{canonical: None, alias: "a"}, match="given twice")


@pytest.mark.parametrize("fields,cls,code,detail", [
    ({}, sbprov.ConnectionStringError, sbprov.ECONNSTR, "HostName: required"),
    ({"DeviceId": "d", "x509": True}, sbprov.ConnectionStringError, sbprov.ECONNSTR, "HostName: required"),
    ({"HostName": HOST, "DeviceId": "d", "SharedAccessKey": DEVICE_KEY, "x509": True},
     sbprov.ConnectionStringError, sbprov.ECONNSTR, "x509: contradicts SharedAccessKey"),
    ({"HostName": HOST, "DeviceId": "d", "SharedAccessKeyName": "p", "SharedAccessKey": DEVICE_KEY},
     sbprov.ConnectionStringError, sbprov.ECONNSTR, "SharedAccessKeyName: a policy name"),
    ({"HostName": HOST, "ModuleId": "m", "x509": True}, sbprov.ConnectionStringError, sbprov.ECONNSTR,
     "ModuleId: needs a DeviceId"),
    ({"HostName": HOST, "DeviceId": "d", "SharedAccessKey": ""}, sbprov.ConnectionStringError,
     sbprov.ECONNSTR, "SharedAccessKey: empty value"),
    ({"HostName": HOST, "DeviceId": "d;x", "x509": True}, sbprov.ConnectionStringError, sbprov.ECONNSTR,
     "DeviceId: value contains ';'"),
    ({"HostName": "bad host", "DeviceId": "d", "x509": True}, sbprov.IdentifierError, sbprov.EID, "HostName"),
    ({"HostName": HOST, "DeviceId": "d", "SharedAccessKey": "abc"}, sbprov.Base64Error, sbprov.EBASE64,
     "SharedAccessKey"),
    ({"HostName": HOST, "DeviceId": "d", "SharedAccessKey": key_of(65)}, sbprov.KeySizeError,
     sbprov.EKEYSIZE, "SharedAccessKey"),
    ({"HostName": HOST, "SharedAccessKeyName": "bad name", "SharedAccessKey": DEVICE_KEY},
     sbprov.IdentifierError, sbprov.EID, "SharedAccessKeyName"),
])
def test_build_errors(fields, cls, code, detail):
    raises(cls, code, azure.build_connection_string, **fields, match=detail)


@pytest.mark.parametrize("value", [1, b"dev1", ["d"], 1.0, False])
def test_build_wrong_value_types(value):
    with pytest.raises(TypeError, match="DeviceId: expected str or None"):
        azure.build_connection_string(HostName=HOST, DeviceId=value, x509=True)


def test_build_long_value_uses_heap_buffer():
    # A SharedAccessSignature has no length limit: far beyond the stack buffer.
    sas = SAS + "&x=" + "a" * 20000
    text = azure.build_connection_string(HostName=HOST, DeviceId="d", SharedAccessSignature=sas)
    assert text == f"HostName={HOST};DeviceId=d;SharedAccessSignature={sas}"
    assert azure.parse_connection_string(text)["SharedAccessSignature"] == sas


def test_non_utf8_bytes_round_trip():
    # Bytes that are not UTF-8 survive (surrogateescape) instead of crashing.
    raw = b"HostName=" + HOST.encode() + b";DeviceId=d;SharedAccessSignature=" + SAS.encode() + b"\xff"
    fields = azure.parse_connection_string(raw)
    assert fields["SharedAccessSignature"].encode("utf-8", "surrogateescape") == SAS.encode() + b"\xff"
    assert azure.build_connection_string(**fields).encode("utf-8", "surrogateescape") == raw
