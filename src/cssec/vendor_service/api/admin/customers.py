"""Customers: list and search, read. A customer is a label to search by (each contract has
its own contact); customers are made by creating contracts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.vendor_service.api.admin.conventions import (
    IdPath,
    Paging,
    QueryText,
    documented,
    newest_first,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import CustomerOut, Page
from cssec.vendor_service.models import Contract, Customer
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: contracts"])


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
    paging: Paging,
    q: QueryText = None,
) -> Page[CustomerOut]:
    query = newest_first(Customer, paging)
    with vendor_of(request).session() as session, read_transaction(session):
        if q is not None and q.strip():
            text = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Customer.name.ilike(f"%{text}%", escape="\\"))
        rows = list(session.scalars(query))
        return Page[CustomerOut].of(rows, paging, lambda c: _customer_out(session, c))


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
