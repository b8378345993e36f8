"""ActiveUpdate as a TUF repository (the specification's four top-level roles, python-tuf's
`tuf.api.metadata` for the formats and the signatures).

Keys (`tuf_keys`): a threshold of offline root keys sign root.json only, once per root
version (`install_root`), and a new root is signed by both the old and the new threshold
(the specification's rotation rule); `targets`, `snapshot` and `timestamp` have one online
key each, so the service re-signs on its own.

Metadata lives in the vendor database (`TufMetadataRow`, the exact bytes served), so N
vendor nodes answer the same bytes; consistent snapshots are on: metadata is fetched as
`<version>.<role>.json` (timestamp.json excepted), targets as `<sha256>.<name>`, and the
blob store (content-addressed already) serves them.

Targets (`tuf_targets`): the current components, their deltas, the vendor-signed manifest
of the same serial, and a staged rollout's candidate set with its rule in custom metadata.

`sync_repository` makes the metadata match the database: a new targets version when the
components changed (a publish), a rollout moved, or the root's keys did, then snapshot and
timestamp; and any of the three re-signed when less than half of its lifetime is left, by
the injected clock. It runs after every publish and, cheaply checked first, on every
timestamp.json request, so the timestamp (one day by default) is renewed by the service on
its own. The lifetimes are vendor settings (`lifetimes.py`, `tuf_*_expiry_*`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner
from sqlalchemy import select
from sqlalchemy.orm import Session
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from cssec.core.errors import NotFound
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, sign_statement
from cssec.vendor_service.activeupdate.lifetimes import Lifetimes, lifetimes_of
from cssec.vendor_service.activeupdate.models import ComponentVersionRow, TufMetadataRow
from cssec.vendor_service.activeupdate.rollouts import rollout_rev
from cssec.vendor_service.activeupdate.services import (
    _serialise_publishes,
    manifest_serial,
    store_of,
)
from cssec.vendor_service.activeupdate.store import SHA256_HEX
from cssec.vendor_service.activeupdate.tuf_keys import (
    ONLINE_ROLES,
    RootKeyError,
    RootKeys,
    online_signers,
)
from cssec.vendor_service.activeupdate.tuf_targets import targets_of
from cssec.vendor_service.services._context import keyring_of, now_utc, transaction

ROLES = ("root", "targets", "snapshot", "timestamp")
ENDORSEMENT_KIND = "tuf_root"


class TufNotInstalled(NotFound):
    """No root.json has been installed (`cssec vendor tuf root install`): 404 on the wire,
    which servers read as "this vendor serves the signed manifest only"."""


# --- reading ------------------------------------------------------------------------------


def latest_metadata(session: Session, role: str) -> TufMetadataRow | None:
    return session.scalar(
        select(TufMetadataRow)
        .where(TufMetadataRow.role == role)
        .order_by(TufMetadataRow.version.desc())
        .limit(1)
    )


def tuf_installed(session: Session) -> bool:
    return latest_metadata(session, "root") is not None


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
    row = latest_metadata(session, "root")
    if row is None or row.endorsement is None:
        raise TufNotInstalled()
    return {"version": row.version, "endorsement": json.loads(row.endorsement)}


def target_file(session: Session, path: str) -> tuple[Path, Component | None]:
    """The blob for `<dir>/<sha256>.<name>`, if that SHA-256 is a published component file
    or a target of one of the newest targets versions; NotFound otherwise. With the
    component the file belongs to (`services.authorize_component` checks it): a published
    file's own, whatever directory the path names; a delta's, by its directory
    (`deltas/<component>`); None for the signed manifests."""
    directory, _, basename = path.rpartition("/")
    sha, _, _name = basename.partition(".")
    if not SHA256_HEX.fullmatch(sha):
        raise NotFound()
    known = session.scalar(
        select(ComponentVersionRow.component).where(ComponentVersionRow.sha256 == sha).limit(1)
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
    named = known if known is not None else directory.rpartition("/")[2]
    return blob, next((c for c in Component if c.value == named), None)


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
        current = latest_metadata(session, "root")
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
    root = latest_metadata(session, "root")
    if root is None:
        return False
    now = now_utc(session)
    serial = manifest_serial(session)
    rev = rollout_rev(session)
    for role in ONLINE_ROLES:
        row = latest_metadata(session, role)
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
    root = latest_metadata(session, "root")
    if root is None:
        return False
    serial = manifest_serial(session)
    changed = False
    targets = latest_metadata(session, "targets")
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
    snapshot = latest_metadata(session, "snapshot")
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
    timestamp = latest_metadata(session, "timestamp")
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
    targets, serial = targets_of(session)
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
