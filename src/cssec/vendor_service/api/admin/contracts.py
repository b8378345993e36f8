"""Customers and contracts: create, read, list and search, renew, change the contact.

Renewing and changing the contact are updates: they need If-Match with the contract's
ETag (428 without it, 412 when someone changed the contract since it was read), so two
clerks, or a clerk and a billing system, never overwrite each other unseen.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from cssec.core.codes import parse_activation_code, parse_registration_key
from cssec.core.license import license_state
from cssec.vendor_service import services
from cssec.vendor_service.api.admin.conventions import (
    MAX_ID,
    IdempotencyKey,
    IdPath,
    IfMatch,
    Paging,
    QueryText,
    check_if_match,
    documented,
    etag_of,
    idempotent,
    linked,
    newest_first,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import (
    CodeOut,
    ContactIn,
    ContactOut,
    ContractIn,
    ContractOut,
    CustomerRef,
    Page,
    RenewIn,
)
from cssec.vendor_service.api_errors import PreconditionRequired
from cssec.vendor_service.models import (
    ActivationCodeRow,
    Contract,
    Customer,
    ProductRow,
    RegistrationKeyRow,
)
from cssec.vendor_service.services._context import read_transaction, today_utc
from cssec.vendor_service.services.lookup import guess_kind
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: contracts"])
ETAG = "$response.header.ETag"

Search = Annotated[
    QueryText,
    Query(
        description="A registration key or activation code (any typing), else part of the "
        "customer's name.",
    ),
]


def _code_status(row: Any) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "replaced" if row.replaced_by is not None else "current"


def _state(session: Session, contract: Contract) -> str:
    cs = session.get(ProductRow, "CS")
    grace = cs.default_grace_days if cs is not None else 30
    return license_state(contract.ends_on, grace, today_utc(session)).value


def contract_out(session: Session, contract: Contract) -> ContractOut:
    """The contract as the API shows it, with its ETag computed over all of it."""
    codes = [
        CodeOut(
            product=row.product,
            activation_code=services.formatted_code(row),
            serial=row.serial or row.id,
            seats=row.seats,
            expires_on=row.expires_on,
            issued_at=row.issued_at,
            status=_code_status(row),
            revoked_at=row.revoked_at,
            revoke_reason=row.revoke_reason,
        )
        for row in contract.activation_codes
        if row.text is not None
    ]
    key = contract.registration_key
    fields: dict[str, Any] = {
        "id": contract.id,
        "customer": CustomerRef(id=contract.customer.id, name=contract.customer.name),
        "seats": contract.seats,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "state": _state(session, contract),
        "products": contract.product_codes,
        "registration_key": services.formatted_key(key) if key and key.text else None,
        "contact": ContactOut(
            email=contract.contact_email,
            language=contract.contact_language,
        ),
        "codes": codes,
        "created_at": contract.created_at,
        "updated_at": contract.updated_at,
    }
    shown = {
        k: (v.model_dump(mode="json") if hasattr(v, "model_dump") else v)
        for k, v in fields.items()
        if k != "state"
    }
    shown["codes"] = [c.model_dump(mode="json") for c in codes]
    return ContractOut(**fields, etag=etag_of(shown))


def _load(session: Session, contract_id: int, *, lock: bool = False) -> Contract:
    query = (
        select(Contract)
        .where(Contract.id == contract_id)
        .options(selectinload(Contract.activation_codes), selectinload(Contract.products))
        .execution_options(populate_existing=True)
    )
    contract = session.scalar(query.with_for_update(of=Contract) if lock else query)
    if contract is None:
        raise not_found("契約", "contract", f"#{contract_id}")
    return contract


def check_locked(session: Session, contract_id: int, if_match: str | None) -> None:
    """If-Match against the contract as it is now, in the transaction the update then
    continues (the use case commits it): the row stays locked from this check to the
    update's commit, so no other change can slip in between (SQLite: the write lock,
    taken at BEGIN)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired()
    check_if_match(if_match, contract_out(session, _load(session, contract_id, lock=True)).etag)


def read_contract(request: Request, contract_id: int) -> ContractOut:
    with vendor_of(request).session() as session, read_transaction(session):
        return contract_out(session, _load(session, contract_id))


def _with_etag(status: int, contract: ContractOut) -> tuple[int, ContractOut, dict[str, str]]:
    return status, contract, {"ETag": contract.etag}


