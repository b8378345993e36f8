from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cssec
from cssec.core.components import (
    COMPONENT_FILENAMES,
    MAX_COMPONENT_BYTES,
    CleanupAction,
    ComponentVersion,
    FormatError,
    Manifest,
    parse_cleanup_template,
    parse_scan_engine,
    sha256_hex,
    verify_file,
    verify_manifest,
)
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, sign_statement

SEED_DIR = Path(cssec.__file__).parent / "vendor_service" / "activeupdate_seed"
KEY = SigningKey.generate()
KEYS = {KEY.kid: KEY.public}

utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
versions = st.builds(
    lambda component, version, data, size, when: ComponentVersion(
        component, version, sha256_hex(data), size, when
    ),
    st.just(Component.VIRUS_PATTERN),
    st.integers(1, 2**63 - 1),
    st.binary(max_size=16),
    st.integers(0, MAX_COMPONENT_BYTES),
    utc_datetimes,
)


@st.composite
def manifests(draw: st.DrawFn) -> Manifest:
    components = {}
    for component in Component:
        cv = draw(versions)
        components[component] = ComponentVersion(
            component, cv.version, cv.sha256, cv.size, cv.published_at
        )
    return Manifest(
        serial=draw(st.integers(0, 2**63 - 1)), issued_at=draw(utc_datetimes), components=components
    )


def sample_manifest() -> Manifest:
    when = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    return Manifest(
        serial=7,
        issued_at=when,
        components={
            c: ComponentVersion(c, 3, sha256_hex(c.value.encode()), 10 + i, when)
            for i, c in enumerate(Component)
        },
    )


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_statement_round_trip(manifest: Manifest) -> None:
    statement = manifest.to_statement()
    json.dumps(statement)  # plain JSON, nothing exotic
    check = Manifest.from_statement(statement)
    assert check.ok
    assert check.value == manifest


@settings(max_examples=40, deadline=None)
@given(manifests())
def test_signed_manifest_verifies(manifest: Manifest) -> None:
    check = verify_manifest(sign_statement(manifest.to_statement(), KEY), KEYS)
    assert (check.ok, check.value) == (True, manifest)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6) | json_values)
def test_arbitrary_input_never_raises(value: Any) -> None:
    for check in (
        Manifest.from_statement(value),
        verify_manifest(value, KEYS),
        verify_manifest({"statement": value, "alg": "ed25519", "kid": KEY.kid}, KEYS),
    ):
        assert not check.ok
        assert check.error is not None
    if isinstance(value, dict):
        ComponentVersion.from_dict(Component.SCAN_ENGINE, value)
    raw = json.dumps(value).encode()
    parse_scan_engine(raw)
    parse_cleanup_template(raw)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        found = []
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
        return found
    return [prefix]


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _tampered(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return "0" + value[1:] if value[:1] != "0" else "1" + value[1:]


ENVELOPE = sign_statement(sample_manifest().to_statement(), KEY)


@pytest.mark.parametrize("path", _paths(ENVELOPE["statement"]), ids=".".join)
def test_any_tampered_field_is_detected(path: tuple[str, ...]) -> None:
    envelope = copy.deepcopy(ENVELOPE)
    statement = envelope["statement"]
    original = statement
    for key in path:
        original = original[key]
    _set(statement, path, _tampered(original))
    check = verify_manifest(envelope, KEYS)
    assert (check.ok, check.error) == (False, "bad_signature")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda e: e.update(alg="none"), "unsupported_alg"),
        (lambda e: e.update(kid="ed25519-0000000000000000"), "unknown_kid"),
        (lambda e: e.update(signature="AAAA"), "malformed_signature"),
        (lambda e: e.pop("statement"), "malformed_statement"),
    ],
)
def test_envelope_flaws_are_named(change: Any, error: str) -> None:
    envelope = copy.deepcopy(ENVELOPE)
    change(envelope)
    assert verify_manifest(envelope, KEYS).error == error


def test_signed_by_another_key_is_refused() -> None:
    other = SigningKey.generate()
    envelope = sign_statement(sample_manifest().to_statement(), other)
    assert verify_manifest(envelope, KEYS).error == "unknown_kid"
    # the other key's envelope relabelled with the trusted kid does not verify either
    envelope["kid"] = KEY.kid
    assert verify_manifest(envelope, KEYS).error == "bad_signature"


