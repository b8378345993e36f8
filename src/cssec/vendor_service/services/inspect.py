"""What the support desk sees about a code or key: kind, product, expiry, verdict and why.

Checks run in order and the first failure is the answer: the format (a typo, where and
what, only when exactly one edit gives a code made with our key: `core.code_typos`), the
MAC ("not issued by us"), the issue record, revocation, then expiry. Staff may learn what
outsiders may not, so "MAC fine but never issued" is told apart here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.code_typos import check_with_typo
from cssec.core.codes import (
    Verdict,
    check_activation_code,
    check_registration_key,
    code_verdict,
)
from cssec.core.license import grace_end, license_state
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import ActivationCodeRow, Contract, ProductRow, RegistrationKeyRow
from cssec.vendor_service.services._context import keyring_of, today_utc
from cssec.vendor_service.services.lineage import superseded_by
from cssec.vendor_service.services.lookup import formatted_code, formatted_key, guess_kind

InspectVerdict = Literal["valid", "invalid", "expired", "revoked"]

_NOT_ISSUED = {
    "ja": "当社の鍵で作られた形式ですが、発行記録がありません",
    "en": "made with our key but there is no record of issuing it",
}


@dataclass(frozen=True)
class CodeInspection:
    text: str
    """What was given, as given."""
    kind: str
    """"activation_code" or "registration_key" (by length when the text is malformed)."""
    verdict: InspectVerdict
    reason: str | None = None
    """None when valid; a core CodeError value, "not_issued", "revoked" or "expired"."""
    detail: dict[str, str] = field(default_factory=dict)
    """ja/en phrase explaining the verdict."""
    position: int | None = None
    formatted: str | None = None
    product: str | None = None
    seats: int | None = None
    expires_on: date | None = None
    serial: int | None = None
    kid: int | None = None
    issued_at: datetime | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    replaced_by: str | None = None
    """Formatted code that replaced this one (it stays valid online)."""
    superseded_by: str | None = None
    """Formatted code of the lineage issued after this one (`services.lineage`)."""
    superseded_by_revoked: bool | None = None
    """Whether that code is revoked (revoking it revoked this one too)."""
    covered_by: str | None = None
    """Formatted code whose revocation revoked this one (None: revoked on its own)."""
    contract_id: int | None = None
    customer: str | None = None
    contract_end: date | None = None
    contract_state: str | None = None
    products: tuple[str, ...] = ()


def _with_contract(
    session: Session, found: CodeInspection, contract: Contract, today: date
) -> CodeInspection:
    cs = session.get(ProductRow, "CS")
    grace = cs.default_grace_days if cs is not None else 30
    return replace(
        found,
        contract_id=contract.id,
        customer=contract.customer.name,
        contract_end=contract.ends_on,
        contract_state=license_state(contract.ends_on, grace, today).value,
        products=tuple(contract.product_codes),
    )


def inspect_code(session: Session, text: str, *, keys: Keyring | None = None) -> CodeInspection:
    """Never raises on what was typed; read-only."""
    keyring = keyring_of(session, keys)
    today = today_utc(session)
    if guess_kind(text) == "registration_key":
        return _inspect_key(session, text, keyring, today)
    check = check_with_typo(
        check_activation_code(text, keyring.mac_secrets), text, keyring.mac_secrets
    )
    code = check.value
    found = CodeInspection(text=text, kind="activation_code", verdict="valid")
    if code is not None:
        found = replace(
            found,
            formatted=code.formatted,
            product=code.product.value,
            seats=code.seats,
            expires_on=code.expires_on,
            serial=code.serial,
            kid=code.kid,
        )
    if code is None or not check.ok:
        return replace(
            found,
            verdict="invalid",
            reason=check.error.value if check.error else None,
            detail=dict(check.detail),
            position=check.position,
        )
    row = session.scalar(select(ActivationCodeRow).where(ActivationCodeRow.text == code.text))
    if row is None:
        return replace(found, verdict="invalid", reason="not_issued", detail=dict(_NOT_ISSUED))
    found = _with_contract(session, found, row.contract, today)
    found = replace(found, issued_at=row.issued_at)
    if row.replaced_by is not None:
        replacement = session.get(ActivationCodeRow, row.replaced_by)
        found = replace(found, replaced_by=formatted_code(replacement) if replacement else None)
    newer = superseded_by(session, row)
    if newer is not None:
        found = replace(
            found,
            superseded_by=formatted_code(newer),
            superseded_by_revoked=newer.revoked_at is not None,
        )
    if row.revoked_at is not None:
        return _revoked(session, found, row)
    product = session.get(ProductRow, row.product)
    grace = product.default_grace_days if product is not None else 30
    if code_verdict(code, today=today, grace_days=grace) is Verdict.EXPIRED:
        last = grace_end(code.expires_on, grace)
        ja = f"有効期限 {code.expires_on}と猶予期間 ({last}まで)が終了しています"
        en = f"its expiry {code.expires_on} and grace period (to {last}) have passed"
        if row.contract.ends_on > code.expires_on:
            ja += (
                f"。契約は {row.contract.ends_on}まで更新済みです。"
                "新しいコードを発行するか、オンラインでステータスを確認してください"
            )
            en += (
                f"; the contract runs to {row.contract.ends_on}: issue a new code "
                "or check the status online"
            )
        return replace(found, verdict="expired", reason="expired", detail={"ja": ja, "en": en})
    return found


def _revoked(session: Session, found: CodeInspection, row: ActivationCodeRow) -> CodeInspection:
    assert row.revoked_at is not None
    when = row.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    why = row.revoke_reason or "-"
    detail = {"ja": f"{when}に失効 (理由: {why})", "en": f"revoked {when} (reason: {why})"}
    covering = session.get(ActivationCodeRow, row.covered_by_id) if row.covered_by_id else None
    covered_by = formatted_code(covering) if covering is not None else None
    if covering is not None and covered_by is not None:
        why = covering.revoke_reason or "-"
        detail = {
            "ja": f"{when}に失効 (新しいコード {covered_by}の失効に含まれます。理由: {why})",
            "en": f"revoked {when} (covered by the revocation of the newer code {covered_by}; "
            f"reason: {why})",
        }
    return replace(
        found,
        verdict="revoked",
        reason="revoked",
        detail=detail,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        covered_by=covered_by,
    )


def _inspect_key(session: Session, text: str, keyring: Keyring, today: date) -> CodeInspection:
    check = check_with_typo(
        check_registration_key(text, keyring.mac_secrets), text, keyring.mac_secrets
    )
    key = check.value
    found = CodeInspection(text=text, kind="registration_key", verdict="valid")
    if key is not None:
        found = replace(found, formatted=key.formatted, serial=key.serial, kid=key.kid)
    if key is None or not check.ok:
        return replace(
            found,
            verdict="invalid",
            reason=check.error.value if check.error else None,
            detail=dict(check.detail),
            position=check.position,
        )
    row = session.scalar(select(RegistrationKeyRow).where(RegistrationKeyRow.text == key.text))
    if row is None:
        return replace(found, verdict="invalid", reason="not_issued", detail=dict(_NOT_ISSUED))
    found = _with_contract(session, found, row.contract, today)
    return replace(found, issued_at=row.created_at, formatted=formatted_key(row))
