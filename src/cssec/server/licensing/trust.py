"""Which vendor keys a server trusts, and how it comes to trust them: never on first use.

A server starts from a trust anchor that reached it out of band: the vendor key file the
distribution carries for the shipped vendor (`trusted-vendor-keys.json` beside this module,
when present), or what the operator gives at install: `--vendor-keys-file F` (the JWKS
`cssec vendor keys public` prints) or `--vendor-key-fingerprint sha256:…` (the fingerprint
it prints). From an anchor, the server trusts exactly the keys the vendor's endorsement
chain vouches for (`core.signing.follow_endorsements`); any other key the network offers is
ignored, and a vendor whose keys match no anchor is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cssec.core.errors import Phrase, ValidationFailed
from cssec.core.signing import (
    FingerprintFormatError,
    VerifyingKey,
    follow_endorsements,
    parse_fingerprint,
    verify_statement,
)
from cssec.server.licensing.errors import UntrustedVendorKey, VendorKeyRequired

BUILTIN_KEYS_FILE = Path(__file__).parent / "trusted-vendor-keys.json"


@dataclass(frozen=True)
class VendorTrust:
    """Trust anchors: whole keys, and fingerprints a key offered by the vendor must match."""

    keys: tuple[VerifyingKey, ...] = ()
    fingerprints: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.keys or self.fingerprints)

    def describe(self) -> str:
        return ", ".join([key.fingerprint for key in self.keys] + list(self.fingerprints))

    def anchors(self, offered: Iterable[VerifyingKey] = ()) -> dict[str, VerifyingKey]:
        found = {key.kid: key for key in self.keys}
        for key in offered:
            if key.fingerprint in self.fingerprints:
                found[key.kid] = key
        return found


def read_keys_file(path: Path) -> list[VerifyingKey]:
    """A JWKS file (`{"keys": [JWK, …]}`, as `cssec vendor keys public` prints) or one PEM
    public key; ValidationFailed names the file and what is wrong with it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(
            detail=Phrase(
                f"ライセンスサービスの公開鍵ファイル {path}を読めません（{exc.strerror or exc}）",
                f"cannot read the vendor keys file {path}: {exc}",
            )
        ) from None
    if raw.lstrip().startswith(b"-----BEGIN"):
        try:
            return [VerifyingKey.from_pem(raw)]
        except ValueError as exc:
            raise ValidationFailed(detail=f"{path}: {exc}") from None
    try:
        data = json.loads(raw)
        jwks = data["keys"] if isinstance(data, dict) else None
        if not isinstance(jwks, list) or not jwks:
            raise ValueError("no 'keys' list")
        return [VerifyingKey.from_jwk(jwk) for jwk in jwks]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValidationFailed(
            detail=Phrase(
                f"{path}はライセンスサービスの公開鍵ファイル（cssec vendor keys publicの出力）"
                "ではありません",
                f"{path} is not a vendor key set (JWKS from 'cssec vendor keys public'): {exc}",
            )
        ) from None


def load_trust(
    *,
    fingerprints: Sequence[str] = (),
    keys_file: Path | None = None,
    builtin: Path | None = BUILTIN_KEYS_FILE,
) -> VendorTrust:
    """What the operator gave, else what the distribution carries; an empty trust when
    neither exists (the caller refuses with VendorKeyRequired)."""
    parsed = []
    for text in fingerprints:
        try:
            parsed.append(parse_fingerprint(text))
        except FingerprintFormatError as exc:
            said = f"--vendor-key-fingerprint {text!r}"
            raise ValidationFailed(
                detail=Phrase(f"{said}: {exc.ja}", f"{said}: {exc.en}")
            ) from None
    keys = read_keys_file(keys_file) if keys_file is not None else []
    if not parsed and not keys and builtin is not None and builtin.is_file():
        keys = read_keys_file(builtin)
    return VendorTrust(keys=tuple(keys), fingerprints=tuple(parsed))


def chain_endorsements(keys: dict[str, VerifyingKey], endorsements: Iterable[Any]) -> list[Any]:
    """The endorsements among `endorsements` that a key of `keys` signed: the chain a
    client holding an older key can follow to the newer ones."""
    return [e for e in endorsements if verify_statement(e, keys).ok]


def pin_keys(
    trust: VendorTrust, offered: Sequence[VerifyingKey], endorsements: Sequence[Any]
) -> tuple[dict[str, VerifyingKey], list[Any]]:
    """The keys to pin from a vendor's key set: the anchors it matches and what their
    endorsement chain vouches for, with the endorsements that prove it. Refuses a key set
    that matches no anchor."""
    if not trust:
        raise VendorKeyRequired()
    anchors = trust.anchors(offered)
    if not anchors:
        raise UntrustedVendorKey(expected=trust.describe())
    keys = {**anchors, **follow_endorsements(anchors, endorsements)}
    return keys, chain_endorsements(keys, endorsements)
