"""ActiveUpdate through TUF: the server as a client of the vendor's TUF repository
(python-tuf's `tuf.ngclient.Updater`; the vendor side is `vendor_service.activeupdate.tuf_repo`).

Trust: the first time (at install, or at the first update after an upgrade), the server
fetches the vendor's root endorsement, a statement signed with a vendor key it already pins
(`licensing.trust`, rotations followed by `keys_for`) that binds the SHA-256 of a
root.json, and then that root.json; from there on python-tuf alone decides (root rotations
included), with the metadata kept in `<data_dir>/tuf/`. Once a root is held, the server
never falls back to the bare signed manifest: withholding TUF is "vendor unreachable".

What python-tuf refuses (`tuf.api.exceptions`) becomes a `ComponentUpdateFailed` cause:
an expired timestamp/snapshot/targets (a freeze: `stale_metadata`), a version lower than
the one held (a rollback: `rolled_back_metadata`), metadata that does not fit together or
is not signed by the root's keys (mix-and-match, forgery: `bad_metadata`), a target longer
than its length (`oversize`) or with another hash (`hash_mismatch`). The vendor's own
refusals (license_expired, revoked_activation_code …) pass through as they are.

The Updater is synchronous; it runs in a worker thread and its fetcher hands each request
back to the event loop's `VendorClient` (so proxies, TLS and the tests' in-process
transports apply unchanged). Expiry is judged by the injected clock, not the system's.

The targets also carry `activeupdate/manifest.json`, the vendor-signed manifest envelope,
verified here too: it is what the component store, rollback and the clients work from.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from tuf.api import exceptions
from tuf.api.metadata import TargetFile
from tuf.ngclient import FetcherInterface, Updater

from cssec.core.components import COMPONENT_FILENAMES, Manifest, verify_manifest
from cssec.core.errors import CssecError, NotFound, VendorUnreachable
from cssec.core.policy import Component
from cssec.core.rollout import RolloutRule, RolloutRuleError
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.updates.entitlement import Codes, refused_to_this_site
from cssec.server.updates.errors import ComponentUpdateFailed
from cssec.server.updates.store import ComponentStore, validate_component
from cssec.server.updates.tuf_mirror import (
    has_endorsement,
    keep_manifest_target,
    save_endorsement,
)
from cssec.web.filemodes import make_private_dirs

TUF_DIR = "tuf"
ROOT_HISTORY = "root_history"
BASE = "/api/v1/tuf/"
MANIFEST_TARGET = "activeupdate/manifest.json"
ROLLOUT_DIR = "rollout"
ROLLOUT_MANIFEST_TARGET = "rollout/manifest.json"
ENDORSEMENT_KIND = "tuf_root"
MAX_ROOT_BYTES = 512_000

T = TypeVar("T")
LearnKeys = Callable[[object], Awaitable[Mapping[str, VerifyingKey]]]


def metadata_dir(data_root: Path) -> Path:
    return data_root / TUF_DIR


def holds_root(data_root: Path) -> bool:
    """Whether this server already trusts a TUF root (then TUF is the only way)."""
    return (metadata_dir(data_root) / "root.json").exists()


@dataclass(frozen=True)
class Candidate:
    """A staged rollout's candidate set, as the signed targets describe it."""

    rule: RolloutRule
    manifest: Manifest
    envelope: dict[str, Any]


class _Refused(exceptions.DownloadError):
    """Carries a CssecError (the vendor's refusal, unreachable) through python-tuf."""

    def __init__(self, error: CssecError) -> None:
        super().__init__(error.code)
        self.error = error


