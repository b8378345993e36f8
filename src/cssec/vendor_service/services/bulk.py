"""Bulk issuance: N contracts with their registration keys and codes for a distributor.

All N contracts belong to one customer (the distributor, or a batch label), share the
seats and the term, and are issued in ONE transaction: all of them or none. The keys and
codes go to a CSV that only appears, renamed from a private temporary file next to it,
after the commit; it is mode 0600 because its keys are secrets. One audit row,
contract.bulk_issued, records the count and the CSV's SHA-256.

Speed (a million contracts within a minute on SQLite and PostgreSQL; bench/issuance.py)
comes from four things: ids are reserved up front so codes can be computed before their
rows exist, codes are encoded a chunk at a time (see `_bulk_codes`), rows go in as one
INSERT … SELECT a chunk on SQLite and with COPY on PostgreSQL instead of through the ORM
(see `_bulk_db`), and a worker thread writes one chunk while the next is computed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cssec.core.codes import MacKey
from cssec.core.license import Product
from cssec.vendor_service.errors import BulkOutputExists, InvalidContractTerms
from cssec.vendor_service.keyring import Keyring
from cssec.vendor_service.models import (
    ActivationCodeRow,
    Contract,
    ContractProduct,
    Customer,
    ProductRow,
    RegistrationKeyRow,
)
from cssec.vendor_service.services._bulk_codes import (
    MAX_AC_SERIAL,
    MAX_RK_SERIAL,
    activation_code_texts,
    check_against_core,
    registration_key_texts,
)
from cssec.vendor_service.services._bulk_db import BulkWriter, Columns, Same, bulk_writer
from cssec.vendor_service.services._context import keyring_of, now_utc, today_utc, transaction
from cssec.vendor_service.services.audit import record_audit
from cssec.vendor_service.services.catalog import get_product
from cssec.vendor_service.services.contracts import _check_terms, term_end

MAX_BULK_COUNT = 10_000_000
CHUNK_SIZE = 10_000

Progress = Callable[[int, int], None]
"""Called with (contracts done, total) before the first chunk and after each one; an
exception it raises aborts the batch (nothing is kept)."""

_CONTRACTS: Table = Contract.__table__  # type: ignore[assignment]
_CONTRACT_PRODUCTS: Table = ContractProduct.__table__  # type: ignore[assignment]
_KEYS: Table = RegistrationKeyRow.__table__  # type: ignore[assignment]
_CODES: Table = ActivationCodeRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class BulkIssued:
    count: int
    customer: str
    customer_id: int
    seats: int
    start: date
    end: date
    products: tuple[str, ...]
    contract_ids: range
    """The new contracts' ids: consecutive, the batch reserves them under a lock."""
    out: Path
    sha256: str
    """Of the CSV file, as recorded in the audit row."""


