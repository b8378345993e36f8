"""License state: inclusive calendar days, activated → grace_period → expired."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssec.core.license import (
    DEFAULT_GRACE_DAYS,
    LicenseState,
    Product,
    VersionType,
    grace_end,
    license_state,
    slot_license_state,
)

EXPIRY = date(2025, 6, 30)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2024, 7, 1), LicenseState.ACTIVATED),
        (EXPIRY - timedelta(days=1), LicenseState.ACTIVATED),
        (EXPIRY, LicenseState.ACTIVATED),
        (EXPIRY + timedelta(days=1), LicenseState.GRACE_PERIOD),
        (EXPIRY + timedelta(days=30), LicenseState.GRACE_PERIOD),
        (EXPIRY + timedelta(days=31), LicenseState.EXPIRED),
        (date(2030, 1, 1), LicenseState.EXPIRED),
    ],
)
def test_boundaries(today: date, state: LicenseState) -> None:
    assert license_state(EXPIRY, DEFAULT_GRACE_DAYS, today) is state


def test_default_grace_is_thirty_days() -> None:
    assert DEFAULT_GRACE_DAYS == 30
    assert grace_end(EXPIRY, DEFAULT_GRACE_DAYS) == date(2025, 7, 30)


def test_zero_grace_expires_the_day_after() -> None:
    assert license_state(EXPIRY, 0, EXPIRY) is LicenseState.ACTIVATED
    assert license_state(EXPIRY, 0, EXPIRY + timedelta(days=1)) is LicenseState.EXPIRED


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        grace_end(EXPIRY, -1)
    with pytest.raises(ValueError, match="negative"):
        license_state(EXPIRY, -1, EXPIRY + timedelta(days=5))


@given(
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    grace=st.integers(0, 365),
    offset=st.integers(-1000, 1000),
)
def test_state_matches_the_definition(expiry: date, grace: int, offset: int) -> None:
    today = expiry + timedelta(days=offset)
    state = license_state(expiry, grace, today)
    if offset <= 0:
        assert state is LicenseState.ACTIVATED
    elif offset <= grace:
        assert state is LicenseState.GRACE_PERIOD
    else:
        assert state is LicenseState.EXPIRED


@given(
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    grace=st.integers(0, 365),
    a=st.integers(-500, 500),
    b=st.integers(-500, 500),
)
def test_state_never_goes_back_as_days_pass(expiry: date, grace: int, a: int, b: int) -> None:
    order = list(LicenseState)
    early, late = sorted((a, b))
    s1 = license_state(expiry, grace, expiry + timedelta(days=early))
    s2 = license_state(expiry, grace, expiry + timedelta(days=late))
    assert order.index(s1) <= order.index(s2)


def test_labels_match_the_faq() -> None:
    assert LicenseState.ACTIVATED.label("ja") == "アクティベート済み"
    assert LicenseState.GRACE_PERIOD.label("ja") == "更新猶予期間"
    assert LicenseState.EXPIRED.label("ja") == "契約期間終了"
    assert LicenseState.ACTIVATED.label("en") == "Activated"
    assert LicenseState.GRACE_PERIOD.label("en-GB") == "Grace period"
    assert LicenseState.EXPIRED.label("en") == "Expired"
    assert VersionType.FULL.label("ja") == "製品版"
    assert Product.DCS.name_in("ja") == "ウイルス感染復旧サービス"
    assert Product.DCS.name_in("en") == "Damage Cleanup Services"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_label_exists(lang: str) -> None:
    for state in LicenseState:
        assert state.label(lang)
    for product in Product:
        assert product.name_in(lang)
    for version_type in VersionType:
        assert version_type.label(lang)


def test_values_are_the_wire_values() -> None:
    assert [s.value for s in LicenseState] == [
        "activated",
        "grace_period",
        "expired",
        "revoked",
        "rejected",
        "unconfirmed",
    ]
    assert [p.value for p in Product] == ["CS", "DCS"]


D = date(2027, 3, 31)


@pytest.mark.parametrize(
    ("today", "revoked", "rejected", "confirmed", "expected"),
    [
        (D, True, True, False, LicenseState.REVOKED),
        (D, False, True, True, LicenseState.REJECTED),
        (D + timedelta(days=400), False, True, True, LicenseState.REJECTED),
        (D + timedelta(days=31), False, False, False, LicenseState.EXPIRED),
        (D + timedelta(days=1), False, False, False, LicenseState.GRACE_PERIOD),
        (D, False, False, False, LicenseState.UNCONFIRMED),
        (D, False, False, True, LicenseState.ACTIVATED),
    ],
)
def test_slot_state_precedence(
    today: date, revoked: bool, rejected: bool, confirmed: bool, expected: LicenseState
) -> None:
    """revoked > rejected > expired > grace_period > unconfirmed > activated: the dates win
    over "unconfirmed", which replaces only "activated"."""
    state = slot_license_state(
        D, 30, today, revoked=revoked, rejected=rejected, confirmed=confirmed
    )
    assert state is expected


def test_new_state_labels() -> None:
    assert LicenseState.REJECTED.label("ja") == "無効（ライセンスサーバの回答）"
    assert LicenseState.REJECTED.label("en") == "Refused by the license server"
    assert "未確認" in LicenseState.UNCONFIRMED.label("ja")
