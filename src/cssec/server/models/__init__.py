"""Every table of the C/S Sec. server, one module per domain, re-exported here so that
`from cssec.server.models import X` works for any table and importing this package
registers them all on `Base.metadata` (what Alembic and `create_all` read).

- `base`: the declarative base, naming convention, UTC datetime column
- `licensing`: server identity (and the clock guard's latest time), license slots
- `accounts`: Web manager users and sessions
- `clients`: registered clients, install tokens
- `components`: accepted manifests, current component versions
- `logs`: the virus, update (server, client), system event and connection status logs; retention
- `protection`: real-time scan switch, Damage Cleanup requests
- `outbreak`: outbreak monitor settings and alerts, outbreak prevention policies
- `notices`: SMTP settings and the mail notices sent (each once per occasion)
"""

from __future__ import annotations

from cssec.server.models.accounts import User, WebSession
from cssec.server.models.base import NAMING, Base, UTCDateTime
from cssec.server.models.clients import Client, InstallToken
from cssec.server.models.components import ComponentManifestRow, ComponentStatus
from cssec.server.models.health import ClientComponentHealth
from cssec.server.models.licensing import LicenseRequest, LicenseSlot, ServerInfo
from cssec.server.models.logs import (
    ClientUpdateLog,
    ConnectionLogEntry,
    LogManagementSettings,
    ServerUpdateLog,
    SystemEvent,
    VirusLogEntry,
)
from cssec.server.models.notices import MailNotice, MailSettings
from cssec.server.models.outbreak import (
    OutbreakAlert,
    OutbreakAssignment,
    OutbreakMonitorSettings,
    OutbreakPolicy,
)
from cssec.server.models.pilot import PilotClient, PilotSettings
from cssec.server.models.protection import CleanupRequest, ClientRealtime, RealtimeDefaults

__all__ = [
    "NAMING",
    "Base",
    "CleanupRequest",
    "Client",
    "ClientComponentHealth",
    "ClientRealtime",
    "ClientUpdateLog",
    "ComponentManifestRow",
    "ComponentStatus",
    "ConnectionLogEntry",
    "InstallToken",
    "LicenseRequest",
    "LicenseSlot",
    "LogManagementSettings",
    "MailNotice",
    "MailSettings",
    "OutbreakAlert",
    "OutbreakAssignment",
    "OutbreakMonitorSettings",
    "OutbreakPolicy",
    "PilotClient",
    "PilotSettings",
    "RealtimeDefaults",
    "ServerInfo",
    "ServerUpdateLog",
    "SystemEvent",
    "UTCDateTime",
    "User",
    "VirusLogEntry",
    "WebSession",
]
