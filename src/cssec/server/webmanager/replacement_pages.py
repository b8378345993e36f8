"""新規入力's two answers besides a refusal: the confirmation page shown when the new code
would lower a live license (licensing.replacement), and the messages after an activation,
which say what changed."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from cssec.core.license import Product
from cssec.server.licensing.activation import Activation
from cssec.server.licensing.replacement import ConfirmationRequired
from cssec.server.models import User
from cssec.server.webmanager.templating import flash, render
from cssec.web.i18n import current_language


def confirm_page(
    request: Request,
    user: User,
    *,
    refusal: ConfirmationRequired,
    code: str,
    product: Product | None,
) -> HTMLResponse:
    """The changes, the worse ones marked, and a form that posts the same code with
    confirm=1 (a fresh CSRF token comes with the page)."""
    replacement = refusal.replacement
    return render(
        request,
        "activate_confirm.html",
        user=user,
        active="licenses",
        rows=replacement.rows(current_language.get()),
        code=code,
        product=product,
        target=replacement.after.product,
    )


def flash_activated(request: Request, entered: Activation) -> None:
    slot, replacement = entered.slot, entered.replacement
    name = {"ja": slot.product.name_in("ja"), "en": slot.product.name_in("en")}
    expiry = slot.expires_on.isoformat()
    flash(
        request,
        "success",
        {
            "ja": (
                f"{name['ja']}をアクティベートしました。"
                f"有効期限は{expiry}、状態は{slot.state.label('ja')}です。"
            ),
            "en": f"{name['en']} activated. Expires on {expiry} ({slot.state.label('en')}).",
        },
    )
    if replacement.before is not None:
        changed = {"ja": replacement.summary("ja", only_worse=False)}
        changed["en"] = replacement.summary("en", only_worse=False)
        flash(
            request,
            "warning" if replacement.needs_confirmation else "info",
            {
                "ja": f"変更点: {changed['ja']}。" if changed["ja"] else "条件の変更はありません。",
                "en": f"Changes: {changed['en']}." if changed["en"] else "The terms are unchanged.",
            },
        )
