"""The error hierarchy: stable codes, both languages, fields in the body."""

from __future__ import annotations

import string

import pytest

from cssec.core import errors
from cssec.core.errors import CssecError


def _all_errors() -> list[type[CssecError]]:
    found: list[type[CssecError]] = []
    pending = [CssecError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted((c for c in found if c.__module__ == errors.__name__), key=lambda c: c.code)


ERRORS = _all_errors()
DESIGN_CODES = {
    "invalid_activation_code",
    "expired_activation_code",
    "revoked_activation_code",
    "wrong_product",
    "invalid_registration_key",
    "unknown_registration_key",
    "license_expired",
    "vendor_unreachable",
    "rate_limited",
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _filled(cls: type[CssecError]) -> CssecError:
    names = _placeholders(cls.message_ja) | _placeholders(cls.message_en)
    return cls(**{name: f"<{name}>" for name in sorted(names)})


def test_codes_are_unique_and_cover_the_design() -> None:
    codes = [cls.code for cls in ERRORS]
    assert len(codes) == len(set(codes))
    assert set(codes) >= DESIGN_CODES


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.code)
def test_each_error_speaks_both_languages(cls: type[CssecError]) -> None:
    error = _filled(cls)
    ja, en = error.message("ja"), error.message("en")
    assert ja.strip()
    assert en.strip()
    assert ja != en
    assert "{" not in ja
    assert "{" not in en
    assert 400 <= cls.status < 600
    assert str(error) == en


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.code)
def test_fields_land_in_the_body(cls: type[CssecError]) -> None:
    error = cls(extra="value")
    body = error.to_dict("en")
    assert body["code"] == cls.code
    assert body["extra"] == "value"
    assert body["message"] == error.message("en")


def test_language_selection() -> None:
    error = errors.RateLimited(retry_after=30)
    assert error.message("en") == "Too many requests. Try again in 30 seconds."
    assert error.message("en-US") == error.message("en")
    assert error.message("ja") == error.message()
    assert error.message("fr") == error.message("ja")
    assert "30" in error.message("ja")


def test_fields_cannot_shadow_code_or_message() -> None:
    body = errors.NotFound(code="other", message="other").to_dict("en")
    assert body["code"] == "not_found"
    assert body["message"] == "Not found."


def test_explicit_message_wins() -> None:
    error = errors.ValidationFailed("seats must be positive", detail="seats")
    assert error.message("ja") == "seats must be positive"
    assert error.to_dict()["detail"] == "seats"


def test_missing_field_does_not_crash() -> None:
    assert errors.VendorUnreachable().message("en")


def test_license_expired_names_the_operation() -> None:
    error = errors.LicenseExpired(operation_ja="リアルタイム検索", operation_en="Real-time scan")
    assert error.message("ja").startswith("リアルタイム検索")
    assert error.message("en").startswith("Real-time scan")
    assert error.code == "license_expired"
    assert error.status == 403


def test_license_expired_without_operation_is_generic() -> None:
    error = errors.LicenseExpired()
    assert error.message("ja") == errors.LicenseExpired.generic_message_ja
    assert error.message("en") == errors.LicenseExpired.generic_message_en


def test_errors_are_exceptions() -> None:
    with pytest.raises(CssecError) as caught:
        raise errors.WrongProduct(actual="DCS", expected="CS")
    assert caught.value.code == "wrong_product"
    assert "Damage Cleanup Services" in caught.value.message("en")  # names, not codes
    assert "DCS 用" not in caught.value.message("ja")
