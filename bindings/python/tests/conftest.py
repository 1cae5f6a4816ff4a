"""Shared fixtures: published vectors, the C oracle, and an independent
reference implementation written with Python's hmac/hashlib/base64."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import quote

import pytest

HERE = Path(__file__).resolve().parent


def _vectors_dir() -> Path:
    env = os.environ.get("SBPROV_VECTORS")
    if env:
        return Path(env)
    # bindings/python/tests -> bindings/python -> ../../../shared/vectors
    return (HERE.parent / "../../../shared/vectors").resolve()


def _oracle_path() -> Optional[Path]:
    env = os.environ.get("SBPROV_ORACLE")
    if env:
        return Path(env)
    build = os.environ.get("SBPROV_BUILD")
    if build:
        return Path(build) / "tests" / "sbprov-azure-oracle"
    return None


@pytest.fixture(scope="session")
def vectors() -> dict:
    path = _vectors_dir() / "azure-published.json"
    if not path.is_file():
        pytest.fail(f"published vectors not found at {path} (set SBPROV_VECTORS)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Oracle:
    """The C oracle (tests/tools/azure_oracle.c): one process per batch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, lines: List[str]) -> List[str]:
        for line in lines:
            assert "\n" not in line and "\0" not in line
        data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
        proc = subprocess.run([str(self.path)], input=data, stdout=subprocess.PIPE, check=True)
        out = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
        assert out[-1] == ""
        out = out[:-1]
        assert len(out) == len(lines), (len(out), len(lines))
        return out


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    path = _oracle_path()
    if path is None:
        pytest.fail("C oracle unknown: set SBPROV_ORACLE or SBPROV_BUILD "
                    "(bindings/python/test.sh does)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"C oracle not found or not executable: {path} (run make build)")
    return Oracle(path)


# --------------------------------------------------------------------------
# Independent reference (no libsbprov, no OpenSSL bindings of ours)
# --------------------------------------------------------------------------

def ref_b64decode_strict(text: str) -> bytes:
    """Strict padded standard Base64, as the library requires."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical")
    return raw


def ref_url_encode(data: bytes) -> str:
    """Keep A-Z a-z 0-9 - _ . ~, %XX (upper case) for every other byte."""
    return quote(data, safe="")


def ref_derive(group_key: str, registration_id: str) -> str:
    mac = hmac.new(ref_b64decode_strict(group_key), registration_id.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def ref_sas(resource_uri: str, key: str, expiry: int, policy: Optional[str] = None) -> str:
    sr = ref_url_encode(resource_uri.encode("utf-8"))
    mac = hmac.new(ref_b64decode_strict(key), f"{sr}\n{expiry}".encode("ascii"), hashlib.sha256)
    sig = ref_url_encode(base64.b64encode(mac.digest()))
    token = f"SharedAccessSignature sr={sr}&sig={sig}&se={expiry}"
    if policy is not None:
        token += f"&skn={policy}"
    return token


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_of(nbytes: int, seed: int = 0) -> str:
    """A deterministic Base64 key of nbytes bytes."""
    return b64(bytes((seed + 7 * i) % 256 for i in range(nbytes)))


GROUP_KEY = key_of(64, 1)
DEVICE_KEY = key_of(32, 2)
FAR_EXPIRY = 4102444800  # 2100-01-01


def ref_tuple(fn, *args) -> Tuple[str, object]:
    """('ok', value) or ('err', code) of calling fn with a binding API."""
    import sbprov

    try:
        return "ok", fn(*args)
    except sbprov.Error as e:
        return "err", e.code
