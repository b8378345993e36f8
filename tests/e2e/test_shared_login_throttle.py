"""Guess limits hold across worker processes and restarts: two real `cssec vendor serve`
processes on one data directory (what `--workers 2` runs), guesses spread across both,
and the back-off still in force after both are restarted. The console's password lockout
and its second-factor back-off count in the shared database, not in each process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyotp
import pytest
from tests.helpers.faults import VendorProcess, start_vendor

from cssec.vendor_service.models import User
from cssec.vendor_service.runtime import open_vendor
from cssec.vendor_service.services import add_user, two_factor
from cssec.vendor_service.settings import VendorSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUESSER = ("carol", "staple battery horse")
ENROLLED = ("dave", "horse staple battery")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


def _prepare(data_dir: Path) -> str:
    """Two staff accounts, the second with TOTP enrolled; its secret."""
    vendor = open_vendor(VendorSettings(data_dir=data_dir))
    try:
        secret = two_factor.new_secret()
        with vendor.session() as session:
            for name, password in (GUESSER, ENROLLED):
                add_user(session, name=name, password=password, actor="test")
            session.commit()
            dave = session.query(User).filter(User.name == ENROLLED[0]).one()
            now = datetime.now(UTC)
            two_factor.enroll(
                session, dave.id, secret=secret, code=pyotp.TOTP(secret).at(now),
                now=now, actor="test",
            )  # fmt: skip
            session.commit()
    finally:
        vendor.close()
    return secret


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Path, list[VendorProcess]]]:
    started: list[VendorProcess] = []
    yield tmp_path / "vendor", started
    for process in started:
        process.stop()


def _start_two(data_dir: Path, logs: Path, started: list[VendorProcess]) -> list[str]:
    for n in range(2):
        started.append(start_vendor(data_dir, logs / f"vendor-{len(started)}-{n}.log"))
    return [p.url for p in started[-2:]]


def _stop(started: list[VendorProcess]) -> None:
    for process in started:
        process.stop()
    started.clear()


def _login(client: httpx.Client, url: str, who: tuple[str, str]) -> httpx.Response:
    page = client.get(f"{url}/console/login")
    return client.post(
        f"{url}/console/login",
        data={"username": who[0], "password": who[1], "csrf_token": _csrf(page.text)},
    )


def _signed_in(answer: httpx.Response) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/console/")


def _code(client: httpx.Client, url: str, code: str) -> httpx.Response:
    page = client.get(f"{url}/console/login/second-factor")
    assert page.status_code == 200, page.text[:300]
    return client.post(
        f"{url}/console/login/second-factor", data={"code": code, "csrf_token": _csrf(page.text)}
    )


def test_guesses_spread_over_two_workers_are_capped_and_survive_a_restart(
    workers: tuple[Path, list[VendorProcess]], tmp_path: Path
) -> None:
    data_dir, started = workers
    secret = _prepare(data_dir)
    a, b = _start_two(data_dir, tmp_path, started)

    # The password lockout (5 failures per name and address): 3 wrong on one worker, 2 on
    # the other; then the right password is refused on either (per process: 2 < 5).
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        for url in (a, b, a, b, a):
            assert not _signed_in(_login(client, url, (GUESSER[0], "wrong password")))
        assert not _signed_in(_login(client, b, GUESSER)), "5 failures in all: refused"

    # The second-factor back-off (5 wrong codes per account): spread the same way.
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        assert _login(client, a, ENROLLED).headers["location"].endswith("/second-factor")
        for url in (a, b, a, b, a):
            assert _code(client, url, "000000").status_code == 401
        refused = _code(client, b, pyotp.TOTP(secret).now())
        assert refused.status_code == 429, "the 6th code waits, whichever worker gets it"
        assert 0 < int(refused.headers["retry-after"]) <= 60

    # Both workers restarted (their memory, rate limiters included, is gone): still refused.
    _stop(started)
    a, b = _start_two(data_dir, tmp_path, started)
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        assert not _signed_in(_login(client, a, GUESSER)), "the lockout survived the restart"
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        assert _login(client, b, ENROLLED).headers["location"].endswith("/second-factor")
        refused = _code(client, a, pyotp.TOTP(secret).now())
        assert refused.status_code == 429, "the back-off survived the restart"
