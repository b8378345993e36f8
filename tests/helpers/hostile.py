"""Helpers of the hostile-input and security tests (imported by conftest and the tests; not a
conftest so it can be imported by name).

Builds an in-process vendor (SQLite, fake clock) and a C/S Sec. server installed against it
over httpx's ASGI transport, so nothing here ever reaches a real network.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url

from cssec.core._damm import M0, M1, M2, M3, M4
from cssec.core.clock import FakeClock
from cssec.core.codes import ACTIVATION_CODE_GROUPS, ALPHABET, format_symbols
from cssec.core.license import Product
from cssec.server.app import create_app as create_server_app
from cssec.server.licensing.install import InstallRequest, install_server
from cssec.server.licensing.trust import VendorTrust
from cssec.server.settings import ServerSettings
from cssec.server.tls.vendor import VendorTls
from cssec.vendor_service.app import create_app as create_vendor_app
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import IssuedContract, issue_contract
from cssec.vendor_service.settings import VendorSettings

START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
TZ_NAME = "Asia/Tokyo"
SERVER_PASSWORD = "correct horse battery"
LOOPBACK = ("127.0.0.1", 40000)
"""The ASGI client address of agent calls (AutoPcc accepts loopback; TestClient's
"testclient" is no address at all)."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def vendor_settings(data_dir: Path) -> VendorSettings:
    """Rate limits raised so that 429s (documented, but dull) do not drown the fuzzing."""
    return VendorSettings(
        data_dir=data_dir,
        registration_rate_limit="1000000/minute",
        status_rate_limit="1000000/minute",
        activeupdate_rate_limit="1000000/minute",
        # The attacks sign staff in by password; the TOTP policy has its own tests.
        console_require_totp=False,
    )


@contextmanager
def postgres_database(prefix: str = "cssec_hostile") -> Iterator[str]:
    """A throwaway PostgreSQL database's URL (the test is skipped when
    CSSEC_TEST_POSTGRES_URL is not set): races that SQLite's one writer at a time hides."""
    base = os.environ.get("CSSEC_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("CSSEC_TEST_POSTGRES_URL is not set")
    url = make_url(base)
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_vendor_app(data_dir: Path, clock: FakeClock) -> FastAPI:
    return create_vendor_app(vendor_settings(data_dir), clock=clock)


def vendor_of(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def new_contract(app: FastAPI, customer: str = "株式会社ホスタイル") -> IssuedContract:
    with vendor_of(app).session() as session:
        return issue_contract(session, customer=customer, seats=25, with_dcs=True, actor="test")


def install_server_against(
    data_dir: Path, vendor_app: FastAPI, clock: FakeClock, activation_code: str
) -> tuple[ServerSettings, httpx.AsyncBaseTransport]:
    """`cssec server install` (online, with an activation code) against the in-process vendor;
    the settings to open it with and the transport that reaches the vendor."""
    transport = httpx.ASGITransport(app=vendor_app)
    asyncio.run(
        install_server(
            InstallRequest(
                data_dir=data_dir,
                vendor_url="http://vendor.test",
                admin_password=SERVER_PASSWORD,
                activation_code=activation_code,
                trust=VendorTrust(keys=tuple(vendor_of(vendor_app).keyring.verifying_keys[:1])),
                vendor_tls=VendorTls(allow_http=True),  # in-process vendor: --insecure-http
            ),
            clock=clock,
            tz=ZoneInfo(TZ_NAME),
            transport=transport,
        )
    )
    settings = ServerSettings(
        data_dir=data_dir,
        timezone=TZ_NAME,
        online_checks=False,
        enroll_rate_limit="1000000/minute",
        agent_auth_failure_limit="1000000/minute",
    )
    return settings, transport


def make_server_app(
    settings: ServerSettings, clock: FakeClock, transport: httpx.AsyncBaseTransport
) -> FastAPI:
    return create_server_app(
        settings, clock=clock, vendor_transport=transport, start_scheduler=False
    )


@dataclass(frozen=True)
class Served:
    """A real process on a loopback port."""

    url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- Code generators for the fuzzing -------------------------------------------------------

_RFC_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC_B32, ALPHABET)
_PREFIX_VALUES = {
    Product.CS: ALPHABET.index("C") << 5 | ALPHABET.index("S"),
    Product.DCS: ALPHABET.index("D") << 5 | ALPHABET.index("C"),
}


_SEATS = 0xFFFF << 118
_FIXED = ((1 << 16) - 1) << 134 | 0x3F << 64  # prefix, version, version type; kid


def _damm_check(n: int) -> int:
    """The check symbol for the 30 symbols of `n`: the Damm sum is linear over GF(2) (see
    core._damm), and the last position's coefficient is 1, so the check is the sum itself."""
    n <<= 5
    return (
        ((n & M0).bit_count() & 1)
        | ((n & M1).bit_count() & 1) << 1
        | ((n & M2).bit_count() & 1) << 2
        | ((n & M3).bit_count() & 1) << 3
        | ((n & M4).bit_count() & 1) << 4
    )


def symbols_of(n: int) -> str:
    """The 31 symbols of a 155-bit integer, fast (base64's base32 with another alphabet)."""
    return base64.b32encode((n << 5).to_bytes(20, "big")).decode()[:31].translate(_TO_CROCKFORD)


def forged_code(rng: random.Random, kids: list[int]) -> str:
    """A well-formed activation code (real prefix, version 1, full version, seats ≥ 1, a kid
    the vendor trusts, a correct check symbol) with random seats, expiry, serial and MAC:
    only the MAC can tell it is forged."""
    n = rng.getrandbits(150) & ~_FIXED
    prefix = _PREFIX_VALUES[Product.CS] if n & 1 << 70 else _PREFIX_VALUES[Product.DCS]
    n |= (prefix << 6 | 1 << 2) << 134 | kids[(n >> 71 & 0xFF) % len(kids)] << 64
    if not n & _SEATS:
        n |= 1 << 118
    return symbols_of(n << 5 | _damm_check(n))


def noisy(
    rng: random.Random, symbols: str, groups: tuple[int, ...] = ACTIVATION_CODE_GROUPS
) -> str:
    """How people type it: hyphens or not, any case, spaces around."""
    text = format_symbols(symbols, groups) if rng.random() < 0.5 else symbols
    if rng.random() < 0.3:
        text = text.lower()
    return f" {text} " if rng.random() < 0.1 else text


def mutate(rng: random.Random, symbols: str) -> str:
    """One to three edits in symbol space: substitute, insert, delete, swap (adjacent or any
    two), duplicate a group. Case and hyphens are not edits (they are forgiven on purpose)."""
    chars = list(symbols)
    for _ in range(rng.choice((1, 1, 2, 3))):
        op = rng.randrange(6)
        i = rng.randrange(len(chars))
        if op == 0:
            chars[i] = rng.choice(ALPHABET.replace(chars[i], ""))
        elif op == 1:
            chars.insert(i, rng.choice(ALPHABET))
        elif op == 2 and len(chars) > 1:
            del chars[i]
        elif op == 3 and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op == 4:
            j = rng.randrange(len(chars))
            chars[i], chars[j] = chars[j], chars[i]
        else:
            chars[i:i] = chars[i : i + 5]
    return "".join(chars)
