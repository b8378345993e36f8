"""Webhooks and the delivery log in the console: admins only (reading included, since the
log shows where the vendor's events go and what the endpoints answered).

`/console/webhooks`: the endpoints (URL, events, the secret's fingerprint: the secret
itself is write-only), a form to add one and a button to remove one. `/console/deliveries`:
the outbox, newest first, with each message's status, attempts and last HTTP (or SMTP)
status; `/console/deliveries/{id}`: its delivery log (every attempt with its status code
and duration) and a manual redeliver. Every form carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.vendor_service import services
from cssec.vendor_service.console.web import (
    PREFIX,
    NotAllowed,
    PageNotFound,
    StaffUser,
    gettext,
    render,
    require_user,
    vendor_of,
)
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.services.outbox import (
    CANCELLED,
    DELIVERED,
    FAILED,
    PENDING,
    message_attempts,
)
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf, flash, redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
Csrf = Annotated[str, Form(max_length=128)]
STATUSES = (PENDING, DELIVERED, FAILED, CANCELLED)


def _admin(request: Request, user: StaffUser) -> None:
    if not user.is_admin:
        raise NotAllowed(
            gettext(
                request,
                "This action needs the admin role. Ask an administrator to do it, "
                "or to give your account the admin role.",
            )
        )


def _endpoints_page(
    request: Request,
    user: StaffUser,
    *,
    form: Mapping[str, object] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with vendor_of(request).session() as session:
        endpoints = services.list_webhook_endpoints(session)
    return render(
        request,
        "webhooks.html",
        user=user,
        active="webhooks",
        endpoints=endpoints,
        events=services.WEBHOOK_EVENTS,
        form=form or {"url": "", "events": [], "description": ""},
        error=error,
        status_code=status_code,
    )


@router.get("/webhooks")
def webhooks(request: Request, user: User) -> Response:
    _admin(request, user)
    return _endpoints_page(request, user)


@router.post("/webhooks")
def add_webhook(  # noqa: PLR0917  (FastAPI maps each form field to a parameter)
    request: Request,
    user: User,
    url: Annotated[str, Form(max_length=2000)] = "",
    secret: Annotated[str, Form(max_length=200)] = "",
    events: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Csrf = "",
) -> Response:
    _admin(request, user)
    check_csrf(request, csrf_token)
    chosen = [e for e in (events or []) if e in services.WEBHOOK_EVENTS]
    try:
        with vendor_of(request).session() as session:
            view = services.add_webhook_endpoint(
                session,
                url=url,
                secret=secret,
                events=chosen,
                description=description,
                actor=user.actor,
            )
    except CssecError as exc:
        # The secret is never sent back, not even into the form it was typed in.
        form = {"url": url, "events": chosen, "description": description}
        return _endpoints_page(
            request,
            user,
            form=form,
            error=exc.message(current_language.get()),
            status_code=422,
        )
    flash(
        request,
        "success",
        gettext(request, "Webhook endpoint #%(id)s added: %(url)s", id=view.id, url=view.url),
    )
    return redirect(f"{PREFIX}/webhooks")


@router.post("/webhooks/{endpoint_id:int}/remove")
def remove_webhook(
    request: Request, user: User, endpoint_id: int, csrf_token: Csrf = ""
) -> Response:
    _admin(request, user)
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        cancelled = services.remove_webhook_endpoint(session, endpoint_id, actor=user.actor)
    flash(
        request,
        "success",
        gettext(
            request,
            "Webhook endpoint #%(id)s removed; %(count)s undelivered messages cancelled.",
            id=endpoint_id,
            count=cancelled,
        ),
    )
    return redirect(f"{PREFIX}/webhooks")


@router.get("/deliveries")
def deliveries(
    request: Request,
    user: User,
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    _admin(request, user)
    chosen = status if status in STATUSES else ""
    with vendor_of(request).session() as session:
        messages = services.list_messages(session, status=chosen or None, limit=200)
        return render(
            request,
            "deliveries.html",
            user=user,
            active="webhooks",
            messages=messages,
            statuses=STATUSES,
            status=chosen,
        )


def _message(request: Request, session: Session, outbox_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise PageNotFound(
            gettext(request, "There is no such page or record. Search again from the search page.")
        )
    return row


@router.get("/deliveries/{outbox_id:int}")
def delivery(request: Request, user: User, outbox_id: int) -> Response:
    _admin(request, user)
    with vendor_of(request).session() as session:
        row = _message(request, session, outbox_id)
        return render(
            request,
            "delivery.html",
            user=user,
            active="webhooks",
            message=row,
            attempts=message_attempts(session, row.id),
            payload=row.payload if row.channel == "webhook" else None,
        )


@router.post("/deliveries/{outbox_id:int}/redeliver")
def redeliver(request: Request, user: User, outbox_id: int, csrf_token: Csrf = "") -> Response:
    _admin(request, user)
    check_csrf(request, csrf_token)
    with vendor_of(request).session() as session:
        _message(request, session, outbox_id)
        services.redeliver_message(session, outbox_id, actor=user.actor)
    flash(
        request,
        "success",
        gettext(
            request,
            "Message #%(id)s queued again; it is sent within a minute and the result "
            "appears in its delivery log.",
            id=outbox_id,
        ),
    )
    return redirect(f"{PREFIX}/deliveries/{outbox_id}")
