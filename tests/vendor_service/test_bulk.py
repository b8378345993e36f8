"""Bulk issuance: every key of the CSV works online, all or nothing, a private CSV, one audit
row; the batch encoders agree with core.codes."""

from __future__ import annotations

import csv
import hashlib
import random
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from tests.vendor_service.conftest import START
from typer.testing import CliRunner

from cssec.core.codes import (
    MacKey,
    check_activation_code,
    check_registration_key,
    encode_activation_code,
    encode_registration_key,
)
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.errors import BulkOutputExists, InvalidContractTerms
from cssec.vendor_service.models import (
    ActivationCodeRow,
    AuditEntry,
    Contract,
    ContractProduct,
    Customer,
    RegistrationKeyRow,
)
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services._bulk_codes import activation_code_texts, registration_key_texts
from cssec.vendor_service.services._bulk_db import Same, bulk_writer

FILLED = (Contract, ContractProduct, RegistrationKeyRow, ActivationCodeRow)


def _bulk(vendor: Vendor, out: Path, **kwargs: object) -> services.BulkIssued:
    options: dict[str, object] = {"count": 200, "seats": 7, "actor": "test", "out": out}
    options.update(kwargs)
    with vendor.session() as session:
        return services.issue_bulk_contracts(session, **options)  # type: ignore[arg-type]


def _counts(vendor: Vendor) -> dict[str, int]:
    with vendor.session() as session:
        counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
                  for m in (*FILLED, AuditEntry)}  # fmt: skip
    return counts


def _foreign_keys(vendor: Vendor) -> dict[str, int]:
    found = inspect(vendor.engine)
    return {m.__tablename__: len(found.get_foreign_keys(m.__tablename__)) for m in FILLED}


# --- the encoders, against core.codes (no database) -----------------------------------------


def test_batch_encoders_match_core() -> None:
    rng = random.Random(3)
    for kid in (0, 5, 31):
        key = MacKey(kid, rng.randbytes(32))
        serials = [0, 1, 2**32 - 1, *(rng.getrandbits(32) for _ in range(300))]
        seats = rng.choice([1, 65535, 25])
        expires = rng.choice([date(2000, 1, 1), date(2179, 6, 6), date(2027, 3, 31)])
        for product, prefix in ((Product.CS, "CS"), (Product.DCS, "DC")):
            texts = activation_code_texts(
                serials, code_prefix=prefix, seats=seats, expires_on=expires, key=key
            )
            assert texts == [
                encode_activation_code(
                    product=product, seats=seats, expires_on=expires, serial=s, key=key
                ).text
                for s in serials
            ]
        key_serials = [*serials, 2**36 - 1]
        assert registration_key_texts(key_serials, key=key) == [
            encode_registration_key(serial=s, key=key).text for s in key_serials
        ]
    assert activation_code_texts([], code_prefix="CS", seats=1, expires_on=expires, key=key) == []


# --- the service on SQLite and PostgreSQL ---------------------------------------------------


