"""sbprov.identity: every constructor and method, the mapping protocol, every
error path, and the canonical JSON against an independent Python
implementation of what the Mender server computes with Go's encoding/json."""

import copy
import hashlib
import os
import pickle
import random
import sys
import threading
import time
from pathlib import Path

import pytest

import sbprov
from sbprov.identity import Identity, SOURCES, DIGEST_SIZE


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


# --------------------------------------------------------------------------
# Independent reference: Go's encoding/json as the Mender server uses it
# (json.Marshal of map[string]interface{} after an Unmarshal round trip).
# --------------------------------------------------------------------------

def go_decode(raw: bytes) -> str:
    """Decode as Go's utf8.DecodeRune does, rune by rune: a byte that does not
    start a valid sequence (stray continuation, cut sequence, overlong form,
    surrogate, above U+10FFFF) becomes one U+FFFD and decoding resumes at the
    next byte. (Python's own 'replace' handler replaces maximal subparts,
    which differs: b"\\xe2\\x82" is one U+FFFD there and two in Go.)"""
    out = []
    i = 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                out.append(ch)
                i += n
                break
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def go_quote(s: str) -> str:
    """A JSON string as Go's encoder writes it with HTML escaping (Go >= 1.22
    writes \\b and \\f)."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif c < 0x20 or ch in "<>&" or c in (0x2028, 0x2029):
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ref_canonical(items) -> bytes:
    """items: [(name bytes, [value bytes, ...]), ...] in insertion order (a
    repeated name already merged). The client marshals its map (keys sorted
    by their raw bytes; invalid bytes written as \\ufffd); the server
    unmarshals (a duplicate key keeps the last one) and marshals again."""
    merged = {}
    for name in sorted(n for n, _ in items):
        values = dict(items)[name]
        merged[go_decode(name)] = [go_decode(v) for v in values]
    parts = []
    for name in sorted(merged, key=lambda k: k.encode("utf-8")):
        values = merged[name]
        if len(values) == 1:
            rendered = go_quote(values[0])
        else:
            rendered = "[" + ",".join(go_quote(v) for v in values) + "]"
        parts.append(go_quote(name) + ":" + rendered)
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def identity_of(pairs):
    """An Identity from (name, value) bytes pairs, and the merged items."""
    ident = Identity()
    merged = {}
    order = []
    for name, value in pairs:
        ident.add(name, value)
        if name not in merged:
            merged[name] = []
            order.append(name)
        merged[name].append(value)
    return ident, [(n, merged[n]) for n in order]


def check_canonical(pairs):
    ident, items = identity_of(pairs)
    want = ref_canonical(items)
    got = ident.canonical_json()
    assert got.encode("utf-8", "surrogateescape") == want, (pairs, got, want)
    assert ident.digest() == hashlib.sha256(want).hexdigest()
    return got


def test_reference_matches_the_documented_examples():
    # docs/identity.md and the Go reference behaviour this file re-implements.
    assert go_decode(b"\x80\xe2\x82") == "\ufffd" * 3
    assert go_decode(b"\xed\xa0\x80") == "\ufffd" * 3  # a UTF-16 surrogate
    assert go_decode(b"\xc0\xaf") == "\ufffd" * 2  # overlong
    assert go_decode(b"\xf4\x90\x80\x80") == "\ufffd" * 4  # above U+10FFFF
    assert go_decode("h\u00e9\U0001F600".encode()) == "h\u00e9\U0001F600"
    assert go_quote("A<B>&C") == '"A\\u003cB\\u003e\\u0026C"'
    assert ref_canonical([(b"mac", [b"00:11:22:33:44:55"])]) == b'{"mac":"00:11:22:33:44:55"}'
    assert hashlib.sha256(b'{"mac":"00:11:22:33:44:55"}').hexdigest() == \
        "bfdbc2eced48df8a2609a8908dacf1a92d13febe35ff3c4a061caef57d30dc27"


TRICKY = [
    [(b"mac", b"00:11:22:33:44:55")],
    [(b"b", b"2"), (b"a", b"1"), (b"c", b"3"), (b"c", b"4")],
    [(b"sku", b"A<B>&C")],
    [(b"v", b"\x80\xe2\x82")],
    [(b"q", b'say "hi" \\ back/slash')],
    [(b"ctl", bytes(range(1, 32)).replace(b"\n", b"").replace(b"\r", b"") + b"\x7f")],
    [(b"bf", b"\b\f\t")],
    [(b"ls", "line\u2028para\u2029end".encode())],
    [(b"astral", "\U0001F600 \U00010000 \U0010FFFF".encode())],
    [(b"bad", b"\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 \xff\xfe \xf0\x9f\x98")],
    [(b"empty", b"")],
    [(b"Z", b"upper"), (b"a", b"lower"), (b"_", b"under"), (b"a\xc3\xa9", b"utf8"), (b"ab", b"prefix")],
    [(b"k\xff", b"ff"), (b"k\xfe", b"fe")],  # one key for the server: the last in byte order wins
    [(b"k\xef\xbf\xbd", b"real"), (b"k\xff", b"invalid")],
    [(b"k\xff", b"invalid"), (b"k\xef\xbf\xbd", b"real")],
    [(b"multi", b"1"), (b"multi", b"<2>"), (b"multi", b"\x80")],
    [(b"  blanks  ", b"  kept  ")],
    [("\u00fcml\u00e4ut".encode(), "\u65e5\u672c\u8a9e".encode())],
    [(b"k", b"a=b=c")],
    [(b"k<&>", b"v")],
]


@pytest.mark.parametrize("pairs", TRICKY, ids=[str(i) for i in range(len(TRICKY))])
def test_canonical_json_tricky(pairs):
    check_canonical(pairs)


def test_canonical_json_documented_examples():
    assert Identity.from_text("mac=00:11:22:33:44:55").canonical_json() == '{"mac":"00:11:22:33:44:55"}'
    assert Identity.from_text("b=2\na=1\nc=3\nc=4\n").canonical_json() == '{"a":"1","b":"2","c":["3","4"]}'
    assert Identity.from_text("sku=A<B>&C").canonical_json() == '{"sku":"A\\u003cB\\u003e\\u0026C"}'
    assert Identity.from_text(b"v=\x80\xe2\x82").canonical_json() == '{"v":"\ufffd\ufffd\ufffd"}'
    assert Identity.from_text("mac=00:11:22:33:44:55").digest() == \
        "bfdbc2eced48df8a2609a8908dacf1a92d13febe35ff3c4a061caef57d30dc27"


def test_canonical_json_random():
    rng = random.Random(20240611)
    alphabet = [b"a", b"Z", b"0", b"<", b">", b"&", b'"', b"\\", b"\t", b"\x01", b"\x1f", b"\x7f",
                b"\b", b"\f", b"/", b"\xc3\xa9", "\u2028".encode(), "\u2029".encode(),
                "\U0001F600".encode(), b"\x80", b"\xff", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b" "]
    for _ in range(300):
        pairs = []
        for _ in range(rng.randint(1, 6)):
            name = b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))).replace(b"=", b"")
            value = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
            pairs.append((name, value))
            if rng.random() < 0.2:
                pairs.append((name, value + b"x"))
        check_canonical(pairs)


# --------------------------------------------------------------------------
# Construction and the mapping protocol
# --------------------------------------------------------------------------

def test_empty_identity():
    ident = Identity()
    assert len(ident) == 0 and list(ident) == [] and ident.items() == []
    assert "mac" not in ident and ident.get("mac") is None and ident.first("mac") is None
    with pytest.raises(KeyError):
        ident["mac"]
    e = raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.canonical_json)
    assert "no attributes" in e.message
    raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.digest)
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, ident.registration_id, "{mac}")
    assert repr(ident) == "<sbprov.identity.Identity {}>"


def test_add_and_read():
    ident = Identity()
    ident.add("mac", "00:11:22:33:44:55")
    ident.add("serial", "SN-1")
    ident.add(b"serial", b"SN-2")
    ident.add("site", "hq")
    assert len(ident) == 3
    assert list(ident) == ["mac", "serial", "site"]
    assert list(ident.keys()) == ["mac", "serial", "site"]
    assert ident["serial"] == ["SN-1", "SN-2"]
    assert ident[b"serial"] == ["SN-1", "SN-2"]
    assert ident.get("serial") == ["SN-1", "SN-2"]
    assert ident.get("nope", "dflt") == "dflt"
    assert ident.first("serial") == "SN-1"
    assert ident.items() == [("mac", ["00:11:22:33:44:55"]), ("serial", ["SN-1", "SN-2"]), ("site", ["hq"])]
    assert list(ident.values()) == [["00:11:22:33:44:55"], ["SN-1", "SN-2"], ["hq"]]
    assert "serial" in ident and b"site" in ident and "x" not in ident and 3 not in ident
    assert dict(ident) == {"mac": ["00:11:22:33:44:55"], "serial": ["SN-1", "SN-2"], "site": ["hq"]}
    # returned lists are copies
    ident["serial"].append("nope")
    assert ident["serial"] == ["SN-1", "SN-2"]
    assert ident.canonical_json() == '{"mac":"00:11:22:33:44:55","serial":["SN-1","SN-2"],"site":"hq"}'
    assert len(ident.digest()) == DIGEST_SIZE == 64


def test_invalid_utf8_round_trips():
    ident = Identity()
    ident.add(b"n\xff", b"v\xfe")
    assert list(ident) == ["n\udcff"]
    assert ident["n\udcff"] == ["v\udcfe"]
    assert ident[b"n\xff"] == ["v\udcfe"]
    assert ident["n\udcff"][0].encode("utf-8", "surrogateescape") == b"v\xfe"
    # a str with lone surrogates goes back to the same bytes
    ident.add("n\udcff", "w\udcfd")
    assert ident[b"n\xff"] == ["v\udcfe", "w\udcfd"]
    assert ident.canonical_json() == '{"n\ufffd":["v\ufffd","w\ufffd"]}'


def test_equality_copy_pickle_repr():
    a = Identity.from_text("mac=aa:bb:cc:dd:ee:ff\nserial=1\nserial=2\n")
    b = Identity()
    b.add("mac", "aa:bb:cc:dd:ee:ff")
    b.add("serial", "1")
    b.add("serial", "2")
    assert a == b and a == {"mac": ["aa:bb:cc:dd:ee:ff"], "serial": ["1", "2"]}
    assert a != Identity.from_text("mac=aa:bb:cc:dd:ee:ff\nserial=2\nserial=1\n")
    with pytest.raises(TypeError):
        hash(a)
    for dup in (copy.copy(a), copy.deepcopy(a), a.copy(), pickle.loads(pickle.dumps(a))):
        assert type(dup) is Identity and dup == a and dup.digest() == a.digest()
        dup.add("extra", "x")
        assert "extra" not in a
    weird = Identity()
    weird.add(b"k\xff", b"v\x80")
    assert pickle.loads(pickle.dumps(weird))[b"k\xff"] == ["v\udc80"]
    r = repr(a)
    assert r.startswith("<sbprov.identity.Identity {") and "'serial': ['1', '2']" in r and "'mac': 'aa:bb" in r
    big = Identity()
    for i in range(200):
        big.add(f"name{i}", "v" * 100)
    assert len(repr(big)) < 1100 and repr(big).endswith("...}>")


def test_add_errors():
    ident = Identity()
    ident.add("ok", "1")
    cases = [
        ("", "v", "empty"),
        ("a=b", "v", "'='"),
        ("a\nb", "v", None),
        ("a\rb", "v", None),
        ("n", "a\nb", None),
        ("n", "a\rb", None),
        ("x" * 1025, "v", "1024"),
        ("n", "v" * 4097, "4096"),
    ]
    for name, value, fragment in cases:
        raises(sbprov.ParseError, sbprov.EPARSE, ident.add, name, value, match=fragment)
    assert ident.items() == [("ok", ["1"])]  # left as it was
    ident.add("x" * 1024, "v" * 4096)  # the limits themselves are fine
    raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.add, "a\0b", "v", match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.add, "n", "v\0", match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.add, b"a\0", "v", match="NUL")
    for bad in (None, 1, ["x"], bytearray(b"x")):
        with pytest.raises(TypeError):
            ident.add(bad, "v")
        with pytest.raises(TypeError):
            ident.add("n", bad)


def test_limits_of_attributes_and_values():
    ident = Identity()
    for i in range(256):
        ident.add(f"a{i}", "v")
    e = raises(sbprov.ParseError, sbprov.EPARSE, ident.add, "one-more", "v")
    assert "256" in e.message
    ident.add("a0", "second value of an existing name")  # not a new attribute
    many = Identity()
    for i in range(256):
        many.add("k", str(i))
    raises(sbprov.ParseError, sbprov.EPARSE, many.add, "k", "257th", match="256")
    assert len(many["k"]) == 256


def test_from_text():
    ident = Identity.from_text("mac=00:11:22:33:44:55\r\n\nserial=SN=1\nserial=SN-2\n\n")
    assert ident.items() == [("mac", ["00:11:22:33:44:55"]), ("serial", ["SN=1", "SN-2"])]
    assert Identity.from_text(b"a=1\nb=2").items() == [("a", ["1"]), ("b", ["2"])]
    assert Identity.from_text(bytearray(b"a=1")).items() == [("a", ["1"])]
    assert Identity.from_text(memoryview(b"xa=1x")[1:4]).items() == [("a", ["1"])]
    assert len(Identity.from_text("")) == 0
    assert Identity.from_text("k= spaces kept ")["k"] == [" spaces kept "]
    assert Identity.from_text("k=")["k"] == [""]


@pytest.mark.parametrize("text,fragment", [
    ("a=1\ngarbage\n", "line 2"),
    ("=x\n", "line 1"),
    ("a=1\nb=2\rc\n", "line 2"),
    (b"a=1\nb=\x00\n", "line 2"),
    ("k=" + "v" * 4097, "4096"),
])
def test_from_text_errors(text, fragment):
    raises(sbprov.ParseError, sbprov.EPARSE, Identity.from_text, text, match=fragment)


def test_from_text_type_and_nul_errors():
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_text, "a=\0", match="NUL")
    for bad in (None, 42, ["a=1"]):
        with pytest.raises(TypeError):
            Identity.from_text(bad)


# --------------------------------------------------------------------------
# Registration IDs
# --------------------------------------------------------------------------

def test_registration_id():
    ident = Identity.from_text("mac=AA:BB:CC:DD:EE:0F\nsite=hq\nserial=SN-123.4\nodd:name=X-Y\n")
    assert ident.registration_id("gw-{mac:compact}") == "gw-aabbccddee0f"
    assert ident.registration_id("{site}-{serial:compact}") == "hq-sn1234"
    assert ident.registration_id("{serial:lower}") == "sn-123.4"
    assert ident.registration_id("{odd:name:lower}") == "x-y"
    assert ident.registration_id(b"plain-id") == "plain-id"


@pytest.mark.parametrize("template,exc,code,fragment", [
    ("{mac}", sbprov.IdentifierError, sbprov.EID, None),           # upper case
    ("gw-{missing}", sbprov.NotFoundError, sbprov.ENOTFOUND, "missing"),
    ("gw-{mac", sbprov.ParseError, sbprov.EPARSE, None),
    ("gw-mac}", sbprov.ParseError, sbprov.EPARSE, None),
    ("gw-{}", sbprov.ParseError, sbprov.EPARSE, None),
    ("gw-{mac:upper}", sbprov.ParseError, sbprov.EPARSE, "upper"),
    ("{{x}}", sbprov.IdentifierError, sbprov.EID, None),
    ("", sbprov.IdentifierError, sbprov.EID, None),
    ("gw-{site}" + "x" * 200, sbprov.IdentifierError, sbprov.EID, None),
])
def test_registration_id_errors(template, exc, code, fragment):
    ident = Identity.from_text("mac=AA:BB:CC:DD:EE:0F\nsite=hq\n")
    raises(exc, code, ident.registration_id, template, match=fragment)


def test_registration_id_type_errors():
    ident = Identity.from_text("a=b")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, ident.registration_id, "{a}\0", match="NUL")
    with pytest.raises(TypeError):
        ident.registration_id(None)


# --------------------------------------------------------------------------
# from_system on fake sysfs and /etc trees
# --------------------------------------------------------------------------

def make_if(root: Path, name: str, *, type_=1, ifindex=2, address="00:1b:21:0a:0b:0c", device=True):
    d = root / "class" / "net" / name
    d.mkdir(parents=True)
    if type_ is not None:
        (d / "type").write_text(f"{type_}\n")
    if ifindex is not None:
        (d / "ifindex").write_text(f"{ifindex}\n")
    if address is not None:
        (d / "address").write_text(f"{address}\n")
    if device:
        target = root / "devices" / f"pci-{name}"
        target.mkdir(parents=True)
        (d / "device").symlink_to(target)
    return d


@pytest.fixture
def sysfs(tmp_path):
    root = tmp_path / "sys"
    (root / "class" / "net").mkdir(parents=True)
    return root


@pytest.fixture
def etc(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    return root


def test_from_system_picks_lowest_ifindex_physical(sysfs):
    make_if(sysfs, "lo", type_=772, ifindex=1, address="00:00:00:00:00:00", device=False)
    make_if(sysfs, "eth1", ifindex=5, address="00:1B:21:00:00:05")
    make_if(sysfs, "eth0", ifindex=3, address="00:1B:21:00:00:03")
    make_if(sysfs, "veth0", ifindex=2, address="02:00:00:00:00:02")       # virtual by name
    make_if(sysfs, "eth7", ifindex=1, address="00:1b:21:00:00:07", device=False)  # no device link
    (sysfs / "class" / "net" / "bonding_masters").write_text("\n")        # not an interface
    ident = Identity.from_system(sysfs_root=str(sysfs))
    assert ident.items() == [("mac", ["00:1b:21:00:00:03"])]  # lower case
    assert Identity.from_system("mac", sysfs_root=sysfs) == ident  # str source, PathLike root


def test_from_system_globs(sysfs):
    make_if(sysfs, "eth0", ifindex=3, address="00:1b:21:00:00:03")
    make_if(sysfs, "wlan0", ifindex=2, address="00:1b:21:00:00:02", device=False)
    make_if(sysfs, "br0", ifindex=1, address="00:1b:21:00:00:01")
    assert Identity.from_system(sysfs_root=sysfs)["mac"] == ["00:1b:21:00:00:03"]
    # physical globs win over "no device link" and over the virtual list
    assert Identity.from_system(sysfs_root=sysfs, physical=["wlan*"])["mac"] == ["00:1b:21:00:00:02"]
    assert Identity.from_system(sysfs_root=sysfs, physical="wlan0, br0")["mac"] == ["00:1b:21:00:00:01"]
    # replacing the virtual list: with it empty, br0 (which has a device) counts
    assert Identity.from_system(sysfs_root=sysfs, virtual=[])["mac"] == ["00:1b:21:00:00:01"]
    assert Identity.from_system(sysfs_root=sysfs, virtual="")["mac"] == ["00:1b:21:00:00:01"]
    e = raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, sysfs_root=sysfs,
               virtual=["eth*", "br*"])
    assert "eth0: virtual (name matches 'eth*')" in e.message
    assert "wlan0: virtual (no device link)" in e.message
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, sysfs_root=sysfs,
           physical=["eth0,eth1"], match="','")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, sysfs_root=sysfs,
           physical=["x" * 300], match="255")


def test_from_system_skip_local_mac(sysfs):
    make_if(sysfs, "eth0", ifindex=2, address="02:11:22:33:44:55")
    make_if(sysfs, "eth1", ifindex=3, address="00:11:22:33:44:66")
    assert Identity.from_system(sysfs_root=sysfs)["mac"] == ["02:11:22:33:44:55"]
    assert Identity.from_system(sysfs_root=sysfs, skip_local_mac=True)["mac"] == ["00:11:22:33:44:66"]


def test_from_system_no_interface(sysfs):
    make_if(sysfs, "lo", type_=772, ifindex=1, device=False)
    make_if(sysfs, "eth0", ifindex=2, address="00:00:00:00:00:00")
    make_if(sysfs, "eth1", ifindex=3, address="not-a-mac")
    e = raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, sysfs_root=sysfs)
    assert "lo: type 772, not Ethernet" in e.message
    assert "all zeros" in e.message and "not a MAC" in e.message
    assert isinstance(e, LookupError)


def test_from_system_unreadable_sysfs(tmp_path, sysfs):
    raises(sbprov.FileSystemError, sbprov.EIO, Identity.from_system, sysfs_root=tmp_path / "nowhere",
           match="class/net")
    d = make_if(sysfs, "eth0")
    (d / "type").unlink()
    (d / "type").mkdir()  # exists but cannot be read as a file
    e = raises(sbprov.FileSystemError, sbprov.EIO, Identity.from_system, sysfs_root=sysfs, match="eth0/type")
    assert isinstance(e, OSError) and e.errno == __import__("errno").EIO


def test_from_system_all_sources(sysfs, etc):
    make_if(sysfs, "eth0", ifindex=2, address="00:1b:21:0a:0b:0c")
    dmi = sysfs / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "product_serial").write_text("  SN-42 \n")
    (dmi / "product_uuid").write_text("4c4c4544-0042-3510-8052-b4c04f4e3532\n")
    (etc / "etc" / "machine-id").write_text("0123456789abcdef0123456789ABCDEF\n")
    ident = Identity.from_system(["hostname", "product_uuid", "serial", "machine_id", "mac"],
                                 sysfs_root=sysfs, etc_root=etc)
    assert list(ident) == ["mac", "machine_id", "serial", "product_uuid", "hostname"]  # fixed order
    assert ident["serial"] == ["SN-42"]
    assert ident["machine_id"] == ["0123456789abcdef0123456789ABCDEF"]
    assert ident["product_uuid"] == ["4c4c4544-0042-3510-8052-b4c04f4e3532"]
    assert ident["hostname"] == [os.uname().nodename]
    assert Identity.from_system("serial,machine_id", sysfs_root=sysfs, etc_root=etc).items() == [
        ("machine_id", ["0123456789abcdef0123456789ABCDEF"]), ("serial", ["SN-42"])]
    assert set(SOURCES) == {"mac", "machine_id", "serial", "product_uuid", "hostname"}


def test_from_system_missing_attributes(sysfs, etc):
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, ["machine_id"], etc_root=etc,
           match="machine-id does not exist")
    (etc / "etc" / "machine-id").write_text("uninitialized\n")
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, ["machine_id"], etc_root=etc,
           match="not 32 hex digits")
    (etc / "etc" / "machine-id").unlink()
    (etc / "etc" / "machine-id").mkdir()
    raises(sbprov.FileSystemError, sbprov.EIO, Identity.from_system, ["machine_id"], etc_root=etc)
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, ["serial"], sysfs_root=sysfs,
           match="product_serial")
    dmi = sysfs / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "product_uuid").write_text("   \n")
    raises(sbprov.NotFoundError, sbprov.ENOTFOUND, Identity.from_system, ["product_uuid"], sysfs_root=sysfs,
           match="empty")


def test_from_system_argument_errors(sysfs):
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, [], sysfs_root=sysfs, match="sources")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, "", sysfs_root=sysfs, match="sources")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, ["mac", "imei"], match="imei")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, sysfs_root=str(sysfs) + "\0x",
           match="NUL")
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_system, sysfs_root="/" + "x" * 5000,
           match="too long")
    with pytest.raises(TypeError):
        Identity.from_system(42)
    with pytest.raises(TypeError):
        Identity.from_system(physical=42)
    with pytest.raises(TypeError):
        Identity.from_system(skip_local_mac="yes")
    with pytest.raises(TypeError):
        Identity.from_system(sysfs_root=42)


# --------------------------------------------------------------------------
# from_script with scripts this test writes
# --------------------------------------------------------------------------

@pytest.fixture
def script(tmp_path):
    counter = [0]

    def write(body: str, mode: int = 0o755) -> Path:
        counter[0] += 1
        path = tmp_path / f"identity-{counter[0]}.sh"
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(mode)
        return path

    return write


def test_from_script(script):
    path = script('echo "mac=00:11:22:33:44:55"\necho serial=1\necho serial=2\necho noise >&2\n')
    ident = Identity.from_script(path)
    assert ident.items() == [("mac", ["00:11:22:33:44:55"]), ("serial", ["1", "2"])]
    assert Identity.from_script(str(path), timeout_ms=5000, max_output=100) == ident
    assert Identity.from_script(os.fsencode(path)) == ident


def test_from_script_environment(script):
    path = script('echo "path=$PATH"\necho "home=${HOME:-unset}"\nread line && echo "stdin=$line"\n'
                  'echo "args=$#"\n')
    ident = Identity.from_script(path)
    assert ident["path"] == ["/usr/sbin:/usr/bin:/sbin:/bin"]
    assert ident["home"] == ["unset"]
    assert "stdin" not in ident  # stdin is /dev/null
    assert ident["args"] == ["0"]


def test_from_script_failures(script, tmp_path):
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("echo a=1\nexit 3\n"),
           match="exited with status 3")
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("kill -SEGV $$\n"),
           match="signal 11")
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("true\n"))  # printed nothing
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("echo a=1\n", mode=0o644))
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, tmp_path / "missing.sh",
           match="No such file")
    raises(sbprov.ParseError, sbprov.EPARSE, Identity.from_script, script("echo a=1\necho hello\n"),
           match="line 2")
    raises(sbprov.ParseError, sbprov.EPARSE, Identity.from_script, script("printf 'a=\\001\\000b\\n'\n"))


def test_from_script_huge_output(script):
    path = script("i=0\nwhile [ $i -lt 5000 ]; do echo k$i=0123456789abcdef; i=$((i+1)); done\n")
    e = raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, path, match="65536")
    assert "killed" in e.message
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("echo a=0123456789\n"),
           max_output=5, match="more than 5 bytes")
    # endless output is cut off too
    raises(sbprov.ScriptError, sbprov.ESCRIPT, Identity.from_script, script("yes a=b\n"), max_output=1000)
    assert len(Identity.from_script(script("echo a=1\n"), max_output=4)) == 1  # exactly the limit


def test_from_script_timeout(script):
    start = time.monotonic()
    e = raises(sbprov.OperationTimeoutError, sbprov.ETIMEOUT, Identity.from_script,
               script("echo a=1\nsleep 30\n"), timeout_ms=300)
    elapsed = time.monotonic() - start
    assert 0.25 < elapsed < 10, elapsed
    assert isinstance(e, TimeoutError)


def test_from_script_argument_errors(script):
    path = script("echo a=1\n")
    for bad in (0, -1, 2**32):
        raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_script, path, timeout_ms=bad)
        raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_script, path, max_output=bad)
    for bad in (1.5, True, "10"):
        with pytest.raises(TypeError):
            Identity.from_script(path, timeout_ms=bad)
        with pytest.raises(TypeError):
            Identity.from_script(path, max_output=bad)
    raises(sbprov.InvalidInputError, sbprov.EINVAL, Identity.from_script, str(path) + "\0", match="NUL")
    with pytest.raises(TypeError):
        Identity.from_script(None)


def test_from_script_releases_the_gil(script):
    """While a slow script runs, other Python threads keep running."""
    path = script("sleep 0.6\necho a=1\n")
    result = {}
    started = threading.Event()

    def run():
        started.set()
        result["ident"] = Identity.from_script(path)

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        t = threading.Thread(target=run)
        t.start()
        started.wait()
        ticks = [time.monotonic()]
        while t.is_alive():
            ticks.append(time.monotonic())
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert result["ident"]["a"] == ["1"]
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert ticks[-1] - ticks[0] > 0.5
    # With the GIL held by the call, this thread would stall for ~0.6 s.
    assert max(gaps) < 0.2, max(gaps)


def test_concurrent_scripts_and_errors(script):
    """Threads running scripts in parallel each get their own result and
    their own error detail (read after the GIL is re-acquired)."""
    paths = [script(f"echo n={t}\nexit {t % 2 * (t + 1)}\n") for t in range(6)]
    failures = []

    def work(t):
        try:
            for _ in range(5):
                if t % 2:
                    with pytest.raises(sbprov.ScriptError) as info:
                        Identity.from_script(paths[t])
                    assert f"exited with status {t + 1}" in info.value.message
                    assert str(paths[t]) in info.value.message
                else:
                    assert Identity.from_script(paths[t])["n"] == [str(t)]
        except BaseException as e:  # reported below
            failures.append((t, repr(e)))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures


def test_identity_is_a_mapping():
    from collections.abc import Mapping
    ident = Identity.from_text("a=1")
    assert isinstance(ident, Mapping)
