"""Mender registration over HTTPS (libsbprov ``sbprov/mender.h`` and
``sbprov/http.h``): the device side (authentication, token, inventory,
update check) and the management side that provisioning tooling uses (login,
preauthorization, device status, accept/reject, decommission).

>>> from sbprov import keys, mender                                # doctest: +SKIP
>>> key = keys.load("/var/lib/gw/device.key")                      # doctest: +SKIP
>>> with mender.Management("https://mender.example", user="ops@example.com",
...                        password=secret) as mgmt:               # doctest: +SKIP
...     mgmt.preauthorize({"mac": "00:11:22:33:44:55"}, key)
>>> with mender.Device("https://mender.example", {"mac": "00:11:22:33:44:55"}, key) as dev:  # doctest: +SKIP
...     dev.authenticate_until_accepted(timeout=3600)
...     dev.update_inventory({"artifact_name": "gw-1.4.2", "rooms": [1, 2]})
...     update = dev.check_update("gw-1.4.2", "raspberrypi4")

The transport is HTTPS only (``allow_http=True`` for tests and local
proxies), TLS 1.2 or newer, with the server's certificate and host name
verified against the system's CAs or ``ca`` (a PEM file, or a directory of
hashed certificates); redirects are never followed, responses are capped in
size and every request is bounded by ``timeout``.

Threads: every call that touches the network releases the GIL. A client
serialises its own calls (one at a time; the others wait, also without the
GIL). :meth:`Device.cancel` and :meth:`Management.cancel` may be called from
any thread while a call runs: they take no lock, and the running call raises
:class:`sbprov.CancelledError`. Closing a client cancels a call running in
another thread.

Failures raise :class:`sbprov.Error` subclasses: ``NetworkError`` (also a
``ConnectionError``: DNS, refused, reset), ``OperationTimeoutError`` (also a
``TimeoutError``), ``CertificateError`` (the server's certificate is not
trusted, expired or for another host), ``TLSError`` (handshake, client
certificate), ``RequestRefusedError`` (a 4xx the server explains; also a
``ValueError``), ``AuthError`` (401/403, wrong credentials, a device not
accepted), ``RateLimitError`` (429; see ``last_response.retry_after``),
``ServerError`` (5xx), ``ResponseError`` (malformed, truncated or too large
answers), ``CancelledError``, ``NotFoundError`` (also a ``LookupError``: no
such device or auth set), ``InvalidInputError`` (also a ``ValueError``: a bad
URL, status, ID or option), ``IdentifierError`` (an empty identity, a bad
attribute or token entry name), ``InvalidKeyError`` (a key without its
private part), ``FileSystemError`` (an unreadable CA file, the token store).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import _sbprov_swig as _swig
from ._errors import FileSystemError, InitError, InvalidInputError, NotFoundError, Result
from ._handle import _KeyedHandle
from .identity import Identity
from .keys import Key, from_public_pem
from .store import Store

__all__ = [
    "DEVICE_STATUSES",
    "AUTH_SET_STATUSES",
    "INVENTORY_MAX",
    "ResponseInfo",
    "Update",
    "AuthSet",
    "DeviceInfo",
    "DevicePage",
    "PreauthResult",
    "Device",
    "Management",
]

PathType = Union[str, bytes, os.PathLike]
IdentityLike = Union[Identity, Mapping]
InventoryValue = Union[str, int, float, Sequence[str], Sequence[float]]

#: Device statuses the management API knows (filters of
#: :meth:`Management.devices`, :meth:`Management.count`).
DEVICE_STATUSES = ("pending", "accepted", "rejected", "preauthorized", "noauth")
#: Statuses :meth:`Management.set_status` may give an auth set.
AUTH_SET_STATUSES = ("accepted", "rejected", "pending")
#: Most attributes one inventory update may carry (the server's limit).
INVENTORY_MAX: int = _swig.SBPROV_INVENTORY_MAX

_UINT32_MAX = 2**32 - 1

# ---------------------------------------------------------------------------
# Library initialisation (libcurl): once per process, on first use; never
# undone, since a call may still run in a daemon thread at exit.
# ---------------------------------------------------------------------------

_init_lock = threading.Lock()
_initialised = False


def _global_init() -> None:
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            if _swig.sbprov_global_init() < 1:
                raise InitError(Result.EINIT, _swig.sbprov_last_error() or "libsbprov global initialisation failed")
            _initialised = True


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResponseInfo:
    """What the last HTTP response a client received said
    (``sbprov_http_response_info``).

    Attributes:
        status: HTTP status, or 0 if the last request got no response.
        retry_after: seconds from ``Retry-After`` (a delay or a date), or None.
        server_date: the response's ``Date``, or None if absent or unparsable.
        request_id: the server's request ID (``X-MEN-RequestID``), or None.
    """

    status: int
    retry_after: Optional[int]
    server_date: Optional[datetime]
    request_id: Optional[str]

    @classmethod
    def _from_tuple(cls, info: Tuple[int, int, int, str]) -> "ResponseInfo":
        status, retry_after, date, request_id = info
        return cls(status=status, retry_after=retry_after if retry_after >= 0 else None,
                   server_date=datetime.fromtimestamp(date, timezone.utc) if date > 0 else None,
                   request_id=request_id or None)


@dataclasses.dataclass(frozen=True)
class Update:
    """A deployment the server offers (:meth:`Device.check_update`).

    Attributes:
        id: the deployment ID (report its status with it).
        artifact_name: the artifact to install.
        uri: where to download the artifact.
        json: the server's whole answer, parsed.
    """

    id: str
    artifact_name: str
    uri: str
    json: Dict[str, Any] = dataclasses.field(repr=False, compare=False)


class AuthSet(NamedTuple):
    """An identity + key pair of a device, as the management API reports it."""

    id: str
    status: str
    pubkey: str


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """A device as the management API describes it.

    Attributes:
        id: the device ID.
        status: ``"pending"``, ``"accepted"``, ``"rejected"``,
            ``"preauthorized"`` or ``"noauth"``.
        identity: the identity attributes (a name to a str, or to a list of
            str for several values).
        auth_sets: the device's auth sets, as ``(id, status, pubkey)`` named
            tuples.
        json: the server's whole description of the device, parsed.
    """

    id: str
    status: str
    identity: Dict[str, Union[str, List[str]]]
    auth_sets: Tuple[AuthSet, ...]
    json: Dict[str, Any] = dataclasses.field(repr=False, compare=False)

    def auth_set(self, status: str) -> Optional[AuthSet]:
        """The first auth set with this status, or None."""
        return next((a for a in self.auth_sets if a.status == status), None)

    @classmethod
    def _from_handle(cls, d: object) -> "DeviceInfo":
        sets = tuple(AuthSet(_swig.sbprov_mender_device_auth_set_id(d, i) or "",
                             _swig.sbprov_mender_device_auth_set_status(d, i) or "",
                             _swig.sbprov_mender_device_auth_set_pubkey(d, i) or "")
                     for i in range(_swig.sbprov_mender_device_auth_set_count(d)))
        return cls(id=_swig.sbprov_mender_device_id(d), status=_swig.sbprov_mender_device_status(d) or "",
                   identity=json.loads(_swig.sbprov_mender_device_identity_json(d) or "{}"),
                   auth_sets=sets, json=json.loads(_swig.sbprov_mender_device_json(d) or "{}"))


@dataclasses.dataclass(frozen=True)
class DevicePage:
    """One page of :meth:`Management.devices`: a sequence of
    :class:`DeviceInfo` (``len``, indexing, iteration) and whether the server
    announced a next page."""

    devices: Tuple[DeviceInfo, ...]
    page: int
    per_page: int
    has_next: bool

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[DeviceInfo]:
        return iter(self.devices)

    def __getitem__(self, index: int) -> DeviceInfo:
        return self.devices[index]


@dataclasses.dataclass(frozen=True)
class PreauthResult:
    """Outcome of :meth:`Management.preauthorize`.

    Attributes:
        device_id: the device's ID.
        existed: True if the server already knew the identity (the call was
            idempotent, nothing changed), False if it preauthorized it now.
    """

    device_id: str
    existed: bool


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(Result.EINVAL, message)


def _str(value: object, what: str, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected str{' or None' if optional else ''}, not {type(value).__name__}")
    return value


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise TypeError(f"{what}: expected bool, not {type(value).__name__}")
    return bool(value)


def _ms(value: object, what: str, *, optional: bool = False) -> int:
    """Seconds (int or float, > 0) as milliseconds for a uint32_t; None (when
    allowed) as 0, the library's default."""
    if value is None and optional:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what}: expected seconds as int or float, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise _invalid(f"{what}: {value!r} seconds: must be a finite number > 0")
    ms = max(1, int(math.ceil(value * 1000)))
    if ms > _UINT32_MAX:
        raise _invalid(f"{what}: {value!r} seconds: at most {_UINT32_MAX // 1000} s")
    return ms


