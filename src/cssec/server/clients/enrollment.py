"""Clients: one-time install tokens, enrollment by the three install routes, and
authenticating an enrolled client's calls.

Install routes (the FAQ's): Web install and remote install need a one-time token made in
the Web manager (a remote one is bound to the host it was made for); the AutoPcc route
needs no token and is accepted only from the networks in `autopcc_networks`. Every route
is allowed in every license state, and still asks `core.policy.decide`, so the rule stays
in one table.

Tokens are 32 random bytes; only their SHA-256 is stored and compared in constant time.
The text the administrator copies also carries the fingerprint of the server's TLS
certificate (`cssec.core.install_tokens`), so the client checks the server before it sends
the token; the fingerprint is not part of what is hashed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.core.install_tokens import join_install_token, split_install_token
from cssec.core.names import HOST_NAME, check_name
from cssec.core.policy import Operation
from cssec.server.clients.errors import (
    AutoPccNotAllowed,
    InstallTokenExpired,
    InstallTokenInvalid,
    InstallTokenWrongHost,
)
from cssec.server.licensing.state import check_license
from cssec.server.logs.client_logs import add_connection
from cssec.server.logs.events import Level, add_event
from cssec.server.models import Client, ConnectionLogEntry, InstallToken
from cssec.web.security import constant_time_equal, new_token

TOKEN_BYTES = 32


class VendorKeysNotPinned(CssecError):
    """A server installed offline with only the vendor key's fingerprint holds no key yet:
    a client could verify no component, so it is not installed half-way."""

    code = "vendor_keys_not_pinned"
    status = 409
    message_ja = (
        "このC/S Sec. サーバはライセンスサーバの公開鍵をまだ保持していないため、クライアントを"
        "インストールできません（鍵の指紋だけでオフラインインストールしたサーバです）。"
        "サーバ管理者が「cssec server license request --out REQ.json」で更新要求ファイルを"
        "作り、法人お問合せ窓口から受け取った応答ファイルを「cssec server license import "
        "RESP.json」で取り込んでから、もう一度インストールしてください。"
    )
    message_en = (
        "This C/S Sec. server holds none of the license service's public keys yet, so no client "
        "can be installed (it was installed offline with the key's fingerprint only). The "
        "server's administrator writes a request with `cssec server license request --out "
        "REQ.json`, imports the support desk's answer with `cssec server license import "
        "RESP.json`, then install again."
    )


class Route(StrEnum):
    WEB = "web"
    REMOTE = "remote"
    AUTOPCC = "autopcc"

    @property
    def operation(self) -> Operation:
        return _ROUTE_OPERATIONS[self]


_ROUTE_OPERATIONS = {
    Route.WEB: Operation.CLIENT_INSTALL_WEB,
    Route.REMOTE: Operation.CLIENT_INSTALL_REMOTE,
    Route.AUTOPCC: Operation.CLIENT_INSTALL_AUTOPCC,
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_hostname(name: str) -> str:
    return name.strip().rstrip(".").casefold()


def same_host(expected: str, actual: str) -> bool:
    """Equal names, or one is the other's short name (PC01 vs pc01.example.local)."""
    a, b = normalize_hostname(expected), normalize_hostname(actual)
    if not a or not b:
        return False
    if a == b:
        return True
    if "." in a and "." in b:
        return False
    return a.split(".", 1)[0] == b.split(".", 1)[0]


