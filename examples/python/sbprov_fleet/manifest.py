"""The CSV manifest: parsing and validation of every row before anything is
done.

Columns (header row, names case-insensitive for the known ones):

* ``serial`` (required): the device's serial number.
* ``mac`` (required): its MAC address, ``aa:bb:cc:dd:ee:ff``, ``AA-BB-...``,
  ``aabb.ccdd.eeff`` or ``aabbccddeeff``; normalised to lower-case
  colon-separated form (what Mender's identity script reports).
* ``room`` (required): where it is installed (an inventory attribute).
* ``public_key`` (optional): the public key the device reported, inline PEM
  (a quoted multi-line cell) or a path (relative to the manifest's directory);
  empty means "generate a key pair".
* ``registration_id`` (optional): the Azure DPS registration ID; empty means
  "from ``--id-template``".
* any other column: an inventory attribute (see :mod:`sbprov_fleet` README),
  unless ``--identity`` names it as an identity attribute.

Errors are collected for the whole file and reported together, each with the
line it starts on.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import sbprov
from sbprov import azure, keys
from sbprov.identity import Identity

REQUIRED = ("serial", "mac", "room")
SPECIAL = ("public_key", "registration_id")
KNOWN = REQUIRED + SPECIAL
MAX_PUBLIC_KEY_FILE = 64 * 1024

_HEX = re.compile(r"^[0-9a-fA-F]+$")


class ManifestError(Exception):
    """The manifest cannot be used; ``errors`` lists every problem as
    ``(line, message)`` (line 0: not tied to a line, e.g. a bad template)."""

    def __init__(self, path: str, errors: List[Tuple[int, str]]):
        self.path = path
        self.errors = errors
        super().__init__(f"{path}: {len(errors)} error(s)")

    def lines(self) -> List[str]:
        out = []
        for line, msg in self.errors:
            out.append(f"{self.path}:{line}: {msg}" if line else f"{self.path}: {msg}")
        return out


@dataclasses.dataclass
class DeviceSpec:
    """One validated manifest row."""

    line: int
    serial: str
    mac: str  # aa:bb:cc:dd:ee:ff
    room: str
    registration_id: str
    identity: Dict[str, str]  # the Mender identity attributes
    identity_json: str  # canonical, as the Mender server stores it
    identity_digest: str
    inventory: Dict[str, str]  # attributes for the gateway's first inventory update
    public_key_pem: Optional[str] = None  # a reported public key (SPKI PEM), or None: generate
    public_key_fingerprint: Optional[str] = None

    @property
    def mac_compact(self) -> str:
        return self.mac.replace(":", "")


def _message(e: BaseException) -> str:
    return getattr(e, "message", None) or str(e)


def parse_mac(text: str) -> str:
    """A MAC address in any usual notation as ``aa:bb:cc:dd:ee:ff``; ValueError
    (with the reason) for anything else, multicast and all-zero addresses
    included (a device's own interface has a unicast address)."""
    s = text.strip()
    digits = None
    for sep, group in ((":", 2), ("-", 2), (".", 4)):
        if sep in s:
            parts = s.split(sep)
            if len(parts) != 12 // group or any(len(p) != group for p in parts):
                raise ValueError(f"{text!r} is not a MAC address (expected 6 groups of 2 hex digits "
                                 f"or 3 groups of 4 separated by one kind of separator)")
            digits = "".join(parts)
            break
    else:
        digits = s
    if len(digits) != 12 or not _HEX.match(digits):
        raise ValueError(f"{text!r} is not a MAC address (12 hex digits)")
    digits = digits.lower()
    if digits == "0" * 12:
        raise ValueError(f"{text!r} is the all-zero address")
    if int(digits[0:2], 16) & 1:
        raise ValueError(f"{text!r} is a multicast/broadcast address, not a device's")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def _lines_without_comments(text: str) -> Iterator[str]:
    """The file's lines, with whole-line ``#`` comments blanked (so that the
    reader's line numbers stay those of the file)."""
    for line in io.StringIO(text, newline=""):
        yield "\n" if line.lstrip().startswith("#") else line


def _load_public_key(cell: str, base: Path) -> Tuple[str, str]:
    """(SPKI PEM, fingerprint) of a public_key cell: inline PEM or a path."""
    if "-----BEGIN" in cell:
        pem = cell
        where = "public_key"
    else:
        path = Path(cell)
        if not path.is_absolute():
            path = base / path
        where = f"public_key file {str(path)!r}"
        try:
            if path.stat().st_size > MAX_PUBLIC_KEY_FILE:
                raise ValueError(f"{where}: larger than {MAX_PUBLIC_KEY_FILE} bytes")
            pem = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"{where}: cannot read it: {e.strerror if isinstance(e, OSError) else e}") from None
    if "PRIVATE KEY" in pem:
        raise ValueError(f"{where} holds a private key: give the public key the device reported "
                         f"(a private key never goes into a manifest)")
    pem = pem.replace("\r\n", "\n").strip() + "\n"
    try:
        with keys.from_public_pem(pem) as key:
            return key.public_pem, key.fingerprint
    except sbprov.Error as e:
        raise ValueError(f"{where}: not a usable public key: {_message(e)}") from None


