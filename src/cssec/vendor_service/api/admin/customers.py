"""Customers: list and search, read. A customer is a label to search by (each contract has
its own contact); customers are made by creating contracts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.vendor_service.api.admin.conventions import (
    IdPath,
    QueryText,
    decode_cursor,
    documented,
    next_by_id,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import CustomerOut, Page
from cssec.vendor_service.models import Contract, Customer
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: contracts"])
Cursor = Annotated[
    str | None, Query(max_length=200, description="next_cursor of the previous page.")
]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page (default 50).")]


def _customer_out(session: Session, person: Customer) -> CustomerOut:
    ids = list(
        session.scalars(
            select(Contract.id).where(Contract.customer_id == person.id).order_by(Contract.id)
        )
    )
    return CustomerOut(
        id=person.id, name=person.name, created_at=person.created_at, contract_ids=ids
    )


@router.get(
    "/customers",
    response_model=Page[CustomerOut],
    summary="List and search customers",
    description="Newest first; `q` matches part of the name. A customer is a label: each "
    "contract has its own contact.",
    responses=documented(),
)
def list_customers(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("contracts:read"))],
    q: QueryText = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[CustomerOut]:
    after = decode_cursor(cursor, "id")
    with vendor_of(request).session() as session, read_transaction(session):
        query = select(Customer).order_by(Customer.id.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(Customer.id < after)
        if q is not None and q.strip():
            text = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Customer.name.ilike(f"%{text}%", escape="\\"))
        rows = list(session.scalars(query))
        items = [_customer_out(session, c) for c in rows[:limit]]
    return Page[CustomerOut](items=items, next_cursor=next_by_id(rows, limit))


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    summary="Read a customer",
    responses=documented(),
)
def get_customer(
    customer_id: IdPath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("contracts:read"))],
) -> CustomerOut:
    with vendor_of(request).session() as session, read_transaction(session):
        person = session.get(Customer, customer_id)
        if person is None:
            raise not_found("顧客", "customer", f"#{customer_id}")
        return _customer_out(session, person)
