"""What the targets role of ActiveUpdate's TUF repository lists (`tuf_repo` signs it).

- the current version of each of the four components (`<component>/<filename>`, custom
  `{"component", "version", "published_at"}`);
- for the pattern files, `deltas/<component>/<from>-<to>` (`deltas.py`);
- `activeupdate/manifest.json`, the vendor-signed manifest envelope of the same serial,
  which servers keep handing their clients (those that do not speak TUF yet still verify
  the vendor's signature);
- during a staged rollout (`rollouts.py`), the candidate set: `rollout/manifest.json`, the
  signed manifest of the candidate set, whose custom metadata carries its serial and the
  rollout rule (`core.rollout`) servers obey, and `rollout/<component>/<file>`, the rolling
  version's file.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from tuf.api.metadata import TargetFile

from cssec.core.components import COMPONENT_FILENAMES, format_timestamp
from cssec.core.policy import Component
from cssec.core.signing import canonical_json
from cssec.vendor_service.activeupdate.deltas import delta_targets
from cssec.vendor_service.activeupdate.models import ComponentVersionRow
from cssec.vendor_service.activeupdate.rollouts import active_rollout, rule_of
from cssec.vendor_service.activeupdate.services import (
    _current_rows,
    candidate_manifest,
    current_manifest,
    store_of,
)

MANIFEST_TARGET = "activeupdate/manifest.json"
ROLLOUT_DIR = "rollout"
ROLLOUT_MANIFEST_TARGET = "rollout/manifest.json"


def targets_of(session: Session) -> tuple[dict[str, TargetFile], int]:
    """The targets to sign now, and the serial of the manifest among them."""
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
    return targets, serial


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
