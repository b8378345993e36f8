"""The client's local state, all under one directory (`--dir`).

    client.json                      server URL, client id, token, vendor keys, the server's
                                     pinned TLS certificate (mode 0600)
    components/current.json          which version of each component is in use, and the one before
    components/<name>/<version>/<file>
    outbox.json                      reports the server could not take yet
    quarantine/<id>/file, record.json  files moved aside by Damage Cleanup (restorable)
    detections.json                  detections not cleaned yet (what `clean` cleans by default)
    server_settings.json             the server's last heartbeat answer (real-time switch, folders)
    outbreak_policy.json             the outbreak prevention policy last deployed or released
    outbreak_violations.json         writes into denied shares/files that `watch` saw
    cleanup_requests.json            the server's cleanup requests already run
    rules/<hash>.yarc.z              the patterns' compiled rules (`cssec.client.rules`)
    scans-in-progress/<run>          a marker per scan running (`cssec.client.health`)
    tuf/                             the vendor's TUF metadata, through the server

Every write goes to a 0600 temporary file that is renamed into place, so a crash or a
second process never sees half a file, and switching component versions is one rename
of current.json.

The directory is its owner's alone, as the server's and the vendor's are
(`cssec.web.filemodes`): directories 0700, files 0600, created so. The first time a
`ClientState` makes or reads it (`ensure_dirs`, `load_config`), a looser mode, which a
copy, an archive or a hand-made directory leaves, is fixed and said as a warning in both
languages (the command prints it in its own, `cssec.cli_warnings`); an entry another user
owns is refused (DataDirNotOwned).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cssec.client.errors import NotInstalled, StateCorrupt
from cssec.core.components import ComponentVersion, format_timestamp
from cssec.core.policy import Component
from cssec.core.signing import VerifyingKey, write_secret_file
from cssec.web.filemodes import make_private_dirs, secure_data_dir

STATE_FORMAT = 1
CLIENT_FILE = "client.json"
COMPONENTS_DIR = "components"
CURRENT_FILE = "current.json"
OUTBOX_FILE = "outbox.json"
QUARANTINE_DIR = "quarantine"
COMPILED_DIR = "rules"
"""The pattern rules, compiled by a child process (`cssec.client.rules`)."""
LOCK_FILE = ".lock"
OUTBOX_LIMIT = 1000
"""Oldest reports are dropped past this, so an offline PC cannot fill its disk."""


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class ClientConfig:
    server_url: str
    client_id: str
    client_token: str
    server_id: str
    vendor_keys: dict[str, Any]
    """The JWK set the server handed over at enrollment: {"keys": [...]}."""
    route: str
    hostname: str
    installed_at: datetime
    server_cert: str | None = None
    """The server's TLS certificate (PEM) this client trusts, and no other; None over HTTP."""
    insecure_http: bool = False
    """Installed with --insecure-http: plain HTTP to a server on another machine is allowed."""

    def pinned_der(self) -> bytes | None:
        """The pinned certificate as DER (what `pinning.pinned_context` loads)."""
        if self.server_cert is None:
            return None
        import ssl  # noqa: PLC0415 - only a pinned client converts

        return ssl.PEM_cert_to_DER_cert(self.server_cert)

    def verifying_keys(self) -> dict[str, VerifyingKey]:
        """The usable keys by kid; malformed entries are skipped, never trusted."""
        return self.keys_from(self.vendor_keys)

    @staticmethod
    def keys_from(key_set: object) -> dict[str, VerifyingKey]:
        """The usable keys of a {"keys": [JWK, …]} set by kid; anything malformed skipped."""
        keys: dict[str, VerifyingKey] = {}
        entries = key_set.get("keys") if isinstance(key_set, Mapping) else None
        for jwk in entries if isinstance(entries, list) else []:
            if not isinstance(jwk, Mapping):
                continue
            try:
                key = VerifyingKey.from_jwk(jwk)
            except ValueError:
                continue
            keys[key.kid] = key
        return keys

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "server_url": self.server_url,
            "client_id": self.client_id,
            "client_token": self.client_token,
            "server_id": self.server_id,
            "vendor_keys": self.vendor_keys,
            "route": self.route,
            "hostname": self.hostname,
            "installed_at": format_timestamp(self.installed_at),
            "server_cert": self.server_cert,
            "insecure_http": self.insecure_http,
        }


