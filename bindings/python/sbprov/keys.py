"""Device key pairs (libsbprov ``sbprov/keys.h``): generate Ed25519, ECDSA
P-256 and RSA keys, save them as PKCS#8 PEM files that no other user can ever
read, load them from a path or any OpenSSL 3 store URI (a TPM through the
tpm2 provider, PKCS#11), and use them: SPKI PEM and fingerprint, signatures
exactly as the Mender server verifies them, PKCS#10 CSRs.

>>> key = generate("ed25519", "/var/lib/gw/device.key")     # doctest: +SKIP
>>> sig = key.sign(b"payload")                              # doctest: +SKIP
>>> from_public_pem(key.public_pem).verify(b"payload", sig) # doctest: +SKIP

A :class:`Key` owns a C handle: use it as a context manager or call
:meth:`Key.close` (the same lifecycle as :class:`sbprov.azure.Deriver`).
Calls that may block (generation, loading, saving, signing, verifying, CSRs)
release the GIL; a key serialises its own calls with a lock, so one key may
be shared between threads.

Failures raise :class:`sbprov.Error` subclasses: ``InvalidKeyError`` (bad or
unsupported key, a public-only key asked to sign), ``SignatureError``
(verification failed), ``PassphraseError``, ``AlreadyExistsError`` (also a
``FileExistsError``), ``FileSystemError`` (also an ``OSError``),
``NotFoundError``, ``ProviderError``, ``IdentifierError`` (CSR names),
``Base64Error`` (a signature that is not Base64).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Iterable, Optional, Sequence, Union

from . import _sbprov_swig as _swig
from ._errors import IdentifierError, InvalidInputError, InvalidKeyError, Result
from ._handle import _KeyedHandle

__all__ = [
    "KEY_KINDS",
    "Key",
    "generate",
    "load",
    "from_public_pem",
]

Secret = Union[str, bytes, bytearray, memoryview]
PathType = Union[str, bytes, os.PathLike]

#: Key kinds :func:`generate` accepts, with (type, RSA bits). ``"rsa"`` is
#: RSA-3072; ``"rsa-N"`` for other N in 2048..4096 is accepted too.
KEY_KINDS = {
    "ed25519": (_swig.SBPROV_KEY_ED25519, 0),
    "ecdsa-p256": (_swig.SBPROV_KEY_ECDSA_P256, 0),
    "rsa": (_swig.SBPROV_KEY_RSA, 3072),
    "rsa-2048": (_swig.SBPROV_KEY_RSA, 2048),
    "rsa-3072": (_swig.SBPROV_KEY_RSA, 3072),
    "rsa-4096": (_swig.SBPROV_KEY_RSA, 4096),
}

_TYPE_NAMES = {
    _swig.SBPROV_KEY_ED25519: "ed25519",
    _swig.SBPROV_KEY_ECDSA_P256: "ecdsa-p256",
    _swig.SBPROV_KEY_RSA: "rsa",
}

_RSA_KIND = re.compile(r"rsa-([0-9]{1,6})")


def _kind(kind: object) -> tuple:
    if not isinstance(kind, str):
        raise TypeError(f"kind: expected str, not {type(kind).__name__}")
    found = KEY_KINDS.get(kind)
    if found is not None:
        return found
    m = _RSA_KIND.fullmatch(kind)
    if m is not None:
        # The library checks the size (2048 to 4096) and names the limits.
        return _swig.SBPROV_KEY_RSA, int(m.group(1))
    raise InvalidKeyError(Result.EKEY, f"key kind {kind!r}: unknown (expected one of {', '.join(KEY_KINDS)})")


def _names(value: object, what: str, error: type, code: int) -> Optional[str]:
    """A list of names (or a comma-separated str) as one comma-separated str;
    None (or an empty list) stays None."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    if not isinstance(value, Iterable):
        raise TypeError(f"{what}: expected a list, a comma-separated str or None, not {type(value).__name__}")
    items = []
    for i, item in enumerate(value):
        if isinstance(item, bytes):
            item = item.decode("utf-8", "surrogateescape")
        if not isinstance(item, str):
            raise TypeError(f"{what}[{i}]: expected str, not {type(item).__name__}")
        if "," in item:
            raise error(code, f"{what}[{i}]: {item!r} holds ',', which separates the items")
        items.append(item)
    return ",".join(items) if items else None


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, (bool, int)):
        raise TypeError(f"{what}: expected bool, not {type(value).__name__}")
    return bool(value)


def _data(data: object, what: str = "data") -> object:
    """Bytes-like data to sign or verify: a str is refused (a signature is
    over exact bytes, and an implicit encoding would hide which)."""
    if isinstance(data, str):
        raise TypeError(f"{what}: expected a bytes-like object, not str (encode it first, e.g. s.encode())")
    return data


