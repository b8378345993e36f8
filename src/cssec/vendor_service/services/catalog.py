"""The product catalog (seeded by the first migration)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.vendor_service.errors import UnknownProduct
from cssec.vendor_service.models import ProductRow


def list_products(session: Session) -> list[ProductRow]:
    return list(session.scalars(select(ProductRow).order_by(ProductRow.sort_order)))


def get_product(session: Session, code: str) -> ProductRow:
    """The catalog row for "CS" / "DCS" (case-insensitive); UnknownProduct otherwise."""
    row = session.get(ProductRow, code.strip().upper())
    if row is None:
        raise UnknownProduct(product=code)
    return row
