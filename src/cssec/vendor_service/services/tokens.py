"""Admin API tokens: made by an admin (CLI or console), shown once, kept as a hash.

A token is `cssec_` followed by 43 characters of base64url: 256 random bits. Only its
SHA-256 is stored. A slow password hash (argon2) would add nothing here: it protects
low-entropy secrets against guessing, and nobody can guess 256 random bits, so the cost
it adds to every API call would buy no security. A leaked database therefore yields no
usable token. The lookup is by the hash (an indexed equality), and the stored hash is
then compared in constant time; what timing could reveal is about the hash, not about a
token, and finding a token from its hash is a preimage attack on SHA-256.

Scopes are per resource and verb (`SCOPES`); a token can do exactly what its scopes
name. Tokens cannot make tokens: that stays with admins on the CLI and the console.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cssec.vendor_service.api_errors import (
    ApiTokenExpired,
    ApiTokenNotFound,
    ApiTokenRevoked,
    InvalidApiToken,
    InvalidTokenRequest,
    TokenNameTaken,
)
from cssec.vendor_service.models import ApiToken
from cssec.vendor_service.services._context import now_utc, read_transaction, transaction
from cssec.vendor_service.services.audit import record_audit

PREFIX = "cssec_"
SCOPES: dict[str, dict[str, str]] = {
    "contracts:read": {"en": "read customers and contracts", "ja": "顧客と契約の参照"},
    "contracts:write": {
        "en": "create and renew contracts, change contacts",
        "ja": "契約の作成・更新、連絡先の変更",
    },
    "codes:read": {
        "en": "inspect codes, preview revocations",
        "ja": "コードの調査、失効の事前確認",
    },
    "codes:write": {"en": "issue replacement codes", "ja": "再発行コードの発行"},
    "codes:revoke": {"en": "revoke codes", "ja": "コードの失効"},
    "bulk:write": {"en": "run bulk batches, download their results", "ja": "一括発行と結果の取得"},
    "usage:read": {"en": "read seat usage reports", "ja": "ライセンス使用数の参照"},
    "webhooks:read": {"en": "list webhooks and deliveries", "ja": "Webhookと配信ログの参照"},
    "webhooks:write": {"en": "add, remove, redeliver webhooks", "ja": "Webhookの追加・削除・再送"},
    "audit:read": {"en": "read the audit log", "ja": "監査ログの参照"},
}
"""Every scope, with what it allows (ja/en)."""

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_DAYS = 3660
TOUCH_EVERY = timedelta(minutes=1)
"""last_used_at is written at most this often per token (not a write on every read)."""


@dataclass(frozen=True)
class TokenView:
    """A token as lists show it: never the token itself."""

    id: int
    name: str
    hint: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class CreatedToken:
    view: TokenView
    token: str
    """The one time it exists outside the caller's hands."""


@dataclass(frozen=True)
class Principal:
    """The caller of an admin API request, once its token checked out."""

    token_id: int
    name: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        """How the audit log names it."""
        return f"token:{self.name}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        hint=row.hint,
        scopes=list(row.scopes),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _refuse(ja: str, en: str) -> InvalidTokenRequest:
    return InvalidTokenRequest(detail_ja=ja, detail_en=en)


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes, de-duplicated in catalog order; an unknown one is refused by name."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        names = ", ".join(SCOPES)
        raise _refuse(
            f"スコープ {', '.join(unknown)}はありません（使えるもの: {names}）",
            f"there is no scope {', '.join(unknown)} (use: {names})",
        )
    if not wanted:
        raise _refuse("スコープを1つ以上指定してください", "give at least one scope")
    return [s for s in SCOPES if s in wanted]


def create_token(
    session: Session,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    actor: str,
) -> CreatedToken:
    """A new token; its text is returned here and never again. Audited as token.created."""
    name = name.strip()
    if not NAME.fullmatch(name):
        raise _refuse(
            "名前は英数字で始まる 1〜64 文字の英数字・「.」「_」「-」で指定してください",
            "the name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    chosen = check_scopes(scopes)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise _refuse(
            f"有効期限は 1〜{MAX_DAYS} 日で指定してください",
            f"the expiry must be 1 to {MAX_DAYS} days",
        )
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction(session):
        now = now_utc(session)
        if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
            raise TokenNameTaken(name=name)
        row = ApiToken(
            name=name,
            token_hash=token_hash(token),
            hint=token[: len(PREFIX) + 4],
            scopes=chosen,
            created_at=now,
            created_by=actor,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise TokenNameTaken(name=name) from None
        record_audit(
            session,
            actor=actor,
            action="token.created",
            target=f"token:{name}",
            before=None,
            after={
                "scopes": chosen,
                "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            },
        )
        view = _view(row)
    return CreatedToken(view=view, token=token)


def list_tokens(session: Session) -> list[TokenView]:
    with read_transaction(session):
        return [_view(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(session: Session, name: str, *, actor: str) -> TokenView:
    """Stop a token from working at once. Revoking a revoked token changes nothing.
    Audited as token.revoked."""
    with transaction(session):
        row = session.scalar(select(ApiToken).where(ApiToken.name == name.strip()))
        if row is None:
            raise ApiTokenNotFound(name=name)
        if row.revoked_at is None:
            row.revoked_at = now_utc(session)
            row.revoked_by = actor
            record_audit(
                session,
                actor=actor,
                action="token.revoked",
                target=f"token:{row.name}",
                before={"revoked_at": None},
                after={"revoked_at": row.revoked_at.isoformat()},
            )
        view = _view(row)
    return view


def authenticate_token(
    session: Session, token: str, *, touch: Callable[[int, datetime], None] | None = None
) -> Principal:
    """The principal of a presented token, or InvalidApiToken / ApiTokenExpired /
    ApiTokenRevoked. Notes the last use (at most once a minute): through `touch(token_id,
    at)` when given (the API queues it, `services.api_activity`), else at once."""
    digest = token_hash(token)
    now = now_utc(session)
    with read_transaction(session):
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        found = None if row is None else _view(row)
        stored = "" if row is None else row.token_hash
    if found is None or not hmac.compare_digest(stored, digest) or not token.startswith(PREFIX):
        raise InvalidApiToken()
    if found.revoked_at is not None:
        raise ApiTokenRevoked(name=found.name, revoked_at=found.revoked_at.isoformat())
    if found.expires_at is not None and found.expires_at <= now:
        raise ApiTokenExpired(name=found.name, expired_at=found.expires_at.isoformat())
    if found.last_used_at is not None and now - found.last_used_at < TOUCH_EVERY:
        pass
    elif touch is not None:
        touch(found.id, now)
    else:
        with transaction(session):
            session.execute(
                update(ApiToken).where(ApiToken.id == found.id).values(last_used_at=now)
            )
    return Principal(token_id=found.id, name=found.name, scopes=frozenset(found.scopes))
