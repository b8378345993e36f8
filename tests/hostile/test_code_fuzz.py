"""Fuzzing the code parsers and the vendor's verification path.

- Hypothesis throws hostile text (any Unicode, lone surrogates, NFKC-expanding and
  format-string characters, very long input) at the parsers, the error rendering in both
  languages and the vendor's lookup services: nothing raises but a CssecError, every
  refusal renders.
- 10⁶ random codes and 10⁵ mutated real codes at the vendor's verification path, in
  process: `check_activation_code` under the vendor keyring, which is what
  `services.find_activation_code` (the API's path) runs before its one indexed lookup and
  refuses on; none is accepted. Half of the random ones are well-formed forgeries (real
  prefix, version, seats, trusted key id, correct check symbol), so the MAC is what must
  refuse them; the mutated ones are 1 to 3 edits of issued codes.
- The same verdict end to end: 2,000 of them through the service function and 2,000
  through `POST /api/v1/status`.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient
from tests.helpers.hostile import forged_code, mutate, new_contract, noisy, symbols_of, vendor_of

from cssec.core.codes import (
    ACTIVATION_CODE_GROUPS,
    ALPHABET,
    CodeError,
    check_activation_code,
    check_registration_key,
    classify,
    format_symbols,
    normalize,
    parse_activation_code,
    parse_registration_key,
)
from cssec.core.errors import CssecError, InvalidActivationCode
from cssec.vendor_service import services
from cssec.vendor_service.models import ActivationCodeRow, RegistrationKeyRow, StatusCheck

RANDOM_CODES = 1_000_000
MUTATED_CODES = 100_000
SAMPLE = 2_000
BUDGET_SECONDS = 60

_FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters that have bitten parsers: NFKC expansions (㍿ → 株式会社, ﬀ → ff), full-width
# and compatibility digits, Crockford's ambiguous letters, separators of every kind, format
# and bidi controls, combining marks, braces and percent signs (format strings), NUL.
_TRICKY = (
    "０１２３ＡＢＣＤＥｏｉｌＯＩＬ－ー―‐—–ｰ﹣−　 \t\n\r\u00ad\u200b\u200d\u2060\ufeff"
    "\u202e\u202d\u0301\u0308㍿ﬀ①⑩ⅻ𝟎𝟏{}{0}%s%(x)s\\\x00ßẞİıǅ"
)
hostile_text = st.one_of(
    st.text(max_size=80),  # any code point, lone surrogates included
    st.text(alphabet=ALPHABET + ALPHABET.lower() + _TRICKY, max_size=60),
    st.text(alphabet=ALPHABET + "-", min_size=17, max_size=40),
    st.builds(
        lambda head, tail: head * 2000 + tail,  # long input must not be slow or fail
        st.sampled_from(["A", "-", "０", "㍿", "\u0301"]),
        st.text(max_size=10),
    ),
)


def _renders(error: CssecError) -> None:
    for lang in ("ja", "en"):
        body = error.to_dict(lang)
        assert isinstance(body["message"], str)
        assert body["message"]
        json.dumps(body)


@_FUZZ
@given(text=hostile_text)
def test_parsers_never_raise_and_every_refusal_renders(text: str) -> None:
    keys = {0: b"k" * 32}
    for check in (
        parse_activation_code(text),
        parse_registration_key(text),
        check_activation_code(text, keys),
        check_registration_key(text, keys),
    ):
        if check.ok:
            assert check.value is not None
        else:
            assert check.error is not None
            _renders(check.to_error())
    assert classify(text) in (None, "activation_code", "registration_key")
    normalize(text)


@pytest.fixture
def codes_app(vendor_app: FastAPI) -> FastAPI:
    """Ten contracts with both products: twenty issued activation codes, ten keys."""
    for i in range(10):
        new_contract(vendor_app, customer=f"株式会社ファズ{i}")
    return vendor_app


@_FUZZ
@given(text=hostile_text)
def test_vendor_lookups_refuse_hostile_text_cleanly(codes_app: FastAPI, text: str) -> None:
    """What the console and the CLI call with what a person typed: a CssecError or an
    answer, never anything else."""
    vendor = vendor_of(codes_app)
    with vendor.session() as session:
        try:
            services.inspect_code(session, text)
        except CssecError as exc:
            _renders(exc)
        for call in (services.find_activation_code, services.find_registration_key):
            with pytest.raises(CssecError) as refused:
                call(session, text)
            _renders(refused.value)
        services.search_contracts(session, text)


def _issued(app: FastAPI) -> tuple[list[str], list[str]]:
    """Canonical symbols of every issued activation code and registration key."""
    with vendor_of(app).session() as session:
        codes = [t for t in session.scalars(select(ActivationCodeRow.text)) if t]
        keys = [t for t in session.scalars(select(RegistrationKeyRow.text)) if t]
    return codes, keys


def _refused(texts: list[str], mac_secrets: Any) -> Counter[str]:
    """Why each text was refused; "ACCEPTED" counts the ones that were not."""
    reasons: Counter[str] = Counter()
    for text in texts:
        check = check_activation_code(text, mac_secrets)
        reasons[check.error.value if check.error is not None else "ACCEPTED"] += 1
    return reasons


@pytest.mark.slow
def test_a_million_random_codes_none_accepted(codes_app: FastAPI) -> None:
    vendor = vendor_of(codes_app)
    secrets = vendor.keyring.mac_secrets
    kids = sorted(secrets)
    issued, _ = _issued(codes_app)
    # The harness is not vacuous: every issued code passes the same check.
    assert _refused(issued, secrets) == Counter({"ACCEPTED": len(issued)})
    rng = random.Random(20261127)
    started = time.monotonic()
    uniform = [noisy(rng, symbols_of(rng.getrandbits(155))) for _ in range(RANDOM_CODES // 2)]
    forged = [forged_code(rng, kids) for _ in range(RANDOM_CODES - len(uniform))]
    assert not set(issued) & set(forged)
    uniform_reasons = _refused(uniform, secrets)
    forged_reasons = _refused(forged, secrets)
    elapsed = time.monotonic() - started
    assert uniform_reasons["ACCEPTED"] == 0, uniform_reasons
    assert forged_reasons == Counter({CodeError.MAC_FAILED.value: len(forged)}), forged_reasons
    assert elapsed < BUDGET_SECONDS * 2, f"{elapsed:.0f} s: reduce RANDOM_CODES"


@pytest.mark.slow
def test_a_hundred_thousand_mutated_codes_none_accepted(codes_app: FastAPI) -> None:
    vendor = vendor_of(codes_app)
    secrets = vendor.keyring.mac_secrets
    issued, keys = _issued(codes_app)
    rng = random.Random(7)
    mutants = []
    while len(mutants) < MUTATED_CODES:
        original = rng.choice(issued)
        mutant = mutate(rng, original)
        if normalize(mutant) not in issued:  # an edit that undid itself is the same code
            mutants.append(noisy(rng, mutant) if len(mutant) == len(original) else mutant)
    reasons = _refused(mutants, secrets)
    assert reasons["ACCEPTED"] == 0, reasons
    # Some mutants pass the check symbol (2 or 3 edits): the MAC refuses those.
    assert reasons[CodeError.MAC_FAILED.value] > 0, reasons
    # Registration keys (40-bit MAC) the same way, 10⁴ of them.
    key_mutants = [mutate(rng, rng.choice(keys)) for _ in range(MUTATED_CODES // 10)]
    key_mutants = [k for k in key_mutants if normalize(k) not in keys]
    accepted = [k for k in key_mutants if check_registration_key(k, secrets).ok]
    assert accepted == []


def _sample(app: FastAPI, rng: random.Random) -> list[str]:
    issued, _ = _issued(app)
    kids = sorted(vendor_of(app).keyring.mac_secrets)
    half = SAMPLE // 2
    sample = [format_symbols(forged_code(rng, kids), ACTIVATION_CODE_GROUPS) for _ in range(half)]
    while len(sample) < SAMPLE:
        original = rng.choice(issued)
        mutant = mutate(rng, original)
        if normalize(mutant) not in issued:
            sample.append(mutant)
    return sample


def test_the_service_refuses_the_sample(codes_app: FastAPI) -> None:
    """`services.find_activation_code` (parse, MAC, indexed lookup), as the API calls it."""
    vendor = vendor_of(codes_app)
    issued, _ = _issued(codes_app)
    sample = _sample(codes_app, random.Random(11))  # before the session: SQLite's write lock
    with vendor.session() as session:
        for code in issued[:2]:
            services.find_activation_code(session, code)  # the control: accepted
        for text in sample:
            with pytest.raises(InvalidActivationCode):
                services.find_activation_code(session, text)


@pytest.mark.slow
def test_the_api_refuses_the_sample(codes_app: FastAPI) -> None:
    """`POST /api/v1/status`, end to end: 400 invalid_activation_code for every one, and
    nothing recorded as a status check."""
    issued, _ = _issued(codes_app)
    client = TestClient(codes_app, raise_server_exceptions=False)
    control = client.post(
        "/api/v1/status", json={"activation_code": issued[0], "server_id": "fuzz"}
    )
    assert control.status_code == 200, control.text
    answers: Counter[tuple[int, str]] = Counter()
    for text in _sample(codes_app, random.Random(13)):
        response = client.post("/api/v1/status", json={"activation_code": text, "server_id": "x"})
        answers[(response.status_code, response.json()["code"])] += 1
    assert answers == Counter({(400, "invalid_activation_code"): SAMPLE}), answers
    vendor_of(codes_app).status_log.flush()
    with vendor_of(codes_app).session() as session:
        assert session.scalar(select(func.count()).select_from(StatusCheck)) == 1
