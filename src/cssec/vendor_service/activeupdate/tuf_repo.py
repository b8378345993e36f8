"""ActiveUpdate as a TUF repository (the specification's four top-level roles, python-tuf's
`tuf.api.metadata` for the formats and the signatures).

Keys:
- `root`: a threshold of offline Ed25519 keys (`init_root_keys`, written to a directory
  kept off the serving host; `cssec vendor keys root init`). They sign root.json only,
  once per root version (`install_root`), and a new root is signed by both the old and the
  new threshold (the specification's rotation rule).
- `targets`, `snapshot`, `timestamp`: one online key each, held by the service beside its
  other keys (`<data_dir>/keys/tuf-<role>.pem`), so the service re-signs on its own.

Metadata lives in the vendor database (`TufMetadataRow`, the exact bytes served), so N
vendor nodes answer the same bytes; consistent snapshots are on: metadata is fetched as
`<version>.<role>.json` (timestamp.json excepted), targets as `<sha256>.<name>`, and the
blob store (content-addressed already) serves them.

Targets: the current version of each of the four components (`<component>/<filename>`,
custom `{"component", "version", "published_at"}`) and `activeupdate/manifest.json`, the
vendor-signed manifest envelope of the same serial, which servers keep handing their
clients (those that do not speak TUF yet still verify the vendor's signature). And, for
the pattern files, `deltas/<component>/<from>-<to>` (`deltas.py`).

`sync_repository` makes the metadata match the database: a new targets version when the
components changed (a publish) or the root's keys did, then snapshot and timestamp; and any
of the three re-signed when less than half of its lifetime is left, by the injected clock.
It runs after every publish and, cheaply checked first, on every timestamp.json request, so
the timestamp (one day by default) is renewed by the service on its own. The lifetimes
are vendor settings (`lifetimes.py`, `tuf_*_expiry_*`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner, SSlibKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from cssec.core.components import COMPONENT_FILENAMES, format_timestamp
from cssec.core.errors import NotFound
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, canonical_json, sign_statement, write_secret_file
from cssec.vendor_service.activeupdate.deltas import delta_targets
from cssec.vendor_service.activeupdate.lifetimes import Lifetimes, lifetimes_of
from cssec.vendor_service.activeupdate.models import ComponentVersionRow, TufMetadataRow
from cssec.vendor_service.activeupdate.rollouts import active_rollout, rollout_rev, rule_of
from cssec.vendor_service.activeupdate.services import (
    _current_rows,
    _serialise_publishes,
    candidate_manifest,
    current_manifest,
    manifest_serial,
    store_of,
)
from cssec.vendor_service.activeupdate.store import SHA256_HEX
from cssec.vendor_service.services._context import keyring_of, now_utc, transaction

ROLES = ("root", "targets", "snapshot", "timestamp")
ONLINE_ROLES = ("targets", "snapshot", "timestamp")
MANIFEST_TARGET = "activeupdate/manifest.json"
ROLLOUT_DIR = "rollout"
ROLLOUT_MANIFEST_TARGET = "rollout/manifest.json"
ROOT_KEYS_FILE = "root-keys.json"
ENDORSEMENT_KIND = "tuf_root"


class TufNotInstalled(NotFound):
    """No root.json has been installed (`cssec vendor tuf root install`): 404 on the wire,
    which servers read as "this vendor serves the signed manifest only"."""


class RootKeyError(ValueError):
    """The offline root key directory is missing, damaged or below its threshold; `ja`
    says it in Japanese (the str is English)."""

    def __init__(self, en: str, ja: str | None = None) -> None:
        super().__init__(en)
        self.ja = ja or en


# --- keys ---------------------------------------------------------------------------------


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _signer_from_pem(data: bytes) -> CryptoSigner:
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
        write_secret_file(out / f"root-{number}.pem", _pem(private))
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
        signer = _signer_from_pem(path.read_bytes())
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
            write_secret_file(path, _pem(Ed25519PrivateKey.generate()))
        signers[role] = _signer_from_pem(path.read_bytes())
    return signers


# --- reading ------------------------------------------------------------------------------


def _latest(session: Session, role: str) -> TufMetadataRow | None:
    return session.scalar(
        select(TufMetadataRow)
        .where(TufMetadataRow.role == role)
        .order_by(TufMetadataRow.version.desc())
        .limit(1)
    )


def tuf_installed(session: Session) -> bool:
    return _latest(session, "root") is not None


def metadata_file(session: Session, name: str) -> bytes:
    """The bytes of `timestamp.json`, `root.json` (the newest root), or
    `<version>.<role>.json`; NotFound for anything else. Runs in the caller's transaction."""
    role, version = _parse_name(name)
    query = select(TufMetadataRow).where(TufMetadataRow.role == role)
    if version is None:
        row = session.scalar(query.order_by(TufMetadataRow.version.desc()).limit(1))
    else:
        row = session.scalar(query.where(TufMetadataRow.version == version))
    if row is None:
        if not tuf_installed(session):
            raise TufNotInstalled()
        raise NotFound()
    return row.body


