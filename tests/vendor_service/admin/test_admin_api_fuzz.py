"""Schemathesis over the admin API with a token, in process and bounded: every operation,
valid and invalid requests; every answer must be no 5xx, a documented status, the
documented content type and a body that conforms to its schema.

The token holds every scope but bulk:write (generated batches of up to a million
contracts would turn a conformance run into a load test; the bulk routes still run, and
answer 403 insufficient_scope, which must be documented too). The stateful run follows
the document's links (`conventions.linked`) and must create a contract on the way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.internal.conjecture import providers
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.vendor_service.admin.conftest import MakeToken, bearer

from cssec.vendor_service.services.tokens import SCOPES

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _no_literals_from_imported_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hypothesis mixes into what it generates the string and number literals of every
    project module imported so far (`providers._get_local_constants`), so a derandomized
    run drew other inputs once other tests had imported more of `cssec`: alone the stateful
    run created a contract, after tests/vendor_service/activeupdate (or in the whole suite)
    it created none. Without those literals a run draws the same inputs whatever ran
    before it; the per-kind cache of constants is emptied so none computed earlier is
    used. Hypothesis's own table of interesting constants still applies."""
    monkeypatch.setattr(providers, "_get_local_constants", providers.Constants)
    providers.CONSTANTS_CACHE.cache.clear()
    yield
    providers.CONSTANTS_CACHE.cache.clear()


def _runner(
    operation: Any, mode: GenerationMode, headers: dict[str, str], sent: list[int]
) -> Callable[[], None]:
    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        sent.append(case.call_and_validate(checks=CHECKS, headers=headers).status_code)

    return run  # type: ignore[no-any-return]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_api_conforms_to_its_openapi(app: FastAPI, make_token: MakeToken) -> None:
    app.state.vendor.settings.admin_api_rate_limit = "1000000/minute"
    token = make_token(name="fuzz", scopes=[s for s in SCOPES if s != "bulk:write"])
    headers = bearer(token)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [o for o in operations if o.path.startswith("/api/v1/admin/")]
    assert len(operations) >= 20
    sent: list[int] = []
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(operation, mode, headers, sent)()
            except Exception as exc:  # gathered, reported together below
                failures.append(f"{operation.label} {mode.value}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(sent) >= 100
    assert any(200 <= s < 300 for s in sent)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_api_stateful_links(app: FastAPI, make_token: MakeToken) -> None:
    """Sequences along the document's links (create a contract, then read, renew with its
    ETag, reissue, inspect, preview and revoke its codes; add then remove a webhook):
    every step's answer is checked as above, and no sequence meets a 5xx."""
    app.state.vendor.settings.admin_api_rate_limit = "1000000/minute"
    headers = bearer(make_token(name="stateful", scopes=[s for s in SCOPES if s != "bulk:write"]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema = schema.include(path_regex="^/api/v1/admin/")
    machine = schema.as_state_machine()
    calls: list[tuple[str, int]] = []

    class Machine(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Case) -> None:
            case.headers = {**(case.headers or {}), **headers}

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            calls.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    created = [s for label, s in calls if label == "POST /api/v1/admin/contracts"]
    assert any(200 <= s < 300 for s in created), sorted(Counter(calls).items())
