"""Device identity as Mender understands it (libsbprov ``sbprov/identity.h``).

An :class:`Identity` is an ordered set of attributes: a name with one or more
string values. Build one from this system (:meth:`Identity.from_system`:
MAC, machine-id, DMI serial and UUID, host name), from a Mender identity
script (:meth:`Identity.from_script`), from ``key=value`` text
(:meth:`Identity.from_text`) or from code (``Identity()`` and
:meth:`Identity.add`). It gives:

* :meth:`Identity.canonical_json`: byte for byte the JSON the Mender server
  stores (Go ``encoding/json`` of a map: sorted keys, HTML escaping, invalid
  UTF-8 as U+FFFD);
* :meth:`Identity.digest`: its SHA-256 in hex, the server's ``id_data_sha256``;
* :meth:`Identity.registration_id`: an Azure registration ID from a template
  such as ``"gw-{mac:compact}"``.

An identity is also a read-only :class:`collections.abc.Mapping` from names
to lists of values, in the order the names were first added::

    >>> ident = Identity.from_text("mac=00:11:22:33:44:55\\nserial=A\\nserial=B\\n")
    >>> list(ident), ident["serial"], len(ident)
    (['mac', 'serial'], ['A', 'B'], 2)

Names and values are ``str``; bytes that are not UTF-8 come back as lone
surrogates (``surrogateescape``) and may be passed in the same way or as
``bytes``. Identities are not secret: ``repr`` shows the attributes.

Failures raise :class:`sbprov.Error` subclasses: ``ParseError`` (malformed
names, values, text or templates), ``NotFoundError`` (an attribute the
system or the identity lacks), ``ScriptError`` / ``OperationTimeoutError``
(identity scripts), ``FileSystemError`` (sysfs or /etc unreadable),
``IdentifierError`` (a template's result is not a registration ID).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _sbprov_swig as _swig
from ._errors import InvalidInputError, Result

__all__ = [
    "Identity",
    "SOURCES",
    "DIGEST_SIZE",
]

Text = Union[str, bytes]

#: Attribute sources of :meth:`Identity.from_system`, name -> bit, in the
#: order the attributes are gathered.
SOURCES = {
    "mac": _swig.SBPROV_IDENTITY_MAC,
    "machine_id": _swig.SBPROV_IDENTITY_MACHINE_ID,
    "serial": _swig.SBPROV_IDENTITY_DMI_SERIAL,
    "product_uuid": _swig.SBPROV_IDENTITY_DMI_UUID,
    "hostname": _swig.SBPROV_IDENTITY_HOSTNAME,
}

#: Length of :meth:`Identity.digest` (64 hex digits).
DIGEST_SIZE: int = _swig.SBPROV_IDENTITY_DIGEST_SIZE - 1

_UINT32_MAX = 2**32 - 1


def _invalid(message: str) -> InvalidInputError:
    return InvalidInputError(Result.EINVAL, message)


def _text(value: object, what: str) -> str:
    """A name or value given as str or bytes, as the str the binding returns
    for it (bytes decoded as UTF-8 with surrogateescape)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "surrogateescape")
    raise TypeError(f"{what}: expected str or bytes, not {type(value).__name__}")


def _limit(value: object, what: str) -> int:
    """A positive 32-bit limit (None is handled by the caller). 0 is refused:
    the C API reads it as "default", which here is spelled None."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: expected int or None, not {type(value).__name__}")
    if not 1 <= value <= _UINT32_MAX:
        raise _invalid(f"{what}: {value} is out of range (1 to {_UINT32_MAX}, or None for the default)")
    return value


def _globs(value: object, what: str) -> Optional[str]:
    """Interface-name globs as the library's comma-separated string: None
    stays None (the default), a str is taken as it is, a list is joined."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return _text(value, what)
    if not isinstance(value, Iterable):
        raise TypeError(f"{what}: expected a list of globs, a comma-separated str or None, "
                        f"not {type(value).__name__}")
    globs = []
    for i, glob in enumerate(value):
        glob = _text(glob, f"{what}[{i}]")
        if "," in glob:
            raise _invalid(f"{what}[{i}]: {glob!r} holds ',', which separates globs")
        globs.append(glob)
    return ",".join(globs)


