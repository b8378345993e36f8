"""ActiveUpdate components: the signed manifest and the formats of the four component files.

Each version of a component is one file, addressed by its SHA-256. The vendor publishes a
manifest naming the current version of all four, signs it with `core.signing`, and the
server and every client verify that signature themselves with the vendor keys they hold,
so a server in the middle can withhold an update but never forge one.

Everything here that reads what arrived over the network returns a check value with a
reason and never raises on bad input; exceptions are left for programming errors.
Checks run in a fixed order: envelope and signature (`core.signing.verify_statement`),
then the statement's format version and kind, then each field.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey, verify_statement

T = TypeVar("T")

MANIFEST_FORMAT = 1
MANIFEST_KIND = "activeupdate_manifest"
COMPONENT_FORMAT = 1
MAX_COMPONENT_BYTES = 256 * 1024 * 1024
"""Larger files are refused before download: a signed manifest still must not be a bomb."""
MAX_INT = 2**63 - 1
STEP_BACK_HEADER = "Cssec-Step-Back-From"
"""On a server's manifest answer to its clients after it rolled back: the serial it rolled back
from. A client holding exactly that set goes back to the one it held before (client.updater)."""
"""Serials, versions and sizes fit a signed 64-bit column on every database."""

COMPONENT_FILENAMES: dict[Component, str] = {
    Component.VIRUS_PATTERN: "virus_pattern.yar",
    Component.DAMAGE_CLEANUP_TEMPLATE: "damage_cleanup_template.json",
    Component.SPYWARE_PATTERN: "spyware_pattern.yar",
    Component.SCAN_ENGINE: "scan_engine.json",
}

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class FormatError(StrEnum):
    """Why a manifest or component file was refused after its signature (if any) checked out.

    A manifest refused by the signature check carries `core.signing.StatementError`'s
    reason instead (malformed_envelope, unsupported_alg, unknown_kid, bad_signature, ...).
    """

    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_FORMAT = "unsupported_format"
    WRONG_KIND = "wrong_kind"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    MISSING_COMPONENT = "missing_component"
    NOT_JSON = "not_json"


@dataclass(frozen=True)
class FormatCheck(Generic[T]):
    """A value or the reason there is none; `detail` names the offending field."""

    value: T | None
    error: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None


class _Invalid(Exception):
    def __init__(self, error: FormatError, detail: str = "") -> None:
        super().__init__(f"{error.value}: {detail}")
        self.error = error
        self.detail = detail


def _fail(check_error: _Invalid) -> FormatCheck[Any]:
    return FormatCheck(value=None, error=check_error.error.value, detail=check_error.detail)


def _field(obj: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in obj:
        raise _Invalid(FormatError.MISSING_FIELD, f"{where}{name}")
    return obj[name]


def _int(value: Any, where: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    # bool is an int subclass; true is not a version number.
    if type(value) is not int or not minimum <= value <= maximum:
        raise _Invalid(FormatError.BAD_FIELD, where)
    return value


def _str(value: Any, where: str, *, max_length: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise _Invalid(FormatError.BAD_FIELD, where)
    return value


def format_timestamp(when: datetime) -> str:
    """UTC with a Z, to the second unless the value carries microseconds."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _timestamp(value: Any, where: str) -> datetime:
    text = _str(value, where, max_length=64)
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _Invalid(FormatError.BAD_FIELD, where)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Invalid(FormatError.BAD_FIELD, where) from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ComponentVersion:
    component: Component
    version: int
    sha256: str
    size: int
    published_at: datetime

    @property
    def filename(self) -> str:
        return COMPONENT_FILENAMES[self.component]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "published_at": format_timestamp(self.published_at),
        }

    @classmethod
    def from_dict(cls, component: Component, entry: object) -> FormatCheck[ComponentVersion]:
        """Parse one manifest entry (also how a client reads back its own records)."""
        try:
            return FormatCheck(value=_component_version(component, entry, f"{component.value}."))
        except _Invalid as invalid:
            return _fail(invalid)


def _component_version(component: Component, entry: object, where: str) -> ComponentVersion:
    if not isinstance(entry, Mapping):
        raise _Invalid(FormatError.BAD_FIELD, where.rstrip("."))
    sha = _field(entry, "sha256", where)
    if not isinstance(sha, str) or not _SHA256_HEX.fullmatch(sha):
        raise _Invalid(FormatError.BAD_FIELD, f"{where}sha256")
    return ComponentVersion(
        component=component,
        version=_int(_field(entry, "version", where), f"{where}version", minimum=1),
        sha256=sha,
        size=_int(_field(entry, "size", where), f"{where}size", maximum=MAX_COMPONENT_BYTES),
        published_at=_timestamp(_field(entry, "published_at", where), f"{where}published_at"),
    )


@dataclass(frozen=True)
class Manifest:
    """The current version of every component, as of `serial` (which only ever grows)."""

    serial: int
    issued_at: datetime
    components: dict[Component, ComponentVersion]

    def to_statement(self) -> dict[str, Any]:
        """The statement the vendor signs; component keys in the enum's order."""
        return {
            "v": MANIFEST_FORMAT,
            "kind": MANIFEST_KIND,
            "issued_at": format_timestamp(self.issued_at),
            "serial": self.serial,
            "components": {
                c.value: self.components[c].to_dict() for c in Component if c in self.components
            },
        }

    @classmethod
    def from_statement(cls, statement: object) -> ManifestCheck:
        """Parse a (verified) statement. Unknown fields and unknown component names are
        ignored so a newer vendor can add some; all four known components must be there."""
        try:
            return FormatCheck(value=_manifest(statement))
        except _Invalid as invalid:
            return _fail(invalid)