class _BridgeFetcher(FetcherInterface):
    """ngclient's fetcher, run in a worker thread, calling `VendorClient.tuf_bytes` on the
    event loop; reads at most the length python-tuf allows (+1, so it sees the excess)."""

    def __init__(
        self, vendor: VendorClient, loop: asyncio.AbstractEventLoop, code: str, server_id: str
    ) -> None:
        self.vendor, self.loop = vendor, loop
        self.code, self.server_id = code, server_id
        self._max = MAX_ROOT_BYTES

    @contextmanager
    def presenting(self, code: str) -> Iterator[None]:
        """Ask with `code` (a separately licensed target's: `entitlement`) meanwhile. One
        TUF request runs at a time in a session."""
        kept = self.code
        self.code = code
        try:
            yield
        finally:
            self.code = kept

    @contextmanager
    def download_file(self, url: str, max_length: int) -> Iterator[IO[bytes]]:
        self._max = max_length
        with super().download_file(url, max_length) as handle:
            yield handle

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = url if url.startswith("/") else "/" + url.split("/", 3)[3]
        call = self.vendor.tuf_bytes(
            path, activation_code=self.code, server_id=self.server_id, max_bytes=self._max
        )
        try:
            data = asyncio.run_coroutine_threadsafe(call, self.loop).result()
        except NotFound:
            raise exceptions.DownloadHTTPError("not found", 404) from None
        except CssecError as exc:
            raise _Refused(exc) from None
        return iter([data])


# python-tuf's refusals, most specific first, and the cause each one is logged with.
_CAUSES: tuple[tuple[type[Exception], str], ...] = (
    (exceptions.ExpiredMetadataError, "stale_metadata"),
    (exceptions.BadVersionNumberError, "rolled_back_metadata"),
    (exceptions.DownloadLengthMismatchError, "oversize"),
    (exceptions.LengthOrHashMismatchError, "hash_mismatch"),
    (exceptions.RepositoryError, "bad_metadata"),
)


def _failure(exc: Exception) -> CssecError:
    """What python-tuf raised, as the update log and the refusal say it."""
    refused = exc if isinstance(exc, _Refused) else exc.__cause__
    if isinstance(refused, _Refused):
        inner = refused.error
        if isinstance(inner, VendorUnreachable):
            return ComponentUpdateFailed("vendor_unreachable", str(inner.fields.get("cause", "")))
        return inner
    detail = str(exc)[:300]
    if isinstance(exc, exceptions.DownloadHTTPError) and exc.status_code == 404:
        return ComponentUpdateFailed("bad_metadata", f"missing on the server: {detail}")
    cause = next((c for kind, c in _CAUSES if isinstance(exc, kind)), "vendor_unreachable")
    return ComponentUpdateFailed(cause, detail)


