"""ActiveUpdate use cases: publish a component version, sign the manifest, serve the files.

Conventions as in `cssec.vendor_service.services`: the session comes first, services own their
transaction and write the audit row (`component.published`) in it. Sessions made by
`Vendor.sessionmaker` carry the keyring, the clock and the `ActiveUpdateStore` (blob
directory and manifest cache) in `session.info`; with any other session pass `keys=` and
`store=`.

Publishes are serialised (SQLite: the write lock taken at BEGIN; PostgreSQL: a table lock
that readers do not wait for), so versions count 1, 2, 3 … per component without gaps, and
the manifest serial, the highest row id, grows with every publish in commit order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

from cssec.core.codes import ActivationCode
from cssec.core.components import (
    COMPONENT_FILENAMES,
    ComponentVersion,
    Manifest,
    sha256_hex,
)
from cssec.core.errors import CssecError, NotFound
from cssec.core.license import Product
from cssec.core.policy import (
    Component,
    Operation,
    decide,
    distribution_operation,
    licensing_product,
    not_licensed,
)
from cssec.core.signing import sign_statement
from cssec.vendor_service.activeupdate.models import ComponentVersionRow
from cssec.vendor_service.activeupdate.rollouts import (
    RolloutPlan,
    begin_rollout,
    check_publish,
    withheld_ids,
)
from cssec.vendor_service.activeupdate.store import SHA256_HEX, ActiveUpdateStore
from cssec.vendor_service.activeupdate.validate import parse_component_name, validate_component_file
from cssec.vendor_service.errors import ComponentFileUnavailable, ComponentUnchanged
from cssec.vendor_service.feedwatch import notify_published
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.services._context import keyring_of, now_utc, single_read, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.status import (
    CodeFacts,
    Standing,
    read_code_facts,
    standing_at,
    verify_code,
)

log = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent.parent / "activeupdate_seed"
SEED_ACTOR = "system:seed"


@dataclass(frozen=True)
class Published:
    """A published version and the manifest serial it produced."""

    component_version: ComponentVersion
    serial: int


def store_of(session: Session, store: ActiveUpdateStore | None = None) -> ActiveUpdateStore:
    found = store if store is not None else session.info.get("activeupdate")
    if not isinstance(found, ActiveUpdateStore):
        raise TypeError("no ActiveUpdate store: use Vendor.sessionmaker or pass store=")
    return found


def to_component_version(row: ComponentVersionRow) -> ComponentVersion:
    return ComponentVersion(
        component=Component(row.component),
        version=row.version,
        sha256=row.sha256,
        size=row.size,
        published_at=row.published_at,
    )


def _serialise_publishes(session: Session) -> None:
    """Make concurrent publishes (and seedings) of any process wait for each other."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE component_versions IN SHARE ROW EXCLUSIVE MODE"))
    # SQLite: the vendor's engine opens every transaction with BEGIN IMMEDIATE.


def _latest(session: Session, component: Component) -> ComponentVersionRow | None:
    return session.scalar(
        select(ComponentVersionRow)
        .where(ComponentVersionRow.component == component.value)
        .order_by(ComponentVersionRow.version.desc())
        .limit(1)
    )


def _add_version(
    session: Session,
    component: Component,
    data: bytes,
    *,
    version: int,
    actor: str,
    previous: ComponentVersionRow | None,
    audit: bool = True,
) -> ComponentVersionRow:
    row = ComponentVersionRow(
        component=component.value,
        version=version,
        sha256=sha256_hex(data),
        size=len(data),
        published_at=now_utc(session),
        published_by=actor[:200],
    )
    session.add(row)
    session.flush()
    if not audit:
        return row
    before = None if previous is None else {"version": previous.version, "sha256": previous.sha256}
    record_audit(
        session,
        actor=actor,
        action="component.published",
        target=f"component:{component.value}",
        before=before,
        after={"version": row.version, "sha256": row.sha256, "size": row.size, "serial": row.id},
    )
    return row


