"""Every error path: codes, exception classes, messages, types, NUL handling."""

import pickle

import pytest

import sbprov
from sbprov import azure
from sbprov import _sbprov_swig as raw

from conftest import DEVICE_KEY, FAR_EXPIRY, GROUP_KEY, b64, key_of

RID = "device-001"
URI = "hub.azure-devices.net/devices/dev1"


def raises(exc_type, code, fn, *args, match=None, **kwargs):
    """Call fn, expect exc_type with .code == code; return the exception."""
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    e = info.value
    assert isinstance(e, sbprov.Error)
    assert type(e.code) is int and e.code == code
    assert isinstance(e.message, str) and e.message
    if match is not None:
        assert match in e.message, e.message
    return e


# --------------------------------------------------------------------------
# The error model itself
# --------------------------------------------------------------------------

def test_result_codes_match_the_c_headers():
    for member in sbprov.Result:
        assert getattr(raw, f"SBPROV_{member.name}") == member.value
        assert getattr(sbprov, member.name) == member.value
    # every SBPROV_E* code that the headers define is known to the package
    c_codes = {name for name in dir(raw)
               if name.startswith("SBPROV_E") and isinstance(getattr(raw, name), int)}
    assert c_codes == {f"SBPROV_{m.name}" for m in sbprov.Result if m.name.startswith("E")}
    assert sbprov.EBASE64 == -5 and sbprov.Result.EBASE64 == -5


def test_error_attributes_and_str():
    e = raises(sbprov.Base64Error, sbprov.EBASE64, azure.derive_device_key, "ab-d", RID)
    assert e.message == "group key: '-' at character 3 is not Base64 (base64url is not accepted)"
    assert e.args == (e.code, e.message)
    assert e.result is sbprov.Result.EBASE64
    assert str(e) == f"{e.message} [SBPROV_EBASE64]"
    assert "Base64Error" in repr(e)
    assert isinstance(e, sbprov.InvalidInputError) and isinstance(e, ValueError)


def test_error_pickles():
    e = raises(sbprov.IdentifierError, sbprov.EID, azure.check_registration_id, "Bad")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is type(e) and e2.code == e.code and e2.message == e.message


def test_error_constructed_by_hand():
    e = sbprov.Error(-99, "custom")
    assert e.code == -99 and e.message == "custom" and e.result == -99
    assert str(e) == "custom [code -99]"


@pytest.mark.parametrize("code,cls,bases", [
    (sbprov.EINVAL, sbprov.InvalidInputError, (ValueError,)),
    (sbprov.EBASE64, sbprov.Base64Error, (sbprov.InvalidInputError, ValueError)),
    (sbprov.EKEYSIZE, sbprov.KeySizeError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.EID, sbprov.IdentifierError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.EEXPIRY, sbprov.ExpiryError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.ECONNSTR, sbprov.ConnectionStringError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.EBUFS, sbprov.BufferTooSmallError, ()),
    (sbprov.ENOMEM, sbprov.OutOfMemoryError, (MemoryError,)),
    (sbprov.ECRYPTO, sbprov.CryptoError, ()),
    (sbprov.ERANDOM, sbprov.RandomError, (sbprov.CryptoError,)),
    (sbprov.EINIT, sbprov.InitError, ()),
    (sbprov.ENOTFOUND, sbprov.NotFoundError, (LookupError,)),
    (sbprov.EKEY, sbprov.InvalidKeyError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.ESIGNATURE, sbprov.SignatureError, ()),
    (sbprov.EIO, sbprov.FileSystemError, (OSError,)),
    (sbprov.EPROVIDER, sbprov.ProviderError, (sbprov.CryptoError,)),
    (sbprov.EPASSPHRASE, sbprov.PassphraseError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.ESCRIPT, sbprov.ScriptError, ()),
    (sbprov.ETIMEOUT, sbprov.OperationTimeoutError, (TimeoutError, OSError)),
    (sbprov.EPARSE, sbprov.ParseError, (sbprov.InvalidInputError, ValueError)),
    (sbprov.EEXISTS, sbprov.AlreadyExistsError, (FileExistsError, OSError)),
    (sbprov.ETAMPERED, sbprov.TamperedError, ()),
    (sbprov.EFORMAT, sbprov.FormatError, ()),
    (sbprov.EUNSAFE, sbprov.UnsafeError, (PermissionError, OSError)),
    (sbprov.ERROR, sbprov.Error, ()),
    (-1000, sbprov.Error, ()),
])
def test_error_class_per_code(code, cls, bases):
    assert sbprov.error_class(code) is cls
    for base in (sbprov.Error, Exception) + bases:
        assert issubclass(cls, base)


