"""Python binding of libsbprov, the provisioning core for smart-building IoT gateways.

Modules:
    sbprov.azure: Azure IoT symmetric keys (DPS group-enrollment derivation),
        SAS tokens, key generation, connection strings; and Azure over HTTPS:
        DPS registration, IoT Hub telemetry, the identity registry (network
        calls release the GIL and can be cancelled).
    sbprov.identity: device identity as Mender understands it (attributes
        from the system, an identity script, ``key=value`` text or code), its
        canonical JSON, digest and registration IDs made from it.
    sbprov.keys: device key pairs (Ed25519, ECDSA P-256, RSA): generate,
        save as PKCS#8 PEM (0600, atomic), load from files or OpenSSL store
        URIs (TPM, PKCS#11), sign and verify as Mender does, CSRs.
    sbprov.store: crash-safe, encrypted credential store on disk (a
        mapping of names to bytes) and its export as docker/systemd env files.
    sbprov.mender: Mender over HTTPS: the device client (authentication
        until accepted, token kept and renewed, inventory, update check) and
        the management client (login, preauthorize, devices, accept/reject,
        decommission); network calls release the GIL and can be cancelled.
    sbprov.frame: sensor frames (docs/frame-format.md): the microcontrollers'
        encoder, the gateway's stream and datagram decoder with its drop
        counters and sequence tracking, and the records' flat JSON (IoT Hub
        telemetry) and SenML renderings.
    sbprov.air: rooms (docs/air.md): CO2 class with hysteresis, trend and
        prediction, occupancy from PIR motion and rising CO2, and events;
        buildings of named rooms fed by sensor node IDs.

Errors: every failure of the library raises :class:`sbprov.Error` (or one of
its subclasses, chosen by result code) with ``.code`` (the negative
``sbprov_result``) and ``.message`` (the library's detail for that call).

``sbprov.__version__`` is the version of the libsbprov actually loaded.
"""

from __future__ import annotations

from . import _errors
from ._errors import *  # noqa: F401,F403  (Error, its subclasses, Result; listed in _errors.__all__)
from ._errors import Result, error_class
from . import _sbprov_swig as _swig  # noqa: E402  (loads the C extension _sbprov)

__all__ = [
    "__version__",
    "version",
    "version_number",
    "header_version",
    "strerror",
    "error_class",
    "azure",
    "identity",
    "keys",
    "store",
    "mender",
    "frame",
    "air",
    *_errors.__all__,
    # result codes as module constants: sbprov.EBASE64 == Result.EBASE64 == -5
    *(code.name for code in Result),
]

globals().update({code.name: code for code in Result})


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
from . import identity  # noqa: E402
from . import keys  # noqa: E402
from . import store  # noqa: E402
from . import mender  # noqa: E402
from . import frame  # noqa: E402
from . import air  # noqa: E402