def publish_component(
    session: Session,
    name: str,
    data: bytes,
    *,
    actor: str,
    store: ActiveUpdateStore | None = None,
    rollout: RolloutPlan | None = None,
) -> Published:
    """Add the next version of component `name` with the file `data`.

    The file must work as that component (YARA compiles; the JSON parses with
    `core.components`): else InvalidComponentFile. UnknownComponent for a bad name,
    ComponentUnchanged when `data` is already the current version (publishing an older
    file again is allowed: that is a rollback, as a new version).

    With `rollout`, the version reaches servers ring by ring (`rollouts.py`); without, every
    server at its next poll. RolloutInProgress while another component is rolling out.
    """
    component = parse_component_name(name)
    validate_component_file(component, data)
    active = store_of(session, store)
    sha = sha256_hex(data)
    with transaction(session):
        _serialise_publishes(session)
        current = _latest(session, component)
        if current is not None and current.sha256 == sha:
            raise ComponentUnchanged(
                component=component.value,
                component_ja=component.label("ja"),
                component_en=component.label("en"),
                version=current.version,
            )
        check_publish(session, component)
        active.blobs.put(data)  # before the row commits: a row never names a missing file
        version = 1 if current is None else current.version + 1
        stable = {r.component: r for r in _current_rows(session)}.get(component.value)
        row = _add_version(session, component, data, version=version, actor=actor, previous=current)
        if rollout is not None:
            previous = None if stable is None else stable.version
            begin_rollout(session, row, previous_version=previous, plan=rollout, actor=actor)
        notify_published(session, row.id)  # every node, once this commits (PostgreSQL)
    active.cache.clear()
    active.mark_published(row.id)  # after the commit: other processes re-read the serial
    from cssec.vendor_service.activeupdate.tuf_repo import sync_repository  # noqa: PLC0415

    sync_repository(session)  # new TUF targets, snapshot, timestamp (once a root is installed)
    return Published(to_component_version(row), serial=row.id)


def ensure_seed_components(
    session: Session, *, store: ActiveUpdateStore | None = None
) -> list[ComponentVersion]:
    """Publish version 1 of every component that has none, from `activeupdate_seed/`.

    Idempotent and safe when several processes start at once (publishes are serialised).
    The seed files are (re)written to the blob store every time, so a data directory that
    lost them heals. Like the product catalog the first migration seeds, this is part of
    installing the service, not a staff action: the rows say `published_by="system:seed"`
    and no audit row is written. Returns what was seeded now.
    """
    active = store_of(session, store)
    seeds = {c: (SEED_DIR / COMPONENT_FILENAMES[c]).read_bytes() for c in Component}
    for data in seeds.values():
        active.blobs.put(data)
    seeded: list[ComponentVersion] = []
    with transaction(session):
        if _components_present(session) >= {c.value for c in Component}:
            return seeded  # the usual start: nothing to seed, no publish lock taken
        _serialise_publishes(session)
        present = _components_present(session)  # again, under the lock
        for component, data in seeds.items():
            if component.value in present:
                continue
            validate_component_file(component, data)
            row = _add_version(
                session, component, data, version=1, actor=SEED_ACTOR, previous=None, audit=False
            )
            seeded.append(to_component_version(row))
        if seeded:
            notify_published(session, 0)
    if seeded:
        active.cache.clear()
        active.mark_published(0)
    return seeded


def _components_present(session: Session) -> set[str]:
    return set(session.scalars(select(ComponentVersionRow.component).distinct()))


def list_component_versions(
    session: Session, component: str | None = None
) -> list[ComponentVersion]:
    """Every published version, components in the manifest's order, newest version first."""
    query = select(ComponentVersionRow)
    if component is not None:
        query = query.where(ComponentVersionRow.component == parse_component_name(component).value)
    order = {c.value: i for i, c in enumerate(Component)}
    rows = sorted(session.scalars(query), key=lambda r: (order.get(r.component, 99), -r.version))
    return [to_component_version(r) for r in rows if r.component in order]


_ID = ComponentVersionRow.__table__.c.id
_SERIAL = select(func.max(_ID)).where(_ID.not_in(withheld_ids()))


