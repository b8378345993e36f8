"""Schemathesis against both OpenAPI documents, in process, bounded.

Every operation of the vendor service (`/openapi.json`: registration, status, keys, health,
ActiveUpdate) and of the C/S Sec. server (the license API as `admin` over HTTP Basic, the
agent API with a client token) gets generated requests, valid and invalid; every answer
must be no 5xx, a documented status code, the documented content type and a body that
conforms to the documented schema. The server reaches only the in-process vendor.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.helpers.hostile import LOOPBACK, SERVER_PASSWORD

from cssec.server.api import licenses as licenses_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def vendor_schema(vendor_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", vendor_app)


@pytest.fixture
def server_schema(server_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Any:
    # HTTP Basic is counted per address (60/minute): raised, so 429 does not drown the run.
    monkeypatch.setattr(licenses_api, "BASIC_LIMIT_PER_IP", "1000000/minute")
    return schemathesis.openapi.from_asgi("/openapi.json", server_app)


@pytest.fixture
def client_token(server_app: FastAPI) -> str:
    """A client enrolled by the AutoPcc route from loopback (as `cssec client install`)."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    with TestClient(server_app, client=LOOPBACK) as client:
        response = client.post(
            "/api/v1/agent/enroll", json={"route": "autopcc", "hostname": "pc-01"}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["client_token"]
    return token


def _runner(
    operation: Any, mode: GenerationMode, headers: dict[str, str], sent: list[int]
) -> Callable[[], None]:
    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        sent.append(case.call_and_validate(checks=CHECKS, headers=headers).status_code)

    return run  # type: ignore[no-any-return]


def _fuzz(
    schema: Any,
    subtests: pytest.Subtests | None,
    headers_for: Callable[[str], dict[str, str]],
    include: Callable[[str], bool] = lambda _path: True,
) -> int:
    """Each operation, positive then negative generation, bounded, as its own subtest (or,
    without `subtests`, every failure gathered into one); the number of requests sent (so an
    empty run cannot pass for a clean one).

    (`schemathesis.pytest.from_fixture` would parametrize, but schemathesis 4.32 reads
    `request.node._nodeid`, which pytest 9 no longer has; so the operations are walked here.)
    """
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if include(operation.path)]
    assert operations
    sent: list[int] = []
    failures: list[str] = []
    for operation in operations:
        headers = headers_for(operation.path)
        takes_input = any(
            len(part)
            for part in (
                operation.path_parameters,
                operation.headers,
                operation.cookies,
                operation.query,
                operation.body,
            )
        )
        # Nothing to get wrong in a request without parameters or body: positive only.
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
        for mode in modes:
            run = _runner(operation, mode, headers, sent)
            label = f"{operation.label} {mode.value}"
            if subtests is not None:
                with subtests.test(msg=label):
                    run()
                continue
            try:
                run()
            except Exception as exc:  # gathered, raised below
                failures.append(f"{label}: {exc}")
    assert not failures, "\n\n".join(failures)
    return len(sent)


def _is_agent(path: str) -> bool:
    return path.startswith("/api/v1/agent/")


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_vendor_api_conforms(vendor_schema: Any, subtests: pytest.Subtests) -> None:
    # The admin API needs a token: tests/vendor_service/admin/test_admin_api_fuzz.py.
    sent = _fuzz(vendor_schema, subtests, lambda _path: {}, include=lambda p: not _is_admin(p))
    assert sent >= 100


def _is_admin(path: str) -> bool:
    return path.startswith("/api/v1/admin/")


def test_server_license_api_conforms(server_schema: Any, subtests: pytest.Subtests) -> None:
    admin = _basic("admin", SERVER_PASSWORD)
    sent = _fuzz(server_schema, subtests, lambda _path: admin, include=lambda p: not _is_agent(p))
    assert sent >= 50


def test_server_agent_api_conforms(server_schema: Any, client_token: str) -> None:
    agent = {"Authorization": f"Bearer {client_token}"}

    def headers_for(path: str) -> dict[str, str]:
        return {} if path == "/api/v1/agent/enroll" else agent

    assert _fuzz(server_schema, None, headers_for, include=_is_agent) >= 50


def test_every_agent_operation_documents_the_apps_error_body(server_app: FastAPI) -> None:
    """Every agent route, new ones too (they are built by `agent.routing.agent_router`):
    each error status carries the app's `{code, message}` schema, never FastAPI's default
    422 (`detail` as an array), and a route that takes input documents 400 and 422."""
    schema = server_app.openapi()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if _is_agent(path)
        for method, operation in item.items()
    ]
    assert len(operations) >= 8
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert "HTTPValidationError" not in str(responses), label
        takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
        assert ({"400", "422"} <= set(responses)) == takes_input, label
        assert {"413", "429"} <= set(responses), label
        assert ("401" in responses) == ("security" in operation), label
        for status, response in responses.items():
            if status[0] in "45":
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/AgentError"}, (label, status)
