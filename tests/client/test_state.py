from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cssec.client.cli import app
from cssec.client.errors import NotInstalled, StateCorrupt
from cssec.client.state import OUTBOX_LIMIT, ClientConfig, ClientState
from cssec.core.signing import SigningKey

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def config(key: SigningKey) -> ClientConfig:
    return ClientConfig(
        server_url="http://127.0.0.1:1",
        client_id="c1",
        client_token="secret-token",
        server_id="s1",
        vendor_keys={"keys": [key.public.to_jwk(), {"kty": "RSA"}, "junk"]},
        route="autopcc",
        hostname="pc",
        installed_at=NOW,
    )


def test_config_round_trip_private_and_only_valid_keys(tmp_path: Path) -> None:
    key = SigningKey.generate()
    state = ClientState(tmp_path / "c")
    state.save_config(config(key))
    assert stat.S_IMODE(state.client_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.root.stat().st_mode) == 0o700
    loaded = state.load_config()
    assert loaded == config(key)
    assert loaded.verifying_keys() == {key.kid: key.public}

    state.client_file.chmod(0o644)
    state.load_config()
    assert stat.S_IMODE(state.client_file.stat().st_mode) == 0o600


def test_missing_and_corrupt_state(tmp_path: Path) -> None:
    state = ClientState(tmp_path / "c")
    with pytest.raises(NotInstalled):
        state.load_config()
    assert state.load_installed().current == {}
    state.ensure_dirs()
    state.client_file.write_text("{not json")
    with pytest.raises(StateCorrupt):
        state.load_config()
    state.current_file.write_text(json.dumps({"format": 1, "current": {"virus_pattern": 3}}))
    with pytest.raises(StateCorrupt):
        state.load_installed()
    result = CliRunner().invoke(
        app, ["scan", str(tmp_path), "--dir", str(state.root)], env={"LANG": "en_US.UTF-8"}
    )
    assert result.exit_code == 2
    assert "Cannot read the client file" in result.stderr


def test_outbox_is_bounded_and_survives_damage(tmp_path: Path) -> None:
    state = ClientState(tmp_path / "c")
    state.ensure_dirs()
    for n in range(3):
        state.queue_report("virus-log", {"n": n}, queued_at=NOW)
    assert [e["body"]["n"] for e in state.load_outbox()] == [0, 1, 2]
    state.save_outbox(
        [{"endpoint": "virus-log", "body": {"n": n}} for n in range(OUTBOX_LIMIT + 5)]
    )
    entries = state.load_outbox()
    assert (len(entries), entries[0]["body"]["n"]) == (OUTBOX_LIMIT, 5)
    state.outbox_file.write_text("garbage")
    assert state.load_outbox() == []
    state.save_outbox([])
    assert not state.outbox_file.exists()


Cli = Any  # conftest.Cli


def _modes(root: Path) -> dict[str, int]:
    """Every entry below `root` (and `root`) by its relative path, with its mode."""
    entries = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in entries}


def test_the_data_directory_is_made_for_its_owner_only(
    agent_server: Any, tmp_path: Path, cli: Cli, eicar: bytes
) -> None:
    client = tmp_path / "new" / "client"
    result = cli("install", "--server", agent_server.url, "--dir", str(client))
    assert result.exit_code == 0, result.output
    assert {p: oct(m) for p, m in _modes(client).items() if m & 0o077} == {}
    (tmp_path / "eicar.com").write_bytes(eicar)
    scan = cli("scan", str(tmp_path / "eicar.com"), "--dir", str(client))
    assert scan.exit_code == 1
    modes = _modes(client)
    assert {"rules", "scans-in-progress", "client.json", "components/virus_pattern"} <= set(modes)
    assert {p: oct(m) for p, m in modes.items() if m & 0o077} == {}
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    assert "warning" not in result.stderr + scan.stderr


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "ja",
            "警告: {path}のファイルモードが{before}だったため{after}に直しました"
            "（データファイルは所有者だけが使います）",
        ),
        (
            "en",
            "warning: file mode of {path} was {before}, now {after} "
            "(data files are for their owner only)",
        ),
    ],
)
def test_a_data_directory_or_key_readable_by_others_is_fixed_with_a_warning(
    installed: Path, cli: Cli, lang: str, line: str
) -> None:
    installed.chmod(0o755)
    (installed / "client.json").chmod(0o644)  # the token and the vendor's keys
    result = cli("status", "--dir", str(installed), lang=lang)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        line.format(path=installed, before="0755", after="0700"),
        line.format(path=installed / "client.json", before="0644", after="0600"),
    ]
    assert _modes(installed)["."] == 0o700
    assert _modes(installed)["client.json"] == 0o600
    again = cli("status", "--dir", str(installed), lang=lang)
    assert again.exit_code == 0
    assert again.stderr == ""