def manifest_serial(session: Session) -> int | None:
    """The highest row id outside a rollout that never completed (`rollouts.withheld_ids`):
    the serial of the manifest a request would get now (one Core query on the primary key's
    index, read on every request so a publish by any process counts at once)."""
    serial: int | None = session.connection().execute(_SERIAL).scalar()
    return serial


def _current_rows(session: Session) -> list[ComponentVersionRow]:
    """The newest version of each component that every server takes (a version still
    rolling out, halted, superseded or pulled is not), in one statement."""
    newest = (
        select(
            ComponentVersionRow.component.label("component"),
            func.max(ComponentVersionRow.version).label("version"),
        )
        .where(ComponentVersionRow.id.not_in(withheld_ids()))
        .group_by(ComponentVersionRow.component)
        .subquery()
    )
    return list(
        session.scalars(
            select(ComponentVersionRow).join(
                newest,
                and_(
                    ComponentVersionRow.component == newest.c.component,
                    ComponentVersionRow.version == newest.c.version,
                ),
            )
        )
    )


def current_manifest(
    session: Session,
    *,
    keys: Keyring | None = None,
    store: ActiveUpdateStore | None = None,
) -> dict[str, Any]:
    """The signed manifest envelope (`core.signing.sign_statement` of `Manifest.to_statement`).

    Cached in memory until the serial (read from the database every call, so publishes by
    other processes count) or the signing key changes; a cached envelope keeps the
    `issued_at` of when it was signed. The returned dict is shared: do not modify it.
    """
    signing_key = keyring_of(session, keys).signing_key
    cache = store_of(session, store).cache
    now = now_utc(session)
    stamp = store_of(session, store).published_stamp()  # before the read (see ManifestCache)
    serial = manifest_serial(session)
    if serial is not None:
        cached = cache.get((serial, signing_key.kid), now, stamp)
        if cached is not None:
            return cached
    rows = {r.component: r for r in _current_rows(session)}
    missing = [c.value for c in Component if c.value not in rows]
    if missing:
        log.error("ActiveUpdate has no published version of %s", ", ".join(missing))
        raise ComponentFileUnavailable()
    components = {c: to_component_version(rows[c.value]) for c in Component}
    # The serial of exactly these rows: the newest publish is always some component's newest.
    serial = max(r.id for r in rows.values())
    manifest = Manifest(serial=serial, issued_at=now, components=components)
    envelope = sign_statement(manifest.to_statement(), signing_key)
    cache.put((serial, signing_key.kid), envelope, now, stamp)
    return envelope


