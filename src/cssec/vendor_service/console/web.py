"""Rendering console pages: templates, the signed-in staff member, roles and refusals
(CSRF, flash messages and the rest that the Web manager shares are in `cssec.web.pages`).

Every page is rendered from the database on each request and sent no-store (the app's
SecurityHeadersMiddleware), so nothing a support agent sees is stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from cssec.core.errors import CssecError
from cssec.core.license import PRODUCT_NAMES, STATE_LABELS, LicenseState, Product
from cssec.vendor_service.models import User
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import formatted_code, two_factor
from cssec.web.i18n import Catalogs, current_language
from cssec.web.pages import LoginRequired, pick, render_page, safe_next, template_loader
from cssec.web.security import constant_time_equal

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"
PREFIX = "/console"
HOME = f"{PREFIX}/"

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


def vendor_of(request: Request) -> Vendor:
    vendor: Vendor = request.app.state.vendor
    return vendor


def catalogs_of(request: Request) -> Catalogs:
    catalogs: Catalogs = request.app.state.console_catalogs
    return catalogs


def gettext(request: Request, message: str, **params: Any) -> str:
    return catalogs_of(request).gettext(message, **params)


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
        _sign_out(request, "idle")
        return None
    with vendor.session() as session:
        user = session.scalar(select(User).where(User.id == uid))
        if user is None or not constant_time_equal(
            session_fingerprint(user),
            str(request.session.get(SESSION_FINGERPRINT, "")),
        ):
            _sign_out(request, "changed")
            return None
        if two_factor.must_enrol(user, require_totp=vendor.settings.console_require_totp):
            # A password-only session from before the policy: the next login enrols.
            _sign_out(request, "changed")
            return None
        found = StaffUser(id=user.id, name=user.name, role=user.role)
    request.session[SESSION_SEEN] = now
    return found


def _sign_out(request: Request, why: str) -> None:
    request.session.clear()
    request.session["signed_out"] = why


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
    return safe_next(url, default=HOME, within=HOME)


def fmt_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value is not None else "-"


def product_name(code: str) -> str:
    try:
        names = PRODUCT_NAMES[Product(code)]
    except ValueError:
        return code
    return names["en" if current_language.get() == "en" else "ja"]


def state_label(state: str) -> str:
    try:
        labels = STATE_LABELS[LicenseState(state)]
    except ValueError:
        return state
    return labels["en" if current_language.get() == "en" else "ja"]


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
    env.globals["actor_label"] = actor_label
    env.globals["readable"] = readable
    env.globals["pick"] = pick
    env.globals["prefix"] = PREFIX
    env.globals["language_action"] = f"{PREFIX}/language"
    env.globals["logout_action"] = f"{PREFIX}/logout"
    env.globals["formatted_code"] = formatted_code
    env.filters["dt"] = fmt_datetime
    env.filters["d"] = fmt_date
    env.filters["pretty_json"] = to_json
    return env


def render(request: Request, name: str, *, user: StaffUser | None, **context: Any) -> HTMLResponse:
    """A console page; `context` may set `active`, `status_code` and `headers`."""
    env: jinja2.Environment = request.app.state.console_templates
    return render_page(request, env, name, user=user, **context)
