"""The published protocol lists every webhook event a receiver can be sent: a receiver
written from docs/protocol.md §10 must not meet an event it has never heard of (the list
lacked component.rollout_halted)."""

from __future__ import annotations

import re
from pathlib import Path

from cssec.vendor_service.services.webhooks import EVENTS

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_section_10_lists_exactly_the_events_sent() -> None:
    section = PROTOCOL.read_text(encoding="utf-8").split("## 10.", 1)[1].split("\n## ", 1)[0]
    listed = section.split("Events:", 1)[1].split("`data`", 1)[0]
    assert sorted(re.findall(r"`([a-z_]+\.[a-z_]+)`", listed)) == sorted(EVENTS)
