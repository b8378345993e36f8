"""Initial schema and the product catalog (CS, DCS).

Revision ID: 5c1e0a7d2b41
Revises:
Create Date: 2026-11-27 20:31:09.550801
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0a7d2b41"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_target"), ["target"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)

    op.create_table(
        "products",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name_ja", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("code_prefix", sa.String(length=2), nullable=False),
        sa.Column("version_type", sa.String(length=16), nullable=False),
        sa.Column("default_grace_days", sa.Integer(), nullable=False),
        sa.Column("default_seats", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_products")),
        sa.UniqueConstraint("code_prefix", name=op.f("uq_products_code_prefix")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contracts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "activation_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=8), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("kid", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=40), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_activation_codes_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["product"], ["products.code"], name=op.f("fk_activation_codes_product_products")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"],
            ["activation_codes.id"],
            name=op.f("fk_activation_codes_replaced_by_activation_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_codes")),
        sa.UniqueConstraint("serial", name=op.f("uq_activation_codes_serial")),
        sa.UniqueConstraint("text", name=op.f("uq_activation_codes_text")),
    )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activation_codes_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "contract_products",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_products_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["product"], ["products.code"], name=op.f("fk_contract_products_product_products")
        ),
        sa.PrimaryKeyConstraint("contract_id", "product", name=op.f("pk_contract_products")),
    )
    op.create_table(
        "registration_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("kid", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_registration_keys_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_keys")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_registration_keys_contract_id")),
        sa.UniqueConstraint("serial", name=op.f("uq_registration_keys_serial")),
        sa.UniqueConstraint("text", name=op.f("uq_registration_keys_text")),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=128), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_registrations_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("contract_id", "server_id", name=op.f("uq_registrations_contract_id")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registrations_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "status_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activation_code_id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activation_code_id"],
            ["activation_codes.id"],
            name=op.f("fk_status_checks_activation_code_id_activation_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_checks")),
    )
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_checks_activation_code_id"), ["activation_code_id"], unique=False
        )

    products = sa.table(
        "products",
        sa.column("code", sa.String),
        sa.column("name_ja", sa.String),
        sa.column("name_en", sa.String),
        sa.column("code_prefix", sa.String),
        sa.column("version_type", sa.String),
        sa.column("default_grace_days", sa.Integer),
        sa.column("default_seats", sa.Integer),
        sa.column("sort_order", sa.Integer),
    )
    op.bulk_insert(
        products,
        [
            {
                "code": "CS",
                "name_ja": "C/S Sec.",
                "name_en": "C/S Sec.",
                "code_prefix": "CS",
                "version_type": "full",
                "default_grace_days": 30,
                "default_seats": 5,
                "sort_order": 1,
            },
            {
                "code": "DCS",
                "name_ja": "ウイルス感染復旧サービス",
                "name_en": "Damage Cleanup Services",
                "code_prefix": "DC",
                "version_type": "full",
                "default_grace_days": 30,
                "default_seats": 5,
                "sort_order": 2,
            },
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("status_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_checks_activation_code_id"))

    op.drop_table("status_checks")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrations_contract_id"))

    op.drop_table("registrations")
    op.drop_table("registration_keys")
    op.drop_table("contract_products")
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activation_codes_contract_id"))

    op.drop_table("activation_codes")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_customer_id"))

    op.drop_table("contracts")
    op.drop_table("users")
    op.drop_table("products")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_name"))

    op.drop_table("customers")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_target"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
