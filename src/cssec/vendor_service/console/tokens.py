"""API tokens in the console (`/console/api-tokens`): admins only, since a token acts on
its own with the scopes it holds.

The list shows each token's name, scopes, expiry, last use and status, never the token.
Creating one answers with a page showing the token once (rendered, never put in the
session cookie or a redirect); revoking one is a button (confirmed), effective at once.
The console's cookie works here and nowhere in the API; a token works in the API and
nowhere here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.vendor_service.console.web import (
    PREFIX,
    NotAllowed,
    StaffUser,
    gettext,
    render,
    require_user,
    vendor_of,
)
from cssec.vendor_service.services.tokens import (
    SCOPES,
    CreatedToken,
    create_token,
    list_tokens,
    revoke_token,
)
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf, flash, redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
Csrf = Annotated[str, Form(max_length=128)]
PAGE = f"{PREFIX}/api-tokens"


def _admin(request: Request, user: StaffUser) -> None:
    if not user.is_admin:
        raise NotAllowed(
            gettext(
                request,
                "This action needs the admin role. Ask an administrator to do it, "
                "or to give your account the admin role.",
            )
        )


def _page(
    request: Request,
    user: StaffUser,
    *,
    form: Mapping[str, object] | None = None,
    error: str | None = None,
    created: CreatedToken | None = None,
    status_code: int = 200,
) -> Response:
    vendor = vendor_of(request)
    with vendor.session() as session:
        tokens = list_tokens(session)
    lang = "en" if current_language.get() == "en" else "ja"
    return render(
        request,
        "api_tokens.html",
        user=user,
        active="api-tokens",
        tokens=tokens,
        now=vendor.clock.now(),
        scopes=[(name, texts[lang]) for name, texts in SCOPES.items()],
        form=form or {"name": "", "scopes": [], "expires": ""},
        error=error,
        created=created,
        status_code=status_code,
    )


@router.get("/api-tokens")
def tokens_page(request: Request, user: User) -> Response:
    _admin(request, user)
    return _page(request, user)


@router.post("/api-tokens")
def create(  # noqa: PLR0917  (FastAPI maps each form field to a parameter)
    request: Request,
    user: User,
    name: Annotated[str, Form(max_length=64)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    expires: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Csrf = "",
) -> Response:
    _admin(request, user)
    check_csrf(request, csrf_token)
    chosen = [s for s in (scopes or []) if s in SCOPES]
    form = {"name": name, "scopes": chosen, "expires": expires}
    days = int(expires) if expires.strip().isdecimal() else None
    try:
        if expires.strip() and days is None:
            raise CssecError(
                gettext(request, "Give the expiry as a number of days, or leave it empty.")
            )
        with vendor_of(request).session() as session:
            made = create_token(
                session, name=name, scopes=chosen, expires_in_days=days, actor=user.actor
            )
    except CssecError as exc:
        return _page(
            request, user, form=form, error=exc.message(current_language.get()), status_code=422
        )
    return _page(request, user, created=made, status_code=201)


@router.post("/api-tokens/{name}/revoke")
def revoke(request: Request, user: User, name: str, csrf_token: Csrf = "") -> Response:
    _admin(request, user)
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        revoke_token(session, name, actor=user.actor)
    flash(request, "success", gettext(request, "API token %(name)s revoked.", name=name))
    return redirect(PAGE)
