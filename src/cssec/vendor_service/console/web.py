"""Rendering console pages: templates, the signed-in staff member, CSRF, flash messages.

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
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from cssec.core.errors import CsrfFailed
from cssec.core.license import PRODUCT_NAMES, STATE_LABELS, LicenseState, Product
from cssec.vendor_service.models import User
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import formatted_code
from cssec.web.i18n import Catalogs, current_language
from cssec.web.security import CSRF_FORM_FIELD, CSRF_SESSION_KEY, constant_time_equal, new_token

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"
PREFIX = "/console"

SESSION_USER = "uid"
SESSION_FINGERPRINT = "pwf"
SESSION_SEEN = "seen"
SESSION_FLASH = "flash"
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


class LoginRequired(Exception):
    """A page needs a signed-in user; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url

    @property
    def login_url(self) -> str:
        return f"{PREFIX}/login?next=" + quote(self.next_url, safe="/")


class Refusal(Exception):
    """An HTML error page: 403 (role, CSRF), 404, 429. `message` is already translated."""

    def __init__(self, status: int, title: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.retry_after = retry_after


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
        raise LoginRequired(target)
    return user


def require_permission(request: Request, user: StaffUser, action: str) -> None:
    if not user.may(action):
        raise Refusal(
            403,
            gettext(request, "Not allowed"),
            gettext(
                request,
                "This action needs the admin role. Ask an administrator to do it, "
                "or to give your account the admin role.",
            ),
        )


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = new_token()
        request.session[CSRF_SESSION_KEY] = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    if (
        not isinstance(expected, str)
        or not submitted
        or not constant_time_equal(expected, submitted)
    ):
        error = CsrfFailed()
        raise Refusal(403, gettext(request, "Form expired"), error.message(current_language.get()))


def flash(request: Request, level: str, message: str, *, code: str | None = None) -> None:
    """A one-time message on the next page; `code` is shown large, ready to copy."""
    messages = list(request.session.get(SESSION_FLASH, []))
    messages.append({"level": level, "message": message, "code": code})
    request.session[SESSION_FLASH] = messages[-5:]


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: 303, so a reload never submits twice."""
    return RedirectResponse(url, status_code=303)


def safe_next(url: str | None, default: str = f"{PREFIX}/") -> str:
    """Only console paths, so a crafted login link cannot send anyone elsewhere."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith(PREFIX + "/") or "\\" in url:
        return default
    return url


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


def pick(value: dict[str, str] | None) -> str:
    """The current language's half of a {"ja", "en"} pair."""
    if not value:
        return ""
    return value.get(current_language.get()) or value.get("ja", "")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def build_environment(catalogs: Catalogs) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
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
    env.globals["formatted_code"] = formatted_code
    env.filters["dt"] = fmt_datetime
    env.filters["d"] = fmt_date
    env.filters["pretty_json"] = to_json
    return env


def render(
    request: Request,
    name: str,
    *,
    user: StaffUser | None,
    active: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.console_templates
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = env.get_template(name).render(
        request=request,
        user=user,
        lang=current_language.get(),
        csrf_field=CSRF_FORM_FIELD,
        csrf_token=csrf_token(request),
        flashes=request.session.pop(SESSION_FLASH, []),
        active=active,
        here=path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)
