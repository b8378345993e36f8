"""ダッシュボード and 運用管理 → 製品ライセンス: the license page, 新規入力 → アクティベート,
and ステータスをオンラインで確認. Actions answer with POST-redirect-GET and a flash message,
so the page shows the result at once and a reload never repeats the action."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CsrfFailed, CssecError, VendorUnreachable, WrongProduct
from cssec.core.license import Product
from cssec.server.licensing.activation import enter_code
from cssec.server.licensing.clockguard import server_info
from cssec.server.licensing.online_check import check_status_online, unchanged_note
from cssec.server.licensing.refusals import applied_refusal_message
from cssec.server.licensing.replacement import ConfirmationRequired
from cssec.server.licensing.view import read_licenses
from cssec.server.logs.events import list_events
from cssec.server.models import User
from cssec.server.outbreak.monitor import open_alerts
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal, refuse
from cssec.server.webmanager.replacement_pages import confirm_page, flash_activated
from cssec.server.webmanager.templating import check_csrf, ctx_of, flash, redirect, render

router = APIRouter(include_in_schema=False)
FORM_CODE_KEY = "form_code"
OTHER_PRODUCT_KEY = "form_other_product"
OTHER_CODE_KEY = "form_other_code"
LICENSES_URL = "/admin/licenses"


def _product(value: str | None) -> Product | None:
    if not value:
        return None
    try:
        return Product(value.upper())
    except ValueError:
        return None


@router.get("/")
async def root() -> Response:
    return redirect("/dashboard")


@router.get("/dashboard")
async def dashboard(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        licenses = read_licenses(
            session,
            now=ctx.clock.now(),
            tz=ctx.tz,
            seat_window_days=ctx.settings.seat_window_days,
        )
        info = server_info(session)
        events = list_events(session, per_page=8).events
        alerts = open_alerts(session)
    return render(
        request,
        "dashboard.html",
        user=user,
        active="dashboard",
        licenses=licenses,
        info=info,
        events=events,
        alerts=alerts,
    )


@router.get(LICENSES_URL)
async def licenses_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        licenses = read_licenses(
            session,
            now=ctx.clock.now(),
            tz=ctx.tz,
            seat_window_days=ctx.settings.seat_window_days,
        )
    return render(
        request,
        "licenses.html",
        user=user,
        active="licenses",
        licenses=licenses,
        seat_window_days=ctx.settings.seat_window_days,
    )


@router.get(LICENSES_URL + "/activation-code")
async def activation_form(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    product: str | None = None,
) -> Response:
    ctx = ctx_of(request)
    chosen = _product(product)
    with ctx.sessionmaker() as session:
        licenses = read_licenses(session, now=ctx.clock.now(), tz=ctx.tz)
    current = licenses.slot(chosen) if chosen else None
    entered = request.session.pop(FORM_CODE_KEY, "")
    # A code for the other product (wrong_product): a link to that product's form, which
    # then comes up with the code filled in.
    held_other = request.session.pop(OTHER_PRODUCT_KEY, None)
    other = _product(held_other if isinstance(held_other, str) else None)
    if not entered and chosen is not None:
        held = request.session.pop(OTHER_CODE_KEY, None)
        if isinstance(held, dict) and held.get("product") == chosen.value:
            entered = held.get("code", "")
    return render(
        request,
        "activate.html",
        user=user,
        active="licenses",
        product=chosen,
        current=current,
        entered=entered if isinstance(entered, str) else "",
        other_product=other if other is not chosen else None,
    )


@router.post(LICENSES_URL + "/activation-code")
async def activate(  # noqa: PLR0917  (FastAPI maps each form field to an argument)
    request: Request,
    user: Annotated[User, Depends(require_user)],
    activation_code: Annotated[str, Form(max_length=200)] = "",
    product: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    ctx = ctx_of(request)
    chosen = _product(product)
    form_url = (
        LICENSES_URL + "/activation-code" + (f"?product={quote(chosen.value)}" if chosen else "")
    )
    try:
        check_csrf(request, csrf_token)
    except CsrfFailed as exc:
        # Nothing from a forged or stale post is kept: not its code (it would be planted in
        # the admin's form under "try again"), not its product choice.
        request.session.pop(FORM_CODE_KEY, None)
        return refuse(request, exc, LICENSES_URL + "/activation-code")
    try:
        entered = await enter_code(
            ctx.license_env(),
            activation_code,
            product=chosen,
            actor=user.username,
            confirm=confirm == "1",
        )
    except ConfirmationRequired as exc:
        return confirm_page(request, user, refusal=exc, code=activation_code, product=chosen)
    except CssecError as exc:
        request.session[FORM_CODE_KEY] = activation_code[:100]
        if isinstance(exc, WrongProduct):
            other = str(exc.fields.get("actual", ""))
            request.session[OTHER_PRODUCT_KEY] = other
            request.session[OTHER_CODE_KEY] = {"product": other, "code": activation_code[:100]}
        return refuse(request, exc, form_url)
    slot = entered.slot
    flash_activated(request, entered)
    if not slot.confirmed_online:
        flash(
            request,
            "warning",
            {
                "ja": (
                    "ライセンスサーバで確認できなかったため、コードの形式と有効期限で受け付けました。"
                    "この旨はシステムイベントログに記録されています。接続が回復したら "
                    "[ステータスをオンラインで確認]を押してください。"
                ),
                "en": (
                    "The license service could not confirm the code, so it was accepted on its "
                    "format and expiry (recorded in the system event log). Press Check status "
                    "online once the connection is back."
                ),
            },
        )
    return redirect(LICENSES_URL)


@router.post(LICENSES_URL + "/check-online")
async def check_online(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    ctx = ctx_of(request)
    if (refused := csrf_refusal(request, csrf_token, LICENSES_URL)) is not None:
        return refused
    # One contract moves every slot: the button on either card checks them all, so a
    # renewal never leaves the other card on its old date until its own check.
    outcomes = await check_status_online(ctx.license_env(), actor=user.username)
    for outcome in outcomes:
        name = {"ja": outcome.product.name_in("ja"), "en": outcome.product.name_in("en")}
        if outcome.ok:
            new = outcome.new_expiry.isoformat() if outcome.new_expiry else "-"
            moved = outcome.old_expiry is not None and outcome.old_expiry != outcome.new_expiry
            old = outcome.old_expiry.isoformat() if outcome.old_expiry else "-"
            flash(
                request,
                "success",
                {
                    "ja": f"{name['ja']}: ステータスをオンラインで確認しました。有効期限: {new}"
                    + (f" (変更前 {old})" if moved else " (変更なし)"),
                    "en": f"{name['en']}: status checked online. Expires on {new}"
                    + (f" (was {old})." if moved else " (unchanged)."),
                },
            )
        elif outcome.applied is not None:
            flash(request, "danger", applied_refusal_message(outcome.product, outcome.applied))
        else:
            error = outcome.error or VendorUnreachable(cause="unknown")
            flash(
                request,
                "danger",
                {
                    "ja": f"{name['ja']}: ステータスを確認できませんでした。"
                    f"{unchanged_note(error, 'ja')}{error.message('ja')}",
                    "en": f"{name['en']}: the status could not be checked. "
                    f"{unchanged_note(error, 'en')}{error.message('en')}",
                },
            )
    return redirect(LICENSES_URL)
