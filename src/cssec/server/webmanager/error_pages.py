"""The Web manager's error pages: a mistyped URL, a refusal or a fault in a browser reads as
a page in the reader's language, with the way back. JSON stays for the API (`/api/`, which
`cssec.web.http` never hands here) and for any caller that does not ask for HTML."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.server.models import User
from cssec.server.webmanager.deps import session_user
from cssec.server.webmanager.templating import render
from cssec.web.http import error_response
from cssec.web.i18n import current_language

TITLES = {
    "not_found": "Page not found",
    "forbidden": "Not allowed",
    "csrf_failed": "Form expired",
    "rate_limited": "Too many attempts",
    "method_not_allowed": "Not available",
    "internal_error": "Something went wrong",
    "service_unavailable": "Temporarily unavailable",
}
NOT_FOUND_TEXT = (
    "The page you asked for does not exist. Check the address, or start again from the menu."
)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, exc: CssecError) -> Response:
    """`exc` as an HTML page (its status kept), or as JSON for a caller that wants no HTML."""
    lang = current_language.get()
    if not wants_html(request):
        return error_response(exc, lang)
    user: User | None = None
    if exc.status < 500:  # a fault may be the database itself: no session lookup then
        user = session_user(request)
    retry_after = exc.fields.get("retry_after")
    return render(
        request,
        "error.html",
        user=user,
        status_code=exc.status,
        headers={"Retry-After": str(retry_after)} if retry_after else None,
        title=TITLES.get(exc.code, "Error"),
        message=exc.message(lang) if exc.code != "not_found" else None,
        message_id=NOT_FOUND_TEXT if exc.code == "not_found" else None,
    )
