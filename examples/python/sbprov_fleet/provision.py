"""Provisioning of one device: key pair, Mender preauthorization, Azure
device key, credential bundle. Safe to repeat after a crash at any point:

1. The bundle directory ``OUT/<registration_id>/`` and its store key file
   are created if missing.
2. The device key: a reported public key from the manifest, or the key pair
   already in the bundle's store, or a new one, written to the store
   (``device.key`` then ``device.pub``) **before** Mender sees it. A crash
   before ``device.pub`` exists means no one has seen the key, and a new one
   is made; after it, the same key is used again.
3. Mender: preauthorize (identity, public key). If the identity exists (409),
   the existing device's auth sets must hold this key (preauthorized or
   accepted), else the device is a conflict and fails.
4. Azure: the device key derived from the group key; entries and the env
   file written (both atomic).
5. ``manifest.json`` written (atomic), then the device recorded as finished
   in the state file.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import sbprov
from sbprov import azure, keys, mender, store

from .manifest import DeviceSpec
from .state import RunState, private_dir, write_atomic

#: Store entries. The ``IOTHUB_*`` ones are exported to the env file, in
#: this order; they follow the variable names of Azure IoT's device samples.
ENV_ENTRIES = (
    "IOTHUB_DEVICE_SECURITY_TYPE",
    "IOTHUB_DEVICE_DPS_ENDPOINT",
    "IOTHUB_DEVICE_DPS_ID_SCOPE",
    "IOTHUB_DEVICE_DPS_DEVICE_ID",
    "IOTHUB_DEVICE_DPS_DEVICE_KEY",
)
KEY_ENTRY = "device.key"  # PKCS#8 PEM of a generated key
PUB_ENTRY = "device.pub"  # SPKI PEM of the device key (generated or reported)
MENDER_ENTRIES = ("mender.server", "mender.device_id", "mender.identity", "mender.inventory")

STORE_DIR = "store"
STORE_KEY = "store.key"
ENV_FILE = "azure-iot.env"
PUB_FILE = "device.pub"
MANIFEST = "manifest.json"
KEY_TMP = ".device.key.tmp"

RETRYABLE = (sbprov.NetworkError, sbprov.OperationTimeoutError, sbprov.ServerError, sbprov.RateLimitError,
             sbprov.ResponseError)

PROVISIONED, ALREADY, FAILED, INTERRUPTED = "provisioned", "already", "failed", "not done"


def _message(e: BaseException) -> str:
    return getattr(e, "message", None) or str(e) or type(e).__name__


def group_key_id(group_key: str) -> str:
    """A short one-way fingerprint of the group key (SHA-256 of its bytes),
    to notice a re-run with another enrollment group."""
    return hashlib.sha256(base64.b64decode(group_key)).hexdigest()[:16]


@dataclasses.dataclass
class Settings:
    out: Path
    key_type: str
    mender_url: str
    mender_user: Optional[str]
    mender_password: Optional[bytes]
    mender_token: Optional[str]
    ca: Optional[str]
    timeout: float
    retries: int
    id_scope: str
    dps_host: str
    group_key: str = dataclasses.field(repr=False)

    def fingerprint(self) -> Dict[str, str]:
        """What a finished device must have been provisioned with to count as done."""
        return {"mender_server": self.mender_url, "id_scope": self.id_scope, "dps_host": self.dps_host,
                "group_key_id": group_key_id(self.group_key)}


@dataclasses.dataclass
class Outcome:
    device: DeviceSpec
    status: str
    mender_device_id: str = ""
    reason: str = ""
    note: str = ""
    seconds: float = 0.0


class Interrupted(Exception):
    """The run is being stopped (SIGINT/SIGTERM)."""


class DeviceFailed(Exception):
    """This device cannot be provisioned; the message says why."""

    def __init__(self, reason: str, device_id: str = ""):
        super().__init__(reason)
        self.device_id = device_id


class MenderPool:
    """Management clients, one per concurrent worker: a client serialises its
    calls, so threads sharing one would take turns. Each logs in (or uses the
    token) when it is created."""

    def __init__(self, s: Settings):
        self._s = s
        self._lock = threading.Lock()
        self._idle: List[mender.Management] = []
        self._all: List[mender.Management] = []

    def _new(self) -> mender.Management:
        s = self._s
        kw: Dict[str, Any] = dict(ca=s.ca, timeout=s.timeout, connect_timeout=min(10.0, s.timeout))
        if s.mender_user is not None:
            client = mender.Management(s.mender_url, user=s.mender_user, password=s.mender_password, **kw)
        else:
            client = mender.Management(s.mender_url, token=s.mender_token, **kw)
        with self._lock:
            self._all.append(client)
        return client

    def check(self) -> None:
        """Log in once now (and keep the client), so that wrong credentials or
        an unreachable server stop the run before any device is touched. The
        token is checked with a cheap authenticated call."""
        client = self._new()
        client.count()
        with self._lock:
            self._idle.append(client)

    @contextlib.contextmanager
    def client(self) -> Iterator[mender.Management]:
        with self._lock:
            c = self._idle.pop() if self._idle else None
        if c is None:
            c = self._new()
        try:
            yield c
        finally:
            with self._lock:
                self._idle.append(c)

    def cancel_all(self) -> None:
        """Cancel every running call (from a signal handler: lock-free)."""
        for c in list(self._all):
            c.cancel()

    def close(self) -> None:
        with self._lock:
            clients, self._all, self._idle = self._all, [], []
        for c in clients:
            c.close()


class Provisioner:
    def __init__(self, settings: Settings, state: RunState, pool: MenderPool, stop: threading.Event):
        self.s = settings
        self.state = state
        self.pool = pool
        self.stop = stop
        self.deriver = azure.Deriver(settings.group_key)  # shared: derivations hold the GIL
        self.settings_fp = settings.fingerprint()

    def close(self) -> None:
        self.deriver.close()

    # ---- helpers -------------------------------------------------------------

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Interrupted()

    def _mender(self, fn) -> Any:
        """fn(client) with retries of transient failures (the calls used are
        idempotent: a preauthorization that reached the server before its
        answer was lost comes back as "existed")."""
        attempt = 0
        while True:
            self._check_stop()
            delay = 0.0
            with self.pool.client() as client:
                try:
                    return fn(client)
                except sbprov.CancelledError:
                    raise Interrupted() from None
                except RETRYABLE as e:
                    if attempt >= self.s.retries:
                        raise
                    delay = min(2.0 ** attempt, 30.0)
                    if isinstance(e, sbprov.RateLimitError):
                        ra = client.last_response.retry_after
                        if ra is not None:
                            delay = float(min(ra, 300))
            attempt += 1
            if self.stop.wait(delay):
                raise Interrupted()

    # ---- the steps -----------------------------------------------------------

    def run(self, dev: DeviceSpec) -> Outcome:
        start = time.monotonic()
        try:
            out = self._run(dev)
        except Interrupted:
            out = Outcome(dev, INTERRUPTED, reason="interrupted")
        except DeviceFailed as e:
            out = Outcome(dev, FAILED, mender_device_id=e.device_id, reason=str(e))
        except sbprov.Error as e:
            out = Outcome(dev, FAILED, reason=f"{type(e).__name__}: {_message(e)}")
        except OSError as e:
            out = Outcome(dev, FAILED, reason=f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))
        except Exception as e:  # noqa: BLE001 (one device's surprise must not end the run)
            out = Outcome(dev, FAILED, reason=f"{type(e).__name__}: {e}")
        out.seconds = time.monotonic() - start
        return out

    def _already(self, dev: DeviceSpec, bundle: Path) -> Optional[Outcome]:
        rec = self.state.get(dev.registration_id)
        if rec is None:
            return None
        if not bundle.is_dir():
            # The operator removed the bundle: provision it again.
            self.state.forget(dev.registration_id)
            return None
        changed = [k for k, v in self.settings_fp.items() if rec.get(k) != v]
        if rec.get("identity_digest") != dev.identity_digest:
            changed.append(f"Mender identity (now {dev.identity_json})")
        if dev.public_key_fingerprint is not None and rec.get("key_fingerprint") != dev.public_key_fingerprint:
            changed.append("public key")
        if dev.public_key_fingerprint is None and rec.get("key_source") != "generated":
            changed.append("public key (now none: a key pair would be generated)")
        if changed:
            raise DeviceFailed(f"provisioned earlier with another {', '.join(changed)}; remove "
                               f"{bundle} to provision it again", rec.get("mender_device_id", ""))
        if not (bundle / MANIFEST).is_file():
            return None  # incomplete bundle: redo (same key, same answers)
        return Outcome(dev, ALREADY, mender_device_id=rec.get("mender_device_id", ""))

    def _device_key(self, dev: DeviceSpec, st: store.Store, bundle: Path) -> tuple:
        """(public PEM, fingerprint, source) of the device's key, the key
        pair made and stored first if needed."""
        has_pub, has_key = PUB_ENTRY in st, KEY_ENTRY in st
        if dev.public_key_pem is not None:
            if has_key and has_pub:
                raise DeviceFailed(f"the bundle holds a generated key pair, but the manifest now gives a "
                                   f"public_key; remove {bundle} to start this device over")
            if has_key:
                del st[KEY_ENTRY]  # a key pair made by a run that died before using it
            if not has_pub or st[PUB_ENTRY].decode() != dev.public_key_pem:
                st[PUB_ENTRY] = dev.public_key_pem.encode()
            return dev.public_key_pem, dev.public_key_fingerprint, "reported"
        if has_pub and not has_key:
            raise DeviceFailed(f"the bundle holds a reported public key, but the manifest gives none; "
                               f"remove {bundle} to start this device over")
        if has_pub and has_key:
            pem = st[PUB_ENTRY].decode()
            with keys.from_public_pem(pem) as pub:
                return pem, pub.fingerprint, "generated"
        # A new key pair. The binding writes private keys to files only, so it
        # goes through a 0600 file in the (0700) bundle directory, removed at once.
        self._check_stop()
        tmp = bundle / KEY_TMP
        with keys.generate(self.s.key_type) as key:
            key.save(tmp, overwrite=True)
            try:
                with open(tmp, "rb") as f:
                    secret = bytearray(f.read())
                try:
                    st[KEY_ENTRY] = secret
                finally:
                    secret[:] = bytes(len(secret))
            finally:
                tmp.unlink(missing_ok=True)
            pem = key.public_pem
            st[PUB_ENTRY] = pem.encode()  # from here on the key is the device's
            return pem, key.fingerprint, "generated"

    def _preauthorize(self, dev: DeviceSpec, pem: str, fingerprint: str) -> tuple:
        """(device ID, "created" | "existed", note)."""
        pre = self._mender(lambda m: m.preauthorize(dev.identity, pem))
        if not pre.existed:
            return pre.device_id, "created", ""
        info = self._mender(lambda m: m.device(pre.device_id))
        sets = []
        for a in info.auth_sets:
            try:
                with keys.from_public_pem(a.pubkey) as k:
                    sets.append((a, k.fingerprint))
            except sbprov.Error:
                sets.append((a, "?"))
        mine = [a for a, fp in sets if fp == fingerprint]
        if not mine:
            others = ", ".join(f"{a.status} {fp[:16]}" for a, fp in sets) or "none"
            raise DeviceFailed(f"conflict: Mender already has identity {dev.identity_json} as device "
                               f"{info.id} with another key (auth sets: {others}; this key: "
                               f"{fingerprint[:16]})", info.id)
        good = [a for a in mine if a.status in ("preauthorized", "accepted")]
        if not good:
            raise DeviceFailed(f"Mender device {info.id} has this key {mine[0].status}, not preauthorized; "
                               f"accept or dismiss it in Mender, then run again", info.id)
        return info.id, "existed", f"already in Mender ({good[0].status})"

    def _run(self, dev: DeviceSpec) -> Outcome:
        rid = dev.registration_id
        bundle = self.s.out / rid
        done = self._already(dev, bundle)
        if done is not None:
            return done
        self._check_stop()
        private_dir(bundle)
        key_file = bundle / STORE_KEY
        if not key_file.exists():
            try:
                store.create_key_file(key_file)
            except sbprov.AlreadyExistsError:
                pass
        try:
            st = store.Store(bundle / STORE_DIR, key_file=key_file)
        except sbprov.Error as e:
            raise DeviceFailed(f"the bundle's store cannot be opened ({type(e).__name__}: {_message(e)}); "
                               f"remove {bundle} to start this device over") from None
        with st:
            pem, fingerprint, source = self._device_key(dev, st, bundle)

            self._check_stop()
            device_id, preauth, note = self._preauthorize(dev, pem, fingerprint)

            # Everything below is local and idempotent.
            device_key = self.deriver.derive(rid)
            values = {
                "IOTHUB_DEVICE_SECURITY_TYPE": "DPS",
                "IOTHUB_DEVICE_DPS_ENDPOINT": self.s.dps_host,
                "IOTHUB_DEVICE_DPS_ID_SCOPE": self.s.id_scope,
                "IOTHUB_DEVICE_DPS_DEVICE_ID": rid,
                "IOTHUB_DEVICE_DPS_DEVICE_KEY": device_key,
                "mender.server": self.s.mender_url,
                "mender.device_id": device_id,
                "mender.identity": dev.identity_json,
                "mender.inventory": json.dumps(dev.inventory, sort_keys=True, ensure_ascii=False),
            }
            for name, value in values.items():
                raw = value.encode()
                if name not in st or st[name] != raw:
                    st[name] = raw
            st.export_env(list(ENV_ENTRIES), bundle / ENV_FILE, format="docker")
            entries = st.names()

        write_atomic(bundle / PUB_FILE, pem.encode(), 0o644)
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        manifest = {
            "tool": "sbprov-fleet",
            "sbprov_version": sbprov.__version__,
            "provisioned": now,
            "manifest_line": dev.line,
            "serial": dev.serial,
            "mac": dev.mac,
            "room": dev.room,
            "registration_id": rid,
            "key": {"source": source, "fingerprint_sha256": fingerprint, "public_key_file": PUB_FILE,
                    "private_key_entry": KEY_ENTRY if source == "generated" else None},
            "mender": {"server": self.s.mender_url, "device_id": device_id, "identity": dev.identity,
                       "identity_sha256": dev.identity_digest, "preauthorization": preauth,
                       "inventory": dev.inventory},
            "azure": {"id_scope": self.s.id_scope, "dps_host": self.s.dps_host, "registration_id": rid,
                      "attestation": "symmetric key derived from the enrollment group key",
                      "group_key_id": self.settings_fp["group_key_id"]},
            "store": {"path": STORE_DIR, "key_file": STORE_KEY, "entries": entries},
            "env_file": {"path": ENV_FILE, "format": "docker", "variables": list(ENV_ENTRIES)},
        }
        write_atomic(bundle / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
        record = dict(self.settings_fp, serial=dev.serial, mac=dev.mac, identity_digest=dev.identity_digest,
                      key_fingerprint=fingerprint, key_source=source, mender_device_id=device_id, finished=now)
        self.state.record(rid, record)
        return Outcome(dev, PROVISIONED, mender_device_id=device_id, note=note)
