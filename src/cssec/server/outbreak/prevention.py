"""Outbreak prevention (大規模感染予防): set a policy, deploy it to all or chosen clients,
release it; clients learn it from the heartbeat and report back whether they applied it.

A saved policy never changes: saving again makes a new policy (a new id), so a client knows
from the id alone whether it holds the current one. Each client has one assignment, the last
deploy or release issued to it. A deploy is answered on every heartbeat (a client that lost
its state applies it again); a release is answered until the client reports it released.
Set, deploy and release are allowed in every license state and still ask `core.policy`.
Every action is written to the system event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cssec.core.license import LicenseState, Product
from cssec.core.plural import count_en
from cssec.core.policy import Operation, decide
from cssec.server.clients.errors import ClientNotFound
from cssec.server.logs.events import Level, add_event
from cssec.server.models import Client, OutbreakAssignment, OutbreakPolicy
from cssec.server.outbreak.errors import (
    InvalidOutbreakPolicy,
    NoClientsChosen,
    NoOutbreakPolicy,
    OutbreakNotDeployed,
    OutbreakPolicyMismatch,
)
from cssec.server.protection.entry_lists import clean_entries

MAX_ENTRIES = 100
MAX_ENTRY_LENGTH = 1024
DEPLOY = "deploy"
RELEASE = "release"
ACTION_OPERATIONS = {
    DEPLOY: Operation.OUTBREAK_PREVENTION_DEPLOY,
    RELEASE: Operation.OUTBREAK_PREVENTION_RELEASE,
}


@dataclass(frozen=True)
class PolicyDraft:
    deny_write_shares: list[str]
    block_ports: list[int]
    deny_files: list[str]


def _lines(value: str | Iterable[str], what_ja: str, what_en: str) -> list[str]:
    items = value.splitlines() if isinstance(value, str) else list(value)
    return clean_entries(
        (str(raw) for raw in items),
        max_length=MAX_ENTRY_LENGTH,
        max_count=MAX_ENTRIES,
        unusable=lambda item: InvalidOutbreakPolicy(
            detail_ja=f"{what_ja}に使えない値があります ({item[:60]})",
            detail_en=f"unusable value in {what_en} ({item[:60]})",
        ),
        too_many=lambda: InvalidOutbreakPolicy(
            detail_ja=f"{what_ja}は {MAX_ENTRIES} 件までです",
            detail_en=f"at most {MAX_ENTRIES} entries in {what_en}",
        ),
    )


def _ports(value: str | Iterable[int | str]) -> list[int]:
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    ports: list[int] = []
    for raw in items:
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit() or not 1 <= int(text) <= 65535:
            raise InvalidOutbreakPolicy(
                detail_ja=f"ポート番号は 1～65535の整数で指定してください ({text[:20]})",
                detail_en=f"ports are whole numbers from 1 to 65535 ({text[:20]})",
            )
        if int(text) not in ports:
            ports.append(int(text))
    if len(ports) > MAX_ENTRIES:
        raise InvalidOutbreakPolicy(
            detail_ja=f"ポートは {MAX_ENTRIES} 件までです",
            detail_en=f"at most {MAX_ENTRIES} ports",
        )
    return sorted(ports)


def parse_policy(
    *,
    deny_write_shares: str | Iterable[str],
    block_ports: str | Iterable[int | str],
    deny_files: str | Iterable[str],
) -> PolicyDraft:
    """Validated lists (text: one a line; ports also comma-separated), or the error."""
    draft = PolicyDraft(
        deny_write_shares=_lines(deny_write_shares, "共有フォルダ", "shared folders"),
        block_ports=_ports(block_ports),
        deny_files=_lines(deny_files, "ファイル", "files"),
    )
    if not (draft.deny_write_shares or draft.block_ports or draft.deny_files):
        raise InvalidOutbreakPolicy(
            detail_ja="制限する共有フォルダ・ポート・ファイルのいずれかを指定してください",
            detail_en="give at least one shared folder, port or file to restrict",
        )
    return draft


def current_policy(session: Session) -> OutbreakPolicy | None:
    return session.scalars(select(OutbreakPolicy).order_by(OutbreakPolicy.id.desc())).first()


def _summary(policy: OutbreakPolicy | PolicyDraft) -> dict[str, Any]:
    return {
        "deny_write_shares": list(policy.deny_write_shares),
        "block_ports": list(policy.block_ports),
        "deny_files": list(policy.deny_files),
    }


def set_policy(
    session: Session, draft: PolicyDraft, *, state: LicenseState, now: datetime, actor: str
) -> OutbreakPolicy:
    """Save a new policy (not deployed yet); one system event; commits."""
    decide(Product.CS, state, Operation.OUTBREAK_PREVENTION_SET).raise_if_refused()
    policy = OutbreakPolicy(created_at=now, created_by=actor, **_summary(draft))
    session.add(policy)
    session.flush()
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="outbreak_prevention.set",
        message={
            "ja": f"{actor}が大規模感染予防ポリシー #{policy.id}を設定しました"
            f" (共有フォルダ {len(draft.deny_write_shares)} 件、ポート {len(draft.block_ports)}"
            f" 件、ファイル {len(draft.deny_files)} 件)。",
            "en": f"{actor} set outbreak prevention policy #{policy.id}"
            f" ({count_en(len(draft.deny_write_shares), 'shared folder')},"
            f" {count_en(len(draft.block_ports), 'port')},"
            f" {count_en(len(draft.deny_files), 'file')}).",
        },
        details={"policy": policy.id, **_summary(draft), "actor": actor},
    )
    session.commit()
    return policy


def _targets(session: Session, client_ids: Sequence[int] | None) -> list[Client]:
    if client_ids is None:
        return list(session.scalars(select(Client).order_by(Client.hostname, Client.id)))
    if not client_ids:
        raise NoClientsChosen()
    clients = list(session.scalars(select(Client).where(Client.id.in_(list(client_ids)))))
    missing = set(client_ids) - {c.id for c in clients}
    if missing:
        raise ClientNotFound(client=", ".join(str(i) for i in sorted(missing)))
    return clients


def _assignments(session: Session, client_ids: Iterable[int]) -> dict[int, OutbreakAssignment]:
    rows = session.scalars(
        select(OutbreakAssignment).where(OutbreakAssignment.client_id.in_(list(client_ids)))
    )
    return {row.client_id: row for row in rows}


def _issue(row: OutbreakAssignment, action: str, *, now: datetime, actor: str) -> None:
    """A new instruction for the client: nothing it reported about the last one still holds."""
    row.action = action
    row.issued_at = now
    row.issued_by = actor
    row.applied = None
    row.reported_at = None
    row.detail = None


def deploy_policy(
    session: Session,
    client_ids: Sequence[int] | None,
    *,
    state: LicenseState,
    now: datetime,
    actor: str,
) -> int:
    """Deploy the current policy to the clients (None: all); one event; commits."""
    decide(Product.CS, state, Operation.OUTBREAK_PREVENTION_DEPLOY).raise_if_refused()
    policy = current_policy(session)
    if policy is None:
        raise NoOutbreakPolicy()
    clients = _targets(session, client_ids)
    if not clients:
        raise NoClientsChosen()
    existing = _assignments(session, (c.id for c in clients))
    for client in clients:
        row = existing.get(client.id)
        if row is None:
            row = OutbreakAssignment(client_id=client.id)
            session.add(row)
        row.policy_id = policy.id
        _issue(row, DEPLOY, now=now, actor=actor)
    scope = {"ja": "すべてのクライアント", "en": "all clients"} if client_ids is None else None
    hosts = ", ".join(c.hostname for c in clients)
    add_event(
        session,
        at=now,
        level=Level.WARNING,
        kind="outbreak_prevention.deployed",
        message={
            "ja": f"{actor}が大規模感染予防ポリシー #{policy.id}を配信しました:"
            f" {scope['ja'] if scope else hosts} ({len(clients)} 台)。",
            "en": f"{actor} deployed outbreak prevention policy #{policy.id} to"
            f" {scope['en'] if scope else hosts} ({count_en(len(clients), 'client')}).",
        },
        details={
            "policy": policy.id,
            "clients": [c.uid for c in clients],
            "all": client_ids is None,
            "actor": actor,
        },
    )
    session.commit()
    return len(clients)


def release_policy(
    session: Session,
    client_ids: Sequence[int] | None,
    *,
    state: LicenseState,
    now: datetime,
    actor: str,
) -> int:
    """Release outbreak prevention on the clients (None: every client it is deployed to)."""
    decide(Product.CS, state, Operation.OUTBREAK_PREVENTION_RELEASE).raise_if_refused()
    clients = _targets(session, client_ids)
    existing = _assignments(session, (c.id for c in clients))
    chosen = [c for c in clients if c.id in existing and existing[c.id].action == DEPLOY]
    if not chosen:
        raise OutbreakNotDeployed()
    for client in chosen:
        _issue(existing[client.id], RELEASE, now=now, actor=actor)
    hosts = ", ".join(c.hostname for c in chosen)
    add_event(
        session,
        at=now,
        level=Level.INFO,
        kind="outbreak_prevention.released",
        message={
            "ja": f"{actor}が大規模感染予防を解除しました: {hosts} ({len(chosen)} 台)。",
            "en": f"{actor} released outbreak prevention on: {hosts}"
            f" ({count_en(len(chosen), 'client')}).",
        },
        details={"clients": [c.uid for c in chosen], "all": client_ids is None, "actor": actor},
    )
    session.commit()
    return len(chosen)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def heartbeat_outbreak(
    session: Session, client_id: int, *, state: LicenseState
) -> dict[str, Any] | None:
    """The instruction the heartbeat carries (None: nothing to do)."""
    row = session.scalars(
        select(OutbreakAssignment).where(OutbreakAssignment.client_id == client_id)
    ).first()
    if row is None:
        return None
    if row.action == RELEASE and row.applied:
        return None
    if not decide(Product.CS, state, ACTION_OPERATIONS[row.action]).allowed:
        return None
    policy = session.get(OutbreakPolicy, row.policy_id)
    if policy is None:
        return None
    return {
        "id": policy.id,
        "action": row.action,
        **_summary(policy),
        "issued_at": _iso(row.issued_at),
    }


def record_applied(
    session: Session,
    client: Client,
    *,
    policy_id: int,
    action: str,
    applied: bool,
    detail: str,
    state: LicenseState,
    now: datetime,
) -> OutbreakAssignment:
    """What the client did with its instruction; one event; commits."""
    decide(Product.CS, state, ACTION_OPERATIONS[action]).raise_if_refused()
    row = session.scalars(
        select(OutbreakAssignment).where(OutbreakAssignment.client_id == client.id)
    ).first()
    if row is None or row.policy_id != policy_id or row.action != action:
        raise OutbreakPolicyMismatch(policy_id=policy_id, action=action)
    row.applied = applied
    row.reported_at = now
    row.detail = detail[:2000] or None
    verb = {
        (DEPLOY, True): ("適用しました", "applied"),
        (DEPLOY, False): ("適用できませんでした", "could not apply"),
        (RELEASE, True): ("解除しました", "released"),
        (RELEASE, False): ("解除できませんでした", "could not release"),
    }[action, applied]
    suffix_ja = f": {detail[:200]}" if detail else ""
    suffix_en = f": {detail[:200]}" if detail else ""
    add_event(
        session,
        at=now,
        level=Level.INFO if applied else Level.ERROR,
        kind=f"outbreak_prevention.{action}_{'applied' if applied else 'failed'}",
        message={
            "ja": f"クライアント {client.hostname}が大規模感染予防ポリシー #{policy_id}を"
            f"{verb[0]}{suffix_ja}",
            "en": f"Client {client.hostname} {verb[1]} outbreak prevention policy"
            f" #{policy_id}{suffix_en}",
        },
        details={
            "client": client.uid,
            "policy": policy_id,
            "action": action,
            "applied": applied,
            "detail": detail[:500],
        },
    )
    session.commit()
    return row


@dataclass(frozen=True)
class ClientOutbreakState:
    client: Client
    assignment: OutbreakAssignment | None

    @property
    def state(self) -> str:
        """none | deploying | deployed | deploy_failed | releasing | released | release_failed"""
        row = self.assignment
        if row is None:
            return "none"
        if row.applied is None:
            return "deploying" if row.action == DEPLOY else "releasing"
        if row.action == DEPLOY:
            return "deployed" if row.applied else "deploy_failed"
        return "released" if row.applied else "release_failed"


def client_states(session: Session) -> list[ClientOutbreakState]:
    clients = list(session.scalars(select(Client).order_by(Client.hostname, Client.id)))
    found = _assignments(session, (c.id for c in clients))
    return [ClientOutbreakState(client=c, assignment=found.get(c.id)) for c in clients]
