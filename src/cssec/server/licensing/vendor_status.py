"""Asking the vendor for a code's signed status: the keys it is verified with, pinned on
first contact or learned through a rotation's endorsements (each pin with its event), and
the statement itself, bound to a fresh nonce, this server and the slot's code.

Used by entering a code (`activation`), the online check (`online_check`), the air-gapped
renewal (`offline_renewal`, which pins keys carried in a file the same way) and the
component updates (`updates.service`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cssec.core.errors import InvalidActivationCode, RevokedActivationCode, VendorUnreachable
from cssec.core.license import Product
from cssec.core.signing import VerifyingKey, follow_endorsements
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import VendorKeyRequired
from cssec.server.licensing.refusals import CodeRejected, CodeRevoked
from cssec.server.licensing.statements import (
    VerifiedStatement,
    new_nonce,
    verify_envelope,
    verify_rejection,
    verify_revocation,
)
from cssec.server.licensing.trust import VendorTrust, chain_endorsements, pin_keys
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.logs.events import Level, add_event


async def trusted_keys(env: LicenseEnv, vendor: VendorClient) -> dict[str, VerifyingKey]:
    """The pinned keys. A server installed offline with a fingerprint pins, on first
    contact, the vendor keys that match it (and what their endorsements vouch for); a key
    that matches nothing given at install is never pinned (`trust.pin_keys`).

    The pin is never silent: the keys file is staged complete, the vendor.keys_pinned event
    committed, and only then the file renamed into place. A crash before the rename leaves
    the event without the pin, and the next contact pins (and logs) again.
    """
    pinned = env.data.read_vendor_trust()
    if pinned.keys:
        return pinned.keys
    trust = VendorTrust(fingerprints=tuple(pinned.fingerprints))
    if not trust:
        raise VendorKeyRequired()
    offered, endorsements = await vendor.fetch_key_set()
    keys, chain = pin_keys(trust, offered, endorsements)
    pin_vendor_keys(
        env, vendor.base_url, list(keys.values()), FIRST_CONTACT, kids=list(keys),
        endorsements=chain,
    )  # fmt: skip
    return keys


async def keys_for(
    env: LicenseEnv, vendor: VendorClient, keys: Mapping[str, VerifyingKey], envelope: object
) -> Mapping[str, VerifyingKey]:
    """`keys`, or, when `envelope` is signed with a kid none of them has (the vendor rotated
    its signing key), `keys` plus the keys the vendor's endorsement chain vouches for,
    starting from a key already pinned (`core.signing.follow_endorsements`). Those are
    pinned as `trusted_keys` pins (the keys file staged, a vendor.keys_rotated event
    committed, the file put in place), with the endorsements that prove them, which
    clients are handed to follow the same chain. Nothing is learned from a key set whose
    chain does not start at a pinned key, or when the keys cannot be fetched: the envelope
    then fails verification with unknown_kid, as before, and nothing changes."""
    kid = envelope.get("kid") if isinstance(envelope, dict) else None
    if not isinstance(kid, str) or kid in keys:
        return keys
    try:
        _fetched, endorsements = await vendor.fetch_key_set()
    except VendorUnreachable:
        return keys
    learned = follow_endorsements(keys, endorsements)
    if not learned:
        return keys
    merged = {**keys, **learned}
    known = env.data.read_vendor_trust().endorsements
    chain = known + [e for e in chain_endorsements(merged, endorsements) if e not in known]
    pin_vendor_keys(
        env, vendor.base_url, list(merged.values()), ROTATED, kids=list(learned),
        endorsements=chain,
    )  # fmt: skip
    return merged


FIRST_CONTACT = (
    Level.WARNING,
    "vendor.keys_pinned",
    {
        "ja": "ライセンスサーバの公開鍵を初回接続時に取得し、インストール時に指定された指紋と"
        "一致したものを保存しました。",
        "en": "The license service's public keys were fetched on first contact; those matching "
        "the fingerprint given at install were pinned.",
    },
)
ROTATED = (
    Level.INFO,
    "vendor.keys_rotated",
    {
        "ja": "ライセンスサーバの新しい公開鍵を、保存済みの鍵による署名で確認して追加しました。",
        "en": "The license service's new public key was verified by a pinned key's "
        "signature and added.",
    },
)


def pin_vendor_keys(
    env: LicenseEnv,
    vendor_url: str,
    keys: list[VerifyingKey],
    event: tuple[Level, str, dict[str, str]],
    *,
    kids: list[str],
    endorsements: list[Any],
) -> None:
    """Stage the keys file, commit the event, then put the file in place: a crash before
    the rename leaves the event without the pin, and the next contact pins (and logs)
    again; never a pin without its event."""
    staged = env.data.stage_vendor_keys(keys, endorsements=endorsements)
    level, kind, message = event
    try:
        with env.sessionmaker() as session:
            add_event(
                session,
                at=env.clock.now(),
                level=level,
                kind=kind,
                message=message,
                details={"kids": kids, "vendor_url": vendor_url},
            )
            session.commit()
        env.data.place_vendor_keys(staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


async def fetch_statement(
    env: LicenseEnv,
    vendor: VendorClient,
    *,
    code: str,
    product: Product,
    server_id: str,
    seats_used: int | None = None,
) -> VerifiedStatement:
    """The vendor's statement for `code`, verified and bound to a fresh nonce. A revoked
    code's refusal with a valid signed revocation raises CodeRevoked; without one it stays
    the vendor's plain refusal (a failed check that changes nothing); likewise a code the
    vendor did not issue, with a signed "invalid" statement, raises CodeRejected. `seats_used` (the
    clients in use) goes along for the vendor's history; it changes nothing here."""
    pinned = await trusted_keys(env, vendor)
    nonce = new_nonce()
    try:
        envelope = await vendor.status(
            activation_code=code, server_id=server_id, nonce=nonce, seats_used=seats_used
        )
    except RevokedActivationCode as refused:
        proof = refused.fields.get("revocation")
        if proof is None:
            raise
        keys = await keys_for(env, vendor, pinned, proof)
        raise CodeRevoked(
            verify_revocation(
                proof, keys, activation_code=code, server_id=server_id, product=product,
                nonce=nonce,
            )
        ) from None  # fmt: skip
    except InvalidActivationCode as refused:
        proof = refused.fields.get("refusal")
        if proof is None:
            raise  # a bare refusal: a failed check that changes nothing
        keys = await keys_for(env, vendor, pinned, proof)
        raise CodeRejected(
            verify_rejection(
                proof, keys, activation_code=code, server_id=server_id, product=product,
                nonce=nonce,
            )
        ) from None  # fmt: skip
    keys = await keys_for(env, vendor, pinned, envelope)
    return verify_envelope(
        envelope, keys, activation_code=code, server_id=server_id, product=product, nonce=nonce
    )