def _template_identity(row: Dict[str, str], mac_compact: Optional[str]) -> Identity:
    """The attributes a registration ID template may use: every non-empty
    cell (special columns excepted), ``mac`` in compact form."""
    ident = Identity()
    for name, value in row.items():
        if name in SPECIAL or not value:
            continue
        if name == "mac":
            if mac_compact is None:
                continue
            value = mac_compact
        try:
            ident.add(name, value)
        except sbprov.Error:
            pass  # a name the template language cannot reach anyway
    return ident


def parse(path: str, *, id_template: str, identity_columns: Sequence[str]) -> List[DeviceSpec]:
    """Read and validate the manifest; raise :class:`ManifestError` with
    every problem found, or return the devices in file order."""
    errors: List[Tuple[int, str]] = []
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ManifestError(path, [(0, f"cannot read it: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ManifestError(path, [(0, f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    base = Path(path).resolve().parent

    reader = csv.reader(_lines_without_comments(text), strict=True)
    header: Optional[List[str]] = None
    header_line = 0
    rows: List[Tuple[int, List[str]]] = []
    prev = 0
    try:
        for cells in reader:
            start, prev = prev + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header, header_line = [c.strip() for c in cells], start
            else:
                rows.append((start, cells))
    except csv.Error as e:
        errors.append((reader.line_num, f"CSV syntax: {e}"))

    if header is None:
        raise ManifestError(path, errors or [(0, "empty: no header row (serial,mac,room,...)")])

    # --- header ---------------------------------------------------------------
    names: List[str] = []
    seen_names: Dict[str, int] = {}
    for i, name in enumerate(header):
        norm = name.lower() if name.lower() in KNOWN else name
        if not name:
            errors.append((header_line, f"column {i + 1} has no name"))
        elif not name.isprintable():
            errors.append((header_line, f"column name {name!r} holds control characters"))
        elif norm in seen_names:
            errors.append((header_line, f"column {norm!r} appears twice"))
        seen_names[norm] = i
        names.append(norm)
    for req in REQUIRED:
        if req not in seen_names:
            errors.append((header_line, f"required column {req!r} is missing (have: {', '.join(header)})"))
    for col in identity_columns:
        if col in SPECIAL:
            errors.append((0, f"--identity: {col!r} cannot be an identity attribute"))
        elif col not in seen_names:
            errors.append((0, f"--identity: {col!r} is not a column of the manifest"))
    if not rows:
        errors.append((0, "no devices (only a header row)"))

    template_broken = False
    # The template's syntax, once, on a made-up identity with every column
    # (checked even when every row has a registration_id: a typo is a typo).
    probe = Identity()
    for n in names:
        if n and n not in SPECIAL:
            try:
                probe.add(n, "x")
            except sbprov.Error:
                pass
    try:
        probe.registration_id(id_template)
    except sbprov.ParseError as e:
        errors.append((0, f"--id-template {id_template!r}: {_message(e)}"))
        template_broken = True
    except sbprov.NotFoundError:
        errors.append((0, f"--id-template {id_template!r} names a column the manifest does not have "
                          f"(columns: {', '.join(n for n in names if n and n not in SPECIAL)})"))
        template_broken = True
    except sbprov.Error:
        pass  # "x" may make an invalid ID; the rows' real values decide

    # --- rows -------------------------------------------------------------------
    devices: List[DeviceSpec] = []
    by_serial: Dict[str, int] = {}
    by_mac: Dict[str, int] = {}
    by_rid: Dict[str, int] = {}
    by_identity: Dict[str, int] = {}
    by_key: Dict[str, int] = {}
    for line, cells in rows:
        row_errors: List[str] = []
        if len(cells) > len(names):
            row_errors.append(f"{len(cells)} fields, but the header has {len(names)}")
        row = {n: (cells[i].strip() if i < len(cells) else "") for i, n in enumerate(names) if n}

        serial = row.get("serial", "")
        if not serial:
            row_errors.append("serial is empty")
        elif not serial.isprintable():
            row_errors.append(f"serial {serial!r} holds control characters")
        mac = None
        if "mac" in row:
            try:
                mac = parse_mac(row["mac"]) if row["mac"] else None
                if mac is None:
                    row_errors.append("mac is empty")
            except ValueError as e:
                row_errors.append(f"mac: {e}")
        room = row.get("room", "")
        if "room" in row and not room:
            row_errors.append("room is empty")

        # Registration ID: explicit, or from the template.
        rid = row.get("registration_id", "")
        if rid:
            try:
                azure.check_registration_id(rid)
            except sbprov.Error as e:
                row_errors.append(f"registration_id {rid!r}: {_message(e)}")
                rid = ""
        elif not template_broken:
            try:
                rid = _template_identity(row, mac.replace(":", "") if mac else None).registration_id(id_template)
            except sbprov.NotFoundError as e:
                if mac is not None or "{mac" not in id_template:
                    row_errors.append(f"--id-template {id_template!r}: {_message(e)} (an empty cell)")
                rid = ""
            except sbprov.Error as e:
                row_errors.append(f"registration ID from --id-template {id_template!r}: {_message(e)}")
                rid = ""

        # Mender identity.
        identity: Dict[str, str] = {}
        ident_json = digest = ""
        ident = Identity()
        try:
            for col in identity_columns:
                value = mac if col == "mac" else row.get(col, "")
                if col in SPECIAL or col not in seen_names:
                    continue
                if not value:
                    if col != "mac":  # an empty mac is reported above
                        row_errors.append(f"{col} is empty, but it is an identity attribute (--identity)")
                    continue
                ident.add(col, value)
                identity[col] = value
            if identity:
                ident_json, digest = ident.canonical_json(), ident.digest()
        except sbprov.Error as e:
            row_errors.append(f"identity: {_message(e)}")

        # Inventory: every other non-empty cell (the MAC normalised).
        inventory = {n: (mac if n == "mac" else v) for n, v in row.items()
                     if v and n not in SPECIAL and n not in identity_columns}

        pem = fingerprint = None
        cell = row.get("public_key", "")
        if cell:
            try:
                pem, fingerprint = _load_public_key(cell, base)
            except ValueError as e:
                row_errors.append(str(e))

        # Duplicates (each reported on the later line, naming the first).
        for what, value, index in (("serial", serial, by_serial), ("mac", mac, by_mac),
                                   ("registration ID", rid, by_rid), ("Mender identity", ident_json, by_identity),
                                   ("public key", fingerprint, by_key)):
            if not value:
                continue
            if value in index:
                shown = f"(SHA-256 {value[:16]}...)" if what == "public key" else value
                row_errors.append(f"{what} {shown} is also on line {index[value]}")
            else:
                index[value] = line

        if row_errors:
            errors.extend((line, msg) for msg in row_errors)
            continue
        devices.append(DeviceSpec(line=line, serial=serial, mac=mac, room=room, registration_id=rid,
                                  identity=identity, identity_json=ident_json, identity_digest=digest,
                                  inventory=inventory, public_key_pem=pem, public_key_fingerprint=fingerprint))
    if errors:
        errors.sort(key=lambda e: e[0])
        raise ManifestError(path, errors)
    return devices


def parse_identity_columns(text: str) -> List[str]:
    cols = [c.strip().lower() if c.strip().lower() in KNOWN else c.strip() for c in text.split(",")]
    if not cols or any(not c for c in cols):
        raise ValueError("--identity: a comma-separated list of column names, e.g. mac,serial")
    if len(set(cols)) != len(cols):
        raise ValueError("--identity: a column is named twice")
    return cols


__all__ = ["DeviceSpec", "ManifestError", "parse", "parse_mac", "parse_identity_columns", "REQUIRED", "KNOWN"]
