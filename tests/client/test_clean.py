"""Damage Cleanup Services (`cssec client clean`, and the server's cleanup requests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cssec.client.cleanup import apply_cleanup
from cssec.client.engine import Detection, ScanReport
from cssec.client.state import ClientState
from cssec.core.clock import FakeClock
from cssec.core.components import CleanupAction, sha256_hex
from cssec.core.policy import Component

Peer = Any  # conftest.AgentPeer
Cli = Any  # conftest.Cli
QUARANTINE_EICAR = json.dumps(
    {
        "format": 1,
        "rules": [{"threat": "Eicar_test_file", "action": "quarantine"}],
        "default_action": "quarantine",
    }
).encode()


@pytest.fixture
def quarantining(agent_server: Peer, installed: Path, cli: Cli) -> Path:
    """The vendor publishes template v2, which quarantines EICAR (v1 deletes it)."""
    agent_server.publish(Component.DAMAGE_CLEANUP_TEMPLATE, QUARANTINE_EICAR)
    assert cli("update", "--dir", str(installed)).exit_code == 0
    return installed


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_clean_quarantines_eicar_and_posts_the_result(
    agent_server: Peer, quarantining: Path, tmp_path: Path, eicar: bytes, cli: Cli, lang: str
) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    infected = folder / "eicar.com"
    infected.write_bytes(eicar)
    (folder / "ok.txt").write_text("fine")

    result = cli("clean", str(folder), "--dir", str(quarantining), lang=lang)
    assert result.exit_code == 0, result.output
    assert not infected.exists()
    assert (folder / "ok.txt").exists()
    [record] = list((quarantining / "quarantine").iterdir())
    assert (record / "file").read_bytes() == eicar
    if lang == "ja":
        assert (
            f"{infected}: Eicar_test_fileを隔離しました (隔離 ID: {record.name})" in result.stdout
        )
        assert "隔離 1、削除 0" in result.stdout
        assert "処理結果をサーバ (ウイルスログ)に送信しました。" in result.stdout
    else:
        assert (
            f"{infected}: Eicar_test_file quarantined (quarantine ID {record.name})"
            in result.stdout
        )
        assert "quarantined 1, deleted 0" in result.stdout
        assert "Sent the cleanup results to the server" in result.stdout

    [posted] = agent_server.cleanup_results
    assert posted == {
        "request_id": None,
        "results": [
            {
                "path": str(infected),
                "threat": "Eicar_test_file",
                "action": "quarantined",
                "sha256": sha256_hex(eicar),
                "quarantine_id": record.name,
                "detail": str(record),
            }
        ],
    }


def test_seed_template_deletes_eicar(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, cli: Cli
) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar)
    result = cli("clean", str(tmp_path / "eicar.com"), "--dir", str(installed))
    assert result.exit_code == 0
    assert "eicar.com: Eicar_test_file deleted" in result.stdout
    assert [r["action"] for r in agent_server.cleanup_results[0]["results"]] == ["deleted"]


def test_clean_without_a_path_cleans_the_last_scans_detections(
    agent_server: Peer, quarantining: Path, tmp_path: Path, eicar: bytes, cli: Cli
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "eicar.com").write_bytes(eicar)
    assert cli("scan", str(folder), "--dir", str(quarantining)).exit_code == 1
    assert (folder / "eicar.com").exists()  # ScanNow only reports
    status = json.loads(cli("status", "--dir", str(quarantining), "--json").stdout)
    assert status["detections_not_cleaned"] == 1
    text = cli("status", "--dir", str(quarantining), lang="ja").stdout
    assert "未処理の検出: 1 件" in text

    result = cli("clean", "--dir", str(quarantining))
    assert result.exit_code == 0
    assert not (folder / "eicar.com").exists()
    status = json.loads(cli("status", "--dir", str(quarantining), "--json").stdout)
    assert (status["detections_not_cleaned"], status["quarantined"]) == (0, 1)

    again = cli("clean", "--dir", str(quarantining), lang="ja")
    assert again.exit_code == 0
    assert "処理が必要なファイルはありません" in again.stdout
    assert len(agent_server.cleanup_results) == 1  # nothing new to report


def test_clean_runs_when_the_license_has_expired(
    agent_server: Peer, quarantining: Path, tmp_path: Path, eicar: bytes, cli: Cli
) -> None:
    agent_server.expire_license()
    assert cli("update", "--dir", str(quarantining)).exit_code == 1  # updates are refused
    (tmp_path / "eicar.com").write_bytes(eicar)
    result = cli("clean", str(tmp_path), "--dir", str(quarantining))
    assert result.exit_code == 0
    assert agent_server.cleanup_results[0]["results"][0]["action"] == "quarantined"


def test_clean_offline_queues_the_result(
    agent_server: Peer, quarantining: Path, tmp_path: Path, eicar: bytes, cli: Cli
) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar)
    agent_server.fail_reports_with = 503
    result = cli("clean", str(tmp_path), "--dir", str(quarantining), lang="ja")
    assert result.exit_code == 0
    assert "次回の接続時に送信します" in result.stderr
    agent_server.fail_reports_with = None
    assert cli("heartbeat", "--dir", str(quarantining)).exit_code == 0
    assert agent_server.cleanup_results[0]["results"][0]["action"] == "quarantined"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_cleanup_requested_by_the_server_runs_once(
    agent_server: Peer, quarantining: Path, tmp_path: Path, eicar: bytes, cli: Cli, lang: str
) -> None:
    folder = tmp_path / "target"
    folder.mkdir()
    (folder / "eicar.com").write_bytes(eicar)
    agent_server.request_cleanup(7, paths=[str(folder)])
    result = cli("heartbeat", "--dir", str(quarantining), lang=lang)
    assert result.exit_code == 0, result.output
    expected = "ウイルス感染復旧の要求 #7を実行しました" if lang == "ja" else "cleanup request #7"
    assert expected in result.stdout
    [posted] = agent_server.cleanup_results
    assert posted["request_id"] == 7
    assert posted["results"][0]["action"] == "quarantined"
    assert not (folder / "eicar.com").exists()

    agent_server.request_cleanup(7, paths=[str(folder)])  # the server repeats itself
    assert cli("heartbeat", "--dir", str(quarantining)).exit_code == 0
    assert len(agent_server.cleanup_results) == 1


def test_cleanup_request_with_nothing_found_still_answers(
    agent_server: Peer, installed: Path, tmp_path: Path, cli: Cli
) -> None:
    agent_server.request_cleanup(8, paths=[str(tmp_path)])
    assert cli("heartbeat", "--dir", str(installed)).exit_code == 0
    assert agent_server.cleanup_results == [{"request_id": 8, "results": []}]


def test_a_file_changed_since_the_scan_is_not_touched(tmp_path: Path, eicar: bytes) -> None:
    state = ClientState(tmp_path / "client")
    target = tmp_path / "eicar.com"
    target.write_bytes(eicar + b" and more")
    detection = Detection(
        str(target), "Eicar_test_file", "EICAR", Component.VIRUS_PATTERN, 1, sha256_hex(eicar)
    )
    report = ScanReport(versions={}, max_file_bytes=1 << 20, detections=[detection])
    clock = FakeClock(datetime(2026, 5, 1, tzinfo=UTC))
    [taken] = apply_cleanup(state, report, None, clock=clock).values()
    assert (taken.result, taken.error, taken.action) == (
        "failed",
        "changed since scan",
        CleanupAction.REPORT,
    )
    assert target.exists()
    assert not state.quarantine_dir.exists()