def _uint(value: object, what: str, low: int, high: int = _UINT32_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: expected int, not {type(value).__name__}")
    if not low <= value <= high:
        raise _invalid(f"{what}: {value} out of range ({low} to {high})")
    return value


def _path(value: object, what: str) -> str:
    try:
        path = os.fspath(value)
    except TypeError:
        raise TypeError(f"{what}: expected a path (str, bytes or os.PathLike), not {type(value).__name__}") from None
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    return path


def _key(value: object, what: str, optional: bool = False) -> Optional[Key]:
    if value is None and optional:
        return None
    if not isinstance(value, Key):
        raise TypeError(f"{what}: expected sbprov.keys.Key{' or None' if optional else ''}, "
                        f"not {type(value).__name__}")
    return value


def _identity(value: object) -> Identity:
    """An Identity of our own (a copy: the C call reads it without the GIL)
    from an Identity or a mapping of names to a str or a list of str."""
    if isinstance(value, Identity):
        return value.copy()
    if not isinstance(value, Mapping):
        raise TypeError(f"identity: expected sbprov.identity.Identity or a mapping of names to values, "
                        f"not {type(value).__name__}")
    ident = Identity()
    for name, values in value.items():
        if not isinstance(name, (str, bytes)):
            raise TypeError(f"identity: attribute names must be str, not {type(name).__name__}")
        if isinstance(values, (str, bytes)):
            values = [values]
        elif not isinstance(values, Sequence) or isinstance(values, (bytearray, memoryview)):
            raise TypeError(f"identity[{name!r}]: expected str or a list of str, not {type(values).__name__}")
        elif not values:
            raise _invalid(f"identity[{name!r}]: an attribute needs at least one value")
        for v in values:
            if not isinstance(v, (str, bytes)):
                raise TypeError(f"identity[{name!r}]: values must be str, not {type(v).__name__}")
            ident.add(name, v)
    return ident


class _Transport:
    """Transport keyword arguments, checked, in the order of the flat C helpers."""

    __slots__ = ("ca_file", "ca_path", "client_cert", "client_key", "proxy", "user_agent", "connect_timeout_ms",
                 "timeout_ms", "max_response_size", "allow_http")

    def __init__(self, ca: Optional[PathType], client_cert: Optional[PathType], client_key: Optional[Key],
                 proxy: Optional[str], user_agent: Optional[str], timeout: float, connect_timeout: float,
                 max_response_size: Optional[int], allow_http: bool) -> None:
        self.ca_file = self.ca_path = None
        if ca is not None:
            ca = _path(ca, "ca")
            if not ca:
                raise _invalid("ca: empty path (None for the system's CAs)")
            if os.path.isdir(ca):
                self.ca_path = ca
            elif os.path.exists(ca):
                self.ca_file = ca
            else:
                raise FileSystemError(Result.EIO, f"ca: {ca}: no such file or directory")
        self.client_cert = None if client_cert is None else _path(client_cert, "client_cert")
        self.client_key = _key(client_key, "client_key", optional=True)
        if (self.client_cert is None) != (self.client_key is None):
            raise _invalid("client_cert and client_key: give both (mutual TLS) or neither")
        self.proxy = _str(proxy, "proxy", optional=True)
        self.user_agent = _str(user_agent, "user_agent", optional=True)
        self.timeout_ms = _ms(timeout, "timeout")
        self.connect_timeout_ms = _ms(connect_timeout, "connect_timeout")
        self.max_response_size = 0 if max_response_size is None else _uint(max_response_size, "max_response_size",
                                                                           1, 2**63 - 1)
        self.allow_http = int(_bool(allow_http, "allow_http"))

    def args(self, client_key_handle: object) -> tuple:
        return (self.ca_file, self.ca_path, self.client_cert, client_key_handle, self.proxy, self.user_agent,
                self.connect_timeout_ms, self.timeout_ms, self.max_response_size, self.allow_http)


def _with_keys(keys: Sequence[Optional[Key]], fn):
    """Call fn(*handles) holding the locks of the given keys (each once, in
    the order of their ids, so that two threads passing the same keys in
    another order cannot deadlock): the C side reads them, and a key is used
    by one thread at a time."""
    unique = sorted({id(k): k for k in keys if k is not None}.values(), key=id)

    def run(i: int, handles: dict):
        if i == len(unique):
            return fn(*(None if k is None else handles[id(k)] for k in keys))
        k = unique[i]
        with k._lock:
            handles[id(k)] = k._live_handle()
            return run(i + 1, handles)

    return run(0, {})


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


class _Client(_KeyedHandle):
    """Lifecycle and locking shared by :class:`Device` and :class:`Management`.

    Calls take ``_lock`` (waiting for it releases the GIL), so the C client's
    own mutex is never contended while a thread holds the GIL. ``cancel()``
    deliberately takes no lock: the call it cancels holds it."""

    __slots__ = ("_lock", "_server")
    _cancel_fn = None  # the C cancel function

    def _call(self, fn, *args: object) -> object:
        with self._lock:
            return fn(self._live_handle(), *args)

    def cancel(self) -> None:
        """Cancel the call running on this client in another thread: it
        raises :class:`sbprov.CancelledError` (a transfer stops within about
        a second, a wait between attempts within 20 ms). Takes no lock and
        never blocks; safe from any thread. If no call is running, the next
        call is cancelled instead (the flag is consumed by the first call
        that sees it). A no-op on a closed client."""
        handle = self._handle
        if handle is not None:
            type(self)._cancel_fn(handle)

    def close(self) -> None:
        """Release the client and wipe its token from memory. A call running
        in another thread is cancelled (it raises
        :class:`sbprov.CancelledError`); the C client is freed when it has
        returned. Idempotent."""
        handle = self._handle
        self._handle = None
        if handle is not None and self._lock.locked():
            type(self)._cancel_fn(handle)

    @property
    def server(self) -> str:
        """The server URL the client talks to."""
        return self._server

    @property
    def last_response(self) -> ResponseInfo:
        """Status, ``Retry-After``, ``Date`` and request ID of the last HTTP
        response this client received (status 0 if the last request got
        none, e.g. a connection failure). Waits for a call in progress."""
        return ResponseInfo._from_tuple(self._call(type(self)._last_response_fn))

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<{type(self).__module__}.{type(self).__name__} {self._server} {state}>"


class Device(_Client):
    """A Mender device client (``sbprov_mender``): authenticates the device
    with its identity and key, keeps the token (and renews it), sends
    inventory and asks for updates.

    Args:
        server: the server's base URL, e.g. ``"https://hosted.mender.io"``
            (no path, query or fragment).
        identity: the device identity: an :class:`sbprov.identity.Identity`
            or a mapping of attribute names to a str or a list of str.
        key: the device key (:class:`sbprov.keys.Key` with its private part;
            it may live in a TPM). The client keeps its own reference: the
            Key may be closed afterwards.
        tenant_token: the tenant token (hosted Mender, Enterprise), or None.
        tier: the device tier sent in auth requests; None means
            ``"standard"``, ``""`` sends none.
        ca: trusted CAs instead of the system's: a PEM file, or a directory
            of hashed certificates (``openssl rehash``).
        client_cert: PEM client certificate (chain) for mutual TLS, with
            ``client_key`` (a private :class:`sbprov.keys.Key`).
        proxy: a proxy URL (``"http://proxy:3128"``) for every host, ``""``
            for no proxy whatever the environment says, or None for the
            environment's rules (``https_proxy``, ``no_proxy``).
        user_agent: the User-Agent header (default ``libsbprov/<version>``).
        timeout: limit of one request in seconds, connection included.
        connect_timeout: connect timeout in seconds.
        max_response_size: largest response body accepted, in bytes (None:
            1 MiB).
        allow_http: allow plain ``http://`` servers (tests, local proxies).
        token_store: an :class:`sbprov.store.Store` that keeps the token
            across restarts: a fresh stored token is loaded here, so a
            restarted device needs no round trip. The client keeps the
            store's C handle open until the client is closed.
        token_entry: the entry name in ``token_store`` (default ``"mender.jwt"``).
        renew_margin: authenticate again when the token expires within this
            many seconds (None: 300).

    Nothing is sent by the constructor. Use the client as a context manager
    or call :meth:`close`; it cannot be copied or pickled.

    Raises:
        sbprov.InvalidInputError: the URL is not http(s) with a host and
            nothing after it, plain http without ``allow_http``, a bad
            option, ``token_entry`` without ``token_store``.
        sbprov.IdentifierError: the identity is empty, or ``token_entry`` is
            not a valid entry name.
        sbprov.InvalidKeyError: ``key`` has no private part.
        sbprov.FileSystemError: ``ca`` does not exist; the token store
            could not be read.
        sbprov.TamperedError: the stored token failed authentication.
        TypeError: an argument has the wrong type.
    """

    __slots__ = ("_store_handle",)
    _cancel_fn = staticmethod(_swig.sbprov_mender_cancel)
    _last_response_fn = staticmethod(_swig.sbprov_mender_last_response)

    def __init__(self, server: str, identity: IdentityLike, key: Key, *, tenant_token: Optional[str] = None,
                 tier: Optional[str] = None, ca: Optional[PathType] = None, client_cert: Optional[PathType] = None,
                 client_key: Optional[Key] = None, proxy: Optional[str] = None, user_agent: Optional[str] = None,
                 timeout: float = 30.0, connect_timeout: float = 10.0, max_response_size: Optional[int] = None,
                 allow_http: bool = False, token_store: Optional[Store] = None, token_entry: Optional[str] = None,
                 renew_margin: Optional[int] = None) -> None:
        self._handle = None
        self._lock = threading.Lock()
        self._store_handle = None
        self._server = _str(server, "server")
        ident = _identity(identity)
        key = _key(key, "key")
        transport = _Transport(ca, client_cert, client_key, proxy, user_agent, timeout, connect_timeout,
                               max_response_size, allow_http)
        tenant_token = _str(tenant_token, "tenant_token", optional=True)
        tier = _str(tier, "tier", optional=True)
        token_entry = _str(token_entry, "token_entry", optional=True)
        if token_store is not None and not isinstance(token_store, Store):
            raise TypeError(f"token_store: expected sbprov.store.Store or None, not {type(token_store).__name__}")
        margin = 0 if renew_margin is None else _uint(renew_margin, "renew_margin", 1)
        # The C client keeps a pointer to the store: hold its proxy (not the
        # Store object, whose close() drops it) as long as this client.
        store_handle = None if token_store is None else token_store._live_handle()
        _global_init()
        self._handle = _with_keys(
            (key, transport.client_key),
            lambda k, ck: _swig.sbprov_py_mender_new(self._server, ident._handle, k, tenant_token, tier,
                                                     store_handle, token_entry, margin, *transport.args(ck)))
        self._store_handle = store_handle

    def _call(self, fn, *args: object) -> object:
        with self._lock:
            handle = self._live_handle()
            # The C client points at the token store: a call keeps both alive
            # (close() may drop them meanwhile) and lets go of the client first.
            store = self._store_handle
            try:
                return fn(handle, *args)
            finally:
                del handle
                del store

    def close(self) -> None:
        """Release the client and wipe its token from memory. A call running
        in another thread is cancelled (it raises
        :class:`sbprov.CancelledError`); the C client is freed when it has
        returned. Idempotent."""
        super().close()  # drops the C client first (if no call holds it)...
        self._store_handle = None  # ...then the store it points at

    # ---- authentication -------------------------------------------------------

    def authenticate(self) -> bool:
        """Send one authentication request. Returns True if the server
        accepted the device (the client now holds a token, also written to
        the token store), False if it answered "not accepted (yet)" (401:
        pending, rejected or unknown to the server). Releases the GIL.

        Raises:
            sbprov.NetworkError, sbprov.OperationTimeoutError,
            sbprov.CertificateError, sbprov.TLSError: the transport failed.
            sbprov.RequestRefusedError: the server called the request malformed (4xx).
            sbprov.RateLimitError: 429; ``last_response.retry_after`` says when to retry.
            sbprov.ServerError: a 5xx answer.
            sbprov.ResponseError: a malformed answer (e.g. a 200 without a token).
            sbprov.CancelledError: :meth:`cancel` was called.
            sbprov.ProviderError, sbprov.CryptoError: signing failed.
            sbprov.FileSystemError: the token could not be stored.
        """
        return bool(self._call(_swig.sbprov_mender_authenticate))

    def authenticate_until_accepted(self, timeout: float, first_interval: float = 60.0,
                                    max_interval: float = 300.0, tries_per_interval: int = 3) -> None:
        """Authenticate until the server accepts the device, waiting between
        attempts as the Mender client does: each interval is used
        ``tries_per_interval`` times, then doubles, up to ``max_interval``
        (a cap below ``first_interval`` is used as a fixed interval). A 429
        waits its ``Retry-After`` instead. Pending answers, network failures,
        timeouts, 5xx and malformed answers are retried; other failures end
        the wait at once. Releases the GIL for the whole wait; call
        :meth:`cancel` from another thread to stop it.

        Args:
            timeout: give up after this many seconds (required, > 0).
            first_interval: first wait between attempts, in seconds.
            max_interval: cap of the wait, in seconds.
            tries_per_interval: attempts at each interval before it doubles.

        Raises:
            sbprov.OperationTimeoutError: not accepted within ``timeout`` (the
                message gives the last attempt's outcome).
            sbprov.CancelledError: :meth:`cancel` was called.
            sbprov.CertificateError, sbprov.TLSError, sbprov.RequestRefusedError,
            sbprov.ProviderError, sbprov.CryptoError, sbprov.FileSystemError:
                as for :meth:`authenticate`; not retried.
            sbprov.InvalidInputError: an interval or count out of range.
        """
        args = (_ms(timeout, "timeout"), _ms(first_interval, "first_interval"),
                _ms(max_interval, "max_interval"), _uint(tries_per_interval, "tries_per_interval", 1))
        self._call(_swig.sbprov_py_mender_authenticate_until_accepted, *args)

    def _optional(self, fn) -> object:
        try:
            return self._call(fn)
        except NotFoundError:
            return None

    @property
    def token(self) -> Optional[str]:
        """The device token (a JWT), or None if the device is not authenticated."""
        return self._optional(_swig.sbprov_mender_token)

    @property
    def device_id(self) -> Optional[str]:
        """The device ID the server assigned (the token's ``sub``), or None
        if the device is not authenticated."""
        return self._optional(_swig.sbprov_mender_token_device_id)

    @property
    def token_expiry(self) -> Optional[datetime]:
        """When the token expires (its ``exp``, an aware UTC datetime), or
        None if the device is not authenticated or the token has no expiry."""
        exp = self._optional(_swig.sbprov_mender_token_expiry)
        return datetime.fromtimestamp(exp, timezone.utc) if exp else None

    # ---- device API -------------------------------------------------------------

    def update_inventory(self, attrs: Mapping, replace: bool = True) -> None:
        """Send inventory attributes. Authenticates first if the client has
        no token or it is about to expire, and once more if the server
        answers 401 or 403. Releases the GIL.

        Args:
            attrs: attribute names (printable UTF-8, 1 to 1024 bytes) to a
                ``str``, an ``int`` or ``float`` (finite), or a non-empty
                list of str or a list of numbers (never mixed). At most
                :data:`INVENTORY_MAX` attributes. A list of one value is
                sent as that single value.
            replace: True (``PUT``) replaces the device's inventory with
                ``attrs``; False (``PATCH``) merges them into it.

        Raises:
            sbprov.AuthError: the device is not accepted.
            sbprov.RequestRefusedError: the server refused the attributes
                (e.g. more than 100 after a merge).
            sbprov.IdentifierError: an attribute name is empty, too long or
                not printable.
            sbprov.InvalidInputError: no attributes, too many, an empty or
                mixed list, a number that is not finite, a value that is not UTF-8.
            TypeError: a name or value of an unsupported type (``bool`` included).
            Network errors as for :meth:`authenticate`.
        """
        if not isinstance(attrs, Mapping):
            raise TypeError(f"attrs: expected a mapping of names to values, not {type(attrs).__name__}")
        mode = _swig.SBPROV_INVENTORY_REPLACE if _bool(replace, "replace") else _swig.SBPROV_INVENTORY_MERGE
        inv = _swig.sbprov_inventory_new()
        for name, value in attrs.items():
            if not isinstance(name, (str, bytes)):
                raise TypeError(f"attrs: attribute names must be str, not {type(name).__name__}")
            kind, values = _inventory_value(name, value)
            if kind == "strings":
                _swig.sbprov_inventory_add_strings(inv, name, values)
            else:
                _swig.sbprov_inventory_add_numbers(inv, name, values)
        self._call(_swig.sbprov_mender_update_inventory, inv, mode)

    def check_update(self, artifact_name: str, device_type: str) -> Optional[Update]:
        """Ask whether a deployment is pending for this device (deployments
        ``next``, v2 with a fallback to v1). Authenticates as
        :meth:`update_inventory` does. Releases the GIL.

        Args:
            artifact_name: the artifact installed now (1 to 4096 bytes).
            device_type: the device type (1 to 4096 bytes).

        Returns the :class:`Update` to install, or None if there is none.

        Raises:
            sbprov.AuthError: the device is not accepted.
            sbprov.InvalidInputError: an empty or too long argument.
            sbprov.ResponseError: a deployment without its id, artifact name or URI.
            Network errors as for :meth:`authenticate`.
        """
        u = self._call(_swig.sbprov_mender_check_update, _str(artifact_name, "artifact_name"),
                       _str(device_type, "device_type"))
        if u is None:
            return None
        return Update(id=_swig.sbprov_mender_update_id(u), artifact_name=_swig.sbprov_mender_update_artifact_name(u),
                      uri=_swig.sbprov_mender_update_uri(u), json=json.loads(_swig.sbprov_mender_update_json(u)))


def _inventory_value(name: object, value: object) -> Tuple[str, list]:
    """("strings" | "numbers", values) for one inventory attribute."""
    if isinstance(value, (str, bytes)):
        return "strings", [value]
    if isinstance(value, bool):
        raise TypeError(f"attrs[{name!r}]: bool is not an inventory value (use a str or an int)")
    if isinstance(value, (int, float)):
        return "numbers", [value]
    if not isinstance(value, Sequence) or isinstance(value, (bytearray, memoryview)):
        raise TypeError(f"attrs[{name!r}]: expected str, int, float or a list of them, not {type(value).__name__}")
    values = list(value)
    if not values:
        raise _invalid(f"attrs[{name!r}]: an empty list cannot be sent (the library needs at least one value)")
    if all(isinstance(v, (str, bytes)) for v in values):
        return "strings", values
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, bytes, int, float)):
            raise TypeError(f"attrs[{name!r}]: list items must be str or numbers, not {type(v).__name__}")
    if all(isinstance(v, (int, float)) for v in values):
        return "numbers", values
    raise _invalid(f"attrs[{name!r}]: a list mixes strings and numbers (the server refuses mixed arrays)")