@dataclass(frozen=True)
class BatchTerms:
    """What every contract of a batch shares, with each constant already in the form the
    writer's rows carry it; `chunk` turns ids into rows and CSV text."""

    writer: BulkWriter
    customer_id: int
    seats: int
    start: date
    end: date
    now: datetime
    products: tuple[ProductRow, ...]
    key: MacKey

    def chunk(
        self, contract_ids: Sequence[int], key_ids: Sequence[int], code_ids: Sequence[int]
    ) -> tuple[list[TableRows], str]:
        """Rows per table for these contracts, and their CSV lines.

        `code_ids` holds len(products) ids per contract: the first run for the first
        product, and so on. Each chunk's first key and codes are compared with what
        `core.codes` encodes.
        """
        n = len(contract_ids)
        value, key, end = self.writer.value, self.key, self.end
        out: list[TableRows] = [
            (
                _CONTRACTS,
                {
                    "id": contract_ids,
                    "customer_id": Same(self.customer_id),
                    "seats": Same(self.seats),
                    "starts_on": Same(value(_CONTRACTS, "starts_on", self.start)),
                    "ends_on": Same(value(_CONTRACTS, "ends_on", end)),
                    "created_at": Same(value(_CONTRACTS, "created_at", self.now)),
                    "updated_at": Same(value(_CONTRACTS, "updated_at", self.now)),
                },
            )
        ]
        for product in self.products:
            columns: Columns = {"contract_id": contract_ids, "product": Same(product.code)}
            out.append((_CONTRACT_PRODUCTS, columns))
        keys = registration_key_texts(key_ids, key=key)
        if n:
            check_against_core(serial=key_ids[0], key=key, registration_key=keys[0])
        out.append(
            (
                _KEYS,
                {
                    "id": key_ids,
                    "contract_id": contract_ids,
                    "serial": key_ids,
                    "kid": Same(key.kid),
                    "text": keys,
                    "created_at": Same(value(_KEYS, "created_at", self.now)),
                },
            )
        )
        codes: list[list[str]] = []
        for index, product in enumerate(self.products):
            serials = code_ids[index * n : (index + 1) * n]
            texts = activation_code_texts(
                serials, code_prefix=product.code_prefix, seats=self.seats, expires_on=end, key=key
            )
            if n:
                check_against_core(
                    serial=serials[0], key=key, activation_code=texts[0],
                    product=Product(product.code), seats=self.seats, expires_on=end,
                )  # fmt: skip
            codes.append(texts)
            out.append(
                (
                    _CODES,
                    {
                        "id": serials,
                        "contract_id": contract_ids,
                        "product": Same(product.code),
                        "serial": serials,
                        "lineage_id": serials,  # each code starts its product's lineage
                        "kid": Same(key.kid),
                        "text": texts,
                        "seats": Same(self.seats),
                        "expires_on": Same(value(_CODES, "expires_on", end)),
                        "issued_at": Same(value(_CODES, "issued_at", self.now)),
                    },
                )
            )
        return out, _csv_lines(contract_ids, keys, codes, end.isoformat())


TableRows = tuple[Table, Columns]


def _csv_lines(
    contract_ids: Sequence[int], keys: Sequence[str], codes: Sequence[Sequence[str]], end: str
) -> str:
    """One line a contract: key, codes (hyphenated as printed), expiry, contract id."""
    lines = []
    for i, contract_id in enumerate(contract_ids):
        k = keys[i]
        fields = [f"{k[:2]}-{k[2:6]}-{k[6:10]}-{k[10:14]}-{k[14:]}"]
        for texts in codes:
            c = texts[i]
            fields.append(f"{c[:2]}-{c[2:6]}-{c[6:11]}-{c[11:16]}-{c[16:21]}-{c[21:26]}-{c[26:]}")
        fields.append(end)
        fields.append(str(contract_id))
        lines.append(",".join(fields))
    lines.append("")
    return "\n".join(lines)


def csv_header(products: Sequence[str]) -> str:
    codes = [f"activation_code_{p.lower()}" for p in products]
    return ",".join(["registration_key", *codes, "expires_on", "contract_id"]) + "\n"


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not 1 <= count <= MAX_BULK_COUNT:
        raise InvalidContractTerms(
            detail_ja=f"発行数は 1〜{MAX_BULK_COUNT:,}で指定してください",
            detail_en=f"the count must be 1 to {MAX_BULK_COUNT:,}",
        )


def _check_serials(keys: range, codes: range) -> None:
    if keys[-1] > MAX_RK_SERIAL or codes[-1] > MAX_AC_SERIAL:
        raise InvalidContractTerms(
            detail_ja="シリアル番号の上限に達しました", detail_en="the serial numbers ran out"
        )


def _find_or_add_customer(session: Session, name: str, now: datetime) -> Customer:
    person = session.scalar(
        select(Customer).where(Customer.name == name).order_by(Customer.id).limit(1)
    )
    if person is None:
        person = Customer(name=name, created_at=now)
        session.add(person)
        session.flush()
    return person


