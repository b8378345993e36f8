"""What the support-desk console and the Web manager do alike on a server-rendered page:
CSRF tokens, flash messages, POST-redirect-GET, the login redirect, the `next` check, the
language cookie and the template values every page gets."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cssec.core.errors import CsrfFailed
from cssec.web.i18n import LANG_COOKIE, current_language
from cssec.web.security import CSRF_FORM_FIELD, CSRF_SESSION_KEY, constant_time_equal, new_token

SHARED_TEMPLATES = Path(__file__).parent / "templates"
"""Templates both apps include: `_language_switch.html`, `_logout.html`."""
SESSION_FLASH = "flash"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
_MAX_FLASHES = 5


class LoginRequired(Exception):
    """A page needs a signed-in user; `cssec.web.http` answers with a 303 to the login page,
    which comes back to `next_url` afterwards."""

    def __init__(self, next_url: str, *, login_path: str = "/login") -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.login_path = login_path

    @property
    def login_url(self) -> str:
        return f"{self.login_path}?next=" + quote(self.next_url, safe="/")


def pick(value: Mapping[str, str] | None) -> str:
    """The current language's text of a bilingual {"ja", "en"} dict (Japanese if missing)."""
    if not value:
        return ""
    return value.get(current_language.get()) or value.get("ja", "")


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = new_token()
        request.session[CSRF_SESSION_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """CsrfFailed unless `submitted` is the session's token (compared in constant time)."""
    expected = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not submitted:
        raise CsrfFailed()
    if not constant_time_equal(expected, submitted):
        raise CsrfFailed()


def flash(
    request: Request, level: str, message: str | Mapping[str, str], *, code: str | None = None
) -> None:
    """A one-time message on the next page: already translated (`message`), or in both
    languages (`ja`, `en`); `code` is shown large, ready to copy."""
    entry: dict[str, Any] = {"level": level, "code": code}
    if isinstance(message, str):
        entry["message"] = message
    else:
        entry.update(ja=message["ja"], en=message["en"])
    messages = list(request.session.get(SESSION_FLASH, []))
    messages.append(entry)
    request.session[SESSION_FLASH] = messages[-_MAX_FLASHES:]


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: 303, so a reload never submits twice."""
    return RedirectResponse(url, status_code=303)


def safe_next(url: str | None, *, default: str, within: str = "/") -> str:
    """`url` when it is a path of this site under `within`, else `default`, so a crafted
    login link cannot send anyone elsewhere. Refused: schemes and hosts, `//` (another
    host to a browser), backslashes (`/\\evil.example` is one too) and control characters
    (which urlsplit and browsers drop, joining what they separated)."""
    if not url or not url.startswith(within) or url.startswith("//") or "\\" in url:
        return default
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return default
    return url


def set_language_cookie(response: Response, lang: str, *, secure: bool) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def template_loader(own: Path) -> jinja2.BaseLoader:
    """An app's own templates first, then the shared ones."""
    return jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(own), jinja2.FileSystemLoader(SHARED_TEMPLATES)]
    )


def page_values(request: Request) -> dict[str, Any]:
    """What every page's template gets: the language, this page's path (where the language
    switch comes back to), the CSRF field and token, and the flash messages (taken from the
    session: each is shown once)."""
    query = request.url.query
    return {
        "request": request,
        "lang": current_language.get(),
        "here": request.url.path + (f"?{query}" if query else ""),
        "csrf_field": CSRF_FORM_FIELD,
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop(SESSION_FLASH, []),
    }


def render_page(
    request: Request,
    env: jinja2.Environment,
    name: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Template `name` with `page_values` and `context` (`active`, the menu entry to
    highlight, defaults to none)."""
    context.setdefault("active", "")
    html = env.get_template(name).render(**page_values(request), **context)
    return HTMLResponse(html, status_code=status_code, headers=headers)