def component_file(
    session: Session, sha256: str, *, store: ActiveUpdateStore | None = None
) -> tuple[Path, ComponentVersion]:
    """The stored file of a published version, by SHA-256; NotFound for anything else."""
    if not SHA256_HEX.fullmatch(sha256):
        raise NotFound()
    row = session.scalar(
        select(ComponentVersionRow)
        .where(ComponentVersionRow.sha256 == sha256)
        .order_by(ComponentVersionRow.id.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound()
    path = store_of(session, store).blobs.path_for(sha256)
    if not path.is_file():
        log.error("ActiveUpdate file %s (%s v%d) is missing", path, row.component, row.version)
        raise ComponentFileUnavailable()
    return path, to_component_version(row)


def authorize_download(
    session: Session,
    activation_code: str,
    *,
    keys: Keyring | None = None,
    store: ActiveUpdateStore | None = None,
) -> Standing:
    """The entitlement check of both ActiveUpdate endpoints.

    The code must parse and carry our MAC (InvalidActivationCode), be issued and not revoked
    (RevokedActivationCode); its contract's current end plus its product's grace must not
    have passed on the vendor's UTC today (`core.policy`: LicenseExpired, 403
    license_expired). Any code of the contract authorizes the manifest and the metadata,
    whatever its product; a file is further checked for its component
    (`authorize_component`: the Damage Cleanup template needs a live DCS code).

    Cached per worker (`ActiveUpdateStore.entitlements`, setting
    `activeupdate_entitlement_ttl`, 60 s by default): the database facts of a code that
    passed (contract end, grace, not revoked), by canonical code text. The MAC is verified
    and the state decided on today's date on every request, and a refusal on cached facts
    reads the database again, so expiry by the date and a renewal count at once; a
    revocation (or a contract edit that ends it sooner) reaches these endpoints within the
    TTL. The status endpoint is never cached. Runs in the caller's transaction.
    """
    activeupdate = store_of(session, store)
    keyring = keyring_of(session, keys)
    now = now_utc(session)
    standing = cached_entitlement(activation_code, keys=keyring, store=activeupdate, now=now)
    if standing is not None:
        return standing
    check = verify_code(activation_code, keyring)
    with single_read(session) as connection:
        code, facts = read_code_facts(connection, activation_code, check)
    return entitle(code, facts, now=now, store=activeupdate)


def entitle(
    code: ActivationCode, facts: CodeFacts, *, now: datetime, store: ActiveUpdateStore
) -> Standing:
    """The verdict on facts just read from the database: LicenseExpired once the contract's
    end plus grace has passed on `now`'s date; else the standing, its facts cached."""
    standing = standing_at(code, facts, now)
    decide(Product.CS, standing.state, Operation.ACTIVEUPDATE_DOWNLOAD).raise_if_refused()
    store.entitlements.put(code.text, facts, now)
    return standing


def cached_entitlement(
    activation_code: str, *, keys: Keyring, store: ActiveUpdateStore, now: datetime
) -> Standing | None:
    """`authorize_download`'s answer from this worker's cache alone, without the database:
    the code's MAC verified now, its facts cached (not older than the TTL), and its state on
    `now`'s date allowing downloads. None means "ask the database" (not cached, stale, a
    typo or a refusal: those are decided, and worded, by `authorize_download`)."""
    try:
        check = verify_code(activation_code, keys)
    except CssecError:
        return None
    if not check.ok or check.value is None:
        return None
    facts = store.entitlements.get(check.value.text, now)
    if facts is None:
        return None
    standing = standing_at(check.value, facts, now)
    if not decide(Product.CS, standing.state, Operation.ACTIVEUPDATE_DOWNLOAD).allowed:
        return None
    return standing


def authorize_component(standing: Standing, component: Component | None) -> None:
    """The second check of a file download, once `authorize_download` passed and the file's
    component is known: a component another product governs (`core.policy.licensing_product`:
    the Damage Cleanup template, Damage Cleanup Services) is sent only to that product's
    code whose standing allows handing it out (decide(DCS, state,
    distribute_damage_cleanup_template): refused once expired). Any other code, say the
    contract's C/S Sec. code, is refused with 403 product_not_licensed. Decided on the
    standing's facts, which carry the code's product, so a standing cached for a C/S Sec.
    code never authorizes the template. None (not a component file): nothing more to check."""
    if component is None:
        return
    product = licensing_product(component)
    if product is Product.CS:
        return
    if standing.facts.product != product.value:
        raise not_licensed(component)
    decide(product, standing.state, distribution_operation(component)).raise_if_refused()


def component_of(session: Session, sha256: str) -> Component | None:
    """The component a published file belongs to, by its SHA-256 (None: not a published
    component file, such as a delta or a signed manifest)."""
    name = session.scalar(
        select(ComponentVersionRow.component).where(ComponentVersionRow.sha256 == sha256).limit(1)
    )
    return None if name is None else Component(name)


def candidate_manifest(session: Session, version_id: int) -> dict[str, Any]:
    """The signed manifest of the set a rollout offers: the current set with the rolling
    version in place of its component (serial: the rolling row's id, above the current
    set's). Not cached: signed once per targets version."""
    row = session.get(ComponentVersionRow, version_id)
    if row is None:
        raise NotFound()
    rows = {r.component: r for r in _current_rows(session)}
    rows[row.component] = row
    if any(c.value not in rows for c in Component):
        raise ComponentFileUnavailable()
    components = {c: to_component_version(rows[c.value]) for c in Component}
    manifest = Manifest(serial=row.id, issued_at=now_utc(session), components=components)
    return sign_statement(manifest.to_statement(), keyring_of(session).signing_key)
