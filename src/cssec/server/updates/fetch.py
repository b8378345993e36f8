"""Asking ActiveUpdate: the signed manifest, then each changed file, verified before use.

Nothing here touches the database or the disk. The manifest must carry a valid signature
of a pinned vendor key and must not be older than the current one; every file must have
exactly the manifest's size and SHA-256 and work as its component. Any failure raises
`ComponentUpdateFailed` with its cause (the vendor's own refusals, such as
`license_expired` or `revoked_activation_code`, pass through as they are), except the
vendor's refusal of a separately licensed file (the Damage Cleanup template: `entitlement`),
which leaves that file out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cssec.core.components import Manifest, verify_file, verify_manifest
from cssec.core.errors import CssecError, VendorUnreachable
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.updates.entitlement import Codes, refused_to_this_site, separately_licensed
from cssec.server.updates.errors import ComponentUpdateFailed
from cssec.server.updates.store import ComponentStore, validate_component


@dataclass(frozen=True)
class Fetched:
    manifest: Manifest
    envelope: dict[str, Any]
    files: dict[Component, bytes]
    """The verified bytes of every file that was not already stored."""


def _unreachable(exc: VendorUnreachable) -> ComponentUpdateFailed:
    return ComponentUpdateFailed("vendor_unreachable", str(exc.fields.get("cause", "")))


async def fetch_manifest(
    vendor: VendorClient,
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    current: Manifest | None,
    learn_keys: Callable[[object], Awaitable[Mapping[str, VerifyingKey]]] | None = None,
) -> tuple[Manifest, dict[str, Any]]:
    """The vendor's manifest, verified. `learn_keys(envelope)` may widen `keys` first when
    the envelope names a kid they lack (`licensing.vendor_status.keys_for`: a key rotation)."""
    try:
        envelope = await vendor.activeupdate_manifest(
            activation_code=activation_code, server_id=server_id
        )
    except VendorUnreachable as exc:
        raise _unreachable(exc) from None
    if learn_keys is not None:
        keys = await learn_keys(envelope)
    check = verify_manifest(envelope, keys)
    if check.value is None or not isinstance(envelope, dict):
        raise ComponentUpdateFailed("bad_manifest", f"{check.error} {check.detail}".strip())
    manifest = check.value
    if current is not None and manifest.serial < current.serial:
        detail = f"serial {manifest.serial} < {current.serial}"
        raise ComponentUpdateFailed("stale_manifest", detail)
    for component, new in manifest.components.items():
        old = current.components.get(component) if current else None
        if old is not None and old.version == new.version and old.sha256 != new.sha256:
            detail = f"{component.value} version {new.version} names a different file"
            raise ComponentUpdateFailed("bad_manifest", detail)
    return manifest, envelope


async def fetch_files(
    vendor: VendorClient,
    manifest: Manifest,
    *,
    activation_code: str,
    server_id: str,
    store: ComponentStore | None,
    codes: Codes | None = None,
) -> dict[Component, bytes]:
    """Download and verify every file of `manifest` that `store` does not hold yet, each
    with its code (`codes`, `entitlement.download_codes`; else `activation_code`). A
    component whose code is None is not asked for; one the vendor refuses to this site's
    code of its product is left out (`entitlement.refused_to_this_site`)."""
    files: dict[Component, bytes] = {}
    for component, version in manifest.components.items():
        if store is not None and store.present(version):
            continue
        code = activation_code if codes is None else codes.get(component, activation_code)
        if code is None:
            continue
        try:
            data = await vendor.activeupdate_file(
                version.sha256,
                activation_code=code,
                server_id=server_id,
                max_bytes=version.size,
            )
        except VendorUnreachable as exc:
            raise _unreachable(exc) from None
        except CssecError as exc:
            if refused_to_this_site(component, exc):
                continue
            raise
        where = f"{component.value} v{version.version}"
        if len(data) < version.size:
            raise ComponentUpdateFailed("truncated", f"{where}: {len(data)}/{version.size} bytes")
        if len(data) > version.size:
            raise ComponentUpdateFailed("oversize", f"{where}: more than {version.size} bytes")
        if not verify_file(data, version):
            raise ComponentUpdateFailed("hash_mismatch", where)
        invalid = validate_component(component, data)
        if invalid is not None:
            raise ComponentUpdateFailed("invalid_component", f"{where}: {invalid}")
        files[component] = data
    return files


async def fetch_update(
    vendor: VendorClient,
    keys: Mapping[str, VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    dcs_code: str | None = None,
) -> Fetched:
    """Everything of the current manifest, for a server that holds nothing yet (install):
    the Damage Cleanup template only with `dcs_code` (else the DCS site's first update
    brings it: `entitlement`)."""
    manifest, envelope = await fetch_manifest(
        vendor, keys, activation_code=activation_code, server_id=server_id, current=None
    )
    files = await fetch_files(
        vendor, manifest, activation_code=activation_code, server_id=server_id, store=None,
        codes={c: dcs_code for c in manifest.components if separately_licensed(c)},
    )  # fmt: skip
    return Fetched(manifest=manifest, envelope=envelope, files=files)
