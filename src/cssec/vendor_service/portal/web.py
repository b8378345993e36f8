"""Rendering portal pages and knowing who is signed in (the layout, macros, formats and
session handling the console has too come from the page kit, `cssec.vendor_service.webkit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from cssec.core.errors import CssecError
from cssec.vendor_service.services.portal import PortalViewer, portal_viewer
from cssec.vendor_service.webkit import WebApp, forget_session, vendor_of
from cssec.web.pages import LoginRequired

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
WEB = WebApp("portal", HERE, logout_path="/signout")
PREFIX = WEB.prefix
HOME = WEB.home
"""The portal in the page kit: its templates over the kit's layout, its catalogs."""

SESSION_ID = "sid"
SESSION_KEY = "sk"

__all__ = ["PREFIX", "PortalViewer", "current_viewer", "render", "require_viewer", "vendor_of"]


class PortalPageNotFound(CssecError):
    """No such page, or a contract this customer may not see; raised with the translated text."""

    code = "not_found"
    status = 404


def gettext(request: Request, message: str, **params: Any) -> str:
    return WEB.gettext(request, message, **params)


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
        forget_session(request, "ended")
    return viewer


def require_viewer(request: Request) -> PortalViewer:
    viewer = current_viewer(request)
    if viewer is None:
        target = request.url.path if request.method == "GET" else HOME
        raise LoginRequired(target, login_path=HOME)
    return viewer


def next_page(url: str | None) -> str:
    return WEB.next_page(url)


def install_pages(app: FastAPI) -> None:
    """The portal's catalogs, templates and static files (`WebApp.install_pages`)."""
    WEB.install_pages(app)


def render(
    request: Request, name: str, *, viewer: PortalViewer | None, **context: Any
) -> HTMLResponse:
    """A portal page; `context` may set `active`, `status_code` and `headers`."""
    return WEB.render(request, name, viewer=viewer, **context)