def issue_bulk_contracts(
    session: Session,
    *,
    count: int,
    seats: int,
    out: Path,
    months: int = 12,
    start: date | None = None,
    with_dcs: bool = False,
    customer: str | None = None,
    actor: str,
    progress: Progress | None = None,
    keys: Keyring | None = None,
    chunk_size: int = CHUNK_SIZE,
    set_based_checks: bool = True,
) -> BulkIssued:
    """Issue `count` contracts for `customer` (found by exact name or created; default a
    "bulk <UTC time>" label) and write their keys and codes to the CSV `out`.

    `out` must not exist yet; its directory must. Terms are checked as for
    `issue_contract`. Audited once, as contract.bulk_issued. `set_based_checks`: on
    PostgreSQL, check foreign keys once for the batch rather than per row, holding the
    contract tables exclusively until commit (see `_bulk_db`). Rows are written by a
    worker thread while the next chunk's codes are computed, so the engine must allow a
    connection to be used from another thread (`web.db.make_engine` does).
    """
    keyring = keyring_of(session, keys)
    now = now_utc(session)
    start = start if start is not None else today_utc(session)
    label = (customer if customer is not None else f"bulk {now:%Y-%m-%d %H:%M:%S} UTC").strip()
    _check_count(count)
    _check_terms(label, seats, months, start)
    out = Path(out)
    if out.exists():
        raise BulkOutputExists(path=str(out))
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle, transaction(session):
            products = [get_product(session, "CS")]
            if with_dcs:
                products.append(get_product(session, "DCS"))
            person = _find_or_add_customer(session, label, now)
            writer = bulk_writer(session.connection(), set_based_checks=set_based_checks)
            writer.begin([_CONTRACTS, _CONTRACT_PRODUCTS, _KEYS, _CODES])
            terms = BatchTerms(
                writer=writer, customer_id=person.id, seats=seats, start=start,
                end=term_end(start, months), now=now, products=tuple(products),
                key=keyring.current_mac_key,
            )  # fmt: skip
            contract_ids, sha256 = _write_batch(terms, count, handle, progress, chunk_size)
            record_audit(
                session,
                actor=actor,
                action="contract.bulk_issued",
                target=f"customer:{person.id}",
                before=None,
                after={
                    "count": count,
                    "customer": person.name,
                    "seats": seats,
                    "start": start.isoformat(),
                    "end": terms.end.isoformat(),
                    "products": [p.code for p in products],
                    "contract_ids": [contract_ids[0], contract_ids[-1]],
                    "file": out.name,
                    "sha256": sha256,
                },
            )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Committed: from here on the temporary file is never deleted, it holds the keys.
    tmp.replace(out)
    _sync_directory(out.parent)
    return BulkIssued(
        count=count,
        customer=person.name,
        customer_id=person.id,
        seats=seats,
        start=start,
        end=terms.end,
        products=tuple(p.code for p in products),
        contract_ids=contract_ids,
        out=out,
        sha256=sha256,
    )


def _write_batch(
    terms: BatchTerms, count: int, handle: BinaryIO, progress: Progress | None, chunk_size: int
) -> tuple[range, str]:
    """Reserve the ids, insert every chunk's rows, write the CSV (synced); its SHA-256.

    Two stages: this thread computes a chunk's codes, rows and CSV lines while a worker
    thread inserts the previous chunk (the drivers release the GIL while the database
    works), so on two cores the database and the HMACs run side by side.
    """
    writer, per_contract = terms.writer, len(terms.products)
    contracts = writer.reserve(_CONTRACTS, count)
    keys = writer.reserve(_KEYS, count)
    codes = writer.reserve(_CODES, count * per_contract)
    _check_serials(keys, codes)
    digest = hashlib.sha256()
    _write(handle, digest, csv_header([p.code for p in terms.products]))
    if progress is not None:
        progress(0, count)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cssec-bulk") as pool:
        pending: Future[None] | None = None
        for first in range(0, count, chunk_size):
            last = min(first + chunk_size, count)
            size = last - first
            rows, lines = terms.chunk(
                contracts[first:last],
                keys[first:last],
                codes[first * per_contract : last * per_contract],
            )
            jobs = [writer.prepare(table, size, columns) for table, columns in rows]
            if pending is not None:
                pending.result()
                if progress is not None:
                    progress(first, count)
            pending = pool.submit(_run_all, jobs)
            _write(handle, digest, lines)
        if pending is not None:
            pending.result()
        pool.submit(writer.finish).result()
    if progress is not None:
        progress(count, count)
    handle.flush()
    os.fsync(handle.fileno())
    return contracts, digest.hexdigest()


def _run_all(jobs: Sequence[Callable[[], None]]) -> None:
    for job in jobs:
        job()


def _write(handle: BinaryIO, digest: Any, text: str) -> None:
    data = text.encode("ascii")
    handle.write(data)
    digest.update(data)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