class Key(_KeyedHandle):
    """A key pair, or a public key only (``sbprov_key``).

    Get one from :func:`generate`, :func:`load` or :func:`from_public_pem`;
    the class is not instantiated directly. Use it as a context manager or
    call :meth:`close` when done (idempotent; the key is also released when
    garbage-collected). Any use after ``close()`` raises
    :class:`sbprov.InvalidInputError`. Keys cannot be copied or pickled.
    """

    __slots__ = ("_lock",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Not for direct use: see :func:`generate`, :func:`load`, :func:`from_public_pem`."""
        raise TypeError("sbprov.keys.Key cannot be created directly; use sbprov.keys.generate(), "
                        "load() or from_public_pem()")

    @classmethod
    def _wrap(cls, handle: object) -> "Key":
        key = cls.__new__(cls)
        key._handle = handle
        key._lock = threading.Lock()
        return key

    def _call(self, fn, *args: object) -> object:
        # One C handle, one thread at a time (the library's rule): calls that
        # release the GIL would otherwise overlap. Waiting on the lock
        # releases the GIL too.
        with self._lock:
            return fn(self._live_handle(), *args)

    # ------------------------------------------------------------------
    # Properties
    # ------------------------------------------------------------------

    @property
    def type(self) -> str:
        """The algorithm: ``"ed25519"``, ``"ecdsa-p256"`` or ``"rsa"``."""
        code = self._call(_swig.sbprov_key_get_type)
        return _TYPE_NAMES.get(code, f"unknown-{code}")

    @property
    def bits(self) -> int:
        """Key size in bits: 255 (Ed25519), 256 (P-256) or the RSA modulus size."""
        return int(self._call(_swig.sbprov_key_bits))

    @property
    def has_private(self) -> bool:
        """Whether the key can sign (it has a private part, in memory or in a provider)."""
        return bool(self._call(_swig.sbprov_key_has_private))

    @property
    def public_pem(self) -> str:
        """The public key as SPKI PEM (``-----BEGIN PUBLIC KEY-----``, 64-character
        lines, final newline), as Mender expects; never PKCS#1 for RSA."""
        return self._call(_swig.sbprov_key_public_pem)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER SubjectPublicKeyInfo, 64 lower-case hex digits."""
        return self._call(_swig.sbprov_key_fingerprint)

    # ------------------------------------------------------------------
    # Operations
    # ------------------------------------------------------------------

    def sign(self, data: Union[bytes, bytearray, memoryview]) -> str:
        """Sign ``data`` exactly as the Mender server verifies: RSA PKCS#1 v1.5
        over SHA-256, ECDSA over SHA-256 (DER signature), pure Ed25519 over the
        raw message. Returns standard padded Base64. Releases the GIL (a key
        in a TPM may take a while).

        Raises:
            sbprov.InvalidKeyError: the key has no private part.
            sbprov.ProviderError: the provider holding the key failed to sign.
            TypeError: ``data`` is a str or not bytes-like.
        """
        return self._call(_swig.sbprov_key_sign, _data(data))

    def verify(self, data: Union[bytes, bytearray, memoryview], signature: Union[str, bytes]) -> None:
        """Check a Base64 signature of ``data`` made as :meth:`sign` makes it;
        return None if it is valid.

        Raises:
            sbprov.SignatureError: the signature does not verify.
            sbprov.Base64Error: ``signature`` is not strict padded Base64.
            TypeError: ``data`` is a str or not bytes-like, or ``signature``
                is not str or bytes-like.
        """
        self._call(_swig.sbprov_key_verify, _data(data), signature)

    def csr(self, common_name: str, sans: Union[Sequence[str], str, None] = None) -> str:
        """A PKCS#10 certificate signing request for this key, PEM encoded and
        signed with it: subject ``CN=common_name`` (1 to 64 characters), and a
        subjectAltName extension when ``sans`` is given, in OpenSSL's syntax:
        a list such as ``["DNS:gw1.example", "IP:10.0.0.7"]`` or one
        comma-separated str.

        Raises:
            sbprov.IdentifierError: the common name or a SAN is malformed.
            sbprov.InvalidKeyError: the key has no private part.
            TypeError: an argument has the wrong type.
        """
        if not isinstance(common_name, (str, bytes)):
            raise TypeError(f"common_name: expected str, not {type(common_name).__name__}")
        return self._call(_swig.sbprov_key_csr, common_name, _names(sans, "sans", IdentifierError, Result.EID))

    def save(self, path: PathType, *, passphrase: Optional[Secret] = None, overwrite: bool = False) -> None:
        """Write the private key to ``path`` as PKCS#8 PEM, mode 0600, atomically
        (a temporary file in the same directory, fsynced and renamed over the
        target): no other user can read it at any moment, and a crash leaves
        the old file or the new one.

        Args:
            path: target path.
            passphrase: encrypt with this passphrase (AES-256-CBC, PBKDF2); str
                or bytes-like, 1 to 1023 bytes; None for no encryption.
            overwrite: replace an existing file (else AlreadyExistsError).

        Raises:
            sbprov.AlreadyExistsError: ``path`` exists and ``overwrite`` is False.
            sbprov.InvalidKeyError: the key has no private part that can be
                exported (public only, or held in hardware).
            sbprov.FileSystemError: creating, writing, syncing or renaming failed.
            sbprov.InvalidInputError: an empty or too long passphrase, a NUL.
        """
        flags = _swig.SBPROV_KEY_SAVE_OVERWRITE if _bool(overwrite, "overwrite") else 0
        self._call(_swig.sbprov_key_save, os.fspath(path), passphrase, flags)

    def __repr__(self) -> str:
        if self._handle is None:
            return "<sbprov.keys.Key closed>"
        return f"<sbprov.keys.Key {self.type} {self.bits} bits{' private' if self.has_private else ' public'}>"


def generate(kind: str = "ed25519", path: Optional[PathType] = None, *, passphrase: Optional[Secret] = None,
             overwrite: bool = False) -> Key:
    """Generate a new key pair with OpenSSL's default provider.

    Args:
        kind: ``"ed25519"`` (the default, as current Mender clients),
            ``"ecdsa-p256"``, ``"rsa-2048"``, ``"rsa-3072"``, ``"rsa-4096"``
            or ``"rsa"`` (3072 bits).
        path: if given, the private key is also saved there (see
            :meth:`Key.save`: PKCS#8 PEM, mode 0600, atomic).
        passphrase: encrypt the saved file with this passphrase (only with ``path``).
        overwrite: replace an existing file at ``path``.

    Returns the key, usable for signing. Releases the GIL while generating
    (RSA-4096 takes seconds).

    Raises:
        sbprov.InvalidKeyError: unknown kind, or RSA size outside 2048..4096.
        sbprov.AlreadyExistsError: ``path`` exists and ``overwrite`` is False
            (nothing is written; the new key is discarded).
        sbprov.FileSystemError: the file could not be written.
        sbprov.InvalidInputError: a passphrase without a path, or an invalid passphrase.
    """
    key_type, bits = _kind(kind)
    if path is None and passphrase is not None:
        raise InvalidInputError(Result.EINVAL, "passphrase: given without a path to save the key to")
    key = Key._wrap(_swig.sbprov_py_key_generate(key_type, bits))
    if path is not None:
        try:
            key.save(path, passphrase=passphrase, overwrite=overwrite)
        except BaseException:
            key.close()
            raise
    return key


def load(uri: PathType, *, passphrase: Optional[Secret] = None, providers: Union[Sequence[str], str, None] = None,
         openssl_conf: Optional[PathType] = None, propquery: Optional[str] = None) -> Key:
    """Load a private key from a file path or an OpenSSL 3 store URI
    (``file:...``, ``handle:0x81000001`` with the tpm2 provider,
    ``pkcs11:...``). Signing later runs in the provider that holds the key,
    so a key in a TPM never leaves it. Releases the GIL while loading.

    Args:
        uri: path or store URI.
        passphrase: passphrase of an encrypted PEM (str or bytes-like), or None.
        providers: OpenSSL providers to load first, e.g. ``["tpm2", "default"]``
            or ``"tpm2,default"``.
        openssl_conf: OpenSSL configuration file to load first.
        propquery: property query for fetching operations (default: the key's
            own provider).

    Raises:
        sbprov.NotFoundError: no such file, or the file/URI holds no private key.
        sbprov.PassphraseError: the key is encrypted and the passphrase is
            missing or wrong.
        sbprov.ProviderError: a provider or the configuration could not be
            loaded, or the URI scheme is unknown.
        sbprov.InvalidKeyError: the key is not Ed25519, ECDSA P-256 or RSA 2048..4096.
        sbprov.FileSystemError: the file could not be read.
        sbprov.InvalidInputError: an item of ``providers`` holds ',', a NUL in a string.
    """
    uri = os.fspath(uri)
    conf = None if openssl_conf is None else os.fspath(openssl_conf)
    provider_list = _names(providers, "providers", InvalidInputError, Result.EINVAL)
    return Key._wrap(_swig.sbprov_py_key_load(uri, passphrase, provider_list, conf, propquery))


def from_public_pem(pem: Union[str, bytes, bytearray, memoryview]) -> Key:
    """A public-only key from a PEM public key: SPKI (``BEGIN PUBLIC KEY``) or
    PKCS#1 RSA (``BEGIN RSA PUBLIC KEY``), for verifying signatures.

    Raises:
        sbprov.InvalidKeyError: not a PEM public key of a supported type.
        TypeError: ``pem`` is not str or bytes-like.
    """
    return Key._wrap(_swig.sbprov_key_from_public_pem(pem))
