"""Updating the server's components from ActiveUpdate, rolling back, and reading the state.

Order of one update: the license (core.policy: activeupdate_download; after the grace
period the vendor is not even asked and the log says why), the pinned vendor keys, the
signed manifest, each changed file (verified, then written atomically under
data_dir/components), and only then one transaction that makes the new manifest current,
keeps the one it replaces as the rollback target and writes the update log row. Every
attempt lands in the update log (server), whatever its outcome; a failure changes nothing.

The Damage Cleanup template is asked for with the Damage Cleanup Services code, and not at
all without a live DCS license (`entitlement`): the server keeps the template it has and
updates the rest, and the log counts only what it holds.

Rollback undoes the latest update as a whole: clients verify the vendor's signature over
the complete set, so only a set the vendor signed can be served. The rolled-back serial
is held: the hourly poll does not apply it again (a newer publish, or 今すぐアップデート, does).
"""

from __future__ import annotations

import errno
import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cssec.core.components import ComponentVersion, Manifest
from cssec.core.errors import CssecError, LicenseExpired, VendorUnreachable
from cssec.core.license import Product
from cssec.core.policy import Component, Decision, Operation, decide
from cssec.core.rollout import bucket, effective_bucket
from cssec.server.licensing.clockguard import server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.state import cs_license_state
from cssec.server.licensing.vendor_status import keys_for, trusted_keys
from cssec.server.logs.update_logs import UpdateResult, add_server_log
from cssec.server.models import ComponentManifestRow, ComponentStatus, LicenseSlot
from cssec.server.updates.entitlement import (
    download_codes,
    held_versions,
    separately_licensed,
    withheld_note,
)
from cssec.server.updates.errors import ComponentUpdateFailed, NothingToRollBack
from cssec.server.updates.fetch import Fetched, fetch_files, fetch_manifest
from cssec.server.updates.health import send_health
from cssec.server.updates.pilot import note_switch
from cssec.server.updates.rollout_timing import rollout_timing
from cssec.server.updates.store import ComponentStore
from cssec.server.updates.tuf_events import note_staleness

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cssec.core.signing import VerifyingKey
    from cssec.server.updates.tuf_client import Candidate, LearnKeys, TufSession


@dataclass(frozen=True)
class Installed:
    current: Manifest | None
    envelope: dict[str, Any] | None
    previous: Manifest | None
    held_serial: int | None
    last_poll_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class UpdateOutcome:
    result: UpdateResult
    message: dict[str, str]
    cause: str | None = None
    serial: int | None = None
    versions: dict[Component, int] = field(default_factory=dict)
    changes: dict[Component, tuple[int | None, int]] = field(default_factory=dict)
    error: CssecError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _parse(row: ComponentManifestRow | None) -> Manifest | None:
    """A stored manifest (verified when it was accepted)."""
    if row is None:
        return None
    return Manifest.from_statement(row.envelope.get("statement")).value


def status_row(session: Session) -> ComponentStatus:
    status = session.get(ComponentStatus, 1)
    if status is None:
        status = ComponentStatus(id=1)
        session.add(status)
        session.flush()
    return status


def read_installed(session: Session) -> Installed:
    status = session.get(ComponentStatus, 1)
    if status is None:
        return Installed(None, None, None, None, None, None)
    current = session.get(ComponentManifestRow, status.current_manifest_id or 0)
    previous = session.get(ComponentManifestRow, status.previous_manifest_id or 0)
    return Installed(
        current=_parse(current),
        envelope=current.envelope if current else None,
        previous=_parse(previous),
        held_serial=status.held_serial,
        last_poll_at=status.last_poll_at,
        updated_at=status.updated_at,
    )


def both(error: CssecError) -> dict[str, str]:
    return {"ja": error.message("ja"), "en": error.message("en")}


def refusal(decision: Decision) -> LicenseExpired:
    try:
        decision.raise_if_refused()
    except LicenseExpired as refused:
        return refused
    raise AssertionError("only a refused decision makes a refusal")


def versions_of(manifest: Manifest | None) -> dict[Component, int]:
    return {c: v.version for c, v in manifest.components.items()} if manifest else {}


def _describe(versions: dict[Component, int], lang: str) -> str:
    sep = "、" if lang == "ja" else ", "
    return sep.join(f"{c.label(lang)} {v}" for c, v in versions.items()) or "-"


def _describe_changes(changes: dict[Component, tuple[int | None, int]], lang: str) -> str:
    sep = "、" if lang == "ja" else ", "
    new_word = "（新規）" if lang == "ja" else " (new)"  # never "- → 1"
    return sep.join(
        f"{c.label(lang)} {new}{new_word}" if old is None else f"{c.label(lang)} {old} → {new}"
        for c, (old, new) in changes.items()
    )


