"""Rendering Web manager pages: templates, the signed-in user, CSRF, flash messages,
banners. Every page is rendered from the database on each request (and sent no-store),
so what it shows is never stale and no restart is ever needed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from cssec.core.errors import CsrfFailed
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Operation, decide
from cssec.server.context import ServerContext
from cssec.server.licensing.view import read_licenses
from cssec.server.logs.events import LEVEL_LABELS
from cssec.server.models import User
from cssec.server.webmanager.banners import clock_banner, license_banner
from cssec.server.webmanager.nav import NAV
from cssec.web.i18n import Catalogs, current_language
from cssec.web.security import CSRF_FORM_FIELD, CSRF_SESSION_KEY, constant_time_equal, new_token

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"


def pick(value: dict[str, str] | None) -> str:
    """The current language's text of a bilingual {"ja", "en"} dict."""
    if not value:
        return ""
    return value.get(current_language.get()) or value.get("ja", "")


def build_templates(catalogs: Catalogs) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_"] = catalogs.gettext
    env.globals["ngettext"] = catalogs.ngettext
    env.globals["t"] = pick
    env.globals["nav"] = NAV
    env.globals["level_labels"] = {level.value: label for level, label in LEVEL_LABELS.items()}
    return Jinja2Templates(env=env)


def ctx_of(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.server
    return ctx


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = new_token()
        request.session[CSRF_SESSION_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not submitted:
        raise CsrfFailed()
    if not constant_time_equal(expected, submitted):
        raise CsrfFailed()


def flash(request: Request, level: str, message: dict[str, str]) -> None:
    messages = list(request.session.get("flash", []))
    messages.append({"level": level, "ja": message["ja"], "en": message["en"]})
    request.session["flash"] = messages[-5:]


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: 303 so a reload never re-submits."""
    return RedirectResponse(url, status_code=303)


def safe_next(url: str | None, default: str = "/dashboard") -> str:
    """Only same-site paths, so a login link cannot send the user elsewhere."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    return url


def local_time(ctx: ServerContext, value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M:%S")


def render(
    request: Request,
    name: str,
    *,
    user: User | None,
    active: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ctx = ctx_of(request)
    banners = []
    if user is not None:
        with ctx.sessionmaker() as session:
            licenses = read_licenses(session, now=ctx.clock.now(), tz=ctx.tz)
        cs = licenses.slot(Product.CS)
        view = decide(cs.state if cs else LicenseState.EXPIRED, Operation.WEBMANAGER_VIEW)
        view.raise_if_refused()
        banners = [b for b in [clock_banner(licenses.time)] if b is not None]
        banners += [b for b in (license_banner(s) for s in licenses.slots) if b is not None]
    flashes = request.session.pop("flash", [])
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "lang": current_language.get(),
            "csrf_field": CSRF_FORM_FIELD,
            "csrf_token": csrf_token(request),
            "flashes": flashes,
            "banners": banners,
            "active": active,
            "local_time": lambda v: local_time(ctx, v),
            **context,
        },
        status_code=status_code,
    )
    return response
