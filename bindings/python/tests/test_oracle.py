"""Cross-language check: 1,000 seeded random inputs through the binding and
through the C oracle (tests/tools/azure_oracle.c) must give identical results
(the value, or the error code)."""

import base64
import random

import sbprov
from sbprov import azure

SEED = 20240611
COUNT = 1000


def rand_key(rng):
    """A group/device key: mostly valid, sometimes subtly or grossly invalid."""
    kind = rng.random()
    n = rng.randrange(16, 65)
    raw = bytes(rng.randrange(256) for _ in range(n))
    text = base64.b64encode(raw).decode()
    if kind < 0.55:
        return text
    if kind < 0.65:  # wrong size
        n = rng.choice([0, 1, 5, 15, 65, 66, 100, 500])
        return base64.b64encode(bytes(rng.randrange(256) for _ in range(n))).decode()
    if kind < 0.72:  # base64url
        return text.replace("+", "-").replace("/", "_") if ("+" in text or "/" in text) else text + "-"
    if kind < 0.78:  # padding removed or added
        return text.rstrip("=") if text.endswith("=") else text + "="
    if kind < 0.84:  # one character replaced by junk (never a tab or newline)
        i = rng.randrange(len(text))
        return text[:i] + rng.choice(" !#$%&*.:;<>?@[]^`{|}~\u00e9=") + text[i + 1:]
    if kind < 0.90:  # non-zero bits before the padding
        if text.endswith("=="):
            return text[:-3] + "B=="
        if text.endswith("="):
            return text[:-2] + "B="
        return text[:-1]
    if kind < 0.95:  # arbitrary printable text
        return "".join(chr(rng.randrange(0x20, 0x7f)) for _ in range(rng.randrange(0, 90)))
    return ""


REG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._:"


def rand_registration_id(rng):
    kind = rng.random()
    body = "".join(rng.choice(REG_CHARS) for _ in range(rng.randrange(0, 60)))
    rid = rng.choice("abcxyz0189") + body + rng.choice("az09-")
    if kind < 0.6:
        return rid
    if kind < 0.7:  # upper case somewhere
        i = rng.randrange(len(rid))
        return rid[:i] + rid[i].upper() + rid[i + 1:] if rid[i].isalpha() else rid + "A"
    if kind < 0.75:
        return ""
    if kind < 0.8:
        return rng.choice("-._:") + rid
    if kind < 0.85:
        return rid + rng.choice("._:")
    if kind < 0.9:
        return "a" * rng.choice([127, 128, 129, 200])
    i = rng.randrange(len(rid))
    return rid[:i] + rng.choice(" /\\#%+@!\u00e9\u4e2d*") + rid[i:]


def rand_uri(rng):
    kind = rng.random()
    if kind < 0.5:
        host = rng.choice(["myhub.azure-devices.net", "h.net", "x"])
        dev = "".join(rng.choice("abcdefABC0123-._:+%#*?!(),=@$'") for _ in range(rng.randrange(1, 40)))
        return f"{host}/devices/{dev}"
    if kind < 0.7:
        return "".join(chr(rng.randrange(0x21, 0x7f)) for _ in range(rng.randrange(1, 120)))
    if kind < 0.75:
        return "https://hub.net/devices/d"
    if kind < 0.8:
        return "hub.net/devices/d d"
    if kind < 0.85:
        return "u" * rng.choice([2047, 2048, 2049])
    if kind < 0.9:
        return "hub.net/d\u00e9v/\u4e2d"
    if kind < 0.95:
        return "/" * rng.randrange(1, 2049)  # long encoded output
    return ""


def rand_policy(rng):
    kind = rng.random()
    if kind < 0.4:
        return None
    if kind < 0.7:
        return rng.choice(["registration", "iothubowner", "device", "a.b@c_d-e"])
    if kind < 0.8:
        return "p" * rng.choice([128, 129])
    if kind < 0.9:
        return rng.choice(["reg istration", "a/b", "r\u00e9g", "x;y", "a&b"])
    policy = "".join(rng.choice("abcXYZ019_-@.") for _ in range(rng.randrange(1, 20)))
    return "p-" if policy == "-" else policy  # "-" means "no policy" to the oracle


