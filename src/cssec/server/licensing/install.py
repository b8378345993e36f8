"""`cssec server install`: no code, no install; a failed install leaves nothing behind.

Everything that can fail for a reason the administrator must fix (the code, the key, the
vendor, the password file) is settled before the disk is touched. The data directory is
then built next to the target under a temporary name and renamed into place at the end,
so the target either holds a complete installation or is as it was. A code is not used up:
the same code installs again on a fresh data directory.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from cssec.core.certs import summarize
from cssec.core.clock import Clock
from cssec.core.codes import ActivationCode, parse_activation_code, parse_registration_key
from cssec.core.errors import (
    CssecError,
    ExpiredActivationCode,
    Phrase,
    ValidationFailed,
    VendorUnreachable,
)
from cssec.core.license import DEFAULT_GRACE_DAYS, LicenseState, Product, license_state
from cssec.core.signing import VerifyingKey, load_or_create_signing_key, write_secret_file
from cssec.server.licensing.errors import AlreadyInstalled, DataDirNotEmpty, VendorKeyRequired
from cssec.server.licensing.slots import activation_event, store_slot
from cssec.server.licensing.statements import VerifiedStatement, new_nonce, verify_envelope
from cssec.server.licensing.trust import VendorTrust, pin_keys
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.licensing.view import SlotView, slot_view
from cssec.server.logs.events import Level, add_event
from cssec.server.models import ServerInfo, User
from cssec.server.storage.datadir import MIGRATIONS, DataDir
from cssec.server.tls.certificate import TlsMaterial, prepare_certificate, write_certificate
from cssec.server.tls.vendor import VendorTls
from cssec.server.updates.fetch import Fetched
from cssec.server.updates.install import download_components, store_components
from cssec.web.db import upgrade_to_head
from cssec.web.security import hash_password, new_token

ADMIN_USERNAME = "admin"
DEFAULT_CONTACT = "admin@localhost.localdomain"
MODE_JA = {"online": "オンライン", "offline": "オフライン"}
MIN_PASSWORD_LENGTH = 8


class VendorUrlRequired(CssecError):
    """An online install has nobody to ask for its codes and keys."""

    code = "vendor_url_required"
    status = 400
    message_ja = (
        "オンラインでのインストールにはライセンスサーバのURLが必要です。--vendor-url URLを"
        "指定してください。インターネットに接続できない環境では、--offline "
        "--activation-code CODE --vendor-keys-file Fでインストールできます。"
    )
    message_en = (
        "An online install needs the license service's URL: give --vendor-url URL. A site "
        "without a connection installs with --offline --activation-code CODE "
        "--vendor-keys-file F instead."
    )


@dataclass(frozen=True)
class InstallRequest:
    data_dir: Path
    vendor_url: str
    """The license service's URL; "" for an offline install that was given none (the
    server then never calls it: renewal by new codes and response files only)."""
    admin_password: str = field(repr=False)
    registration_key: str | None = None
    activation_code: str | None = None
    offline: bool = False
    company: str = ""
    contact_email: str = ""
    trust: VendorTrust = field(default_factory=VendorTrust)
    tls: TlsMaterial | None = None
    """The server's certificate and key; None: a self-signed one for the default names."""
    vendor_tls: VendorTls = field(default_factory=VendorTls)
    """The vendor's CA (--vendor-ca-file) and whether plain HTTP to it is allowed."""


@dataclass(frozen=True)
class InstallResult:
    data_dir: Path
    server_id: str
    slots: list[SlotView]
    keys_pinned: bool
    skipped: list[str] = field(default_factory=list)
    tls_fingerprint: str = ""
    """sha256:<hex> of the server's certificate: what clients pin."""


