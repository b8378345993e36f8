"""The server's key files against its database: `serve` refuses to start without them.

- `session.key` signs the Web manager's sessions; install writes it. Missing, `serve` used
  to fail with a traceback; now it refuses with the way out.
- `vendor-keys.json` holds the vendor public keys this server pinned. When the database
  says keys were pinned (a slot holds a statement the vendor signed: an online install,
  activation or check verified it with a pinned key), a missing file, or one that lacks
  the kid of such a statement, is not this server's trust: refused, never repaired
  silently (a server that pins on first contact would otherwise pin whatever answers).

- `server-identity.key` is the server's own key: it signs air-gapped renewal requests.
  Install creates it (an older server creates it on first use); once the database
  records a request it signed, a missing key, or another key, could never be matched with
  the responses on their way back: refused.

The way out is the same: restore the data directory from a backup (`cssec server
restore`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, text

from cssec.core.errors import CssecError
from cssec.core.signing import SigningKey
from cssec.server.storage.datadir import DataDir

_RESTORE_JA = (
    "「cssec server restore BACKUP --data DIR」でバックアップを新しいデータディレクトリに"
    "復元し、そのディレクトリで起動してください。"
)
_RESTORE_EN = (
    "Restore a backup into a new data directory with `cssec server restore BACKUP --data "
    "DIR` and start the server on that directory."
)


class ServerKeysMissing(CssecError):
    code = "server_keys_missing"
    status = 500
    message_ja = "サーバの鍵ファイルがないため起動できません ({path})。" + _RESTORE_JA
    message_en = "The server cannot start: a key file is missing ({path}). " + _RESTORE_EN


class ServerKeysMismatch(CssecError):
    code = "server_keys_mismatch"
    status = 500
    message_ja = (
        "ベンダー公開鍵のファイル ({path})がデータベースの記録と一致しないため起動できません"
        " ({detail})。" + _RESTORE_JA
    )
    message_en = (
        "The server cannot start: the vendor public keys file ({path}) does not match what "
        "its database recorded ({detail}). " + _RESTORE_EN
    )


class ServerIdentityKeyMismatch(CssecError):
    code = "server_identity_key_mismatch"
    status = 500
    message_ja = (
        "サーバ識別鍵のファイル ({path})が、保留中のライセンス更新要求に署名した鍵と"
        "一致しないため起動できません ({detail})。" + _RESTORE_JA
    )
    message_en = (
        "The server cannot start: the server identity key ({path}) is not the key that signed "
        "its pending license renewal requests ({detail}). " + _RESTORE_EN
    )


def check_server_keys(data: DataDir, engine: Engine) -> None:
    """Raise ServerKeysMissing / ServerKeysMismatch as the module docstring says."""
    if not data.session_secret.is_file():
        raise ServerKeysMissing(path=str(data.session_secret))
    with engine.connect() as connection:
        recorded = _statement_kids(connection)
        signed = _request_kids(connection)
    _check_identity_key(data, signed)
    if not recorded:
        return
    if not data.vendor_keys.is_file():
        raise ServerKeysMissing(path=str(data.vendor_keys))
    try:
        keys = data.read_vendor_keys()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServerKeysMismatch(path=str(data.vendor_keys), detail=type(exc).__name__) from exc
    lost = sorted(recorded - set(keys))
    if lost:
        raise ServerKeysMismatch(path=str(data.vendor_keys), detail="kid " + ", ".join(lost))


def _check_identity_key(data: DataDir, signed: set[str]) -> None:
    """The server identity key must be there, and be the one, once a request was signed."""
    if not signed:
        return
    if not data.identity_key.is_file():
        raise ServerKeysMissing(path=str(data.identity_key))
    try:
        kid = SigningKey.from_pem(data.identity_key.read_bytes()).kid
    except (OSError, ValueError, TypeError) as exc:
        raise ServerIdentityKeyMismatch(
            path=str(data.identity_key), detail=type(exc).__name__
        ) from exc
    if signed - {kid}:
        raise ServerIdentityKeyMismatch(
            path=str(data.identity_key), detail="kid " + ", ".join(sorted(signed - {kid}))
        )


def _request_kids(connection: Connection) -> set[str]:
    """The kids of the server identity key the pending renewal requests were signed with."""
    rows = connection.execute(
        text("SELECT DISTINCT server_kid FROM license_requests WHERE imported_at IS NULL")
    ).scalars()
    return {str(kid) for kid in rows}


def _statement_kids(connection: Connection) -> set[str]:
    """The kids of the statements the slots hold: each was verified with a pinned key."""
    rows = connection.execute(
        text("SELECT statement FROM license_slots WHERE statement IS NOT NULL")
    ).scalars()
    kids: set[str] = set()
    for statement in rows:
        value: Any = json.loads(statement) if isinstance(statement, str) else statement
        if isinstance(value, dict) and isinstance(value.get("kid"), str):
            kids.add(value["kid"])
    return kids


__all__ = [
    "ServerIdentityKeyMismatch",
    "ServerKeysMismatch",
    "ServerKeysMissing",
    "check_server_keys",
]
