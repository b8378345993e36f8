"""Code lineages on a real database: what revoking a code covers, and what it leaves alone."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cssec.core.errors import InvalidActivationCode
from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, OutboxMessage
from cssec.vendor_service.runtime import Vendor


def _contract(vendor: Vendor, *, dcs: bool = False) -> services.IssuedContract:
    with vendor.session() as session:
        return services.issue_contract(
            session, customer="株式会社系譜", seats=5, with_dcs=dcs, actor="test"
        )


def _reissue(vendor: Vendor, code: str) -> str:
    with vendor.session() as session:
        return services.issue_replacement_code(
            session, code, product=None, actor="test", lift_revocation=True
        )


def _rows(vendor: Vendor, codes: list[str]) -> list[ActivationCodeRow]:
    with vendor.session() as session:
        found = [services.find_activation_code(session, c)[1] for c in codes]
        session.expunge_all()
        return found


def test_reissues_chain_the_lineage_oldest_first(vendor: Vendor) -> None:
    issued = _contract(vendor, dcs=True)
    first = issued.codes["CS"]
    second = _reissue(vendor, first)
    third = _reissue(vendor, second)
    rows = _rows(vendor, [first, second, third])
    assert [r.supersedes_id for r in rows] == [None, rows[0].id, rows[1].id]
    assert {r.lineage_id for r in rows} == {rows[0].id}
    with vendor.session() as session:
        row = services.find_activation_code(session, second)[1]
        lineage = services.lineage_of(session, row)
        assert [services.formatted_code(r) for r in lineage] == [first, second, third]
        dcs = services.find_activation_code(session, issued.codes["DCS"])[1]
        assert [r.id for r in services.lineage_of(session, dcs)] == [dcs.id]


def test_preview_lists_the_code_and_what_it_superseded(vendor: Vendor) -> None:
    first = _contract(vendor).codes["CS"]
    second = _reissue(vendor, first)
    third = _reissue(vendor, second)
    with vendor.session() as session:
        services.revoke_code(session, first, actor="test", reason="漏えい")
        preview = services.revocation_preview(session, second)
    assert [c.code for c in preview.codes] == [first, second]
    assert [c.already_revoked for c in preview.codes] == [True, False]
    assert preview.target.code == second
    assert preview.target.is_target
    assert [c.code for c in preview.to_revoke] == [second]
    assert third not in {c.code for c in preview.codes}


def test_revoking_the_new_code_revokes_the_old_with_audit_and_events(vendor: Vendor) -> None:
    old = _contract(vendor).codes["CS"]
    new = _reissue(vendor, old)
    with vendor.session() as session:
        services.add_webhook_endpoint(
            session,
            url="https://hooks.example.com/cssec",
            events=["code.revoked"],
            secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
            actor="test",
        )
    with vendor.session() as session:
        done = services.revoke_code(session, new, actor="test", reason="契約解除")
    assert [c.code for c in done.codes] == [old, new]
    assert all(c.already_revoked for c in done.codes)
    old_row, new_row = _rows(vendor, [old, new])
    assert old_row.revoked_at == new_row.revoked_at is not None
    assert old_row.covered_by_id == new_row.id
    assert new_row.covered_by_id is None
    assert new_row.revoke_reason == "契約解除"
    assert old_row.revoke_reason is not None
    assert new in old_row.revoke_reason
    with vendor.session() as session:
        audits = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "code.revoked")
                .order_by(AuditEntry.id)
            )
        )
        events = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.event == "code.revoked")
                .order_by(OutboxMessage.id)
            )
        )
    assert [a.target for a in audits] == [f"code:{old_row.text}", f"code:{new_row.text}"]
    assert audits[0].after is not None
    assert audits[0].after["covered_by"] == new
    assert [e.payload["data"]["serial"] for e in events] == [old_row.serial, new_row.serial]
    assert events[0].payload["data"]["covered_by_serial"] == new_row.serial


def test_revoking_the_old_code_leaves_the_new_one_live(vendor: Vendor) -> None:
    old = _contract(vendor).codes["CS"]
    new = _reissue(vendor, old)
    with vendor.session() as session:
        done = services.revoke_code(session, old, actor="test", reason="漏えい")
        assert [c.code for c in done.codes] == [old]
        assert services.inspect_code(session, new).verdict == "valid"
        found = services.inspect_code(session, old)
    assert found.verdict == "revoked"
    assert found.covered_by is None
    assert found.superseded_by == new
    assert found.superseded_by_revoked is False


def test_inspect_names_the_covering_revocation(vendor: Vendor) -> None:
    old = _contract(vendor).codes["CS"]
    new = _reissue(vendor, old)
    with vendor.session() as session:
        live = services.inspect_code(session, old)
        assert live.verdict == "valid"
        assert live.superseded_by == new
        assert live.superseded_by_revoked is False
        services.revoke_code(session, new, actor="test", reason="契約解除")
        found = services.inspect_code(session, old)
    assert found.verdict == "revoked"
    assert found.covered_by == new
    assert found.superseded_by == new
    assert found.superseded_by_revoked is True
    assert new in found.detail["ja"]
    assert "契約解除" in found.detail["ja"]
    assert f"covered by the revocation of the newer code {new}" in found.detail["en"]


def test_revoking_a_revoked_code_again_covers_what_is_still_live(vendor: Vendor) -> None:
    """Data from before lineages: NEW revoked alone, OLD left live. Revoking NEW again
    revokes OLD (the migration never widens a revocation by itself)."""
    old = _contract(vendor).codes["CS"]
    new = _reissue(vendor, old)
    with vendor.session() as session:
        services.revoke_code(session, new, actor="test", reason="契約解除")
        row = services.find_activation_code(session, old)[1]
        row.revoked_at = None
        row.revoke_reason = None
        row.covered_by_id = None
        session.commit()
        preview = services.revocation_preview(session, new)
        assert [c.code for c in preview.to_revoke] == [old]
        services.revoke_code(session, new, actor="test", reason="再実行")
        again = services.revocation_preview(session, new)
    assert again.to_revoke == ()
    assert _rows(vendor, [old])[0].covered_by_id is not None


def test_a_registration_key_is_refused_as_such(vendor: Vendor) -> None:
    issued = _contract(vendor)
    with vendor.session() as session, pytest.raises(InvalidActivationCode) as refused:
        services.revocation_preview(session, issued.registration_key)
    assert refused.value.code == "invalid_activation_code"


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    length=st.integers(min_value=1, max_value=5),
    steps=st.lists(
        st.one_of(st.just("reissue"), st.integers(min_value=0, max_value=6)),
        min_size=1,
        max_size=5,
    ),
    registration=st.booleans(),
)
def test_revoking_code_k_revokes_exactly_codes_0_to_k(
    vendor: Vendor, length: int, steps: list[str | int], registration: bool
) -> None:
    """For random lineages (reissues, a registration after a renewal, and reissues after a
    revocation, as an admin may), each revocation of code k revokes exactly codes 0..k that
    were live; newer codes stay live; codes revoked before keep their own revocation."""
    issued = _contract(vendor)
    codes = [issued.codes["CS"]]
    for _ in range(length - 1):
        codes.append(_reissue(vendor, codes[-1]))
    if registration:
        with vendor.session() as session:
            services.renew_contract(session, issued.registration_key, months=12, actor="t")
            registered = services.register_server(
                session,
                issued.registration_key,
                company="系譜",
                contact_email="it@example.com",
                server_id="srv-1",
                actor="t",
            )
        codes.append(registered[0].activation_code)
    expected: set[int] = set()
    for step in steps:
        if step == "reissue":
            codes.append(_reissue(vendor, codes[-1]))
            continue
        k = int(step) % len(codes)
        before = {c: r.revoked_at for c, r in zip(codes, _rows(vendor, codes), strict=True)}
        with vendor.session() as session:
            done = services.revoke_code(session, codes[k], actor="t", reason="property")
        assert [c.code for c in done.codes] == codes[: k + 1]
        expected |= set(range(k + 1))
        rows = _rows(vendor, codes)
        assert {i for i, r in enumerate(rows) if r.revoked_at is not None} == expected
        for code, row in zip(codes, rows, strict=True):
            if before[code] is not None:
                assert row.revoked_at == before[code]
