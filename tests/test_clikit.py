"""cssec.clikit: the language rule, the faults it explains, and the client staying light."""

from __future__ import annotations

import errno
import sqlite3
import subprocess
import sys

import pytest

from cssec.clikit import (
    DatabaseFault,
    DiskFull,
    OsFailure,
    PermissionDenied,
    error_line,
    explain_fault,
    language_from_env,
)
from cssec.core.errors import InvalidActivationCode


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "ja"),
        ({"LANG": "C"}, "ja"),
        ({"LANG": "POSIX"}, "ja"),
        ({"LANG": "C.UTF-8"}, "ja"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "de_DE.UTF-8"}, "ja"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": ""}, "ja"),
    ],
)
def test_language_from_env(environ: dict[str, str], expected: str) -> None:
    assert language_from_env(environ) == expected


def test_os_errors_are_explained() -> None:
    full = explain_fault(OSError(errno.ENOSPC, "No space left on device", "/data/x"))
    assert isinstance(full, DiskFull)
    assert "/data/x" in full.message("en")
    denied = explain_fault(PermissionError(errno.EACCES, "Permission denied", "/data"))
    assert isinstance(denied, PermissionDenied)
    other = explain_fault(NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a/b"))
    assert isinstance(other, OsFailure)
    assert "ENOTDIR" in other.message("ja")


def test_database_errors_are_explained() -> None:
    assert isinstance(explain_fault(sqlite3.OperationalError("unable to open")), DatabaseFault)
    full = explain_fault(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(full, DiskFull)


def test_other_exceptions_keep_their_traceback() -> None:
    assert explain_fault(ValueError("a bug")) is None
    assert explain_fault(KeyError("a bug")) is None


def test_error_line_is_one_line_in_the_chosen_language() -> None:
    error = InvalidActivationCode(detail_ja="入力誤り", detail_en="a typo")
    ja = error_line(error, "ja")
    en = error_line(error, "en")
    assert ja.startswith("error: invalid_activation_code: 無効なアクティベーションコード")
    assert en.startswith("error: invalid_activation_code: Invalid activation code (a typo)")
    assert "\n" not in ja + en


def test_the_client_cli_stays_light() -> None:
    """`cssec client` loads neither a web nor a database stack nor the other parts."""
    probe = (
        "import sys, cssec.cli, cssec.client.cli\n"
        "heavy = ('fastapi', 'sqlalchemy', 'starlette', 'cssec.server', 'cssec.vendor_service')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(heavy[3:])))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
