"""Portal fixtures: the vendor app mailing through a real SMTP sink, a contract with a
contact address, and helpers that sign a customer in by the mailed link.

The app, clock and database (SQLite, and PostgreSQL when configured) come from
tests/vendor_service/conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.helpers.smtp_sink import Mailbox, smtp_sink
from tests.helpers.vendor_pages import csrf_of, vendor_of

from cssec.vendor_service import services
from cssec.vendor_service.settings import VendorSettings

CUSTOMER = "株式会社ポータル"
CONTACT = "it@portal.example.co.jp"
OTHER_CUSTOMER = "株式会社ほか"
OTHER_CONTACT = "admin@other.example.co.jp"
PORTAL_URL = "http://testserver"
_LINK = re.compile(r"http://testserver(/portal/signin/[A-Za-z0-9_-]+)")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_sink() as box:
        yield box


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, mailbox: Mailbox) -> VendorSettings:
    return VendorSettings(
        data_dir=tmp_path / "vendor",
        database_url=database_url,
        rate_limit_storage="memory://",
        registration_rate_limit="1000/minute",
        status_rate_limit="1000/minute",
        smtp_host=mailbox.host,
        smtp_port=mailbox.port,
        smtp_security="none",
        smtp_sender="licenses@vendor.example",
        portal_url=PORTAL_URL,
        background_jobs=False,
    )


@pytest.fixture
def contract(app: FastAPI) -> services.IssuedContract:
    with vendor_of(app).session() as session:
        return services.issue_contract(
            session,
            customer=CUSTOMER,
            seats=25,
            with_dcs=True,
            contact_email=CONTACT,
            actor="console:alice",
        )


@pytest.fixture
def other_contract(app: FastAPI) -> services.IssuedContract:
    with vendor_of(app).session() as session:
        return services.issue_contract(
            session, customer=OTHER_CUSTOMER, seats=5, contact_email=OTHER_CONTACT, actor="test"
        )


def ask_for_link(client: TestClient, key: str, email: str) -> httpx.Response:
    page = client.get("/portal/")
    return client.post(
        "/portal/signin",
        data={"registration_key": key, "email": email, "csrf_token": csrf_of(page.text)},
    )


def link_in(mail: EmailMessage) -> str:
    body = mail.get_content()
    found = _LINK.search(body)
    assert found, body
    return found.group(1)


def use_link(client: TestClient, path: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_of(page.text)})


def sign_in(client: TestClient, mailbox: Mailbox, key: str, email: str = CONTACT) -> TestClient:
    before = len(mailbox.received())
    response = ask_for_link(client, key, email)
    assert response.status_code == 200, response.text
    mails = mailbox.received()
    assert len(mails) == before + 1
    signed_in = use_link(client, link_in(mails[-1]))
    assert signed_in.status_code == 200, signed_in.text
    assert "/portal/contracts/" in str(signed_in.url)
    return client


@pytest.fixture
def customer(app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    return sign_in(client, mailbox, contract.registration_key)
