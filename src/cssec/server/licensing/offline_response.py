"""Reading the vendor's response file before anything of it is applied: the pending
request it answers (on this server), the vendor keys it may bring (a first contact's keys
matching the install fingerprints, a rotation's endorsements), and every statement
verified like one fetched online and bound to the request by its digest."""

from __future__ import annotations

from sqlalchemy import select

from cssec.core.errors import CssecError
from cssec.core.license import Product
from cssec.core.license_files import InvalidLicenseResponse, LicenseResponseFile
from cssec.core.signing import follow_endorsements
from cssec.core.signing_keys import VerifyingKey
from cssec.server.licensing.clockguard import observe_time, server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import UntrustedStatement
from cssec.server.licensing.refusals import CodeRejected, CodeRevoked
from cssec.server.licensing.statements import (
    REJECTION_STATES,
    VerifiedStatement,
    verify_envelope,
    verify_rejection,
    verify_revocation,
)
from cssec.server.licensing.trust import VendorTrust, chain_endorsements, pin_keys
from cssec.server.licensing.vendor_status import FIRST_CONTACT, ROTATED, pin_vendor_keys
from cssec.server.models import LicenseRequest

FILE_SOURCE = "file"
"""What the vendor.keys_pinned event names as the keys' origin when they came in a file."""


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


def vendor_keys(env: LicenseEnv, response: LicenseResponseFile) -> dict[str, VerifyingKey]:
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


def verify_response(
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


def find_request(env: LicenseEnv, response: LicenseResponseFile) -> tuple[str, LicenseRequest]:
    """This server's id and the request the response answers: LicenseResponseWrongServer for
    another server's, LicenseResponseUnknownRequest for a request this server never wrote."""
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