def test_signature_error_is_not_an_input_error():
    # A failed verification must not be swallowed by "except ValueError".
    assert not issubclass(sbprov.SignatureError, ValueError)
    assert not issubclass(sbprov.SignatureError, sbprov.InvalidInputError)


@pytest.mark.parametrize("code,errno_name", [
    (sbprov.EIO, "EIO"), (sbprov.ETIMEOUT, "ETIMEDOUT"), (sbprov.EEXISTS, "EEXIST"),
])
def test_os_error_classes(code, errno_name):
    import errno
    e = sbprov.error_class(code)(code, "the detail")
    assert isinstance(e, OSError)
    assert e.errno == getattr(errno, errno_name) and e.strerror == "the detail"
    assert e.code == code and e.message == "the detail" and e.args == (code, "the detail")
    assert str(e) == f"the detail [SBPROV_{sbprov.Result(code).name}]"
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is type(e) and e2.code == code and e2.message == "the detail" and e2.errno == e.errno


def test_new_codes_have_descriptions():
    for code, text in [(sbprov.EKEY, "unusable key"), (sbprov.ESIGNATURE, "signature does not verify"),
                       (sbprov.EIO, "file-system error"), (sbprov.EPASSPHRASE, "missing or wrong passphrase"),
                       (sbprov.ESCRIPT, "external script failed"), (sbprov.ETIMEOUT, "timed out"),
                       (sbprov.EPARSE, "malformed text input"), (sbprov.EEXISTS, "already exists"),
                       (sbprov.EPROVIDER, "OpenSSL provider or store unusable")]:
        assert sbprov.strerror(code) == text
    assert sbprov.EKEY == -14 and sbprov.EEXISTS == -22


def test_strerror():
    assert sbprov.strerror(sbprov.EBASE64) == "not valid padded Base64"
    assert sbprov.strerror(0) == "success"
    assert sbprov.strerror(-12345) == "unknown error"
    assert sbprov.strerror(2**40) == "unknown error"
    with pytest.raises(TypeError):
        sbprov.strerror("x")


def test_message_is_the_detail_of_this_call():
    # Each failure carries its own detail, not a stale one.
    e1 = raises(sbprov.IdentifierError, sbprov.EID, azure.check_registration_id, "a b")
    e2 = raises(sbprov.IdentifierError, sbprov.EID, azure.check_registration_id, "abC")
    assert "' ' at position 2" in e1.message
    assert "upper-case 'C' at position 3" in e2.message


# --------------------------------------------------------------------------
# Base64 and key sizes
# --------------------------------------------------------------------------

BAD_BASE64 = [
    ("", "empty"),
    ("abc", "not a multiple of 4"),
    ("ab-d" * 6, "base64url is not accepted"),
    ("ab_d" * 6, "base64url is not accepted"),
    (" " + key_of(32)[1:], "not Base64"),
    (key_of(32)[:-1], "not a multiple of 4"),  # missing padding
    (key_of(32).rstrip("=") + "====", "not a multiple of 4"),
    ("AAAA" * 5 + "AB==", "non-zero bits"),
    ("AAAA" * 5 + "AAB=", "non-zero bits"),
    ("AAAA" * 5 + "A=A=", "misplaced '='"),
    ("AA=A" + "AAAA" * 5, "misplaced '='"),
    ("AAAA\n" * 5, "not a multiple of 4"),
    ("AAAA" * 5 + "\u00e9A=", "byte 0xc3 at character 21 is not Base64"),
]