def test_every_key_registers_and_gets_its_codes(vendor: Vendor, tmp_path: Path) -> None:
    out = tmp_path / "batch.csv"
    before = _foreign_keys(vendor)
    seen: list[tuple[int, int]] = []
    issued = _bulk(
        vendor, out, with_dcs=True, start=date(2026, 12, 1), months=12, customer="販売店A",
        chunk_size=64, progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert issued.count == 200
    assert issued.end == date(2027, 11, 30)
    assert seen[0] == (0, 200)
    assert seen[-1] == (200, 200)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv", "vendor"]
    raw = out.read_bytes()
    assert issued.sha256 == hashlib.sha256(raw).hexdigest()
    rows = list(csv.DictReader(raw.decode().splitlines()))
    assert list(rows[0]) == [
        "registration_key", "activation_code_cs", "activation_code_dcs", "expires_on",
        "contract_id",
    ]  # fmt: skip
    assert len(rows) == 200
    assert [int(r["contract_id"]) for r in rows] == list(issued.contract_ids)
    secrets_ = vendor.keyring.mac_secrets
    for row in rows:
        assert check_registration_key(row["registration_key"], secrets_).ok
        for column, product in (("activation_code_cs", Product.CS),
                                ("activation_code_dcs", Product.DCS)):  # fmt: skip
            check = check_activation_code(row[column], secrets_, product=product)
            assert check.ok
            assert check.value is not None
            assert check.value.seats == 7
            assert check.value.expires_on == date(2027, 11, 30)
        assert row["expires_on"] == "2027-11-30"
    for i, row in enumerate(rows):
        with vendor.session() as session:
            codes = services.register_server(
                session, row["registration_key"], company="株式会社エンド", server_id=f"srv-{i}",
                contact_email="it@example.jp", actor="server",
            )  # fmt: skip
        assert [(c.product, c.activation_code) for c in codes] == [
            ("CS", row["activation_code_cs"]),
            ("DCS", row["activation_code_dcs"]),
        ]
    counts = _counts(vendor)
    assert counts["contracts"] == counts["registration_keys"] == 200
    assert counts["contract_products"] == counts["activation_codes"] == 400
    assert _foreign_keys(vendor) == before


def test_rows_read_back_like_orm_rows(vendor: Vendor, tmp_path: Path) -> None:
    one = _issue_one(vendor)
    issued = _bulk(vendor, tmp_path / "b.csv", count=3, customer="販売店B")
    after = _issue_one(vendor)
    assert list(issued.contract_ids) == [one + 1, one + 2, one + 3]
    assert after == one + 4
    with vendor.session() as session:
        contract = session.get(Contract, issued.contract_ids[0])
        assert contract is not None
        assert contract.customer.name == "販売店B"
        assert contract.created_at == START
        assert contract.updated_at == START
        assert contract.starts_on == START.date()
        assert contract.product_codes == ["CS"]
        key_row = contract.registration_key
        assert key_row is not None
        assert key_row.serial == key_row.id
        assert key_row.created_at == START
        (code,) = contract.activation_codes
        assert code.serial == code.id
        assert code.issued_at == START
        assert code.is_current
        assert code.expires_on == contract.ends_on
        assert code.kid == vendor.keyring.current_mac_key.kid
        found = services.resolve(session, services.formatted_key(key_row))
        assert found.contract.id == contract.id
        assert services.inspect_code(session, services.formatted_code(code)).verdict == "valid"
    if vendor.engine.dialect.name == "sqlite":
        with vendor.engine.connect() as conn:
            stored = conn.exec_driver_sql(
                "SELECT created_at, starts_on FROM contracts ORDER BY id"
            ).fetchall()
        assert len({tuple(len(v) for v in row) for row in stored}) == 1


def _issue_one(vendor: Vendor) -> int:
    with vendor.session() as session:
        issued = services.issue_contract(session, customer="単発", seats=3, actor="test")
    return issued.contract_id


def test_one_audit_row_with_count_and_digest(vendor: Vendor, tmp_path: Path) -> None:
    issued = _bulk(vendor, tmp_path / "a.csv", count=10, actor="cli:alice", customer="販売店C")
    with vendor.session() as session:
        (entry,) = session.scalars(select(AuditEntry))
        customer = session.scalar(select(Customer).where(Customer.name == "販売店C"))
    assert customer is not None
    assert entry.action == "contract.bulk_issued"
    assert entry.actor == "cli:alice"
    assert entry.target == f"customer:{customer.id}"
    assert entry.after is not None
    assert entry.after["count"] == 10
    assert entry.after["sha256"] == issued.sha256
    assert entry.after["contract_ids"] == [issued.contract_ids[0], issued.contract_ids[-1]]
    assert entry.after["file"] == "a.csv"
    assert "registration_key" not in str(entry.after)


def test_a_failure_mid_batch_leaves_nothing(vendor: Vendor, tmp_path: Path) -> None:
    before = _foreign_keys(vendor)
    out = tmp_path / "fail.csv"

    def progress(done: int, total: int) -> None:
        if done >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _bulk(vendor, out, chunk_size=50, progress=progress, customer="消える販売店")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vendor"]
    assert set(_counts(vendor).values()) == {0}
    with vendor.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    assert _foreign_keys(vendor) == before
    issued = _bulk(vendor, out, count=5)
    assert issued.count == 5
    assert _counts(vendor)["registration_keys"] == 5


def test_refusals_change_nothing(vendor: Vendor, tmp_path: Path) -> None:
    taken = tmp_path / "taken.csv"
    taken.write_text("earlier batch\n")
    with pytest.raises(BulkOutputExists):
        _bulk(vendor, taken)
    assert taken.read_text() == "earlier batch\n"
    for bad in ({"count": 0}, {"seats": 0}, {"months": 0}, {"customer": ""}):
        with pytest.raises(InvalidContractTerms):
            _bulk(vendor, tmp_path / "x.csv", **bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.csv", "vendor"]
    assert set(_counts(vendor).values()) == {0}


# --- CLI ------------------------------------------------------------------------------------


def test_cli_keys_bulk(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # Japanese is the default
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    out = tmp_path / "dist.csv"
    args = ["keys", "bulk", "--count", "30", "--seats", "3", "--months", "6", "--with-dcs",
            "--start", "2026-01-01", "--out", str(out),
            "--data", str(tmp_path / "vendor")]  # fmt: skip
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "contracts: 30 (ids 1..30)" in result.stdout
    assert "term: 2026-01-01 .. 2026-06-30" in result.stdout
    assert f"sha256: {hashlib.sha256(out.read_bytes()).hexdigest()}" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(out.read_text().splitlines()) == 31
    again = CliRunner().invoke(cli_app, args)
    assert again.exit_code == 1
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("error: output_exists: The output file")
    assert len(out.read_text().splitlines()) == 31


def test_writer_takes_columns_of_any_shape(vendor: Vendor) -> None:
    """Ids with gaps and texts of varying width take the general path (executemany / COPY
    of arbitrary rows); a value COPY would have to escape is refused, not mangled."""
    table = Customer.__table__
    with vendor.session() as session:
        writer = bulk_writer(session.connection())
        now = Same(writer.value(table, "created_at", START))  # type: ignore[arg-type]
        columns = {"id": [10, 12], "name": ["甲", "乙社 & co 100%"], "created_at": now}
        writer.prepare(table, 2, columns)()  # type: ignore[arg-type]
        session.commit()
        rows = session.execute(select(Customer.id, Customer.name, Customer.created_at)).all()
    assert [tuple(r) for r in rows] == [(10, "甲", START), (12, "乙社 & co 100%", START)]
    if vendor.engine.dialect.name == "postgresql":
        with vendor.session() as session:
            writer = bulk_writer(session.connection())
            with pytest.raises(ValueError, match="escaping"):
                writer.prepare(table, 1, {"id": [13], "name": ["a\tb"], "created_at": now})  # type: ignore[arg-type]
