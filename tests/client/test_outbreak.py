"""Outbreak prevention: the client records the server's policy, reports it, shows it."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cssec.client.outbreak import OutbreakPolicy, PolicyAction

Peer = Any  # conftest.AgentPeer
Cli = Any  # conftest.Cli


def policy(**overrides: Any) -> OutbreakPolicy:
    fields: dict[str, Any] = {
        "id": 1,
        "action": PolicyAction.DEPLOY,
        "deny_write_shares": ("/srv/share",),
        "block_ports": (139, 445),
        "deny_files": ("*.exe", "/etc/hosts", "/opt/app/*.dll"),
        "issued_at": datetime(2026, 5, 1, tzinfo=UTC),
    }
    return OutbreakPolicy(**{**fields, **overrides})


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_heartbeat_applies_the_policy_and_status_shows_it(
    agent_server: Peer, installed: Path, tmp_path: Path, cli: Cli, lang: str
) -> None:
    share = tmp_path / "share"
    agent_server.deploy_policy(
        3, deny_write_shares=[str(share)], block_ports=[445, 139], deny_files=["*.exe"]
    )
    result = cli("heartbeat", "--dir", str(installed), lang=lang)
    assert result.exit_code == 0, result.output
    if lang == "ja":
        assert "大規模感染予防ポリシー #3を適用し、サーバに報告しました。" in result.stdout
    else:
        assert "Applied outbreak prevention policy #3 and reported it" in result.stdout
    [report] = agent_server.policy_reports
    assert (report["policy_id"], report["action"], report["applied"]) == (3, "deploy", True)
    scope = (
        "ポートの遮断やファイルへのアクセス拒否は行いません"
        if lang == "ja"
        else "does not block ports"
    )
    assert scope in report["detail"]
    recorded = installed / "outbreak_policy.json"
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600

    status = cli("status", "--dir", str(installed), lang=lang).stdout
    if lang == "ja":
        assert "大規模感染予防ポリシー #3: 適用中" in status
        assert f"書き込みを拒否する共有フォルダ: {share}" in status
        assert "ブロックするポート: 445, 139" in status
        assert "アクセスを拒否するファイル: *.exe" in status
        assert "サーバへの報告: 済み" in status
        assert "注意：C/S Sec.はポリシーを記録・表示し" in status
        assert "ファイアウォールは設定しません" in status
        assert "リアルタイム検索 (サーバの設定): 有効" in status
    else:
        assert "Outbreak prevention policy #3: deployed" in status
        assert f"Shared folders denied writes: {share}" in status
        assert "Ports to block: 445, 139" in status
        assert "Files denied access: *.exe" in status
        assert "Note: C/S Sec. records and shows the policy" in status
        assert "it installs no firewall" in status
        assert "Real-time scan (server setting): on" in status

    # The next heartbeat says the policy is in force, and does not report it again.
    assert cli("heartbeat", "--dir", str(installed)).exit_code == 0
    assert len(agent_server.policy_reports) == 1
    said = agent_server.heartbeats[-1]["status"]
    assert (said["outbreak_policy_id"], said["outbreak_policy_applied"]) == (3, True)
    assert said["agent_version"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_release_shows_released(
    agent_server: Peer, installed: Path, tmp_path: Path, cli: Cli, lang: str
) -> None:
    agent_server.deploy_policy(4, block_ports=[445])
    assert cli("heartbeat", "--dir", str(installed)).exit_code == 0
    agent_server.release_policy()
    result = cli("heartbeat", "--dir", str(installed), lang=lang)
    assert result.exit_code == 0
    expected = "ポリシー #4を解除し" if lang == "ja" else "Released outbreak prevention policy #4"
    assert expected in result.stdout
    assert [(r["action"], r["applied"]) for r in agent_server.policy_reports] == [
        ("deploy", True),
        ("release", True),
    ]
    status = cli("status", "--dir", str(installed), lang=lang).stdout
    assert ("#4: 解除済み" if lang == "ja" else "#4: released") in status
    # What a released policy denied is no longer shown as in force (matched by the line's
    # label: the status also prints timestamps, whose digits may contain "445").
    assert "ブロックするポート" not in status
    assert "Ports to block" not in status
    data = json.loads(cli("status", "--dir", str(installed), "--json").stdout)
    assert data["outbreak_policy"]["action"] == "release"
    assert cli("heartbeat", "--dir", str(installed)).exit_code == 0
    assert agent_server.heartbeats[-1]["status"]["outbreak_policy_applied"] is False


def test_status_online_and_no_policy(agent_server: Peer, installed: Path, cli: Cli) -> None:
    fresh = cli("status", "--dir", str(installed), lang="ja").stdout
    assert "大規模感染予防ポリシー: なし" in fresh
    assert "リアルタイム検索 (サーバの設定): 未取得" in fresh
    agent_server.deploy_policy(5)
    agent_server.realtime_scan = False
    online = cli("status", "--dir", str(installed), "--online")
    assert online.exit_code == 0
    assert "Outbreak prevention policy #5: deployed" in online.stdout
    assert "Real-time scan (server setting): off" in online.stdout


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_an_unreadable_policy_is_reported_not_applied(
    agent_server: Peer, installed: Path, cli: Cli, lang: str
) -> None:
    agent_server.outbreak_policy = {"id": 9, "action": "deploy", "block_ports": "all"}
    result = cli("heartbeat", "--dir", str(installed), lang=lang)
    assert result.exit_code == 0
    expected = "読み取れないため適用しませんでした" if lang == "ja" else "could not be read"
    assert expected in result.stderr
    [report] = agent_server.policy_reports
    assert (report["policy_id"], report["applied"]) == (9, False)
    assert (
        "大規模感染予防ポリシー: なし" in cli("status", "--dir", str(installed), lang="ja").stdout
    )


def test_violation_matching() -> None:
    deployed = policy()
    assert deployed.violation("/srv/share/a/b.txt") == "share /srv/share"
    assert deployed.violation("/srv/share") == "share /srv/share"
    assert deployed.violation("/srv/shared/b.txt") is None  # a sibling, not below it
    assert deployed.violation("/home/u/setup.exe") == "file *.exe"
    assert deployed.violation("/etc/hosts") == "file /etc/hosts"
    assert deployed.violation("/opt/app/x.dll") == "file /opt/app/*.dll"
    assert deployed.violation("/opt/other/x.dll") is None
    assert deployed.violation("/home/u/notes.txt") is None
    unc = policy(deny_write_shares=("\\\\fileserver\\public",), deny_files=())
    assert unc.violation("/home/u/notes.txt") is None
    assert unc.watch_dirs() == []
    released = policy(action=PolicyAction.RELEASE)
    assert released.violation("/srv/share/a.txt") is None


def test_parse_rejects_bad_policies() -> None:
    good = {"id": 1, "action": "deploy", "issued_at": "2026-05-01T00:00:00Z"}
    assert OutbreakPolicy.parse(good).deny_files == ()
    for bad in (
        {**good, "action": "enforce"},
        {**good, "issued_at": "2026-05-01T00:00:00"},
        {**good, "block_ports": ["x"]},
        {"action": "deploy"},
        "deploy",
    ):
        with pytest.raises(ValueError, match="outbreak_policy"):
            OutbreakPolicy.parse(bad)
