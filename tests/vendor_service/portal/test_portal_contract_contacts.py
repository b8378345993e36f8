"""Issue 21, reproduction 3, and issue 22, item 3: identity is bound to the contract.

Two customers named the same ("C社") and a distributor's bulk batch, each contract
registered by its own end customer; staff set one contract's contact in the console. The
portal (real SMTP sink, mailed links) must show each contact exactly its own contract,
refuse every path to the other's (page, codes, certificate, renewal response, offline
code), and leave the other contact able to sign in. `contract new` with the same name and
a contact address must not rewrite another contract's contact. Then the sign-in throttle:
an outsider naming a key from twenty source addresses must not lock its contact out.
"""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.helpers.smtp_sink import Mailbox
from tests.vendor_service.portal.conftest import (
    CONTACT,
    ask_for_link,
    csrf_of,
    link_in,
    sign_in,
    use_link,
    vendor_of,
)
from typer.testing import CliRunner

from cssec.cli import app as cli_app
from cssec.core.clock import FakeClock
from cssec.core.license_files import RequestedCode, build_request
from cssec.core.signing import SigningKey
from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow, Contract, User
from cssec.vendor_service.settings import VendorSettings
from cssec.web.security import hash_password

E1 = "e1@c-sha.example.co.jp"
E2 = "e2@c-sha.example.co.jp"
STAFF = ("bob", "staple battery horse")


@pytest.fixture
def settings(settings: VendorSettings) -> VendorSettings:
    """The portal's settings; the console signed in by password (no TOTP) for the staff."""
    return settings.model_copy(update={"console_require_totp": False})


@pytest.fixture(scope="module")
def staff_hash() -> str:
    return hash_password(STAFF[1])


def _client(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(ip, 50000))


def _staff(app: FastAPI, password_hash: str, clock: FakeClock) -> TestClient:
    with vendor_of(app).session() as session:
        session.add(
            User(
                name=STAFF[0],
                password_hash=password_hash,
                role="staff",
                failed_logins=0,
                created_at=clock.now(),
            )
        )
        session.commit()
    client = _client(app, "192.0.2.200")
    page = client.get("/console/login")
    done = client.post(
        "/console/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf_token": csrf_of(page.text)},
    )
    assert done.url.path == "/console/", done.text
    return client


def _set_contact(staff: TestClient, contract_id: int, email: str) -> None:
    """What staff do in the console when a customer asks: the contract's contact form."""
    path = f"/console/contracts/{contract_id}/contact"
    saved = staff.post(
        path,
        data={
            "contact_email": email,
            "language": "ja",
            "csrf_token": csrf_of(staff.get(path).text),
        },
    )
    assert saved.url.path == f"/console/contracts/{contract_id}", saved.text


def _register(app: FastAPI, key: str, email: str, server: str) -> None:
    """The end customer's server registers online with the key, giving its own address."""
    answer = _client(app, "192.0.2.100").post(
        "/api/v1/registrations",
        json={
            "registration_key": key,
            "company": "C社",
            "contact_email": email,
            "server_id": server,
        },
    )
    assert answer.status_code == 200, answer.text


def _code_ids(app: FastAPI, contract_id: int) -> list[int]:
    with vendor_of(app).session() as session:
        return list(
            session.scalars(
                select(ActivationCodeRow.id).where(ActivationCodeRow.contract_id == contract_id)
            )
        )


def _request_file(code: str, clock: FakeClock) -> bytes:
    return build_request(
        SigningKey.generate(),
        server_id="srv-offline",
        codes=[RequestedCode("CS", code.replace("-", ""))],
        seats_used=1,
        nonce="N" * 24,
        created_at=clock.now(),
    )[0]


def _upload(client: TestClient, contract_id: int, data: bytes, token: str) -> httpx.Response:
    return client.post(
        f"/portal/contracts/{contract_id}/license-file",
        data={"csrf_token": token},
        files={"request_file": ("REQ.json", data, "application/json")},
    )


