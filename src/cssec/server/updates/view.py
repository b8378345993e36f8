"""What the Web manager's コンポーネント page and `cssec server components show` display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cssec.core.components import ComponentVersion, Manifest, format_timestamp
from cssec.core.license import LicenseState, Product
from cssec.core.policy import Component, Decision, Operation, decide
from cssec.server.licensing.state import cs_license_state
from cssec.server.logs.update_logs import latest_server_log
from cssec.server.models import ServerUpdateLog
from cssec.server.updates.entitlement import separately_licensed
from cssec.server.updates.service import read_installed
from cssec.server.updates.store import ComponentStore
from cssec.server.updates.tuf_mirror import stale_since


@dataclass(frozen=True)
class ComponentRow:
    component: Component
    current: ComponentVersion | None
    previous: ComponentVersion | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "component": self.component.value,
            "current": _version(self.current),
            "previous": _version(self.previous),
        }


def _version(version: ComponentVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"version": version.version, **version.to_dict()}


@dataclass(frozen=True)
class Overview:
    rows: list[ComponentRow]
    serial: int | None
    updated_at: datetime | None
    last_poll_at: datetime | None
    held_serial: int | None
    can_roll_back: bool
    last_log: ServerUpdateLog | None
    state: LicenseState
    download: Decision
    """core.policy's answer for activeupdate_download now: the page shows a refusal's reason."""
    stale_since: datetime | None = None
    """When the TUF timestamp this server last verified expired, if it has and nothing fresh
    arrived since ("components stale since …"); None when fresh or without TUF."""

    def to_dict(self) -> dict[str, Any]:
        last = self.last_log
        return {
            "serial": self.serial,
            "updated_at": format_timestamp(self.updated_at) if self.updated_at else None,
            "license_state": self.state.value,
            "activeupdate_allowed": self.download.allowed,
            "stale_since": format_timestamp(self.stale_since) if self.stale_since else None,
            "components": [row.to_dict() for row in self.rows],
            "last_update": None
            if last is None
            else {"at": format_timestamp(last.at), "result": last.result, "cause": last.cause},
        }


def read_overview(
    session: Session, *, now: datetime, tz: tzinfo, data_root: Path | None = None
) -> Overview:
    state = cs_license_state(session, now=now, tz=tz)
    since = stale_since(data_root) if data_root is not None else None
    installed = read_installed(session)
    rows = [
        ComponentRow(
            component=component,
            current=_held(installed.current, component, data_root),
            previous=installed.previous.components.get(component) if installed.previous else None,
        )
        for component in Component
    ]
    return Overview(
        rows=rows,
        serial=installed.current.serial if installed.current else None,
        updated_at=installed.updated_at,
        last_poll_at=installed.last_poll_at,
        held_serial=installed.held_serial,
        can_roll_back=installed.previous is not None,
        last_log=latest_server_log(session),
        state=state,
        download=decide(Product.CS, state, Operation.ACTIVEUPDATE_DOWNLOAD),
        stale_since=since if since is not None and since <= now else None,
    )


def _held(
    manifest: Manifest | None, component: Component, data_root: Path | None
) -> ComponentVersion | None:
    """The current version of `component`, unless it is withheld (`entitlement`: the
    Damage Cleanup template without a live DCS license), which this server does not hold."""
    version = manifest.components.get(component) if manifest else None
    if version is None or data_root is None or not separately_licensed(component):
        return version
    return version if ComponentStore(data_root).present(version) else None
