"""Air-gapped renewal by file: the server's request, and importing the vendor's response.

`write_request` signs a request (`core.license_files`) with the server identity key (its
server id, the slots' codes, the clients in use, a fresh nonce) and remembers the nonce as
pending (`LicenseRequest`). `import_response` takes the vendor's answer and extends the
slots exactly as an online check does: each statement is verified like one fetched online
(pinned vendor key, this server, the slot's code and product, the request's nonce) and
also bound to the request by its digest, then applied by the online check's own
`online_check.apply_statement` (a revoked code: `apply_signed_revocation`). Nothing is applied
unless every statement of the response verifies. A response for another server or another
request is refused; importing one a second time changes nothing and says so.

A server installed with only a vendor key fingerprint, that never reached the vendor, pins
the keys carried in the response that match the fingerprint (as a first online contact
would); a rotated vendor key is learned through the endorsements it carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from cssec.core.codes import parse_activation_code
from cssec.core.errors import CssecError, ExpiredActivationCode
from cssec.core.license import Product
from cssec.core.license_files import (
    InvalidLicenseResponse,
    LicenseResponseFile,
    RequestedCode,
    build_request,
    parse_response,
)
from cssec.core.signing import VerifyingKey, follow_endorsements, load_or_create_signing_key
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import UntrustedStatement
from cssec.server.licensing.online_check import (
    CheckOutcome,
    apply_signed_revocation,
    apply_statement,
)
from cssec.server.licensing.refusals import (
    CONFIRMED_STATES,
    CodeRejected,
    CodeRevoked,
    apply_rejection,
)
from cssec.server.licensing.slots import activation_event, find_slot, store_slot
from cssec.server.licensing.statements import (
    REJECTION_STATES,
    VerifiedStatement,
    new_nonce,
    verify_envelope,
    verify_rejection,
    verify_revocation,
)
from cssec.server.licensing.trust import VendorTrust, chain_endorsements, pin_keys
from cssec.server.licensing.vendor_status import FIRST_CONTACT, ROTATED, pin_vendor_keys
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseRequest, LicenseSlot

REQUEST_KIND = "license.request_written"
FILE_SOURCE = "file"
"""What the vendor.keys_pinned event names as the keys' origin when they came in a file."""


class NoLicenseToRenew(CssecError):
    code = "no_license_to_renew"
    status = 409
    message_ja = (
        "ライセンスが登録されていないため、更新要求ファイルを作成できません。"
        "先にアクティベーションコードを入力してください。"
    )
    message_en = (
        "There is no license to renew, so no request file was written. Enter an activation "
        "code first."
    )


class LicenseResponseWrongServer(CssecError):
    code = "license_response_wrong_server"
    status = 400
    message_ja = (
        "この応答ファイルは別のサーバ（サーバID {actual}）宛てです。このサーバのサーバIDは"
        "{expected}です。現在のライセンスは変更されていません。このサーバで作成した"
        "更新要求ファイルへの応答を取り込んでください。"
    )
    message_en = (
        "This response file is for another server (server id {actual}); this server is "
        "{expected}. The current license is unchanged. Import the response to a request "
        "file written on this server."
    )


class LicenseResponseUnknownRequest(CssecError):
    code = "license_response_unknown_request"
    status = 400
    message_ja = (
        "この応答ファイルは、このサーバが作成した更新要求ファイルへの応答ではありません。"
        "現在のライセンスは変更されていません。「cssec server license request」で"
        "更新要求ファイルを作成し、その応答を取り込んでください。"
    )
    message_en = (
        "This response file does not answer a request file this server wrote. The current "
        "license is unchanged. Write a request with `cssec server license request` and "
        "import the response to it."
    )


@dataclass(frozen=True)
class WrittenRequest:
    data: bytes
    nonce: str
    digest: str
    codes: tuple[RequestedCode, ...]