@pytest.mark.parametrize("key,detail", BAD_BASE64)
def test_bad_base64_everywhere(key, detail):
    raises(sbprov.Base64Error, sbprov.EBASE64, azure.derive_device_key, key, RID, match=detail)
    raises(sbprov.Base64Error, sbprov.EBASE64, azure.Deriver, key, match=detail)
    raises(sbprov.Base64Error, sbprov.EBASE64, azure.derive_device_keys, key, [RID], match=detail)
    raises(sbprov.Base64Error, sbprov.EBASE64, azure.sas_token, URI, key, FAR_EXPIRY, match=detail)


@pytest.mark.parametrize("nbytes", [1, 8, 15, 65, 100, 1000])
def test_wrong_key_sizes(nbytes):
    key = key_of(nbytes)
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.derive_device_key, key, RID,
           match=f"decodes to {nbytes} bytes")
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.Deriver, key)
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.sas_token, URI, key, FAR_EXPIRY)


def test_huge_key_is_a_size_error():
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.derive_device_key, "A" * 8192, RID,
           match="far longer")


@pytest.mark.parametrize("nbytes", [16, 64])
def test_key_size_limits_accepted(nbytes):
    assert len(azure.derive_device_key(key_of(nbytes), RID)) == 44


@pytest.mark.parametrize("nbytes", [0, 15, 65, -1, 10**6])
def test_generate_key_bad_sizes(nbytes):
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.generate_key, nbytes)
    raises(sbprov.KeySizeError, sbprov.EKEYSIZE, azure.generate_keys, nbytes)


@pytest.mark.parametrize("nbytes", [True, 32.0, "32", None])
def test_generate_key_bad_types(nbytes):
    with pytest.raises(TypeError):
        azure.generate_key(nbytes)
    with pytest.raises(TypeError):
        azure.generate_keys(nbytes)


# --------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------

BAD_REGISTRATION_IDS = [
    ("", "empty"),
    ("Device1", "upper-case 'D' at position 1"),
    ("device-A", "upper-case 'A' at position 8"),
    ("dev ice", "' ' at position 4"),
    ("dev/ice", "'/' at position 4"),
    ("-device", "must start with a letter or digit"),
    (".device", "must start with a letter or digit"),
    ("device.", "must end with a letter, digit or '-'"),
    ("device_", "must end with a letter, digit or '-'"),
    ("a" * 129, "129 characters, at most 128"),
    ("d\u00e9vice", "byte 0xc3 at position 2"),
    ("dev\tice", "byte 0x09 at position 4"),
]


@pytest.mark.parametrize("rid,detail", BAD_REGISTRATION_IDS)
def test_bad_registration_ids(rid, detail):
    raises(sbprov.IdentifierError, sbprov.EID, azure.check_registration_id, rid, match=detail)
    raises(sbprov.IdentifierError, sbprov.EID, azure.derive_device_key, GROUP_KEY, rid, match=detail)
    raises(sbprov.IdentifierError, sbprov.EID, azure.derive_device_keys, GROUP_KEY, [RID, rid],
           match=detail)
    raises(sbprov.IdentifierError, sbprov.EID, azure.dps_registration_uri, "0ne00111111", rid,
           match=detail)
    with azure.Deriver(GROUP_KEY) as d:
        raises(sbprov.IdentifierError, sbprov.EID, d.derive, rid, match=detail)
        assert d.derive(RID)  # still usable after an error


def test_registration_id_checked_before_key():
    # The cheaper mistake is reported without touching the key.
    raises(sbprov.IdentifierError, sbprov.EID, azure.derive_device_key, "!!", "Bad")


@pytest.mark.parametrize("rid", ["a", "0", "a" * 128, "dev-", "a:b.c_d-e", "00-11-22"])
def test_good_registration_ids(rid):
    assert azure.check_registration_id(rid) is None


BAD_DEVICE_IDS = [
    ("", "empty"),
    ("dev ice", "' ' at position 4"),
    ("dev/ice", "'/' at position 4"),
    ("dev&ice", "'&' at position 4"),
    ("x" * 129, "at most 128"),
    ("d\u00e9v", "byte 0xc3"),
]


