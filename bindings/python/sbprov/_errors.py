"""Result codes and the exception hierarchy of the sbprov package.

Kept free of any import of the C extension: the extension's error typemap
imports this module (``_from_result``) to build the exception it raises.
"""

from __future__ import annotations

import enum
import errno as _errno

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
    "InvalidKeyError",
    "SignatureError",
    "FileSystemError",
    "ProviderError",
    "PassphraseError",
    "ScriptError",
    "OperationTimeoutError",
    "ParseError",
    "AlreadyExistsError",
    "TamperedError",
    "FormatError",
    "UnsafeError",
    "NetworkError",
    "TLSError",
    "CertificateError",
    "RequestRefusedError",
    "ServerError",
    "ResponseError",
    "AuthError",
    "RateLimitError",
    "CancelledError",
    "ClockError",
    "ConflictError",
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
    EKEY = -14
    ESIGNATURE = -15
    EIO = -16
    EPROVIDER = -17
    EPASSPHRASE = -18
    ESCRIPT = -19
    ETIMEOUT = -20
    EPARSE = -21
    EEXISTS = -22
    ETAMPERED = -23
    EFORMAT = -24
    EUNSAFE = -25
    ENETWORK = -26
    ETLS = -27
    ECERT = -28
    EHTTP = -29
    ESERVER = -30
    ERESPONSE = -31
    EAUTH = -32
    ERATELIMIT = -33
    ECANCELED = -34
    ECLOCK = -35
    ECONFLICT = -36


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


class InvalidKeyError(InvalidInputError):
    """A key is malformed, of an unsupported type or size, or cannot do the
    operation asked for, e.g. signing with a public-only key (SBPROV_EKEY)."""


class SignatureError(Error):
    """A signature does not verify (SBPROV_ESIGNATURE).

    Deliberately not a ``ValueError``: code that catches bad input must not
    swallow a failed verification by accident."""


class _OSErrorMixin:
    """For the classes that are also ``OSError``s: ``.errno`` is the POSIX
    errno of the same meaning (not the library code, which is ``.code``) and
    ``.strerror`` the library's message. ``args`` stays ``(code, message)``."""

    _errno = 0

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, message)
        self.errno = self._errno
        self.strerror = self.message


class FileSystemError(_OSErrorMixin, Error, OSError):
    """A file-system operation failed (SBPROV_EIO); the message names the
    path and the OS error. Also an ``OSError`` (``errno.EIO``)."""

    _errno = _errno.EIO


class ProviderError(CryptoError):
    """An OpenSSL provider, configuration file or store URI could not be used
    (SBPROV_EPROVIDER), e.g. an unknown URI scheme or a provider that fails
    to load or to sign."""


class PassphraseError(InvalidInputError):
    """A passphrase is missing or wrong for an encrypted key (SBPROV_EPASSPHRASE)."""


class ScriptError(Error):
    """An external script (a Mender identity script) could not be run,
    failed, or printed too much or nothing (SBPROV_ESCRIPT)."""


class OperationTimeoutError(_OSErrorMixin, Error, TimeoutError):
    """An operation did not finish within its time limit (SBPROV_ETIMEOUT),
    e.g. an identity script that was killed. Also a ``TimeoutError``."""

    _errno = _errno.ETIMEDOUT


class ParseError(InvalidInputError):
    """Text input is malformed (SBPROV_EPARSE): ``key=value`` lines, an
    attribute name or value, or an ID template."""


class AlreadyExistsError(_OSErrorMixin, Error, FileExistsError):
    """The target already exists and overwriting was not asked for
    (SBPROV_EEXISTS). Also a ``FileExistsError``."""

    _errno = _errno.EEXIST


class TamperedError(Error):
    """Stored data failed authentication (SBPROV_ETAMPERED): a store entry or
    its metadata was modified, truncated, moved from another name, or written
    with another key. Deliberately not a ``ValueError`` (like
    :class:`SignatureError`): it must not be swallowed as bad input."""


class FormatError(Error):
    """Stored data has an unknown or newer format version than this library
    knows (SBPROV_EFORMAT)."""


class UnsafeError(_OSErrorMixin, Error, PermissionError):
    """A file or directory is a symbolic link, not owned by the caller, or
    writable (a key file: readable) by others (SBPROV_EUNSAFE). Also a
    ``PermissionError`` (``errno.EPERM``)."""

    _errno = _errno.EPERM


class NetworkError(_OSErrorMixin, Error, ConnectionError):
    """The server could not be reached (SBPROV_ENETWORK): DNS, connection
    refused or reset. Also a ``ConnectionError``."""

    _errno = _errno.ECONNREFUSED


class TLSError(Error):
    """The TLS handshake failed (SBPROV_ETLS): protocol version, cipher, or a
    client certificate the server or OpenSSL refused."""


class CertificateError(TLSError):
    """The server's certificate is not trusted (SBPROV_ECERT): an unknown CA,
    an expired certificate, or one for another host name. Never retried."""


class RequestRefusedError(InvalidInputError):
    """The server refused the request as malformed (SBPROV_EHTTP, a 4xx
    status); the message has the status and the server's own text."""


class ServerError(Error):
    """The server failed (SBPROV_ESERVER, a 5xx status); worth retrying."""


class ResponseError(Error):
    """A response is malformed (SBPROV_ERESPONSE): over the size cap,
    truncated, of the wrong content type, or invalid JSON."""


class AuthError(Error):
    """Authentication or authorization was refused (SBPROV_EAUTH): 401/403,
    wrong credentials, or a device the server has not accepted."""


class RateLimitError(Error):
    """The server asks to slow down (SBPROV_ERATELIMIT, HTTP 429); the
    message says after how many seconds to retry."""


class CancelledError(Error):
    """The operation was cancelled by the caller (SBPROV_ECANCELED)."""


class ClockError(Error):
    """This machine's clock is too far from the server's (SBPROV_ECLOCK): SAS
    tokens signed here would be expired or not yet valid. The message gives
    the offset; fix the time (NTP) and retry."""


class ConflictError(Error):
    """The target changed meanwhile (SBPROV_ECONFLICT): its etag no longer
    matches (HTTP 412)."""


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
    Result.EKEY: InvalidKeyError,
    Result.ESIGNATURE: SignatureError,
    Result.EIO: FileSystemError,
    Result.EPROVIDER: ProviderError,
    Result.EPASSPHRASE: PassphraseError,
    Result.ESCRIPT: ScriptError,
    Result.ETIMEOUT: OperationTimeoutError,
    Result.EPARSE: ParseError,
    Result.EEXISTS: AlreadyExistsError,
    Result.ETAMPERED: TamperedError,
    Result.EFORMAT: FormatError,
    Result.EUNSAFE: UnsafeError,
    Result.ENETWORK: NetworkError,
    Result.ETLS: TLSError,
    Result.ECERT: CertificateError,
    Result.EHTTP: RequestRefusedError,
    Result.ESERVER: ServerError,
    Result.ERESPONSE: ResponseError,
    Result.EAUTH: AuthError,
    Result.ERATELIMIT: RateLimitError,
    Result.ECANCELED: CancelledError,
    Result.ECLOCK: ClockError,
    Result.ECONFLICT: ConflictError,
}


def error_class(code: int) -> type[Error]:
    """The exception class used for a result code (``Error`` if none is specific)."""
    return _CLASSES.get(int(code), Error)


def _from_result(code: int, message: str) -> Error:
    """Exception instance for a failed call; used by the C extension."""
    return error_class(code)(code, message)