@dataclass(frozen=True)
class ImportOutcome:
    """What importing a response did: `already_imported` when it changed nothing because
    this response (or another to the same request) was imported at `imported_at`."""

    already_imported: bool
    outcomes: list[CheckOutcome] = field(default_factory=list)
    imported_at: datetime | None = None

    def message(self, lang: str) -> str:
        if self.already_imported:
            at = f"{self.imported_at:%Y-%m-%d %H:%M:%S}" if self.imported_at else "-"
            if lang == "en":
                return f"This response was already imported (at {at} UTC); nothing was changed."
            return f"この応答ファイルは{at}（UTC）に取り込み済みです。何も変更していません。"
        parts = []
        for outcome in self.outcomes:
            name = outcome.product.name_in(lang)
            if outcome.error is not None:
                parts.append(f"{name}: {outcome.error.message(lang)}")
            elif outcome.new_expiry is not None:
                new = outcome.new_expiry.isoformat()
                parts.append(
                    f"{name}: expires on {new}" if lang == "en" else f"{name}: 有効期限 {new}"
                )
        if lang == "en":
            return " ".join(["Response imported.", "; ".join(parts)]).strip()
        return "応答ファイルを取り込みました。" + "、".join(parts)


def write_request(env: LicenseEnv, *, actor: str, new_code: str | None = None) -> WrittenRequest:
    """Sign a request for every slot and remember its nonce; NoLicenseToRenew without one.

    `new_code`: a code to have confirmed by file (`cssec server license request --code`),
    asked for in place of its product's current code. It is how an air-gapped server whose
    slot holds the vendor's signed revocation or rejection takes a new code (activating it
    offline is refused: `refusals`); importing the response applies it only on the vendor's
    signed activated / grace answer for it."""
    entered = None
    if new_code is not None:
        check = parse_activation_code(new_code)
        if not check.ok or check.value is None:
            raise check.to_error()
        entered = check.value
    key = load_or_create_signing_key(env.data.identity_key)
    now = env.clock.now()
    with env.sessionmaker() as session:
        observe_time(session, now)
    with env.sessionmaker() as session, session.begin():
        server_id = server_info(session).server_id
        slots = session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all()
        if not slots:
            raise NoLicenseToRenew()
        current = {slot.product: slot.activation_code for slot in slots}
        if entered is not None:
            current[entered.product.value] = entered.text
        codes = tuple(RequestedCode(product, code) for product, code in current.items())
        new = {entered.product.value} if entered is not None else set()
        nonce = new_nonce()
        data, digest = build_request(
            key,
            server_id=server_id,
            codes=codes,
            seats_used=env.seats_used(session),
            nonce=nonce,
            created_at=now,
        )
        session.add(
            LicenseRequest(
                nonce=nonce,
                request_sha256=digest,
                server_kid=key.kid,
                codes=[
                    {"product": c.product, "activation_code": c.activation_code}
                    | ({"new": True} if c.product in new else {})
                    for c in codes
                ],
                created_at=now,
                created_by=actor[:64],
            )
        )
        add_event(
            session,
            at=now,
            level=Level.INFO,
            kind=REQUEST_KIND,
            message={
                "ja": (
                    "ライセンス更新要求ファイルを作成しました。ライセンスサーバで応答ファイルを"
                    "作成し、「cssec server license import」または[製品ライセンス]で"
                    "取り込んでください。"
                ),
                "en": (
                    "A license request file was written. Have the license service answer it, "
                    "then import the response with `cssec server license import` or on "
                    "Product License."
                ),
            },
            details={"nonce": nonce, "request_sha256": digest, "actor": actor},
        )
    return WrittenRequest(data=data, nonce=nonce, digest=digest, codes=codes)


