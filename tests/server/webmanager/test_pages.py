"""The Web manager: login, language, the license page, 新規入力 → アクティベート,
ステータスをオンラインで確認, banners and the system event log, over in-process HTTP."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from tests.helpers.server import PASSWORD, Desk, ServerFactory, SwitchableTransport, csrf_of

from cssec.core.clock import FakeClock
from cssec.server.accounts.auth import _token_hash
from cssec.server.models import User, WebSession
from cssec.server.webmanager import auth_routes


def _noon(clock: FakeClock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_pages_need_a_login(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    for path in ("/dashboard", "/admin/licenses", "/logs/system-events"):
        response = await server.client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    login = await server.client.get("/login")
    assert 'lang="ja"' in login.text
    assert "Webマネージャにログイン" in login.text


async def test_login_rotates_the_session(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.client.get("/login")
    before = server.client.cookies.get("cssec_session")
    response = await server.login()
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    after = server.client.cookies.get("cssec_session")
    assert after
    assert after != before
    # The pre-login cookie (what a fixation attack would plant) is no login.
    stale = httpx.AsyncClient(
        transport=server.client._transport,
        base_url="http://server.test",
        cookies={"cssec_session": before or ""},
    )
    async with stale:
        assert (await stale.get("/dashboard")).status_code == 303


async def test_wrong_password_then_lockout(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    for _ in range(5):
        response = await server.login(password="not the password")
        assert response.headers["location"].startswith("/login")
    page = await server.client.get("/login")
    assert "ロック" in page.text, "the fifth failure locks the account"
    # Even the right password is refused while locked …
    await server.login()
    assert (await server.client.get("/dashboard")).status_code == 303
    assert len(server.events("auth.account_locked")) == 1
    # … and accepted once the lockout has passed.
    clock.advance(timedelta(minutes=16))
    await server.login()
    assert (await server.client.get("/dashboard")).status_code == 200


async def test_forms_need_the_csrf_token(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    new_code = desk.reissue(contract.registration_key)
    response = await server.client.post(
        "/admin/licenses/activation-code",
        data={"activation_code": new_code, "product": "CS", "csrf_token": "forged"},
    )
    assert response.status_code == 303
    assert server.slot().activation_code == contract.codes["CS"].replace("-", "")
    page = await server.client.get(response.headers["location"])
    assert "フォームの有効期限が切れました" in page.text
    login_page = await httpx.AsyncClient(
        transport=server.client._transport, base_url="http://server.test"
    ).post("/login", data={"username": "admin", "password": PASSWORD})
    assert login_page.status_code == 303
    assert login_page.headers["location"].startswith("/login")


async def test_license_page_in_japanese_and_english(servers: ServerFactory, desk: Desk) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    await server.login()
    page = await server.client.get("/admin/licenses")
    assert page.headers["cache-control"] == "no-store"
    text = _text(page.text)
    for words in (
        "運用管理",
        "製品ライセンス",
        "製品: C/S Sec.",
        "製品: ウイルス感染復旧サービス",
        "製品名",
        "バージョン種類 製品版",
        "アクティベーションコード",
        contract.codes["CS"],
        contract.codes["DCS"],
        "新規入力",
        "ステータス アクティベート済み",
        f"有効期限 {contract.end.isoformat()}",
        "ステータスをオンラインで確認",
    ):
        assert words in text, words

    token = csrf_of(page.text)
    switched = await server.client.post(
        "/language", data={"lang": "en", "csrf_token": token, "next": "/admin/licenses"}
    )
    assert switched.status_code == 303
    english = _text((await server.client.get("/admin/licenses")).text)
    for words in (
        "Product License",
        "Product: Damage Cleanup Services",
        "Version type Full version",
        "Status Activated",
        "Enter new code",
        "Check status online",
    ):
        assert words in english, words
    with server.app.state.server.sessionmaker() as session:
        assert session.get(User, 1).language == "en"  # type: ignore[union-attr]

    # The choice follows the user to a new browser.
    fresh = httpx.AsyncClient(transport=server.client._transport, base_url="http://server.test")
    async with fresh:
        login = await fresh.get("/login")
        await fresh.post(
            "/login",
            data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_of(login.text)},
        )
        assert fresh.cookies.get("cssec_lang") == "en"
        assert "Product License" in (await fresh.get("/admin/licenses")).text


async def test_accept_language_picks_english(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    page = await server.client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Log in to the Web manager" in page.text


async def test_activate_a_new_code_shows_at_once(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    _noon(clock, contract.end + timedelta(days=40))
    assert "契約期間終了" in (await server.client.get("/admin/licenses")).text

    form = await server.client.get("/admin/licenses/activation-code?product=CS")
    assert "アクティベート" in form.text
    new_end = desk.renew(contract.registration_key)
    new_code = desk.reissue(contract.registration_key)
    response = await server.activate_form(new_code)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/licenses"
    page = await server.client.get("/admin/licenses")
    text = _text(page.text)
    assert "アクティベートしました" in text
    assert new_code in text
    assert f"有効期限 {new_end.isoformat()}" in text
    assert "ステータス アクティベート済み" in text
    assert "契約期間が終了しています" not in text
    # The flash is shown once: a reload shows the page, not the message again.
    assert "アクティベートしました" not in (await server.client.get("/admin/licenses")).text


async def test_mistyped_code_goes_back_to_the_form_with_the_reason(
    servers: ServerFactory, desk: Desk
) -> None:
    contract = desk.contract(with_dcs=True)
    server = await servers.start(registration_key=contract.registration_key)
    await server.login()
    code = contract.codes["CS"]
    typo = code[:5] + "#" + code[6:]
    response = await server.activate_form(typo)
    assert response.headers["location"] == "/admin/licenses/activation-code?product=CS"
    form = await server.client.get(response.headers["location"])
    assert "無効なアクティベーションコード" in form.text
    assert "6" in form.text
    assert f'value="{typo}"' in form.text, "the typed code comes back to be fixed"

    # Without the vendor's key the check symbol cannot tell a typo from a made-up code.
    substituted = code[:20] + ("Z" if code[20] != "Z" else "Y") + code[21:]
    response = await server.activate_form(substituted)
    form = await server.client.get(response.headers["location"])
    assert "チェック文字が一致しません" in form.text
    assert "入力誤り" not in form.text

    wrong = await server.activate_form(contract.codes["DCS"], product="CS")
    form = await server.client.get(wrong.headers["location"])
    # Product names, and where that code goes, never "DCS 用です (CS 用ではありません)".
    assert "ウイルス感染復旧サービスのコードで、C/S Sec.のコードではありません" in form.text
    assert "ウイルス感染復旧サービスの[新規入力]" in form.text
    link = '<a href="/admin/licenses/activation-code?product=DCS">'
    assert link + "このコードをウイルス感染復旧サービスの[新規入力]で入力する" in form.text
    other = await server.client.get("/admin/licenses/activation-code?product=DCS")
    assert f'value="{contract.codes["DCS"]}"' in other.text, "the code comes along"


async def test_check_online_from_the_page(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    new_end = desk.renew(contract.registration_key)
    response = await server.check_form()
    assert response.status_code == 303
    text = _text((await server.client.get("/admin/licenses")).text)
    assert "ステータスをオンラインで確認しました" in text
    assert f"有効期限 {new_end.isoformat()}" in text

    network.mode = "down"
    await server.check_form()
    text = _text((await server.client.get("/admin/licenses")).text)
    assert "ステータスを確認できませんでした" in text
    assert "現在のライセンスは変更されていません" in text
    assert f"有効期限 {new_end.isoformat()}" in text


async def test_banners_from_ninety_days_through_expiry(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"], offline=True)
    await server.login()

    async def banner_text() -> str:
        page = await server.client.get("/dashboard")
        banners = re.findall(r'data-testid="banner">(.*?)</div>', page.text, re.S)
        return _text(" ".join(banners))

    _noon(clock, contract.end - timedelta(days=91))
    assert await banner_text() == ""
    _noon(clock, contract.end - timedelta(days=90))
    text = await banner_text()
    assert "あと90日" in text
    assert "ウイルスパターンファイルの配信" in text
    assert "ステータスをオンラインで確認" in text
    _noon(clock, contract.end + timedelta(days=1))
    text = await banner_text()
    assert "更新猶予期間中" in text
    assert "猶予期間が終わるとコンポーネントの配信とアップデートが停止します" in text
    _noon(clock, contract.end + timedelta(days=31))
    text = await banner_text()
    assert "契約期間が終了しています" in text
    assert "停止している機能" in text
    assert "ActiveUpdate" in text


async def test_logout_ends_the_session(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    token = await server.csrf("/dashboard")
    with server.app.state.server.sessionmaker() as session:
        assert session.query(WebSession).count() == 1
    response = await server.client.post("/logout", data={"csrf_token": token})
    assert response.headers["location"] == "/login"
    assert (await server.client.get("/dashboard")).status_code == 303
    with server.app.state.server.sessionmaker() as session:
        assert session.query(WebSession).count() == 0
    assert _token_hash("x") != "x"


async def test_idle_session_expires(servers: ServerFactory, desk: Desk, clock: FakeClock) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    server = servers.open(settings.model_copy(update={"session_idle_minutes": 60}))
    await server.login()
    clock.advance(timedelta(minutes=61))
    assert (await server.client.get("/dashboard")).status_code == 303


async def test_system_event_log_page(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    contract = desk.contract()
    server = await servers.start(activation_code=contract.codes["CS"])
    await server.login()
    network.mode = "down"
    await server.check_form()
    await server.activate_form("nonsense")
    page = await server.client.get("/logs/system-events")
    text = _text(page.text)
    for words in (
        "システムイベント",
        "サーバのインストール",
        "アクティベート",
        "オンライン確認の失敗",
        "コードを拒否",
        "ライセンスサーバに接続できませんでした",
    ):
        assert words in text, words
    assert "license.check_failed" not in text, "event kinds are shown as labels"
    filtered = _text((await server.client.get("/logs/system-events?level=error")).text)
    assert "オンライン確認の失敗" in filtered
    assert "サーバのインストール" not in filtered
    token = csrf_of(page.text)
    await server.client.post(
        "/language", data={"lang": "en", "csrf_token": token, "next": "/logs/system-events"}
    )
    english = _text((await server.client.get("/logs/system-events")).text)
    assert "Could not reach the license service" in english
    assert "System events" in english
    assert "Online check failed" in english


async def test_navigation_menu(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    page = (await server.client.get("/admin/licenses")).text
    nav = page[page.index('<nav class="sidenav"') : page.index("</nav>")]
    labels = re.findall(r"<(?:a|span)[^>]*>([^<]+)<", nav)
    assert [label.strip() for label in labels] == [
        "ダッシュボード",
        "クライアント",
        "クライアント一覧",
        "Web インストール",
        "リモートインストール",
        "アップデート",
        "コンポーネント",
        "大規模感染対策",
        "大規模感染予防",
        "アウトブレークモニタ",
        "アウトブレーク警告",
        "運用管理",
        "製品ライセンス",
        "ログ管理",
        "メール通知",
        "パスワードの変更",
        "ログ",
        "システムイベント",
        "アップデートログ (サーバ)",
        "アップデートログ (クライアント)",
        "ウイルスログ",
        "接続状態の確認ログ",
    ]
    assert 'aria-current="page">製品ライセンス' in nav


async def test_open_redirects_are_refused(servers: ServerFactory, desk: Desk) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    page = await server.client.get("/login")
    response = await server.client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/dashboard"


async def test_login_is_rate_limited_per_address(
    servers: ServerFactory, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_routes, "LOGIN_LIMIT_PER_IP", "3/minute")
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    for name in ("alice", "bob", "carol"):
        page = await server.client.get("/login")
        await server.client.post(
            "/login",
            data={"username": name, "password": "x", "csrf_token": csrf_of(page.text)},
        )
    await server.login()
    page = await server.client.get("/login")
    assert "リクエストが多すぎます" in page.text
    assert (await server.client.get("/dashboard")).status_code == 303


async def test_language_chosen_before_login_is_remembered(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    page = await server.client.get("/login")
    await server.client.post(
        "/language", data={"lang": "en", "csrf_token": csrf_of(page.text), "next": "/login"}
    )
    assert "Log in to the Web manager" in (await server.client.get("/login")).text
    await server.login()
    with server.app.state.server.sessionmaker() as session:
        assert session.get(User, 1).language == "en"  # type: ignore[union-attr]
