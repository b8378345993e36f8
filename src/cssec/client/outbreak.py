"""Outbreak prevention (大規模感染予防): the policy the administrator deploys and releases.

What the client does, exactly: it records the policy the server hands over in its
heartbeat (outbreak_policy.json), reports it applied or released
(POST outbreak-policy/applied), shows it in `status`, and `watch` logs writes into the
denied shares and files as policy violations (outbreak_violations.json, shown in
`status`). cssec does not install a firewall, close ports or stop any program from
writing: the ports are recorded and shown, not blocked.

Matching: a write is into a denied share when its path is the share's path or below it
(local paths; a UNC share such as \\\\server\\share matches nothing on this machine). A
denied-file entry is an absolute path or a glob (fnmatch) over the absolute path; an entry
without a path separator is a glob over the file name.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any

from cssec.client.agent import AgentClient
from cssec.client.messages import text
from cssec.client.reports import Delivery, send_or_queue
from cssec.client.state import ClientState
from cssec.core.clock import Clock
from cssec.core.components import format_timestamp

POLICY_DOC = "outbreak_policy.json"
VIOLATIONS_DOC = "outbreak_violations.json"
VIOLATIONS_LIMIT = 1000


class PolicyAction(StrEnum):
    DEPLOY = "deploy"
    RELEASE = "release"


@dataclass(frozen=True)
class OutbreakPolicy:
    id: int
    action: PolicyAction
    deny_write_shares: tuple[str, ...]
    block_ports: tuple[int, ...]
    deny_files: tuple[str, ...]
    issued_at: datetime

    @property
    def deployed(self) -> bool:
        return self.action is PolicyAction.DEPLOY

    @classmethod
    def parse(cls, raw: object) -> OutbreakPolicy:
        """Raises ValueError naming what is wrong."""
        from pydantic import ValidationError  # noqa: PLC0415 - only when there is a policy

        from cssec.client.wire import PolicyIn  # noqa: PLC0415

        try:
            parsed = PolicyIn.model_validate(raw)
        except ValidationError as exc:
            where = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise ValueError(f"outbreak_policy: invalid {where}") from None
        if parsed.issued_at.tzinfo is None:
            raise ValueError("outbreak_policy: issued_at without a time zone")
        return cls(
            id=parsed.id,
            action=PolicyAction(parsed.action),
            deny_write_shares=tuple(parsed.deny_write_shares),
            block_ports=tuple(p for p in parsed.block_ports if 0 < p < 65536),
            deny_files=tuple(parsed.deny_files),
            issued_at=parsed.issued_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action.value,
            "deny_write_shares": list(self.deny_write_shares),
            "block_ports": list(self.block_ports),
            "deny_files": list(self.deny_files),
            "issued_at": format_timestamp(self.issued_at),
        }

    def violation(self, path: str | os.PathLike[str]) -> str | None:
        """The rule a write to `path` breaks ("share …" / "file …"), or None."""
        if not self.deployed:
            return None
        target = PurePath(os.path.abspath(path))
        for share in self.deny_write_shares:
            if _is_local(share):
                root = PurePath(os.path.abspath(share))
                if target == root or root in target.parents:
                    return f"share {share}"
        for pattern in self.deny_files:
            subject = str(target) if _has_separator(pattern) else target.name
            if fnmatch.fnmatchcase(subject, pattern) or subject == pattern:
                return f"file {pattern}"
        return None

    def watch_dirs(self) -> list[Path]:
        """The existing folders `watch` must observe to see writes this policy denies."""
        if not self.deployed:
            return []
        dirs = [Path(s) for s in self.deny_write_shares if _is_local(s)]
        for pattern in self.deny_files:
            if _has_separator(pattern) and os.path.isabs(pattern):
                parent = Path(pattern).parent
                while any(ch in str(parent) for ch in "*?[") and parent != parent.parent:
                    parent = parent.parent
                dirs.append(parent)
        return [d for d in dirs if d.is_dir()]


def _has_separator(pattern: str) -> bool:
    return "/" in pattern or os.sep in pattern


def _is_local(share: str) -> bool:
    return os.path.isabs(share) and not share.startswith(("\\\\", "//"))


@dataclass(frozen=True)
class RecordedPolicy:
    policy: OutbreakPolicy
    recorded_at: datetime
    applied: bool
    """Whether the client could record it (reported to the server as `applied`)."""
    reported: bool
    """Whether the applied/released report was sent or queued."""


def load_policy(state: ClientState) -> RecordedPolicy | None:
    doc = state.load_doc(POLICY_DOC)
    if doc is None:
        return None
    try:
        policy = OutbreakPolicy.parse(doc.get("policy"))
        recorded_at = datetime.fromisoformat(str(doc.get("recorded_at")))
    except ValueError:
        return None
    applied, reported = doc.get("applied"), doc.get("reported")
    return RecordedPolicy(policy, recorded_at, applied is True, reported is True)


def _save(state: ClientState, recorded: RecordedPolicy) -> None:
    state.save_doc(
        POLICY_DOC,
        {
            "policy": recorded.policy.to_dict(),
            "recorded_at": format_timestamp(recorded.recorded_at),
            "applied": recorded.applied,
            "reported": recorded.reported,
        },
    )


@dataclass(frozen=True)
class PolicyChange:
    recorded: RecordedPolicy
    changed: bool
    """False when this policy (same id and action) was already recorded and reported."""
    delivery: Delivery | None


def scope_detail(lang: str) -> str:
    """What "applied" means here, sent with the report so the Web manager says it too."""
    return text("outbreak.scope", lang)


def apply_policy(
    state: ClientState, agent: AgentClient, policy: OutbreakPolicy, *, clock: Clock, lang: str
) -> PolicyChange:
    """Record `policy` and report it applied/released (once). Expects `state.lock()` held."""
    known = load_policy(state)
    if known is not None and known.policy == policy and known.reported:
        return PolicyChange(known, False, None)
    recorded = RecordedPolicy(policy, clock.now(), applied=True, reported=False)
    _save(state, recorded)
    body = {
        "policy_id": policy.id,
        "action": policy.action.value,
        "applied": True,
        "detail": scope_detail(lang),
    }
    delivery, _ = send_or_queue(state, agent, "outbreak-policy/applied", body, clock=clock)
    recorded = RecordedPolicy(policy, recorded.recorded_at, applied=True, reported=True)
    _save(state, recorded)
    return PolicyChange(recorded, True, delivery)


def report_unusable_policy(
    state: ClientState, agent: AgentClient, raw: object, reason: str, *, clock: Clock
) -> None:
    """A policy the client cannot read is reported not applied, when it has an id at all."""
    if not isinstance(raw, dict) or type(raw.get("id")) is not int:
        return
    action = raw.get("action") if raw.get("action") in {"deploy", "release"} else "deploy"
    body = {"policy_id": raw["id"], "action": action, "applied": False, "detail": reason}
    send_or_queue(state, agent, "outbreak-policy/applied", body, clock=clock)


# --- violations -------------------------------------------------------------------------


def log_violation(
    state: ClientState, path: str, rule: str, policy_id: int, *, clock: Clock
) -> None:
    doc = state.load_doc(VIOLATIONS_DOC) or {}
    entries = doc.get("entries")
    kept = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    total = doc.get("total")
    kept.append(
        {"path": path, "rule": rule, "policy_id": policy_id, "at": format_timestamp(clock.now())}
    )
    count = (total if type(total) is int else len(kept) - 1) + 1
    state.save_doc(VIOLATIONS_DOC, {"entries": kept[-VIOLATIONS_LIMIT:], "total": count})


def load_violations(state: ClientState) -> tuple[int, list[dict[str, Any]]]:
    """How many violations were logged in all, and the most recent ones (oldest first)."""
    doc = state.load_doc(VIOLATIONS_DOC) or {}
    entries = doc.get("entries")
    kept = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    total = doc.get("total")
    return (total if type(total) is int else len(kept)), kept