class Management(_Client):
    """A client of Mender's management API (``sbprov_mender_mgmt``), for
    provisioning tooling.

    Args:
        server: the server's base URL, as for :class:`Device`.
        token: a Personal Access Token (or a user JWT obtained elsewhere).
        user, password: log in with these at once (:meth:`login`); the
            password is str or bytes-like.
        ca, client_cert, client_key, proxy, user_agent, timeout,
        connect_timeout, max_response_size, allow_http: the transport, as
            for :class:`Device`.

    Give ``token``, or ``user`` and ``password``, or neither (then call
    :meth:`login` or :meth:`set_token` before anything else). Use the client
    as a context manager or call :meth:`close`.

    Raises:
        sbprov.AuthError: wrong user or password.
        sbprov.InvalidInputError: a bad URL or option, both a token and a
            user, a user without a password (or the reverse), a user name
            holding ``:``, a token that is not printable ASCII.
        Network errors as for :meth:`login`.
        TypeError: an argument has the wrong type.
    """

    __slots__ = ()
    _cancel_fn = staticmethod(_swig.sbprov_mender_mgmt_cancel)
    _last_response_fn = staticmethod(_swig.sbprov_mender_mgmt_last_response)

    def __init__(self, server: str, *, token: Optional[str] = None, user: Optional[str] = None,
                 password: Union[str, bytes, bytearray, memoryview, None] = None, ca: Optional[PathType] = None,
                 client_cert: Optional[PathType] = None, client_key: Optional[Key] = None,
                 proxy: Optional[str] = None, user_agent: Optional[str] = None, timeout: float = 30.0,
                 connect_timeout: float = 10.0, max_response_size: Optional[int] = None,
                 allow_http: bool = False) -> None:
        self._handle = None
        self._lock = threading.Lock()
        self._server = _str(server, "server")
        transport = _Transport(ca, client_cert, client_key, proxy, user_agent, timeout, connect_timeout,
                               max_response_size, allow_http)
        if (user is None) != (password is None):
            raise _invalid("user and password: give both to log in, or neither")
        if token is not None and user is not None:
            raise _invalid("token and user/password: give one way to authenticate, not both")
        _global_init()
        self._handle = _with_keys(
            (transport.client_key,),
            lambda ck: _swig.sbprov_py_mender_mgmt_new(self._server, *transport.args(ck)))
        try:
            if token is not None:
                self.set_token(token)
            elif user is not None:
                self.login(user, password)
        except BaseException:
            self.close()
            raise

    def login(self, user: str, password: Union[str, bytes, bytearray, memoryview]) -> None:
        """Log in with a user name (e-mail) and password (HTTP Basic on
        ``useradm/auth/login``); the client keeps the JWT. Releases the GIL.

        Raises:
            sbprov.AuthError: wrong user or password (401).
            sbprov.InvalidInputError: an empty user, or one holding ``:`` or
                a control character; a NUL in the password.
            sbprov.ResponseError: the answer holds no token.
            Network errors as for :meth:`Device.authenticate`.
        """
        # str (UTF-8) or bytes-like; the library cleanses its own copy.
        self._call(_swig.sbprov_mender_mgmt_login, _str(user, "user"), password)

    def set_token(self, token: str) -> None:
        """Use a Personal Access Token (or a user JWT obtained elsewhere)
        from now on.

        Raises:
            sbprov.InvalidInputError: the token is empty or not printable ASCII.
        """
        self._call(_swig.sbprov_mender_mgmt_set_token, _str(token, "token"))

    def preauthorize(self, identity: IdentityLike, key: Union[Key, str, bytes], force: bool = False) -> PreauthResult:
        """Preauthorize a device, so that its first authentication with this
        identity and key is accepted at once. Idempotent: if the server
        already knows the identity, its device ID comes back with
        ``existed=True``. Releases the GIL.

        Args:
            identity: an :class:`sbprov.identity.Identity` or a mapping of
                names to a str or a list of str.
            key: the device's :class:`sbprov.keys.Key` (only its public part
                is used) or its public key as PEM text.
            force: add this (identity, key) auth set even if the identity
                exists (e.g. a new key); ``existed`` is then False.

        Raises:
            sbprov.AuthError: not logged in, or the token is refused.
            sbprov.RequestRefusedError: the server refused the request.
            sbprov.InvalidKeyError: ``key`` is not a valid public key.
            sbprov.InvalidInputError: the identity is empty.
            sbprov.ResponseError: the server's answer names no device.
            Network errors as for :meth:`Device.authenticate`.
        """
        ident = _identity(identity)
        flags = _swig.SBPROV_MENDER_PREAUTH_FORCE if _bool(force, "force") else 0
        if isinstance(key, Key):
            owned = None
        elif isinstance(key, (str, bytes, bytearray, memoryview)):
            owned = key = from_public_pem(key)
        else:
            raise TypeError(f"key: expected sbprov.keys.Key or a PEM public key (str), not {type(key).__name__}")
        try:
            device_id, existed = _with_keys(
                (key,), lambda k: self._call(_swig.sbprov_py_mender_mgmt_preauthorize, ident._handle, k, flags))
        finally:
            if owned is not None:
                owned.close()
        return PreauthResult(device_id=device_id, existed=bool(existed))

    def device(self, device_id: str) -> DeviceInfo:
        """The device with this ID.

        Raises:
            sbprov.NotFoundError: no such device (also a ``LookupError``).
            sbprov.InvalidInputError: an empty ID or one that is not URL-safe.
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        d = self._call(_swig.sbprov_mender_mgmt_get_device, _str(device_id, "device_id"))
        return DeviceInfo._from_handle(d)

    def find(self, identity: IdentityLike) -> Optional[DeviceInfo]:
        """The device with this identity (compared in canonical form), or
        None. Reads every page of the device list (the API has no identity
        filter).

        Raises:
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        ident = _identity(identity)
        try:
            d = self._call(_swig.sbprov_mender_mgmt_find_device, ident._handle)
        except NotFoundError:
            return None
        return DeviceInfo._from_handle(d)

    def devices(self, status: Optional[str] = None, page: int = 1, per_page: int = 20) -> DevicePage:
        """One page of devices, oldest first.

        Args:
            status: only devices with this status (one of
                :data:`DEVICE_STATUSES`), or None for all.
            page: page number, from 1.
            per_page: devices per page, 1 to 500.

        Raises:
            sbprov.InvalidInputError: an unknown status, page or per_page out of range.
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        status = _str(status, "status", optional=True)
        page = _uint(page, "page", 1)
        per_page = _uint(per_page, "per_page", 1, 500)
        lst = self._call(_swig.sbprov_mender_mgmt_list_devices, status, page, per_page)
        items = tuple(DeviceInfo._from_handle(_swig.sbprov_mender_device_list_get(lst, i))
                      for i in range(_swig.sbprov_mender_device_list_count(lst)))
        return DevicePage(devices=items, page=page, per_page=per_page,
                          has_next=bool(_swig.sbprov_mender_device_list_has_next(lst)))

    def iter_devices(self, status: Optional[str] = None, per_page: int = 100) -> Iterator[DeviceInfo]:
        """Every device (with this status, or all), page after page, as a
        generator. Pages are fetched as the iteration reaches them, so a
        device whose status changes meanwhile may be skipped or seen twice.

        Raises:
            as :meth:`devices`.
        """
        status = _str(status, "status", optional=True)
        per_page = _uint(per_page, "per_page", 1, 500)
        page = 1
        while True:
            result = self.devices(status, page, per_page)
            yield from result.devices
            if not result.has_next or not result.devices:
                return
            page += 1

    def count(self, status: Optional[str] = None) -> int:
        """Number of devices (with this status, or all).

        Raises:
            sbprov.InvalidInputError: an unknown status.
            sbprov.ResponseError: the answer holds no count.
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        return int(self._call(_swig.sbprov_mender_mgmt_count, _str(status, "status", optional=True)))

    def set_status(self, device_id: str, auth_set_id: str, status: str) -> None:
        """Accept, reject or reset an auth set (``status`` is one of
        :data:`AUTH_SET_STATUSES`). Accepting one auth set rejects the
        device's previously accepted one.

        Raises:
            sbprov.NotFoundError: no such device or auth set.
            sbprov.RequestRefusedError: the transition is not allowed (400),
                or the device limit is reached (422).
            sbprov.InvalidInputError: an unknown status, an empty or unsafe ID.
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        self._call(_swig.sbprov_mender_mgmt_set_auth_status, _str(device_id, "device_id"),
                   _str(auth_set_id, "auth_set_id"), _str(status, "status"))

    def accept(self, device_id: str, auth_set_id: Optional[str] = None) -> str:
        """Accept a device's auth set: the given one, or (None) its only
        pending one. Returns the ID of the auth set accepted.

        Raises:
            sbprov.NotFoundError: no such device, or it has no pending auth set.
            sbprov.InvalidInputError: several auth sets are pending (name one).
            Others as for :meth:`set_status`.
        """
        if auth_set_id is None:
            info = self.device(device_id)
            pending = [a.id for a in info.auth_sets if a.status == "pending"]
            if not pending:
                raise NotFoundError(Result.ENOTFOUND, f"mender accept: device {device_id} has no pending auth set")
            if len(pending) > 1:
                raise _invalid(f"mender accept: device {device_id} has {len(pending)} pending auth sets "
                               f"({', '.join(pending)}); pass auth_set_id")
            auth_set_id = pending[0]
        self.set_status(device_id, auth_set_id, "accepted")
        return auth_set_id

    def decommission(self, device_id: str) -> None:
        """Decommission a device: it and its tokens are gone.

        Raises:
            sbprov.NotFoundError: no such device.
            sbprov.InvalidInputError: an empty or unsafe ID.
            sbprov.AuthError: not logged in, or the token is refused.
            Network errors as for :meth:`Device.authenticate`.
        """
        self._call(_swig.sbprov_mender_mgmt_decommission, _str(device_id, "device_id"))
