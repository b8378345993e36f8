"""The policy table against the FAQ's lists of 制限される動作 / 制限されない動作."""

from __future__ import annotations

import pytest

from cssec.core.errors import LicenseExpired, LicenseRejected, LicenseRevoked
from cssec.core.license import LicenseState, Product
from cssec.core.policy import (
    GOVERNED,
    POLICY_TABLE,
    RESTRICTED_AFTER_GRACE,
    Component,
    Decision,
    Operation,
    decide,
    decide_all,
    distribution_operation,
    stopped_operations,
)

CS = Product.CS
DCS = Product.DCS

# Written out by hand from the FAQ rather than derived from the module under test.
BLOCKED_AFTER_GRACE = {
    "distribute_virus_pattern",
    "distribute_damage_cleanup_template",
    "distribute_spyware_pattern",
    "distribute_scan_engine",
    "client_manual_update",
    "activeupdate_download",
}
ALWAYS_ALLOWED = {
    "damage_cleanup_run",
    "realtime_scan",
    "scan_now",
    "client_install_web",
    "client_install_remote",
    "client_install_autopcc",
    "webmanager_view",
    "log_append_virus",
    "log_append_update_server",
    "log_append_update_client",
    "log_append_system_event",
    "log_append_connection_status",
    "log_settings_change",
    "outbreak_monitor",
    "outbreak_prevention_set",
    "outbreak_prevention_deploy",
    "outbreak_prevention_release",
}
PAIRS = [(state, op) for state in LicenseState for op in Operation]
TRIPLES = [
    (product, state, op) for product in Product for state in LicenseState for op in Operation
]
LAPSED = {LicenseState.EXPIRED, LicenseState.REVOKED, LicenseState.REJECTED}
REASONS = {
    LicenseState.EXPIRED: "license_expired",
    LicenseState.REVOKED: "license_revoked",
    LicenseState.REJECTED: "license_rejected",
}
# Damage Cleanup Services' license governs only handing its template to clients: the FAQ
# lists running the cleanup among what keeps working after a lapse.
DCS_GOVERNS = {"distribute_damage_cleanup_template"}
LANGS = ("ja", "en")


def test_operations_are_exactly_the_faq_lists() -> None:
    assert {op.value for op in Operation} == BLOCKED_AFTER_GRACE | ALWAYS_ALLOWED
    assert not BLOCKED_AFTER_GRACE & ALWAYS_ALLOWED


def test_the_contract_spelling_names_the_same_members() -> None:
    for op in Operation:
        assert getattr(Operation, op.value) is op
        assert Operation(op.value) is op


def test_table_covers_every_triple_and_nothing_else() -> None:
    assert set(POLICY_TABLE) == set(TRIPLES)
    assert len(POLICY_TABLE) == len(Product) * len(LicenseState) * len(Operation)


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        POLICY_TABLE[CS, LicenseState.EXPIRED, Operation.SCAN_NOW] = None  # type: ignore[index]


@pytest.mark.parametrize(("product", "state", "op"), TRIPLES)
def test_decision(product: Product, state: LicenseState, op: Operation) -> None:
    decision = decide(product, state, op)
    assert decision is POLICY_TABLE[product, state, op]
    assert (decision.product, decision.state, decision.operation) == (product, state, op)
    governs = BLOCKED_AFTER_GRACE if product is CS else DCS_GOVERNS
    blocked = state in LAPSED and op.value in governs
    assert decision.allowed is not blocked
    assert decision.reason == (REASONS[state] if blocked else "allowed")
    assert {o.value for o in GOVERNED[product]} == governs
    for lang in LANGS:
        assert decision.message[lang].strip()
        assert op.label(lang) in decision.message[lang]
        assert decision.message_in(lang) == decision.message[lang]
        assert decision.remedy_in(lang) == decision.remedy[lang]


