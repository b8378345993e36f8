"""Rendering portal pages and knowing who is signed in (the pieces the console has too
come from `cssec.web.pages` and the console's own helpers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from cssec.core.errors import CssecError
from cssec.vendor_service.console.web import (
    fmt_date,
    fmt_datetime,
    product_name,
    state_label,
    vendor_of,
)
from cssec.vendor_service.services import formatted_code
from cssec.vendor_service.services.portal import PortalViewer, portal_viewer
from cssec.web.i18n import Catalogs
from cssec.web.pages import LoginRequired, pick, render_page, safe_next, template_loader

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
PREFIX = "/portal"
HOME = f"{PREFIX}/"
CONSOLE_STATIC = "/console/static"
"""The console's stylesheet: the portal has the same look."""

SESSION_ID = "sid"
SESSION_KEY = "sk"

__all__ = ["PREFIX", "PortalViewer", "current_viewer", "render", "require_viewer", "vendor_of"]


class PortalPageNotFound(CssecError):
    """No such page, or a contract this customer may not see; raised with the translated text."""

    code = "not_found"
    status = 404


def catalogs_of(request: Request) -> Catalogs:
    catalogs: Catalogs = request.app.state.portal_catalogs
    return catalogs


def gettext(request: Request, message: str, **params: Any) -> str:
    return catalogs_of(request).gettext(message, **params)


def not_found(request: Request) -> PortalPageNotFound:
    return PortalPageNotFound(
        gettext(request, "There is no such page. Go back to your contracts and try again.")
    )


def current_viewer(request: Request) -> PortalViewer | None:
    """The signed-in customer, or None (the session is cleared when it is over)."""
    sid = request.session.get(SESSION_ID)
    key = request.session.get(SESSION_KEY)
    if not isinstance(sid, int) or not isinstance(key, str):
        return None
    with vendor_of(request).session() as session:
        viewer = portal_viewer(session, sid, key)
    if viewer is None:
        request.session.clear()
        request.session["signed_out"] = "ended"
    return viewer


def require_viewer(request: Request) -> PortalViewer:
    viewer = current_viewer(request)
    if viewer is None:
        target = request.url.path if request.method == "GET" else HOME
        raise LoginRequired(target, login_path=HOME)
    return viewer


def next_page(url: str | None) -> str:
    return safe_next(url, default=HOME, within=HOME)


def build_environment(catalogs: Catalogs) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = catalogs.gettext
    env.globals["ngettext"] = catalogs.ngettext
    env.globals["product_name"] = product_name
    env.globals["state_label"] = state_label
    env.globals["pick"] = pick
    env.globals["prefix"] = PREFIX
    env.globals["console_static"] = CONSOLE_STATIC
    env.globals["language_action"] = f"{PREFIX}/language"
    env.globals["logout_action"] = f"{PREFIX}/signout"
    env.globals["formatted_code"] = formatted_code
    env.filters["dt"] = fmt_datetime
    env.filters["d"] = fmt_date
    return env


def render(
    request: Request, name: str, *, viewer: PortalViewer | None, **context: Any
) -> HTMLResponse:
    """A portal page; `context` may set `active`, `status_code` and `headers`."""
    env: jinja2.Environment = request.app.state.portal_templates
    return render_page(request, env, name, viewer=viewer, **context)
