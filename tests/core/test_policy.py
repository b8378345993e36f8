"""The policy table against the FAQ's lists of 制限される動作 / 制限されない動作."""

from __future__ import annotations

import pytest

from cssec.core.errors import LicenseExpired
from cssec.core.license import LicenseState
from cssec.core.policy import (
    POLICY_TABLE,
    RESTRICTED_AFTER_GRACE,
    Component,
    Decision,
    Operation,
    decide,
    distribution_operation,
)

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
LANGS = ("ja", "en")


def test_operations_are_exactly_the_faq_lists() -> None:
    assert {op.value for op in Operation} == BLOCKED_AFTER_GRACE | ALWAYS_ALLOWED
    assert not BLOCKED_AFTER_GRACE & ALWAYS_ALLOWED


def test_the_contract_spelling_names_the_same_members() -> None:
    for op in Operation:
        assert getattr(Operation, op.value) is op
        assert Operation(op.value) is op


def test_table_covers_every_pair_and_nothing_else() -> None:
    assert set(POLICY_TABLE) == set(PAIRS)
    assert len(POLICY_TABLE) == len(LicenseState) * len(Operation)


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        POLICY_TABLE[LicenseState.EXPIRED, Operation.SCAN_NOW] = None  # type: ignore[index]


@pytest.mark.parametrize(("state", "op"), PAIRS)
def test_decision(state: LicenseState, op: Operation) -> None:
    decision = decide(state, op)
    assert decision is POLICY_TABLE[state, op]
    assert (decision.state, decision.operation) == (state, op)
    lapsed = state in (LicenseState.EXPIRED, LicenseState.REVOKED)
    blocked = lapsed and op.value in BLOCKED_AFTER_GRACE
    assert decision.allowed is not blocked
    assert decision.reason == ("license_expired" if blocked else "allowed")
    for lang in LANGS:
        assert decision.message[lang].strip()
        assert op.label(lang) in decision.message[lang]
        assert decision.message_in(lang) == decision.message[lang]
        assert decision.remedy_in(lang) == decision.remedy[lang]


@pytest.mark.parametrize("op", list(Operation))
@pytest.mark.parametrize("state", [LicenseState.ACTIVATED, LicenseState.GRACE_PERIOD])
def test_everything_is_allowed_before_the_grace_period_ends(
    state: LicenseState, op: Operation
) -> None:
    decision = decide(state, op)
    assert decision.allowed
    decision.raise_if_refused()


def test_a_revoked_code_refuses_what_expiry_refuses_and_says_why() -> None:
    """A revocation stops exactly what the end of grace stops, and everything the FAQ keeps
    working after expiry keeps working; the refusal names the revocation, not an expiry."""
    blocked = {op.value for op in Operation if not decide(LicenseState.REVOKED, op).allowed}
    assert blocked == BLOCKED_AFTER_GRACE
    refusal = decide(LicenseState.REVOKED, Operation.CLIENT_MANUAL_UPDATE)
    assert "失効" in refusal.message["ja"]
    assert "revoked" in refusal.message["en"]
    assert "法人お問合せ窓口" in refusal.remedy["ja"]
    assert "ご契約を更新" not in refusal.remedy["ja"]
    assert LicenseState.REVOKED.label("ja") == "失効"


def test_exact_blocked_set_after_grace() -> None:
    blocked = {op.value for op in Operation if not decide(LicenseState.EXPIRED, op).allowed}
    assert blocked == BLOCKED_AFTER_GRACE
    assert {op.value for op in RESTRICTED_AFTER_GRACE} == BLOCKED_AFTER_GRACE


@pytest.mark.parametrize("op", sorted(RESTRICTED_AFTER_GRACE))
def test_refusal_names_the_way_out(op: Operation) -> None:
    remedy = decide(LicenseState.EXPIRED, op).remedy
    assert "ご契約を更新" in remedy["ja"]
    assert "[運用管理] → [製品ライセンス] → [新規入力]" in remedy["ja"]
    assert "ステータスをオンラインで確認" in remedy["ja"]
    assert "Renew the contract" in remedy["en"]
    assert "Administration → Product License → Enter new code" in remedy["en"]
    assert "Check status online" in remedy["en"]


def test_grace_period_warns_to_renew_soon() -> None:
    for op in Operation:
        remedy = decide(LicenseState.GRACE_PERIOD, op).remedy
        assert "更新猶予期間" in remedy["ja"]
        assert "grace period" in remedy["en"]
        assert "Check status online" in remedy["en"]


def test_activated_needs_no_remedy() -> None:
    for op in Operation:
        assert decide(LicenseState.ACTIVATED, op).remedy == {"ja": "", "en": ""}


def test_expired_but_allowed_still_urges_renewal() -> None:
    for op in Operation:
        decision = decide(LicenseState.EXPIRED, op)
        if decision.allowed:
            assert "Renew the contract" in decision.remedy["en"]


@pytest.mark.parametrize("op", sorted(RESTRICTED_AFTER_GRACE))
def test_raise_if_refused(op: Operation) -> None:
    decision = decide(LicenseState.EXPIRED, op)
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


def test_license_expired_without_an_operation_reads_well() -> None:
    error = LicenseExpired()
    for lang in LANGS:
        assert "{" not in error.message(lang)
        assert error.message(lang).strip()


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
        decide("expired", "format_disk")  # type: ignore[arg-type]


def test_plain_strings_find_the_same_decision() -> None:
    # StrEnum members hash like their values, so a state read back from the database
    # as a plain string decides the same way.
    decision = decide("expired", "scan_now")  # type: ignore[arg-type]
    assert decision == decide(LicenseState.EXPIRED, Operation.SCAN_NOW)
    assert isinstance(decision, Decision)
