"""Bulk issuance (`issue_bulk_contracts`) against a raw insert of the same rows.

Run: ``.venv/bin/python bench/issuance.py [--count 1000000] [--with-dcs] [--pg URL | --no-pg]``

For each database (SQLite in a temporary directory; PostgreSQL in a throwaway database
``cssec_bench_<hex>`` created through --pg, else CSSEC_TEST_POSTGRES_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/postgres, and dropped afterwards), on a
freshly migrated schema each time:

- service: the whole `issue_bulk_contracts` call (reserving ids, HMACs, rows, CSV,
  progress callback, audit row, commit, rename), as `cssec vendor keys bulk` runs it;
- raw insert: the same rows, computed beforehand (untimed), then inserted with the same
  mechanism (one INSERT … SELECT a chunk on SQLite, COPY on PostgreSQL, the same locks and
  foreign-key handling) and committed: no codes, no CSV, no progress, no second thread.

ratio = service / raw: what issuing costs on top of writing the rows at all. The issue's
bar is the service's seconds: a million contracts in at most 60 s on each database.
The machine is shared, so the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from cssec.core.clock import FakeClock
from cssec.vendor_service.runtime import Vendor, open_vendor
from cssec.vendor_service.services import get_product, issue_bulk_contracts
from cssec.vendor_service.services._bulk_db import bulk_writer
from cssec.vendor_service.services.bulk import (
    _CODES,
    _CONTRACT_PRODUCTS,
    _CONTRACTS,
    _KEYS,
    CHUNK_SIZE,
    BatchTerms,
    _find_or_add_customer,
)
from cssec.vendor_service.settings import VendorSettings

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


@contextmanager
def _sqlite_vendor() -> Iterator[Vendor]:
    with tempfile.TemporaryDirectory(prefix="cssec-bench-") as tmp:
        vendor = open_vendor(VendorSettings(data_dir=Path(tmp) / "vendor"), clock=FakeClock(NOW))
        try:
            yield vendor
        finally:
            vendor.close()


def _pg_vendor_factory(base: str) -> Callable[[], Iterator[Vendor]]:
    @contextmanager
    def factory() -> Iterator[Vendor]:
        url = make_url(base)
        name = f"cssec_bench_{secrets.token_hex(6)}"
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory(prefix="cssec-bench-") as tmp:
                db = url.set(database=name).render_as_string(hide_password=False)
                settings = VendorSettings(data_dir=Path(tmp) / "vendor", database_url=db)
                vendor = open_vendor(settings, clock=FakeClock(NOW))
                try:
                    yield vendor
                finally:
                    vendor.close()
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return factory


def time_service(
    vendor: Vendor, count: int, with_dcs: bool, *, set_based_checks: bool = True
) -> float:
    out = vendor.settings.data_dir / "batch.csv"
    ticks = 0

    def progress(done: int, total: int) -> None:
        nonlocal ticks
        ticks += 1

    with vendor.session() as session:
        started = time.perf_counter()
        issued = issue_bulk_contracts(
            session, count=count, seats=5, out=out, start=date(2026, 12, 1),
            with_dcs=with_dcs, customer="bench distributor", actor="bench", progress=progress,
            set_based_checks=set_based_checks,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    assert issued.count == count
    assert ticks > 1
    lines = sum(1 for _ in out.open("rb"))
    assert lines == count + 1, lines
    return elapsed


def time_raw_insert(vendor: Vendor, count: int, with_dcs: bool) -> float:
    """The same rows, computed first, then inserted and committed under the timer."""
    with vendor.session() as session:
        products = [get_product(session, "CS")] + ([get_product(session, "DCS")] * with_dcs)
        person = _find_or_add_customer(session, "bench distributor", NOW)
        writer = bulk_writer(session.connection())
        terms = BatchTerms(
            writer=writer, customer_id=person.id, seats=5, start=date(2026, 12, 1),
            end=date(2027, 11, 30), now=NOW, products=tuple(products),
            key=vendor.keyring.current_mac_key,
        )  # fmt: skip
        ids = range(1, count + 1)
        codes = range(1, count * len(products) + 1)
        chunks = []
        for first in range(0, count, CHUNK_SIZE):
            last = min(first + CHUNK_SIZE, count)
            rows, _lines = terms.chunk(
                ids[first:last], ids[first:last],
                codes[first * len(products) : last * len(products)],
            )  # fmt: skip
            chunks.append((last - first, rows))
        started = time.perf_counter()
        writer.begin([_CONTRACTS, _CONTRACT_PRODUCTS, _KEYS, _CODES])
        for size, rows in chunks:
            for table, columns in rows:
                writer.prepare(table, size, columns)()
        writer.finish()
        session.commit()
        return time.perf_counter() - started


def bench(
    name: str,
    factory: Callable[[], Iterator[Vendor]],
    count: int,
    with_dcs: bool,
    *,
    per_row_checks: bool = False,
) -> None:
    tables = 4 + 2 * with_dcs
    rows = count * tables
    print(f"{name}: {count:,} contracts, {rows:,} rows in {tables} inserts a contract")
    with factory() as vendor:  # type: ignore[attr-defined]
        before = _load()
        raw = time_raw_insert(vendor, count, with_dcs)
        print(f"  raw insert     {raw:8.1f} s  {rows / raw:12,.0f} rows/s   ({before})")
    with factory() as vendor:  # type: ignore[attr-defined]
        before = _load()
        service = time_service(vendor, count, with_dcs)
        verdict = "ok" if service <= 60 * count / 1_000_000 else "OVER the 60 s/1M bar"
        print(
            f"  service        {service:8.1f} s  {rows / service:12,.0f} rows/s  "
            f"{count / service:10,.0f} contracts/s   ({before})  {verdict}"
        )
    print(f"  ratio service / raw insert  {service / raw:.2f}   (after: {_load()})")
    if per_row_checks:
        with factory() as vendor:  # type: ignore[attr-defined]
            before = _load()
            slow = time_service(vendor, count, with_dcs, set_based_checks=False)
            print(
                f"  service, foreign keys checked per row  {slow:8.1f} s  "
                f"({slow / service:.2f}x the default)   ({before})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--with-dcs", action="store_true", help="two codes a contract")
    parser.add_argument("--pg", help="PostgreSQL URL to create the throwaway database through")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--per-row-checks",
        action="store_true",
        help="also time PostgreSQL with per-row foreign key checks (set_based_checks=False)",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; {_load()}")
    if not args.no_sqlite:
        bench("SQLite", _sqlite_vendor, args.count, args.with_dcs)
    if not args.no_pg:
        base = args.pg or os.environ.get("CSSEC_TEST_POSTGRES_URL") or DEFAULT_PG
        try:
            psycopg.connect(make_url(base).set(drivername="postgresql").render_as_string(
                hide_password=False), connect_timeout=5).close()  # fmt: skip
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL: skipped, cannot connect to {base}: {exc}")
            return
        bench(
            "PostgreSQL", _pg_vendor_factory(base), args.count, args.with_dcs,
            per_row_checks=args.per_row_checks,
        )  # fmt: skip


if __name__ == "__main__":
    main()
