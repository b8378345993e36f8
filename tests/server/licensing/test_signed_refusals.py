"""Signed truth beats unsigned input (issue 21): the vendor's signed, nonce-bound "this code is
not ours" makes the slot 無効 (rejected), once; an unsigned or unbound one changes nothing;
while a slot holds a signed refusal, a new code takes effect only when the vendor confirms
it; and the flash after a check says what happened to the license.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from tests.helpers.server import Desk, Server, ServerFactory, SwitchableTransport, csrf_of

from cssec.core.codes import MacKey, encode_activation_code
from cssec.core.license import Product
from cssec.core.signing import sign_statement
from cssec.server.licensing.activation import activate_code
from cssec.server.licensing.errors import VendorConfirmationRequired
from cssec.server.licensing.offline_renewal import import_response, write_request
from cssec.vendor_service.services import issue_replacement_code
from cssec.vendor_service.services.offline_renewal import respond

Edit = Callable[[dict[str, Any]], dict[str, Any]]


def self_made(product: Product = Product.CS, serial: int = 7) -> str:
    return encode_activation_code(
        product=product, seats=65535, expires_on=date(2099, 12, 31), serial=serial,
        key=MacKey(1, secrets.token_bytes(32)),
    ).formatted  # fmt: skip


def meddle(network: SwitchableTransport, monkeypatch: pytest.MonkeyPatch, edit: Edit) -> None:
    """Someone on the path rewrites the vendor's status answers with `edit`."""
    inner = network.handle_async_request

    async def handle(request: httpx.Request) -> httpx.Response:
        response = await inner(request)
        if request.url.path != "/api/v1/status":
            return response
        await response.aread()
        return httpx.Response(response.status_code, json=edit(response.json()), request=request)

    monkeypatch.setattr(network, "handle_async_request", handle)


def text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


async def check_in_web_manager(server: Server, product: str, lang: str) -> str:
    page = await server.client.get("/admin/licenses")
    token = csrf_of(page.text)
    await server.client.post("/language", data={"lang": lang, "csrf_token": token})
    await server.client.post(
        "/admin/licenses/check-online", data={"product": product, "csrf_token": token}
    )
    return text(await server.client.get("/admin/licenses"))


def status(server: Server, product: str = "CS") -> str:
    slot = server.slot(product)
    return "rejected" if slot.rejected_at is not None else str(slot.confirmed_online)


