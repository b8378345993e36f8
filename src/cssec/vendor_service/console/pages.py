"""The console's read-only pages: search, a contract, code inspection, the audit log.

Reads are plain GETs (bookmarkable, no CSRF needed); every change is a POST in actions.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cssec.core.codes import classify
from cssec.vendor_service import services
from cssec.vendor_service.console.queries import (
    AuditFilter,
    audit_page,
    change_lines,
    code_contracts,
    contract_page,
    contract_state,
    recent_contracts,
)
from cssec.vendor_service.console.usage import contract_usage
from cssec.vendor_service.console.web import (
    PREFIX,
    PageNotFound,
    StaffUser,
    gettext,
    render,
    require_user,
    vendor_of,
)
from cssec.vendor_service.models import AuditEntry, Contract
from cssec.web.pages import redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
Text = Annotated[str, Query(max_length=200)]


def not_found(request: Request) -> PageNotFound:
    return PageNotFound(
        gettext(request, "There is no such page or record. Search again from the search page.")
    )


@router.get("")
def console_root() -> Response:
    return redirect(f"{PREFIX}/")


@router.get("/")
def search(request: Request, user: User, q: Text = "") -> Response:
    vendor = vendor_of(request)
    query = q.strip()
    with vendor.session() as session:
        today = vendor.clock.now().date()
        looks_like_code = classify(query) is not None
        results: list[Contract] = services.search_contracts(session, query) if query else []
        if looks_like_code and len(results) == 1:
            return redirect(f"{PREFIX}/contracts/{results[0].id}")
        inspection = (
            services.inspect_code(session, query) if looks_like_code and not results else None
        )
        shown = results if query else recent_contracts(session)
        found = {
            "contracts": shown,
            "states": {c.id: contract_state(session, c, today) for c in shown},
            "inspection": inspection,
        }
        return render(
            request, "search.html", user=user, active="search", q=query, today=today, **found
        )


@router.get("/contracts/{contract_id:int}")
def contract_detail(request: Request, user: User, contract_id: int) -> Response:
    vendor = vendor_of(request)
    vendor.status_log.flush()  # this worker's queued status checks, so the history is current
    with vendor.session() as session:
        contract = session.get(Contract, contract_id)
        if contract is None:
            raise not_found(request)
        page = contract_page(session, contract, vendor.clock.now().date())
        return render(
            request,
            "contract.html",
            user=user,
            active="search",
            page=page,
            contract=contract,
            change_lines=change_lines,
            usage=contract_usage(session, contract.id),
        )


@router.get("/inspect")
def inspect(request: Request, user: User, code: Text = "") -> Response:
    vendor = vendor_of(request)
    with vendor.session() as session:
        result = services.inspect_code(session, code) if code.strip() else None
        return render(
            request, "inspect.html", user=user, active="inspect", code=code, result=result
        )


@router.get("/audit")
def audit(  # noqa: PLR0917  (FastAPI maps each query parameter to an argument)
    request: Request,
    user: User,
    actor: Text = "",
    action: Annotated[str, Query(max_length=64)] = "",
    target: Text = "",
    page: Annotated[str, Query(max_length=8)] = "1",
) -> Response:
    vendor = vendor_of(request)
    filters = AuditFilter(actor=actor.strip(), action=action.strip(), target=target.strip())
    with vendor.session() as session:
        found = audit_page(session, filters, int(page) if page.isdecimal() else 1)
        return render(
            request,
            "audit.html",
            user=user,
            active="audit",
            filters=filters,
            found=found,
            change_lines=change_lines,
        )


@router.get("/audit/{entry_id:int}")
def audit_entry(request: Request, user: User, entry_id: int) -> Response:
    vendor = vendor_of(request)
    with vendor.session() as session:
        entry = session.get(AuditEntry, entry_id)
        if entry is None:
            raise not_found(request)
        return render(
            request,
            "audit_entry.html",
            user=user,
            active="audit",
            entry=entry,
            lines=change_lines(entry),
            code_contracts=code_contracts(session, [entry]),
        )
