"""Importing a component bundle on an air-gapped server (`cssec server components import`,
the components page's upload). The vendor side, and the bundle's layout, are
`vendor_service.activeupdate.bundle`.

Checks, in this order; the first that fails refuses the bundle, logged in the update log
(server) with the components unchanged:

1. the license, as for an online update (`core.policy`: after the grace period refused
   with `license_expired` and the same ja/en words, before the file is even read);
2. the file: a tar of at most `MAX_BUNDLE_BYTES`, regular files with the expected names
   only (`bad_bundle`);
3. `bundle.json`: signed by a pinned vendor key (or one its rotations vouch for, from the
   bundle's key set), naming one of this server's activation codes (`other_site`), made
   at most `MAX_AGE` ago and not in the future (`bundle_too_old`, `bad_bundle`), and
   naming the bundle's timestamp.json by its SHA-256;
4. TUF, by python-tuf exactly as online (`tuf_client.TufSession`) against the root this
   server trusts (or, the first time, the root the vendor key endorses), the metadata's
   expiry judged at the bundle's signed `issued_at`: a bundle older than what is installed
   is a rollback (`older_bundle`), a changed byte a `hash_mismatch` or `bad_metadata`;
5. each file works as its component; then the switch, as an online update makes it.

The Damage Cleanup template is taken from a bundle only while this server's Damage Cleanup
Services license is live (`entitlement.download_codes`); the vendor leaves it out of a
bundle for a contract without a live DCS license, and a bundle without it updates the rest
and keeps the template held (`entitlement`), as an online update does.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater

from cssec.core.codes import parse_activation_code
from cssec.core.components import Manifest
from cssec.core.errors import CssecError
from cssec.core.license import Product
from cssec.core.policy import Component, Operation, decide
from cssec.core.signing import VerifyingKey, follow_endorsements, verify_statement
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.state import cs_license_state
from cssec.server.licensing.trust import VendorTrust, pin_keys
from cssec.server.logs.update_logs import UpdateResult
from cssec.server.models import LicenseSlot
from cssec.server.updates.entitlement import download_codes
from cssec.server.updates.errors import (
    MAX_BUNDLE_BYTES,
    BundleRefused,
    ComponentUpdateFailed,
)
from cssec.server.updates.service import (
    UpdateOutcome,
    _apply,
    _log,
    _write_files,
    both,
    read_installed,
    refusal,
    versions_of,
)
from cssec.server.updates.store import ComponentStore
from cssec.server.updates.tuf_client import (
    ENDORSEMENT_KIND,
    ROOT_HISTORY,
    TufSession,
    holds_root,
    metadata_dir,
)
from cssec.web.filemodes import make_private_dirs

TRIGGER = "bundle"
KIND = "component_bundle"
MAX_AGE = timedelta(days=30)
FUTURE_SKEW = timedelta(minutes=10)
_BASE = "https://bundle.invalid/"
_NAMES = re.compile(
    r"^(bundle\.json|keys\.json|root-endorsement\.json"
    r"|metadata/(timestamp|[1-9][0-9]{0,8}\.(root|snapshot|targets))\.json"
    r"|targets/[a-z_]{1,40}/[0-9a-f]{64}\.[A-Za-z0-9_.-]{1,80})$"
)


@dataclass(frozen=True)
class BundleFiles:
    files: dict[str, bytes]
    statement: dict[str, Any]
    issued_at: datetime
    keys: dict[str, VerifyingKey]


def read_members(data: bytes) -> dict[str, bytes]:
    """The bundle's files by name; BundleRefused(bad_bundle) for anything but a tar of
    regular files with the expected names, each once, within the size limit."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused("bad_bundle", f"larger than {MAX_BUNDLE_BYTES} bytes")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            unpacked = 0
            for member in tar:
                if not member.isfile() or not _NAMES.fullmatch(member.name):
                    raise BundleRefused("bad_bundle", f"unexpected entry {member.name[:80]!r}")
                if member.name in files:
                    raise BundleRefused("bad_bundle", f"{member.name} twice")
                # A sparse member reads as the size it claims, holes filled with zeros: a
                # few kilobytes could claim gigabytes (a tar bomb). Refused, and the sizes
                # are summed before anything is read.
                unpacked += member.size
                if member.issparse() or unpacked > MAX_BUNDLE_BYTES:
                    raise BundleRefused("bad_bundle", f"{member.name} too large or sparse")
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() members always have one
                    raise BundleRefused("bad_bundle", member.name)
                files[member.name] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleRefused("bad_bundle", f"not a tar file: {exc}"[:200]) from None
    for required in ("bundle.json", "keys.json", "root-endorsement.json"):
        if required not in files:
            raise BundleRefused("bad_bundle", f"no {required}")
    return files