async def test_signed_invalid_rejects_unsigned_or_unbound_changes_nothing(
    servers: ServerFactory,
    desk: Desk,
    network: SwitchableTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    # No refusal held: the FAQ's offline behaviour, and the page says it is unconfirmed.
    network.mode = "down"
    forged = self_made()
    entered = await server.api(
        "POST", "/api/v1/licenses/activation-code",
        json={"activation_code": forged, "confirm": True},
    )  # fmt: skip
    assert entered.status_code == 200, entered.text
    assert entered.json()["status"] == "unconfirmed"
    page = text(await server.client.get("/admin/licenses"))
    assert "ライセンスサーバでまだ確認されていません" in page
    network.mode = "up"

    # Unsigned (the proof stripped), then bound to another request: nothing changes.
    def unsigned(body: dict[str, Any]) -> dict[str, Any]:
        body.pop("refusal", None)
        return body

    def another_nonce(body: dict[str, Any]) -> dict[str, Any]:
        statement = dict(body["refusal"]["statement"], nonce="captured-earlier")
        body["refusal"] = sign_statement(statement, desk.vendor.keyring.signing_key)
        return body

    for edit in (unsigned, another_nonce):
        meddle(network, monkeypatch, edit)
        checked = await server.api("POST", "/api/v1/licenses/check-online")
        assert checked.status_code >= 400
        assert server.slot().rejected_at is None, edit.__name__
        assert server.slot().activation_code == forged.replace("-", "")
        assert server.events("license.rejected") == []
        monkeypatch.undo()

    # The vendor's own signed, nonce-bound answer: rejected, one event, the flash says so.
    page = await check_in_web_manager(server, "CS", "ja")
    assert server.slot().rejected_at is not None
    assert "ステータスを確認できませんでした" not in page
    assert "発行していないと署名付きで回答しました" in page
    assert "無効（ライセンスサーバの回答）" in page
    listed = (await server.api("GET", "/api/v1/licenses")).json()[0]
    assert listed["status"] == "rejected"
    assert "client_manual_update" in listed["stopped"]
    await server.api("POST", "/api/v1/licenses/check-online")
    [event] = server.events("license.rejected")
    assert event.level == "error"

    # Held refusal: with the vendor away, a new self-made code is refused, in both languages.
    network.mode = "down"
    for lang, words in (
        ("ja", "ライセンスサーバで確認できたときにだけ有効になります"),
        ("en", "takes effect only once the license server confirms it"),
    ):
        token = csrf_of((await server.client.get("/admin/licenses")).text)
        await server.client.post("/language", data={"lang": lang, "csrf_token": token})
        refused = await server.api(
            "POST", "/api/v1/licenses/activation-code",
            json={"activation_code": self_made(serial=8), "confirm": True}, lang=lang,
        )  # fmt: skip
        assert refused.status_code == 409
        assert refused.json()["code"] == "vendor_confirmation_required"
        assert words in refused.json()["message"]
    token = csrf_of((await server.client.get("/admin/licenses/activation-code")).text)
    await server.client.post(
        "/admin/licenses/activation-code",
        data={"activation_code": self_made(serial=9), "product": "CS", "csrf_token": token},
    )
    assert "only once the license server confirms it" in text(
        await server.client.get("/admin/licenses/activation-code")
    )
    assert server.slot().activation_code == forged.replace("-", "")

    # The vendor back: the real code, confirmed by its signed answer, lifts the rejection.
    network.mode = "up"
    restored = await server.api(
        "POST", "/api/v1/licenses/activation-code",
        json={"activation_code": contract.codes["CS"], "confirm": True},
    )  # fmt: skip
    assert restored.status_code == 200, restored.text
    assert (restored.json()["status"], restored.json()["stopped"]) == ("activated", [])
    assert server.slot().rejected_at is None


async def test_a_dcs_revocation_flash_and_banner_name_only_the_template(
    servers: ServerFactory, desk: Desk
) -> None:
    """Reproduction 4 without a browser (tests/e2e/test_license_truth_browser has Chromium):
    the check's flash says the DCS code was revoked, never "could not check"; the banner
    names only the template's distribution; the badge names Damage Cleanup Services."""
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    await server.login()
    desk.revoke(contract.codes["DCS"])
    page = await check_in_web_manager(server, "DCS", "ja")
    assert "ステータスを確認できませんでした" not in page
    assert "失効処理されていると署名付きで回答しました" in page
    assert "ウイルス感染復旧テンプレートの配信" in page
    assert "停止した機能: ウイルス感染復旧テンプレートの配信。" in page
    for cs_stop in (
        "ウイルスパターンファイルの配信",
        "手動アップデート",
        "ActiveUpdate サーバからのコンポーネントのダウンロード",
    ):
        assert cs_stop not in page, cs_stop
    assert "ライセンス失効" not in page
    assert "ウイルス感染復旧サービス: 失効" in page
    listed = {row["product"]: row for row in (await server.api("GET", "/api/v1/licenses")).json()}
    assert listed["CS"]["status"] == "activated"
    assert listed["DCS"]["status"] == "revoked"
    assert listed["DCS"]["stopped"] == ["distribute_damage_cleanup_template"]


async def test_an_air_gapped_server_takes_a_new_code_by_a_signed_response_file(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, clock: Any
) -> None:
    """The offline way out of a held refusal: `license request --code NEW`, the vendor's
    response, `license import`: the new code takes effect on the vendor's signed word."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    desk.revoke(contract.codes["CS"])
    await server.api("POST", "/api/v1/licenses/check-online")
    assert server.slot().revoked_at is not None
    with desk.vendor.session() as session:
        new = issue_replacement_code(
            session, contract.codes["CS"], actor="test", lift_revocation=True
        )
    network.mode = "down"
    env = server.app.state.server.license_env()
    with pytest.raises(VendorConfirmationRequired, match="license request --code"):
        await activate_code(env, new, actor="test", confirm=True)
    request = write_request(env, actor="test", new_code=new).data
    with desk.vendor.session() as session:
        response = respond(session, request, actor="desk:test", now=clock.now())
    outcome = import_response(env, response, actor="test")
    assert [o.ok for o in outcome.outcomes] == [True]
    slot = server.slot()
    assert (slot.activation_code, slot.revoked_at) == (new.replace("-", ""), None)
    assert slot.confirmed_online


async def test_a_response_file_carries_the_vendors_signed_invalid(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport, clock: Any
) -> None:
    """Air-gapped, a self-made code is accepted (unconfirmed); the response file to the next
    request carries the vendor's signed "invalid", and importing it makes the slot rejected."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    network.mode = "down"
    env = server.app.state.server.license_env()
    forged = self_made()
    await activate_code(env, forged, actor="test", confirm=True)
    request = write_request(env, actor="test").data
    with desk.vendor.session() as session:
        response = respond(session, request, actor="desk:test", now=clock.now())
    outcome = import_response(env, response, actor="test")
    assert [(o.ok, o.applied) for o in outcome.outcomes] == [(False, "rejected")]
    assert server.slot().rejected_at is not None
    assert len(server.events("license.rejected")) == 1


async def test_the_scheduler_asks_about_an_unconfirmed_code_the_next_tick(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    """A self-made code claiming 2099 is not left until 90 days before 2099: while it is
    unconfirmed, the automatic check runs daily, and the vendor's signed answer rejects it."""
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    network.mode = "down"
    env = server.app.state.server.license_env()
    await activate_code(env, self_made(), actor="test", confirm=True)
    network.mode = "up"
    await server.scheduler.run_due_checks()
    assert server.slot().rejected_at is not None
    assert len(server.events("license.rejected")) == 1
