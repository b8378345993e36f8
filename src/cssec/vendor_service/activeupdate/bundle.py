"""Component bundles for air-gapped sites (`cssec vendor component bundle --code CODE`).

A bundle is what a server would have downloaded through TUF, in one file carried by hand:
an uncompressed tar of

    bundle.json                 the vendor-signed statement below
    keys.json                   the vendor's key set as /api/v1/keys serves it (rotations)
    root-endorsement.json       as /api/v1/tuf/root-endorsement (a server's first TUF root)
    metadata/<n>.root.json      every root version, 1 … N (a server follows rotations)
    metadata/timestamp.json, metadata/<v>.snapshot.json, metadata/<v>.targets.json
    targets/<dir>/<sha256>.<name>   every target the targets metadata names

The server verifies it exactly as it verifies an online update, with python-tuf against
the root it already trusts (`server.updates.bundle`): the files prove nothing by being in
the bundle. `bundle.json` adds what TUF does not know: whose bundle it is and when it was
made. Statement (`core.signing`, the status-signing key):

    {"v": 1, "kind": "component_bundle", "codes": [sha256 of each unrevoked activation
     code of the contract, canonical text], "contract_end", "grace_end", "issued_at",
     "serial", "timestamp_version", "timestamp_sha256"}

The license gate is the online one (`authorize_download`: revoked or past grace refused,
the same codes and messages); the bundle names the contract's codes so that another
site's server refuses it, and its `issued_at` is the time the server judges the metadata's
expiry at (a bundle may travel for days; the server bounds its age instead).

A component another product governs (the Damage Cleanup template) is carried only when the
contract holds a live code of that product (`services.authorize_component`, as online): a
bundle for a contract without a live Damage Cleanup Services license leaves the template's
files out (the metadata still names them; the server keeps the template it has).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tuf.api.metadata import Metadata, Snapshot, Targets, Timestamp

from cssec.core.components import format_timestamp
from cssec.core.errors import CssecError
from cssec.core.license import Product
from cssec.core.plural import count_en
from cssec.core.policy import Component, licensing_product
from cssec.core.signing import canonical_json, sign_statement
from cssec.vendor_service.activeupdate.bundle_refusals import for_the_desk
from cssec.vendor_service.activeupdate.deltas import DELTA_DIR
from cssec.vendor_service.activeupdate.services import (
    authorize_component,
    authorize_download,
    store_of,
)
from cssec.vendor_service.activeupdate.tuf_repo import (
    latest_metadata,
    metadata_file,
    root_endorsement,
    sync_repository,
)
from cssec.vendor_service.models import ActivationCodeRow
from cssec.vendor_service.services._context import (
    keyring_of,
    now_utc,
    read_transaction,
    transaction,
)
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.status import lookup_standing

BUNDLE_KIND = "component_bundle"
STATEMENT = "bundle.json"


class BundleUnavailable(CssecError):
    """No TUF root yet: a bundle is TUF metadata, so there is nothing to bundle."""

    code = "tuf_not_installed"
    status = 409
    message_ja = (
        "ActiveUpdateのTUFルートがまだ作成されていないため、コンポーネントバンドルを作成できま"
        "せん。ルート鍵を「cssec vendor keys root init --out ROOT_KEYS」でデータディレクトリの"
        "外（できればオフラインの媒体）に作り、「cssec vendor tuf root install --root-keys "
        "ROOT_KEYS --data DIR」でルートを登録してから、もう一度実行してください。"
    )
    message_en = (
        "No component bundle can be made: ActiveUpdate has no TUF root yet. Make the root keys "
        "outside the data directory (on offline media if you can) with `cssec vendor keys root "
        "init --out ROOT_KEYS`, install the root with `cssec vendor tuf root install "
        "--root-keys ROOT_KEYS --data DIR`, then run this again."
    )


@dataclass(frozen=True)
class Bundle:
    data: bytes
    statement: dict[str, Any]
    members: list[str]
    withheld: tuple[Component, ...] = ()
    """Components left out: another product governs them and the contract holds no live
    code of it (the Damage Cleanup template without Damage Cleanup Services)."""


def code_digest(canonical_code: str) -> str:
    return hashlib.sha256(canonical_code.encode("ascii")).hexdigest()


def make_bundle(session: Session, activation_code: str, *, actor: str) -> Bundle:
    """The bundle for the site holding `activation_code` (see the module docstring).

    Refused as an online download would be (InvalidActivationCode, RevokedActivationCode,
    LicenseExpired after grace; said to the support desk: bundle_refusals);
    BundleUnavailable before `cssec vendor tuf root install`.
    Written to the audit log (`component.bundled`)."""
    try:
        with read_transaction(session):
            standing = authorize_download(session, activation_code)
    except CssecError as exc:
        raise for_the_desk(exc) from None
    sync_repository(session)  # a fresh timestamp (and the latest publish) in the bundle
    keyring = keyring_of(session)
    blobs = store_of(session).blobs
    now = now_utc(session)
    files: dict[str, bytes] = {}
    with transaction(session):
        root = latest_metadata(session, "root")
        if root is None:
            raise BundleUnavailable()
        for version in range(1, root.version + 1):
            files[f"metadata/{version}.root.json"] = metadata_file(session, f"{version}.root.json")
        timestamp_body = metadata_file(session, "timestamp.json")
        timestamp = Metadata[Timestamp].from_bytes(timestamp_body).signed
        snapshot_name = f"{timestamp.snapshot_meta.version}.snapshot.json"
        snapshot_body = metadata_file(session, snapshot_name)
        snapshot = Metadata[Snapshot].from_bytes(snapshot_body).signed
        targets_name = f"{snapshot.meta['targets.json'].version}.targets.json"
        targets_body = metadata_file(session, targets_name)
        targets = Metadata[Targets].from_bytes(targets_body).signed
        files["metadata/timestamp.json"] = timestamp_body
        files[f"metadata/{snapshot_name}"] = snapshot_body
        files[f"metadata/{targets_name}"] = targets_body
        withheld = _withheld(session, standing.facts.contract_id)
        for path, info in targets.targets.items():
            if path.startswith(DELTA_DIR + "/"):
                continue  # a bundle carries whole files
            sha = info.hashes["sha256"]
            directory, _, name = path.rpartition("/")
            if directory.rpartition("/")[2] in withheld:
                continue
            files[f"targets/{directory}/{sha}.{name}"] = blobs.path_for(sha).read_bytes()
        files["root-endorsement.json"] = canonical_json(root_endorsement(session))
        files["keys.json"] = canonical_json(keyring.jwks())
        codes = session.scalars(
            select(ActivationCodeRow.text).where(
                ActivationCodeRow.contract_id == standing.facts.contract_id,
                ActivationCodeRow.revoked_at.is_(None),
                ActivationCodeRow.text.is_not(None),
            )
        )
        facts = standing.facts
        statement = {
            "v": 1,
            "kind": BUNDLE_KIND,
            "codes": sorted(code_digest(c) for c in codes if c),
            "contract_end": facts.contract_end.isoformat(),
            "grace_end": (facts.contract_end + timedelta(days=facts.grace_days)).isoformat(),
            "issued_at": format_timestamp(now),
            "serial": _serial(targets),
            "timestamp_version": timestamp.version,
            "timestamp_sha256": hashlib.sha256(timestamp_body).hexdigest(),
        }
        envelope = sign_statement(statement, keyring.signing_key)
        files = {STATEMENT: canonical_json(envelope), **files}
        record_audit(
            session,
            actor=actor,
            action="component.bundled",
            target=f"contract:{facts.contract_id}",
            before=None,
            after={"serial": statement["serial"], "timestamp_version": timestamp.version},
        )
    left_out = tuple(c for c in Component if c.value in withheld)
    return Bundle(data=_tar(files), statement=statement, members=list(files), withheld=left_out)


def _withheld(session: Session, contract_id: int) -> set[str]:
    """The components (by name) whose files this contract's bundle leaves out: those another
    product governs when the contract holds no code of that product that may download them
    now (revoked codes are not looked at; an expired one is refused by the policy)."""
    withheld: set[str] = set()
    for component in Component:
        product = licensing_product(component)
        if product is not Product.CS and not _live(session, contract_id, product, component):
            withheld.add(component.value)
    return withheld


def _live(session: Session, contract_id: int, product: Product, component: Component) -> bool:
    texts = session.scalars(
        select(ActivationCodeRow.text).where(
            ActivationCodeRow.contract_id == contract_id,
            ActivationCodeRow.product == product.value,
            ActivationCodeRow.revoked_at.is_(None),
            ActivationCodeRow.text.is_not(None),
        )
    )
    for text in texts:
        try:
            authorize_component(lookup_standing(session, text or ""), component)
        except CssecError:
            continue
        return True
    return False


def _serial(targets: Targets) -> int | None:
    for info in targets.targets.values():
        serial = info.custom.get("serial") if isinstance(info.custom, dict) else None
        if isinstance(serial, int):
            return serial
    return None


def _tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def bundle_summary(bundle: Bundle, lang: str = "en") -> str:
    """One line for the CLI, in `lang` (ja or en)."""
    s = bundle.statement
    files, size = len(bundle.members), len(bundle.data)
    # What the desk must be able to tell the site: a component left out, and why.
    left_out = [(c.label(lang), licensing_product(c).name_in(lang)) for c in bundle.withheld]
    if lang == "ja":
        note = "".join(
            f"（{name}は{product}のライセンスが有効でないため含めていません）"
            for name, product in left_out
        )
        return (
            f"シリアル番号 {s['serial']}、タイムスタンプのバージョン {s['timestamp_version']}、"
            f"作成日時 {s['issued_at']}、{files}ファイル、{size}バイト{note}"
        )
    note = "".join(
        f" (without the {name}: no live {product} license)" for name, product in left_out
    )
    return (
        f"serial {s['serial']}, timestamp version {s['timestamp_version']}, "
        f"issued {s['issued_at']}, {count_en(files, 'file')}, {count_en(size, 'byte')}{note}"
    )


__all__ = [
    "BUNDLE_KIND",
    "Bundle",
    "BundleUnavailable",
    "bundle_summary",
    "code_digest",
    "make_bundle",
]