@pytest.mark.parametrize("did,detail", BAD_DEVICE_IDS)
def test_bad_device_ids(did, detail):
    raises(sbprov.IdentifierError, sbprov.EID, azure.check_device_id, did, match=detail)
    raises(sbprov.IdentifierError, sbprov.EID, azure.hub_device_uri, "h.net", did, match=detail)
    raises(sbprov.IdentifierError, sbprov.EID, azure.hub_module_uri, "h.net", "dev", did,
           match=detail)


@pytest.mark.parametrize("did", ["Device-1", "a", "x" * 128, "-._:+%#*?!(),=@$'"])
def test_good_device_ids(did):
    assert azure.check_device_id(did) is None


@pytest.mark.parametrize("host,detail", [
    ("", "empty"), ("https://hub.net", "without a scheme"), ("hub..net", "empty label"),
    (".hub", "empty label"), ("hub.", "empty label"), ("hub net", "' '"), ("h" * 254, "at most 253"),
])
def test_bad_hostnames(host, detail):
    raises(sbprov.IdentifierError, sbprov.EID, azure.hub_device_uri, host, "dev", match=detail)


@pytest.mark.parametrize("scope", ["", "0ne-0011", "0ne 1", "a" * 65])
def test_bad_id_scopes(scope):
    raises(sbprov.IdentifierError, sbprov.EID, azure.dps_registration_uri, scope, RID, match="ID scope")


def test_uri_helpers():
    assert azure.hub_device_uri("hub.azure-devices.net", "dev1") == "hub.azure-devices.net/devices/dev1"
    assert azure.hub_device_uri("h.net", "a#b") == "h.net/devices/a%23b"
    assert azure.hub_module_uri("h.net", "d", "m(1)") == "h.net/devices/d/modules/m%281%29"
    assert azure.dps_registration_uri("0ne00111111", "dev-1") == "0ne00111111/registrations/dev-1"


# --------------------------------------------------------------------------
# SAS tokens
# --------------------------------------------------------------------------

def test_expiry_before_2020():
    raises(sbprov.ExpiryError, sbprov.EEXPIRY, azure.sas_token, URI, DEVICE_KEY, 1577836799,
           match="before 2020-01-01")
    for expiry in (0, -1, 1000, 1577836799, -2**63):
        raises(sbprov.ExpiryError, sbprov.EEXPIRY, azure.sas_token, URI, DEVICE_KEY, expiry)
    assert azure.sas_token(URI, DEVICE_KEY, 1577836800)


def test_expiry_not_after_now():
    now = 1700000000
    raises(sbprov.ExpiryError, sbprov.EEXPIRY, azure.sas_token, URI, DEVICE_KEY, now, now=now,
           match="not after now")
    raises(sbprov.ExpiryError, sbprov.EEXPIRY, azure.sas_token, URI, DEVICE_KEY, now - 1, now=now)
    assert azure.sas_token(URI, DEVICE_KEY, now + 1, now=now)
    # now=None (default) and now=0 both mean "no check"
    assert azure.sas_token(URI, DEVICE_KEY, 1600000000) == azure.sas_token(URI, DEVICE_KEY, 1600000000, now=0)


def test_expiry_checked_first():
    # expiry is the first thing checked, before the URI and the key
    raises(sbprov.ExpiryError, sbprov.EEXPIRY, azure.sas_token, "bad uri", "bad key", 5)


@pytest.mark.parametrize("expiry", [True, False, 1.7e9, 1700000000.0, "1700000000", None, b"1"])
def test_expiry_wrong_types(expiry):
    with pytest.raises(TypeError):
        azure.sas_token(URI, DEVICE_KEY, expiry)


@pytest.mark.parametrize("now", [True, 1.5, "0"])
def test_now_wrong_types(now):
    with pytest.raises(TypeError):
        azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, now=now)


def test_expiry_accepts_int_like():
    class Epoch:
        def __index__(self):
            return FAR_EXPIRY
    assert azure.sas_token(URI, DEVICE_KEY, Epoch()) == azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY)


