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
from pathlib import Path

import pytest
from tests.helpers.server import Desk, ServerFactory

from cssec.server.app import create_app
from cssec.server.storage.datadir import DataDir, open_database
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
