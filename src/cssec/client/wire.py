"""The pydantic models of what the server sends: the enrollment, the heartbeat answer
and the outbreak prevention policy in it.

They live apart so that only the commands that read a server answer (or a recorded
policy) import pydantic: `cssec client status` without a recorded policy never does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Enrolled(BaseModel):
    model_config = ConfigDict(extra="ignore")
    client_id: str | int
    client_token: str
    server_id: str | int
    vendor_keys: dict[str, Any]


class CleanupRequestIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    requested_at: datetime | None = None
    paths: list[str] | None = Field(default=None, max_length=1000)


class LicenseIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    state: Literal["activated", "grace_period", "expired", "revoked"]
    expires_on: date | None = None


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    realtime_scan: bool = True
    license: LicenseIn | None = None
    realtime_folders: list[str] | None = Field(default=None, max_length=1000)
    outbreak_policy: Any = None
    cleanup_requests: list[CleanupRequestIn] = Field(default_factory=list, max_length=100)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int = Field(ge=0)
    action: Literal["deploy", "release"]
    deny_write_shares: list[str] = Field(default_factory=list, max_length=1000)
    block_ports: list[int] = Field(default_factory=list, max_length=65536)
    deny_files: list[str] = Field(default_factory=list, max_length=1000)
    issued_at: datetime