def test_expiry_overflow():
    with pytest.raises(OverflowError):
        azure.sas_token(URI, DEVICE_KEY, 2**63)
    with pytest.raises(OverflowError):
        azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, now=-2**63 - 1)


def test_now_is_keyword_only():
    with pytest.raises(TypeError):
        azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, None, 1)


@pytest.mark.parametrize("uri,detail", [
    ("", "empty"),
    ("https://hub.net/devices/d", "scheme"),
    ("hub.net/devices/d d", "control character or space (0x20) at position 18"),
    ("hub.net/\x7f", "0x7f"),
    ("h" * 2049, "2049 bytes, at most 2048"),
])
def test_bad_resource_uris(uri, detail):
    raises(sbprov.IdentifierError, sbprov.EID, azure.sas_token, uri, DEVICE_KEY, FAR_EXPIRY, match=detail)


def test_longest_resource_uri():
    uri = "h" * 2048
    assert azure.sas_token(uri, DEVICE_KEY, FAR_EXPIRY).startswith("SharedAccessSignature sr=hhh")
    # a URI of 2048 bytes that all need encoding: a 6 KiB token (heap-buffer path)
    uri = "/" * 2048
    token = azure.sas_token(uri, DEVICE_KEY, FAR_EXPIRY)
    assert token.startswith("SharedAccessSignature sr=" + "%2F" * 2048 + "&sig=")


@pytest.mark.parametrize("policy", ["", "reg istration", "a/b", "p" * 129, "r\u00e9g"])
def test_bad_policy_names(policy):
    raises(sbprov.IdentifierError, sbprov.EID, azure.sas_token, URI, DEVICE_KEY, FAR_EXPIRY, policy,
           match="policy name")


# --------------------------------------------------------------------------
# NUL characters: rejected, never truncated
# --------------------------------------------------------------------------

NUL_CALLS = [
    ("check_registration_id", lambda v: azure.check_registration_id(v), "registration_id"),
    ("check_device_id", lambda v: azure.check_device_id(v), "device_id"),
    ("derive id", lambda v: azure.derive_device_key(GROUP_KEY, v), "registration_id"),
    ("derive key", lambda v: azure.derive_device_key(v, RID), "group_key"),
    ("Deriver", lambda v: azure.Deriver(v), "group_key"),
    ("Deriver.derive", lambda v: azure.Deriver(GROUP_KEY).derive(v), "registration_id"),
    ("fleet", lambda v: azure.derive_device_keys(GROUP_KEY, [RID, v]), "registration_id"),
    ("sas uri", lambda v: azure.sas_token(v, DEVICE_KEY, FAR_EXPIRY), "resource_uri"),
    ("sas key", lambda v: azure.sas_token(URI, v, FAR_EXPIRY), "key"),
    ("sas policy", lambda v: azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, v), "policy"),
    ("url_encode", lambda v: azure.url_encode(v), "data"),
    ("hub host", lambda v: azure.hub_device_uri(v, "d"), "hostname"),
    ("hub device", lambda v: azure.hub_device_uri("h.net", v), "device_id"),
    ("module", lambda v: azure.hub_module_uri("h.net", "d", v), "module_id"),
    ("dps scope", lambda v: azure.dps_registration_uri(v, RID), "id_scope"),
    ("dps id", lambda v: azure.dps_registration_uri("0ne1", v), "registration_id"),
    ("parse", lambda v: azure.parse_connection_string(v), "s"),
    ("build", lambda v: azure.build_connection_string(HostName="h.net", DeviceId=v,
                                                      SharedAccessKey=DEVICE_KEY), "DeviceId"),
]


@pytest.mark.parametrize("name,call,argname", NUL_CALLS, ids=[c[0] for c in NUL_CALLS])
@pytest.mark.parametrize("value", ["a\0b", "\0", "device-1\0", "\0" * 100])
def test_str_with_nul_is_rejected(name, call, argname, value):
    e = raises(sbprov.InvalidInputError, sbprov.EINVAL, call, value)
    assert e.message.startswith(f"{argname}: str contains a NUL character at index {value.index(chr(0))}")
    assert "rejected rather than truncated" in e.message