@pytest.mark.parametrize("op", list(Operation))
@pytest.mark.parametrize(
    "state", [LicenseState.ACTIVATED, LicenseState.UNCONFIRMED, LicenseState.GRACE_PERIOD]
)
def test_everything_is_allowed_before_the_grace_period_ends(
    state: LicenseState, op: Operation
) -> None:
    """Unconfirmed refuses nothing: the FAQ's offline activation stays as it was."""
    decision = decide(CS, state, op)
    assert decision.allowed
    decision.raise_if_refused()


def test_a_revoked_code_refuses_what_expiry_refuses_and_says_why() -> None:
    """A revocation stops exactly what the end of grace stops, and everything the FAQ keeps
    working after expiry keeps working; the refusal names the revocation, not an expiry."""
    blocked = {op.value for op in Operation if not decide(CS, LicenseState.REVOKED, op).allowed}
    assert blocked == BLOCKED_AFTER_GRACE
    refusal = decide(CS, LicenseState.REVOKED, Operation.CLIENT_MANUAL_UPDATE)
    assert "失効" in refusal.message["ja"]
    assert "revoked" in refusal.message["en"]
    assert "法人お問合せ窓口" in refusal.remedy["ja"]
    assert "ご契約を更新" not in refusal.remedy["ja"]
    assert LicenseState.REVOKED.label("ja") == "失効"


@pytest.mark.parametrize("product", list(Product))
@pytest.mark.parametrize(
    ("state", "cls", "word_ja", "word_en"),
    [
        (LicenseState.REVOKED, LicenseRevoked, "失効", "revoked"),
        (LicenseState.REJECTED, LicenseRejected, "無効", "not valid"),
    ],
)
def test_revoked_and_rejected_refusals_name_themselves_never_expiry(
    product: Product, state: LicenseState, cls: type[LicenseExpired], word_ja: str, word_en: str
) -> None:
    """Reproduction 5: a revoked (or refused) license's refusals say so, and the way out is
    the support desk and a new code the license server confirms, never "renew"/"expired"."""
    for op in stopped_operations(product, state):
        with pytest.raises(cls) as caught:
            decide(product, state, op).raise_if_refused()
        error = caught.value
        assert error.code == REASONS[state]
        ja, en = error.message("ja"), error.message("en")
        assert word_ja in ja
        assert word_en in en
        assert product.name_in("ja") in ja
        assert product.name_in("en") in en
        assert "法人お問合せ窓口" in ja
        assert "confirms" in en
        for expiry in ("有効期限", "猶予期間", "期限切れ", "契約期間終了"):
            assert expiry not in ja
        for expiry in ("expired", "expiry", "grace"):
            assert expiry not in en.lower()


def test_dcs_lapse_never_refuses_a_cs_operation() -> None:
    for state in LAPSED:
        assert stopped_operations(DCS, state) == [Operation.DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE]
        both = {CS: LicenseState.ACTIVATED, DCS: state}
        for op in Operation:
            decision = decide_all(both, op)
            if op is Operation.DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE:
                assert not decision.allowed
                assert decision.product is DCS
            else:
                assert decision.allowed, op


def test_decide_all_names_cs_first_and_needs_a_cs_slot() -> None:
    both = {CS: LicenseState.REVOKED, DCS: LicenseState.EXPIRED}
    refusal = decide_all(both, Operation.DISTRIBUTE_DAMAGE_CLEANUP_TEMPLATE)
    assert (refusal.product, refusal.reason) == (CS, "license_revoked")
    assert not decide_all({}, Operation.CLIENT_MANUAL_UPDATE).allowed
    assert decide_all({}, Operation.SCAN_NOW).allowed


def test_exact_blocked_set_after_grace() -> None:
    blocked = {op.value for op in Operation if not decide(CS, LicenseState.EXPIRED, op).allowed}
    assert blocked == BLOCKED_AFTER_GRACE
    assert {op.value for op in RESTRICTED_AFTER_GRACE} == BLOCKED_AFTER_GRACE