def rand_expiry(rng):
    kind = rng.random()
    if kind < 0.6:
        return rng.randrange(1577836800, 4102444800)
    if kind < 0.7:
        return rng.choice([1577836799, 1577836800, 1577836801])
    if kind < 0.8:
        return rng.randrange(-2**40, 1577836800)
    if kind < 0.9:
        return rng.randrange(4102444800, 2**63)
    return rng.choice([0, -1, 2**63 - 1, -2**63])


def rand_bytes(rng):
    kind = rng.random()
    n = rng.choice([0, 1, 2, 10, 50, 200, 1000, 3000]) if kind < 0.9 else rng.randrange(0, 5000)
    return bytes(rng.randrange(256) for _ in range(n))


def binding_result(fn, *args):
    try:
        return f"ok {fn(*args)}"
    except sbprov.Error as e:
        return f"err {e.code}"


def make_cases(rng):
    cases = []  # (oracle line, thunk giving the binding's result line)
    for _ in range(COUNT):
        verb = rng.choices(["derive", "sas", "encode", "encode-str"], weights=[4, 4, 2, 1])[0]
        if verb == "derive":
            key, rid = rand_key(rng), rand_registration_id(rng)
            use_deriver = rng.random() < 0.3
            def thunk(key=key, rid=rid, use_deriver=use_deriver):
                if use_deriver:
                    try:
                        d = azure.Deriver(key)
                    except sbprov.Error as e:
                        # the one-shot call checks the ID before the key
                        try:
                            azure.check_registration_id(rid)
                        except sbprov.Error as e2:
                            return f"err {e2.code}"
                        return f"err {e.code}"
                    with d:
                        return binding_result(d.derive, rid)
                return binding_result(azure.derive_device_key, key, rid)
            cases.append((f"derive\t{key}\t{rid}", thunk))
        elif verb == "sas":
            uri, key, expiry, policy = rand_uri(rng), rand_key(rng), rand_expiry(rng), rand_policy(rng)
            cases.append((f"sas\t{uri}\t{key}\t{expiry}\t{'-' if policy is None else policy}",
                          lambda a=(uri, key, expiry, policy): binding_result(azure.sas_token, *a)))
        elif verb == "encode":
            data = rand_bytes(rng)
            cases.append((f"encode\t{data.hex()}", lambda d=data: binding_result(azure.url_encode, d)))
        else:
            text = "".join(chr(rng.choice([rng.randrange(1, 0x80), rng.randrange(0x80, 0x800),
                                           rng.randrange(0x800, 0xd800), rng.randrange(0x10000, 0x110000)]))
                           for _ in range(rng.randrange(0, 40)))
            cases.append((f"encode\t{text.encode('utf-8').hex()}",
                          lambda t=text: binding_result(azure.url_encode, t)))
    return cases


def test_binding_matches_c_oracle(oracle):
    rng = random.Random(SEED)
    cases = make_cases(rng)
    assert len(cases) == COUNT
    expected = oracle.run([line for line, _ in cases])
    mismatches = []
    for (line, thunk), want in zip(cases, expected):
        got = thunk()
        if got != want:
            mismatches.append((line[:200], want[:200], got[:200]))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    # the random mix exercises both outcomes of every verb
    verbs_ok = {line.split("\t")[0] for (line, _), want in zip(cases, expected) if want.startswith("ok")}
    verbs_err = {line.split("\t")[0] for (line, _), want in zip(cases, expected) if want.startswith("err")}
    assert verbs_ok == {"derive", "sas", "encode"}
    assert verbs_err == {"derive", "sas"}
    codes = {int(w.split()[1]) for w in expected if w.startswith("err")}
    assert {sbprov.EBASE64, sbprov.EKEYSIZE, sbprov.EID, sbprov.EEXPIRY} <= codes
