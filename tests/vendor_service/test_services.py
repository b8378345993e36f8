"""Services on a real database: contracts, renewals, replacements, revocation, inspection, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cssec.core.clock import FakeClock
from cssec.core.codes import (
    MacKey,
    encode_activation_code,
    encode_registration_key,
    parse_activation_code,
)
from cssec.core.errors import (
    InvalidActivationCode,
    InvalidRegistrationKey,
    UnknownRegistrationKey,
)
from cssec.core.license import Product
from cssec.vendor_service import services
from cssec.vendor_service.errors import InvalidContractTerms, ProductNotInContract, UserExists
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, Contract, ProductRow, User
from cssec.vendor_service.runtime import Vendor


def _issue(vendor: Vendor, **kwargs: object) -> services.IssuedContract:
    options: dict[str, object] = {"customer": "株式会社サンプル", "seats": 25, "actor": "test"}
    options.update(kwargs)
    with vendor.session() as session:
        return services.issue_contract(session, **options)  # type: ignore[arg-type]


def _actions(vendor: Vendor) -> list[str]:
    with vendor.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_catalog_is_seeded_by_the_migration(vendor: Vendor) -> None:
    with vendor.session() as session:
        rows = {p.code: p for p in session.scalars(select(ProductRow))}
    assert set(rows) == {"CS", "DCS"}
    assert rows["CS"].code_prefix == "CS"
    assert rows["DCS"].code_prefix == "DC"
    assert rows["DCS"].name_ja == "ウイルス感染復旧サービス"
    assert rows["DCS"].name_en == "Damage Cleanup Services"
    assert all(r.version_type == "full" and r.default_grace_days == 30 for r in rows.values())


def test_issue_contract_returns_key_and_codes_with_the_term(vendor: Vendor) -> None:
    issued = _issue(vendor, with_dcs=True, months=12, start=date(2026, 12, 1))
    assert issued.end == date(2027, 11, 30)
    assert len(issued.registration_key) == 22
    assert set(issued.codes) == {"CS", "DCS"}
    cs = parse_activation_code(issued.codes["CS"]).value
    dcs = parse_activation_code(issued.codes["DCS"]).value
    assert cs is not None
    assert dcs is not None
    assert cs.product is Product.CS
    assert dcs.product is Product.DCS
    assert cs.expires_on == issued.end
    assert cs.seats == 25
    assert cs.serial != dcs.serial
    assert _actions(vendor) == ["contract.created"]


def test_default_start_is_today_utc(vendor: Vendor, clock: FakeClock) -> None:
    issued = _issue(vendor)
    assert issued.start == clock.now().date()


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2024, 2, 29), 12, date(2025, 2, 27)),
        (date(2026, 3, 15), 1, date(2026, 4, 14)),
    ],
)
def test_term_end(start: date, months: int, end: date) -> None:
    assert services.term_end(start, months) == end


@pytest.mark.parametrize(
    "kwargs",
    [{"seats": 0}, {"seats": 70000}, {"months": 0}, {"months": 121}, {"customer": "  "},
     {"start": date(1999, 1, 1)}],
)  # fmt: skip
def test_bad_terms_are_refused(vendor: Vendor, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidContractTerms):
        _issue(vendor, **kwargs)
    assert _actions(vendor) == []


def test_customer_is_reused_by_name(vendor: Vendor) -> None:
    first = _issue(vendor)
    second = _issue(vendor)
    with vendor.session() as session:
        a = session.get(Contract, first.contract_id)
        b = session.get(Contract, second.contract_id)
        assert a is not None
        assert b is not None
        assert a.customer_id == b.customer_id


def test_renew_moves_the_end_from_the_current_end(vendor: Vendor) -> None:
    issued = _issue(vendor, start=date(2026, 1, 1))
    with vendor.session() as session:
        renewed = services.renew_contract(session, issued.registration_key, actor="t")
    assert (renewed.previous_end, renewed.end) == (date(2026, 12, 31), date(2027, 12, 31))
    with vendor.session() as session:
        again = services.renew_contract(session, issued.codes["CS"], months=6, actor="t")
    assert again.end == date(2028, 6, 30)
    with vendor.session() as session:
        by_id = services.renew_contract(session, issued.contract_id, months=1, actor="t")
    assert by_id.end == date(2028, 7, 31)
    assert _actions(vendor).count("contract.renewed") == 3


def test_reissue_carries_the_current_end_and_replaces(vendor: Vendor) -> None:
    issued = _issue(vendor, start=date(2026, 1, 1), with_dcs=True)
    with vendor.session() as session:
        services.renew_contract(session, issued.registration_key, actor="t")
        new = services.issue_replacement_code(session, issued.codes["DCS"], product=None, actor="t")
    parsed = parse_activation_code(new).value
    assert parsed is not None
    assert parsed.product is Product.DCS
    assert parsed.expires_on == date(2027, 12, 31)
    with vendor.session() as session:
        old = services.inspect_code(session, issued.codes["DCS"])
    assert old.verdict == "valid"
    assert old.replaced_by == new
    assert _actions(vendor)[-1] == "code.reissued"


def test_reissue_refuses_a_product_not_bought(vendor: Vendor) -> None:
    issued = _issue(vendor)
    with vendor.session() as session, pytest.raises(ProductNotInContract):
        services.issue_replacement_code(session, issued.registration_key, product="DCS", actor="t")


def test_revoke_is_audited_once(vendor: Vendor, clock: FakeClock) -> None:
    issued = _issue(vendor)
    with vendor.session() as session:
        services.revoke_code(session, issued.codes["CS"], actor="t", reason="leaked")
        services.revoke_code(session, issued.codes["CS"], actor="t", reason="again")
        found = services.inspect_code(session, issued.codes["CS"])
    assert found.verdict == "revoked"
    assert found.revoke_reason == "leaked"
    assert found.revoked_at == clock.now()
    assert "leaked" in found.detail["en"]
    assert _actions(vendor).count("code.revoked") == 1


def test_inspect_tells_typo_forgery_unissued_and_expiry(vendor: Vendor, clock: FakeClock) -> None:
    issued = _issue(vendor, start=date(2026, 1, 1))
    code = issued.codes["CS"]
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    foreign = encode_activation_code(
        product=Product.CS, seats=5, expires_on=date(2027, 1, 1), serial=77,
        key=MacKey(1, b"x" * 32),
    )  # fmt: skip
    with vendor.session() as session:
        ours = encode_activation_code(
            product=Product.CS, seats=5, expires_on=date(2027, 1, 1), serial=999,
            key=vendor.keyring.current_mac_key,
        )  # fmt: skip
        assert services.inspect_code(session, code).verdict == "valid"
        bad = services.inspect_code(session, typo)
        assert (bad.verdict, bad.reason) == ("invalid", "check_failed")
        hash_char = services.inspect_code(session, code[:5] + "#" + code[6:])
        assert (hash_char.reason, hash_char.position) == ("bad_character", 6)
        assert services.inspect_code(session, foreign.formatted).reason == "mac_failed"
        assert services.inspect_code(session, ours.formatted).reason == "not_issued"
        assert services.inspect_code(session, "").verdict == "invalid"
    clock.set(clock.now().replace(year=2027, month=2, day=1))
    with vendor.session() as session:
        expired = services.inspect_code(session, code)
    assert expired.verdict == "expired"
    assert expired.contract_state == "expired"


def test_resolve_errors(vendor: Vendor) -> None:
    issued = _issue(vendor)
    key = issued.registration_key
    unissued = encode_registration_key(serial=4242, key=vendor.keyring.current_mac_key)
    with vendor.session() as session:
        with pytest.raises(InvalidRegistrationKey):
            services.renew_contract(session, key[:-1] + ("0" if key[-1] != "0" else "1"), actor="t")
        with pytest.raises(UnknownRegistrationKey):
            services.renew_contract(session, unissued.formatted, actor="t")
        with pytest.raises(InvalidActivationCode):
            services.renew_contract(session, "CS-" + "0" * 29, actor="t")


def test_rotation_keeps_old_codes_valid_and_issues_under_the_new_key(vendor: Vendor) -> None:
    old = _issue(vendor)
    with vendor.session() as session:
        mac_kid, _signing = services.rotate_keys(session, actor="t")
    assert mac_kid == 2
    new = _issue(vendor)
    with vendor.session() as session:
        assert services.inspect_code(session, old.codes["CS"]).verdict == "valid"
        fresh = services.inspect_code(session, new.codes["CS"])
        assert fresh.verdict == "valid"
        assert fresh.kid == 2
        assert services.inspect_code(session, old.registration_key).verdict == "valid"
    assert "key.rotated" in _actions(vendor)


def test_add_user_hashes_and_refuses_duplicates(vendor: Vendor) -> None:
    with vendor.session() as session:
        services.add_user(session, name="alice", password="correct horse", role="admin", actor="t")
        with pytest.raises(UserExists):
            services.add_user(session, name="alice", password="another one!", actor="t")
        user = session.scalar(select(User).where(User.name == "alice"))
    assert user is not None
    assert user.password_hash.startswith("$argon2")
    assert user.role == "admin"
    assert user.failed_logins == 0
    assert user.locked_until is None


def test_search_contracts(vendor: Vendor) -> None:
    issued = _issue(vendor, customer="Example 100% K.K.")
    _issue(vendor, customer="Other")
    with vendor.session() as session:
        by_key = services.search_contracts(session, issued.registration_key.lower())
        by_code = services.search_contracts(session, issued.codes["CS"].replace("-", ""))
        by_name = services.search_contracts(session, "100%")
        assert services.search_contracts(session, "_") == []
    assert [c.id for c in by_key] == [c.id for c in by_code] == [c.id for c in by_name]


def test_serials_are_row_ids(vendor: Vendor) -> None:
    _issue(vendor, with_dcs=True)
    with vendor.session() as session:
        rows = list(session.scalars(select(ActivationCodeRow)))
    assert all(r.serial == r.id for r in rows)


def test_clock_moves_issue_times(vendor: Vendor, clock: FakeClock) -> None:
    clock.advance(timedelta(days=3))
    issued = _issue(vendor)
    with vendor.session() as session:
        row = session.scalar(select(ActivationCodeRow))
    assert row is not None
    assert row.issued_at == clock.now()
    assert issued.start == clock.now().date()
