"""`cssec vendor backup` / `cssec vendor restore` (the archive: `cssec.web.backup`).

Backed up: the database (SQLite through the online backup API, so `serve` keeps running;
PostgreSQL through `pg_dump` when it is on PATH, refused with a clear message otherwise),
the keys (`keys/`: HMAC and signing keys, endorsements, the console's session secret),
the published ActiveUpdate files, and the non-secret settings in effect (recorded in the
manifest for the operator; settings come from CSSEC_VENDOR_*, not from the archive); never
`keys/backup.key`, which authenticates the archive and a restore is given (--key-file).

Restored: into a new or empty data directory only; a PostgreSQL dump is loaded into the
database CSSEC_VENDOR_DATABASE_URL names (it must be empty). The restored service opens
normally: the key check of `runtime.open_vendor` (`keycheck`) finds the keys that match.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.core.errors import CssecError
from cssec.vendor_service.runtime import database_url, share_activeupdate
from cssec.vendor_service.settings import VendorSettings
from cssec.web.backup import (
    BackupPlan,
    Restored,
    libpq_url,
    load_or_create_key,
    pg_dump,
    pg_restore,
    read_backup,
    read_key,
    skip_names,
    sqlite_dump,
    write_backup,
)

KIND = "vendor"
KEY_FILE = "keys/backup.key"
SQLITE_FILES = ("vendor.db", "vendor.db-wal", "vendor.db-shm", "vendor.db-journal")
SECRET_SETTINGS = frozenset({"data_dir", "database_url", "session_secret", "metrics_token"})


class PostgresTargetRequired(CssecError):
    code = "restore_database_required"
    status = 400
    message_ja = (
        "このバックアップのデータベースは PostgreSQLです。復元先の空のデータベースを "
        "CSSEC_VENDOR_DATABASE_URLで指定してから、もう一度実行してください。"
    )
    message_en = (
        "This backup's database is PostgreSQL. Point CSSEC_VENDOR_DATABASE_URL at an empty "
        "database to restore it into, then run the command again."
    )


class NothingToBackUp(CssecError):
    code = "backup_source_missing"
    status = 404
    message_ja = (
        "{path}にはベンダーサービスのデータ (データベースと鍵)がありません。--dataで"
        "バックアップするデータディレクトリを指定してください。"
    )
    message_en = (
        "{path} holds no vendor service data (database and keys). Give the data directory "
        "to back up with --data."
    )


def _settings_record(settings: VendorSettings) -> dict[str, Any]:
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    return {key: value for key, value in values.items() if value is not None}


def backup_vendor(
    settings: VendorSettings, out: Path, *, now: datetime, force: bool = False
) -> dict[str, Any]:
    """Write the vendor's backup to `out`, authenticated with keys/backup.key (made at the
    first backup; never in the archive); returns the manifest."""
    root = settings.data_dir
    if not (root / "keys" / "hmac.json").is_file() or (
        settings.database_url is None and not (root / "vendor.db").is_file()
    ):
        raise NothingToBackUp(path=str(root))
    if settings.database_url is None:
        database, dump = "sqlite", sqlite_dump(root / "vendor.db")
    else:
        database, dump = "postgresql", pg_dump(libpq_url(database_url(settings)))
    skip_files = skip_names(root, SQLITE_FILES, prefixes=(".",))
    key_file = root / KEY_FILE
    plan = BackupPlan(
        kind=KIND,
        data_dir=root,
        database=database,
        dump=dump,
        skip=lambda path: path == key_file or skip_files(path),
        settings=_settings_record(settings),
        key=load_or_create_key(key_file),
    )
    return write_backup(plan, out, now=now, force=force)


def restore_vendor(archive: Path, settings: VendorSettings, *, key_file: Path | None) -> Restored:
    """Restore `archive` into `settings.data_dir` (new or empty) once it proves authentic
    under the key in `key_file` (the backed-up service's keys/backup.key, kept)."""
    key = read_key(key_file) if key_file is not None else None
    restored = read_backup(
        archive, kind=KIND, target=settings.data_dir, key=key,
        key_name=f"<data>/{KEY_FILE}", key_path=KEY_FILE,
    )  # fmt: skip
    share_activeupdate(settings.data_dir)
    dump = restored.database_file
    if dump is not None:
        try:
            if settings.database_url is None:
                raise PostgresTargetRequired()
            pg_restore(dump, libpq_url(settings.database_url))
        finally:
            dump.unlink(missing_ok=True)
            dump.parent.rmdir()
    return restored


__all__ = ["backup_vendor", "restore_vendor"]