def _refused_everything_of(
    client: TestClient,
    app: FastAPI,
    mine: services.IssuedContract,
    theirs: services.IssuedContract,
    clock: FakeClock,
) -> None:
    """`client` (signed in for `mine`) reaches nothing of `theirs`, and gets its own."""
    listing = client.get("/portal/").text
    assert f"/portal/contracts/{mine.contract_id}" in listing
    assert f"/portal/contracts/{theirs.contract_id}" not in listing
    own = client.get(f"/portal/contracts/{mine.contract_id}")
    assert own.status_code == 200
    assert mine.codes["CS"] in own.text
    assert theirs.codes["CS"] not in own.text
    their_codes = _code_ids(app, theirs.contract_id)
    cid = theirs.contract_id
    for path in (
        f"/portal/contracts/{cid}",
        f"/portal/contracts/{cid}/certificate",
        f"/portal/contracts/{cid}/certificate.pdf",
        f"/portal/contracts/{cid}/license-file",
        *(f"/portal/contracts/{cid}/codes/{code}.txt" for code in their_codes),
        *(f"/portal/contracts/{mine.contract_id}/codes/{code}.txt" for code in their_codes),
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert theirs.codes["CS"] not in response.text, path
    token = csrf_of(own.text)
    offline = client.post(
        f"/portal/contracts/{cid}/offline-code", data={"product": "CS", "csrf_token": token}
    )
    assert offline.status_code == 404
    # A renewal response for their code: refused on either page; for our own: answered.
    for page in (mine.contract_id, cid):
        refused = _upload(client, page, _request_file(theirs.codes["CS"], clock), token)
        assert refused.status_code in {403, 404}, (page, refused.status_code)
        assert "attachment" not in refused.headers.get("content-disposition", "")
    answered = _upload(client, mine.contract_id, _request_file(mine.codes["CS"], clock), token)
    assert answered.status_code == 200
    assert "attachment" in answered.headers["content-disposition"]


def test_same_name_customers_and_a_bulk_batch_are_separate_in_the_portal(
    app: FastAPI, mailbox: Mailbox, clock: FakeClock, tmp_path: Path, staff_hash: str
) -> None:
    vendor = vendor_of(app)
    with vendor.session() as session:
        e1 = services.issue_contract(session, customer="C社", seats=5, actor="test")
        e2 = services.issue_contract(session, customer="C社", seats=8, actor="test")
        batch = services.issue_bulk_contracts(
            session,
            count=3,
            seats=5,
            out=tmp_path / "batch.csv",
            customer="Distributor X",
            actor="test",
        )
    _register(app, e1.registration_key, E1, "srv-e1")
    _register(app, e2.registration_key, E2, "srv-e2")
    staff = _staff(app, staff_hash, clock)
    _set_contact(staff, e1.contract_id, E1)  # as E1 asked

    first = sign_in(_client(app, "198.51.100.1"), mailbox, e1.registration_key, E1)
    assert mailbox.received()[-1]["To"] == E1
    _refused_everything_of(first, app, e1, e2, clock)
    # E2 can still sign in (by the address its own registration gave), and sees only E2.
    second = sign_in(_client(app, "198.51.100.2"), mailbox, e2.registration_key, E2)
    assert mailbox.received()[-1]["To"] == E2
    _refused_everything_of(second, app, e2, e1, clock)
    # E1's address with E2's key opens nothing: no mail.
    mails = len(mailbox.received())
    assert ask_for_link(_client(app, "198.51.100.3"), e2.registration_key, E1).status_code == 200
    assert len(mailbox.received()) == mails

    # The bulk batch: one distributor's name, separate contracts.
    with (tmp_path / "batch.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    keys = {int(row["contract_id"]): row["registration_key"] for row in rows}
    b1, b2 = (
        services.IssuedContract(
            contract_id=cid,
            registration_key=keys[cid],
            end=batch.end,
            codes={"CS": _current_cs(app, cid)},
        )
        for cid in list(batch.contract_ids)[:2]
    )
    _set_contact(staff, b1.contract_id, "shop1@end-user.example")
    _register(app, b2.registration_key, "shop2@end-user.example", "srv-b2")
    one = sign_in(
        _client(app, "198.51.100.4"), mailbox, b1.registration_key, "shop1@end-user.example"
    )
    _refused_everything_of(one, app, b1, b2, clock)
    two = sign_in(
        _client(app, "198.51.100.5"), mailbox, b2.registration_key, "shop2@end-user.example"
    )
    _refused_everything_of(two, app, b2, b1, clock)

    # Staff move E1's contact elsewhere: E1's open session ends; E2's is untouched.
    _set_contact(staff, e1.contract_id, "new-e1@c-sha.example.co.jp")
    assert first.get(f"/portal/contracts/{e1.contract_id}").url.path == "/portal/"
    assert second.get(f"/portal/contracts/{e2.contract_id}").status_code == 200


def _current_cs(app: FastAPI, contract_id: int) -> str:
    with vendor_of(app).session() as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        return services.formatted_code(services.current_code_rows(contract)["CS"])


def test_contract_new_with_a_known_name_and_a_contact_rewrites_no_other_contract(
    app: FastAPI,
    mailbox: Mailbox,
    settings: VendorSettings,
    database_url: str | None,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    if database_url is None:
        monkeypatch.delenv("CSSEC_VENDOR_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("CSSEC_VENDOR_DATABASE_URL", database_url)
    with vendor_of(app).session() as session:
        first = services.issue_contract(
            session, customer="C社", seats=5, contact_email=E1, actor="test"
        )
    result = CliRunner().invoke(
        cli_app,
        [
            "vendor",
            "contract",
            "new",
            "--customer",
            "C社",
            "--seats",
            "3",
            "--contact-email",
            "z@c-sha.example.co.jp",
            "--data",
            str(settings.data_dir),
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    key = result.stdout.strip().splitlines()[-1]
    found = re.search(r"contract: (\d+)", result.stdout)
    assert found
    new_id = int(found.group(1))
    # Each contact still signs in to its own contract, and neither sees the other.
    e1 = sign_in(_client(app, "198.51.100.10"), mailbox, first.registration_key, E1)
    assert e1.get(f"/portal/contracts/{new_id}").status_code == 404
    z = sign_in(_client(app, "198.51.100.11"), mailbox, key, "z@c-sha.example.co.jp")
    assert z.get(f"/portal/contracts/{first.contract_id}").status_code == 404
    assert z.get(f"/portal/contracts/{new_id}").status_code == 200


def _answer(response: httpx.Response, typed: str) -> str:
    """The page as the asker sees it, without the per-session CSRF token and the address
    they typed (which the page repeats back)."""
    text = re.sub(r'value="[A-Za-z0-9_-]{40,}"', 'value=""', response.text)
    return text.replace(typed, "ADDRESS")


def test_twenty_wrong_addresses_from_twenty_sources_do_not_lock_the_contact_out(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    """Issue 22 item 3 as reported: the default limits, a key known to the attacker."""
    answers = set()
    for i in range(20):
        typed = f"guess{i}@attacker.example"
        response = ask_for_link(
            _client(app, f"203.0.113.{i + 1}"), contract.registration_key, typed
        )
        assert response.status_code == 200
        answers.add(_answer(response, typed))
    assert mailbox.received() == []  # wrong addresses mail nobody
    real = ask_for_link(_client(app, "198.51.100.77"), contract.registration_key, CONTACT)
    assert real.status_code == 200
    answers.add(_answer(real, CONTACT))
    assert len(answers) == 1  # the answer does not tell whether the address matched
    [mail] = mailbox.received()
    assert mail["To"] == CONTACT
    assert use_link(_client(app, "198.51.100.77"), link_in(mail)).url.path.startswith(
        f"/portal/contracts/{contract.contract_id}"
    )


def test_a_flood_of_right_pairs_mails_the_contact_once_and_its_link_still_works(
    app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox, clock: FakeClock
) -> None:
    """Someone who knows both the key and the address cannot bury the contact in mail nor
    lock them out: while the last link is unused, no new one is sent, and that link works."""
    for i in range(20):
        ip = f"203.0.113.{100 + i}"
        assert ask_for_link(_client(app, ip), contract.registration_key, CONTACT).status_code == 200
    [mail] = mailbox.received()
    own = _client(app, "198.51.100.78")
    assert ask_for_link(own, contract.registration_key, CONTACT).status_code == 200
    assert len(mailbox.received()) == 1
    clock.advance(timedelta(minutes=4))  # still within the link's 15 minutes
    assert use_link(own, link_in(mail)).url.path == f"/portal/contracts/{contract.contract_id}"
    # Used: the next request mails a new link at once.
    assert ask_for_link(own, contract.registration_key, CONTACT).status_code == 200
    assert len(mailbox.received()) == 2
    # Unused for a third of its lifetime: the next one goes out too.
    clock.advance(timedelta(minutes=5, seconds=1))
    assert ask_for_link(own, contract.registration_key, CONTACT).status_code == 200
    assert len(mailbox.received()) == 3
