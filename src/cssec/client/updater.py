"""Manual update: fetch the manifest through the server, verify it, fetch what changed.

The client trusts the vendor, not the server: the manifest's signature is checked with
the vendor keys received at enrollment, and every file against the manifest's size and
SHA-256 (and that it parses as its component). Only when every changed file is on disk and
verified does one rename of current.json switch to the new versions; the versions they
replace are kept as the fallback. Any failure leaves the current versions in use.
Through TUF, a pattern this client holds intact at version N comes from the delta N → M
its server kept, when there is one (`tuf_client.ClientTuf.by_delta`), else whole.

The result always reaches the server's client update log (or the outbox): "success",
"up_to_date", "failed" or "refused". A refusal (license expired) is never reported to
the user as an update: the original product's "update completed" after a refusal is the
flaw this fixes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from cssec.client.agent import (
    AgentClient,
    ManifestOffer,
    UpdateResultValue,
    update_result_body,
)
from cssec.client.engine import validate_component
from cssec.client.errors import ComponentRejected, ManifestRejected, UpdateMetadataRejected
from cssec.client.reports import Delivery, send_or_queue
from cssec.client.state import ClientState, InstalledComponents
from cssec.client.tuf_client import ClientTuf, open_tuf
from cssec.core.clock import Clock
from cssec.core.components import ComponentVersion, Manifest, verify_file, verify_manifest
from cssec.core.errors import CssecError, LicenseExpired, Phrase
from cssec.core.license import Product
from cssec.core.policy import GOVERNED, Component, distribution_operation
from cssec.core.signing import VerifyingKey, follow_endorsements


class UpdateResult(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    REFUSED = "refused"
    UP_TO_DATE = "up_to_date"


@dataclass(frozen=True)
class UpdateOutcome:
    result: UpdateResult
    serial: int | None
    versions: dict[Component, int]
    changes: dict[Component, tuple[int | None, int]]
    """component → (version before, version now), for the components that changed."""
    delivery: Delivery
    stepped_back: bool = False
    """The server rolled back from the set this client held; it went back to the one before."""
    refused: dict[Component, LicenseExpired] = field(default_factory=dict)
    """Components whose distribution the server refused by license (a lapsed Damage Cleanup
    Services license: its template); they keep the version they had, the rest updated."""


def _serial_of(envelope: Any) -> Any:
    """The serial an envelope claims, unverified (None when it has none)."""
    statement = envelope.get("statement") if isinstance(envelope, dict) else None
    return statement.get("serial") if isinstance(statement, dict) else None


def _separately_licensed(component: Component) -> bool:
    """A component another product's license distributes (the Damage Cleanup template):
    its lapse stops that component alone, never the C/S Sec. update (core.policy)."""
    operation = distribution_operation(component)
    return any(operation in ops for product, ops in GOVERNED.items() if product is not Product.CS)


class _Refused(Exception):
    """One component's file refused by license, after the manifest was served."""

    def __init__(self, error: LicenseExpired) -> None:
        super().__init__(error.code)
        self.error = error


def _same(old: ComponentVersion | None, new: ComponentVersion) -> bool:
    return old is not None and (old.version, old.sha256) == (new.version, new.sha256)


def _versions_body(versions: dict[Component, int]) -> dict[str, int]:
    return {c.value: v for c, v in versions.items()}


def _listed(items: list[str], lang: str) -> str:
    return ("、" if lang == "ja" else ", ").join(items)


def describe_versions(versions: dict[Component, int], lang: str) -> str:
    return _listed([f"{c.label(lang)} {v}" for c, v in versions.items()], lang) or "-"


def describe_changes(changes: dict[Component, tuple[int | None, int]], lang: str) -> str:
    """Reads "virus pattern file 1 → 2", or "… 1 (new)" for a first install, never "- → 1"."""
    new_word = "（新規）" if lang == "ja" else " (new)"
    return _listed(
        [
            f"{c.label(lang)} {new}{new_word}" if old is None else f"{c.label(lang)} {old} → {new}"
            for c, (old, new) in changes.items()
        ],
        lang,
    )


