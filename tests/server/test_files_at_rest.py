"""Issue 22, item 5: the server's files at rest.

Before: `server.db` and its WAL were 0644 (SQLite created them with the umask), and a
copied or restored directory kept whatever modes it had. After: the database is created
0600 before SQLite opens it (its -wal and -shm take its mode), and opening the data
directory (`serve`, every command) fixes a looser mode and logs it, or refuses files
another user owns (`cssec.web.filemodes`).
"""

from __future__ import annotations

import logging
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from tests.helpers.server import Desk, ServerFactory
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import publish_virus_pattern_v2
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.server import cli
from cssec.server.app import create_app
from cssec.server.storage.datadir import DataDir, open_database
from cssec.vendor_service.runtime import secure_vendor_dir
from cssec.web import filemodes
from cssec.web.filemodes import DataDirNotOwned


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _tree_modes(root: Path) -> dict[str, int]:
    found = {".": _mode(root)}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            found[str(path.relative_to(root))] = _mode(path)
    return found


async def test_after_install_and_start_every_file_is_private(
    servers: ServerFactory, desk: Desk
) -> None:
    old = os.umask(0o022)  # an ordinary login shell's umask: what made server.db 0644
    try:
        settings = await servers.install(activation_code=desk.contract().codes["CS"])
        servers.open(settings)
    finally:
        os.umask(old)
    data = DataDir(settings.data_dir)
    assert data.database.exists()
    assert (data.root / "server.db-wal").exists(), "WAL mode: the WAL is there while open"
    for path in (data.database, data.root / "server.db-wal", data.root / "server.db-shm",
                 data.session_secret, data.tls_key, data.identity_key):  # fmt: skip
        assert _mode(path) == 0o600, path
    modes = _tree_modes(data.root)
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert loose == {}


async def test_loose_modes_are_fixed_at_start_and_logged(
    servers: ServerFactory, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    data = DataDir(settings.data_dir)
    # What a copy without -p, or a version before this one, leaves behind.
    for path in (data.database, data.session_secret, data.tls_key):
        path.chmod(0o644)
    data.root.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="cssec.web.filemodes"):
        app = create_app(settings, start_scheduler=False)
    app.state.server.engine.dispose()
    assert _mode(data.database) == 0o600
    assert _mode(data.session_secret) == 0o600
    assert _mode(data.tls_key) == 0o600
    assert _mode(data.root) == 0o700
    assert f"file mode of {data.database} was 0644, now 0600" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cssec.web.filemodes"):
        engine, _sessions = open_database(data)
    engine.dispose()
    assert "file mode" not in caplog.text, "nothing left to fix: nothing logged"


async def test_files_another_user_owns_are_refused_before_anything_changes(
    servers: ServerFactory, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    data = DataDir(settings.data_dir)
    data.database.chmod(0o644)
    owner = data.root.stat().st_uid
    monkeypatch.setattr(filemodes.os, "geteuid", lambda: owner + 4242)  # cssec runs as another
    with pytest.raises(DataDirNotOwned) as refused:
        open_database(data)
    assert _mode(data.database) == 0o644, "refused before any change"
    assert "chown -R" in refused.value.message("ja")
    assert f"uid {owner}" in refused.value.message("en")


async def test_what_cssec_writes_itself_needs_no_fix(
    servers: ServerFactory,
    desk: Desk,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that took components over TUF, chose its rollout timing and was backed by
    a vendor that published a delta: nothing either wrote is looser than its check allows,
    so no command warns of a fixed mode (it did: tuf/root_history 0755, rollout-timing
    0644, the vendor's activeupdate/deltas 0755 and its files 0644)."""
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    old = os.umask(0o022)  # an ordinary login shell's umask
    try:
        install_tuf_root(desk.vendor, tmp_path / "root-keys")
        server = await servers.start(activation_code=desk.contract().codes["CS"])
        for publish in (False, True):
            if publish:
                publish_virus_pattern_v2(desk)  # the vendor makes the delta 1 -> 2
            clock.advance(timedelta(hours=1))
            assert (await server.app.state.component_poller.run_update_if_due()) is not None
        data = str(server.settings.data_dir)
        runner = CliRunner()
        timing = runner.invoke(cli.app, ["components", "rollout-timing", "early", "--data", data])
        again = runner.invoke(cli.app, ["components", "rollout-timing", "--data", data])
    finally:
        os.umask(old)
    assert timing.exit_code == 0, timing.output
    assert "警告" not in timing.stderr + again.stderr, "no mode to fix, nothing said"
    root = server.settings.data_dir
    assert _mode(root / "tuf" / "root_history") == 0o700
    assert _mode(root / "rollout-timing") == 0o600
    deltas = desk.vendor.settings.data_dir / "activeupdate" / "deltas"
    assert _mode(deltas) == 0o750
    assert [_mode(p) for p in deltas.iterdir()] == [0o600]
    assert filemodes.secure_data_dir(root) == []
    assert secure_vendor_dir(desk.vendor.settings.data_dir) == []
    # A mode that does need a fix is said once, in the output language, as a warning.
    (root / "rollout-timing").chmod(0o644)
    fixed = runner.invoke(cli.app, ["components", "rollout-timing", "--data", data])
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stderr.splitlines()[-1] == (
        f"警告: {root / 'rollout-timing'}のファイルモードが0644だったため0600に直しました"
        "（データファイルは所有者だけが使います）"
    )
    assert _mode(root / "rollout-timing") == 0o600


def test_a_fixed_mode_is_said_in_the_output_language(tmp_path: Path) -> None:
    """The warning of a fix (serve logs it; a command prints it) in Japanese and English."""
    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    (root / "server.db").write_bytes(b"")
    (root / "server.db").chmod(0o644)
    [fixed] = filemodes.secure_data_dir(root)
    assert fixed.message("ja") == (
        f"{root / 'server.db'}のファイルモードが0644だったため0600に直しました"
        "（データファイルは所有者だけが使います）"
    )
    assert fixed.message("en") == (
        f"file mode of {root / 'server.db'} was 0644, now 0600 "
        "(data files are for their owner only)"
    )
