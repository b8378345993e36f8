"""The keys of ActiveUpdate's TUF repository (`tuf_repo`).

- `root`: a threshold of offline Ed25519 keys (`init_root_keys`, written to a directory
  kept off the serving host, `root_keys_dir_is_served` refuses one inside the data
  directory; `cssec vendor keys root init`). They sign root.json only (`tuf_repo.install_root`).
- `targets`, `snapshot`, `timestamp`: one online key each, held by the service beside its
  other keys (`<data_dir>/keys/tuf-<role>.pem`, `online_signers`), so the service re-signs
  on its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner, SSlibKey

from cssec.core.signing import write_secret_file

ONLINE_ROLES = ("targets", "snapshot", "timestamp")
ROOT_KEYS_FILE = "root-keys.json"


class RootKeyError(ValueError):
    """The offline root key directory is missing, damaged or below its threshold; `ja`
    says it in Japanese (the str is English)."""

    def __init__(self, en: str, ja: str | None = None) -> None:
        super().__init__(en)
        self.ja = ja or en


def private_key_pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signer_from_pem(data: bytes) -> CryptoSigner:
    private = serialization.load_pem_private_key(data, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise RootKeyError("not an Ed25519 private key", "Ed25519の秘密鍵ではありません")
    public = SSlibKey.from_crypto(private.public_key())
    return CryptoSigner(private, public)


def init_root_keys(out: Path, *, threshold: int, count: int) -> list[str]:
    """Generate `count` offline root keys into `out` (`root-<n>.pem`, 0600, and
    `root-keys.json` naming the threshold and the public keys); returns the key ids.
    Refuses a directory that already holds root keys."""
    if not 1 <= threshold <= count <= 16:
        raise RootKeyError(
            "need 1 <= threshold <= keys <= 16",
            "1 ≦ 必要な署名の数（--threshold） ≦ 鍵の数（--keys） ≦ 16で指定してください",
        )
    if (out / ROOT_KEYS_FILE).exists():
        raise RootKeyError(f"{out} already holds root keys", f"{out}にはすでにルート鍵があります")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    public: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        private = Ed25519PrivateKey.generate()
        write_secret_file(out / f"root-{number}.pem", private_key_pem(private))
        key = SSlibKey.from_crypto(private.public_key())
        public.append({"keyid": key.keyid, **key.to_dict()})
    body = {"threshold": threshold, "keys": public}
    write_secret_file(out / ROOT_KEYS_FILE, json.dumps(body, indent=2).encode())
    return [k["keyid"] for k in public]


@dataclass(frozen=True)
class RootKeys:
    threshold: int
    keys: list[SSlibKey]
    signers: list[CryptoSigner]
    """The private keys present in the directory (at least `threshold` to sign)."""


def load_root_keys(directory: Path) -> RootKeys:
    try:
        body = json.loads((directory / ROOT_KEYS_FILE).read_text(encoding="utf-8"))
        threshold = int(body["threshold"])
        keys = [SSlibKey.from_dict(k["keyid"], dict(k)) for k in body["keys"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RootKeyError(
            f"{directory} holds no root key set ({ROOT_KEYS_FILE}): {exc}",
            f"{directory}にルート鍵のセット（{ROOT_KEYS_FILE}）がありません",
        ) from exc
    wanted = {k.keyid for k in keys}
    signers = []
    for path in sorted(directory.glob("root-*.pem")):
        signer = signer_from_pem(path.read_bytes())
        if signer.public_key.keyid in wanted:
            signers.append(signer)
    return RootKeys(threshold=threshold, keys=keys, signers=signers)


def online_signers(keys_dir: Path) -> dict[str, CryptoSigner]:
    """The service's targets, snapshot and timestamp keys, created on first use."""
    signers: dict[str, CryptoSigner] = {}
    for role in ONLINE_ROLES:
        path = keys_dir / f"tuf-{role}.pem"
        if not path.exists():
            keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_secret_file(path, private_key_pem(Ed25519PrivateKey.generate()))
        signers[role] = signer_from_pem(path.read_bytes())
    return signers


def root_keys_dir_is_served(root_dir: Path, data_dir: Path) -> bool:
    """Whether the offline root keys sit inside the service's data directory (refused)."""
    try:
        return Path(os.path.realpath(root_dir)).is_relative_to(os.path.realpath(data_dir))
    except OSError:
        return False
