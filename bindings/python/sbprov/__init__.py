"""Python binding of libsbprov, the provisioning core for smart-building IoT gateways.

Modules:
    sbprov.azure: Azure IoT symmetric keys (DPS group-enrollment derivation),
        SAS tokens, key generation, connection strings.

Errors: every failure of the library raises :class:`sbprov.Error` (or one of
its subclasses, chosen by result code) with ``.code`` (the negative
``sbprov_result``) and ``.message`` (the library's detail for that call).

``sbprov.__version__`` is the version of the libsbprov actually loaded.
"""

from __future__ import annotations

from . import _errors
from ._errors import (
    Base64Error,
    BufferTooSmallError,
    ConnectionStringError,
    CryptoError,
    Error,
    ExpiryError,
    IdentifierError,
    InitError,
    InvalidInputError,
    KeySizeError,
    NotFoundError,
    OutOfMemoryError,
    RandomError,
    Result,
    error_class,
)
from . import _sbprov_swig as _swig  # noqa: E402  (loads the C extension _sbprov)

__all__ = [
    "__version__",
    "version",
    "version_number",
    "header_version",
    "strerror",
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
    "error_class",
    "azure",
    # result codes, as module constants
    "OK", "ERROR", "EINVAL", "ENOMEM", "EBUFS", "EBASE64", "EKEYSIZE", "EID",
    "EEXPIRY", "ECONNSTR", "ECRYPTO", "EINIT", "ENOTFOUND", "ERANDOM",
]

# Result codes as plain module constants: sbprov.EBASE64 == -5, ...
OK = Result.OK
ERROR = Result.ERROR
EINVAL = Result.EINVAL
ENOMEM = Result.ENOMEM
EBUFS = Result.EBUFS
EBASE64 = Result.EBASE64
EKEYSIZE = Result.EKEYSIZE
EID = Result.EID
EEXPIRY = Result.EEXPIRY
ECONNSTR = Result.ECONNSTR
ECRYPTO = Result.ECRYPTO
EINIT = Result.EINIT
ENOTFOUND = Result.ENOTFOUND
ERANDOM = Result.ERANDOM


def version() -> str:
    """Version of the libsbprov library loaded at run time, "MAJOR.MINOR.PATCH"
    (``sbprov_version()``); may be newer than :func:`header_version`."""
    return _swig.sbprov_version()


def version_number() -> int:
    """Run-time library version as the integer 0xMMmmpp (``sbprov_version_number()``)."""
    return int(_swig.sbprov_version_number())


def header_version() -> str:
    """Version of the libsbprov headers this binding was compiled against."""
    return _swig.SBPROV_VERSION


def strerror(code: int) -> str:
    """Static English description of a result code (``sbprov_strerror()``);
    unknown codes give "unknown error"."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"code: expected int, not {type(code).__name__}")
    if not -2**31 <= code < 2**31:
        return _swig.sbprov_strerror(-2**31)
    return _swig.sbprov_strerror(int(code))


#: Version string of the libsbprov actually loaded (``sbprov_version()``).
__version__: str = version()

from . import azure  # noqa: E402  (needs the names above)