def _envelope(data: bytes) -> Any:
    """The manifest target's JSON (verified as the vendor's manifest next)."""
    try:
        return json.loads(data)
    except ValueError:
        raise ManifestRejected(reason="the manifest target is not JSON") from None


class _Updater:
    def __init__(self, state: ClientState, agent: AgentClient, clock: Clock, lang: str) -> None:
        self.state = state
        self.agent = agent
        self.clock = clock
        self.lang = lang
        self.installed = state.load_installed()
        self.stepping_back = False
        """The server rolled back from the set this client holds: it takes the one before."""
        self.keeps_own: frozenset[Component] = frozenset()
        """Stepping back, the components whose older file this client never ran (a refused
        Damage Cleanup template): it keeps the one it has (`_may_step_back`)."""
        self.tuf: ClientTuf | None = None
        """The server's TUF mirror, checked against the vendor's root (None: a server that
        mirrors no TUF yet, and a client that never held a root: the signed manifest alone)."""

    def report(
        self,
        result: UpdateResultValue,
        versions: dict[Component, int],
        message: str,
        *,
        code: str,
        params: dict[str, int | None] | None = None,
    ) -> Delivery:
        body = update_result_body(
            result, _versions_body(versions), message, code=code, params=params
        )
        delivery, _ = send_or_queue(self.state, self.agent, "update-result", body, clock=self.clock)
        return delivery

    def give_up(self, error: CssecError) -> CssecError:
        """Report the failure or refusal, drop half-fetched files, hand the error back."""
        result: UpdateResultValue = "refused" if isinstance(error, LicenseExpired) else "failed"
        self.report(result, self.installed.versions(), error.message(self.lang), code=error.code)
        self._prune(self.installed)
        return error

    def _prune(self, installed: InstalledComponents) -> None:
        keep: dict[Component, set[int]] = {}
        for versions in (installed.current, installed.previous):
            for component, version in versions.items():
                keep.setdefault(component, set()).add(version.version)
        self.state.prune(keep)

    def fetch_manifest(self) -> tuple[Manifest, dict[str, Any]]:
        keys = self.state.load_config().verifying_keys()
        try:
            self.tuf = open_tuf(
                self.state.root, self.agent, keys, lambda: self._refresh_vendor_keys(keys),
                now=self.clock.now(),
            )  # fmt: skip
            offer = self.agent.manifest_offer() if self.tuf is None else self._tuf_offer()
            envelope = offer.envelope
            kid = envelope.get("kid") if isinstance(envelope, dict) else None
            if isinstance(kid, str) and kid not in keys:
                keys = self._refresh_vendor_keys(keys)
        except CssecError as exc:
            raise self.give_up(exc) from exc
        check = verify_manifest(envelope, keys)
        if check.value is None:
            reason = f"{check.error} {check.detail}".strip()
            raise self.give_up(ManifestRejected(reason=reason))
        manifest = check.value
        held = self.installed.serial
        if held is not None and manifest.serial < held:
            kept = verify_manifest(self.installed.manifest, keys).value
            if self._may_step_back(manifest, offer.step_back_from, kept):
                self.stepping_back = True
                self.keeps_own = self._never_ran(manifest)
            elif offer.step_back_from == held and kept is not None and kept.serial == held:
                # The server went back to a set this client never held: it keeps its own.
                manifest, envelope = kept, self.installed.manifest
            else:
                reason = f"serial {manifest.serial} is older than the installed {held}"
                raise self.give_up(ManifestRejected(reason=reason))
        for component, new in manifest.components.items():
            old = self.installed.current.get(component)
            if old is not None and old.version == new.version and old.sha256 != new.sha256:
                # A version number names one file for ever; reuse means a broken publisher.
                reason = f"{component.value} version {new.version} names a different file"
                raise self.give_up(ManifestRejected(reason=reason))
        return manifest, envelope

    def _may_step_back(
        self, manifest: Manifest, step_back_from: int | None, held_set: Manifest | None
    ) -> bool:
        """The one older set this client takes: its server rolled back from exactly the set
        this client holds (`step_back_from`), and offers exactly the set this client held
        before it (by serial, and every file one this client ran: current or previous). A
        server, or whoever holds its certificate, can so undo this client's last update
        once, to vendor-signed content it already ran, and never go further back.

        One exception keeps a client that was refused the Damage Cleanup template from being
        stuck on the rolled-back set: an entry of a separately licensed component it never
        ran passes when it does not run the rolled-back set's entry either (refused it, or
        holds none). That component is then not taken from the older set: the client keeps
        the file it runs (`keeps_own`), so it still runs nothing it had not run before, and
        nothing of the set the server rolled back from."""
        held = self.installed
        if step_back_from is None or step_back_from != held.serial:
            return False
        if held.previous_serial is None or manifest.serial != held.previous_serial:
            return False
        return all(
            _separately_licensed(component) and not self._runs_entry_of(held_set, component)
            for component in self._never_ran(manifest)
        )

    def _never_ran(self, manifest: Manifest) -> frozenset[Component]:
        """The components whose file in `manifest` is neither the current nor the previous
        version this client holds."""
        held = self.installed
        return frozenset(
            component
            for component, version in manifest.components.items()
            if not _same(held.current.get(component), version)
            and not _same(held.previous.get(component), version)
        )

    def _runs_entry_of(self, held_set: Manifest | None, component: Component) -> bool:
        """Whether this client runs `held_set`'s file of `component` (True when that set
        cannot be read: the exception above then does not apply)."""
        if held_set is None:
            return True
        entry = held_set.components.get(component)
        return entry is not None and _same(self.installed.current.get(component), entry)

    def _tuf_offer(self) -> ManifestOffer:
        """The newest manifest, through TUF. When the server withholds it (not switched to
        yet, or rolled back there), the set it distributes instead: vendor-signed, never
        older than this client's (checked next) unless the server stepped it back, and only
        after TUF found the metadata fresh, so a freeze still shows; its files come by the
        manifest's hashes. TUF names the set this client holds even after its server rolled
        back from it, so a client that can step back asks the server whether it did."""
        assert self.tuf is not None
        try:
            envelope = _envelope(self.tuf.manifest(self.installed.manifest))
        except UpdateMetadataRejected as exc:
            if exc.fields.get("cause") != "withheld":
                raise
            self.tuf = None
            return self.agent.manifest_offer()
        held = self.installed
        if held.previous_serial is not None and envelope == held.manifest:
            offer = self.agent.manifest_offer()
            if (offer.step_back_from, _serial_of(offer.envelope)) == (
                held.serial,
                held.previous_serial,
            ):  # checked for real once verified (`_may_step_back`)
                self.tuf = None  # the older set's files come from the server, by their hashes
                return offer
        return ManifestOffer(envelope, None)

    def _refresh_vendor_keys(self, keys: dict[str, VerifyingKey]) -> dict[str, VerifyingKey]:
        """The vendor rotated its signing key: follow the vendor's endorsement chain, as
        the server hands it over, from a key this client already holds
        (`core.signing.follow_endorsements`), and keep what it vouches for. The server's
        bare key list is never taken: a server, or anyone between it and this client,
        could put any key there and sign a forged manifest with it. Keys are only ever
        added here."""
        config = self.state.load_config()
        try:
            offered = self.agent.vendor_keys()
        except CssecError:
            return keys  # an older server, or gone: the manifest then fails as unknown_kid
        endorsements = offered.get("endorsements") if isinstance(offered, dict) else None
        learned = follow_endorsements(keys, endorsements if isinstance(endorsements, list) else [])
        if not learned:
            return keys
        merged = {**keys, **learned}
        self.state.save_config(
            replace(config, vendor_keys={"keys": [key.to_jwk() for key in merged.values()]})
        )
        return merged

    def present(self, version: ComponentVersion) -> bool:
        try:
            return verify_file(self.state.read_component(version), version)
        except OSError:
            return False

    def _intact(self, version: ComponentVersion | None) -> bytes | None:
        """The held file of `version` when it is intact (a delta's source), else None."""
        if version is None:
            return None
        try:
            data = self.state.read_component(version)
        except OSError:
            return None
        return data if verify_file(data, version) else None

    def fetch_file(self, version: ComponentVersion) -> None:
        """Put the verified file in place (unless it already is, e.g. a previous version)."""
        if self.present(version):
            return
        label = version.component.label(self.lang)
        try:
            if self.tuf is not None:
                held = self.installed.current.get(version.component)
                data = self.tuf.component(version, held, self._intact(held))
            else:
                data = self.agent.download(
                    version.component, version.sha256, max_bytes=version.size
                )
        except LicenseExpired as exc:
            if not _separately_licensed(version.component):
                raise self.give_up(exc) from exc
            raise _Refused(exc) from exc  # the rest of the set still updates (`run`)
        except CssecError as exc:
            raise self.give_up(exc) from exc
        if len(data) != version.size:
            reason = Phrase(
                f"{len(data)} バイトで、マニフェストの {version.size} バイトと違います",
                f"{len(data)} bytes where the manifest says {version.size}",
            )
            raise self.give_up(ComponentRejected(component=label, reason=reason))
        if not verify_file(data, version):
            reason = Phrase(
                "SHA-256がマニフェストと一致しません", "its SHA-256 is not the manifest's"
            )
            raise self.give_up(ComponentRejected(component=label, reason=reason))
        invalid = validate_component(version.component, data)
        if invalid is not None:
            raise self.give_up(ComponentRejected(component=label, reason=invalid))
        self.state.write_component(version, data)

    def run(self) -> UpdateOutcome:
        manifest, envelope = self.fetch_manifest()
        current = self.installed.current
        wanted = [
            new
            for component, new in manifest.components.items()
            if component not in self.keeps_own
            and (not _same(current.get(component), new) or not self.present(new))
        ]
        refused: dict[Component, LicenseExpired] = {}
        for version in wanted:
            try:
                self.fetch_file(version)
            except _Refused as refusal:
                refused[version.component] = refusal.error
        changed = [v for v in wanted if v.component not in refused]
        in_use = dict(manifest.components)
        for component in {*refused, *self.keeps_own}:  # keeps the version it has (if any)
            if component in current:
                in_use[component] = current[component]
            else:
                del in_use[component]
        previous = dict(self.installed.previous)
        for version in changed:
            old = current.get(version.component)
            if old is not None and not _same(old, version):
                previous[version.component] = old
        switched = InstalledComponents(
            serial=manifest.serial,
            updated_at=self.clock.now() if changed else self.installed.updated_at,
            current=in_use,
            previous=previous,
            manifest=dict(envelope),
            previous_serial=self._previous_serial(manifest),
        )
        self.state.save_installed(switched)
        self._prune(switched)
        versions = switched.versions()
        changes = {
            v.component: (old.version if (old := current.get(v.component)) else None, v.version)
            for v in changed
            if not _same(current.get(v.component), v)
        }
        if changes:
            result, message = UpdateResult.SUCCESS, describe_changes(changes, self.lang)
            code = "components_stepped_back" if self.stepping_back else "components_updated"
            params = {c.value: old for c, (old, _) in changes.items()}
        else:
            result, message = UpdateResult.UP_TO_DATE, describe_versions(versions, self.lang)
            code, params = "up_to_date", {}
        delivery = self.report(result.value, versions, message, code=code, params=params)
        for error in refused.values():
            self.report("refused", versions, error.message(self.lang), code=error.code)
        return UpdateOutcome(
            result, manifest.serial, versions, changes, delivery,
            stepped_back=self.stepping_back, refused=refused,
        )  # fmt: skip

    def _previous_serial(self, manifest: Manifest) -> int | None:
        """What a later step back may return to: the set replaced now, none after a step
        back (once only), unchanged when the set is the same."""
        if self.stepping_back:
            return None
        if manifest.serial == self.installed.serial:
            return self.installed.previous_serial
        return self.installed.serial


def update_components(
    state: ClientState, agent: AgentClient, *, clock: Clock, lang: str
) -> UpdateOutcome:
    """Run one manual update. Raises the CssecError that stopped it (LicenseExpired for a
    refusal, ManifestRejected / ComponentRejected for a failed verification,
    ServerUnreachable ...) after reporting it; the current components stay in use."""
    with state.lock():
        return _Updater(state, agent, clock, lang).run()
