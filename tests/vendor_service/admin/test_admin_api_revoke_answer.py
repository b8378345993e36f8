"""A revocation reports what it revoked: `POST /codes/{code}/revoke` answers `revoked`
(empty when the codes were revoked already) and the console's flash counts the codes it
revoked, also when another revocation of the same lineage commits between the request and
the contract's lock. Both once reported the preview read before the lock, claiming codes the
other revocation had revoked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.helpers.vendor_pages import csrf_of, vendor_of
from tests.vendor_service.admin.conftest import MakeToken, bearer

from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow
from cssec.vendor_service.services import issuance

API = "/api/v1/admin"


def _lineage(app: FastAPI) -> list[str]:
    """A contract's C/S Sec. codes: the first and two replacements, oldest first."""
    with vendor_of(app).session() as session:
        issued = services.issue_contract(session, customer="株式会社競合", seats=3, actor="t")
    codes = [issued.codes["CS"]]
    for _ in range(2):
        with vendor_of(app).session() as session:
            codes.append(
                services.issue_replacement_code(session, codes[-1], product=None, actor="t")
            )
    return codes


def _rival_before_the_lock(app: FastAPI, monkeypatch: pytest.MonkeyPatch, newest: str) -> None:
    """Once: after `revoke_code` has found its code and before it locks the contract, a
    colleague revokes `newest` (covering every older code of the lineage) and commits. The
    request's transaction is ended first, as a PostgreSQL reader holds no snapshot that
    SQLite would refuse to write from."""
    find = issuance.find_revocable

    def found_then_a_rival(session: Session, *args: Any, **kwargs: Any) -> Any:
        row = find(session, *args, **kwargs)
        monkeypatch.setattr(issuance, "find_revocable", find)
        session.rollback()
        with vendor_of(app).session() as rival:
            services.revoke_code(rival, newest, actor="console:bob", reason="漏えい")
        return row

    monkeypatch.setattr(issuance, "find_revocable", found_then_a_rival)


def test_revoke_answers_only_what_it_revoked_when_a_newer_revocation_came_first(
    app: FastAPI, make_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, middle, newest = _lineage(app)
    _rival_before_the_lock(app, monkeypatch, newest)
    client = TestClient(app, raise_server_exceptions=False)
    answer = client.post(
        f"{API}/codes/{middle}/revoke", json={"reason": "重複"}, headers=bearer(make_token())
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["revoked"] == []
    assert [c["activation_code"] for c in answer.json()["preview"]["codes"]] == [first, middle]
    assert answer.json()["preview"]["to_revoke"] == []


def test_revoke_answers_what_it_revoked(app: FastAPI, make_token: MakeToken) -> None:
    first, middle, newest = _lineage(app)
    client, auth = TestClient(app, raise_server_exceptions=False), bearer(make_token())
    done = client.post(f"{API}/codes/{first}/revoke", json={"reason": "漏えい"}, headers=auth)
    assert done.json()["revoked"] == [first]
    done = client.post(f"{API}/codes/{newest}/revoke", json={"reason": "解約"}, headers=auth)
    assert done.json()["revoked"] == [middle, newest]
    again = client.post(f"{API}/codes/{middle}/revoke", json={"reason": "解約"}, headers=auth)
    assert again.json()["revoked"] == []


def test_console_flash_counts_only_what_it_revoked(
    app: FastAPI, console: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _first, middle, newest = _lineage(app)
    with vendor_of(app).session() as session:
        row_id = services.find_activation_code(session, middle)[1].id
    url = f"/console/codes/{row_id}/revoke"
    csrf = csrf_of(console.get(url).text)
    _rival_before_the_lock(app, monkeypatch, newest)
    form = {"csrf_token": csrf, "reason": "重複", "understood": "yes", "confirm": "yes"}
    done = console.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303
    page = console.get(done.headers["location"]).text
    assert "このコードは既に失効しています。" in page
    assert "失効させました" not in page
    with vendor_of(app).session() as session:
        reasons = session.scalars(select(ActivationCodeRow.revoke_reason)).all()
        assert "漏えい" in reasons
        assert all("重複" not in (reason or "") for reason in reasons)


def test_a_reissue_over_a_revocation_names_the_flag_that_undoes_it(
    app: FastAPI, make_token: MakeToken
) -> None:
    """The admin API's refusal says what the caller can do, lift_revocation with the
    codes:revoke scope, not the console's 「管理者に依頼してください」; it names the product."""
    with vendor_of(app).session() as session:
        issued = services.issue_contract(session, customer="株式会社失効", seats=3, actor="t")
        services.revoke_code(session, issued.codes["CS"], actor="t", reason="漏えい")
    client, auth = TestClient(app, raise_server_exceptions=False), bearer(make_token())
    url = f"{API}/contracts/{issued.contract_id}/codes"
    refused = client.post(url, json={"product": "CS"}, headers={**auth, "Accept-Language": "en"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "revocation_needs_admin"
    assert refused.json()["product"] == "CS"  # the body keeps the code a script reads
    message = refused.json()["message"]
    assert '"lift_revocation": true' in message
    assert "codes:revoke" in message
    assert "C/S Sec." in message
    assert "Ask an admin" not in message
    lifted = client.post(url, json={"product": "CS", "lift_revocation": True}, headers=auth)
    assert lifted.status_code == 201, lifted.text