class TufSession:
    """One refreshed view of the repository (`open_tuf`), for one update attempt."""

    def __init__(self, updater: Updater, fetcher: _BridgeFetcher, work_dir: Path) -> None:
        self.updater, self.fetcher, self.work_dir = updater, fetcher, work_dir

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except (exceptions.RepositoryError, exceptions.DownloadError) as exc:
            raise _failure(exc) from None

    async def _target(self, path: str) -> tuple[TargetFile, bytes]:
        def work() -> tuple[TargetFile, bytes]:
            info = self.updater.get_targetinfo(path)
            if info is None:
                raise exceptions.RepositoryError(f"no target {path}")
            make_private_dirs(self.work_dir)
            with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
                local = self.updater.download_target(info, str(Path(tmp) / "target"))
                return info, Path(local).read_bytes()

        return await self._run(work)

    async def _info(self, path: str) -> TargetFile:
        info = await self._run(lambda: self.updater.get_targetinfo(path))
        if info is None:
            raise ComponentUpdateFailed("bad_metadata", f"no target {path}")
        return info

    async def manifest(
        self, keys: Mapping[str, VerifyingKey], *, current: Manifest | None, learn_keys: LearnKeys
    ) -> tuple[Manifest, dict[str, Any]]:
        """The manifest target, verified by TUF and by the vendor's signature, and naming
        exactly the component files the targets name."""
        _info, data = await self._target(MANIFEST_TARGET)
        keep_manifest_target(self.work_dir.parent.parent, data)  # for the clients (mirror)
        try:
            envelope = json.loads(data)
        except ValueError:
            raise ComponentUpdateFailed("bad_manifest", "not JSON") from None
        keys = await learn_keys(envelope)
        check = verify_manifest(envelope, keys)
        if check.value is None or not isinstance(envelope, dict):
            raise ComponentUpdateFailed("bad_manifest", f"{check.error} {check.detail}".strip())
        manifest = check.value
        for component in Component:
            info = await self._info(f"{component.value}/{COMPONENT_FILENAMES[component]}")
            entry = manifest.components[component]
            if (info.length, info.hashes.get("sha256")) != (entry.size, entry.sha256):
                detail = f"{component.value}: the targets and the manifest disagree"
                raise ComponentUpdateFailed("bad_metadata", detail)
        if current is not None and manifest.serial < current.serial:
            detail = f"serial {manifest.serial} < {current.serial}"
            raise ComponentUpdateFailed("stale_manifest", detail)
        return manifest, envelope

    async def rollout(
        self, keys: Mapping[str, VerifyingKey], *, learn_keys: LearnKeys
    ) -> Candidate | None:
        """The staged rollout the targets carry, if any: its signed rule (`core.rollout`)
        and the candidate set's manifest, verified as `manifest` is, its rolling component
        checked against `rollout/<component>/<file>`. None without one."""
        info = await self._run(lambda: self.updater.get_targetinfo(ROLLOUT_MANIFEST_TARGET))
        if info is None:
            return None
        try:
            rule = RolloutRule.from_custom(info.custom.get("rollout"))
        except RolloutRuleError as exc:
            raise ComponentUpdateFailed("bad_metadata", str(exc)) from None
        _info, data = await self._target(ROLLOUT_MANIFEST_TARGET)
        try:
            envelope = json.loads(data)
        except ValueError:
            raise ComponentUpdateFailed("bad_manifest", "rollout: not JSON") from None
        keys = await learn_keys(envelope)
        check = verify_manifest(envelope, keys)
        if check.value is None or not isinstance(envelope, dict):
            raise ComponentUpdateFailed("bad_manifest", f"rollout: {check.error} {check.detail}")
        manifest = check.value
        rolling = Component(rule.component)
        for component in Component:
            where = component.value
            if component is rolling:
                where = f"{ROLLOUT_DIR}/{component.value}"
            tinfo = await self._info(f"{where}/{COMPONENT_FILENAMES[component]}")
            entry = manifest.components[component]
            if (tinfo.length, tinfo.hashes.get("sha256")) != (entry.size, entry.sha256):
                detail = f"rollout {component.value}: the targets and the manifest disagree"
                raise ComponentUpdateFailed("bad_metadata", detail)
        if manifest.components[rolling].version != rule.version:
            raise ComponentUpdateFailed("bad_metadata", "rollout: rule and manifest disagree")
        return Candidate(rule, manifest, envelope)

    async def files(
        self,
        manifest: Manifest,
        store: ComponentStore | None,
        *,
        held: Manifest | None = None,
        rolling: Component | None = None,
        codes: Codes | None = None,
    ) -> dict[Component, bytes]:
        """Every component file `store` lacks, through TUF (length and hash checked before
        anything is kept), then checked to work as its component. With `held` (the set
        installed), a pattern is rebuilt from a published delta when one fits (`deltas`).
        Each target is asked for with its code (`codes`, as `fetch.fetch_files`: None is
        not asked for; a refusal of a separately licensed file leaves it out)."""
        from cssec.server.updates.deltas import (  # noqa: PLC0415  (a cycle)
            PATTERNS,
            fetch_by_delta,
            keep_for_clients,
        )

        files: dict[Component, bytes] = {}
        for component, version in manifest.components.items():
            if store is not None and store.present(version):
                continue
            if codes is not None and component in codes and codes[component] is None:
                continue
            code = None if codes is None else codes.get(component)
            data, before = None, None
            if store is not None and held is not None:
                before = held.components.get(component)
                data = await fetch_by_delta(self, store, before, version)
            if data is None:
                where = component.value
                if component is rolling:
                    where = f"{ROLLOUT_DIR}/{component.value}"
                try:
                    with nullcontext() if code is None else self.fetcher.presenting(code):
                        _info, data = await self._target(f"{where}/{version.filename}")
                except CssecError as exc:
                    if refused_to_this_site(component, exc):
                        continue
                    raise
                if before is not None and component in PATTERNS:  # for the clients at N
                    await keep_for_clients(self, self.work_dir.parent.parent, before, version)
            invalid = validate_component(component, data)
            if invalid is not None:
                where = f"{component.value} v{version.version}"
                raise ComponentUpdateFailed("invalid_component", f"{where}: {invalid}")
            files[component] = data
        return files