def _signed(statement: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(statement, KEY)


@pytest.mark.parametrize(
    ("edit", "error", "detail"),
    [
        (lambda s: s.update(v=2), FormatError.UNSUPPORTED_FORMAT, "v"),
        (lambda s: s.update(v=True), FormatError.UNSUPPORTED_FORMAT, "v"),
        (lambda s: s.update(kind="status"), FormatError.WRONG_KIND, "kind"),
        (lambda s: s.pop("serial"), FormatError.MISSING_FIELD, "serial"),
        (lambda s: s.update(serial=-1), FormatError.BAD_FIELD, "serial"),
        (lambda s: s.update(issued_at="2026-04-01T00:00:00"), FormatError.BAD_FIELD, "issued_at"),
        (
            lambda s: s["components"].pop("scan_engine"),
            FormatError.MISSING_COMPONENT,
            "components.scan_engine",
        ),
        (
            lambda s: s["components"]["virus_pattern"].update(sha256="AB" * 32),
            FormatError.BAD_FIELD,
            "components.virus_pattern.sha256",
        ),
        (
            lambda s: s["components"]["virus_pattern"].update(version=0),
            FormatError.BAD_FIELD,
            "components.virus_pattern.version",
        ),
        (
            lambda s: s["components"]["spyware_pattern"].update(size=MAX_COMPONENT_BYTES + 1),
            FormatError.BAD_FIELD,
            "components.spyware_pattern.size",
        ),
    ],
)
def test_signed_but_malformed_statement_is_refused_with_the_field(
    edit: Any, error: FormatError, detail: str
) -> None:
    statement = sample_manifest().to_statement()
    edit(statement)
    check = verify_manifest(_signed(statement), KEYS)
    assert (check.ok, check.error, check.detail) == (False, error.value, detail)


def test_unknown_fields_and_components_are_ignored() -> None:
    statement = sample_manifest().to_statement()
    statement["note"] = "added by a newer vendor"
    statement["components"]["firewall_pattern"] = {"version": 1}
    assert verify_manifest(_signed(statement), KEYS).value == sample_manifest()


def test_timestamps_with_offsets_are_normalised_to_utc() -> None:
    statement = sample_manifest().to_statement()
    statement["issued_at"] = "2026-04-01T18:30:00+09:00"
    manifest = Manifest.from_statement(statement).value
    assert manifest is not None
    assert manifest.issued_at == datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    assert manifest.issued_at.tzinfo is UTC
    assert manifest.to_statement()["issued_at"] == "2026-04-01T09:30:00Z"
    assert datetime(2026, 4, 1, tzinfo=timezone(timedelta(hours=9))) < manifest.issued_at


def test_verify_file() -> None:
    data = b"rule x { condition: true }"
    cv = ComponentVersion(
        Component.VIRUS_PATTERN, 1, sha256_hex(data), len(data), datetime.now(UTC)
    )
    assert verify_file(data, cv)
    assert not verify_file(data[:-1], cv)
    assert not verify_file(data[:-1] + b"!", cv)
    assert not verify_file(data + b" ", cv)


def test_filenames_cover_every_component() -> None:
    assert set(COMPONENT_FILENAMES) == set(Component)
    assert COMPONENT_FILENAMES[Component.VIRUS_PATTERN] == "virus_pattern.yar"
    assert COMPONENT_FILENAMES[Component.SCAN_ENGINE] == "scan_engine.json"


def test_seed_files_parse() -> None:
    for name in COMPONENT_FILENAMES.values():
        assert (SEED_DIR / name).is_file()
    engine = parse_scan_engine((SEED_DIR / "scan_engine.json").read_bytes()).value
    assert engine is not None
    assert (engine.engine, engine.max_file_bytes, engine.follow_symlinks) == (
        "yara",
        33554432,
        False,
    )
    template = parse_cleanup_template((SEED_DIR / "damage_cleanup_template.json").read_bytes())
    assert template.value is not None
    assert template.value.action_for("Eicar_test_file") is CleanupAction.DELETE
    assert template.value.action_for("Spyware_test_file") is CleanupAction.QUARANTINE
    assert template.value.action_for("Something_else") is CleanupAction.QUARANTINE


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\xff", FormatError.NOT_JSON),
        (b"[]", FormatError.NOT_AN_OBJECT),
        (b'{"format": 2}', FormatError.UNSUPPORTED_FORMAT),
        (b'{"format": 1, "rules": [], "default_action": "burn"}', FormatError.BAD_FIELD),
        (
            b'{"format": 1, "rules": [{"threat": ""}], "default_action": "report"}',
            FormatError.BAD_FIELD,
        ),
        (b'{"format": 1, "default_action": "report"}', FormatError.MISSING_FIELD),
    ],
)
def test_cleanup_template_errors(data: bytes, error: FormatError) -> None:
    assert parse_cleanup_template(data).error == error.value


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "clamav"},
        {"max_file_bytes": 0},
        {"max_file_bytes": True},
        {"pattern_formats": []},
        {"follow_symlinks": "no"},
        {"engine_version": ""},
    ],
)
def test_scan_engine_errors(change: dict[str, Any]) -> None:
    config = json.loads((SEED_DIR / "scan_engine.json").read_bytes())
    config.update(change)
    check = parse_scan_engine(json.dumps(config).encode())
    assert (check.ok, check.error) == (False, FormatError.BAD_FIELD.value)