def held_changes(
    old: Manifest | None,
    new: Manifest,
    store: ComponentStore,
    *,
    arrived: Mapping[Component, bytes] | None = None,
) -> dict[Component, tuple[int | None, int]]:
    """`changes_between` the versions this server holds (`entitlement`): a withheld
    template is no change and not the "before" of the next one, and a template that
    `arrived` now for the version `old` already named is new here."""
    moved = changes_between(old, new)
    before = held_versions(old, store)
    for component in arrived or {}:
        same = old is not None and old.components.get(component) == new.components[component]
        if same and separately_licensed(component):
            before.pop(component, None)
    return {
        c: (before.get(c), version)
        for c, version in held_versions(new, store).items()
        if c in moved or c not in before
    }


def changes_between(old: Manifest | None, new: Manifest) -> dict[Component, tuple[int | None, int]]:
    out: dict[Component, tuple[int | None, int]] = {}
    for component, version in new.components.items():
        before = old.components.get(component) if old else None
        if before is None or (before.version, before.sha256) != (version.version, version.sha256):
            out[component] = (before.version if before else None, version.version)
    return out


def _switch(
    session: Session,
    manifest: Manifest,
    envelope: dict[str, Any],
    *,
    now: datetime,
    clear_hold: bool,
) -> None:
    """Make `manifest` current, keeping the one it replaces as the rollback target."""
    status = status_row(session)
    row = ComponentManifestRow(serial=manifest.serial, envelope=envelope, accepted_at=now)
    session.add(row)
    session.flush()
    status.previous_manifest_id = status.current_manifest_id
    status.current_manifest_id = row.id
    note_switch(session, row.id, now=now)
    if clear_hold or (status.held_serial is not None and manifest.serial > status.held_serial):
        status.held_serial = None
    status.updated_at = now


def _keep(installed: Installed) -> list[ComponentVersion]:
    keep: list[ComponentVersion] = []
    for manifest in (installed.current, installed.previous):
        if manifest is not None:
            keep.extend(manifest.components.values())
    return keep


def _write_files(store: ComponentStore, manifest: Manifest, files: dict[Component, bytes]) -> None:
    for component, data in files.items():
        try:
            store.write(manifest.components[component], data)
        except OSError as exc:
            # The errno's name (ENOSPC, EACCES) reads the same in both languages; the OS's
            # English sentence would be left out of the Japanese message.
            name = errno.errorcode.get(exc.errno or 0, "OSError")
            raise ComponentUpdateFailed("disk_error", name) from None


def _log(
    env: LicenseEnv, *, trigger: str, actor: str, outcome: UpdateOutcome, poll: bool
) -> UpdateOutcome:
    now = env.clock.now()
    with env.sessionmaker() as session, session.begin():
        add_server_log(
            session, at=now, trigger=trigger, actor=actor, result=outcome.result,
            message=outcome.message, cause=outcome.cause, serial=outcome.serial,
            versions=outcome.versions,
        )  # fmt: skip
        if poll:
            status_row(session).last_poll_at = now
    return outcome


def _failure(error: CssecError, versions: dict[Component, int]) -> UpdateOutcome:
    if isinstance(error, LicenseExpired):
        result, cause = UpdateResult.REFUSED, error.code
    elif isinstance(error, ComponentUpdateFailed):
        result, cause = UpdateResult.FAILED, error.cause
    else:
        result, cause = UpdateResult.FAILED, error.code
    return UpdateOutcome(result, both(error), cause=cause, versions=versions, error=error)


