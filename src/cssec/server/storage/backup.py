"""`cssec server backup` / `cssec server restore` (the archive: `cssec.web.backup`).

Backed up: `server.db` through SQLite's online backup API (`serve` keeps running), then
every other file of the data directory: session.key, vendor-keys.json, the TLS
certificate and key, vendor-tls.json and its CA, the components; never `backup.key`,
the key that authenticates the archive (`cssec.web.backup`), which a restore is given
with --key-file. Restored only into a new or empty directory; the restored server starts
as the original (same server id, same pinned vendor keys, same certificate), and
`serve`'s key check (`storage.keycheck`) finds what its database references.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.server.licensing.errors import NotInstalled
from cssec.server.settings import ServerSettings
from cssec.server.storage.datadir import DataDir
from cssec.web.backup import (
    BackupPlan,
    Restored,
    load_or_create_key,
    read_backup,
    read_key,
    skip_names,
    sqlite_dump,
    write_backup,
)

KIND = "server"
SQLITE_FILES = ("server.db", "server.db-wal", "server.db-shm", "server.db-journal")
SECRET_SETTINGS = frozenset({"data_dir", "metrics_token"})


KEY_FILE = "backup.key"


def backup_server(
    settings: ServerSettings, out: Path, *, now: datetime, force: bool = False
) -> dict[str, Any]:
    """Write the server's backup to `out`, authenticated with the data directory's backup
    key (made at the first backup; never in the archive); returns the manifest."""
    data = DataDir(settings.data_dir)
    if not data.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    plan = BackupPlan(
        kind=KIND,
        data_dir=data.root,
        database="sqlite",
        dump=sqlite_dump(data.database),
        skip=skip_names(data.root, (*SQLITE_FILES, KEY_FILE), prefixes=(".",)),
        settings={key: value for key, value in values.items() if value is not None},
        key=load_or_create_key(data.backup_key),
    )
    return write_backup(plan, out, now=now, force=force)


def restore_server(archive: Path, data_dir: Path, *, key_file: Path | None) -> Restored:
    """Restore `archive` into `data_dir` (new or empty) once it proves authentic under the
    key in `key_file` (the backed-up server's backup.key, which the restore keeps)."""
    key = read_key(key_file) if key_file is not None else None
    return read_backup(
        archive, kind=KIND, target=data_dir, key=key,
        key_name=f"<data>/{KEY_FILE}", key_path=KEY_FILE,
    )  # fmt: skip


__all__ = ["backup_server", "restore_server"]