def _vendor_keys(env: LicenseEnv, response: LicenseResponseFile) -> dict[str, VerifyingKey]:
    """The pinned keys; on a server that pinned none yet, the response's keys that match
    its install fingerprints (pinned and logged as a first contact would); plus keys the
    response's endorsements vouch for through a pinned key (pinned and logged as a
    rotation)."""
    pinned = env.data.read_vendor_trust()
    keys = dict(pinned.keys)
    if not keys:
        trust = VendorTrust(fingerprints=tuple(pinned.fingerprints))
        keys, chain = pin_keys(trust, list(response.keys), list(response.endorsements))
        pin_vendor_keys(
            env, FILE_SOURCE, list(keys.values()), FIRST_CONTACT, kids=list(keys),
            endorsements=chain,
        )  # fmt: skip
        return keys
    learned = follow_endorsements(keys, response.endorsements)
    if learned:
        keys = {**keys, **learned}
        known = pinned.endorsements
        chain = known + [
            e for e in chain_endorsements(keys, response.endorsements) if e not in known
        ]
        pin_vendor_keys(
            env, FILE_SOURCE, list(keys.values()), ROTATED, kids=list(learned),
            endorsements=chain,
        )  # fmt: skip
    return keys


Verified = tuple[Product, str, VerifiedStatement | CodeRevoked | CodeRejected]


def _verify_all(
    response: LicenseResponseFile,
    keys: dict[str, VerifyingKey],
    *,
    server_id: str,
    request: LicenseRequest,
) -> list[Verified]:
    """Every statement checked before any is applied; InvalidLicenseResponse on the first
    that fails (its reason: the online check's, or request_mismatch)."""
    by_product: dict[str, str] = {c["product"]: c["activation_code"] for c in request.codes}
    verified: list[Verified] = []
    for envelope in response.statements:
        statement = envelope.get("statement")
        product_text = statement.get("product") if isinstance(statement, dict) else None
        if not isinstance(product_text, str) or product_text not in by_product:
            raise InvalidLicenseResponse(reason="product_mismatch")
        product, code = Product(product_text), by_product[product_text]
        if statement is None or statement.get("request_sha256") != request.request_sha256:
            raise InvalidLicenseResponse(reason="request_mismatch")
        try:
            if statement.get("state") in REJECTION_STATES:
                rejection = verify_rejection(
                    envelope, keys, activation_code=code, server_id=server_id,
                    product=product, nonce=request.nonce,
                )  # fmt: skip
                verified.append((product, code, CodeRejected(rejection)))
            elif statement.get("state") == "revoked":
                revocation = verify_revocation(
                    envelope, keys, activation_code=code, server_id=server_id,
                    product=product, nonce=request.nonce,
                )  # fmt: skip
                verified.append((product, code, CodeRevoked(revocation)))
            else:
                checked = verify_envelope(
                    envelope, keys, activation_code=code, server_id=server_id,
                    product=product, nonce=request.nonce,
                )  # fmt: skip
                verified.append((product, code, checked))
        except UntrustedStatement as exc:
            raise InvalidLicenseResponse(reason=exc.fields.get("reason", "bad_signature")) from None
    return verified


def _find_request(env: LicenseEnv, response: LicenseResponseFile) -> tuple[str, LicenseRequest]:
    with env.sessionmaker() as session:
        observe_time(session, env.clock.now())
        server_id = server_info(session).server_id
        if response.server_id != server_id:
            raise LicenseResponseWrongServer(expected=server_id, actual=response.server_id[:64])
        request = session.scalar(
            select(LicenseRequest).where(LicenseRequest.nonce == response.nonce[:64])
        )
    if request is None or request.request_sha256 != response.request_sha256:
        raise LicenseResponseUnknownRequest()
    return server_id, request


