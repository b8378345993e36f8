"""The support-desk console (法人お問合せ窓口), server-rendered under /console/.

Pages: search by registration key, activation code or customer (`/console/`); a contract
with its products, codes, registered servers, status-check history and audit rows;
code inspection; the audit log with filters. Actions: new contract, renew, reissue a
code, revoke a code; each is confirmed (before → after) and written to the audit log by
its service, as ``console:<user name>``.

Roles (`web.ADMIN_ACTIONS`): **staff** search, view, inspect, read the audit log and
reissue a code (a replacement carries the contract's current end, so it re-delivers what
the customer already has); **admin** also issues contracts, renews them and revokes
codes, the actions that change what a customer is entitled to. Anything else gets 403.

Sessions are Starlette's signed cookie (the vendor's session secret, path /console,
SameSite=Lax, HTTPS-only when `console_https_only`), renewed on login, signed out after
30 idle minutes, a password change or a logout. The cookie carries a fingerprint of the
user's password hash and `User.session_epoch`, checked against the database on every
request; logout bumps the epoch, so a copy of the cookie stops working too (and the
user's sessions in other browsers end with it), and so do enrolling and removing a second
factor (`services.two_factor`). While `console_require_totp` is on (the default), a user
without a second factor has no session at all: the password leads to enrolment only.
Every form carries the session's CSRF token.
"""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.vendor_service.console.web import PREFIX, WEB, current_user, gettext, install_pages
from cssec.vendor_service.models import LOGIN_THROTTLE
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.webkit import install_session
from cssec.web.lockout_db import DbLoginThrottle

log = logging.getLogger(__name__)
SESSION_COOKIE = WEB.cookie

__all__ = ["PREFIX", "error_page", "install_console"]

_TITLES = {
    "csrf_failed": "Form expired",
    "forbidden": "Not allowed",
    "not_found": "Not found",
    "rate_limited": "Too many attempts",
    "method_not_allowed": "Not available",
    "internal_error": "Something went wrong",
    "service_unavailable": "Temporarily unavailable",
}


def install_console(app: FastAPI, vendor: Vendor) -> None:
    """Mount the console's routes, static files and session middleware (its error pages are
    `error_page`, which the app factory hands to `cssec.web.http.install_error_handlers`)."""
    from cssec.vendor_service.console import (  # noqa: PLC0415
        actions,
        auth,
        contact,
        offline_renewal,
        pages,
        rollouts,
        second_factor,
        tokens,
        usage,
        webhooks,
    )

    if not vendor.settings.console_require_totp:
        warn_totp_off()
    install_pages(app)
    # In the database: every worker counts the same failures, and a restart keeps them.
    app.state.console_logins = DbLoginThrottle(vendor.engine, LOGIN_THROTTLE, scope="console")
    app.state.console_second_factors = DbLoginThrottle(  # second_factor.CODE_BACKOFF
        vendor.engine, LOGIN_THROTTLE, scope="console-2fa"
    )
    app.include_router(auth.router)
    app.include_router(second_factor.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(contact.router)
    app.include_router(offline_renewal.router)
    app.include_router(usage.router)
    app.include_router(webhooks.router)
    app.include_router(tokens.router)
    app.include_router(rollouts.router)
    https_only = vendor.settings.console_https_only
    install_session(app, WEB, secret=vendor.session_secret, https_only=https_only)


TOTP_OFF_WARNING = (
    "CSSEC_VENDOR_CONSOLE_REQUIRE_TOTP is off: console staff, admins included, sign in with "
    "a password alone. Turn it back on (unset it) unless another factor guards the console. / "
    "CSSEC_VENDOR_CONSOLE_REQUIRE_TOTPがオフです。管理者を含むコンソールのスタッフがパスワード"
    "だけでログインできます。別の認証でコンソールを守っていない限り、オンに戻してください"
    " (設定を削除)。"
)


def warn_totp_off() -> None:
    """The opt-out, said at start: in the log, and on stderr when the log goes elsewhere
    (without a handler, logging's last resort already writes it to stderr)."""
    log.warning(TOTP_OFF_WARNING)
    if log.hasHandlers():
        print(f"warning: {TOTP_OFF_WARNING}", file=sys.stderr)  # noqa: T201


def error_page(request: Request, exc: CssecError) -> Response:
    """A refusal under /console as an HTML page in the request's language (403 role or
    CSRF, 404, 429 with Retry-After, and any other CssecError with its own status)."""
    user = current_user(request)
    if user is not None:
        back = (f"{PREFIX}/", gettext(request, "Back to search"))
    else:
        back = (f"{PREFIX}/login", gettext(request, "Go to the login page"))
    return WEB.refusal_page(request, exc, titles=_TITLES, back=back, user=user)