@dataclass(frozen=True)
class InstalledComponents:
    """current.json: the components in use, the ones they replaced, and the manifest."""

    serial: int | None = None
    updated_at: datetime | None = None
    current: dict[Component, ComponentVersion] = field(default_factory=dict)
    previous: dict[Component, ComponentVersion] = field(default_factory=dict)
    manifest: dict[str, Any] | None = None
    """The vendor-signed envelope these versions came from, kept for audit."""
    previous_serial: int | None = None
    """The serial of the set this one replaced: the one set the server may step this client
    back to after it rolled back (`updater`); None after a step back, so it happens once."""

    def versions(self) -> dict[Component, int]:
        return {c: self.current[c].version for c in Component if c in self.current}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "serial": self.serial,
            "updated_at": format_timestamp(self.updated_at) if self.updated_at else None,
            "current": {c.value: v.to_dict() for c, v in self.current.items()},
            "previous": {c.value: v.to_dict() for c, v in self.previous.items()},
            "manifest": self.manifest,
            "previous_serial": self.previous_serial,
        }


def _versions_from(raw: object, path: Path) -> dict[Component, ComponentVersion]:
    if not isinstance(raw, dict):
        raise StateCorrupt(path=str(path), reason="components")
    parsed: dict[Component, ComponentVersion] = {}
    for component in Component:
        if component.value not in raw:
            continue
        check = ComponentVersion.from_dict(component, raw[component.value])
        if check.value is None:
            raise StateCorrupt(path=str(path), reason=f"{check.error}: {check.detail}")
        parsed[component] = check.value
    return parsed


if sys.platform == "win32":  # pragma: no cover - the lock is advisory; Windows runs unlocked

    @contextmanager
    def _file_lock(path: Path) -> Iterator[None]:
        yield

