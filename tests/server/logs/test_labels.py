"""Every event kind the server writes has a label in both languages; nothing raw on screen."""

from __future__ import annotations

import re
from pathlib import Path

import cssec.server
from cssec.server.logs.labels import (
    EVENT_KIND_LABELS,
    REQUEST_LABELS,
    component_label,
    connection_result_label,
    error_label,
    event_kind_label,
    group_label,
    request_label,
)
from cssec.server.webmanager.client_log_pages import CONNECTION_ACTIONS

SERVER = Path(cssec.server.__file__).parent
LITERAL_KIND = re.compile(r"""kind=["']([a-z_]+\.[a-z_]+)["']|KIND = ["']([a-z_]+\.[a-z_]+)["']""")


def _kinds_in_source() -> set[str]:
    found: set[str] = set()
    for path in SERVER.rglob("*.py"):
        for match in LITERAL_KIND.finditer(path.read_text("utf-8")):
            found.add(match.group(1) or match.group(2))
    return found


def test_every_literal_event_kind_has_a_label() -> None:
    kinds = _kinds_in_source()
    assert "license.check_failed" in kinds  # the scan really reads the sources
    assert sorted(kinds - set(EVENT_KIND_LABELS)) == []
    for label in EVENT_KIND_LABELS.values():
        assert label["ja"]
        assert label["en"]


def test_unknown_values_fall_back_to_words() -> None:
    assert event_kind_label("outbreak_prevention.deploy_failed", "ja") == "大規模感染予防"
    assert event_kind_label("nothing.known", "en") == "Other"
    assert group_label("license.", "en") == "License"
    assert error_label("revoked_activation_code", "ja") == "コードは失効しています"
    assert error_label("some_new_code", "en") == "Error"
    assert error_label(None, "en") == "-"


AGENT_ROUTE = re.compile(r"""@router\.(?:get|post|put|delete)\(\s*["']/([a-z-]+)""")


def test_every_agent_request_kind_has_a_label() -> None:
    """The connection status log's 要求 column names each agent API route's first segment."""
    kinds: set[str] = set()
    for path in (SERVER / "agent").glob("*.py"):
        kinds |= set(AGENT_ROUTE.findall(path.read_text("utf-8")))
    assert {"enroll", "heartbeat", "update-result"} <= kinds  # the scan really reads them
    assert sorted(kinds - set(REQUEST_LABELS)) == []
    assert set(CONNECTION_ACTIONS) <= set(REQUEST_LABELS)
    assert request_label("update-result", "ja") == "アップデート結果の報告"
    assert request_label("brand-new", "en") == "Other request"
    assert connection_result_label("not_authenticated", "en") == "Not authenticated"
    assert connection_result_label("some_new_code", "ja") == "失敗"
    assert component_label("virus_pattern", "ja") == "ウイルスパターンファイル"
    assert component_label("nothing", "en") == "Other"
