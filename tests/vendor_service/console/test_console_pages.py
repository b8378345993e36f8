"""Console read pages over HTTP: search, contract page, code inspection, audit log."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import ADMIN, CUSTOMER, login, vendor_of

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.console.queries import AUDIT_PAGE_SIZE


def _sloppy(code: str) -> str:
    """How a customer might type it: full-width, lower case, no hyphens."""
    plain = code.replace("-", "").lower()
    return "".join(chr(ord(c) + 0xFEE0) for c in plain)


def _typo(code: str) -> str:
    index = 8
    swapped = "A" if code[index] != "A" else "B"
    return code[:index] + swapped + code[index + 1 :]


def test_search_by_customer_name_part(admin: TestClient, contract: services.IssuedContract) -> None:
    page = admin.get("/console/", params={"q": "サンプル"})
    assert page.status_code == 200
    assert f'href="/console/contracts/{contract.contract_id}"' in page.text
    assert "アクティベート済み" in page.text
    assert "1 件の契約が見つかりました" in page.text
    nothing = admin.get("/console/", params={"q": "存在しない会社"})
    assert "該当するものがありません" in nothing.text


def test_home_lists_recent_contracts(admin: TestClient, contract: services.IssuedContract) -> None:
    page = admin.get("/console/")
    assert "最近更新された契約" in page.text
    assert CUSTOMER in page.text


def test_search_by_key_or_code_opens_the_contract(
    admin: TestClient, contract: services.IssuedContract
) -> None:
    target = f"/console/contracts/{contract.contract_id}"
    for query in (contract.registration_key, _sloppy(contract.codes["CS"]), contract.codes["DCS"]):
        response = admin.get("/console/", params={"q": query}, follow_redirects=False)
        assert response.status_code == 303, query
        assert response.headers["location"] == target


def test_search_with_a_typo_explains_it(
    admin: TestClient, contract: services.IssuedContract
) -> None:
    page = admin.get("/console/", params={"q": _typo(contract.codes["CS"])})
    assert page.status_code == 200
    assert "このコードの契約はありません" in page.text
    assert "/console/inspect?code=" in page.text


def test_contract_page_shows_codes_servers_checks_and_audit(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    vendor = vendor_of(app)
    with vendor.session() as session:
        services.register_server(
            session,
            contract.registration_key,
            company=CUSTOMER,
            contact_email="it@example.co.jp",
            server_id="srv-0001",
            actor="api",
        )
    with vendor.session() as session:
        services.issue_status_statement(session, contract.codes["CS"], server_id="srv-0001")
    page = admin.get(f"/console/contracts/{contract.contract_id}")
    assert page.status_code == 200
    text = page.text
    for expected in (
        CUSTOMER,
        contract.registration_key,
        contract.codes["CS"],
        contract.codes["DCS"],
        "ウイルス感染復旧サービス",
        contract.end.isoformat(),
        "srv-0001",
        "it@example.co.jp",
        "契約発行",
        "サーバ登録",
        'data-testid="renew"',
    ):
        assert expected in text, expected
    checks = text.split("ステータス確認")[1]
    assert "srv-0001" in checks
    assert "アクティベート済み" in checks


def test_missing_contract_is_an_html_404(admin: TestClient) -> None:
    page = admin.get("/console/contracts/999")
    assert page.status_code == 404
    assert "見つかりません" in page.text


def test_inspect_tells_valid_typo_and_revoked(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    code = contract.codes["CS"]
    valid = admin.get("/console/inspect", params={"code": _sloppy(code)})
    assert "verdict-valid" in valid.text
    assert code in valid.text
    assert f"#{contract.contract_id} {CUSTOMER}" in valid.text

    typo = admin.get("/console/inspect", params={"code": _typo(code)})
    assert "verdict-invalid" in typo.text
    # Exactly one change gives a code made with our key: named, with where.
    assert f"9文字目の「{_typo(code)[8]}」は「{code[8]}」の入力誤りです" in typo.text
    assert f"<mark>{_typo(code)[8]}</mark>" in typo.text

    made_up = "CS-" + "-".join(["7K3M", "Q8RT2", "WX4YZ", "H6JN9", "PQ3RS", "T5VW8"])
    invented = admin.get("/console/inspect", params={"code": made_up})
    assert "verdict-invalid" in invented.text
    assert "正しいコードではありません" in invented.text
    assert "入力誤り" not in invented.text, "a made-up code is invalid, not a typo"

    bad_char = admin.get("/console/inspect", params={"code": code[:5] + "!" + code[6:]})
    assert "verdict-invalid" in bad_char.text
    assert "<mark>!</mark>" in bad_char.text

    key = admin.get("/console/inspect", params={"code": contract.registration_key})
    assert "verdict-valid" in key.text
    assert "レジストレーションキー" in key.text

    with vendor_of(app).session() as session:
        services.revoke_code(session, contract.codes["DCS"], actor="test", reason="返金")
    revoked = admin.get("/console/inspect", params={"code": contract.codes["DCS"]})
    assert "verdict-revoked" in revoked.text
    assert "返金" in revoked.text


def test_inspect_expired(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract, clock: FakeClock
) -> None:
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="test")
    clock.advance(timedelta(days=365 + 31))
    login(admin, *ADMIN)  # the jump outlasted the idle timeout
    page = admin.get("/console/inspect", params={"code": contract.codes["CS"]})
    assert "verdict-expired" in page.text
    assert "期限切れ" in page.text
    assert "契約は" in page.text  # the contract runs on: issue a new code or check online


def test_audit_log_filters_and_pages(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        for index in range(AUDIT_PAGE_SIZE + 5):
            services.record_audit(
                session,
                actor=f"cli:batch{index % 2}",
                action="contract.renewed",
                target=f"contract:{1000 + index}",
                before={"end": "2027-01-01"},
                after={"end": "2028-01-01", "months": 12},
            )
        session.commit()
    first = admin.get("/console/audit")
    assert first.status_code == 200
    assert f">{AUDIT_PAGE_SIZE + 6} 件</p>" in first.text
    assert "1 / 2 ページ" in first.text
    second = admin.get("/console/audit", params={"page": "2"})
    assert "2 / 2 ページ" in second.text
    assert "契約発行" in second.text  # the oldest row, the contract fixture's

    by_action = admin.get("/console/audit", params={"action": "contract.created"})
    assert ">1 件</p>" in by_action.text
    assert f'href="/console/contracts/{contract.contract_id}"' in by_action.text
    by_actor = admin.get("/console/audit", params={"actor": "batch1"})
    assert f">{(AUDIT_PAGE_SIZE + 5) // 2} 件</p>" in by_actor.text
    by_target = admin.get("/console/audit", params={"target": "contract:1003"})
    assert ">1 件</p>" in by_target.text
    junk = admin.get("/console/audit", params={"page": "abc", "actor": "%_"})
    assert junk.status_code == 200
    assert "該当する記録はありません" in junk.text


def test_audit_entry_page_shows_before_and_after(
    app: FastAPI, admin: TestClient, contract: services.IssuedContract
) -> None:
    with vendor_of(app).session() as session:
        services.renew_contract(session, contract.contract_id, months=12, actor="cli:test")
        entry = services.list_audit(session, target=f"contract:{contract.contract_id}")[0]
    page = admin.get(f"/console/audit/{entry.id}")
    assert page.status_code == 200
    assert "契約更新" in page.text
    assert contract.end.isoformat() in page.text
    assert "コマンドライン（test）" in page.text  # who, as a person reads it
    assert "cli:test" not in page.text
    assert admin.get("/console/audit/99999").status_code == 404
