"""`cssec server install`: no code, no install; a failed install leaves nothing behind.

Everything that can fail for a reason the administrator must fix (the code, the key, the
vendor, the password file) is settled before the disk is touched. The data directory is
then built next to the target under a temporary name and renamed into place at the end,
so the target either holds a complete installation or is as it was. A code is not used up:
the same code installs again on a fresh data directory.

This module settles the codes, online (registration, the vendor's signed status, the
components) or offline, and runs the install; what it is given and the checks on that
are in `install_request`, the building of the data directory in `install_build`.
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, tzinfo
from typing import Any

import httpx

from cssec.core.certs import summarize
from cssec.core.clock import Clock
from cssec.core.codes import ActivationCode, parse_activation_code, parse_registration_key
from cssec.core.errors import (
    ExpiredActivationCode,
    Phrase,
    ValidationFailed,
    VendorUnreachable,
)
from cssec.core.license import DEFAULT_GRACE_DAYS, LicenseState, Product, license_state
from cssec.core.signing_keys import VerifyingKey
from cssec.server.licensing.errors import VendorKeyRequired
from cssec.server.licensing.install_build import ADMIN_USERNAME, MODE_JA, Plan, build_data_dir
from cssec.server.licensing.install_request import (
    MIN_PASSWORD_LENGTH,
    InstallRequest,
    InstallResult,
    VendorUrlRequired,
    check_target,
    read_password_file,
)
from cssec.server.licensing.statements import new_nonce, verify_envelope
from cssec.server.licensing.trust import pin_keys
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.tls.certificate import prepare_certificate
from cssec.server.updates.fetch import Fetched
from cssec.server.updates.install import download_components

__all__ = [
    "ADMIN_USERNAME",
    "DEFAULT_CONTACT",
    "MIN_PASSWORD_LENGTH",
    "MODE_JA",
    "InstallRequest",
    "InstallResult",
    "VendorUrlRequired",
    "check_target",
    "install_server",
    "read_password_file",
]

DEFAULT_CONTACT = "admin@localhost.localdomain"


def _cs_code(text: str) -> ActivationCode:
    check = parse_activation_code(text, product=Product.CS)
    if not check.ok or check.value is None:
        raise check.to_error()
    return check.value


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
        # The Damage Cleanup template only with a live DCS code (a lapsed one is not planned).
        cs_code = next(code for code, _ in plan if code.product is Product.CS)
        dcs_code = next((code.text for code, _ in plan if code.product is Product.DCS), None)
        components = await download_components(
            request.vendor_url, keys, activation_code=cs_code.text, server_id=server_id,
            transport=transport, proxy=proxy, timeout_seconds=timeout_seconds, language=language,
            tls=request.vendor_tls, dcs_code=dcs_code,
        )  # fmt: skip
    today = now.astimezone(tz).date()
    slots = build_data_dir(
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
