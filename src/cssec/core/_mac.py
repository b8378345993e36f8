"""HMAC-SHA256 with the key schedule done once per secret (RFC 2104, section 4).

hmac.digest redoes the padded-key hashing, and on OpenSSL 3 refetches SHA-256, on every
call; that overhead is most of what verifying a code costs. Here the hash states after the
padded inner and outer keys are kept per secret and copied for each message. The vendor
holds these secrets in memory anyway; tests check the result against hmac.digest.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import _Hash

_SHA256_BLOCK = 64
# Secrets come from the vendor's keyring, a few per key id; the cap only bounds memory.
_MAX_SECRETS = 64
_KEY_STATES: dict[bytes, tuple[_Hash, _Hash]] = {}


def _key_states(secret: bytes) -> tuple[_Hash, _Hash]:
    if len(secret) > _SHA256_BLOCK:
        secret_block = hashlib.sha256(secret).digest().ljust(_SHA256_BLOCK, b"\0")
    else:
        secret_block = secret.ljust(_SHA256_BLOCK, b"\0")
    states = (
        hashlib.sha256(bytes(b ^ 0x36 for b in secret_block)),
        hashlib.sha256(bytes(b ^ 0x5C for b in secret_block)),
    )
    if len(_KEY_STATES) >= _MAX_SECRETS:
        _KEY_STATES.clear()
    _KEY_STATES[secret] = states
    return states


def hmac_sha256(secret: bytes, message: bytes) -> bytes:
    """Same bytes as ``hmac.digest(secret, message, "sha256")``."""
    inner_key, outer_key = _KEY_STATES.get(secret) or _key_states(secret)
    inner = inner_key.copy()
    inner.update(message)
    outer = outer_key.copy()
    outer.update(inner.digest())
    return outer.digest()


def keyed_hmac_sha256(secret: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 under `secret`, as a function of the message."""
    return functools.partial(hmac_sha256, secret)