@router.post(
    "/contracts",
    status_code=201,
    response_model=ContractOut,
    summary="Create a contract",
    description="A new contract with its registration key and one activation code per "
    "product (`cssec vendor contract new`). Audited as contract.created by token:<name>.",
    responses={
        **documented(),
        **linked(
            201,
            get_contract={"contract_id": "$response.body#/id"},
            renew={"contract_id": "$response.body#/id", "header.If-Match": ETAG},
            change_contact={"contract_id": "$response.body#/id", "header.If-Match": ETAG},
            reissue={"contract_id": "$response.body#/id"},
            usage={"contract_id": "$response.body#/id"},
            get_customer={"customer_id": "$response.body#/customer/id"},
            inspect={"code": "$response.body#/codes/0/activation_code"},
            preview={"code": "$response.body#/codes/0/activation_code"},
            revoke={"code": "$response.body#/codes/0/activation_code"},
        ),
    },
)
def create_contract(
    body: ContractIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("contracts:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> tuple[int, ContractOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            issued = services.issue_contract(
                session,
                customer=body.customer,
                seats=body.seats,
                months=body.months,
                start=body.start,
                with_dcs=body.with_dcs,
                contact_email=body.contact_email,
                language=body.language,
                actor=principal.actor,
            )
        out = read_contract(request, issued.contract_id)
        status, model, headers = _with_etag(201, out)
        return status, model, {**headers, "Location": f"{request.url.path}/{out.id}"}

    return idempotent(request, principal, idempotency_key, body, work)


_WHOLE = (
    selectinload(Contract.activation_codes),
    selectinload(Contract.products),
    selectinload(Contract.registration_key),
    joinedload(Contract.customer),
)
"""What `contract_out` reads, loaded with the page (not one query per contract)."""


def _matching(query: Select[Contract], text: str) -> Select[Contract]:
    """The console's search (`services.search_contracts`) as a filter that pages: a
    registration key or activation code (any typing; no MAC check, staff may look anything
    up) finds its contract, anything else matches part of the customer's name."""
    if guess_kind(text) == "registration_key":
        key = parse_registration_key(text).value
        if key is not None:
            return query.join(RegistrationKeyRow).where(RegistrationKeyRow.text == key.text)
    else:
        code = parse_activation_code(text).value
        if code is not None:
            owner = select(ActivationCodeRow.contract_id).where(ActivationCodeRow.text == code.text)
            return query.where(Contract.id.in_(owner.scalar_subquery()))
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return query.join(Customer).where(Customer.name.ilike(pattern, escape="\\"))


@router.get(
    "/contracts",
    response_model=Page[ContractOut],
    summary="List and search contracts",
    description="Newest first. `q`: a registration key or activation code finds its contract; "
    "anything else matches part of the customer's name.",
    responses=documented(),
)
def list_contracts(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("contracts:read"))],
    paging: Paging,
    q: Search = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[ContractOut]:
    query = newest_first(Contract, paging)
    with vendor_of(request).session() as session, read_transaction(session):
        if customer_id is not None:
            query = query.where(Contract.customer_id == customer_id)
        if q is not None and q.strip():
            query = _matching(query, q.strip())
        rows = list(session.scalars(query.options(*_WHOLE)))
        return Page[ContractOut].of(rows, paging, lambda c: contract_out(session, c))


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractOut,
    summary="Read a contract",
    description="With its codes, registration key and contact; the ETag header is what an "
    "update sends back in If-Match.",
    responses=documented(),
)
def get_contract(
    contract_id: IdPath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("contracts:read"))],
) -> JSONResponse:
    out = read_contract(request, contract_id)
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": out.etag})


@router.post(
    "/contracts/{contract_id}/renew",
    response_model=ContractOut,
    summary="Renew a contract",
    description="Moves the end `months` later, counted from the current end "
    "(`cssec vendor contract renew`). Online servers pick it up at their next status check; "
    "offline ones need a replacement code. Needs If-Match. Audited as contract.renewed.",
    responses=documented(409, 412, 428),
)
def renew(  # noqa: PLR0917  (FastAPI maps each parameter)
    contract_id: IdPath,
    body: RenewIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("contracts:write"))],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> tuple[int, ContractOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            check_locked(session, contract_id, if_match)
            services.renew_contract(session, contract_id, months=body.months, actor=principal.actor)
        return _with_etag(200, read_contract(request, contract_id))

    return idempotent(request, principal, idempotency_key, body, work)


@router.put(
    "/contracts/{contract_id}/contact",
    response_model=ContractOut,
    summary="Change a contract's contact",
    description="Where and in which language its notices are mailed, and who signs into the "
    "portal for it. Needs If-Match. Audited when something changes.",
    responses=documented(412, 428),
)
def change_contact(
    contract_id: IdPath,
    body: ContactIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("contracts:write"))],
    if_match: IfMatch = None,
) -> JSONResponse:
    with vendor_of(request).session() as session:
        check_locked(session, contract_id, if_match)
        services.change_contact(
            session,
            contract_id,
            contact_email=body.email,
            language=body.language,
            actor=principal.actor,
        )
    out = read_contract(request, contract_id)
    return JSONResponse(out.model_dump(mode="json"), headers={"ETag": out.etag})
