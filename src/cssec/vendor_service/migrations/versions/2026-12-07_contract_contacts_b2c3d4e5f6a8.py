"""Contacts belong to contracts: contracts.contact_email and contracts.contact_language.

Until now the notice contact (and so who may sign into the portal) was the customer's, and
customers merged by name, so one contact reached every contract filed under that name.
Each contract now carries its own. The data is carried over so that nobody gains access
they did not have (an address reaches a contract only with that contract's registration
key, as before):

- a customer with one contract: its contact and language move onto that contract
  (unchanged access; an empty contact still means "the address of the contract's latest
  registration", as before);
- a customer with several contracts and no contact: each contract keeps the fallback to
  its own latest registration's address (unchanged access), and the customer's language;
- a customer with several contracts and a contact: nobody can tell whose contact it was
  (a name merge, a bulk batch). A contract keeps it only when one of the contract's own
  registrations gave that same address; otherwise the contract is left without one, so it
  falls back to the address its own registration gave (the holder of its key), or to none
  (the console shows that it is missing and staff set it).

customers.contact_email and customers.language stay (unused) so that a downgrade finds them
as they were. On a live database: two ADD COLUMNs (nullable, or with a server default: no
table rewrite on PostgreSQL 11+ or SQLite) and one UPDATE per contract, in one transaction.

Revision ID: b2c3d4e5f6a8
Revises: a1b2c3d4e5f7
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b2c3d4e5f6a8"
down_revision: str | None = "a1b2c3d4e5f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_customers = sa.table(
    "customers",
    sa.column("id", sa.Integer),
    sa.column("contact_email", sa.String),
    sa.column("language", sa.String),
)
_contracts = sa.table(
    "contracts",
    sa.column("id", sa.Integer),
    sa.column("customer_id", sa.Integer),
    sa.column("contact_email", sa.String),
    sa.column("contact_language", sa.String),
)
_registrations = sa.table(
    "registrations",
    sa.column("contract_id", sa.Integer),
    sa.column("contact_email", sa.String),
)


def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


def carried_contacts(
    customers: dict[int, tuple[str | None, str]],
    contracts: list[tuple[int, int]],
    registered: dict[int, set[str]],
) -> dict[int, tuple[str | None, str]]:
    """Contract id → (contact, language), by the rules in the module docstring.

    `customers`: id → (contact, language); `contracts`: (contract id, customer id);
    `registered`: contract id → the normalized addresses its registrations gave."""
    per_customer: dict[int, int] = defaultdict(int)
    for _contract_id, customer_id in contracts:
        per_customer[customer_id] += 1
    carried: dict[int, tuple[str | None, str]] = {}
    for contract_id, customer_id in contracts:
        contact, language = customers.get(customer_id, (None, "ja"))
        language = language if language in {"ja", "en"} else "ja"
        contact = contact.strip() if contact and contact.strip() else None
        if (
            contact is not None
            and per_customer[customer_id] > 1
            and _norm(contact) not in registered.get(contract_id, set())
        ):
            contact = None
        carried[contract_id] = (contact, language)
    return carried


def upgrade() -> None:
    op.add_column("contracts", sa.Column("contact_email", sa.String(length=254), nullable=True))
    op.add_column(
        "contracts",
        sa.Column("contact_language", sa.String(length=8), server_default="ja", nullable=False),
    )
    bind = op.get_bind()
    columns = (_customers.c.id, _customers.c.contact_email, _customers.c.language)
    customers = {
        row.id: (row.contact_email, row.language or "ja")
        for row in bind.execute(sa.select(*columns))
    }
    contracts = [
        (row.id, row.customer_id)
        for row in bind.execute(sa.select(_contracts.c.id, _contracts.c.customer_id))
    ]
    registered: dict[int, set[str]] = defaultdict(set)
    for row in bind.execute(
        sa.select(_registrations.c.contract_id, _registrations.c.contact_email)
    ):
        registered[row.contract_id].add(_norm(row.contact_email))
    carried = carried_contacts(customers, contracts, registered)
    updates = [
        {"cid": contract_id, "email": contact, "lang": language}
        for contract_id, (contact, language) in carried.items()
        if contact is not None or language != "ja"
    ]
    if updates:
        bind.execute(
            _contracts.update()
            .where(_contracts.c.id == sa.bindparam("cid"))
            .values(contact_email=sa.bindparam("email"), contact_language=sa.bindparam("lang")),
            updates,
        )


def downgrade() -> None:
    # The customers' columns were never changed: the older code finds them as they were
    # (contacts set per contract since then are dropped). A plain DROP COLUMN (SQLite 3.35+
    # has it): a batch copy of `contracts` would trip the foreign keys that point at it.
    op.drop_column("contracts", "contact_language")
    op.drop_column("contracts", "contact_email")
