"""The console's revoke of a replacement (issue 21, reproduction 2): the confirmation lists
every code the revocation covers, the POST revokes them all, and コード照会 says which
revocation covered the old code."""

from __future__ import annotations

import re
from html import unescape

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import ADMIN, token, vendor_of

from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry


def _reissue(app: FastAPI, code: str) -> str:
    with vendor_of(app).session() as session:
        return services.issue_replacement_code(session, code, product=None, actor="test")


def _row_id(app: FastAPI, code: str) -> int:
    with vendor_of(app).session() as session:
        return services.find_activation_code(session, code)[1].id


def _covered_codes(html: str) -> list[str]:
    """The codes of the covered-codes table, in page order."""
    table = html.split('data-testid="covered-codes"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<code>([^<]+)</code>", table)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_revoke_screen_lists_the_old_code_then_revokes_both(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    old = contract.codes["CS"]
    new = _reissue(app, old)
    url = f"/console/codes/{_row_id(app, new)}/revoke"
    form = admin.get(url)
    assert form.status_code == 200
    assert _covered_codes(form.text) == [old, new]
    csrf = token(admin, url)
    confirm = admin.post(url, data={"csrf_token": csrf, "reason": "契約解除"})
    assert confirm.status_code == 200
    assert 'data-testid="confirm"' in confirm.text
    assert _covered_codes(confirm.text) == [old, new]
    page = _text(confirm.text)
    assert "これら 2 件のコードを失効させますか?" in page
    assert page.count("有効 → 失効") == 2
    with vendor_of(app).session() as session:
        assert session.scalars(
            select(ActivationCodeRow.revoked_at).where(
                ActivationCodeRow.contract_id == contract.contract_id
            )
        ).all() == [None, None, None]  # nothing happens before the POST that confirms
    no_csrf = admin.post(url, data={"reason": "契約解除", "understood": "yes", "confirm": "yes"})
    assert no_csrf.status_code in {400, 403}
    done = admin.post(
        url,
        data={"csrf_token": csrf, "reason": "契約解除", "understood": "yes", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    flashed = _text(admin.get(done.headers["location"]).text)
    assert (
        f"アクティベーションコード {new}と、それより前の 1 件のコードを失効させました。" in flashed
    )
    with vendor_of(app).session() as session:
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "code.revoked").order_by(AuditEntry.id)
        ).all()
        assert [a.actor for a in audits] == [f"console:{ADMIN[0]}"] * 2
        assert audits[0].after is not None
        assert audits[0].after["covered_by"] == new
        assert services.inspect_code(session, old).verdict == "revoked"
        assert services.inspect_code(session, contract.codes["DCS"]).verdict == "valid"

    inspected = _text(admin.get("/console/inspect", params={"code": old}).text)
    assert "失効の原因" in inspected
    assert f"後継コード {new} (失効済み)" in inspected
    assert f"新しいコード {new}の失効に含まれます" in inspected
    # Asking again: nothing left to revoke.
    assert "既に失効しています" in admin.get(url).text


def test_revoking_the_old_code_lists_only_it_and_inspect_shows_the_live_successor(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    old = contract.codes["CS"]
    new = _reissue(app, old)
    url = f"/console/codes/{_row_id(app, old)}/revoke"
    assert _covered_codes(admin.get(url).text) == [old]
    csrf = token(admin, url)
    done = admin.post(
        url,
        data={"csrf_token": csrf, "reason": "漏えい", "understood": "yes", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    english = _text(
        admin.get("/console/inspect", params={"code": old}, headers={"Accept-Language": "en"}).text
    )
    assert f"Superseded by {new} (not revoked;" in english
    assert "Revoked with" not in english
    with vendor_of(app).session() as session:
        assert services.inspect_code(session, new).verdict == "valid"