@pytest.mark.parametrize("value", [b"a\0b", b"device-1\0"])
def test_bytes_with_nul_rejected_for_nul_terminated_parameters(value):
    e = raises(sbprov.InvalidInputError, sbprov.EINVAL, azure.check_registration_id, value)
    assert "bytes contains a NUL" in e.message


def test_bytes_with_nul_in_length_parameters_reach_the_library():
    # (pointer, length) parameters see every byte, so the library judges them.
    raises(sbprov.Base64Error, sbprov.EBASE64, azure.derive_device_key, GROUP_KEY.encode()[:-4] + b"AA\0=",
           RID, match="byte 0x00")
    raises(sbprov.ConnectionStringError, sbprov.ECONNSTR, azure.parse_connection_string,
           b"HostName=h.net;DeviceId=d\0;SharedAccessKey=" + DEVICE_KEY.encode(), match="NUL")
    assert azure.url_encode(b"a\0b") == "a%00b"
    assert azure.url_encode(bytearray(b"\0")) == "%00"


# --------------------------------------------------------------------------
# Wrong types
# --------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [None, 1, 1.0, ["a"], object()])
def test_wrong_types(bad):
    calls = [
        lambda: azure.derive_device_key(bad, RID),
        lambda: azure.derive_device_key(GROUP_KEY, bad),
        lambda: azure.Deriver(bad),
        lambda: azure.check_registration_id(bad),
        lambda: azure.check_device_id(bad),
        lambda: azure.sas_token(bad, DEVICE_KEY, FAR_EXPIRY),
        lambda: azure.sas_token(URI, bad, FAR_EXPIRY),
        lambda: azure.url_encode(bad),
        lambda: azure.hub_device_uri(bad, "d"),
        lambda: azure.hub_module_uri("h", "d", bad),
        lambda: azure.dps_registration_uri(bad, RID),
        lambda: azure.parse_connection_string(bad),
    ]
    if bad is not None:
        calls.append(lambda: azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, bad))
    with azure.Deriver(GROUP_KEY) as d:
        calls.append(lambda: d.derive(bad))
        for call in calls:
            with pytest.raises(TypeError):
                call()


def test_type_error_names_the_parameter():
    with pytest.raises(TypeError, match="registration_id: expected str or bytes, not int"):
        azure.derive_device_key(GROUP_KEY, 5)
    with pytest.raises(TypeError, match="group_key: expected str or a bytes-like object, not int"):
        azure.derive_device_key(5, RID)


def test_fleet_rejects_a_single_string():
    with pytest.raises(TypeError, match="iterable of IDs"):
        azure.derive_device_keys(GROUP_KEY, "device-1")
    assert azure.derive_device_keys(GROUP_KEY, []) == []
    assert azure.derive_device_keys(GROUP_KEY, iter(["a", "b"])) == [
        azure.derive_device_key(GROUP_KEY, "a"), azure.derive_device_key(GROUP_KEY, "b")]


def test_surrogate_escaped_str_is_encoded_back():
    # Lone surrogates from a surrogateescape decode go back to their bytes.
    assert azure.url_encode(b"\xff".decode("utf-8", "surrogateescape")) == "%FF"
    raises(sbprov.IdentifierError, sbprov.EID, azure.check_device_id,
           b"d\xff".decode("utf-8", "surrogateescape"), match="byte 0xff at position 2")


def test_none_only_where_null_means_absent():
    # None is refused before reaching C, except for parameters documented as
    # optional (policy: no skn; a connection-string value: remove the field).
    with pytest.raises(TypeError, match="device_id: expected str or bytes, not NoneType"):
        raw.sbprov_azure_check_device_id(None)
    assert "skn=" not in azure.sas_token(URI, DEVICE_KEY, FAR_EXPIRY, None)
    cs = raw.sbprov_azure_connstr_new()
    raw.sbprov_azure_connstr_set(cs, 1, "dev")
    raw.sbprov_azure_connstr_set(cs, 1, None)
    assert raw.sbprov_azure_connstr_get(cs, 1) is None
