"""The console's four actions: new contract, renew, reissue a code, revoke a code.

Each runs form → confirmation (what changes, before → after) → the service, which writes
the audit row, then POST-redirect-GET to the contract page with a flash message. Every
POST checks the CSRF token and the role (see `web.ADMIN_ACTIONS`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.core.names import CUSTOMER_NAME, InvalidName, check_name
from cssec.vendor_service import services
from cssec.vendor_service.console.pages import not_found
from cssec.vendor_service.console.queries import customer_contract_count
from cssec.vendor_service.console.web import (
    PREFIX,
    StaffUser,
    gettext,
    render,
    require_permission,
    require_user,
    vendor_of,
)
from cssec.vendor_service.errors import RevocationNeedsAdmin
from cssec.vendor_service.models import ActivationCodeRow, Contract
from cssec.vendor_service.services.contracts import MAX_MONTHS, MAX_SEATS, check_contact
from cssec.vendor_service.services.issuance import revoked_newest
from cssec.vendor_service.services.lineage import preview_of_row
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf, flash, redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
Csrf = Annotated[str, Form(max_length=128)]
Short = Annotated[str, Form(max_length=32)]
MONTH_CHOICES = (1, 3, 6, 12, 24, 36, 60)


def _number(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdecimal():
        return None
    value = int(text)
    return value if low <= value <= high else None


def _error_text(exc: CssecError) -> str:
    return exc.message(current_language.get())


def _confirmed(value: str) -> bool:
    return value == "yes"


# --- new contract -----------------------------------------------------------------------


@router.get("/contracts/new")
def new_contract_form(request: Request, user: User) -> Response:
    require_permission(request, user, "contract.new")
    today = vendor_of(request).clock.now().date()
    form = {"customer": "", "seats": "", "months": "12", "start": today.isoformat(), "with_dcs": "",
            "contact_email": "", "language": "ja"}  # fmt: skip
    return render(
        request, "contract_new.html", user=user, active="new", step="form", form=form, errors={}
    )


@router.post("/contracts/new")
def new_contract(  # noqa: PLR0917  (FastAPI maps each form field to a parameter)
    request: Request,
    user: User,
    customer: Annotated[str, Form(max_length=200)] = "",
    seats: Short = "",
    months: Short = "12",
    start: Short = "",
    with_dcs: Short = "",
    confirm: Short = "",
    edit: Short = "",
    csrf_token: Csrf = "",
    contact_email: Annotated[str, Form(max_length=300)] = "",
    language: Short = "ja",
) -> Response:
    require_permission(request, user, "contract.new")
    check_csrf(request, csrf_token)
    vendor = vendor_of(request)
    form = {
        "customer": customer.strip(),
        "seats": seats.strip(),
        "months": months.strip(),
        "start": start.strip(),
        "with_dcs": "yes" if with_dcs else "",
        "contact_email": contact_email.strip(),
        "language": language if language in {"ja", "en"} else "ja",
    }
    errors: dict[str, str] = {}
    try:  # this contract's own contact (optional): its notices and its portal sign-in
        check_contact(form["contact_email"], form["language"])
    except CssecError as exc:
        errors["contact_email"] = _error_text(exc)
    if not form["customer"]:
        errors["customer"] = gettext(request, "Enter the customer's name.")
    else:
        try:
            check_name(form["customer"], CUSTOMER_NAME)
        except InvalidName as exc:
            errors["customer"] = _error_text(exc)
    seat_count = _number(seats, 1, MAX_SEATS)
    if seat_count is None:
        errors["seats"] = gettext(request, "Enter a number from 1 to %(max)s.", max=MAX_SEATS)
    month_count = _number(months, 1, MAX_MONTHS)
    if month_count is None:
        errors["months"] = gettext(request, "Enter a number from 1 to %(max)s.", max=MAX_MONTHS)
    try:
        start_on = date.fromisoformat(form["start"])
    except ValueError:
        errors["start"] = gettext(request, "Enter the date as YYYY-MM-DD.")
    if errors or seat_count is None or month_count is None or edit:
        return render(
            request, "contract_new.html", user=user, active="new", step="form",
            form=form, errors=errors, status_code=422 if errors else 200,
        )  # fmt: skip
    end = services.term_end(start_on, month_count)
    if not _confirmed(confirm):
        with vendor.session() as session:
            existing = customer_contract_count(session, form["customer"])
        return render(
            request, "contract_new.html", user=user, active="new", step="confirm",
            form=form, errors={}, end=end, existing=existing,
        )  # fmt: skip
    try:
        with vendor.session() as session:
            issued = services.issue_contract(
                session,
                customer=form["customer"],
                seats=seat_count,
                months=month_count,
                start=start_on,
                with_dcs=bool(with_dcs),
                contact_email=form["contact_email"] or None,
                language=form["language"],
                actor=user.actor,
            )
    except CssecError as exc:
        return render(
            request, "contract_new.html", user=user, active="new", step="form",
            form=form, errors={"form": _error_text(exc)}, status_code=422,
        )  # fmt: skip
    flash(
        request,
        "success",
        gettext(request, "Contract issued. Hand the customer this registration key:"),
        code=issued.registration_key,
    )
    return redirect(f"{PREFIX}/contracts/{issued.contract_id}")


# --- renew ------------------------------------------------------------------------------


def _contract(request: Request, session: Any, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise not_found(request)
    assert isinstance(contract, Contract)
    return contract


@router.get("/contracts/{contract_id:int}/renew")
def renew_form(request: Request, user: User, contract_id: int) -> Response:
    require_permission(request, user, "contract.renew")
    with vendor_of(request).session() as session:
        contract = _contract(request, session, contract_id)
        return render(
            request, "renew.html", user=user, contract=contract, step="form",
            months="12", choices=MONTH_CHOICES, error=None,
        )  # fmt: skip


@router.post("/contracts/{contract_id:int}/renew")
def renew(  # noqa: PLR0917
    request: Request,
    user: User,
    contract_id: int,
    months: Short = "12",
    expected_end: Short = "",
    confirm: Short = "",
    csrf_token: Csrf = "",
) -> Response:
    require_permission(request, user, "contract.renew")
    check_csrf(request, csrf_token)
    vendor = vendor_of(request)
    with vendor.session() as session:
        contract = _contract(request, session, contract_id)
        month_count = _number(months, 1, MAX_MONTHS)
        page: dict[str, Any] = {"user": user, "contract": contract, "choices": MONTH_CHOICES}
        if month_count is None:
            error = gettext(request, "Enter a number from 1 to %(max)s.", max=MAX_MONTHS)
            return render(
                request, "renew.html", step="form", months=months, error=error,
                status_code=422, **page,
            )  # fmt: skip
        current = contract.ends_on
        new_end = services.term_end(current + timedelta(days=1), month_count)
        stale = _confirmed(confirm) and expected_end != current.isoformat()
        if not _confirmed(confirm) or stale:
            return render(
                request, "renew.html", step="confirm", months=str(month_count), error=None,
                new_end=new_end, stale=stale, **page,
            )  # fmt: skip
        try:
            renewed = services.renew_contract(
                session, contract_id, months=month_count, actor=user.actor
            )
        except CssecError as exc:
            return render(
                request, "renew.html", step="form", months=str(month_count),
                error=_error_text(exc), status_code=422, **page,
            )  # fmt: skip
    flash(
        request,
        "success",
        gettext(
            request,
            "Contract renewed: the end moved from %(before)s to %(after)s. Online servers "
            "pick it up at their next status check; an offline server needs a new "
            "activation code (Reissue code).",
            before=renewed.previous_end.isoformat(),
            after=renewed.end.isoformat(),
        ),
    )
    return redirect(f"{PREFIX}/contracts/{contract_id}")


# --- reissue ----------------------------------------------------------------------------


def _current_codes(contract: Contract, product: str) -> list[ActivationCodeRow]:
    return [r for r in contract.activation_codes if r.product == product and r.is_current]


@router.get("/contracts/{contract_id:int}/reissue")
def reissue_form(request: Request, user: User, contract_id: int, product: str = "CS") -> Response:
    require_permission(request, user, "code.reissue")
    with vendor_of(request).session() as session:
        contract = _contract(request, session, contract_id)
        chosen = product if product in contract.product_codes else contract.product_codes[0]
        return render(
            request, "reissue.html", user=user, contract=contract, step="form",
            product=chosen, current=_current_codes(contract, chosen), error=None,
        )  # fmt: skip


@router.post("/contracts/{contract_id:int}/reissue")
def reissue(  # noqa: PLR0917
    request: Request,
    user: User,
    contract_id: int,
    product: Short = "CS",
    confirm: Short = "",
    lift: Short = "",
    csrf_token: Csrf = "",
) -> Response:
    require_permission(request, user, "code.reissue")
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        contract = _contract(request, session, contract_id)
        page: dict[str, Any] = {"user": user, "contract": contract, "product": product}
        if product not in contract.product_codes:
            error = gettext(request, "Choose one of the contract's products.")
            return render(
                request, "reissue.html", step="form", current=[], error=error,
                status_code=422, **page,
            )  # fmt: skip
        current = _current_codes(contract, product)
        page["revoked"] = revoked = revoked_newest(contract, product)
        if revoked is not None and not user.is_admin:
            error = _error_text(RevocationNeedsAdmin(product=product))
            status = 403 if _confirmed(confirm) else 200
            return render(
                request, "reissue.html", step="confirm", current=current, error=error,
                status_code=status, **page,
            )  # fmt: skip
        if not _confirmed(confirm):
            return render(
                request, "reissue.html", step="confirm", current=current, error=None, **page
            )
        if revoked is not None and not _confirmed(lift):
            error = gettext(request, "Tick the box to confirm that the revocation is undone.")
            return render(
                request, "reissue.html", step="confirm", current=current, error=error,
                status_code=422, **page,
            )  # fmt: skip
        try:
            code = services.issue_replacement_code(
                session, contract_id, product=product, actor=user.actor,
                lift_revocation=user.is_admin,
            )  # fmt: skip
        except CssecError as exc:
            status = 403 if isinstance(exc, RevocationNeedsAdmin) else 422
            return render(
                request, "reissue.html", step="form", current=current,
                error=_error_text(exc), status_code=status, **page,
            )  # fmt: skip
    flash(
        request,
        "success",
        gettext(
            request,
            "New activation code issued. Give it to the customer; it replaces the previous "
            "code, which keeps working online:",
        ),
        code=code,
    )
    return redirect(f"{PREFIX}/contracts/{contract_id}")


# --- revoke -----------------------------------------------------------------------------


def _code_row(request: Request, session: Any, code_id: int) -> ActivationCodeRow:
    row = session.get(ActivationCodeRow, code_id)
    if row is None:
        raise not_found(request)
    assert isinstance(row, ActivationCodeRow)
    return row


@router.get("/codes/{code_id:int}/revoke")
def revoke_form(request: Request, user: User, code_id: int) -> Response:
    require_permission(request, user, "code.revoke")
    with vendor_of(request).session() as session:
        row = _code_row(request, session, code_id)
        return render(
            request, "revoke.html", user=user, row=row, code=services.formatted_code(row),
            contract=row.contract, step="form", reason="", error=None,
            preview=preview_of_row(session, row),
        )  # fmt: skip


@router.post("/codes/{code_id:int}/revoke")
def revoke(  # noqa: PLR0917
    request: Request,
    user: User,
    code_id: int,
    reason: Annotated[str, Form(max_length=1000)] = "",
    understood: Short = "",
    confirm: Short = "",
    csrf_token: Csrf = "",
) -> Response:
    require_permission(request, user, "code.revoke")
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        row = _code_row(request, session, code_id)
        code = services.formatted_code(row)
        contract_id = row.contract_id
        preview = preview_of_row(session, row)
        page: dict[str, Any] = {
            "user": user, "row": row, "code": code, "contract": row.contract,
            "reason": reason.strip(), "preview": preview,
        }  # fmt: skip
        if not reason.strip():
            error = gettext(request, "Enter why the code is revoked (it goes into the audit log).")
            return render(request, "revoke.html", step="form", error=error, status_code=422, **page)
        if not _confirmed(confirm):
            return render(request, "revoke.html", step="confirm", error=None, **page)
        if understood != "yes":
            error = gettext(request, "Tick the box to confirm that the code stops working.")
            return render(
                request, "revoke.html", step="confirm", error=error, status_code=422, **page
            )
        try:
            done = services.revoke_code(session, code, actor=user.actor, reason=reason)
        except CssecError as exc:
            return render(
                request, "revoke.html", step="form", error=_error_text(exc),
                status_code=422, **page,
            )  # fmt: skip
    if not done.revoked_now:
        flash(request, "info", gettext(request, "This code was already revoked."))
        return redirect(f"{PREFIX}/contracts/{contract_id}")
    older = sum(1 for revoked in done.revoked_now if revoked != code)
    done_text = gettext(request, "Activation code %(code)s revoked.", code=code)
    if older:
        done_text = gettext(
            request,
            "Activation code %(code)s revoked, with %(count)s older code(s) it superseded.",
            code=code, count=older,
        )  # fmt: skip
    flash(request, "success", done_text)
    return redirect(f"{PREFIX}/contracts/{contract_id}")
