"""Web manager form posts, answered the same way everywhere: check the CSRF token, run the
service, flash what happened, and redirect (POST-redirect-GET, so a reload never repeats
the action). A refusal (a failed CSRF check first, then whatever the service refuses) is
flashed in both languages and sends the user back to the form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.core.license import LicenseState
from cssec.server.licensing.state import cs_license_state
from cssec.server.webmanager.templating import check_csrf, ctx_of, flash, redirect

T = TypeVar("T")
Message = dict[str, str]


def both(error: CssecError) -> Message:
    """A refusal's message in both UI languages, as `flash` takes it."""
    return {"ja": error.message("ja"), "en": error.message("en")}


def refuse(request: Request, error: CssecError, back: str) -> RedirectResponse:
    flash(request, "danger", both(error))
    return redirect(back)


def csrf_refusal(request: Request, submitted: str, back: str) -> RedirectResponse | None:
    """The redirect back to the form when the CSRF token does not match; None when it does."""
    try:
        check_csrf(request, submitted)
    except CssecError as exc:
        return refuse(request, exc, back)
    return None


@dataclass(frozen=True)
class FormScope:
    """What a form action runs in: its own session and the clock read once for the post."""

    session: Session
    now: datetime
    tz: tzinfo

    def cs_state(self) -> LicenseState:
        return cs_license_state(self.session, now=self.now, tz=self.tz)


def form_action(
    request: Request,
    csrf_token: str,
    action: Callable[[FormScope], T],
    *,
    done: Callable[[T], Message],
    back: str,
    then: str | None = None,
) -> RedirectResponse:
    """Run `action` after the CSRF check; flash `done(result)` and go to `then` (default:
    `back`), or flash the refusal and go `back`."""
    ctx = ctx_of(request)
    try:
        check_csrf(request, csrf_token)
        now = ctx.clock.now()
        with ctx.sessionmaker() as session:
            result = action(FormScope(session, now, ctx.tz))
    except CssecError as exc:
        return refuse(request, exc, back)
    flash(request, "success", done(result))
    return redirect(then or back)
