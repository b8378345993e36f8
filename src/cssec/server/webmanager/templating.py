"""Rendering Web manager pages: templates, banners, the server context (CSRF, flash
messages and the rest that the console shares are in `cssec.web.pages`). Every page is
rendered from the database on each request (and sent no-store), so what it shows is
never stale and no restart is ever needed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cssec.core.license import Product
from cssec.core.policy import Operation, decide
from cssec.server.context import ServerContext
from cssec.server.licensing.state import cs_license_state
from cssec.server.licensing.view import read_licenses
from cssec.server.logs.events import LEVEL_LABELS
from cssec.server.logs.labels import (
    component_label,
    connection_failed,
    connection_result_label,
    error_label,
    event_kind_label,
    group_label,
    request_label,
)
from cssec.server.models import User
from cssec.server.updates.tuf_mirror import stale_since
from cssec.server.webmanager.banners import (
    clock_banner,
    components_stale_banner,
    license_banner,
    seats_banner,
)
from cssec.server.webmanager.nav import NAV
from cssec.web.i18n import Catalogs
from cssec.web.pages import (
    check_csrf,
    flash,
    pick,
    redirect,
    render_page,
    safe_next,
    template_loader,
)

__all__ = [  # check_csrf, flash and redirect: what the page modules import from here
    "HERE",
    "LOCALE_DIR",
    "build_templates",
    "check_csrf",
    "ctx_of",
    "flash",
    "local_time",
    "next_page",
    "redirect",
    "render",
]

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"


def build_templates(catalogs: Catalogs) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=template_loader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["_"] = catalogs.gettext
    env.globals["ngettext"] = catalogs.ngettext
    env.globals["t"] = pick
    env.globals["nav"] = NAV
    env.globals["language_action"] = "/language"
    env.globals["logout_action"] = "/logout"
    env.globals["level_labels"] = {level.value: label for level, label in LEVEL_LABELS.items()}
    env.globals["event_kind_label"] = event_kind_label
    env.globals["error_label"] = error_label
    env.globals["group_label"] = group_label
    env.globals["request_label"] = request_label
    env.globals["connection_result_label"] = connection_result_label
    env.globals["connection_failed"] = connection_failed
    env.globals["component_label"] = component_label
    return Jinja2Templates(env=env)


def ctx_of(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.server
    return ctx


def next_page(url: str | None) -> str:
    """Where a login or a language switch goes on: a path of this site, else the dashboard."""
    return safe_next(url, default="/dashboard")


def local_time(ctx: ServerContext, value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M:%S")


def render(request: Request, name: str, *, user: User | None, **context: Any) -> HTMLResponse:
    """A Web manager page with its banners; `context` may set `active` and `status_code`."""
    ctx = ctx_of(request)
    banners = []
    if user is not None:
        with ctx.sessionmaker() as session:
            now = ctx.clock.now()
            window = ctx.settings.seat_window_days
            licenses = read_licenses(session, now=now, tz=ctx.tz, seat_window_days=window)
            state = cs_license_state(session, now=now, tz=ctx.tz)
        decide(Product.CS, state, Operation.WEBMANAGER_VIEW).raise_if_refused()
        banners = [b for b in [clock_banner(licenses.time)] if b is not None]
        banners += [b for b in (license_banner(s) for s in licenses.slots) if b is not None]
        banners += [b for b in (seats_banner(s, window) for s in licenses.slots) if b]
        stale = components_stale_banner(stale_since(ctx.data.root), now, ctx.tz)
        banners += [stale] if stale is not None else []
    templates: Jinja2Templates = request.app.state.templates
    return render_page(
        request,
        templates.env,
        name,
        user=user,
        banners=banners,
        local_time=lambda v: local_time(ctx, v),
        **context,
    )
