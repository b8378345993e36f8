"""The renewal request file an air-gapped server writes: signed with its identity key (its
server id, the slots' codes, the clients in use, a fresh nonce), its nonce remembered as
pending (`LicenseRequest`) until a response to it is imported (`offline_renewal`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cssec.core.codes import parse_activation_code
from cssec.core.errors import CssecError
from cssec.core.license_files import RequestedCode, build_request
from cssec.core.secret_files import load_or_create_signing_key
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.replacement import (
    Replacement,
    compare_terms,
    terms_of_code,
    terms_of_slot,
)
from cssec.server.licensing.state import slot_state
from cssec.server.licensing.statements import new_nonce
from cssec.server.licensing.view import effective_today
from cssec.server.logs.events import Level, add_event
from cssec.server.models import LicenseRequest, LicenseSlot

REQUEST_KIND = "license.request_written"


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


@dataclass(frozen=True)
class WrittenRequest:
    data: bytes
    nonce: str
    digest: str
    codes: tuple[RequestedCode, ...]
    lowers: Replacement | None = None
    """The new code, by its own encoded terms, would lower the live license: importing the
    response will ask for confirmation (the vendor's terms decide then)."""


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
        today = effective_today(observe_time(session, now), env.tz)
    with env.sessionmaker() as session, session.begin():
        server_id = server_info(session).server_id
        slots = session.scalars(select(LicenseSlot).order_by(LicenseSlot.id)).all()
        if not slots:
            raise NoLicenseToRenew()
        current = {slot.product: slot.activation_code for slot in slots}
        lowers = None
        if entered is not None:
            live = next((s for s in slots if s.product == entered.product.value), None)
            if live is not None:
                replacement = compare_terms(
                    terms_of_slot(live),
                    terms_of_code(entered, None),
                    current=slot_state(live, today),
                )
                lowers = replacement if replacement.needs_confirmation else None
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
    return WrittenRequest(data=data, nonce=nonce, digest=digest, codes=codes, lowers=lowers)
