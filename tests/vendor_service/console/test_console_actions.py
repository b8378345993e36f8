"""Console actions over HTTP: each is confirmed, changes the database once, and is audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import ADMIN, STAFF, token, vendor_of

from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, Contract


def _contract(app: FastAPI, contract_id: int) -> Contract:
    with vendor_of(app).session() as session:
        found = session.get(Contract, contract_id)
        assert found is not None
        return found


def _audit(app: FastAPI, action: str) -> list[AuditEntry]:
    with vendor_of(app).session() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(session.scalars(query))


def test_renew_form_confirm_done(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    cid = contract.contract_id
    url = f"/console/contracts/{cid}/renew"
    assert admin.get(url).status_code == 200
    csrf = token(admin, url)
    confirm = admin.post(url, data={"csrf_token": csrf, "months": "12"})
    assert confirm.status_code == 200
    assert 'data-testid="confirm"' in confirm.text
    new_end = services.term_end(contract.end + timedelta(days=1), 12)
    assert contract.end.isoformat() in confirm.text
    assert f'data-testid="new-end">{new_end.isoformat()}<' in confirm.text
    assert _contract(app, cid).ends_on == contract.end  # nothing changed yet

    done = admin.post(
        url,
        data={
            "csrf_token": csrf,
            "months": "12",
            "expected_end": contract.end.isoformat(),
            "confirm": "yes",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/contracts/{cid}"
    renewed_end = _contract(app, cid).ends_on
    assert renewed_end == new_end
    page = admin.get(done.headers["location"])
    assert "契約を更新しました" in page.text
    assert renewed_end.isoformat() in page.text
    entry = _audit(app, "contract.renewed")[-1]
    assert entry.actor == f"console:{ADMIN[0]}"
    assert entry.target == f"contract:{cid}"
    assert entry.before == {"end": contract.end.isoformat()}
    assert entry.after is not None
    assert entry.after["end"] == renewed_end.isoformat()
    # A reload of the confirmation (same expected_end) does not renew twice.
    again = admin.post(
        url,
        data={
            "csrf_token": csrf,
            "months": "12",
            "expected_end": contract.end.isoformat(),
            "confirm": "yes",
        },
    )
    assert "確認中に契約が変更されました" in again.text
    assert _contract(app, cid).ends_on == renewed_end
    assert len(_audit(app, "contract.renewed")) == 1


def test_renew_rejects_bad_months_and_bad_csrf(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    url = f"/console/contracts/{contract.contract_id}/renew"
    csrf = token(admin, url)
    bad = admin.post(url, data={"csrf_token": csrf, "months": "0"})
    assert bad.status_code == 422
    assert "1〜120の数字を入力してください" in bad.text
    forged = admin.post(
        url,
        data={
            "csrf_token": "x" * 43,
            "months": "12",
            "expected_end": contract.end.isoformat(),
            "confirm": "yes",
        },
    )
    assert forged.status_code == 403
    assert _contract(app, contract.contract_id).ends_on == contract.end
    assert _audit(app, "contract.renewed") == []


def test_staff_reissues_a_code(
    app: FastAPI, staff: TestClient, contract: services.IssuedContract
) -> None:
    cid = contract.contract_id
    url = f"/console/contracts/{cid}/reissue"
    csrf = token(staff, url)
    confirm = staff.post(url, data={"csrf_token": csrf, "product": "DCS"})
    assert 'data-testid="confirm"' in confirm.text
    assert contract.codes["DCS"] in confirm.text
    done = staff.post(url, data={"csrf_token": csrf, "product": "DCS", "confirm": "yes"})
    assert done.status_code == 200
    with vendor_of(app).session() as session:
        rows = session.scalars(
            select(ActivationCodeRow).where(
                ActivationCodeRow.contract_id == cid, ActivationCodeRow.product == "DCS"
            )
        ).all()
        assert len(rows) == 2
        new = services.formatted_code(max(rows, key=lambda r: r.id))
    assert new in done.text  # shown in the flash, ready to copy
    assert "置き換え済み" in done.text
    entry = _audit(app, "code.reissued")[-1]
    assert entry.actor == f"console:{STAFF[0]}"
    assert entry.after is not None
    assert entry.after["code"] == new
    wrong = staff.post(url, data={"csrf_token": csrf, "product": "XX", "confirm": "yes"})
    assert wrong.status_code == 422


def test_staff_cannot_undo_a_revocation_by_reissuing(
    app: FastAPI, staff: TestClient, admin: TestClient, contract: services.IssuedContract
) -> None:
    """Staff may reissue, but not for a revoked product: a fresh code would undo what only
    an admin may decide. The refusal says why; an admin can still lift it."""
    with vendor_of(app).session() as session:
        services.revoke_code(session, contract.codes["CS"], actor="test", reason="不正利用")
    cid = contract.contract_id
    url = f"/console/contracts/{cid}/reissue"
    csrf = token(staff, url)
    # The confirmation says so before anything is pressed, and offers staff no button.
    review = staff.post(url, data={"csrf_token": csrf, "product": "CS"})
    assert "失効の取り消しにあたるため、管理者のみ" in review.text
    assert "製品「C/S Sec.」" in review.text  # the product named, not 「CS」
    assert 'data-testid="lifts-revocation"' in review.text
    assert "不正利用" in review.text  # the reason of the revocation it would undo
    assert 'data-testid="confirm-button"' not in review.text
    refused = staff.post(url, data={"csrf_token": csrf, "product": "CS", "confirm": "yes"})
    assert refused.status_code == 403
    assert "失効の取り消しにあたるため、管理者のみ" in refused.text
    assert _audit(app, "code.reissued") == []
    with vendor_of(app).session() as session:
        current = session.scalars(
            select(ActivationCodeRow).where(
                ActivationCodeRow.contract_id == cid,
                ActivationCodeRow.product == "CS",
                ActivationCodeRow.revoked_at.is_(None),
            )
        ).all()
        assert current == []
    # Another product of the same contract is not affected.
    other = staff.post(url, data={"csrf_token": csrf, "product": "DCS", "confirm": "yes"})
    assert other.status_code == 200
    csrf = token(admin, url)
    review = admin.post(url, data={"csrf_token": csrf, "product": "CS"})
    assert "新しいコードを発行すると失効を取り消すことになり" in review.text
    assert 'data-testid="lift"' in review.text
    # An admin lifts a revocation only by ticking that box, never by the usual button alone.
    unticked = admin.post(url, data={"csrf_token": csrf, "product": "CS", "confirm": "yes"})
    assert unticked.status_code == 422
    assert "チェックボックスをオンに" in unticked.text
    assert len(_audit(app, "code.reissued")) == 1  # the DCS one only
    lifted = admin.post(
        url, data={"csrf_token": csrf, "product": "CS", "confirm": "yes", "lift": "yes"}
    )
    assert lifted.status_code == 200
    entry = _audit(app, "code.reissued")[-1]
    assert entry.actor == f"console:{ADMIN[0]}"


def test_revoke_needs_reason_and_explicit_confirmation(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        row = session.scalar(
            select(ActivationCodeRow).where(
                ActivationCodeRow.contract_id == contract.contract_id,
                ActivationCodeRow.product == "CS",
            )
        )
        assert row is not None
        code_id = row.id
    url = f"/console/codes/{code_id}/revoke"
    csrf = token(admin, url)
    assert admin.post(url, data={"csrf_token": csrf, "reason": " "}).status_code == 422
    confirm = admin.post(url, data={"csrf_token": csrf, "reason": "解約のため"})
    assert 'data-testid="understood"' in confirm.text
    unticked = admin.post(url, data={"csrf_token": csrf, "reason": "解約のため", "confirm": "yes"})
    assert unticked.status_code == 422
    assert _audit(app, "code.revoked") == []
    done = admin.post(
        url,
        data={"csrf_token": csrf, "reason": "解約のため", "understood": "yes", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = admin.get(done.headers["location"])
    assert "を失効させました" in page.text
    assert "理由: 解約のため" in page.text
    entry = _audit(app, "code.revoked")[-1]
    assert entry.actor == f"console:{ADMIN[0]}"
    assert entry.after is not None
    assert entry.after["reason"] == "解約のため"
    assert "既に失効しています" in admin.get(url).text


def test_new_contract_form_confirm_done(app: FastAPI, admin: TestClient) -> None:
    url = "/console/contracts/new"
    csrf = token(admin, url)
    form = {
        "csrf_token": csrf,
        "customer": "有限会社テスト",
        "seats": "10",
        "months": "12",
        "start": "2027-01-01",
        "with_dcs": "yes",
    }
    invalid = admin.post(url, data={**form, "seats": "0", "start": "2027/01/01"})
    assert invalid.status_code == 422
    assert "YYYY-MM-DD" in invalid.text
    confirm = admin.post(url, data=form)
    assert 'data-testid="confirm"' in confirm.text
    assert "2027-12-31" in confirm.text
    assert "新しい顧客です" in confirm.text
    edit = admin.post(url, data={**form, "edit": "yes"})
    assert 'name="customer" value="有限会社テスト"' in edit.text
    with vendor_of(app).session() as session:
        assert session.scalar(select(func.count(Contract.id))) == 0
    done = admin.post(url, data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    page = admin.get(done.headers["location"])
    assert "契約を発行しました" in page.text
    assert 'data-testid="flash-code"' in page.text
    assert "ウイルス感染復旧サービス" in page.text
    entry = _audit(app, "contract.created")[-1]
    assert entry.actor == f"console:{ADMIN[0]}"
    assert entry.after is not None
    assert entry.after["end"] == "2027-12-31"
