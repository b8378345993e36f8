"""The customer portal (/portal/): a customer signs in with the contract's registration key
and that contract's own contact e-mail by a one-time link sent by mail, then sees that
contract and no other (a customer name grants nothing; a contact of several contracts
signs in to each with its key): its products,
activation codes, expiry and grace, seats and each server's reported usage, status
checks, the audit of what was done on the contract), takes the new activation code an
offline site needs after a renewal (audited as done by the customer), and prints or
downloads the license certificate.

The use cases are `cssec.vendor_service.services.portal`; the contract page reuses the
console's queries. Portal sessions are Starlette's signed cookie `cssec_portal` (path
/portal, a secret derived from the vendor's session secret, so no console cookie can
stand in for one) carrying a session key whose hash is on the sign-in row: signing out
or timing out ends the session in the database, and a copy of the cookie with it. Every
form carries the session's CSRF token. Same look and languages as the console.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.vendor_service.portal.web import PREFIX, WEB, current_viewer, gettext, install_pages
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.webkit import install_session

SESSION_COOKIE = WEB.cookie

__all__ = ["PREFIX", "error_page", "install_portal"]


def portal_secret(session_secret: str) -> str:
    """The portal cookie's signing secret, derived from (and never equal to) the console's."""
    return hmac.new(session_secret.encode(), b"cssec-portal-session", hashlib.sha256).hexdigest()


def install_portal(app: FastAPI, vendor: Vendor) -> None:
    """Mount the portal's routes, static files and session middleware (its error pages are
    `error_page`, which the app factory hands to `cssec.web.http.install_error_handlers`)."""
    from cssec.vendor_service.portal import license_file, pages, signin  # noqa: PLC0415

    install_pages(app)
    app.include_router(signin.router)
    app.include_router(pages.router)
    app.include_router(license_file.router)
    https_only = vendor.settings.console_https_only
    install_session(app, WEB, secret=portal_secret(vendor.session_secret), https_only=https_only)


_TITLES = {
    "csrf_failed": "Form expired",
    "not_found": "Not found",
    "rate_limited": "Too many requests",
}


def error_page(request: Request, exc: CssecError) -> Response:
    """A refusal under /portal as an HTML page in the request's language."""
    viewer = current_viewer(request) if exc.code != "csrf_failed" else None
    if viewer is not None:
        label = gettext(request, "Back to your contracts")
    else:
        label = gettext(request, "Back to the sign-in page")
    return WEB.refusal_page(request, exc, titles=_TITLES, back=(f"{PREFIX}/", label), viewer=viewer)