def import_response(env: LicenseEnv, data: bytes, *, actor: str) -> ImportOutcome:
    """Apply a response file (see the module docstring). Raises InvalidLicenseResponse
    (malformed, altered, not bound to the request), LicenseResponseWrongServer,
    LicenseResponseUnknownRequest; a response whose statement is older than the slot's
    raises UntrustedStatement (stale_statement), as an online check would."""
    response = parse_response(data)
    server_id, request = _find_request(env, response)
    if request.imported_at is not None:
        return ImportOutcome(already_imported=True, imported_at=request.imported_at)
    keys = _vendor_keys(env, response)
    verified = _verify_all(response, keys, server_id=server_id, request=request)
    now = env.clock.now()
    if not _claim(env, request.id, now=now, actor=actor, digest=response.digest):
        with env.sessionmaker() as session:
            imported_at = session.scalar(
                select(LicenseRequest.imported_at).where(LicenseRequest.id == request.id)
            )
        return ImportOutcome(already_imported=True, imported_at=imported_at)
    outcomes: list[CheckOutcome] = []
    new_codes = {c["activation_code"] for c in request.codes if c.get("new")}
    try:
        for product, code, result in verified:
            if code in new_codes:
                outcomes.append(apply_new_code(env, product, code, result, actor=actor))
            elif isinstance(result, CodeRejected):
                apply_rejection(
                    env.sessionmaker, product, code, result, now=env.clock.now(), actor=actor
                )
                outcomes.append(
                    CheckOutcome(product=product, ok=False, error=result, applied="rejected")
                )
            elif isinstance(result, CodeRevoked):
                apply_signed_revocation(env, product, code, result, actor=actor)
                outcomes.append(CheckOutcome(product=product, ok=False, error=result))
            else:
                outcomes.append(
                    apply_statement(env, product, code, result, actor=actor, via_file=True)
                )
    except BaseException:  # e.g. a stale statement: the request stays pending, as before
        _release(env, request.id, digest=response.digest)
        raise
    return ImportOutcome(already_imported=False, outcomes=outcomes, imported_at=now)


def _claim(env: LicenseEnv, request_id: int, *, now: datetime, actor: str, digest: str) -> bool:
    """Mark the request imported if it still is pending, in one conditional UPDATE: of
    imports racing (the CLI and the Web manager, two uploads), exactly one gets True and
    applies the response; the others find it imported and change nothing."""
    with env.sessionmaker() as session, session.begin():
        claimed = session.execute(
            update(LicenseRequest)
            .where(LicenseRequest.id == request_id, LicenseRequest.imported_at.is_(None))
            .values(imported_at=now, imported_by=actor[:64], response_sha256=digest)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(claimed, "rowcount", 0) == 1)


def _release(env: LicenseEnv, request_id: int, *, digest: str) -> None:
    with env.sessionmaker() as session, session.begin():
        session.execute(
            update(LicenseRequest)
            .where(LicenseRequest.id == request_id, LicenseRequest.response_sha256 == digest)
            .values(imported_at=None, imported_by=None, response_sha256=None)
            .execution_options(synchronize_session=False)
        )


__all__ = [
    "ImportOutcome",
    "LicenseResponseUnknownRequest",
    "LicenseResponseWrongServer",
    "NoLicenseToRenew",
    "WrittenRequest",
    "import_response",
    "write_request",
]


def apply_new_code(
    env: LicenseEnv,
    product: Product,
    code: str,
    result: VerifiedStatement | CodeRevoked | CodeRejected,
    *,
    actor: str,
) -> CheckOutcome:
    """A code asked for by file (`write_request(new_code=…)`), put into its slot only on the
    vendor's signed activated / grace answer for it (the file is the vendor's confirmation);
    any other answer leaves the slot as it is and is reported."""
    if isinstance(result, CodeRevoked | CodeRejected):
        return CheckOutcome(product=product, ok=False, error=result)
    if result.vendor_state not in CONFIRMED_STATES:
        error = ExpiredActivationCode(expires_on=result.contract_end.isoformat())
        return CheckOutcome(product=product, ok=False, error=error)
    check = parse_activation_code(code, product=product)
    assert check.value is not None  # parsed when the request was written
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        current = find_slot(session, product)
        previous = current.activation_code if current is not None else None
        old = current.expires_on if current is not None else None
        slot = store_slot(session, code=check.value, statement=result, now=now)
        activation_event(session, slot, now=now, actor=actor, previous_code=previous)
    return CheckOutcome(product=product, ok=True, old_expiry=old, new_expiry=result.contract_end)