def in_networks(ip: str, networks: Iterable[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


@dataclass(frozen=True)
class IssuedToken:
    """The plaintext token exists only here, to be shown once."""

    token: str
    route: Route
    hostname: str | None
    expires_at: datetime
    fingerprint: str | None = None
    """The server certificate's fingerprint when the token was made over HTTPS."""

    @property
    def text(self) -> str:
        """What the administrator copies: the token and, over HTTPS, the fingerprint."""
        return join_install_token(self.token, self.fingerprint)


def issue_install_token(
    session: Session,
    *,
    route: Route,
    hostname: str | None = None,
    now: datetime,
    lifetime: timedelta,
    actor: str,
    fingerprint: str | None = None,
) -> IssuedToken:
    if route is Route.AUTOPCC:
        raise ValueError("the AutoPcc route takes no token")
    if route is Route.REMOTE and not (hostname and normalize_hostname(hostname)):
        raise ValueError("a remote install token needs a host name")
    if hostname is not None:
        check_name(hostname, HOST_NAME)
    host = hostname.strip() if route is Route.REMOTE and hostname else None
    token = new_token(TOKEN_BYTES)
    expires_at = now + lifetime
    session.add(
        InstallToken(
            token_hash=token_hash(token),
            route=route.value,
            hostname=host,
            created_at=now,
            created_by=actor,
            expires_at=expires_at,
        )
    )
    until = f"{expires_at.astimezone(UTC):%Y-%m-%d %H:%M} (UTC)"
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind=f"client.install_token_{route.value}",
        message={
            "ja": f"{actor}がクライアントのインストールトークン ({route.value}"
            + (f"、ホスト {host}" if host else "")
            + f")を発行しました。有効期限: {until}。",
            "en": f"{actor} issued a client install token ({route.value}"
            + (f", host {host}" if host else "")
            + f"), valid until {until}.",
        },
        details={"route": route.value, "hostname": host, "actor": actor},
    )
    session.commit()
    return IssuedToken(
        token=token, route=route, hostname=host, expires_at=expires_at, fingerprint=fingerprint
    )


@dataclass(frozen=True)
class EnrollRequest:
    route: Route
    install_token: str | None
    hostname: str
    os: str
    agent_version: str
    ip: str


@dataclass(frozen=True)
class Enrolled:
    client: Client
    token: str


def _consume_token(
    session: Session, request: EnrollRequest, *, now: datetime, tz: tzinfo
) -> InstallToken:
    supplied = split_install_token(request.install_token)[0] if request.install_token else ""
    digest = token_hash(supplied)
    row = session.scalars(select(InstallToken).where(InstallToken.token_hash == digest)).first()
    if (
        not supplied
        or row is None
        or not constant_time_equal(row.token_hash, digest)
        or row.route != request.route.value
        or row.used_at is not None
    ):
        raise InstallTokenInvalid()
    if now >= row.expires_at:
        local = row.expires_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        raise InstallTokenExpired(expires_at=local)
    if row.hostname is not None and not same_host(row.hostname, request.hostname):
        raise InstallTokenWrongHost(expected=row.hostname, actual=request.hostname)
    # Single use even under concurrent enrollments: only one UPDATE can match.
    claimed = session.execute(
        update(InstallToken)
        .where(InstallToken.id == row.id, InstallToken.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise InstallTokenInvalid()
    return row


def enroll_client(
    session: Session,
    request: EnrollRequest,
    *,
    now: datetime,
    tz: tzinfo,
    autopcc_networks: Iterable[str],
    vendor_keys_pinned: bool = True,
) -> Enrolled:
    """A new client and its token, or the CssecError saying why not (nothing written).

    `vendor_keys_pinned`: whether the server holds a vendor key to hand the client (it
    does not after an offline install by fingerprint, until a response file is imported)."""
    check_name(request.hostname, HOST_NAME)
    check_license(session, request.route.operation, now=now, tz=tz)
    if not vendor_keys_pinned:
        raise VendorKeysNotPinned()
    token_row: InstallToken | None = None
    if request.route is Route.AUTOPCC:
        if not in_networks(request.ip, autopcc_networks):
            raise AutoPccNotAllowed(ip=request.ip)
    else:
        token_row = _consume_token(session, request, now=now, tz=tz)
    token = new_token(TOKEN_BYTES)
    client = Client(
        uid=str(uuid.uuid4()),
        token_hash=token_hash(token),
        hostname=request.hostname,
        os=request.os,
        agent_version=request.agent_version,
        route=request.route.value,
        enrolled_at=now,
        enrolled_ip=request.ip,
        last_contact_at=now,
        last_ip=request.ip,
    )
    session.add(client)
    session.flush()
    if token_row is not None:
        token_row.client_id = client.id
    add_connection(session, at=now, client=client, ip=request.ip, action="enroll", status="ok")
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="client.enrolled",
        message={
            "ja": f"クライアント {request.hostname} ({request.ip})をインストールしました"
            f" (経路: {request.route.value})。",
            "en": f"Client {request.hostname} ({request.ip}) installed"
            f" (route: {request.route.value}).",
        },
        details={"client": client.uid, "route": request.route.value, "ip": request.ip},
    )
    session.commit()
    return Enrolled(client=client, token=token)


def authenticate_client(
    session: Session, token: str, *, ip: str, action: str, now: datetime
) -> tuple[Client, int] | None:
    """The client holding `token` and the id of the connection status log row that records
    this call; commits. None (nothing written) for an unknown token: the caller logs and
    limits those."""
    digest = token_hash(token)
    client = session.scalars(select(Client).where(Client.token_hash == digest)).first()
    if client is None or not constant_time_equal(client.token_hash, digest):
        session.rollback()
        return None
    client.last_contact_at = now
    client.last_ip = ip
    entry = add_connection(session, at=now, client=client, ip=ip, action=action, status="ok")
    session.commit()
    return client, entry.id


def record_heartbeat(
    session: Session, client_id: int, *, status: str, now: datetime, entry_id: int | None
) -> None:
    """The client's reported status, on the client and on this call's log row; commits."""
    client = session.get(Client, client_id)
    if client is None:
        return
    client.last_heartbeat_at = now
    client.last_status = status[:32]
    entry = session.get(ConnectionLogEntry, entry_id) if entry_id is not None else None
    if entry is not None:
        entry.status = status[:64]
    session.commit()


def is_online(client: Client, *, now: datetime, offline_after: timedelta) -> bool:
    """Any contact counts (enrollment, update, log upload, heartbeat): each one authenticates
    and moves last_contact_at, so a client that has just installed is online."""
    seen = max(filter(None, (client.last_contact_at, client.last_heartbeat_at)), default=None)
    return seen is not None and now - seen <= offline_after


def recent_install_tokens(session: Session, route: Route, *, limit: int = 20) -> list[InstallToken]:
    """The latest tokens of a route (never the tokens themselves: only their hashes exist)."""
    query = (
        select(InstallToken)
        .where(InstallToken.route == route.value)
        .order_by(InstallToken.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query).all())


def token_status(row: InstallToken, *, now: datetime) -> str:
    """used | expired | pending"""
    if row.used_at is not None:
        return "used"
    return "expired" if now >= row.expires_at else "pending"