def _json(files: Mapping[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name])
    except (KeyError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise BundleRefused("bad_bundle", f"{name} unreadable") from None


def vendor_keys(env: LicenseEnv, files: Mapping[str, bytes]) -> dict[str, VerifyingKey]:
    """The pinned vendor keys (or, on a server installed offline with a fingerprint only,
    the bundle's keys that match it), plus what their endorsements in the bundle vouch for.
    Nothing is pinned here: the next online contact pins as usual."""
    pinned = env.data.read_vendor_trust()
    body = _json(files, "keys.json")
    raw = body.get("keys") if isinstance(body, dict) else None
    offered: list[VerifyingKey] = []
    for jwk in raw if isinstance(raw, list) else []:
        with suppress(ValueError, TypeError, AttributeError):
            offered.append(VerifyingKey.from_jwk(jwk))
    endorsements = body.get("endorsements") if isinstance(body, dict) else None
    chain = [*pinned.endorsements, *(endorsements if isinstance(endorsements, list) else [])]
    if pinned.keys:
        return {**pinned.keys, **follow_endorsements(pinned.keys, chain)}
    keys, _chain = pin_keys(VendorTrust(fingerprints=tuple(pinned.fingerprints)), offered, chain)
    return keys


def _codes(env: LicenseEnv) -> set[str]:
    with env.sessionmaker() as session:
        texts = session.scalars(select(LicenseSlot.activation_code)).all()
    digests = set()
    for text in texts:
        parsed = parse_activation_code(text or "").value
        if parsed is not None:
            digests.add(hashlib.sha256(parsed.text.encode("ascii")).hexdigest())
    return digests


def check_statement(env: LicenseEnv, files: Mapping[str, bytes], *, now: datetime) -> BundleFiles:
    """Step 3 of the module docstring."""
    keys = vendor_keys(env, files)
    check = verify_statement(_json(files, "bundle.json"), keys)
    statement = check.statement
    if not check.ok or not isinstance(statement, dict) or statement.get("kind") != KIND:
        raise BundleRefused("bad_bundle", f"bundle.json: {check.reason or 'not a bundle'}")
    codes = statement.get("codes")
    if not isinstance(codes, list) or not _codes(env) & {str(c) for c in codes}:
        raise BundleRefused("other_site")
    try:
        issued_at = datetime.fromisoformat(str(statement["issued_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise BundleRefused("bad_bundle", "bundle.json: issued_at") from None
    if issued_at.tzinfo is None:
        raise BundleRefused("bad_bundle", "bundle.json: issued_at")
    if issued_at > now + FUTURE_SKEW:
        raise BundleRefused("bad_bundle", f"issued in the future ({statement['issued_at']})")
    if now - issued_at > MAX_AGE:
        raise BundleRefused("bundle_too_old", f"issued {statement['issued_at']}")
    timestamp = files.get("metadata/timestamp.json", b"")
    if hashlib.sha256(timestamp).hexdigest() != statement.get("timestamp_sha256"):
        raise BundleRefused("bad_bundle", "timestamp.json is not the one bundle.json names")
    return BundleFiles(dict(files), statement, issued_at, keys)


def endorsed_root(bundle: BundleFiles) -> bytes:
    """The root.json the bundle's root endorsement binds, checked with the vendor keys (as
    `tuf_client.endorsed_root` does online)."""
    body = _json(bundle.files, "root-endorsement.json")
    try:
        envelope, version = body["endorsement"], int(body["version"])
    except (KeyError, ValueError, TypeError):
        raise BundleRefused("bad_bundle", "root endorsement unreadable") from None
    check = verify_statement(envelope, bundle.keys)
    statement = check.statement
    if not check.ok or not isinstance(statement, dict):
        raise BundleRefused("bad_metadata", f"root endorsement: {check.reason}")
    if statement.get("kind") != ENDORSEMENT_KIND or statement.get("version") != version:
        raise BundleRefused("bad_metadata", "root endorsement: wrong kind or version")
    root = bundle.files.get(f"metadata/{version}.root.json", b"")
    if hashlib.sha256(root).hexdigest() != statement.get("sha256"):
        raise BundleRefused("bad_metadata", "root.json does not match its endorsement")
    return root


class _BundleFetcher(FetcherInterface):
    """ngclient's fetcher reading the bundle's files (404 for anything it lacks)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files

    def _fetch(self, url: str) -> Iterator[bytes]:
        data = self.files.get(url.removeprefix(_BASE))
        if data is None:
            raise exceptions.DownloadHTTPError("not in the bundle", 404)
        return iter([data])


def _open(data_root: Path, bundle: BundleFiles) -> TufSession:
    directory = metadata_dir(data_root)
    bootstrap = None if holds_root(data_root) else endorsed_root(bundle)
    make_private_dirs(directory / ROOT_HISTORY)  # python-tuf would make it with the umask's mode
    fetcher = _BundleFetcher(bundle.files)
    updater = Updater(
        str(directory), _BASE + "metadata/", None, _BASE + "targets/", fetcher,
        bootstrap=bootstrap,
    )  # fmt: skip
    # Expiry is judged when the vendor made the bundle (its age is bounded by MAX_AGE).
    updater._trusted_set.reference_time = bundle.issued_at
    updater.refresh()
    if bootstrap is not None:
        from cssec.server.updates import tuf_mirror  # noqa: PLC0415  (the clients' bootstrap)

        tuf_mirror.save_endorsement(data_root, bundle.files["root-endorsement.json"])
    return TufSession(updater, fetcher, directory / "incoming")  # type: ignore[arg-type]


_OLDER = ("rolled_back_metadata", "stale_manifest")


async def _verify(
    env: LicenseEnv, data: bytes, *, now: datetime, store: ComponentStore
) -> tuple[Manifest, dict[str, Any], dict[Component, bytes]]:
    bundle = check_statement(env, read_members(data), now=now)
    with env.sessionmaker() as session:
        installed = read_installed(session)
    try:
        tuf = await asyncio.to_thread(_open, env.data.root, bundle)
    except (exceptions.RepositoryError, exceptions.DownloadError, OSError, ValueError) as exc:
        raise _from_tuf(exc) from None

    async def learn(_envelope: object) -> Mapping[str, VerifyingKey]:
        return bundle.keys

    try:
        manifest, envelope = await tuf.manifest(
            bundle.keys, current=installed.current, learn_keys=learn
        )
        files = await tuf.files(manifest, store, codes=_codes_for(env, bundle, manifest, now))
    except ComponentUpdateFailed as exc:
        cause = "older_bundle" if exc.cause in _OLDER else exc.cause
        raise BundleRefused(cause, str(exc.fields.get("detail", ""))) from None
    return manifest, envelope, files


def _codes_for(
    env: LicenseEnv, bundle: BundleFiles, manifest: Manifest, now: datetime
) -> dict[Component, str | None]:
    """The separately licensed components not to take from this bundle (None): those this
    server's license does not allow, and those the vendor left out (`entitlement`)."""
    with env.sessionmaker() as session:
        live = download_codes(session, now=now, tz=env.tz)
    skipped: dict[Component, str | None] = {}
    for component, code in live.items():
        version = manifest.components[component]
        prefix = f"targets/{component.value}/{version.sha256}."
        if code is None or not any(name.startswith(prefix) for name in bundle.files):
            skipped[component] = None
    return skipped


def _from_tuf(exc: Exception) -> BundleRefused:
    detail = str(exc)[:300]
    if isinstance(exc, exceptions.BadVersionNumberError):
        return BundleRefused("older_bundle", detail)
    if isinstance(exc, exceptions.ExpiredMetadataError):
        return BundleRefused("stale_metadata", detail)
    if isinstance(exc, exceptions.DownloadLengthMismatchError):
        return BundleRefused("oversize", detail)
    if isinstance(exc, exceptions.LengthOrHashMismatchError):
        return BundleRefused("hash_mismatch", detail)
    if isinstance(exc, exceptions.DownloadHTTPError):
        return BundleRefused("bad_bundle", f"missing from the bundle: {detail}")
    return BundleRefused("bad_metadata", detail)


async def import_bundle(env: LicenseEnv, data: bytes, *, actor: str) -> UpdateOutcome:
    """Import a bundle (the module docstring's checks); always logged in the update log
    (server), never raises a CssecError (the outcome carries it)."""
    now = env.clock.now()
    with env.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=env.tz)
        current = versions_of(read_installed(session).current)
    decision = decide(Product.CS, state, Operation.ACTIVEUPDATE_DOWNLOAD)
    if not decision.allowed:
        message = {
            lang: f"{decision.message_in(lang)} {decision.remedy_in(lang)}" for lang in ("ja", "en")
        }
        outcome = UpdateOutcome(
            UpdateResult.REFUSED, message, cause=decision.reason, versions=current,
            error=refusal(decision),
        )  # fmt: skip
        return _log(env, trigger=TRIGGER, actor=actor, outcome=outcome, poll=False)
    store = ComponentStore(env.data.root)
    store.sweep()
    try:
        manifest, envelope, files = await _verify(env, data, now=now, store=store)
        _write_files(store, manifest, files)
    except CssecError as exc:
        cause = exc.cause if isinstance(exc, (BundleRefused, ComponentUpdateFailed)) else exc.code
        outcome = UpdateOutcome(
            UpdateResult.FAILED, both(exc), cause=cause, versions=current, error=exc
        )
        return _log(env, trigger=TRIGGER, actor=actor, outcome=outcome, poll=False)
    return _apply(env, manifest, envelope, files, trigger=TRIGGER, actor=actor, poll=False)


__all__ = ["MAX_BUNDLE_BYTES", "BundleRefused", "import_bundle"]