def read_password_file(path: Path) -> str:
    """The admin password: the file's first line, which must be long enough."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise ValidationFailed(
            detail=Phrase(
                f"パスワードファイル {path}を読めません（{why}）",
                f"cannot read the password file {path}: {exc}",
            )
        ) from None
    lines = text.splitlines()
    password = lines[0] if lines else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            detail=Phrase(
                f"管理者パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください",
                f"the admin password must be at least {MIN_PASSWORD_LENGTH} characters",
            )
        )
    return password


def check_target(target: Path) -> None:
    """Refuse an existing installation or a non-empty directory before any work."""
    if DataDir(target).is_installed():
        raise AlreadyInstalled(path=str(target))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise DataDirNotEmpty(path=str(target))


def _cs_code(text: str) -> ActivationCode:
    check = parse_activation_code(text, product=Product.CS)
    if not check.ok or check.value is None:
        raise check.to_error()
    return check.value


Plan = list[tuple[ActivationCode, VerifiedStatement | None]]


async def _plan_online(
    request: InstallRequest,
    *,
    server_id: str,
    today_of: tzinfo,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    proxy: str | None,
    timeout_seconds: float,
    language: str,
) -> tuple[Plan, list[VerifyingKey], list[Any], list[str]]:
    today = now.astimezone(today_of).date()
    if request.registration_key is not None:
        key_check = parse_registration_key(request.registration_key)
        if not key_check.ok or key_check.value is None:
            raise key_check.to_error()
        registration = key_check.value
    else:
        assert request.activation_code is not None
        cs_code = _cs_code(request.activation_code)
    async with VendorClient(
        request.vendor_url,
        transport=transport,
        proxy=proxy,
        timeout=timeout_seconds,
        language=language,
        tls=request.vendor_tls,
    ) as vendor:
        offered, endorsements = await vendor.fetch_key_set()
        keymap, chain = pin_keys(request.trust, offered, endorsements)
        keys = list(keymap.values())
        if request.registration_key is not None:
            issued = await vendor.register(
                registration_key=registration.formatted,
                company=request.company or socket.gethostname() or "C/S Sec. server",
                contact_email=request.contact_email or DEFAULT_CONTACT,
                server_id=server_id,
            )
            codes = []
            for item in issued:
                parsed = parse_activation_code(item.activation_code)
                if not parsed.ok or parsed.value is None:
                    raise VendorUnreachable(cause="malformed activation code from registration")
                codes.append(parsed.value)
        else:
            codes = [cs_code]
        plan: Plan = []
        skipped: list[str] = []
        for code in codes:
            nonce = new_nonce()
            envelope = await vendor.status(
                activation_code=code.text, server_id=server_id, nonce=nonce
            )
            statement = verify_envelope(
                envelope, keymap, activation_code=code.text, server_id=server_id,
                product=code.product, nonce=nonce,
            )  # fmt: skip
            lapsed = (
                license_state(statement.contract_end, statement.grace_days, today)
                is LicenseState.EXPIRED
            )
            if lapsed and code.product is Product.CS:
                raise ExpiredActivationCode(expires_on=statement.contract_end.isoformat())
            if lapsed:
                skipped.append(code.product.value)
                continue
            plan.append((code, statement))
    if not any(code.product is Product.CS for code, _ in plan):
        raise VendorUnreachable(cause="the registration returned no C/S Sec. activation code")
    return plan, keys, chain, skipped


def _plan_offline(request: InstallRequest, *, today_of: tzinfo, now: datetime) -> Plan:
    if request.activation_code is None:
        raise ValidationFailed(
            detail=Phrase(
                "--offlineには --activation-codeが必要です（レジストレーションキーはオンラインで"
                "のみ使えます）",
                "--offline needs --activation-code: a registration key works only online",
            )
        )
    code = _cs_code(request.activation_code)
    today = now.astimezone(today_of).date()
    if license_state(code.expires_on, DEFAULT_GRACE_DAYS, today) is LicenseState.EXPIRED:
        raise ExpiredActivationCode(expires_on=code.expires_on.isoformat())
    return [(code, None)]


async def install_server(
    request: InstallRequest,
    *,
    clock: Clock,
    tz: tzinfo,
    transport: httpx.AsyncBaseTransport | None = None,
    proxy: str | None = None,
    timeout_seconds: float = 10.0,
    language: str = "ja",
) -> InstallResult:
    if (request.registration_key is None) == (request.activation_code is None):
        raise ValidationFailed(
            detail=Phrase(
                "レジストレーションキーかアクティベーションコードのどちらか一方を指定してください",
                "give exactly one of a registration key or activation code",
            )
        )
    if len(request.admin_password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            detail=Phrase(
                f"管理者パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください",
                f"the admin password must be at least {MIN_PASSWORD_LENGTH} characters",
            )
        )
    target = request.data_dir.expanduser().absolute()
    check_target(target)
    if not request.offline and not request.vendor_url:
        raise VendorUrlRequired()
    if not request.trust:
        raise VendorKeyRequired()
    if request.vendor_url:
        request.vendor_tls.check(request.vendor_url)
    now = clock.now()
    tls = request.tls or prepare_certificate(now=now)
    server_id = str(uuid.uuid4())
    keys: list[VerifyingKey] = []
    chain: list[Any] = []
    skipped: list[str] = []
    components: Fetched | None = None
    if request.offline:
        plan = _plan_offline(request, today_of=tz, now=now)
        # Offline, pin what the operator gave: whole keys now, or the fingerprints that the
        # first contact's keys must match. Never whatever answers first.
        keys = list(request.trust.anchors().values())
    else:
        plan, keys, chain, skipped = await _plan_online(
            request, server_id=server_id, today_of=tz, now=now, transport=transport,
            proxy=proxy, timeout_seconds=timeout_seconds, language=language,
        )  # fmt: skip
        # The current components, before the disk is touched: no components, no install.
        cs_code = next(code for code, _ in plan if code.product is Product.CS)
        components = await download_components(
            request.vendor_url, keys, activation_code=cs_code.text, server_id=server_id,
            transport=transport, proxy=proxy, timeout_seconds=timeout_seconds, language=language,
            tls=request.vendor_tls,
        )  # fmt: skip
    today = now.astimezone(tz).date()
    slots = _build(
        target,
        request=request,
        server_id=server_id,
        plan=plan,
        keys=keys,
        chain=chain,
        now=now,
        today=today,
        components=components,
        tls=tls,
    )
    return InstallResult(
        data_dir=target, server_id=server_id, slots=slots, keys_pinned=bool(keys), skipped=skipped,
        tls_fingerprint=summarize(tls.cert_pem).fingerprint,
    )  # fmt: skip


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


def _build(
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