async def update_components(
    env: LicenseEnv, *, trigger: str, actor: str, honour_hold: bool = False
) -> UpdateOutcome:
    """One update attempt from ActiveUpdate; always logged, never raises a CssecError."""
    now = env.clock.now()
    with env.sessionmaker() as session:
        state = cs_license_state(session, now=now, tz=env.tz)
        server_id = server_info(session).server_id
        code = session.scalar(
            select(LicenseSlot.activation_code).where(LicenseSlot.product == Product.CS.value)
        )
        codes = download_codes(session, now=now, tz=env.tz)
        installed = read_installed(session)
    current_versions = versions_of(installed.current)
    poll = trigger == "schedule"
    decision = decide(Product.CS, state, Operation.ACTIVEUPDATE_DOWNLOAD)
    if not decision.allowed:
        refused = refusal(decision)
        message = {
            lang: f"{decision.message_in(lang)} {decision.remedy_in(lang)}" for lang in ("ja", "en")
        }
        outcome = UpdateOutcome(
            UpdateResult.REFUSED, message, cause=decision.reason, versions=current_versions,
            error=refused,
        )  # fmt: skip
        return _log(env, trigger=trigger, actor=actor, outcome=outcome, poll=poll)
    if env.vendor is None or not code:
        outcome = _failure(ComponentUpdateFailed("not_configured"), current_versions)
        return _log(env, trigger=trigger, actor=actor, outcome=outcome, poll=poll)
    store = ComponentStore(env.data.root)
    store.sweep()  # what a killed update left; prune sweeps again after the switch
    rolling: Component | None = None
    try:
        async with env.vendor() as vendor:
            try:
                keys = await trusted_keys(env, vendor)
            except VendorUnreachable as exc:
                cause = str(exc.fields.get("cause"))
                raise ComponentUpdateFailed("vendor_unreachable", cause) from None
            learn = functools.partial(keys_for, env, vendor, keys)
            # python-tuf only while an update runs: the idle server does without it.
            from cssec.server.updates.tuf_client import open_tuf  # noqa: PLC0415

            tuf = await open_tuf(
                vendor, env.data.root, learn, code=code, server_id=server_id, now=now
            )
            if tuf is None:  # a vendor without a TUF root: its signed manifest alone
                manifest, envelope = await fetch_manifest(
                    vendor, keys, activation_code=code, server_id=server_id,
                    current=installed.current, learn_keys=learn,
                )  # fmt: skip
            else:
                manifest, envelope, rolling = await _choose(
                    tuf, keys, learn, installed, env, server_id, now
                )
            held = installed.held_serial
            if honour_hold and held is not None and manifest.serial <= held:
                outcome = _held(manifest.serial, current_versions)
                return _log(env, trigger=trigger, actor=actor, outcome=outcome, poll=poll)
            if tuf is None:
                files = await fetch_files(
                    vendor, manifest, activation_code=code, server_id=server_id, store=store,
                    codes=codes,
                )  # fmt: skip
            else:
                files = await tuf.files(
                    manifest, store, held=installed.current, rolling=rolling, codes=codes
                )
                await send_health(env, vendor, code=code, server_id=server_id, now=now)
        _write_files(store, manifest, files)
    except CssecError as exc:
        outcome = _failure(exc, current_versions)
        note_staleness(env, now=env.clock.now())
        return _log(env, trigger=trigger, actor=actor, outcome=outcome, poll=poll)
    return _apply(env, manifest, envelope, files, trigger=trigger, actor=actor, poll=poll)


async def _choose(  # noqa: PLR0917  (the update's state, passed on)
    tuf: TufSession,
    keys: Mapping[str, VerifyingKey],
    learn: LearnKeys,
    installed: Installed,
    env: LicenseEnv,
    server_id: str,
    now: datetime,
) -> tuple[Manifest, dict[str, Any], Component | None]:
    """The set to install: a staged rollout's candidate set when this server takes it
    (`_takes`), else the current set. A server holding a set newer than the current one
    (a candidate it took, now halted or superseded) keeps it: no stale_manifest then."""
    candidate = await tuf.rollout(keys, learn_keys=learn)
    if candidate is not None and _takes(candidate, installed, env, server_id, now):
        return candidate.manifest, candidate.envelope, Component(candidate.rule.component)
    current = installed.current if candidate is None else None
    manifest, envelope = await tuf.manifest(keys, current=current, learn_keys=learn)
    return manifest, envelope, None


def _takes(
    candidate: Candidate, installed: Installed, env: LicenseEnv, server_id: str, now: datetime
) -> bool:
    """Whether this server takes a staged rollout's candidate set: it already holds it, or
    the signed rule admits its bucket at `now` (`core.rollout`; the administrator's
    early/standard/late choice moves the bucket)."""
    if installed.current is not None and installed.current.serial == candidate.manifest.serial:
        return True
    place = effective_bucket(bucket(server_id), rollout_timing(env.data.root))
    return candidate.rule.admits(place, now)


def _held(serial: int, versions: dict[Component, int]) -> UpdateOutcome:
    message = {
        "ja": (
            f"ロールバックしたコンポーネント (シリアル {serial})は自動では再適用しません。"
            "新しいバージョンが公開されると適用します。すぐに適用するには "
            "[今すぐアップデート]を押してください。"
        ),
        "en": (
            f"The rolled-back components (serial {serial}) are not applied again "
            "automatically; a newer publish will be. Press Update now to apply them at once."
        ),
    }
    return UpdateOutcome(UpdateResult.UP_TO_DATE, message, cause="held", versions=versions)


