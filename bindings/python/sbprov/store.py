"""Crash-safe, encrypted credential store (libsbprov ``sbprov/store.h``).

A store is a directory (mode 0700, owned by the caller) of named entries,
each value sealed with AES-256-GCM under a key from a key file, derived
from a passphrase (scrypt), or a random key sealed to a device key (an EC
P-256 or RSA :class:`sbprov.keys.Key`, e.g. one held in a TPM), or, when
asked for explicitly, kept in plaintext. Every write is atomic and durable; :meth:`Store.swap` exchanges
two values atomically (key rotation); entries can be exported as env files
for docker/podman (``--env-file``) or systemd (``EnvironmentFile=``).

>>> create_key_file("/etc/gw/store.key")                      # doctest: +SKIP
>>> with Store("/var/lib/gw/secrets", key_file="/etc/gw/store.key") as s:  # doctest: +SKIP
...     s["AZURE_PRIMARY"] = b"..."
...     s.export_env(["AZURE_PRIMARY"], "/run/gw/env", format="systemd")

:class:`Store` is a mutable mapping of ``str`` names to ``bytes`` values:
``store[name]`` raises ``KeyError`` for a missing entry, ``in``, ``len()``,
iteration (names in byte order), ``keys()``, ``get()``, ``items()`` work as
for a dict (``items()`` and ``values()`` decrypt every entry). Names match
``[A-Za-z0-9._-]{1,128}``; values are bytes-like, at most 1 MiB
(:data:`VALUE_MAX`).

Calls that touch the disk release the GIL (opening a passphrase store runs
scrypt, which takes a noticeable fraction of a second). One store may be
shared between threads: the library serialises calls on it, and writers from
other processes are kept out by a file lock.

Failures raise :class:`sbprov.Error` subclasses: ``KeyError`` (missing
entry, from ``store[name]`` and ``del``), ``NotFoundError`` (no store and
``create=False``, a missing entry in :meth:`~Store.swap` or an export),
``PassphraseError``, ``InvalidKeyError`` (wrong or malformed key file, a
sealing key other than the store's, Ed25519 or without a private part, or
the store's mode or key source differs from the one asked for),
``ProviderError`` (the sealing key's provider cannot unseal),
``TamperedError`` (an entry or the metadata failed authentication),
``FormatError`` (newer format),
``UnsafeError`` (symbolic link, foreign owner, group/world-writable
directory, readable key file; also a ``PermissionError``),
``IdentifierError`` (bad entry or variable name), ``ParseError`` (a value an
env format cannot carry, a malformed env file), ``FileSystemError``,
``AlreadyExistsError`` (:func:`create_key_file` on an existing file).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Iterable, Iterator, Optional, Union

from . import _sbprov_swig as _swig
from ._errors import IdentifierError, InvalidInputError, NotFoundError, Result
from ._handle import _KeyedHandle
from .keys import Key

__all__ = [
    "NAME_MAX",
    "VALUE_MAX",
    "KEY_SIZE",
    "ENV_FORMATS",
    "Store",
    "create_key_file",
]

PathType = Union[str, bytes, os.PathLike]
Secret = Union[str, bytes, bytearray, memoryview]

#: Longest entry name, in characters.
NAME_MAX: int = _swig.SBPROV_STORE_NAME_MAX
#: Largest value, in bytes (1 MiB).
VALUE_MAX: int = _swig.SBPROV_STORE_VALUE_MAX
#: Size of a key file, in bytes.
KEY_SIZE: int = _swig.SBPROV_STORE_KEY_SIZE

#: Env-file formats of :meth:`Store.export_env` and :meth:`Store.import_env`.
ENV_FORMATS = {
    "docker": _swig.SBPROV_STORE_FORMAT_DOCKER,
    "systemd": _swig.SBPROV_STORE_FORMAT_SYSTEMD,
}


def _format(format: object) -> int:
    if not isinstance(format, str):
        raise TypeError(f"format: expected str, not {type(format).__name__}")
    try:
        return ENV_FORMATS[format]
    except KeyError:
        raise InvalidInputError(Result.EINVAL, f"format {format!r}: unknown (expected docker or systemd)") from None


def _name(name: object, what: str = "name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what}: expected str, not {type(name).__name__}")
    return name


def _value(value: object) -> object:
    if isinstance(value, str):
        raise TypeError("value: expected a bytes-like object, not str (encode it first, e.g. s.encode())")
    try:
        memoryview(value)
    except TypeError:
        raise TypeError(f"value: expected a bytes-like object, not {type(value).__name__}") from None
    return value


def _path(path: object, what: str) -> str:
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{what}: expected a path (str, bytes or os.PathLike), not {type(path).__name__}") from None
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    return path


def create_key_file(path: PathType) -> None:
    """Create a new store key file: :data:`KEY_SIZE` random bytes, mode
    0600, written atomically. An existing file is never replaced.

    Raises:
        sbprov.AlreadyExistsError: ``path`` exists (also a ``FileExistsError``).
        sbprov.FileSystemError: the file could not be written (nothing is left behind).
        sbprov.RandomError: the random generator failed.
    """
    _swig.sbprov_store_create_key_file(_path(path, "path"))


class Store(_KeyedHandle, MutableMapping):
    """An open credential store (``sbprov_store``): a mapping of entry names
    (``str``) to values (``bytes``).

    Args:
        path: the store directory.
        key_file: a key file made by :func:`create_key_file`.
        passphrase: a passphrase (str or bytes-like) to derive the key from.
        plaintext: True for a store that keeps values unencrypted.
        sealing_key: a private EC P-256 or RSA :class:`sbprov.keys.Key`
            (e.g. ``sbprov.keys.load("handle:0x81000003", providers=["tpm2",
            "default"])``, a TPM key with the ``decrypt`` attribute): a new
            store gets a random key sealed to it (ECDH or RSA-OAEP), and only
            this key can open the store again. Used during the call only (the
            Key may be closed afterwards); keyword only.
        create: create the directory and the store if they do not exist
            (the default, like ``dbm``'s ``"c"``); pass False where a missing
            store is an error (``NotFoundError``) rather than a fresh, empty
            store, e.g. in a service reading credentials provisioned earlier.
        scrypt_log2_n: scrypt cost log2(N) when creating a passphrase store,
            10..22; 0 (default) means 15. Ignored for an existing store.

    Exactly one of ``key_file``, ``passphrase``, ``sealing_key`` and
    ``plaintext`` must be given. An existing store is opened only in the mode
    and with the key source it was created with.

    Use it as a context manager or call :meth:`close` (idempotent; the key is
    wiped from memory). Any use after ``close()`` raises
    :class:`sbprov.InvalidInputError`. A store cannot be copied or pickled.

    Raises:
        sbprov.NotFoundError: no store there and ``create`` is False.
        sbprov.PassphraseError: wrong or missing passphrase.
        sbprov.InvalidKeyError: wrong or malformed key file; a sealing key that
            is not the store's (the message names both fingerprints), is
            Ed25519 or has no private part; a mode or key-source mismatch.
        sbprov.ProviderError: the provider holding the sealing key cannot do
            ECDH or RSA-OAEP with it (e.g. RSA in tpm2-openssl before 1.2).
        sbprov.UnsafeError: the directory, key file or a store file is a
            symbolic link, not owned by the caller, or writable by others.
        sbprov.TamperedError: the store's metadata is corrupt.
        sbprov.FormatError: the store has a newer format.
        sbprov.InvalidInputError: not exactly one key source, or a closed
            ``sealing_key``.
        TypeError: ``sealing_key`` is not a :class:`sbprov.keys.Key`.
    """

    __slots__ = ()

    def __init__(self, path: PathType, key_file: Optional[PathType] = None, passphrase: Optional[Secret] = None,
                 plaintext: bool = False, create: bool = True, *, sealing_key: Optional[Key] = None,
                 scrypt_log2_n: int = 0) -> None:
        self._handle = None
        path = _path(path, "path")
        key_file = None if key_file is None else _path(key_file, "key_file")
        if passphrase is not None and not isinstance(passphrase, str):
            try:
                memoryview(passphrase)
            except TypeError:
                raise TypeError(f"passphrase: expected str or a bytes-like object, "
                                f"not {type(passphrase).__name__}") from None
        for what, flag in (("plaintext", plaintext), ("create", create)):
            if not isinstance(flag, (bool, int)):
                raise TypeError(f"{what}: expected bool, not {type(flag).__name__}")
        if isinstance(scrypt_log2_n, bool) or not isinstance(scrypt_log2_n, int):
            raise TypeError(f"scrypt_log2_n: expected int, not {type(scrypt_log2_n).__name__}")
        if not 0 <= scrypt_log2_n < 2**32:
            raise InvalidInputError(Result.EINVAL, f"scrypt_log2_n: {scrypt_log2_n} out of range (10..22, or 0)")
        if sealing_key is not None and not isinstance(sealing_key, Key):
            raise TypeError(f"sealing_key: expected sbprov.keys.Key or None, not {type(sealing_key).__name__}")
        flags = (int(bool(plaintext)), int(bool(create)), scrypt_log2_n)
        if sealing_key is None:
            self._handle = _swig.sbprov_py_store_open(path, key_file, passphrase, None, *flags)
        else:
            # Under the Key's lock: the C key is used by one thread at a time
            # (the call releases the GIL), and it cannot be closed meanwhile.
            self._handle = sealing_key._call(
                lambda key: _swig.sbprov_py_store_open(path, key_file, passphrase, key, *flags))

    # ---- mapping -------------------------------------------------------------

    def __getitem__(self, name: str) -> bytes:
        """The value of ``name``. ``KeyError`` if there is no such entry;
        ``TamperedError`` if it fails authentication."""
        name = _name(name)
        try:
            return _swig.sbprov_py_store_get(self._live_handle(), name)
        except NotFoundError as e:
            raise KeyError(name) from e

    def __setitem__(self, name: str, value: Union[bytes, bytearray, memoryview]) -> None:
        """Store ``value`` (bytes-like; ``str`` is refused with TypeError)
        under ``name``, atomically and durably."""
        _swig.sbprov_store_put(self._live_handle(), _name(name), _value(value))

    def __delitem__(self, name: str) -> None:
        """Delete ``name`` durably; ``KeyError`` if there is no such entry."""
        name = _name(name)
        try:
            _swig.sbprov_store_delete(self._live_handle(), name)
        except NotFoundError as e:
            raise KeyError(name) from e

    def __contains__(self, name: object) -> bool:
        """Whether the entry exists (its value is not read). A name that is
        not a valid entry name (or not a str) is never in the store."""
        if not isinstance(name, str):
            return False
        handle = self._live_handle()
        try:
            _swig.sbprov_store_exists(handle, name)
        except (NotFoundError, IdentifierError):
            return False
        except InvalidInputError:
            if "\0" in name:
                return False
            raise
        return True

    def names(self) -> list:
        """Entry names in byte order, as a list."""
        text = _swig.sbprov_store_list_names(self._live_handle())
        return text.split("\n")[:-1] if text else []

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    # A store is a handle, not a value: compare and hash by identity (the
    # Mapping default would decrypt every entry).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    # ---- other operations ----------------------------------------------------

    def swap(self, a: str, b: str) -> None:
        """Exchange the values of entries ``a`` and ``b`` atomically, e.g. a
        primary and a secondary key at rotation. A crash leaves both old or
        both new values.

        Raises:
            sbprov.NotFoundError: an entry does not exist.
            sbprov.TamperedError: an entry failed authentication (nothing changed).
            sbprov.InvalidInputError: ``a`` equals ``b``.
        """
        _swig.sbprov_store_swap(self._live_handle(), _name(a, "a"), _name(b, "b"))

    def export_env(self, names: Optional[Iterable[str]], path: PathType, format: str = "docker") -> None:
        """Write entries as an env file (mode 0600, atomically; an existing
        file is replaced). The variable name is the entry name, which must be
        a valid variable name (``[A-Za-z_][A-Za-z0-9_]*``).

        Args:
            names: entry names in output order, or None for every entry.
            path: the env file to write.
            format: ``"docker"`` (docker/podman ``--env-file``: ``NAME=value``,
                valid UTF-8 without NUL, CR or LF) or ``"systemd"``
                (``EnvironmentFile=``: ``NAME="value"``, escaped; valid UTF-8
                without control characters other than tab and LF).

        Raises:
            sbprov.ParseError: a value cannot be expressed in ``format``
                (nothing is written).
            sbprov.IdentifierError: a name is not a valid variable name.
            sbprov.NotFoundError: a named entry does not exist.
        """
        fmt = _format(format)
        joined = None
        if names is not None:
            if isinstance(names, (str, bytes)):
                raise TypeError("names: expected a list of names or None, not a single str")
            items = []
            for i, item in enumerate(names):
                if not isinstance(item, str):
                    raise TypeError(f"names[{i}]: expected str, not {type(item).__name__}")
                if "," in item or item == "":
                    raise IdentifierError(Result.EID, f"names[{i}]: {item!r} is not a valid entry name")
                items.append(item)
            if not items:
                raise InvalidInputError(Result.EINVAL, "names: empty (pass None to export every entry)")
            joined = ",".join(items)
        _swig.sbprov_store_export_env(self._live_handle(), joined, _path(path, "path"), fmt)

    def import_env(self, path: PathType, format: str = "docker") -> None:
        """Read an env file of ``format`` (see :meth:`export_env`) and store
        each ``NAME=value`` (the file is parsed completely before anything is
        written). Blank and comment lines are skipped.

        Raises:
            sbprov.ParseError: a line is malformed (the message names it).
            sbprov.IdentifierError: a variable name is not a valid entry name.
            sbprov.FileSystemError: the file could not be read.
        """
        _swig.sbprov_store_import_env(self._live_handle(), _path(path, "path"), _format(format))