async def endorsed_root(
    vendor: VendorClient,
    learn_keys: LearnKeys,
    *,
    code: str,
    server_id: str,
    keep: Path | None = None,
) -> bytes | None:
    """The root.json the vendor's pinned key endorses; None when the vendor has no TUF
    repository (404). A bad endorsement or root is refused (`bad_metadata`). With `keep`
    (a data root), the verified endorsement is saved there for the clients (`tuf_mirror`)."""
    try:
        raw = await vendor.tuf_bytes(
            BASE + "root-endorsement", activation_code=code, server_id=server_id,
            max_bytes=64_000,
        )  # fmt: skip
    except NotFound:
        return None
    except VendorUnreachable as exc:
        raise ComponentUpdateFailed("vendor_unreachable", str(exc.fields.get("cause"))) from None
    try:
        body = json.loads(raw)
        envelope, version = body["endorsement"], int(body["version"])
    except (ValueError, KeyError, TypeError):
        raise ComponentUpdateFailed("bad_metadata", "root endorsement unreadable") from None
    keys = await learn_keys(envelope)
    check = verify_statement(envelope, keys)
    statement = check.statement
    if not check.ok or not isinstance(statement, dict):
        raise ComponentUpdateFailed("bad_metadata", f"root endorsement: {check.reason}")
    if statement.get("kind") != ENDORSEMENT_KIND or statement.get("version") != version:
        raise ComponentUpdateFailed("bad_metadata", "root endorsement: wrong kind or version")
    try:
        root = await vendor.tuf_bytes(
            f"{BASE}{version}.root.json", activation_code=code, server_id=server_id,
            max_bytes=MAX_ROOT_BYTES,
        )  # fmt: skip
    except (NotFound, VendorUnreachable):
        raise ComponentUpdateFailed("vendor_unreachable", "root.json") from None
    if hashlib.sha256(root).hexdigest() != statement.get("sha256"):
        raise ComponentUpdateFailed("bad_metadata", "root.json does not match its endorsement")
    if keep is not None:
        save_endorsement(keep, raw)
    return root


async def open_tuf(
    vendor: VendorClient,
    data_root: Path,
    learn_keys: LearnKeys,
    *,
    code: str,
    server_id: str,
    now: datetime,
    root: bytes | None = None,
) -> TufSession | None:
    """A refreshed TUF view of the vendor: from the root held in `data_root`, else from
    `root` or the one the vendor's key endorses (trusted from then on). None when this
    server holds no root and the vendor has none to offer (the signed-manifest path)."""
    directory = metadata_dir(data_root)
    bootstrap: bytes | None = None
    if not holds_root(data_root):
        bootstrap = root or await endorsed_root(
            vendor, learn_keys, code=code, server_id=server_id, keep=data_root
        )
        if bootstrap is None:
            return None
        make_private_dirs(directory)
    elif not has_endorsement(data_root):
        # A root trusted before the server mirrored TUF: keep an endorsement for the clients
        # once (best effort; the server's own update does not depend on it).
        with suppress(CssecError):
            await endorsed_root(vendor, learn_keys, code=code, server_id=server_id, keep=data_root)
    fetcher = _BridgeFetcher(vendor, asyncio.get_running_loop(), code, server_id)
    base = vendor.base_url + BASE

    make_private_dirs(directory / ROOT_HISTORY)  # python-tuf would make it with the umask's mode

    def start() -> Updater:
        try:
            updater = Updater(
                str(directory), base, None, base + "targets/", fetcher, bootstrap=bootstrap
            )
        except (OSError, ValueError) as exc:
            if bootstrap is not None:
                shutil.rmtree(directory, ignore_errors=True)
            raise exceptions.RepositoryError(f"root.json: {exc}") from None
        # python-tuf reads the system clock; expiry is judged by the server's clock.
        updater._trusted_set.reference_time = now
        updater.refresh()
        return updater

    try:
        updater = await asyncio.to_thread(start)
    except (exceptions.RepositoryError, exceptions.DownloadError) as exc:
        raise _failure(exc) from None
    return TufSession(updater, fetcher, directory / "incoming")
