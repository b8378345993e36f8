"""Key rotation as an audited action (the key material itself lives in the keyring files)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.services._context import keyring_of, transaction
from cssec.vendor_service.services.audit import record_audit


def rotate_keys(session: Session, *, actor: str, keys: Keyring | None = None) -> tuple[int, str]:
    """New HMAC and signing keys become current; old ones stay trusted. Returns the new kids."""
    keyring = keyring_of(session, keys)
    before = {
        "hmac_kid": keyring.current_mac_key.kid,
        "signing_kid": keyring.signing_key.kid,
    }
    with transaction(session):
        mac_kid, signing_kid = keyring.rotate()
        record_audit(
            session,
            actor=actor,
            action="key.rotated",
            target="keyring",
            before=before,
            after={"hmac_kid": mac_kid, "signing_kid": signing_kid},
        )
    return mac_kid, signing_kid