def _parse_name(name: str) -> tuple[str, int | None]:
    if not name.endswith(".json"):
        raise NotFound()
    parts = name[: -len(".json")].split(".")
    if len(parts) == 1 and parts[0] in ("root", "timestamp"):
        return parts[0], None
    if len(parts) == 2 and parts[1] in ROLES and parts[0].isdigit() and len(parts[0]) < 10:
        return parts[1], int(parts[0])
    raise NotFound()


def root_endorsement(session: Session) -> dict[str, Any]:
    """The newest root's endorsement: `{"version", "endorsement"}` (see `install_root`)."""
    row = _latest(session, "root")
    if row is None or row.endorsement is None:
        raise TufNotInstalled()
    return {"version": row.version, "endorsement": json.loads(row.endorsement)}


def target_file(session: Session, path: str) -> Path:
    """The blob for `<dir>/<sha256>.<name>`, if that SHA-256 is a published component file
    or a target of one of the newest targets versions; NotFound otherwise."""
    basename = path.rpartition("/")[2]
    sha, _, _name = basename.partition(".")
    if not SHA256_HEX.fullmatch(sha):
        raise NotFound()
    known = session.scalar(
        select(ComponentVersionRow.id).where(ComponentVersionRow.sha256 == sha).limit(1)
    )
    if known is None:
        recent = session.scalars(
            select(TufMetadataRow.body)
            .where(TufMetadataRow.role == "targets")
            .order_by(TufMetadataRow.version.desc())
            .limit(4)
        )
        hashes = {
            info.hashes.get("sha256")
            for body in recent
            for info in Metadata[Targets].from_bytes(body).signed.targets.values()
        }
        if sha not in hashes:
            raise NotFound()
    blob = store_of(session).blobs.path_for(sha)
    if not blob.is_file():
        raise NotFound()
    return blob


# --- writing ------------------------------------------------------------------------------


def _serialise(md: Metadata[Any]) -> bytes:
    return md.to_bytes(JSONSerializer(compact=True))


def _expiry(now: datetime, role: str, lifetimes: Lifetimes) -> datetime:
    return (now + lifetimes.of(role)).replace(microsecond=0)


