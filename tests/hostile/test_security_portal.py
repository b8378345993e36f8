"""The customer portal (/portal/) attacked over HTTP: by someone on the network who knows
nothing, and by a signed-in customer who wants another customer's contract.

The real vendor app (SQLite, fake clock) mails the sign-in links through a real SMTP sink
(aiosmtpd). Already covered in tests/vendor_service/portal/ and not repeated: the same
page whatever key/address pair is typed (test_the_answer_is_the_same_whatever_was_typed),
the per-address rate limit of a real key, a forged token on the sign-in and link forms,
sign-out ending copies of the cookie, idle timeout, the portal cookie not being the
console's, links only to loopback without a public URL, another customer's request file
refused. Here: the answer's headers and cookies, no per-key limit for keys that exist or
not, a link raced, reused after sign-out, a planted cookie, every URL of another
customer's contract, every form with another session's token, hostile uploads, markup in
the customer's name and address on every page and in the PDF, `next=` and Host headers.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pypdf import PdfReader
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.hostile import START, csrf_of, postgres_database, vendor_of
from tests.helpers.smtp_sink import Mailbox, smtp_sink

from cssec.core.clock import FakeClock
from cssec.core.codes import MacKey, encode_registration_key
from cssec.core.license_files import MAX_FILE_BYTES, RequestedCode, build_request
from cssec.core.signing import SigningKey
from cssec.vendor_service import services
from cssec.vendor_service.app import create_app
from cssec.vendor_service.models import ActivationCodeRow, AuditEntry, PortalSignIn, StatusCheck
from cssec.vendor_service.settings import VendorSettings

PUBLIC = "https://licenses.vendor.example"
CONTACT = "it@victim.example.co.jp"
ATTACKER = "boss@attacker.example.co.jp"
_LINK = re.compile(re.escape(PUBLIC) + r"(/portal/signin/[A-Za-z0-9_-]+)")
_TOKEN = re.compile(r'value="[A-Za-z0-9_-]{40,}"')


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_sink() as box:
        yield box


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _settings(tmp_path: Path, mailbox: Mailbox, **extra: Any) -> VendorSettings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "vendor",
        "rate_limit_storage": "memory://",
        "smtp_host": mailbox.host,
        "smtp_port": mailbox.port,
        "smtp_security": "none",
        "smtp_sender": "licenses@vendor.example",
        "portal_url": PUBLIC,
        "background_jobs": False,
        "portal_signin_rate_limit": "1000/minute",
        "console_require_totp": False,  # the console is signed in by password here
    }
    values.update(extra)
    return VendorSettings(**values)


@pytest.fixture
def app(tmp_path: Path, mailbox: Mailbox, clock: FakeClock) -> Iterator[FastAPI]:
    application = create_app(_settings(tmp_path, mailbox), clock=clock)
    try:
        yield application
    finally:
        application.state.vendor.close()


@pytest.fixture(params=["sqlite", "postgres"])
def race_app(
    request: pytest.FixtureRequest, tmp_path: Path, mailbox: Mailbox, clock: FakeClock
) -> Iterator[FastAPI]:
    """For the races: SQLite (one writer at a time) and PostgreSQL (side by side; skipped
    without CSSEC_TEST_POSTGRES_URL)."""
    with contextlib.ExitStack() as stack:
        extra: dict[str, Any] = {}
        if request.param == "postgres":
            extra["database_url"] = stack.enter_context(postgres_database())
        application = create_app(_settings(tmp_path, mailbox, **extra), clock=clock)
        stack.callback(application.state.vendor.close)
        yield application


def _issue(app: FastAPI, customer: str, contact: str) -> services.IssuedContract:
    with vendor_of(app).session() as session:
        return services.issue_contract(
            session, customer=customer, seats=10, with_dcs=True, contact_email=contact,
            actor="test",
        )  # fmt: skip


@pytest.fixture
def victim_contract(app: FastAPI) -> services.IssuedContract:
    return _issue(app, "株式会社ひがいしゃ", CONTACT)


@pytest.fixture
def attacker_contract(app: FastAPI) -> services.IssuedContract:
    return _issue(app, "株式会社こうげき", ATTACKER)


def _client(app: FastAPI, ip: str = "198.51.100.20") -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(ip, 50000))


def _ask(client: TestClient, key: str, email: str, **kwargs: Any) -> httpx.Response:
    page = client.get("/portal/")
    return client.post(
        "/portal/signin",
        data={"registration_key": key, "email": email, "csrf_token": csrf_of(page.text)},
        **kwargs,
    )


def _link(mailbox: Mailbox) -> str:
    body = mailbox.received()[-1].get_content()
    found = _LINK.search(body)
    assert found, body
    return found.group(1)


def _sign_in(app: FastAPI, mailbox: Mailbox, key: str, email: str) -> TestClient:
    client = _client(app)
    assert _ask(client, key, email).status_code == 200
    path = _link(mailbox)
    page = client.get(path)
    done = client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert "/portal/contracts/" in str(done.url), done.text
    return client


def _unknown_key() -> str:
    """Well formed (right check character), but no vendor key made its MAC."""
    return encode_registration_key(serial=424242, key=MacKey(kid=1, secret=b"y" * 32)).formatted


def _state(app: FastAPI) -> dict[str, Any]:
    """What an attack must not change: codes, audit, status history, redeemed sign-ins."""
    with vendor_of(app).session() as session:
        return {
            "codes": session.scalar(select(func.count(ActivationCodeRow.id))),
            "audit": session.scalar(select(func.count(AuditEntry.id))),
            "checks": session.scalar(select(func.count(StatusCheck.id))),
            "signed_in": session.scalar(
                select(func.count(PortalSignIn.id)).where(PortalSignIn.used_at.is_not(None))
            ),
        }


# --- Enumeration ---------------------------------------------------------------------------


def _shape(response: httpx.Response) -> tuple[Any, ...]:
    """Everything an observer sees but the per-session CSRF token and cookie value."""
    headers = {
        k: v for k, v in response.headers.items() if k not in {"set-cookie", "content-length"}
    }
    cookies = sorted(
        re.sub(r"=[^;]*", "=", c, count=1) for c in response.headers.get_list("set-cookie")
    )
    return (response.status_code, _TOKEN.sub("", response.text), headers, cookies)


@pytest.mark.parametrize("email", [CONTACT, ATTACKER])
def test_existing_and_unknown_keys_answer_alike_in_status_body_headers_and_cookies(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox, email: str
) -> None:
    real = _ask(_client(app, "192.0.2.1"), victim_contract.registration_key, email)
    unknown = _ask(_client(app, "192.0.2.2"), _unknown_key(), email)
    assert _shape(real) == _shape(unknown)
    assert len(real.content) == len(unknown.content)
    # Only the right pair mails anything, and the mail goes to the contract's contact.
    assert [m["To"] for m in mailbox.received()] == ([CONTACT] if email == CONTACT else [])


def test_no_key_is_limited_alike_for_keys_that_exist_or_not_only_the_source_is(
    tmp_path: Path, mailbox: Mailbox, clock: FakeClock
) -> None:
    """Issue 22 item 3: a count per key let anyone who knew a key lock its contact out, so
    there is none (tests/vendor_service/test_contract_contacts.py has the twenty-address
    attack); the per-source limit trips alike for real and unknown keys."""
    application = create_app(
        _settings(tmp_path, mailbox, portal_signin_rate_limit="3/minute"), clock=clock
    )
    try:
        real_key = _issue(application, "株式会社ひがいしゃ", CONTACT).registration_key

        def statuses(key: str, base: int) -> list[int]:
            # A fresh address each time: only a per-key limit could trip.
            return [
                _ask(_client(application, f"203.0.113.{base + i}"), key, ATTACKER).status_code
                for i in range(5)
            ]

        assert statuses(real_key, 10) == statuses(_unknown_key(), 50) == [200] * 5

        def from_one_source(key: str, ip: str) -> list[int]:
            client = _client(application, ip)
            return [_ask(client, key, ATTACKER).status_code for _ in range(5)]

        real = from_one_source(real_key, "203.0.113.98")
        unknown = from_one_source(_unknown_key(), "203.0.113.99")
        assert real == unknown == [200, 200, 200, 429, 429]
        refused = _ask(_client(application, "203.0.113.99"), _unknown_key(), ATTACKER)
        assert refused.headers.get("retry-after")
        assert mailbox.received() == []
    finally:
        application.state.vendor.close()


# --- The sign-in link -------------------------------------------------------------------


def test_a_link_raced_from_four_browsers_signs_in_once(race_app: FastAPI, mailbox: Mailbox) -> None:
    app = race_app
    victim_contract = _issue(app, "株式会社ひがいしゃ", CONTACT)
    assert _ask(_client(app), victim_contract.registration_key, CONTACT).status_code == 200
    path = _link(mailbox)
    browsers = [_client(app, f"198.51.100.{30 + i}") for i in range(4)]
    tokens = [csrf_of(b.get(path).text) for b in browsers]
    gate = threading.Barrier(len(browsers))
    results: list[str] = [""] * len(browsers)

    def go(i: int) -> None:
        gate.wait()
        results[i] = str(browsers[i].post(path, data={"csrf_token": tokens[i]}).url)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("/portal/contracts/" in url for url in results) == 1, results
    assert _state(app)["signed_in"] == 1


def test_a_link_is_dead_after_sign_out_and_a_planted_cookie_never_signs_in(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    attacker = _client(app, "192.0.2.66")
    attacker.get("/portal/")
    planted = attacker.cookies.get("cssec_portal")
    assert planted
    victim = _client(app)
    # Session fixation: the victim's browser starts with the attacker's cookie.
    victim.cookies.set("cssec_portal", planted, domain="testserver.local", path="/portal")
    assert _ask(victim, victim_contract.registration_key, CONTACT).status_code == 200
    path = _link(mailbox)
    done = victim.post(path, data={"csrf_token": csrf_of(victim.get(path).text)})
    assert "/portal/contracts/" in str(done.url)
    assert victim.cookies.get("cssec_portal") != planted
    contract_page = f"/portal/contracts/{victim_contract.contract_id}"
    assert attacker.get(contract_page).url.path == "/portal/"  # the planted cookie: nobody
    signed_out = victim.post("/portal/signout", data={"csrf_token": csrf_of(done.text)})
    assert signed_out.url.path == "/portal/"
    again = victim.post(path, data={"csrf_token": csrf_of(victim.get(path).text)})
    assert again.url.path != contract_page
    assert victim.get(contract_page).url.path == "/portal/"


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "evil.example"},
        {"host": "localhost", "x-forwarded-host": "evil.example"},
        {"host": "evil.example", "forwarded": "host=evil.example;proto=https"},
    ],
)
def test_a_forged_host_header_does_not_move_the_mailed_link(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox,
    headers: dict[str, str],
) -> None:  # fmt: skip
    client = _client(app)
    page = client.get("/portal/", headers=headers)
    client.post(
        "/portal/signin",
        data={"registration_key": victim_contract.registration_key, "email": CONTACT,
              "csrf_token": csrf_of(page.text)},
        headers=headers,
    )  # fmt: skip
    body = mailbox.received()[-1].get_content()
    assert "evil.example" not in body
    assert f"{PUBLIC}/portal/signin/" in body


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/portal/",
        "/\\evil.example",
        "/portal/\x00//evil.example",
        "\t//evil.example",
        "/portal@evil.example",
        "http:/portal/",
    ],
)
def test_the_language_switch_never_redirects_off_site(app: FastAPI, target: str) -> None:
    client = _client(app)
    page = client.get("/portal/")
    response = client.post(
        "/portal/language",
        data={"lang": "en", "next": target, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code in {302, 303}
    location = response.headers["location"]
    assert location.startswith("/portal/"), location
    assert not location.startswith("//"), location
    assert "evil" not in location


# --- Another customer's contract --------------------------------------------------------


def test_a_customer_reaches_nothing_of_another_customers_contract(
    app: FastAPI, victim_contract: services.IssuedContract,
    attacker_contract: services.IssuedContract, mailbox: Mailbox, clock: FakeClock,
) -> None:  # fmt: skip
    with vendor_of(app).session() as session:  # the victim renewed: a new code is due
        services.renew_contract(session, victim_contract.contract_id, actor="test")
    with vendor_of(app).session() as session:
        victim_codes = [
            row.id
            for row in session.scalars(
                select(ActivationCodeRow).where(
                    ActivationCodeRow.contract_id == victim_contract.contract_id
                )
            )
        ]
    attacker = _sign_in(app, mailbox, attacker_contract.registration_key, ATTACKER)
    mine, theirs = attacker_contract.contract_id, victim_contract.contract_id
    before = _state(app)
    gets = [
        f"/portal/contracts/{theirs}",
        f"/portal/contracts/{theirs}/certificate",
        f"/portal/contracts/{theirs}/certificate.pdf",
        f"/portal/contracts/{theirs}/license-file",
        *(f"/portal/contracts/{theirs}/codes/{code}.txt" for code in victim_codes),
        *(f"/portal/contracts/{mine}/codes/{code}.txt" for code in victim_codes),
    ]
    for path in gets:
        response = attacker.get(path)
        assert response.status_code == 404, path
        assert victim_contract.codes["CS"] not in response.text, path
        assert "ひがいしゃ" not in response.text, path
    token = csrf_of(attacker.get(f"/portal/contracts/{mine}").text)
    for product in ("CS", "DCS"):
        response = attacker.post(
            f"/portal/contracts/{theirs}/offline-code",
            data={"product": product, "csrf_token": token},
        )
        assert response.status_code == 404
    request_file = build_request(
        SigningKey.generate(), server_id="srv-attacker",
        codes=[RequestedCode("CS", victim_contract.codes["CS"].replace("-", ""))],
        seats_used=1, nonce="A" * 24, created_at=clock.now(),
    )[0]  # fmt: skip
    for contract_id in (mine, theirs):
        response = attacker.post(
            f"/portal/contracts/{contract_id}/license-file",
            data={"csrf_token": token},
            files={"request_file": ("REQ.json", request_file, "application/json")},
        )
        assert response.status_code in {403, 404}
        assert "license_response" not in response.text
    assert _state(app) == before


# --- CSRF ----------------------------------------------------------------------------------


def test_every_portal_form_refuses_another_sessions_token(
    app: FastAPI, victim_contract: services.IssuedContract,
    attacker_contract: services.IssuedContract, mailbox: Mailbox, clock: FakeClock,
) -> None:  # fmt: skip
    with vendor_of(app).session() as session:
        services.renew_contract(session, victim_contract.contract_id, actor="test")
    attacker = _sign_in(app, mailbox, attacker_contract.registration_key, ATTACKER)
    foreign = csrf_of(attacker.get(f"/portal/contracts/{attacker_contract.contract_id}").text)
    victim = _sign_in(app, mailbox, victim_contract.registration_key, CONTACT)
    assert _ask(_client(app), victim_contract.registration_key, CONTACT).status_code == 200
    link = _link(mailbox)
    cid = victim_contract.contract_id
    request_file = build_request(
        SigningKey.generate(), server_id="srv-victim",
        codes=[RequestedCode("CS", victim_contract.codes["CS"].replace("-", ""))],
        seats_used=1, nonce="V" * 24, created_at=clock.now(),
    )[0]  # fmt: skip
    forms: list[tuple[str, dict[str, str], Any]] = [
        ("/portal/signin", {"registration_key": victim_contract.registration_key,
                            "email": CONTACT}, None),
        (link, {}, None),
        ("/portal/language", {"lang": "en", "next": "/portal/"}, None),
        (f"/portal/contracts/{cid}/offline-code", {"product": "CS"}, None),
        (f"/portal/contracts/{cid}/license-file", {},
         {"request_file": ("REQ.json", request_file, "application/json")}),
        ("/portal/signout", {}, None),
    ]  # fmt: skip
    mails = len(mailbox.received())
    before = _state(app)
    for path, data, files in forms:
        for token in (None, "forged", foreign):
            body = dict(data) if token is None else {**data, "csrf_token": token}
            response = victim.post(path, data=body, files=files, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
            assert "set-cookie" not in response.headers or "lang" not in str(
                response.headers.get_list("set-cookie")
            )
    assert _state(app) == before
    assert len(mailbox.received()) == mails
    assert victim.get(f"/portal/contracts/{cid}").url.path == f"/portal/contracts/{cid}"


# --- Hostile uploads ---------------------------------------------------------------------


def _hostile_files() -> dict[str, bytes]:
    import zipfile  # noqa: PLC0415

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("REQ.json", b"{" + b" " * (8 * 1024 * 1024) + b"}")
    return {
        "too_large": b'{"a": "' + b"x" * MAX_FILE_BYTES + b'"}',
        "deep_json": b"[" * 25_000 + b"]" * 25_000,
        "deep_object": b'{"a":' * 9_000 + b"1" + b"}" * 9_000,
        "huge_int": b'{"statement": {"seats_used": ' + b"9" * 5_000 + b"}}",
        "huge_float": b'{"statement": {"seats_used": 1e999999}, "public_key": 1e999}',
        "nan": b'{"statement": NaN, "public_key": {"kty": "OKP", "x": Infinity}}',
        "not_utf8": b"\xff\xfe\x00{\x00}\xc3\x28",
        "zip_bomb": bomb.getvalue(),
        "gzip_magic": b"\x1f\x8b\x08\x00" + b"\x00" * 64,
        "array": b"[1, 2, 3]",
        "bad_jwk": b'{"public_key": {"kty": "OKP", "crv": "Ed25519", "x": "!!"}, "statement": {}}',
        "bom_only": b"\xef\xbb\xbf",
    }


@pytest.mark.parametrize("name", sorted(_hostile_files()))
def test_hostile_request_files_to_the_portal_are_a_clear_4xx_and_change_nothing(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox, name: str
) -> None:
    customer = _sign_in(app, mailbox, victim_contract.registration_key, CONTACT)
    page = f"/portal/contracts/{victim_contract.contract_id}/license-file"
    before = _state(app)
    response = customer.post(
        page,
        data={"csrf_token": csrf_of(customer.get(page).text)},
        files={"request_file": ("REQ.json", _hostile_files()[name], "application/json")},
    )
    if name == "too_large":  # the body-size limit (64 KiB) refuses it before the form is read
        assert response.status_code == 413
    else:
        assert response.status_code == 400, (name, response.status_code)
        assert 'data-testid="license-file-error"' in response.text
        assert "更新要求ファイル" in response.text
    assert _state(app) == before


# --- Markup in what the customer (or a registering server) typed ----------------------------

EVIL_NAME = "<script>alert(1)</script><font color=red>赤</font><para>P</para>&amp;"
EVIL_EMAIL = "<svg/onload=alert(1)>@evil.example"


def test_markup_in_the_customer_name_and_address_stays_text(app: FastAPI, mailbox: Mailbox) -> None:
    contract = _issue(app, EVIL_NAME, EVIL_EMAIL)
    customer = _sign_in(app, mailbox, contract.registration_key, EVIL_EMAIL)
    assert EVIL_NAME in mailbox.received()[-1].get_content()  # a text/plain mail: verbatim
    base = f"/portal/contracts/{contract.contract_id}"
    for path in ("/portal/", base, f"{base}/certificate", f"{base}/license-file"):
        html = customer.get(path).text
        assert "<script>alert(1)" not in html, path
        assert "<svg/onload" not in html, path
        assert "<font color=red>" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in customer.get(base).text
    pdf = customer.get(f"{base}/certificate.pdf")
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "<script>alert(1)</script>" in text  # drawn as the characters typed, not markup
    assert "<font color=red>" in text
    assert 'filename="' in pdf.headers["content-disposition"]
    assert "<" not in pdf.headers["content-disposition"]


def test_markup_in_the_customer_name_stays_text_in_the_console(
    app: FastAPI, mailbox: Mailbox
) -> None:
    contract = _issue(app, EVIL_NAME, EVIL_EMAIL)
    # The customer acts in the portal: the audit names them by the address.
    _sign_in(app, mailbox, contract.registration_key, EVIL_EMAIL)
    with vendor_of(app).session() as session:
        services.add_user(session, name="alice", password="correct horse battery",
                          role="admin", actor="test")  # fmt: skip
    console = _client(app, "127.0.0.1")
    page = console.get("/console/login")
    console.post(
        "/console/login",
        data={"username": "alice", "password": "correct horse battery",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    for path in (f"/console/contracts/{contract.contract_id}", "/console/",
                 f"/console/contracts/{contract.contract_id}/contact",
                 "/console/audit"):  # fmt: skip
        response = console.get(path)
        assert response.status_code == 200, path
        assert "<script>alert(1)" not in response.text, path
        assert "<svg/onload" not in response.text, path
    audit = console.get("/console/audit").text
    assert "顧客ポータル（&lt;svg/onload=alert(1)&gt;@evil.example）" in audit


def test_the_offline_code_raced_from_four_tabs_is_issued_once(
    race_app: FastAPI, mailbox: Mailbox
) -> None:
    app = race_app
    victim_contract = _issue(app, "株式会社ひがいしゃ", CONTACT)
    with vendor_of(app).session() as session:
        services.renew_contract(session, victim_contract.contract_id, actor="test")
    customer = _sign_in(app, mailbox, victim_contract.registration_key, CONTACT)
    page = f"/portal/contracts/{victim_contract.contract_id}"
    token = csrf_of(customer.get(page).text)
    cookie = customer.cookies.get("cssec_portal")
    assert cookie
    tabs = [_client(app) for _ in range(4)]
    for tab in tabs:
        tab.cookies.set("cssec_portal", cookie, domain="testserver.local", path="/portal")
    before = _state(app)
    gate = threading.Barrier(len(tabs))

    def go(tab: TestClient) -> None:
        gate.wait()
        tab.post(f"{page}/offline-code", data={"product": "CS", "csrf_token": token})

    threads = [threading.Thread(target=go, args=(tab,)) for tab in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _state(app)["codes"] == before["codes"] + 1


def test_pages_with_codes_and_the_link_page_are_not_cached_nor_leak_a_referrer(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    customer = _sign_in(app, mailbox, victim_contract.registration_key, CONTACT)
    with vendor_of(app).session() as session:
        code_id = session.scalar(
            select(ActivationCodeRow.id).where(
                ActivationCodeRow.contract_id == victim_contract.contract_id
            )
        )
    base = f"/portal/contracts/{victim_contract.contract_id}"
    for path in (base, f"{base}/certificate", f"{base}/certificate.pdf",
                 f"{base}/codes/{code_id}.txt", "/portal/signin/" + "A" * 43):  # fmt: skip
        response = customer.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["referrer-policy"] in {"same-origin", "no-referrer"}, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    hostile = customer.get("/portal/signin/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "<script>alert(1)" not in hostile.text


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example@localhost",
        "evil.example\\@localhost",
        "localhost\\@evil.example",
        "localhost#@evil.example",
        "evil.example/@localhost",
        "evil.example?@localhost",
        "localhost:80@evil.example",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
    ],
)
def test_without_a_public_url_a_crafted_host_gets_no_link(
    tmp_path: Path, mailbox: Mailbox, clock: FakeClock, host: str
) -> None:
    """Links go to the request's own address only when it is a loopback one: no Host
    header that a browser would read as another site passes for one."""
    application = create_app(_settings(tmp_path, mailbox, portal_url=None), clock=clock)
    try:
        contract = _issue(application, "株式会社ひがいしゃ", CONTACT)
        client = _client(application)
        page = client.get("/portal/", headers={"host": host})
        answer = client.post(
            "/portal/signin",
            data={"registration_key": contract.registration_key, "email": CONTACT,
                  "csrf_token": csrf_of(page.text)},
            headers={"host": host},
        )  # fmt: skip
        assert answer.status_code == 503
        assert mailbox.received() == []
    finally:
        application.state.vendor.close()


def test_the_portal_never_names_support_desk_staff(
    app: FastAPI, victim_contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    """Console login names are half a console credential: the contract's audit in the
    portal says "the support desk", never who."""
    with vendor_of(app).session() as session:
        services.renew_contract(session, victim_contract.contract_id, actor="console:kuroki-desk")
    with vendor_of(app).session() as session:
        services.issue_replacement_code(
            session, victim_contract.contract_id, product="DCS", actor="console:kuroki-desk"
        )
    customer = _sign_in(app, mailbox, victim_contract.registration_key, CONTACT)
    base = f"/portal/contracts/{victim_contract.contract_id}"
    page = customer.get(base)
    assert 'data-testid="contract-audit"' in page.text
    for path in (base, f"{base}/certificate", "/portal/"):
        assert "kuroki" not in customer.get(path).text, path
