"""The page kit of the vendor's two web apps, the support-desk console (/console) and the
customer portal (/portal): one layout (`templates/layout.html`: skip link, header with
the app's menu and tools, the language switch, flash messages, footer), shared macros
(form fields with their errors, badges, the contract's summary, codes, seat usage and
status-check tables), one stylesheet (`static/kit.css`) and one session module (signed
cookie, CSRF token, sign-in and sign-out, the language choice).

Each app declares itself as a `WebApp` and keeps only what differs: its menu, its pages,
its texts and what its session means.
"""

from __future__ import annotations

from cssec.vendor_service.webkit.pages import (
    KIT_STATIC,
    KIT_TEMPLATES,
    WebApp,
    fmt_date,
    fmt_datetime,
    product_name,
    state_label,
    template_loader,
    vendor_of,
)
from cssec.vendor_service.webkit.session import (
    SESSION_MAX_AGE,
    CsrfToken,
    PathSessionMiddleware,
    add_language_route,
    check_csrf,
    close_session,
    ended_because,
    forget_session,
    install_session,
    start_session,
)

__all__ = [
    "KIT_STATIC",
    "KIT_TEMPLATES",
    "SESSION_MAX_AGE",
    "CsrfToken",
    "PathSessionMiddleware",
    "WebApp",
    "add_language_route",
    "check_csrf",
    "close_session",
    "ended_because",
    "fmt_date",
    "fmt_datetime",
    "forget_session",
    "install_session",
    "product_name",
    "start_session",
    "state_label",
    "template_loader",
    "vendor_of",
]