else:
    import fcntl

    @contextmanager
    def _file_lock(path: Path) -> Iterator[None]:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class ClientState:
    """Reads and writes one client directory. Methods that mutate expect `lock()` held."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.client_file = self.root / CLIENT_FILE
        self.components_dir = self.root / COMPONENTS_DIR
        self.current_file = self.components_dir / CURRENT_FILE
        self.outbox_file = self.root / OUTBOX_FILE
        self.quarantine_dir = self.root / QUARANTINE_DIR
        self.compiled_dir = self.root / COMPILED_DIR
        self._secured = False

    def ensure_dirs(self) -> None:
        make_private_dirs(self.components_dir)
        self.secure()

    def secure(self) -> None:
        """Fix a mode looser than the owner's alone under the directory, with a warning
        (once per instance: `watch` reads its state for weeks)."""
        if not self._secured:
            secure_data_dir(self.root)
            self._secured = True

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialises updates, scans' outbox flushes and installs on this directory."""
        self.ensure_dirs()
        with _file_lock(self.root / LOCK_FILE):
            yield

    # --- client.json ------------------------------------------------------------------

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise StateCorrupt(path=str(path), reason=type(exc).__name__) from exc
        except OSError as exc:
            raise StateCorrupt(path=str(path), reason=exc.strerror or str(exc)) from exc

    def is_installed(self) -> bool:
        return self.client_file.is_file()

    def load_config(self) -> ClientConfig:
        if not self.client_file.exists():
            raise NotInstalled(dir=str(self.root))
        if self.client_file.stat().st_mode & 0o077:
            self._secured = False  # the token must not stay readable by others
        self.secure()
        raw = self._read_json(self.client_file)
        path = str(self.client_file)
        if not isinstance(raw, dict) or raw.get("format") != STATE_FORMAT:
            raise StateCorrupt(path=path, reason="format")
        strings = ("server_url", "client_id", "client_token", "server_id", "route", "hostname")
        for name in strings:
            if not isinstance(raw.get(name), str):
                raise StateCorrupt(path=path, reason=name)
        installed_at = _parse_time(raw.get("installed_at"))
        keys = raw.get("vendor_keys")
        if installed_at is None or not isinstance(keys, dict):
            raise StateCorrupt(path=path, reason="installed_at/vendor_keys")
        server_cert = raw.get("server_cert")
        if server_cert is not None and not isinstance(server_cert, str):
            raise StateCorrupt(path=path, reason="server_cert")
        return ClientConfig(
            server_url=raw["server_url"],
            client_id=raw["client_id"],
            client_token=raw["client_token"],
            server_id=raw["server_id"],
            vendor_keys=keys,
            route=raw["route"],
            hostname=raw["hostname"],
            installed_at=installed_at,
            server_cert=server_cert,
            insecure_http=raw.get("insecure_http") is True,
        )

    def save_config(self, config: ClientConfig) -> None:
        self.ensure_dirs()
        write_secret_file(self.client_file, _dump(config.to_dict()))

    # --- components -------------------------------------------------------------------

    def load_installed(self) -> InstalledComponents:
        if not self.current_file.exists():
            return InstalledComponents()
        raw = self._read_json(self.current_file)
        path = self.current_file
        if not isinstance(raw, dict) or raw.get("format") != STATE_FORMAT:
            raise StateCorrupt(path=str(path), reason="format")
        serial = raw.get("serial")
        previous_serial = raw.get("previous_serial")
        manifest = raw.get("manifest")
        if any(n is not None and type(n) is not int for n in (serial, previous_serial)) or (
            not isinstance(manifest, dict | None)
        ):
            raise StateCorrupt(path=str(path), reason="serial/manifest")
        return InstalledComponents(
            serial=serial,
            updated_at=_parse_time(raw.get("updated_at")),
            current=_versions_from(raw.get("current"), path),
            previous=_versions_from(raw.get("previous", {}), path),
            manifest=manifest,
            previous_serial=previous_serial,
        )

    def save_installed(self, installed: InstalledComponents) -> None:
        """The switch: one atomic rename makes the new set of versions current."""
        self.ensure_dirs()
        write_secret_file(self.current_file, _dump(installed.to_dict()))

    def component_path(self, version: ComponentVersion) -> Path:
        return (
            self.components_dir / version.component.value / str(version.version) / version.filename
        )

    def write_component(self, version: ComponentVersion, data: bytes) -> Path:
        path = self.component_path(version)
        make_private_dirs(path.parent)  # <name>/ too, not with the umask's mode
        write_secret_file(path, data)
        return path

    def read_component(self, version: ComponentVersion) -> bytes:
        return self.component_path(version).read_bytes()

    def prune(self, keep: Mapping[Component, set[int]]) -> None:
        """Remove component versions that are neither current nor previous."""
        for component in Component:
            base = self.components_dir / component.value
            if not base.is_dir():
                continue
            wanted = {str(v) for v in keep.get(component, set())}
            for entry in base.iterdir():
                if entry.name not in wanted and entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)

    # --- outbox -----------------------------------------------------------------------

    def load_outbox(self) -> list[dict[str, Any]]:
        if not self.outbox_file.exists():
            return []
        try:
            raw = self._read_json(self.outbox_file)
        except StateCorrupt:
            return []  # a damaged queue must not stop scanning; its reports are lost
        entries = raw.get("entries") if isinstance(raw, dict) else None
        if not isinstance(entries, list):
            return []
        return [e for e in entries if isinstance(e, dict)]

    def save_outbox(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            self.outbox_file.unlink(missing_ok=True)
            return
        body = {"format": STATE_FORMAT, "entries": entries[-OUTBOX_LIMIT:]}
        write_secret_file(self.outbox_file, _dump(body))

    # --- small JSON documents (detections, settings, policy, ...) ----------------------

    def load_doc(self, name: str) -> dict[str, Any] | None:
        """A JSON object kept in the directory, or None when missing or damaged.

        These documents are records the next heartbeat or scan rewrites; a damaged one must
        not stop scanning, so it reads as absent.
        """
        path = self.root / name
        if not path.exists():
            return None
        try:
            raw = self._read_json(path)
        except StateCorrupt:
            return None
        return raw if isinstance(raw, dict) and raw.get("format") == STATE_FORMAT else None

    def save_doc(self, name: str, body: dict[str, Any]) -> None:
        self.ensure_dirs()
        write_secret_file(self.root / name, _dump({**body, "format": STATE_FORMAT}))

    def queue_report(self, endpoint: str, body: dict[str, Any], *, queued_at: datetime) -> None:
        entries = self.load_outbox()
        entries.append(
            {"endpoint": endpoint, "body": body, "queued_at": format_timestamp(queued_at)}
        )
        self.save_outbox(entries)


def _dump(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