def _apply(
    env: LicenseEnv,
    manifest: Manifest,
    envelope: dict[str, Any],
    files: dict[Component, bytes],
    *,
    trigger: str,
    actor: str,
    poll: bool,
) -> UpdateOutcome:
    now = env.clock.now()
    store = ComponentStore(env.data.root)
    with env.sessionmaker() as session, session.begin():
        installed = read_installed(session)  # again: another process may have switched
        current = installed.current
        changes = held_changes(current, manifest, store, arrived=files)
        newer = current is None or manifest.serial > current.serial
        # The same set, with a withheld template now held (a DCS code entered): no switch.
        same = current is not None and manifest.serial == current.serial
        if changes and (newer or same):
            if newer:
                _switch(session, manifest, envelope, now=now, clear_hold=trigger != "schedule")
            result = UpdateResult.SUCCESS
            text = {lang: _describe_changes(changes, lang) for lang in ("ja", "en")}
            note = withheld_note(changes_between(current, manifest), held_versions(manifest, store))
            message = {
                "ja": f"コンポーネントをアップデートしました: {text['ja']}{note['ja']}",
                "en": f"Components updated: {text['en']}{note['en']}",
            }
        else:
            changes = {}
            result = UpdateResult.UP_TO_DATE
            held = held_versions(current, store)
            described = {lang: _describe(held, lang) for lang in ("ja", "en")}
            message = {
                "ja": f"コンポーネントは最新です ({described['ja']})。",
                "en": f"Components are up to date ({described['en']}).",
            }
        add_server_log(
            session, at=now, trigger=trigger, actor=actor, result=result, message=message,
            serial=manifest.serial, versions=held_versions(manifest if changes else current, store),
        )  # fmt: skip
        if poll:
            status_row(session).last_poll_at = now
        after = read_installed(session)
    store.prune(_keep(after))
    return UpdateOutcome(
        result, message, serial=manifest.serial, versions=held_versions(after.current, store),
        changes=changes,
    )  # fmt: skip


def rollback_components(env: LicenseEnv, *, trigger: str, actor: str) -> UpdateOutcome:
    """Make the previous set current again; raises NothingToRollBack when there is none."""
    now = env.clock.now()
    store = ComponentStore(env.data.root)
    with env.sessionmaker() as session, session.begin():
        status = status_row(session)
        installed = read_installed(session)
        current, previous = installed.current, installed.previous
        if current is None or previous is None or status.previous_manifest_id is None:
            raise NothingToRollBack()
        held = held_versions(current, store)
        missing = [
            v
            for c, v in previous.components.items()
            if not store.present(v) and (c in held or not separately_licensed(c))
        ]
        if missing:
            raise NothingToRollBack()
        status.current_manifest_id = status.previous_manifest_id
        status.previous_manifest_id = None
        status.held_serial = current.serial
        status.updated_at = now
        changes = changes_between(current, previous)
        text = {lang: _describe_changes(changes, lang) or "-" for lang in ("ja", "en")}
        message = {
            "ja": f"コンポーネントを以前のバージョンに戻しました: {text['ja']}",
            "en": f"Components rolled back: {text['en']}",
        }
        add_server_log(
            session, at=now, trigger=trigger, actor=actor, result=UpdateResult.ROLLED_BACK,
            message=message, serial=previous.serial, versions=versions_of(previous),
        )  # fmt: skip
    return UpdateOutcome(
        UpdateResult.ROLLED_BACK, message, serial=previous.serial,
        versions=versions_of(previous), changes=changes,
    )  # fmt: skip


def install_components(engine: Engine, data_root: Path, fetched: Fetched, *, now: datetime) -> None:
    """An online install's first components: stored, made current and logged (in the
    install's temporary data directory; an OSError fails the install)."""
    store = ComponentStore(data_root)
    _write_files(store, fetched.manifest, fetched.files)
    changes = held_changes(None, fetched.manifest, store)
    text = {lang: _describe_changes(changes, lang) for lang in ("ja", "en")}
    with Session(engine) as session, session.begin():
        _switch(session, fetched.manifest, fetched.envelope, now=now, clear_hold=True)
        status_row(session).last_poll_at = now
        add_server_log(
            session, at=now, trigger="install", actor="install", result=UpdateResult.SUCCESS,
            message={
                "ja": f"インストール時にコンポーネントをダウンロードしました: {text['ja']}",
                "en": f"Components downloaded at install: {text['en']}",
            },
            serial=fetched.manifest.serial, versions=held_versions(fetched.manifest, store),
        )  # fmt: skip
