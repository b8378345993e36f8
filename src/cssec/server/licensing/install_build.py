"""Building the data directory of a settled install: under a temporary name next to the
target, renamed into place at the end, so the target either holds a complete installation
or is as it was (parents created on the way are removed again on failure)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cssec.core.codes import ActivationCode
from cssec.core.secret_files import load_or_create_signing_key, write_secret_file
from cssec.core.signing_keys import VerifyingKey
from cssec.server.licensing.errors import DataDirNotEmpty
from cssec.server.licensing.install_request import InstallRequest
from cssec.server.licensing.slots import activation_event, store_slot
from cssec.server.licensing.statements import VerifiedStatement
from cssec.server.licensing.view import SlotView, slot_view
from cssec.server.logs.events import Level, add_event
from cssec.server.models import ServerInfo, User
from cssec.server.storage.datadir import MIGRATIONS, DataDir
from cssec.server.tls.certificate import TlsMaterial, write_certificate
from cssec.server.updates.fetch import Fetched
from cssec.server.updates.install import store_components
from cssec.web.db import upgrade_to_head
from cssec.web.security import hash_password, new_token

ADMIN_USERNAME = "admin"
MODE_JA = {"online": "オンライン", "offline": "オフライン"}

Plan = list[tuple[ActivationCode, VerifiedStatement | None]]
"""What an install settled before touching the disk: each code to store, with the
vendor's verified statement for it (None offline)."""


def _populate(
    data: DataDir,
    *,
    request: InstallRequest,
    server_id: str,
    plan: Plan,
    now: datetime,
    today: date,
) -> list[SlotView]:
    engine = data.engine()
    try:
        upgrade_to_head(engine, MIGRATIONS)
        with Session(engine, expire_on_commit=False) as session, session.begin():
            mode = "offline" if request.offline else "online"
            session.add(
                ServerInfo(
                    id=1, server_id=server_id, vendor_url=request.vendor_url, install_mode=mode,
                    installed_at=now, latest_seen=now,
                )
            )  # fmt: skip
            session.add(
                User(
                    username=ADMIN_USERNAME, password_hash=hash_password(request.admin_password),
                    failed_logins=0, created_at=now,
                )
            )  # fmt: skip
            add_event(
                session,
                at=now,
                level=Level.INFO,
                kind="server.installed",
                message={
                    "ja": f"C/S Sec. サーバをインストールしました ({MODE_JA[mode]})。",
                    "en": f"C/S Sec. server installed ({mode}).",
                },
                details={"server_id": server_id, "mode": mode, "vendor_url": request.vendor_url},
            )
            stored = []
            for code, statement in plan:
                slot = store_slot(session, code=code, statement=statement, now=now)
                activation_event(session, slot, now=now, actor="install")
                stored.append(slot)
            session.flush()
            return [slot_view(slot, today) for slot in stored]
    finally:
        engine.dispose()


def build_data_dir(
    target: Path,
    *,
    request: InstallRequest,
    server_id: str,
    plan: Plan,
    keys: list[VerifyingKey],
    chain: list[Any],
    now: datetime,
    today: date,
    tls: TlsMaterial,
    components: Fetched | None = None,
) -> list[SlotView]:
    """Write what the install settled into a new data directory at `target` (see the module
    docstring); DataDirNotEmpty if something took the name meanwhile."""
    created = _make_parents(target.parent)
    tmp: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.install-", dir=target.parent))
        data = DataDir(tmp)
        slots = _populate(
            data, request=request, server_id=server_id, plan=plan, now=now, today=today
        )
        write_secret_file(data.session_secret, new_token(48).encode("ascii"))
        load_or_create_signing_key(data.identity_key)
        if components is not None:
            store_components(data, components, now=now)
        fingerprints = [] if keys else list(request.trust.fingerprints)
        data.write_vendor_keys(keys, endorsements=chain, fingerprints=fingerprints)
        write_certificate(data, tls)
        request.vendor_tls.write(data)
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise DataDirNotEmpty(path=str(target)) from None
            raise
        tmp = None
        return slots
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            for parent in reversed(created):
                try:
                    parent.rmdir()
                except OSError:
                    break


def _make_parents(directory: Path) -> list[Path]:
    """Create missing parents, returning them outermost first so a failure can undo them."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    missing.reverse()
    for path in missing:
        path.mkdir(mode=0o755)
    return missing
