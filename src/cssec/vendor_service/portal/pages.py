"""What a signed-in customer sees and does: their contracts, one contract (products, codes,
servers' reported usage, status checks, the audit of what was done on it), the new code
an offline site needs after a renewal, and the license certificate (page and PDF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.core.license import Product, grace_end
from cssec.vendor_service.console.queries import change_lines, contract_page, contract_state
from cssec.vendor_service.console.usage import contract_usage
from cssec.vendor_service.models import ActivationCodeRow, Contract
from cssec.vendor_service.portal import web
from cssec.vendor_service.portal.certificate import certificate_of, certificate_pdf, qr_svg
from cssec.vendor_service.services import formatted_code
from cssec.vendor_service.services.portal import (
    issue_code_for_offline_site,
    renewable_products,
    viewer_contract,
    viewer_contracts,
)
from cssec.vendor_service.webkit import CsrfToken, check_csrf, ended_because
from cssec.web.i18n import current_language
from cssec.web.pages import flash, redirect

router = APIRouter(prefix=web.PREFIX, include_in_schema=False)

Viewer = Annotated[web.PortalViewer, Depends(web.require_viewer)]


@router.get("")
def portal_root() -> Response:
    return redirect(f"{web.PREFIX}/")


@router.get("/")
def home(request: Request) -> Response:
    """The sign-in form, or the signed-in customer's contracts."""
    viewer = web.current_viewer(request)
    if viewer is None:
        notice = None
        if ended_because(request) == "ended":
            notice = web.gettext(request, "Your session has ended. Ask for a new sign-in link.")
        form = {"registration_key": "", "email": ""}
        return web.render(request, "signin.html", viewer=None, form=form, errors={}, notice=notice)
    vendor = web.vendor_of(request)
    with vendor.session() as session:
        today = vendor.clock.now().date()
        contracts = viewer_contracts(session, viewer)
        states = {c.id: contract_state(session, c, today) for c in contracts}
        return web.render(request, "contracts.html", viewer=viewer, contracts=contracts,
                      states=states, active="contracts")  # fmt: skip


def _contract(request: Request, session: Session, viewer: web.PortalViewer, cid: int) -> Contract:
    contract = viewer_contract(session, viewer, cid)
    if contract is None:
        raise web.not_found(request)
    return contract


@router.get("/contracts/{contract_id:int}")
def contract_detail(request: Request, viewer: Viewer, contract_id: int) -> Response:
    vendor = web.vendor_of(request)
    vendor.status_log.flush()  # this worker's queued status checks, so the history is current
    with vendor.session() as session:
        contract = _contract(request, session, viewer, contract_id)
        page = contract_page(session, contract, vendor.clock.now().date())
        return web.render(
            request,
            "contract.html",
            viewer=viewer,
            active="contracts",
            contract=contract,
            page=page,
            renewable=renewable_products(contract),
            grace_end=grace_end(contract.ends_on, page.grace_days),
            usage=contract_usage(session, contract.id),
            change_lines=change_lines,
        )


@router.post("/contracts/{contract_id:int}/offline-code")
def offline_code(
    request: Request,
    viewer: Viewer,
    contract_id: int,
    product: Annotated[str, Form(max_length=8)] = "CS",
    csrf_token: CsrfToken = "",
) -> Response:
    """After a renewal: the new activation code with the contract's new end, for a server
    that cannot reach the license service (the support desk's reissue, done by the customer)."""
    check_csrf(request, csrf_token)
    vendor = web.vendor_of(request)
    with vendor.session() as session:
        _contract(request, session, viewer, contract_id)
        try:
            code = issue_code_for_offline_site(session, viewer, contract_id, product=product)
        except CssecError as exc:
            flash(request, "danger", exc.message(current_language.get()))
            return redirect(f"{web.PREFIX}/contracts/{contract_id}")
    flash(
        request,
        "success",
        web.gettext(
            request,
            "Here is the new activation code. Enter it on the offline server: Web manager, "
            "[Product License], [Enter new code]. The previous code keeps working online.",
        ),
        code=code,
    )
    return redirect(f"{web.PREFIX}/contracts/{contract_id}")


@router.get("/contracts/{contract_id:int}/codes/{code_id:int}.txt")
def download_code(request: Request, viewer: Viewer, contract_id: int, code_id: int) -> Response:
    """A current activation code as a small text file, to carry to the offline server."""
    vendor = web.vendor_of(request)
    with vendor.session() as session:
        contract = _contract(request, session, viewer, contract_id)
        row = session.get(ActivationCodeRow, code_id)
        if row is None or row.contract_id != contract.id or not row.is_current:
            raise web.not_found(request)
        product = row.product
        text = "\n".join(
            [
                web.gettext(request, "C/S Sec. activation code"),
                web.gettext(request, "Customer: %(name)s", name=contract.customer.name),
                web.gettext(
                    request,
                    "Product: %(product)s",
                    product=Product(product).name_in(current_language.get()),
                ),
                web.gettext(request, "Expires: %(date)s", date=row.expires_on.isoformat()),
                "",
                formatted_code(row),
                "",
            ]
        )
    filename = f"activation-code-{contract_id}-{product}-{code_id}.txt"
    return Response(
        text.encode(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/contracts/{contract_id:int}/certificate")
def certificate_page(request: Request, viewer: Viewer, contract_id: int) -> Response:
    vendor = web.vendor_of(request)
    with vendor.session() as session:
        contract = _contract(request, session, viewer, contract_id)
        cert = certificate_of(
            session, contract, today=vendor.clock.now().date(), lang=current_language.get()
        )
    qr = {c.code: qr_svg(c.code) for c in cert.codes}
    return web.render(request, "certificate.html", viewer=viewer, active="contracts", cert=cert,
                  qr=qr)  # fmt: skip


@router.get("/contracts/{contract_id:int}/certificate.pdf")
def certificate_download(request: Request, viewer: Viewer, contract_id: int) -> Response:
    vendor = web.vendor_of(request)
    lang = current_language.get()
    with vendor.session() as session:
        contract = _contract(request, session, viewer, contract_id)
        cert = certificate_of(session, contract, today=vendor.clock.now().date(), lang=lang)
    pdf = certificate_pdf(cert, lang=lang)
    filename = f"license-certificate-{contract_id}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
