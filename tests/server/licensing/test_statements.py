"""Trusting a status statement: the signature with a pinned key, then what it names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cssec.core.license import Product
from cssec.core.signing import SigningKey, sign_statement
from cssec.server.licensing.errors import UntrustedStatement
from cssec.server.licensing.statements import verify_envelope

KEY = SigningKey.generate()
OTHER = SigningKey.generate()
CODE = "CS" + "0" * 29
SERVER = "server-1"


def _statement(**changes: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "v": 1,
        "activation_code": CODE,
        "server_id": SERVER,
        "product": "CS",
        "version_type": "full",
        "state": "activated",
        "contract_end": "2027-11-30",
        "grace_days": 30,
        "grace_end": "2027-12-30",
        "seats": 25,
        "customer": "株式会社テスト",
        "issued_at": "2026-11-27T20:00:00Z",
    }
    statement.update(changes)
    return statement


def _verify(envelope: dict[str, Any], keys: list[SigningKey] | None = None) -> Any:
    pinned = {k.kid: k.public for k in (keys if keys is not None else [KEY])}
    return verify_envelope(
        envelope, pinned, activation_code=CODE, server_id=SERVER, product=Product.CS
    )


def test_a_good_statement() -> None:
    verified = _verify(sign_statement(_statement(), KEY))
    assert verified.contract_end == date(2027, 11, 30)
    assert verified.grace_days == 30
    assert verified.seats == 25
    assert verified.issued_at.isoformat() == "2026-11-27T20:00:00+00:00"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (sign_statement(_statement(), OTHER), "unknown_kid"),
        ({**sign_statement(_statement(), KEY), "alg": "none"}, "unsupported_alg"),
        (
            {
                **sign_statement(_statement(), KEY),
                "statement": _statement(contract_end="2099-01-01"),
            },
            "bad_signature",
        ),
        (sign_statement(_statement(server_id="another"), KEY), "server_id_mismatch"),
        (
            sign_statement(_statement(activation_code="CS" + "1" * 29), KEY),
            "activation_code_mismatch",
        ),
        (sign_statement(_statement(product="DCS"), KEY), "product_mismatch"),
        (sign_statement(_statement(v=2), KEY), "unsupported_statement_version"),
        (sign_statement(_statement(grace_days=-1), KEY), "malformed_statement"),
        (sign_statement(_statement(contract_end="soon"), KEY), "malformed_statement"),
        (sign_statement(_statement(issued_at="2026-11-27T20:00:00"), KEY), "malformed_statement"),
        ({"statement": "x"}, "unsupported_alg"),
    ],
)
def test_untrusted_statements(envelope: dict[str, Any], reason: str) -> None:
    with pytest.raises(UntrustedStatement) as caught:
        _verify(envelope)
    assert caught.value.fields["reason"] == reason
    assert "変更されていません" in caught.value.message("ja")


def test_a_rotated_key_still_pinned_verifies() -> None:
    assert _verify(sign_statement(_statement(), OTHER), keys=[KEY, OTHER]).seats == 25
