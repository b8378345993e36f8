"""Reports to the server that must not be lost when it is unreachable.

A report the server cannot take right now (unreachable, overloaded, token to be renewed)
goes to the outbox and is sent, in order, before anything new the next time the client
talks to the server. A report the server refuses for good (a 4xx about its content) is
dropped: sending it again could never succeed.
"""

from __future__ import annotations

from typing import Any, Literal

from cssec.client.agent import AgentClient, is_transient
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.errors import CssecError

REPORT_ENDPOINTS = frozenset(
    {"virus-log", "update-result", "cleanup-result", "outbreak-policy/applied"}
)
Delivery = Literal["sent", "queued", "dropped"]


def flush_outbox(state: ClientState, agent: AgentClient) -> CssecError | None:
    """Send queued reports oldest first; stop at the first transient failure.

    Returns that failure (the server is still unreachable), or None when the outbox is
    empty afterwards. Expects `state.lock()` held.
    """
    entries = state.load_outbox()
    remaining = list(entries)
    failure: CssecError | None = None
    for entry in entries:
        endpoint, body = entry.get("endpoint"), entry.get("body")
        if endpoint in REPORT_ENDPOINTS and isinstance(body, dict):
            try:
                agent.post(str(endpoint), body)
            except CssecError as exc:
                if is_transient(exc):
                    failure = exc
                    break
        remaining.pop(0)
    if remaining != entries:
        state.save_outbox(remaining)
    return failure


def send_or_queue(
    state: ClientState,
    agent: AgentClient,
    endpoint: str,
    body: dict[str, Any],
    *,
    clock: Clock,
) -> tuple[Delivery, CssecError | None]:
    """Flush the outbox, then send `body`; queue it if the server cannot take it now."""
    if endpoint not in REPORT_ENDPOINTS:
        raise ValueError(f"not a report endpoint: {endpoint}")
    failure = flush_outbox(state, agent)
    if failure is None:
        try:
            agent.post(endpoint, body)
        except CssecError as exc:
            if not is_transient(exc):
                return "dropped", exc
            failure = exc
        else:
            return "sent", None
    state.queue_report(endpoint, body, queued_at=clock.now())
    return "queued", failure
