"""`cssec client status` and the client's errors show times as a person reads them: local
time `YYYY-MM-DD HH:MM:SS` (the form of the server's CLI), in both languages; `--json`
keeps ISO 8601 UTC for machines (docs/style-ja.md)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cssec.client.errors import ComponentsStale
from cssec.client.heartbeat import LICENSE_DOC
from cssec.client.messages import local_time
from cssec.client.state import ClientState

Peer = Any  # conftest.AgentPeer
Cli = Any  # conftest.Cli

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture
def tokyo() -> Iterator[None]:
    """This computer's time zone is UTC+9 (a POSIX TZ rule: no tzdata needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_local_time_reads_iso_utc_in_this_computers_zone(tokyo: None) -> None:
    assert local_time("2026-12-03T07:00:00Z") == "2026-12-03 16:00:00"
    assert local_time("2026-12-03T07:00:00.250000+00:00") == "2026-12-03 16:00:00"
    assert local_time(None) == "-"
    assert local_time(None, "なし") == "なし"
    assert local_time("2026-12-01 00:00:00") == "2026-12-01 00:00:00"  # already shown form
    assert local_time("not a time") == "not a time"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_stale_components_error_says_local_time(tokyo: None, lang: str) -> None:
    error = ComponentsStale(since="2026-12-03T07:00:00Z", detail="-")
    said = error.message(lang)
    assert "2026-12-03 16:00:00" in said, said
    assert not ISO.search(said), said
    assert error.fields["since"] == "2026-12-03T07:00:00Z"  # the machine value is kept


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_status_shows_local_times_and_json_keeps_iso(
    agent_server: Peer, installed: Path, cli: Cli, tokyo: None, lang: str
) -> None:
    agent_server.deploy_policy(3, block_ports=[445])
    beat = cli("heartbeat", "--dir", str(installed), lang=lang)
    assert beat.exit_code == 0, beat.output
    ClientState(installed).save_doc(
        LICENSE_DOC,
        {"state": "activated", "expires_on": "2027-12-01", "received_at": "2026-12-03T07:00:00Z"},
    )
    shown = cli("status", "--dir", str(installed), lang=lang)
    assert shown.exit_code == 0, shown.output
    assert not ISO.search(shown.stdout), shown.stdout
    assert "2026-12-03 16:00:00" in shown.stdout  # the license, as received
    assert "2026-05-01 18:00:00" in shown.stdout  # the policy, issued 09:00 UTC
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    last_update = "最終アップデート: " if lang == "ja" else "last update: "
    assert re.search(re.escape(last_update) + stamp, shown.stdout), shown.stdout
    if lang == "ja":
        assert "注意：" in shown.stdout
        assert "注意: " not in shown.stdout
    data = json.loads(cli("status", "--dir", str(installed), "--json", lang=lang).stdout)
    assert data["license"]["received_at"] == "2026-12-03T07:00:00Z"
    assert data["outbreak_policy"]["issued_at"] == "2026-05-01T09:00:00Z"
    assert ISO.match(data["updated_at"])


def test_quarantine_list_shows_local_time(
    installed: Path, tmp_path: Path, marker: bytes, cli: Cli, tokyo: None
) -> None:
    target = tmp_path / "spy.bin"
    target.write_bytes(marker)
    assert cli("clean", str(target), "--dir", str(installed), lang="ja").exit_code == 0
    [line] = cli("quarantine", "list", "--dir", str(installed), lang="ja").stdout.splitlines()
    assert not ISO.search(line), line
    assert re.search(r"  \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}  ", line), line