def _add_row(
    session: Session,
    md: Metadata[Any],
    *,
    now: datetime,
    serial: int | None,
    root_version: int,
    endorsement: str | None = None,
) -> TufMetadataRow:
    row = TufMetadataRow(
        role=md.signed.type,
        version=md.signed.version,
        body=_serialise(md),
        expires=md.signed.expires,
        serial=serial,
        root_version=root_version,
        endorsement=endorsement,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def install_root(
    session: Session,
    new_keys: RootKeys,
    *,
    old_keys: RootKeys | None = None,
    lifetimes: Lifetimes | None = None,
) -> int:
    """Sign and store the next root.json: version 1 on a fresh service, else the next
    version signed by a threshold of the new keys AND of the current root's keys
    (`old_keys`, required then). The online keys are (re)read from the service's key
    directory. The vendor's current status-signing key endorses the new root's SHA-256
    (`{"kind": "tuf_root", "version", "sha256"}`), the one statement through which a
    server that pins that key comes to trust the TUF root. Then `sync_repository`.
    Returns the new root's version."""
    keyring = keyring_of(session)
    online = online_signers(keyring.directory)
    now = now_utc(session)
    lifetimes = lifetimes_of(session, lifetimes)
    if len(new_keys.signers) < new_keys.threshold:
        raise RootKeyError(
            f"{len(new_keys.signers)} root private keys present, threshold {new_keys.threshold}",
            f"ルートの秘密鍵が {len(new_keys.signers)} 個しかありません"
            f"（必要な署名は {new_keys.threshold} 個）",
        )
    with transaction(session):
        _serialise_publishes(session)
        current = _latest(session, "root")
        version = 1 if current is None else current.version + 1
        root = Root(version=version, expires=_expiry(now, "root", lifetimes))
        root.roles["root"] = Role([], new_keys.threshold)
        for key in new_keys.keys:
            root.add_key(key, "root")
        for role, signer in online.items():
            root.add_key(signer.public_key, role)
        md = Metadata(root)
        signers = new_keys.signers[: new_keys.threshold]
        if current is not None:
            if old_keys is None:
                raise RootKeyError(
                    "rotating the root needs the current root keys too",
                    "ルートを更新するには、現在のルート鍵（--old-root-keys）も必要です",
                )
            trusted = Metadata[Root].from_bytes(current.body).signed
            root_role = trusted.roles["root"]
            old = [s for s in old_keys.signers if s.public_key.keyid in root_role.keyids]
            if len(old) < root_role.threshold:
                raise RootKeyError(
                    "not enough of the current root's keys to sign the rotation",
                    "ルートの更新に署名する現在のルート鍵が足りません",
                )
            signers = signers + [s for s in old if s not in signers]
        for signer in signers:
            md.sign(signer, append=True)
        body = _serialise(md)
        endorsement = endorse_root(keyring.signing_key, version=version, body=body)
        _add_row(
            session, md, now=now, serial=None, root_version=version,
            endorsement=json.dumps(endorsement),
        )  # fmt: skip
        _sync(session, now=now, online=online, lifetimes=lifetimes)
    return version


def endorse_root(key: SigningKey, *, version: int, body: bytes) -> dict[str, Any]:
    statement = {
        "v": 1,
        "kind": ENDORSEMENT_KIND,
        "version": version,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return sign_statement(statement, key)


def needs_sync(session: Session, *, lifetimes: Lifetimes | None = None) -> bool:
    """Whether `sync_repository` would write anything (two indexed reads)."""
    lifetimes = lifetimes_of(session, lifetimes)
    root = _latest(session, "root")
    if root is None:
        return False
    now = now_utc(session)
    serial = manifest_serial(session)
    rev = rollout_rev(session)
    for role in ONLINE_ROLES:
        row = _latest(session, role)
        if row is None or row.root_version != root.version or _renew(row, now, lifetimes):
            return True
        if role == "targets" and (row.serial != serial or (row.rollout_rev or 0) != rev):
            return True
    return False


def _renew(row: TufMetadataRow, now: datetime, lifetimes: Lifetimes) -> bool:
    return row.expires - now < lifetimes.of(row.role) / 2


def sync_repository(session: Session, *, lifetimes: Lifetimes | None = None) -> bool:
    """Bring targets, snapshot and timestamp up to date (see the module docstring); True
    when something was written. A no-op until a root is installed. Lifetimes: the
    vendor settings' (`tuf_*_expiry_*`, through the session) unless given."""
    lifetimes = lifetimes_of(session, lifetimes)
    if not needs_sync(session, lifetimes=lifetimes):
        return False
    online = online_signers(keyring_of(session).directory)
    with transaction(session):
        _serialise_publishes(session)
        return _sync(session, now=now_utc(session), online=online, lifetimes=lifetimes)


def _sync(
    session: Session, *, now: datetime, online: dict[str, CryptoSigner], lifetimes: Lifetimes
) -> bool:
    root = _latest(session, "root")
    if root is None:
        return False
    serial = manifest_serial(session)
    changed = False
    targets = _latest(session, "targets")
    if (
        targets is None
        or targets.serial != serial
        or (targets.rollout_rev or 0) != rollout_rev(session)
        or targets.root_version != root.version
        or _renew(targets, now, lifetimes)
    ):
        targets = _new_targets(session, targets, now=now, signer=online["targets"],
                               root_version=root.version, lifetimes=lifetimes)  # fmt: skip
        changed = True
    snapshot = _latest(session, "snapshot")
    if (
        changed
        or snapshot is None
        or snapshot.root_version != root.version
        or _renew(snapshot, now, lifetimes)
    ):
        md_s: Metadata[Snapshot] = Metadata(
            Snapshot(
                version=1 if snapshot is None else snapshot.version + 1,
                expires=_expiry(now, "snapshot", lifetimes),
                meta={"targets.json": MetaFile(targets.version)},
            )
        )
        md_s.sign(online["snapshot"])
        snapshot = _add_row(session, md_s, now=now, serial=targets.serial,
                            root_version=root.version)  # fmt: skip
        changed = True
    timestamp = _latest(session, "timestamp")
    if (
        changed
        or timestamp is None
        or timestamp.root_version != root.version
        or _renew(timestamp, now, lifetimes)
    ):
        md_t: Metadata[Timestamp] = Metadata(
            Timestamp(
                version=1 if timestamp is None else timestamp.version + 1,
                expires=_expiry(now, "timestamp", lifetimes),
                snapshot_meta=MetaFile(
                    snapshot.version,
                    length=len(snapshot.body),
                    hashes={"sha256": hashlib.sha256(snapshot.body).hexdigest()},
                ),
            )
        )
        md_t.sign(online["timestamp"])
        _add_row(session, md_t, now=now, serial=snapshot.serial, root_version=root.version)
        changed = True
    return changed


def _new_targets(
    session: Session,
    previous: TufMetadataRow | None,
    *,
    now: datetime,
    signer: CryptoSigner,
    root_version: int,
    lifetimes: Lifetimes,
) -> TufMetadataRow:
    rows = {r.component: r for r in _current_rows(session)}
    blobs = store_of(session).blobs
    targets: dict[str, TargetFile] = {}
    for component in Component:
        row = rows.get(component.value)
        if row is None:
            continue
        path = f"{component.value}/{COMPONENT_FILENAMES[component]}"
        custom = {
            "component": component.value,
            "version": row.version,
            "published_at": format_timestamp(row.published_at),
        }
        targets[path] = TargetFile(row.size, {"sha256": row.sha256}, path, {"custom": custom})
    targets.update(delta_targets(session, rows))  # deltas/<pattern>/<from>-<to>
    envelope = current_manifest(session)
    manifest = canonical_json(envelope)
    sha = blobs.put(manifest)
    serial = int(envelope["statement"]["serial"])
    targets[MANIFEST_TARGET] = TargetFile(
        len(manifest), {"sha256": sha}, MANIFEST_TARGET, {"custom": {"serial": serial}}
    )
    targets.update(_rollout_targets(session))
    md: Metadata[Targets] = Metadata(
        Targets(
            version=1 if previous is None else previous.version + 1,
            expires=_expiry(now, "targets", lifetimes),
            targets=targets,
        )
    )
    md.sign(signer)
    added = _add_row(session, md, now=now, serial=serial, root_version=root_version)
    added.rollout_rev = rollout_rev(session)
    return added


def _rollout_targets(session: Session) -> dict[str, TargetFile]:
    """The active rollout's candidate set, if any: `rollout/manifest.json` (the signed
    manifest of the candidate set; custom: its serial and the rule, `core.rollout`) and
    `rollout/<component>/<file>`, the rolling version's file."""
    rollout = active_rollout(session)
    if rollout is None:
        return {}
    row = session.get(ComponentVersionRow, rollout.version_id)
    if row is None:
        return {}
    component = Component(row.component)
    envelope = candidate_manifest(session, row.id)
    body = canonical_json(envelope)
    sha = store_of(session).blobs.put(body)
    rule = rule_of(rollout).to_custom()
    custom = {"serial": row.id, "rollout": rule}
    file_path = f"{ROLLOUT_DIR}/{component.value}/{COMPONENT_FILENAMES[component]}"
    file_custom = {
        "component": component.value,
        "version": row.version,
        "published_at": format_timestamp(row.published_at),
    }
    return {
        ROLLOUT_MANIFEST_TARGET: TargetFile(
            len(body), {"sha256": sha}, ROLLOUT_MANIFEST_TARGET, {"custom": custom}
        ),
        file_path: TargetFile(row.size, {"sha256": row.sha256}, file_path, {"custom": file_custom}),
    }


def root_keys_dir_is_served(root_dir: Path, data_dir: Path) -> bool:
    """Whether the offline root keys sit inside the service's data directory (refused)."""
    try:
        return Path(os.path.realpath(root_dir)).is_relative_to(os.path.realpath(data_dir))
    except OSError:
        return False
