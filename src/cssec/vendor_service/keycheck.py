"""The vendor's keys against its database: a lost or swapped key never passes unnoticed.

What the database references:

- every registration key and activation code carries the HMAC kid it was issued under,
  and its MAC must verify under that key (a keyring generated afresh also has a kid 1,
  with another secret: the kid alone proves nothing);
- the audit log records each signing key the service rotated to (`key.rotated`); servers
  pinned those public keys, so each must still be in the keyring.

What it cannot see: the first signing key of a service that never rotated is referenced
by nothing in the database (statements are not stored), so a signing key swapped alone,
with the HMAC keys kept, passes until the first rotation. Losing it cannot: its files
missing, with codes issued, is refused like any missing key.

`runtime.open_vendor` checks before opening the keyring (`ensure_keys_present`: no key
files but a database that has issued codes: refuse, never generate new keys) and after
(`check_keys_match`, on one sample per HMAC kid). `/readyz` repeats a cheap form of the
second (the newest code, the referenced signing kids). Either refusal names the way out:
restore the data directory from a backup (`cssec vendor restore`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from cssec.core.codes import check_activation_code, check_registration_key
from cssec.core.errors import CssecError
from cssec.vendor_service.keyring import Keyring, KeyringError

KEY_FILES = ("hmac.json", "signing.json")

_RESTORE_JA = (
    "鍵を作り直すと、発行済みのコードも、サーバが登録した公開鍵も使えなくなるため、起動を"
    "中止しました。「cssec vendor restore BACKUP --data DIR」でバックアップ (鍵とデータベース"
    "の組)を新しいデータディレクトリに復元し、そのディレクトリで起動してください。"
)
_RESTORE_EN = (
    "Making new keys would invalidate every issued code and the public keys servers have "
    "pinned, so the service did not start. Restore a backup (keys and database together) "
    "into a new data directory with `cssec vendor restore BACKUP --data DIR` and start "
    "the service on that directory."
)


class VendorKeysMissing(CssecError):
    code = "vendor_keys_missing"
    status = 500
    message_ja = (
        "ベンダーの鍵ファイルがありません ({path})。データベースは発行済みの鍵を参照して"
        "います。" + _RESTORE_JA
    )
    message_en = (
        "The vendor's key files are missing ({path}), yet the database references keys "
        "it issued under. " + _RESTORE_EN
    )


class VendorKeysMismatch(CssecError):
    code = "vendor_keys_mismatch"
    status = 500
    message_ja = (
        "ベンダーの鍵ファイル ({path})がデータベースと一致しません ({detail})。" + _RESTORE_JA
    )
    message_en = (
        "The vendor's key files ({path}) do not match its database ({detail}). " + _RESTORE_EN
    )


class KeysUnavailable(KeyringError):
    """A KeyringError explained by `error` (what the CLI prints and exits 2 with)."""

    def __init__(self, error: CssecError) -> None:
        super().__init__(error.message("en"))
        self.error = error


def database_references_keys(connection: Connection) -> bool:
    """The database holds anything issued under a key (a code, a key, a rotation)."""
    for table in ("activation_codes", "registration_keys"):
        if connection.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():  # noqa: S608
            return True
    return bool(_referenced_signing_kids(connection))


def ensure_keys_present(engine: Engine, directory: Path) -> bool:
    """Whether the keyring may generate keys (none exist and nothing references any);
    raises KeysUnavailable when the key files are gone but the database references them."""
    present = [(directory / name).exists() for name in KEY_FILES]
    if all(present):
        return False
    with engine.connect() as connection:
        referenced = database_references_keys(connection)
    if referenced:
        raise KeysUnavailable(VendorKeysMissing(path=str(directory)))
    return True


def check_keys_match(engine: Engine, keyring: Keyring, *, every_kid: bool = False) -> None:
    """Raise KeysUnavailable unless the keyring verifies what the database holds: the
    newest code and key (`every_kid`: one of each HMAC kid, which reads the whole table
    once) and every signing kid the audit log recorded."""
    mac_secrets = keyring.mac_secrets  # a damaged keyring raises KeyringError here
    trusted = {key.kid for key in keyring.verifying_keys}
    with engine.connect() as connection:
        codes = _samples(connection, "activation_codes", every_kid=every_kid)
        keys = _samples(connection, "registration_keys", every_kid=every_kid)
        signing = _referenced_signing_kids(connection)
    directory = str(keyring.directory)
    for kid, sample in codes:
        if kid not in mac_secrets or not check_activation_code(sample, mac_secrets).ok:
            raise _mismatch(directory, f"activation codes of HMAC kid {kid}")
    for kid, sample in keys:
        if kid not in mac_secrets or not check_registration_key(sample, mac_secrets).ok:
            raise _mismatch(directory, f"registration keys of HMAC kid {kid}")
    lost = sorted(signing - trusted)
    if lost:
        raise _mismatch(directory, f"signing keys {', '.join(lost)}")


def _mismatch(directory: str, detail: str) -> KeysUnavailable:
    return KeysUnavailable(VendorKeysMismatch(path=directory, detail=detail))


def _samples(connection: Connection, table: str, *, every_kid: bool) -> list[tuple[int, str]]:
    if not every_kid:
        row = connection.execute(
            text(f"SELECT kid, text FROM {table} WHERE text IS NOT NULL ORDER BY id DESC LIMIT 1")  # noqa: S608
        ).first()
        return [(int(row[0]), str(row[1]))] if row else []
    kids = connection.execute(text(f"SELECT DISTINCT kid FROM {table}")).scalars().all()  # noqa: S608
    found = []
    for kid in kids:
        sample = connection.execute(
            text(f"SELECT text FROM {table} WHERE kid = :kid AND text IS NOT NULL LIMIT 1"),  # noqa: S608
            {"kid": kid},
        ).scalar()
        if sample is not None:
            found.append((int(kid), str(sample)))
    return found


def _referenced_signing_kids(connection: Connection) -> set[str]:
    rows = connection.execute(
        text("SELECT after FROM audit_log WHERE action = 'key.rotated'")
    ).scalars()
    kids: set[str] = set()
    for after in rows:
        value: Any = after
        if isinstance(value, str):  # SQLite hands JSON back as text through `text()`
            value = json.loads(value)
        if isinstance(value, dict) and value.get("signing_kid"):
            kids.add(str(value["signing_kid"]))
    return kids


__all__ = [
    "KeysUnavailable",
    "VendorKeysMismatch",
    "VendorKeysMissing",
    "check_keys_match",
    "database_references_keys",
    "ensure_keys_present",
]
