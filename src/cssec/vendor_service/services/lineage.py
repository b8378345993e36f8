"""Code lineages: the codes of one contract's product, and what revoking one of them covers.

A contract's product has one lineage: its first activation code, then every code issued
for it since (vendor reissues, portal-issued codes, registration's reissue after a
renewal), each superseding the one issued just before it (`ActivationCodeRow.supersedes_id`,
a chain; `lineage_id` is the first code's id). Old codes stay valid online when a new one
is issued: an offline site may still run one.

Revoking a code revokes it and every code it superseded, never a newer one: a leaked old
code can be cut off while the customer's new one keeps working, and revoking the current
code leaves no older code of the product live behind it. The revocation is materialized
(each covered row gets `revoked_at`, a reason naming the covering code, `covered_by_id`,
and its own audit row), so every path that reads a code's row (status, ActiveUpdate, TUF,
bundles, registration, inspect) answers a covered code as revoked without knowing about
lineages. `revocation_preview` shows all of it before it happens; `revoke_code` applies
exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.errors import InvalidActivationCode
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import ActivationCodeRow
from cssec.vendor_service.services._context import keyring_of
from cssec.vendor_service.services.lookup import find_activation_code, formatted_code, guess_kind


@dataclass(frozen=True)
class CoveredCode:
    """One code a revocation covers, as the revoke screens list it."""

    id: int
    code: str
    """Formatted (hyphenated)."""
    product: str
    contract_id: int
    customer: str
    expires_on: date
    issued_at: datetime
    revoked_at: datetime | None
    """When it was revoked already (None: the revocation will revoke it)."""
    is_target: bool
    """The code being revoked itself (the others are the codes it superseded)."""

    @property
    def already_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class RevocationPreview:
    """What revoking `target` does: it and every code it superseded, oldest first."""

    codes: tuple[CoveredCode, ...]
    revoked_now: tuple[str, ...] = ()
    """Set by `revoke_code`: the codes (formatted, oldest first) that this revocation revoked,
    decided under the contract's lock; the others of `codes` were revoked before it."""

    @property
    def target(self) -> CoveredCode:
        return self.codes[-1]

    @property
    def covered(self) -> tuple[CoveredCode, ...]:
        """The older codes of the lineage that the revocation covers."""
        return self.codes[:-1]

    @property
    def to_revoke(self) -> tuple[CoveredCode, ...]:
        """The codes not revoked yet: what the revocation changes (empty: nothing)."""
        return tuple(c for c in self.codes if not c.already_revoked)


def lineage_of(session: Session, code_row: ActivationCodeRow) -> list[ActivationCodeRow]:
    """Every code of `code_row`'s lineage (its contract's product), oldest first."""
    lineage_id = code_row.lineage_id if code_row.lineage_id is not None else code_row.id
    return list(
        session.scalars(
            select(ActivationCodeRow)
            .where(ActivationCodeRow.lineage_id == lineage_id)
            .order_by(ActivationCodeRow.id)
        )
    )


def superseded_by(session: Session, code_row: ActivationCodeRow) -> ActivationCodeRow | None:
    """The code issued to supersede `code_row` (None: it is its lineage's newest)."""
    return session.scalar(
        select(ActivationCodeRow).where(ActivationCodeRow.supersedes_id == code_row.id)
    )


def covered_rows(session: Session, code_row: ActivationCodeRow) -> list[ActivationCodeRow]:
    """`code_row` and every code it superseded, by following `supersedes_id` back to the
    first code: oldest first, `code_row` last."""
    by_id = {row.id: row for row in lineage_of(session, code_row)}
    chain = [code_row]
    seen = {code_row.id}
    while chain[-1].supersedes_id is not None and chain[-1].supersedes_id not in seen:
        older = by_id.get(chain[-1].supersedes_id) or session.get(
            ActivationCodeRow, chain[-1].supersedes_id
        )
        if older is None:
            break
        seen.add(older.id)
        chain.append(older)
    return chain[::-1]


def _listed(row: ActivationCodeRow, target: ActivationCodeRow) -> CoveredCode:
    return CoveredCode(
        id=row.id,
        code=formatted_code(row),
        product=row.product,
        contract_id=row.contract_id,
        customer=row.contract.customer.name,
        expires_on=row.expires_on,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        is_target=row.id == target.id,
    )


def preview_of_row(session: Session, code_row: ActivationCodeRow) -> RevocationPreview:
    return RevocationPreview(
        tuple(_listed(row, code_row) for row in covered_rows(session, code_row))
    )


def find_revocable(
    session: Session, code_text: str, *, keys: Keyring | None = None
) -> ActivationCodeRow:
    """The issued activation code `code_text` names (InvalidActivationCode otherwise; a
    registration key is refused as such, since only codes are revoked)."""
    if guess_kind(code_text) != "activation_code":
        raise InvalidActivationCode(
            detail_ja="レジストレーションキーは失効できません。アクティベーションコードを指定してください",
            detail_en="a registration key cannot be revoked; give an activation code",
            reason="wrong_kind",
            position=None,
        )
    _parsed, row = find_activation_code(session, code_text, keys=keyring_of(session, keys))
    return row


def revocation_preview(
    session: Session, code_text: str, *, keys: Keyring | None = None
) -> RevocationPreview:
    """What `revoke_code(code_text)` would revoke: the code and every code it superseded,
    oldest first, those already revoked marked. Read-only; raises as `find_revocable`."""
    return preview_of_row(session, find_revocable(session, code_text, keys=keys))
