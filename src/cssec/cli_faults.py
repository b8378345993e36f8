"""How a fault leaves a `cssec` command: one line, ``error: <code>: <message>``, and the
CssecError that explains an OS error or a database fault (re-exported by cssec.clikit).

Typer and `cssec.core` only: database errors are recognised through `sys.modules`, never
imported, so the client stays light.
"""

from __future__ import annotations

import errno
import sys

from cssec.core.errors import CssecError


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_line(error: CssecError, lang: str, message: str | None = None) -> str:
    """``error: <code>: <message>``; `message` replaces the error's own (a command's
    sentence around it), in the same language."""
    return f"error: {error.code}: {one_line(message or error.message(lang))}"


class Fault(Exception):
    """A fault of the machine (OS, database, key files), explained by `error`: exits 2."""

    def __init__(self, error: CssecError) -> None:
        super().__init__(str(error))
        self.error = error


class DiskFull(CssecError):
    code = "disk_full"
    status = 507
    message_ja = (
        "ディスクがいっぱいのため書き込めませんでした ({where})。保存できなかった変更は"
        "適用されていません。空き容量を確保してから、もう一度実行してください。"
    )
    message_en = (
        "The disk is full, so nothing more could be written ({where}); what was not saved "
        "did not take effect. Free some space, then run the command again."
    )


class PermissionDenied(CssecError):
    code = "permission_denied"
    status = 500
    message_ja = (
        "アクセス権がないため読み書きできませんでした ({where})。"
        "ファイルとディレクトリの所有者とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "Permission denied ({where}). Check the owner and permissions of the file and its "
        "directory, then run the command again."
    )


class OsFailure(CssecError):
    code = "os_error"
    status = 500
    message_ja = (
        "ファイルまたはシステムの操作に失敗しました ({detail})。"
        "パス、ディスクの状態とアクセス権を確認してから、もう一度実行してください。"
    )
    message_en = (
        "A file or system operation failed ({detail}). Check the path, the disk and its "
        "permissions, then run the command again."
    )


class DatabaseFault(CssecError):
    code = "database_error"
    status = 500
    message_ja = (
        "データベースを使用できませんでした ({detail})。データベースの場所、ディスクの状態と"
        "アクセス権 (PostgreSQLの場合は接続先)を確認してから、もう一度実行してください。"
    )
    message_en = (
        "The database could not be used ({detail}). Check where it is, the disk and its "
        "permissions (or, for PostgreSQL, the connection), then run the command again."
    )


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_DATABASE_ERRORS = (
    ("sqlalchemy.exc", "DBAPIError"),
    ("sqlite3", "Error"),
    ("psycopg", "Error"),
)


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class from a module already imported (one that is not cannot have
    raised anything)."""
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _database_error(exc: BaseException) -> bool:
    return any(
        cls is not None and isinstance(exc, cls)
        for cls in (_loaded(module, name) for module, name in _DATABASE_ERRORS)
    )


def _clip(text: str, limit: int = 300) -> str:
    line = one_line(text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def explain_fault(exc: BaseException) -> CssecError | None:
    """The CssecError for an OS error or a database fault; None for anything else (a bug
    keeps its traceback)."""
    if isinstance(exc, OSError):
        where = str(exc.filename) if exc.filename else (exc.strerror or type(exc).__name__)
        if exc.errno in _FULL:
            return DiskFull(where=where)
        if exc.errno in _DENIED:
            return PermissionDenied(where=where)
        name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        suffix = f" ({exc.filename})" if exc.filename else ""
        return OsFailure(detail=_clip(f"{name}: {exc.strerror or exc}{suffix}"))
    if _database_error(exc):
        cause = getattr(exc, "orig", None)
        shown = cause if isinstance(cause, BaseException) else exc
        text = f"{type(shown).__name__}: {shown}"
        if "disk is full" in text or getattr(shown, "sqlstate", None) == "53100":
            return DiskFull(where=_clip(text))
        return DatabaseFault(detail=_clip(text))
    return None