@pytest.mark.parametrize("op", sorted(RESTRICTED_AFTER_GRACE))
def test_refusal_names_the_way_out(op: Operation) -> None:
    remedy = decide(CS, LicenseState.EXPIRED, op).remedy
    assert "ご契約を更新" in remedy["ja"]
    assert "[運用管理] → [製品ライセンス] → [新規入力]" in remedy["ja"]
    assert "ステータスをオンラインで確認" in remedy["ja"]
    assert "Renew the contract" in remedy["en"]
    assert "Administration → Product License → Enter new code" in remedy["en"]
    assert "Check status online" in remedy["en"]


def test_grace_period_warns_to_renew_soon() -> None:
    for op in Operation:
        remedy = decide(CS, LicenseState.GRACE_PERIOD, op).remedy
        assert "更新猶予期間" in remedy["ja"]
        assert "grace period" in remedy["en"]
        assert "Check status online" in remedy["en"]


def test_activated_needs_no_remedy() -> None:
    for op in Operation:
        assert decide(CS, LicenseState.ACTIVATED, op).remedy == {"ja": "", "en": ""}


def test_expired_but_allowed_still_urges_renewal() -> None:
    for op in Operation:
        decision = decide(CS, LicenseState.EXPIRED, op)
        if decision.allowed:
            assert "Renew the contract" in decision.remedy["en"]


@pytest.mark.parametrize("op", sorted(RESTRICTED_AFTER_GRACE))
def test_raise_if_refused(op: Operation) -> None:
    decision = decide(CS, LicenseState.EXPIRED, op)
    with pytest.raises(LicenseExpired) as caught:
        decision.raise_if_refused()
    error = caught.value
    assert error.code == "license_expired"
    assert error.status == 403
    assert error.fields["operation"] == op.value
    assert error.fields["reason"] == decision.message
    assert op.label("ja") in error.message("ja")
    assert op.label("en") in error.message("en")
    assert "新規入力" in error.message("ja")
    assert "Check status online" in error.message("en")
    body = error.to_dict("en")
    assert body["code"] == "license_expired"
    assert body["operation"] == op.value


@pytest.mark.parametrize("cls", [LicenseExpired, LicenseRevoked, LicenseRejected])
def test_license_refusals_without_an_operation_read_well(cls: type[LicenseExpired]) -> None:
    error = cls()
    for lang in LANGS:
        assert "{" not in error.message(lang)
        assert error.message(lang).strip()
    # Named but without the product (an older server's body): still no braces.
    named = cls(operation_ja="配信", operation_en="Distributing")
    for lang in LANGS:
        assert "{" not in named.message(lang)


def test_labels_are_distinct_and_non_empty() -> None:
    for lang in LANGS:
        labels = [op.label(lang) for op in Operation]
        assert all(label.strip() for label in labels)
        assert len(set(labels)) == len(labels)
        components = [c.label(lang) for c in Component]
        assert all(components)
        assert len(set(components)) == len(components)
    assert Operation.SCAN_NOW.label("en-US") == Operation.SCAN_NOW.label("en")
    assert Operation.SCAN_NOW.label("fr") == Operation.SCAN_NOW.label("ja")


def test_each_component_has_its_distribution_operation() -> None:
    ops = {distribution_operation(c) for c in Component}
    assert len(ops) == len(Component)
    assert ops < RESTRICTED_AFTER_GRACE
    for component in Component:
        op = distribution_operation(component)
        assert op.value == f"distribute_{component.value}"
        for lang in LANGS:
            assert component.label(lang) in op.label(lang)


def test_unknown_pair_fails_loudly() -> None:
    with pytest.raises(KeyError):
        decide(CS, "expired", "format_disk")  # type: ignore[arg-type]


def test_plain_strings_find_the_same_decision() -> None:
    # StrEnum members hash like their values, so a state read back from the database
    # as a plain string decides the same way.
    decision = decide("CS", "expired", "scan_now")  # type: ignore[arg-type]
    assert decision == decide(CS, LicenseState.EXPIRED, Operation.SCAN_NOW)
    assert isinstance(decision, Decision)
