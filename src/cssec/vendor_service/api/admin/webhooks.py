"""Webhooks: add, list, remove an endpoint; list the deliveries and redeliver one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cssec.vendor_service import services
from cssec.vendor_service.api.admin.conventions import (
    IdempotencyKey,
    IdPath,
    Paging,
    documented,
    idempotent,
    linked,
    newest_first,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import (
    DeliveryOut,
    Page,
    WebhookIn,
    WebhookOut,
    WebhookRemovedOut,
)
from cssec.vendor_service.models import OutboxMessage
from cssec.vendor_service.services._context import read_transaction
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: webhooks"])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookOut,
    summary="Add a webhook endpoint",
    description="Events posted to URL, signed as Standard Webhooks says with the secret "
    "(write-only: never shown again). Events: " + ", ".join(services.WEBHOOK_EVENTS) + ".",
    responses={**documented(), **linked(201, remove={"endpoint_id": "$response.body#/id"})},
)
def add(
    body: WebhookIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("webhooks:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> tuple[int, WebhookOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            view = services.add_webhook_endpoint(
                session,
                url=body.url,
                secret=body.secret,
                events=body.events,
                description=body.description,
                actor=principal.actor,
            )
        return 201, WebhookOut.model_validate(view), {"Location": f"{request.url.path}/{view.id}"}

    return idempotent(request, principal, idempotency_key, body, work)


@router.get(
    "/webhooks",
    response_model=Page[WebhookOut],
    summary="List webhook endpoints",
    description="Oldest first.",
    responses=documented(),
)
def list_endpoints(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("webhooks:read"))],
    paging: Paging,
) -> Page[WebhookOut]:
    after = paging.after_id()
    with vendor_of(request).session() as session, read_transaction(session):
        views = [v for v in services.list_webhook_endpoints(session) if v.id > after]
    return Page[WebhookOut].of(views, paging, WebhookOut.model_validate)


@router.delete(
    "/webhooks/{endpoint_id}",
    response_model=WebhookRemovedOut,
    summary="Remove a webhook endpoint",
    description="Its secret is erased and its undelivered messages cancelled (their log "
    "stays). Audited as webhook.removed.",
    responses=documented(),
)
def remove(
    endpoint_id: IdPath,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("webhooks:write"))],
) -> WebhookRemovedOut:
    with vendor_of(request).session() as session:
        cancelled = services.remove_webhook_endpoint(session, endpoint_id, actor=principal.actor)
    return WebhookRemovedOut(id=endpoint_id, cancelled_messages=cancelled)


@router.get(
    "/webhook-deliveries",
    response_model=Page[DeliveryOut],
    summary="List outgoing messages (the delivery log)",
    description="Newest first, optionally one status.",
    responses=documented(),
)
def deliveries(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("webhooks:read"))],
    paging: Paging,
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
) -> Page[DeliveryOut]:
    query = newest_first(OutboxMessage, paging)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with vendor_of(request).session() as session, read_transaction(session):
        rows = list(session.scalars(query))
    return Page[DeliveryOut].of(rows, paging, DeliveryOut.model_validate)


@router.post(
    "/webhook-deliveries/{outbox_id}/redeliver",
    response_model=DeliveryOut,
    summary="Redeliver a message",
    description="Back in the queue, due now, with a full set of retries (same webhook-id, so "
    "receivers deduplicate). Audited as outbox.redelivered.",
    responses=documented(),
)
def redeliver(
    outbox_id: IdPath,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("webhooks:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    def work() -> tuple[int, DeliveryOut, dict[str, str]]:
        with vendor_of(request).session() as session:
            if session.get(OutboxMessage, outbox_id) is None:
                raise not_found("配信メッセージ", "outgoing message", f"#{outbox_id}")
            row = services.redeliver_message(session, outbox_id, actor=principal.actor)
            return 200, DeliveryOut.model_validate(row), {}

    return idempotent(request, principal, idempotency_key, None, work)
