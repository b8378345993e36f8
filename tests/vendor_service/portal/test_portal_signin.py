"""Signing in to the portal by the e-mailed link: real SMTP (aiosmtpd), real database, a
fake clock for the link's and the session's lifetimes."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.smtp_sink import Mailbox
from tests.vendor_service.portal.conftest import (
    CONTACT,
    CUSTOMER,
    OTHER_CONTACT,
    ask_for_link,
    csrf_of,
    link_in,
    sign_in,
    use_link,
    vendor_of,
)

from cssec.core.clock import FakeClock
from cssec.core.codes import MacKey, encode_registration_key
from cssec.vendor_service import services
from cssec.vendor_service.models import AuditEntry, PortalSignIn


def _client(app: FastAPI, ip: str = "198.51.100.7") -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(ip, 50000))


def _answer(html: str) -> str:
    """The page without its CSRF token (which differs per session by design)."""
    return re.sub(r'value="[A-Za-z0-9_-]{40,}"', 'value=""', html)


def _well_formed_unknown_key() -> str:
    """A key with a right check character and a MAC no vendor key made."""
    return encode_registration_key(serial=987654, key=MacKey(kid=1, secret=b"x" * 32)).formatted


def test_the_mailed_link_signs_the_customer_in_once(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    client = _client(app)
    answer = ask_for_link(client, contract.registration_key, "  IT@Portal.Example.co.jp ")
    assert answer.status_code == 200
    assert 'data-testid="link-sent"' in answer.text
    [mail] = mailbox.received()
    assert mail["To"] == CONTACT
    assert "サインイン" in mail["Subject"]
    assert CUSTOMER in mail.get_content()
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]
    with vendor_of(app).session() as session:
        stored = list(session.scalars(select(PortalSignIn.token_hash)))
    assert token not in stored  # only its hash
    # Opening the link signs nothing in (mail scanners fetch links); the button does.
    assert "/portal/contracts/" not in str(client.get(path).url)
    signed_in = use_link(client, path)
    assert str(signed_in.url).endswith(f"/portal/contracts/{contract.contract_id}")
    assert contract.codes["CS"] in signed_in.text
    assert contract.registration_key in signed_in.text
    # The same link a second time, in another browser: refused.
    again = use_link(_client(app, "203.0.113.9"), path)
    assert again.status_code == 400
    assert "使用済み" in again.text
    with vendor_of(app).session() as session:
        audited = session.scalar(select(AuditEntry).where(AuditEntry.action == "portal.signed_in"))
        assert audited is not None
        assert audited.actor == f"portal:{CONTACT}"
        assert audited.target == f"contract:{contract.contract_id}"


def test_the_link_expires(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox, clock: FakeClock
) -> None:
    client = _client(app)
    ask_for_link(client, contract.registration_key, CONTACT)
    path = link_in(mailbox.received()[-1])
    clock.advance(timedelta(minutes=15, seconds=1))
    refused = use_link(client, path)
    assert refused.status_code == 400
    assert "有効期限" in refused.text
    assert client.get(f"/portal/contracts/{contract.contract_id}").url.path == "/portal/"


def test_the_answer_is_the_same_whatever_was_typed(
    app: FastAPI, contract: services.IssuedContract, other_contract: services.IssuedContract,
    mailbox: Mailbox,
) -> None:  # fmt: skip
    tries = [
        (contract.registration_key, CONTACT),  # right
        (contract.registration_key, "someone@else.example"),  # wrong address
        (contract.registration_key, OTHER_CONTACT),  # another customer's address
        (_well_formed_unknown_key(), CONTACT),  # a key nobody issued
        (other_contract.registration_key, CONTACT),  # another contract's key
    ]
    answers = []
    for index, (key, email) in enumerate(tries):
        response = ask_for_link(_client(app, f"198.51.100.{index + 1}"), key, email)
        assert response.status_code == 200
        answers.append(_answer(response.text).replace(email, "EMAIL"))
    assert len(set(answers)) == 1
    assert [m["To"] for m in mailbox.received()] == [CONTACT]
    with vendor_of(app).session() as session:
        rows = session.scalar(select(func.count(PortalSignIn.id)))
        usable = session.scalar(
            select(func.count(PortalSignIn.id)).where(PortalSignIn.customer_id.is_not(None))
        )
    assert (rows, usable) == (len(tries), 1)  # the same work every time


def test_a_typo_in_the_key_is_told_and_nothing_is_sent(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    typo = contract.registration_key[:-1] + ("A" if contract.registration_key[-1] != "A" else "B")
    response = ask_for_link(_client(app), typo, CONTACT)
    assert response.status_code == 422
    assert 'data-testid="error-registration_key"' in response.text
    assert f'value="{typo}"' in response.text  # the input is kept
    missing = ask_for_link(_client(app), "", "not-an-address")
    assert missing.status_code == 422
    assert 'data-testid="error-email"' in missing.text
    assert mailbox.received() == []


def test_link_requests_are_rate_limited_per_source_address_never_per_key(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    client = _client(app, "192.0.2.10")
    for _ in range(5):
        assert ask_for_link(client, contract.registration_key, "x@y.example").status_code == 200
    limited = ask_for_link(client, contract.registration_key, CONTACT)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"]
    assert mailbox.received() == []
    # Another address, the same key: the wrong addresses cost their sender only; the
    # contact gets the link (issue 22: a per-key count let anyone lock the contact out).
    elsewhere = ask_for_link(_client(app, "192.0.2.11"), contract.registration_key, CONTACT)
    assert elsewhere.status_code == 200
    assert [m["To"] for m in mailbox.received()] == [CONTACT]


def test_every_form_needs_the_csrf_token(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    client = _client(app)
    client.get("/portal/")
    forged = client.post(
        "/portal/signin", data={"registration_key": contract.registration_key, "email": CONTACT}
    )
    assert forged.status_code == 403
    assert mailbox.received() == []
    ask_for_link(client, contract.registration_key, CONTACT)
    path = link_in(mailbox.received()[-1])
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    assert use_link(client, path).status_code == 200  # the forged POST did not use it up


def test_sign_out_ends_the_session_and_every_copy_of_its_cookie(
    app: FastAPI, customer: TestClient
) -> None:
    page = f"/portal/contracts/{_contract_id(customer)}"
    copy = TestClient(app, raise_server_exceptions=False, cookies=dict(customer.cookies))
    assert copy.get(page).url.path == page
    signed_out = customer.post(
        "/portal/signout", data={"csrf_token": csrf_of(customer.get(page).text)}
    )
    assert signed_out.url.path == "/portal/"
    assert customer.get(page).url.path == "/portal/"
    assert copy.get(page).url.path == "/portal/"  # the copied cookie too


def test_an_idle_session_ends(app: FastAPI, customer: TestClient, clock: FakeClock) -> None:
    page = f"/portal/contracts/{_contract_id(customer)}"
    clock.advance(timedelta(minutes=29))
    assert customer.get(page).url.path == page
    clock.advance(timedelta(minutes=31))
    ended = customer.get(page)
    assert ended.url.path == "/portal/"
    assert "セッションが終了しました" in ended.text


def test_a_customer_sees_only_their_own_contracts(
    app: FastAPI, customer: TestClient, other_contract: services.IssuedContract
) -> None:
    refused = customer.get(f"/portal/contracts/{other_contract.contract_id}")
    assert refused.status_code == 404
    assert OTHER_CONTACT not in refused.text
    assert (
        customer.get(f"/portal/contracts/{other_contract.contract_id}/certificate.pdf").status_code
        == 404
    )
    listing = customer.get("/portal/")
    assert CUSTOMER in listing.text
    assert "株式会社ほか" not in listing.text


def test_the_portal_cookie_is_its_own(app: FastAPI, customer: TestClient) -> None:
    cookie = next(c for c in customer.cookies.jar if c.name == "cssec_portal")
    assert cookie.path == "/portal"
    assert not any(c.name == "cssec_console" for c in customer.cookies.jar)
    # A console request never sees the portal session.
    assert customer.get("/console/").url.path == "/console/login"


def test_english(app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox) -> None:
    client = TestClient(app, raise_server_exceptions=False, headers={"Accept-Language": "en"})
    form = client.get("/portal/")
    assert "Sign in to the customer portal" in form.text
    sent = ask_for_link(client, contract.registration_key, CONTACT)
    assert "Check your mail" in sent.text
    mail = mailbox.received()[-1]
    assert mail["Subject"] == "C/S Sec. customer portal: your sign-in link"
    page = use_link(client, link_in(mail))
    assert "Activation codes" in page.text
    assert "アクティベーションコード" not in page.text


def test_without_a_public_url_only_loopback_requests_get_links(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    vendor_of(app).settings.portal_url = None
    forged_host = TestClient(app, raise_server_exceptions=False, base_url="http://evil.example")
    refused = ask_for_link(forged_host, contract.registration_key, CONTACT)
    assert refused.status_code == 503
    assert mailbox.received() == []
    local = TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1:8000")
    assert ask_for_link(local, contract.registration_key, CONTACT).status_code == 200
    assert "http://127.0.0.1:8000/portal/signin/" in mailbox.received()[-1].get_content()


def _contract_id(client: TestClient) -> int:
    found = re.search(r"/portal/contracts/(\d+)", client.get("/portal/").text)
    assert found
    return int(found.group(1))


def test_a_contact_of_two_contracts_signs_in_to_each_with_its_own_key(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    """A session is for the contract whose key opened it, even when the same address is the
    contact of another contract of the same customer name."""
    with vendor_of(app).session() as session:
        second = services.issue_contract(
            session, customer=CUSTOMER, seats=3, contact_email=CONTACT, actor="test"
        )
    client = sign_in(_client(app), mailbox, second.registration_key)
    listing = client.get("/portal/").text
    assert f"/portal/contracts/{second.contract_id}" in listing
    assert f"/portal/contracts/{contract.contract_id}" not in listing
    assert client.get(f"/portal/contracts/{contract.contract_id}").status_code == 404
    first = sign_in(_client(app, "198.51.100.8"), mailbox, contract.registration_key)
    assert first.get(f"/portal/contracts/{contract.contract_id}").status_code == 200
    assert first.get(f"/portal/contracts/{second.contract_id}").status_code == 404


def test_without_a_mail_server_the_form_says_so_at_once(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    vendor_of(app).settings.smtp_host = None
    refused = ask_for_link(_client(app), contract.registration_key, CONTACT)
    assert refused.status_code == 503
    assert "メールサーバが未設定" in refused.text
    with vendor_of(app).session() as session:
        assert session.scalar(select(func.count(PortalSignIn.id))) == 0
