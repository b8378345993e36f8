"""The contract's notice contact: where and in which language (ja, en) the vendor mails
the contract's notices (90/60/30/0 days before the end, grace end). Staff and admins may
change it (it changes no entitlement); the form checks the CSRF token, the service writes
the audit row (contract.contact_changed). The contact is the contract's own: no other
contract of the customer changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.vendor_service import services
from cssec.vendor_service.console.pages import not_found
from cssec.vendor_service.console.web import (
    PREFIX,
    StaffUser,
    gettext,
    render,
    require_user,
    vendor_of,
)
from cssec.vendor_service.models import Contract
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf, flash, redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
LANGUAGES = ("ja", "en")


@router.get("/contracts/{contract_id:int}/contact")
def contact_form(request: Request, user: User, contract_id: int) -> Response:
    with vendor_of(request).session() as session:
        contract = session.get(Contract, contract_id)
        if contract is None:
            raise not_found(request)
        form = {
            "contact_email": contract.contact_email or "",
            "language": contract.contact_language,
        }
        return render(
            request, "contact.html", user=user, active="search", contract=contract,
            form=form, languages=LANGUAGES, error=None,
        )  # fmt: skip


@router.post("/contracts/{contract_id:int}/contact")
def change_contact(  # noqa: PLR0917  (FastAPI maps each form field to a parameter)
    request: Request,
    user: User,
    contract_id: int,
    contact_email: Annotated[str, Form(max_length=300)] = "",
    language: Annotated[str, Form(max_length=8)] = "ja",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        contract = session.get(Contract, contract_id)
        if contract is None:
            raise not_found(request)
        try:
            change = services.change_contact(
                session, contract_id, contact_email=contact_email, language=language,
                actor=user.actor,
            )  # fmt: skip
        except CssecError as exc:
            form = {"contact_email": contact_email.strip(), "language": language}
            return render(
                request, "contact.html", user=user, active="search", contract=contract,
                form=form, languages=LANGUAGES, error=exc.message(current_language.get()),
                status_code=422,
            )  # fmt: skip
    if change.changed:
        flash(request, "success", gettext(request, "Notice contact saved."))
    else:
        flash(request, "info", gettext(request, "Nothing changed."))
    return redirect(f"{PREFIX}/contracts/{contract_id}")
