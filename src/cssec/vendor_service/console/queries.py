"""Read-only queries behind the console's pages (the changes go through
cssec.vendor_service.services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cssec.core.license import license_state
from cssec.vendor_service.models import (
    ActivationCodeRow,
    AuditEntry,
    Contract,
    Customer,
    ProductRow,
    Registration,
    StatusCheck,
)
from cssec.vendor_service.services import formatted_code, formatted_key

AUDIT_PAGE_SIZE = 50
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class CodeLine:
    row: ActivationCodeRow
    formatted: str
    status: str
    """current, replaced or revoked."""
    state: str
    """The license state its own encoded expiry gives today (activated/grace_period/expired)."""
    behind: bool
    """Current but encodes an earlier end than the contract's: offline servers need a new code."""


@dataclass(frozen=True)
class ContractPage:
    contract: Contract
    state: str
    days_left: int
    grace_days: int
    codes: list[CodeLine]
    registrations: list[Registration]
    checks: list[tuple[StatusCheck, str]]
    checks_total: int
    audit: list[AuditEntry]
    registration_key: str | None
    other_contracts: dict[str, list[int]] = field(default_factory=dict)
    """Server id → the contracts it registered with, for the servers in `checks` registered
    with another contract and not this one: this contract's code used by another contract's
    server."""

    @property
    def revoked(self) -> bool:
        """Every code revoked, none current: the contract has no valid code."""
        return bool(self.codes) and all(line.status == "revoked" for line in self.codes)

    @property
    def shown_state(self) -> str:
        return "revoked" if self.revoked else self.state


def grace_days(session: Session, product: str = "CS") -> int:
    row = session.get(ProductRow, product)
    return row.default_grace_days if row is not None else 30


def contract_state(session: Session, contract: Contract, today: date) -> str:
    return license_state(contract.ends_on, grace_days(session), today).value


def recent_contracts(session: Session, limit: int = 20) -> list[Contract]:
    return list(
        session.scalars(
            select(Contract).order_by(Contract.updated_at.desc(), Contract.id.desc()).limit(limit)
        )
    )


def customer_contract_count(session: Session, name: str) -> int:
    query = select(func.count(Contract.id)).join(Customer).where(Customer.name == name.strip())
    return session.scalar(query) or 0


def contract_targets(contract: Contract) -> list[str]:
    """Every audit target that belongs to this contract: itself and each of its codes."""
    return [f"contract:{contract.id}"] + [
        f"code:{row.text}" for row in contract.activation_codes if row.text
    ]


def contract_page(session: Session, contract: Contract, today: date) -> ContractPage:
    grace = grace_days(session)
    codes = []
    for row in contract.activation_codes:
        status = "revoked" if row.revoked_at else "replaced" if row.replaced_by else "current"
        state = license_state(row.expires_on, grace_days(session, row.product), today).value
        codes.append(
            CodeLine(
                row=row,
                formatted=formatted_code(row),
                status=status,
                state=state,
                behind=status == "current" and row.expires_on < contract.ends_on,
            )
        )
    codes.sort(key=lambda line: (line.status != "current", line.row.product != "CS", -line.row.id))
    registrations = list(
        session.scalars(
            select(Registration)
            .where(Registration.contract_id == contract.id)
            .order_by(Registration.last_at.desc())
        )
    )
    checks_query = (
        select(StatusCheck, ActivationCodeRow)
        .join(ActivationCodeRow, StatusCheck.activation_code_id == ActivationCodeRow.id)
        .where(ActivationCodeRow.contract_id == contract.id)
    )
    checks = [
        (check, formatted_code(code))
        for check, code in session.execute(
            checks_query.order_by(StatusCheck.id.desc()).limit(HISTORY_LIMIT)
        )
    ]
    registered_here = {r.server_id for r in registrations}
    other_contracts = registered_elsewhere(
        session, {c.server_id for c, _code in checks} - registered_here, contract.id
    )
    checks_total = session.scalar(
        select(func.count(StatusCheck.id))
        .join(ActivationCodeRow, StatusCheck.activation_code_id == ActivationCodeRow.id)
        .where(ActivationCodeRow.contract_id == contract.id)
    )
    audit = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target.in_(contract_targets(contract)))
            .order_by(AuditEntry.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    return ContractPage(
        contract=contract,
        state=license_state(contract.ends_on, grace, today).value,
        days_left=(contract.ends_on - today).days,
        grace_days=grace,
        codes=codes,
        registrations=registrations,
        checks=checks,
        checks_total=checks_total or 0,
        audit=audit,
        registration_key=(
            formatted_key(contract.registration_key)
            if contract.registration_key is not None and contract.registration_key.text
            else None
        ),
        other_contracts=other_contracts,
    )


def registered_elsewhere(
    session: Session, server_ids: set[str], contract_id: int
) -> dict[str, list[int]]:
    """Of `server_ids`, those registered with a contract other than `contract_id`, and those
    contracts. A server registered with one contract and checking another's code is worth
    a look from the support desk (a code passed on, or a mistyped code)."""
    if not server_ids:
        return {}
    rows = session.execute(
        select(Registration.server_id, Registration.contract_id)
        .where(Registration.server_id.in_(server_ids), Registration.contract_id != contract_id)
        .distinct()
        .order_by(Registration.contract_id)
    )
    found: dict[str, list[int]] = {}
    for server_id, other in rows:
        found.setdefault(server_id, []).append(other)
    return found


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target: str = ""

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    actions: list[str]
    code_contracts: dict[str, int]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def audit_page(session: Session, filters: AuditFilter, page: int) -> AuditPage:
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(AuditEntry.actor.ilike(_like(filters.actor), escape="\\"))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.target.startswith("contract:"):
        query = query.where(AuditEntry.target == filters.target)
    elif filters.target:
        query = query.where(AuditEntry.target.ilike(_like(filters.target), escape="\\"))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(1, page), pages)
    entries = list(
        session.scalars(
            query.order_by(AuditEntry.id.desc())
            .offset((page - 1) * AUDIT_PAGE_SIZE)
            .limit(AUDIT_PAGE_SIZE)
        )
    )
    actions = list(
        session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )
    return AuditPage(
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        actions=actions,
        code_contracts=code_contracts(session, entries),
    )


def code_contracts(session: Session, entries: list[AuditEntry]) -> dict[str, int]:
    """For targets like "code:CS…": the contract each code belongs to (for links)."""
    texts = [e.target.removeprefix("code:") for e in entries if e.target.startswith("code:")]
    if not texts:
        return {}
    rows = session.execute(
        select(ActivationCodeRow.text, ActivationCodeRow.contract_id).where(
            ActivationCodeRow.text.in_(texts)
        )
    )
    return {f"code:{text}": contract_id for text, contract_id in rows if text}


def change_lines(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field either side mentions, in a stable order."""
    before = entry.before or {}
    after = entry.after or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return [(key, before.get(key), after.get(key)) for key in keys]
