"""The client's TUF check of what its server hands over (python-tuf's ngclient against the
server's mirror, `/api/v1/agent/tuf/…`, with the vendor's root).

Trust: the first time (at install, or at the first update after an upgrade from the
manifest-only client), the client fetches from its server the vendor's root endorsement
(a statement signed with a vendor key this client already pins: from enrollment, rotations
followed by `core.signing.follow_endorsements`) binding the SHA-256 of a root.json, then
that root.json; from there python-tuf alone decides (root rotations included), with the
metadata kept in `<dir>/tuf/`. Once a root is held the client never falls back to the bare
manifest, so its server can withhold an update but never forge, roll back or freeze one.

What python-tuf refuses becomes `UpdateMetadataRejected` (rollback, forged or mixed
metadata, a target longer than signed or with another hash) or `ComponentsStale` (the
held timestamp expired: "components stale since …"). python-tuf is imported only here, and
only when an update runs (`cssec client status` stays light).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cssec.client.errors import ComponentsStale, UpdateMetadataRejected
from cssec.core.components import ComponentVersion, format_timestamp
from cssec.core.delta import DeltaError, apply_delta
from cssec.core.errors import CssecError, NotFound
from cssec.core.signing import VerifyingKey, canonical_json, verify_statement
from cssec.web.filemodes import make_private_dirs

if TYPE_CHECKING:
    from tuf.api.metadata import TargetFile
    from tuf.ngclient import Updater

    from cssec.client.agent import AgentClient

log = logging.getLogger(__name__)

TUF_DIR = "tuf"
DELTA_DIR = "deltas"
MANIFEST_TARGET = "activeupdate/manifest.json"
ENDORSEMENT_KIND = "tuf_root"
MAX_ENDORSEMENT_BYTES = 64_000
MAX_ROOT_BYTES = 512_000
RefreshKeys = Callable[[], Mapping[str, VerifyingKey]]


def metadata_dir(state_root: Path) -> Path:
    return state_root / TUF_DIR


def holds_root(state_root: Path) -> bool:
    """Whether this client trusts a TUF root (then TUF is the only way)."""
    return (metadata_dir(state_root) / "root.json").exists()


def stale_since(state_root: Path) -> datetime | None:
    """When the timestamp this client last verified expires (or expired); None without one.
    Plain JSON: read by `cssec client status` without python-tuf."""
    try:
        raw = json.loads((metadata_dir(state_root) / "timestamp.json").read_bytes())
        expires = datetime.fromisoformat(raw["signed"]["expires"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return expires if expires.tzinfo is not None else None


_URLLIB3_FETCHER = "tuf.ngclient.urllib3_fetcher"


def _light_ngclient() -> None:
    """Keep urllib3 out of the client: `tuf.ngclient` imports its default fetcher (and
    urllib3, ~2 MB resident) even when the caller brings its own, as this client always
    does. A placeholder module stands in; should anything build the default fetcher, the
    real module is imported then (the client's RSS budget: bench/memory.py)."""
    if _URLLIB3_FETCHER in sys.modules or "tuf.ngclient" in sys.modules:
        return
    placeholder = types.ModuleType(_URLLIB3_FETCHER)

    class Urllib3Fetcher:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            sys.modules.pop(_URLLIB3_FETCHER, None)
            real = importlib.import_module(_URLLIB3_FETCHER)
            return real.Urllib3Fetcher(*args, **kwargs)

    placeholder.Urllib3Fetcher = Urllib3Fetcher  # type: ignore[attr-defined]
    sys.modules[_URLLIB3_FETCHER] = placeholder


def _fetcher_class() -> type[Any]:
    _light_ngclient()
    from tuf.api import exceptions  # noqa: PLC0415 - python-tuf only when updating
    from tuf.ngclient import FetcherInterface  # noqa: PLC0415

    class Refused(exceptions.DownloadError):
        """Carries the server's CssecError (license_expired, unreachable) through python-tuf."""

        def __init__(self, error: CssecError) -> None:
            super().__init__(error.code)
            self.error = error

    class AgentFetcher(FetcherInterface):
        """ngclient's fetcher over the agent connection (token, pinned certificate); reads
        at most the length python-tuf allows (+1, so it sees the excess)."""

        refused = Refused

        def __init__(self, agent: AgentClient, base: str) -> None:
            self.agent, self.base = agent, base
            self._max = MAX_ROOT_BYTES

        @contextmanager
        def download_file(self, url: str, max_length: int) -> Iterator[IO[bytes]]:
            self._max = max_length
            with super().download_file(url, max_length) as handle:
                yield handle

        def _fetch(self, url: str) -> Iterator[bytes]:
            name = url[len(self.base) :] if url.startswith(self.base) else url
            try:
                data = self.agent.tuf_file(name, max_bytes=self._max)
            except NotFound:
                raise exceptions.DownloadHTTPError("not found", 404) from None
            except CssecError as exc:
                raise Refused(exc) from None
            return iter([data])

    return AgentFetcher


def _failure(exc: Exception, state_root: Path, now: datetime) -> CssecError:
    """What python-tuf raised, as the client says it."""
    from tuf.api import exceptions  # noqa: PLC0415

    carried = exc if hasattr(exc, "error") else exc.__cause__
    inner = getattr(carried, "error", None)
    if isinstance(inner, CssecError):
        return inner
    detail = str(exc)[:300]
    held = stale_since(state_root)
    expired = held is not None and held <= now
    # A frozen mirror serves the expired timestamp again; python-tuf then asks for the
    # snapshot it names, which the server may no longer hold: stale either way.
    if isinstance(exc, exceptions.ExpiredMetadataError) or (
        expired and isinstance(exc, exceptions.DownloadError)
    ):
        return ComponentsStale(since=format_timestamp(held or now), detail=detail)
    if isinstance(exc, exceptions.DownloadHTTPError) and exc.status_code == 404:
        return UpdateMetadataRejected("withheld", detail)
    causes: tuple[tuple[type[Exception], str], ...] = (
        (exceptions.BadVersionNumberError, "rolled_back_metadata"),
        (exceptions.DownloadLengthMismatchError, "oversize"),
        (exceptions.LengthOrHashMismatchError, "hash_mismatch"),
        (exceptions.RepositoryError, "bad_metadata"),
    )
    cause = next((c for kind, c in causes if isinstance(exc, kind)), "bad_metadata")
    return UpdateMetadataRejected(cause, detail)


class ClientTuf:
    """One refreshed TUF view of the server's mirror (`open_tuf`), for one update."""

    def __init__(self, updater: Updater, state_root: Path, now: datetime) -> None:
        self.updater, self.state_root, self.now = updater, state_root, now

    def _guard(self, work: Callable[[], Any]) -> Any:
        from tuf.api import exceptions  # noqa: PLC0415

        try:
            return work()
        except (exceptions.RepositoryError, exceptions.DownloadError) as exc:
            raise _failure(exc, self.state_root, self.now) from None

    def _info(self, path: str) -> TargetFile:
        info = self._guard(lambda: self.updater.get_targetinfo(path))
        if info is None:
            raise UpdateMetadataRejected("bad_metadata", f"no target {path}")
        return info  # type: ignore[no-any-return]

    def _download(self, info: TargetFile) -> bytes:
        import tempfile  # noqa: PLC0415

        work = metadata_dir(self.state_root) / "incoming"
        work.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            local = self._guard(
                lambda: self.updater.download_target(info, str(Path(tmp) / "target"))
            )
            return Path(local).read_bytes()

    def manifest(self, held: Mapping[str, Any] | None = None) -> bytes:
        """The manifest target's bytes (the vendor-signed envelope), checked by TUF: the
        `held` envelope when it is that target already (nothing to download: a server that
        withholds a newer one cannot make an up-to-date client fail), else downloaded."""
        info = self._info(MANIFEST_TARGET)
        if held is not None:
            data = canonical_json(held)
            if (len(data), hashlib.sha256(data).hexdigest()) == (
                info.length,
                info.hashes.get("sha256"),
            ):
                return data
        return self._download(info)

    def component(
        self,
        version: ComponentVersion,
        held: ComponentVersion | None = None,
        source: bytes | None = None,
    ) -> bytes:
        """The component file the manifest names, checked by TUF (length and hash, which
        must be the manifest's too). With the intact file of an older version (`held`,
        `source`), from the published delta when there is one (`by_delta`)."""
        info = self._info(f"{version.component.value}/{version.filename}")
        if (info.length, info.hashes.get("sha256")) != (version.size, version.sha256):
            detail = f"{version.component.value}: the targets and the manifest disagree"
            raise UpdateMetadataRejected("bad_metadata", detail)
        if held is not None and source is not None:
            data = self.by_delta(held, source, version)
            if data is not None:
                return data
        return self._download(info)

    def by_delta(
        self, held: ComponentVersion, source: bytes, wanted: ComponentVersion
    ) -> bytes | None:
        """`wanted` rebuilt from the held file and the delta target
        `deltas/<component>/<N>-<M>` (length and hash checked by TUF, then the result
        against the full target's length and SHA-256); None on any problem, to fetch the
        whole file instead. zlib and hashlib only (the client's RSS budget)."""
        if held.component != wanted.component or held.version >= wanted.version:
            return None
        path = f"{DELTA_DIR}/{wanted.component.value}/{held.version}-{wanted.version}"
        try:
            info = self._guard(lambda: self.updater.get_targetinfo(path))
            custom = info.custom if info is not None and isinstance(info.custom, dict) else {}
            if (custom.get("from_sha256"), custom.get("to_sha256")) != (
                held.sha256,
                wanted.sha256,
            ):
                return None
            data = apply_delta(self._download(info), source, max_target=wanted.size)
        except (CssecError, DeltaError) as exc:
            log.warning("delta %s not used, fetching the whole file: %s", path, exc)
            return None
        if len(data) != wanted.size or hashlib.sha256(data).hexdigest() != wanted.sha256:
            log.warning("delta %s does not rebuild the published file", path)
            return None
        return data


def endorsed_root(
    agent: AgentClient, keys: Mapping[str, VerifyingKey], refresh: RefreshKeys
) -> bytes | None:
    """The root.json the vendor's key endorses, through the server; None when the server
    mirrors no TUF yet (404: the client keeps to the signed manifest)."""
    try:
        raw = agent.tuf_file("root-endorsement", max_bytes=MAX_ENDORSEMENT_BYTES)
    except NotFound:
        return None
    try:
        body = json.loads(raw)
        envelope, version = body["endorsement"], int(body["version"])
    except (ValueError, KeyError, TypeError):
        raise UpdateMetadataRejected("bad_metadata", "root endorsement unreadable") from None
    kid = envelope.get("kid") if isinstance(envelope, dict) else None
    if isinstance(kid, str) and kid not in keys:
        keys = refresh()
    check = verify_statement(envelope, keys)
    statement = check.statement
    if not check.ok or not isinstance(statement, dict):
        raise UpdateMetadataRejected("bad_metadata", f"root endorsement: {check.reason}")
    if statement.get("kind") != ENDORSEMENT_KIND or statement.get("version") != version:
        raise UpdateMetadataRejected("bad_metadata", "root endorsement: wrong kind or version")
    try:
        root = agent.tuf_file(f"{version}.root.json", max_bytes=MAX_ROOT_BYTES)
    except NotFound:
        raise UpdateMetadataRejected("withheld", f"{version}.root.json") from None
    if hashlib.sha256(root).hexdigest() != statement.get("sha256"):
        raise UpdateMetadataRejected("bad_metadata", "root.json does not match its endorsement")
    return root


def open_tuf(
    state_root: Path,
    agent: AgentClient,
    keys: Mapping[str, VerifyingKey],
    refresh: RefreshKeys,
    *,
    now: datetime,
) -> ClientTuf | None:
    """A refreshed TUF view of the server's mirror: from the root held in `<dir>/tuf/`, or
    the one the vendor's key endorses (trusted from then on). None when this client holds
    no root and its server mirrors none (the signed-manifest path)."""
    import shutil  # noqa: PLC0415

    _light_ngclient()
    from tuf.api import exceptions  # noqa: PLC0415
    from tuf.ngclient import Updater  # noqa: PLC0415

    directory = metadata_dir(state_root)
    bootstrap: bytes | None = None
    if not holds_root(state_root):
        bootstrap = endorsed_root(agent, keys, refresh)
        if bootstrap is None:
            return None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private_dirs(directory / "root_history")  # python-tuf would use the umask's mode
    base = f"{agent.server_url}/api/v1/agent/tuf/"
    fetcher = _fetcher_class()(agent, base)
    try:
        try:
            updater = Updater(
                str(directory), base, None, base + "targets/", fetcher, bootstrap=bootstrap
            )
        except (OSError, ValueError) as exc:
            raise exceptions.RepositoryError(f"root.json: {exc}") from None
        # python-tuf reads the system clock; expiry is judged by the client's clock.
        updater._trusted_set.reference_time = now
        updater.refresh()
    except (exceptions.RepositoryError, exceptions.DownloadError) as exc:
        if bootstrap is not None and not (directory / "timestamp.json").exists():
            shutil.rmtree(directory, ignore_errors=True)
        raise _failure(exc, state_root, now) from None
    return ClientTuf(updater, state_root, now)


__all__ = ["ClientTuf", "holds_root", "metadata_dir", "open_tuf", "stale_since"]