ManifestCheck = FormatCheck[Manifest]


def _manifest(statement: object) -> Manifest:
    if not isinstance(statement, Mapping):
        raise _Invalid(FormatError.NOT_AN_OBJECT)
    if statement.get("v") != MANIFEST_FORMAT or type(statement.get("v")) is not int:
        raise _Invalid(FormatError.UNSUPPORTED_FORMAT, "v")
    if statement.get("kind") != MANIFEST_KIND:
        raise _Invalid(FormatError.WRONG_KIND, "kind")
    serial = _int(_field(statement, "serial", ""), "serial")
    issued_at = _timestamp(_field(statement, "issued_at", ""), "issued_at")
    entries = _field(statement, "components", "")
    if not isinstance(entries, Mapping):
        raise _Invalid(FormatError.BAD_FIELD, "components")
    components: dict[Component, ComponentVersion] = {}
    for component in Component:
        if component.value not in entries:
            raise _Invalid(FormatError.MISSING_COMPONENT, f"components.{component.value}")
        where = f"components.{component.value}."
        components[component] = _component_version(component, entries[component.value], where)
    return Manifest(serial=serial, issued_at=issued_at, components=components)


def verify_manifest(envelope: object, keys: Mapping[str, VerifyingKey]) -> ManifestCheck:
    """Signature (alg, kid, signature) first, then the statement's schema."""
    checked = verify_statement(envelope, keys)
    if not checked.ok or checked.statement is None:
        return FormatCheck(value=None, error=checked.reason or "bad_signature", detail="signature")
    return Manifest.from_statement(checked.statement)


def verify_file(data: bytes, expected: ComponentVersion) -> bool:
    """True when `data` is exactly the file the manifest names (size, then SHA-256)."""
    if len(data) != expected.size:
        return False
    return hmac.compare_digest(sha256_hex(data), expected.sha256)


# --- component file formats ------------------------------------------------------------


class CleanupAction(StrEnum):
    QUARANTINE = "quarantine"
    DELETE = "delete"
    REPORT = "report"


@dataclass(frozen=True)
class CleanupRule:
    threat: str
    """A threat name or a glob over threat names (fnmatch, case-sensitive)."""
    action: CleanupAction


@dataclass(frozen=True)
class CleanupTemplate:
    """The damage cleanup template: what to do about each threat; first matching rule wins."""

    rules: tuple[CleanupRule, ...]
    default_action: CleanupAction

    def action_for(self, threat: str) -> CleanupAction:
        for rule in self.rules:
            if fnmatch.fnmatchcase(threat, rule.threat):
                return rule.action
        return self.default_action


@dataclass(frozen=True)
class ScanEngineConfig:
    engine: str
    engine_version: str
    max_file_bytes: int
    pattern_formats: tuple[int, ...]
    follow_symlinks: bool


def _json_object(data: bytes) -> Mapping[str, Any]:
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Invalid(FormatError.NOT_JSON) from None
    if not isinstance(parsed, dict):
        raise _Invalid(FormatError.NOT_AN_OBJECT)
    if parsed.get("format") != COMPONENT_FORMAT or type(parsed.get("format")) is not int:
        raise _Invalid(FormatError.UNSUPPORTED_FORMAT, "format")
    return parsed


def _action(value: Any, where: str) -> CleanupAction:
    if not isinstance(value, str) or value not in CleanupAction.__members__.values():
        raise _Invalid(FormatError.BAD_FIELD, where)
    return CleanupAction(value)


def _cleanup_template(data: bytes) -> CleanupTemplate:
    obj = _json_object(data)
    rules_in = _field(obj, "rules", "")
    if not isinstance(rules_in, list) or len(rules_in) > 10_000:
        raise _Invalid(FormatError.BAD_FIELD, "rules")
    rules = []
    for index, rule in enumerate(rules_in):
        where = f"rules[{index}]."
        if not isinstance(rule, Mapping):
            raise _Invalid(FormatError.BAD_FIELD, where.rstrip("."))
        threat = _str(_field(rule, "threat", where), f"{where}threat")
        rules.append(CleanupRule(threat, _action(_field(rule, "action", where), f"{where}action")))
    default = _action(_field(obj, "default_action", ""), "default_action")
    return CleanupTemplate(rules=tuple(rules), default_action=default)


def parse_cleanup_template(data: bytes) -> FormatCheck[CleanupTemplate]:
    try:
        return FormatCheck(value=_cleanup_template(data))
    except _Invalid as invalid:
        return _fail(invalid)


def _scan_engine(data: bytes) -> ScanEngineConfig:
    obj = _json_object(data)
    engine = _field(obj, "engine", "")
    if engine != "yara":
        raise _Invalid(FormatError.BAD_FIELD, "engine")
    formats = _field(obj, "pattern_formats", "")
    if not isinstance(formats, list) or not formats or len(formats) > 64:
        raise _Invalid(FormatError.BAD_FIELD, "pattern_formats")
    follow = obj.get("follow_symlinks", False)
    if not isinstance(follow, bool):
        raise _Invalid(FormatError.BAD_FIELD, "follow_symlinks")
    return ScanEngineConfig(
        engine=engine,
        engine_version=_str(_field(obj, "engine_version", ""), "engine_version", max_length=64),
        max_file_bytes=_int(_field(obj, "max_file_bytes", ""), "max_file_bytes", minimum=1),
        pattern_formats=tuple(_int(f, "pattern_formats", minimum=1) for f in formats),
        follow_symlinks=follow,
    )


def parse_scan_engine(data: bytes) -> FormatCheck[ScanEngineConfig]:
    try:
        return FormatCheck(value=_scan_engine(data))
    except _Invalid as invalid:
        return _fail(invalid)