def _sources(value: object) -> int:
    if isinstance(value, (str, bytes)):
        names = [n.strip() for n in _text(value, "sources").split(",")] if value else []
    elif isinstance(value, Iterable):
        names = [_text(n, "sources item") for n in value]
    else:
        raise TypeError(f"sources: expected names of attributes, not {type(value).__name__}")
    bits = 0
    for name in names:
        bit = SOURCES.get(name)
        if bit is None:
            raise _invalid(f"sources: unknown attribute {name!r} (known: {', '.join(SOURCES)})")
        bits |= bit
    # 0 (no source) is passed on: the library refuses it with its own message.
    return bits


class Identity(Mapping):
    """A device identity (``sbprov_identity``): attributes in the order they
    were first added, each with one or more values.

    ``Identity()`` is empty; use :meth:`add` or the constructors
    :meth:`from_system`, :meth:`from_script` and :meth:`from_text`.

    Read access is that of a mapping from names to lists of values
    (``len``, iteration over names, ``ident[name]``, ``name in ident``,
    ``get``, ``items``, ``keys``, ``values``, equality with other mappings).
    An identity holds at most 256 attributes of at most 256 values each.

    An identity is not thread-safe for concurrent :meth:`add` calls from
    several threads without a lock of your own; everything else only reads.
    """

    __slots__ = ("_handle",)

    def __init__(self) -> None:
        """Create an empty identity."""
        self._handle = _swig.sbprov_identity_new()

    @classmethod
    def _wrap(cls, handle: object) -> "Identity":
        obj = cls.__new__(cls)
        obj._handle = handle
        return obj

    # ------------------------------------------------------------------
    # Constructors
    # ------------------------------------------------------------------

    @classmethod
    def from_system(cls, sources: Union[Sequence[str], str] = ("mac",), *, skip_local_mac: bool = False,
                    physical: Union[Sequence[str], str, None] = None,
                    virtual: Union[Sequence[str], str, None] = None,
                    sysfs_root: Union[str, os.PathLike, None] = None,
                    etc_root: Union[str, os.PathLike, None] = None) -> "Identity":
        """Gather identity attributes from this system (``sbprov_identity_probe``).

        Args:
            sources: names of the attributes to gather: ``"mac"`` (MAC of the
                physical Ethernet interface with the lowest ifindex),
                ``"machine_id"`` (/etc/machine-id), ``"serial"`` and
                ``"product_uuid"`` (DMI), ``"hostname"``; a list, or a
                comma-separated str. They are always added in that order.
            skip_local_mac: skip locally administered MACs (randomized, veth, ...).
            physical: interface-name globs always treated as physical Ethernet
                (e.g. ``["eth0", "enp*"]`` or ``"eth0,enp*"``); None for none.
            virtual: globs treated as virtual, replacing the library's default
                list (``lo``, ``veth*``, ``docker*``, ...); None keeps the default,
                ``[]`` or ``""`` empties it.
            sysfs_root: root of sysfs instead of ``/sys`` (tests use fake trees).
            etc_root: root for ``etc/machine-id`` instead of ``/``.

        The GIL is released while the system is read.

        Raises:
            sbprov.NotFoundError: a requested attribute is not available (no
                suitable interface, no machine-id, DMI not readable); the
                message says which and why.
            sbprov.FileSystemError: sysfs or /etc exists but cannot be read.
            sbprov.InvalidInputError: no or unknown sources, a glob holding ',',
                a glob or root that is too long, a NUL in a string.
            TypeError: an argument has the wrong type.
        """
        bits = _sources(sources)
        if not isinstance(skip_local_mac, (bool, int)):
            raise TypeError(f"skip_local_mac: expected bool, not {type(skip_local_mac).__name__}")
        physical_globs = _globs(physical, "physical")
        virtual_globs = _globs(virtual, "virtual")
        sysfs = None if sysfs_root is None else os.fspath(sysfs_root)
        etc = None if etc_root is None else os.fspath(etc_root)
        handle = _swig.sbprov_py_identity_probe(bits, 1 if skip_local_mac else 0, physical_globs,
                                                virtual_globs, sysfs, etc)
        return cls._wrap(handle)

    @classmethod
    def from_script(cls, path: Union[str, bytes, os.PathLike], *, timeout_ms: Optional[int] = None,
                    max_output: Optional[int] = None) -> "Identity":
        """Run a Mender identity script and parse what it prints
        (``sbprov_identity_from_script``).

        The script is executed directly (no shell: it needs its ``#!`` line and
        the execute bit) with an empty environment but ``PATH``, stdin from
        /dev/null and stderr discarded; it must exit 0 within the time limit
        and print ``key=value`` lines with at least one attribute.

        Args:
            path: the executable.
            timeout_ms: kill the script after this many milliseconds
                (1 to 2**32-1; None: 10 s).
            max_output: most bytes of output accepted (1 to 2**32-1; None: 64 KiB).

        The GIL is released while the script runs.

        Raises:
            sbprov.ScriptError: the script could not be run, exited non-zero,
                was killed by a signal, printed too much or nothing.
            sbprov.OperationTimeoutError: it ran longer than ``timeout_ms`` (it
                is killed). Also a ``TimeoutError``.
            sbprov.ParseError: its output is not ``key=value`` lines.
            sbprov.InvalidInputError: a limit is out of range, a NUL in the path.
            TypeError: an argument has the wrong type.
        """
        path = os.fspath(path)
        timeout = 0 if timeout_ms is None else _limit(timeout_ms, "timeout_ms")
        limit = 0 if max_output is None else _limit(max_output, "max_output")
        return cls._wrap(_swig.sbprov_py_identity_from_script(path, timeout, limit))

    @classmethod
    def from_text(cls, s: Union[str, bytes, bytearray, memoryview]) -> "Identity":
        """Parse ``key=value`` lines as a Mender identity script prints them
        (``sbprov_identity_parse``): each line is split at its first ``=``, a
        repeated key accumulates values, empty lines are skipped and a CR
        before the LF is removed.

        Raises:
            sbprov.ParseError: a non-empty line has no ``=``, an empty name,
                a CR inside, a NUL byte (in bytes), or breaks a limit; the
                message gives the line number.
            sbprov.InvalidInputError: a ``str`` holding a NUL character.
            TypeError: ``s`` is not str or bytes-like.
        """
        return cls._wrap(_swig.sbprov_identity_parse(s))

    @classmethod
    def _from_items(cls, items: Iterable[Tuple[str, List[str]]]) -> "Identity":
        ident = cls()
        for name, values in items:
            for value in values:
                ident.add(name, value)
        return ident

    # ------------------------------------------------------------------
    # Changing and computing
    # ------------------------------------------------------------------

    def add(self, name: Text, value: Text) -> None:
        """Add ``value`` to attribute ``name``: a new name comes after the
        existing ones, a repeated name accumulates values (as Mender does).

        Raises:
            sbprov.ParseError: the name is empty, longer than 1024 bytes or
                holds ``=``, CR or LF; the value is longer than 4096 bytes or
                holds CR or LF; too many attributes or values. The identity
                is left as it was.
            sbprov.InvalidInputError: a NUL in the name or value.
            TypeError: the name or value is not str or bytes.
        """
        for arg, what in ((name, "name"), (value, "value")):
            if not isinstance(arg, (str, bytes)):
                raise TypeError(f"{what}: expected str or bytes, not {type(arg).__name__}")
        _swig.sbprov_identity_add(self._handle, name, value)

    def canonical_json(self) -> str:
        """The canonical JSON of the identity, byte for byte as the Mender
        server normalizes ``id_data``: an object with keys sorted by their
        bytes, one value as a string and several as an array; ``<`` ``>``
        ``&`` U+2028 U+2029 and control characters escaped; invalid UTF-8 as
        U+FFFD.

        Raises:
            sbprov.InvalidInputError: the identity is empty.
        """
        return _swig.sbprov_identity_canonical_json(self._handle)

    def digest(self) -> str:
        """SHA-256 of :meth:`canonical_json`, 64 lower-case hex digits (the
        server's ``id_data_sha256``).

        Raises:
            sbprov.InvalidInputError: the identity is empty.
        """
        return _swig.sbprov_identity_digest(self._handle)

    def registration_id(self, template: Text) -> str:
        """An Azure registration ID made from the identity with a template:
        ``{name}`` is the first value of attribute ``name``, ``{name:lower}``
        that value lower-cased, ``{name:compact}`` lower-cased without ``:``
        ``-`` ``.``; ``{{`` and ``}}`` are literal braces. Example:
        ``"gw-{mac:compact}"`` gives ``"gw-001122334455"``.

        Raises:
            sbprov.NotFoundError: the template names an attribute the identity lacks.
            sbprov.ParseError: the template is malformed (unclosed ``{``,
                unknown modifier, ...).
            sbprov.IdentifierError: the result is not a valid registration ID.
            sbprov.InvalidInputError: a NUL in the template.
            TypeError: ``template`` is not str or bytes.
        """
        return _swig.sbprov_identity_format_id(self._handle, template)

    # ------------------------------------------------------------------
    # Mapping protocol (read only)
    # ------------------------------------------------------------------

    def _names(self) -> List[str]:
        handle = self._handle
        return [_swig.sbprov_identity_name(handle, i) for i in range(_swig.sbprov_identity_count(handle))]

    def _values(self, index: int) -> List[str]:
        handle = self._handle
        return [_swig.sbprov_identity_value(handle, index, j)
                for j in range(_swig.sbprov_identity_value_count(handle, index))]

    def _index(self, name: object) -> int:
        if not isinstance(name, (str, bytes)):
            return -1
        name = _text(name, "name")
        handle = self._handle
        for i in range(_swig.sbprov_identity_count(handle)):
            if _swig.sbprov_identity_name(handle, i) == name:
                return i
        return -1

    def __len__(self) -> int:
        """Number of attributes (distinct names)."""
        return int(_swig.sbprov_identity_count(self._handle))

    def __iter__(self) -> Iterator[str]:
        """The attribute names, in the order first added."""
        return iter(self._names())

    def __getitem__(self, name: Text) -> List[str]:
        """The values of attribute ``name`` (a new list), in the order added.

        Raises:
            KeyError: there is no such attribute.
        """
        index = self._index(name)
        if index < 0:
            raise KeyError(name)
        return self._values(index)

    def __contains__(self, name: object) -> bool:
        return self._index(name) >= 0

    def get(self, name: Text, default: object = None) -> Optional[List[str]]:
        """The values of attribute ``name`` as a list, or ``default`` if the
        identity has no such attribute (like ``dict.get``)."""
        index = self._index(name)
        return default if index < 0 else self._values(index)

    def first(self, name: Text) -> Optional[str]:
        """The first value of attribute ``name`` (what ``{name}`` in a
        template gives), or None if there is no such attribute."""
        if not isinstance(name, (str, bytes)):
            raise TypeError(f"name: expected str or bytes, not {type(name).__name__}")
        return _swig.sbprov_identity_get(self._handle, name)

    def items(self) -> List[Tuple[str, List[str]]]:  # type: ignore[override]
        """``(name, values)`` pairs in the order the names were first added
        (a list, a snapshot)."""
        return [(name, self._values(i)) for i, name in enumerate(self._names())]

    # ------------------------------------------------------------------
    # Copies and display
    # ------------------------------------------------------------------

    def copy(self) -> "Identity":
        """An independent identity with the same attributes."""
        return type(self)._from_items(self.items())

    def __copy__(self) -> "Identity":
        return self.copy()

    def __deepcopy__(self, memo: dict) -> "Identity":
        return self.copy()

    def __reduce__(self) -> object:
        return (_rebuild, (self.items(),))

    def __repr__(self) -> str:
        parts = []
        for name, values in self.items():
            parts.append(f"{name!r}: {values[0]!r}" if len(values) == 1 else f"{name!r}: {values!r}")
        text = ", ".join(parts)
        if len(text) > 1000:
            text = text[:1000] + "..."
        return f"<sbprov.identity.Identity {{{text}}}>"


def _rebuild(items: List[Tuple[str, List[str]]]) -> Identity:
    """Unpickle an :class:`Identity`."""
    return Identity._from_items(items)
