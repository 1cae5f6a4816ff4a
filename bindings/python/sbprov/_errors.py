"""Result codes and the exception hierarchy of the sbprov package.

Kept free of any import of the C extension: the extension's error typemap
imports this module (``_from_result``) to build the exception it raises.
"""

from __future__ import annotations

import enum

__all__ = [
    "Result",
    "Error",
    "InvalidInputError",
    "Base64Error",
    "KeySizeError",
    "IdentifierError",
    "ExpiryError",
    "ConnectionStringError",
    "BufferTooSmallError",
    "OutOfMemoryError",
    "CryptoError",
    "RandomError",
    "InitError",
    "NotFoundError",
]


class Result(enum.IntEnum):
    """libsbprov result codes (``sbprov_result``): 0 is success, failures are
    negative. The values are ABI: never renumbered or reused."""

    OK = 0
    ERROR = -1
    EINVAL = -2
    ENOMEM = -3
    EBUFS = -4
    EBASE64 = -5
    EKEYSIZE = -6
    EID = -7
    EEXPIRY = -8
    ECONNSTR = -9
    ECRYPTO = -10
    EINIT = -11
    ENOTFOUND = -12
    ERANDOM = -13


class Error(Exception):
    """A libsbprov call failed.

    Attributes:
        code: the (negative) ``sbprov_result`` code, a plain ``int``; compare
            it with the ``sbprov.E*`` constants or ``sbprov.Result``.
        message: the library's one-line detail (``sbprov_last_error()`` of the
            failing call), e.g. ``"group key: '-' at character 7 is not Base64"``.
    """

    def __init__(self, code: int, message: str = "") -> None:
        code = int(code)
        message = str(message)
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def result(self) -> Result | int:
        """``code`` as a :class:`Result` member (the bare int if unknown)."""
        try:
            return Result(self.code)
        except ValueError:
            return self.code

    def __str__(self) -> str:
        result = self.result
        name = f"SBPROV_{result.name}" if isinstance(result, Result) else f"code {self.code}"
        return f"{self.message} [{name}]" if self.message else name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class InvalidInputError(Error, ValueError):
    """An argument is invalid (SBPROV_EINVAL), e.g. a NUL inside a string, or a
    use of a closed object; base class of the specific input errors below."""


class Base64Error(InvalidInputError):
    """A key is not strict padded standard Base64 (SBPROV_EBASE64)."""


class KeySizeError(InvalidInputError):
    """A key decodes to, or asks for, a length outside 16..64 bytes (SBPROV_EKEYSIZE)."""


class IdentifierError(InvalidInputError):
    """A registration/device/module ID, host name, ID scope, policy name or
    resource URI is malformed (SBPROV_EID)."""


class ExpiryError(InvalidInputError):
    """A SAS expiry is before 2020-01-01 or not after "now" (SBPROV_EEXPIRY)."""


class ConnectionStringError(InvalidInputError):
    """A connection string (or a field given to build one) is malformed,
    unknown, duplicated or contradictory (SBPROV_ECONNSTR)."""


class BufferTooSmallError(Error):
    """An output buffer was too small (SBPROV_EBUFS). The binding sizes buffers
    itself, so seeing this means the library kept asking for more."""


class OutOfMemoryError(Error, MemoryError):
    """The library ran out of memory (SBPROV_ENOMEM)."""


class CryptoError(Error):
    """The crypto provider (OpenSSL) failed (SBPROV_ECRYPTO)."""


class RandomError(CryptoError):
    """The random number generator failed (SBPROV_ERANDOM)."""


class InitError(Error):
    """Global initialisation failed or was not done (SBPROV_EINIT)."""


class NotFoundError(Error, LookupError):
    """The requested item does not exist (SBPROV_ENOTFOUND)."""


_CLASSES: dict[int, type[Error]] = {
    Result.EINVAL: InvalidInputError,
    Result.ENOMEM: OutOfMemoryError,
    Result.EBUFS: BufferTooSmallError,
    Result.EBASE64: Base64Error,
    Result.EKEYSIZE: KeySizeError,
    Result.EID: IdentifierError,
    Result.EEXPIRY: ExpiryError,
    Result.ECONNSTR: ConnectionStringError,
    Result.ECRYPTO: CryptoError,
    Result.EINIT: InitError,
    Result.ENOTFOUND: NotFoundError,
    Result.ERANDOM: RandomError,
}


def error_class(code: int) -> type[Error]:
    """The exception class used for a result code (``Error`` if none is specific)."""
    return _CLASSES.get(int(code), Error)


def _from_result(code: int, message: str) -> Error:
    """Exception instance for a failed call; used by the C extension."""
    return error_class(code)(code, message)
