"""Liveness and readiness, the same on both web apps: `GET /healthz` and `GET /readyz`.

`/healthz` answers from memory (no database, no file): the process is alive and its event
loop turns. A supervisor restarts a process whose `/healthz` stops answering.

`/readyz` runs the app's `ReadinessCheck`s (the database answers, the keys are loaded) in
the thread pool and answers 200 `{"status": "ready", "checks": {name: "ok"}}`, or 503 with
the documented error body, code `not_ready`, and each check's outcome ("ok" / "failed").
A load balancer stops sending traffic to a process that is not ready. What failed is
logged with its cause; the answer names only the check, never an exception text or a
path, because both endpoints are open to anyone who can reach the port.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cssec.core.errors import CssecError
from cssec.web.i18n import current_language

log = logging.getLogger(__name__)

HEALTH_TAG = "health"


class NotReady(CssecError):
    code = "not_ready"
    status = 503
    message_ja = (
        "サービスはまだ要求を受け付けられません (確認に失敗した項目: {failed})。"
        "サービスのログで原因を確認してください。"
    )
    message_en = (
        "The service cannot take requests yet (checks that failed: {failed}). "
        "See the service's log for the cause."
    )


@dataclass(frozen=True)
class ReadinessCheck:
    """One condition of readiness: `probe` returns when it holds and raises otherwise."""

    name: str
    probe: Callable[[], None]


def run_checks(checks: Sequence[ReadinessCheck]) -> dict[str, str]:
    """Each check's outcome, "ok" or "failed" (the cause logged)."""
    outcome: dict[str, str] = {}
    for check in checks:
        try:
            check.probe()
        except Exception:  # any failure means "not ready"; the log keeps the cause
            log.warning("readiness check %s failed", check.name, exc_info=True)
            outcome[check.name] = "failed"
        else:
            outcome[check.name] = "ok"
    return outcome


def health_router(checks: Sequence[ReadinessCheck], *, include_in_schema: bool = True) -> APIRouter:
    """`/healthz` and `/readyz` for an app whose readiness is `checks` (in its OpenAPI
    document unless `include_in_schema` is False)."""
    router = APIRouter(tags=[HEALTH_TAG], include_in_schema=include_in_schema)

    @router.get("/healthz", summary="Liveness (no I/O)")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.get(
        "/readyz",
        summary="Readiness: the database answers and the keys are loaded",
        responses={503: {"description": "Not ready: `code` is `not_ready`."}},
    )
    async def readyz() -> JSONResponse:
        outcome = await anyio.to_thread.run_sync(run_checks, checks)
        failed = [name for name, result in outcome.items() if result != "ok"]
        if not failed:
            return JSONResponse({"status": "ready", "checks": outcome})
        error = NotReady(failed=", ".join(failed))
        body = {**error.to_dict(current_language.get()), "checks": outcome}
        return JSONResponse(body, status_code=error.status)

    return router


__all__ = ["HEALTH_TAG", "NotReady", "ReadinessCheck", "health_router", "run_checks"]
