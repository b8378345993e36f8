"""Rendering console pages: templates, the signed-in staff member, roles and refusals
(CSRF, flash messages and the rest that the Web manager shares are in `cssec.web.pages`).

Every page is rendered from the database on each request and sent no-store (the app's
SecurityHeadersMiddleware), so nothing a support agent sees is stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from cssec.core.errors import CssecError
from cssec.vendor_service.console.audit_labels import action_label, field_label
from cssec.vendor_service.models import User
from cssec.vendor_service.services import two_factor
from cssec.vendor_service.webkit import WebApp, forget_session, product_name
from cssec.vendor_service.webkit import vendor_of as vendor_of  # noqa: PLC0414  (for mypy)
from cssec.web.i18n import Catalogs, current_language
from cssec.web.pages import LoginRequired
from cssec.web.security import constant_time_equal

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"
WEB = WebApp("console", HERE, logout_path="/logout", locale_dir=LOCALE_DIR)
PREFIX = WEB.prefix
HOME = WEB.home
"""The console in the page kit: its templates over the kit's layout, its catalogs."""

SESSION_USER = "uid"
SESSION_FINGERPRINT = "pwf"
SESSION_SEEN = "seen"
IDLE_SECONDS = 30 * 60
"""A session unused this long is signed out (the cookie itself lives at most 12 hours)."""

ADMIN_ACTIONS = frozenset({"contract.new", "contract.renew", "code.revoke"})
"""What only an admin may do: everything that changes what a customer is entitled to
(a new contract, a later end) or takes something away (revoking). Staff search, view,
inspect, read the audit log and reissue a code (which re-delivers the contract's current
end to an offline customer and extends nothing)."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"console:{self.name}"

    def may(self, action: str) -> bool:
        return self.is_admin or action not in ADMIN_ACTIONS


class NotAllowed(CssecError):
    """The signed-in user's role does not allow this; raised with the translated text."""

    code = "forbidden"
    status = 403


class PageNotFound(CssecError):
    """No such record; raised with the translated text."""

    code = "not_found"
    status = 404


def catalogs_of(request: Request) -> Catalogs:
    return WEB.catalogs(request)


def gettext(request: Request, message: str, **params: Any) -> str:
    return WEB.gettext(request, message, **params)


def session_fingerprint(user: User) -> str:
    """Stored in the session and checked on every request: changing the password signs
    every other session out, and so does logging out (it bumps `User.session_epoch`), which
    kills a copy of the cookie too; the signed cookie alone has no server-side state."""
    material = f"{user.session_epoch}:{user.password_hash}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def current_user(request: Request) -> StaffUser | None:
    """The signed-in staff member, or None (and the session is cleared when it went stale)."""
    uid = request.session.get(SESSION_USER)
    if not isinstance(uid, int):
        return None
    vendor = vendor_of(request)
    now = vendor.clock.now().timestamp()
    seen = request.session.get(SESSION_SEEN)
    if not isinstance(seen, (int, float)) or now - seen > IDLE_SECONDS:
        forget_session(request, "idle")
        return None
    with vendor.session() as session:
        user = session.scalar(select(User).where(User.id == uid))
        if user is None or not constant_time_equal(
            session_fingerprint(user),
            str(request.session.get(SESSION_FINGERPRINT, "")),
        ):
            forget_session(request, "changed")
            return None
        if two_factor.must_enrol(user, require_totp=vendor.settings.console_require_totp):
            # A password-only session from before the policy: the next login enrols.
            forget_session(request, "changed")
            return None
        found = StaffUser(id=user.id, name=user.name, role=user.role)
    request.session[SESSION_SEEN] = now
    return found


def require_user(request: Request) -> StaffUser:
    user = current_user(request)
    if user is None:
        target = request.url.path if request.method == "GET" else f"{PREFIX}/"
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        raise LoginRequired(target, login_path=f"{PREFIX}/login")
    return user


def require_permission(request: Request, user: StaffUser, action: str) -> None:
    if not user.may(action):
        raise NotAllowed(
            gettext(
                request,
                "This action needs the admin role. Ask an administrator to do it, "
                "or to give your account the admin role.",
            )
        )


def next_page(url: str | None) -> str:
    """Where a login or a language switch goes on: a console path, else the search page."""
    return WEB.next_page(url)


_ACTOR_KINDS: dict[str, tuple[str, str]] = {
    "cli": ("コマンドライン", "Command line"),
    "console": ("コンソール", "Console"),
    "token": ("管理APIのトークン", "Admin API token"),
    "api": ("API", "API"),
    "bulk": ("一括発行", "Bulk issue"),
    "portal": ("顧客ポータル", "Customer portal"),
    "customer": ("顧客ポータル", "Customer portal"),
    "server": ("サーバ", "Server"),
    "system": ("自動処理", "Automatic"),
}
_SYSTEM_TASKS: dict[str, tuple[str, str]] = {"rollout": ("段階配信", "staged rollout")}


def actor_label(actor: str) -> str:
    """Who did it, as a person reads it: `cli:root` → 「コマンドライン（root）」."""
    en = current_language.get() == "en"
    kind, _, name = actor.partition(":")
    if kind not in _ACTOR_KINDS:
        return actor
    label = _ACTOR_KINDS[kind][1 if en else 0]
    if kind == "system" and name in _SYSTEM_TASKS:
        name = _SYSTEM_TASKS[name][1 if en else 0]
    if not name:
        return label
    return f"{label} ({name})" if en else f"{label}（{name}）"


def readable(key: str, value: Any) -> Any:
    """An audit value with its product codes named (`products: CS DCS` read as names)."""
    if key in {"products", "product"}:
        if isinstance(value, str):
            return product_name(value)
        if isinstance(value, list | tuple):
            return [product_name(v) if isinstance(v, str) else v for v in value]
    if key == "codes" and isinstance(value, dict):
        return {product_name(k): v for k, v in value.items()}
    return value


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def install_pages(app: FastAPI) -> None:
    """The console's catalogs, templates and static files (`WebApp.install_pages`)."""
    WEB.install_pages(
        app,
        extra={
            "actor_label": actor_label,
            "action_label": action_label,
            "field_label": field_label,
            "readable": readable,
        },
        filters={"pretty_json": to_json},
    )


def render(request: Request, name: str, *, user: StaffUser | None, **context: Any) -> HTMLResponse:
    """A console page; `context` may set `active`, `status_code` and `headers`."""
    return WEB.render(request, name, user=user, **context)
