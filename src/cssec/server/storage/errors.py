"""Database and file-system failures as one clear CssecError (for the CLI's one line)."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from cssec.core.errors import CssecError


class DataDiskFull(CssecError):
    """The database or a file in the data directory could not grow: its disk is full."""

    code = "data_disk_full"
    status = 507
    message_ja = (
        "データディレクトリ ({path})のあるディスクがいっぱいのため、処理を保存できませんでした"
        " (保存できなかった変更は適用されていません)。空き容量を確保してから、"
        "もう一度実行してください。"
    )
    message_en = (
        "The disk holding the data directory ({path}) is full, so the command could not save "
        "its work (what was not saved did not take effect). Free some space, then run the "
        "command again."
    )


class DataDirUnusable(CssecError):
    """The database or a file in the data directory failed for another reason."""

    code = "data_dir_error"
    status = 500
    message_ja = (
        "データディレクトリ ({path})のデータベースまたはファイルを読み書きできませんでした "
        "({detail})。ディスクの状態とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "The database or a file in the data directory ({path}) could not be used ({detail}). "
        "Check the disk and its permissions, then run the command again."
    )


STORAGE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error, OSError)


"""What `storage_error` knows how to explain."""


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


_PG_DISK_FULL = "53100"


NEARLY_FULL_BYTES = 64 * 1024


"""Below this much free space on the data directory's disk, a failure is put down to it
(SQLite reports a full disk as "disk I/O error" when its shared-memory file cannot grow)."""


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)
    return getattr(exc, "sqlstate", None) == _PG_DISK_FULL


def _no_space_left(path: Path | str) -> bool:
    try:
        stats = os.statvfs(path)
    except (OSError, AttributeError):  # no such directory; no statvfs on this platform
        return False
    return stats.f_bavail * stats.f_frsize < NEARLY_FULL_BYTES


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        where = f" ({exc.filename})" if exc.filename else ""
        return _one_line(f"{name}: {exc.strerror or exc}{where}")
    return _one_line(f"{type(exc).__name__}: {exc}")


def storage_error(exc: BaseException, *, path: Path | str) -> CssecError | None:
    """The CssecError explaining a database or OS failure; None for any other exception."""
    if not isinstance(exc, STORAGE_ERRORS):
        return None
    cause: BaseException = exc
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        cause = orig if isinstance(orig, BaseException) else exc
    if _disk_full(cause) or _no_space_left(path):
        return DataDiskFull(path=str(path))
    return DataDirUnusable(path=str(path), detail=_detail(cause))
