"""`cssec client …` end to end against the agent API peer on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cssec.client.agent import error_from_response, is_transient
from cssec.client.cli import app
from cssec.client.errors import ServerError
from cssec.client.messages import language_from_env
from cssec.core.errors import LicenseExpired, NotAuthenticated, RateLimited
from cssec.core.policy import Component

Peer = Any  # the agent_server fixture (conftest.AgentPeer)
JA = {"LANG": "ja_JP.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}
EN = {"LANG": "en_US.UTF-8", "LC_ALL": None, "LC_MESSAGES": None}


def run(*args: str, env: dict[str, str | None] = EN) -> Any:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def client_dir(tmp_path: Path) -> Path:
    return tmp_path / "client"


@pytest.fixture
def installed(agent_server: Peer, client_dir: Path) -> Path:
    result = run("install", "--server", agent_server.url, "--dir", str(client_dir))
    assert result.exit_code == 0, result.output
    return client_dir


def test_install_then_status(agent_server: Peer, client_dir: Path) -> None:
    result = run("install", "--server", agent_server.url + "/", "--dir", str(client_dir))
    assert result.exit_code == 0
    assert "Installed the C/S Sec. client (client ID client-1" in result.stdout
    assert "Update completed" in result.stdout
    status = run("status", "--dir", str(client_dir), "--json")
    data = json.loads(status.stdout)
    assert data["server_url"] == agent_server.url
    assert data["components"]["virus_pattern"] == {"version": 1, "previous": None}
    assert (data["serial"], data["outbox"]) == (1, 0)
    online = run("status", "--dir", str(client_dir), "--online")
    assert "Real-time scan (server setting): on" in online.stdout


def test_install_with_token_uses_the_web_route(agent_server: Peer, client_dir: Path) -> None:
    agent_server.install_tokens.add("one-time")
    result = run(
        "install", "--server", agent_server.url, "--dir", str(client_dir), "--token", "one-time"
    )
    assert result.exit_code == 0
    assert agent_server.enrollments[0]["route"] == "web"
    assert agent_server.enrollments[0]["install_token"] == "one-time"


def test_install_refused_by_the_server_says_why(agent_server: Peer, client_dir: Path) -> None:
    result = run(
        "install", "--server", agent_server.url, "--dir", str(client_dir), "--route", "remote"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: not_authenticated: install token required"
    assert not (client_dir / "client.json").exists()


def test_install_needs_an_http_url(client_dir: Path) -> None:
    result = run("install", "--server", "ftp://example", "--dir", str(client_dir))
    assert result.exit_code == 1
    assert "http(s) URL" in result.stderr


def test_update_up_to_date(installed: Path) -> None:
    result = run("update", "--dir", str(installed))
    assert result.exit_code == 0
    assert "Components are up to date: virus pattern file 1" in result.stdout


def test_update_when_expired_fails_with_the_servers_reason(
    agent_server: Peer, installed: Path
) -> None:
    agent_server.expire_license()
    result = run("update", "--dir", str(installed), env=JA)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.strip()
    assert line.startswith("error: license_expired: アップデートは行われていません。")
    assert "C/S Sec. クライアントの手動アップデートはできません" in line
    # Said to the person at this PC: ask the administrator, not the Web manager's menus.
    assert "管理者にお問い合わせください" in line
    assert "製品ライセンス" not in line
    assert "完了" not in result.output
    assert [r["result"] for r in agent_server.update_results] == ["success", "refused"]

    english = run("update", "--dir", str(installed))
    assert english.exit_code == 1
    assert "Manual update of a C/S Sec. client is refused" in english.stderr
    assert "Ask your administrator." in english.stderr
    assert "complete" not in english.output.lower()


def test_install_when_expired_installs_but_says_components_were_refused(
    agent_server: Peer, client_dir: Path, tmp_path: Path
) -> None:
    agent_server.expire_license()
    result = run("install", "--server", agent_server.url, "--dir", str(client_dir))
    assert result.exit_code == 0
    assert "Installed the C/S Sec. client" in result.stdout
    assert "Components could not be fetched because the license has expired." in result.stderr
    assert "completed" not in result.output
    assert agent_server.update_results[-1]["result"] == "refused"

    scan = run("scan", str(tmp_path), "--dir", str(client_dir))
    assert scan.exit_code == 2
    assert "no usable pattern file" in scan.stderr


def test_update_not_installed(tmp_path: Path) -> None:
    result = run("update", "--dir", str(tmp_path / "nowhere"), env=JA)
    assert result.exit_code == 1
    assert "インストールされていません" in result.stderr


def test_scan_exit_codes_and_virus_log(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes
) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text("hello")
    result = run("scan", str(clean), "--dir", str(installed))
    assert result.exit_code == 0
    assert "detections: 0" in result.stdout
    assert agent_server.virus_logs == []

    infected = tmp_path / "infected"
    infected.mkdir()
    (infected / "eicar.com").write_bytes(eicar)
    result = run("scan", str(infected), "--dir", str(installed), env=JA)
    assert result.exit_code == 1
    assert f"{infected / 'eicar.com'}: Eicar_test_fileを検出しました" in result.stdout
    [log] = agent_server.virus_logs
    assert log["scan_type"] == "scan_now"
    [entry] = log["detections"]
    assert entry["threat"] == "Eicar_test_file"
    assert (entry["component"], entry["component_version"]) == ("virus_pattern", 1)
    assert entry["action"] == "report"
    assert (infected / "eicar.com").exists()  # nothing touched without --cleanup

    missing = run("scan", str(tmp_path / "missing"), "--dir", str(installed))
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: scan_target_missing: There is no file or folder")
    assert missing.stdout == "", "no summary of a scan that never ran"
    japanese = run("scan", "/nonexistent", "--dir", str(installed), env=JA)
    assert japanese.stderr.strip() == (
        "error: scan_target_missing: 「/nonexistent」というファイルやフォルダはありません。"
        "検索するファイルかフォルダのパスを確認してください。"
    )


def test_scan_works_offline_and_queues_the_report(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, marker: bytes
) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar)
    agent_server.fail_reports_with = 503
    result = run("scan", str(tmp_path / "eicar.com"), "--dir", str(installed))
    assert result.exit_code == 1
    assert "saved and will be sent next time" in result.stderr
    assert json.loads(run("status", "--dir", str(installed), "--json").stdout)["outbox"] == 1

    agent_server.fail_reports_with = None
    (tmp_path / "spy.bin").write_bytes(marker)
    result = run("scan", str(tmp_path / "spy.bin"), "--dir", str(installed))
    assert result.exit_code == 1
    threats = [log["detections"][0]["threat"] for log in agent_server.virus_logs]
    assert threats == ["Eicar_test_file", "Spyware_test_file"]  # queued one first
    assert json.loads(run("status", "--dir", str(installed), "--json").stdout)["outbox"] == 0


def test_clean_scan_flushes_the_outbox(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, unused_url: str
) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar)
    config = installed / "client.json"
    real = json.loads(config.read_text())
    config.write_text(json.dumps({**real, "server_url": unused_url}))
    assert run("scan", str(tmp_path), "--dir", str(installed)).exit_code == 1
    assert agent_server.virus_logs == []
    config.write_text(json.dumps(real))
    (tmp_path / "eicar.com").unlink()
    assert run("scan", str(tmp_path), "--dir", str(installed)).exit_code == 0
    assert len(agent_server.virus_logs) == 1


def test_scan_cleanup_applies_the_template(
    agent_server: Peer, installed: Path, tmp_path: Path, eicar: bytes, marker: bytes
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "eicar.com").write_bytes(eicar)
    (target / "spy.bin").write_bytes(b"x" + marker)
    result = run("scan", str(target), "--dir", str(installed), "--cleanup")
    assert result.exit_code == 1
    assert not (target / "eicar.com").exists()
    assert not (target / "spy.bin").exists()
    quarantined = list((installed / "quarantine").iterdir())
    assert [(p / "file").read_bytes() for p in quarantined] == [b"x" + marker]
    actions = {Path(e["path"]).name: e["action"] for e in agent_server.virus_logs[0]["detections"]}
    assert actions == {"eicar.com": "delete", "spy.bin": "quarantine"}


def test_language_from_env() -> None:
    assert language_from_env({}) == "ja"
    assert language_from_env({"LANG": "C"}) == "ja"
    assert language_from_env({"LANG": "en_GB.UTF-8"}) == "en"
    assert language_from_env({"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}) == "ja"
    assert language_from_env({"LANG": "ja_JP", "LC_MESSAGES": "en_US"}) == "en"


def test_error_bodies_map_to_error_classes() -> None:
    body = {"code": "license_expired", "message": "更新できません", "operation": "x"}
    error = error_from_response(httpx.Response(403, json=body))
    assert isinstance(error, LicenseExpired)
    # The server's message names Web manager menus; the PC's user is told whom to ask.
    assert error.message("en") == (
        "Refused: the C/S Sec. license has expired. Ask your administrator."
    )
    assert error.fields["operation"] == "x"
    unknown_client = error_from_response(
        httpx.Response(401, json={"code": "not_authenticated", "message": "ログインが必要です。"})
    )
    assert isinstance(unknown_client, NotAuthenticated)
    assert is_transient(unknown_client), "reports stay queued for a reinstall"
    assert "管理者にお問い合わせください" in unknown_client.message("ja")
    limited = error_from_response(httpx.Response(429, json={"code": "rate_limited"}))
    assert isinstance(limited, RateLimited)
    assert is_transient(limited)
    unknown = error_from_response(httpx.Response(409, json={"code": "brand_new", "message": "m"}))
    assert isinstance(unknown, ServerError)
    assert (unknown.message(), unknown.fields["server_code"]) == ("m", "brand_new")
    assert not is_transient(unknown)
    html = error_from_response(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(html, ServerError)
    assert "HTTP 502" in html.message("en")
    assert is_transient(html)


def test_every_component_has_a_label_in_both_languages() -> None:
    for component in Component:
        assert component.label("ja")
        assert component.label("en")
