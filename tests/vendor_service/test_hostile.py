"""Hostile input: whatever arrives, the API answers in its error shape and never with a 5xx."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cssec.core.codes import ALPHABET

_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_any_text = st.text(max_size=60)  # includes NUL, controls and lone surrogates
_code_like = st.one_of(
    st.text(alphabet=ALPHABET + "-OoIil ０１ー", min_size=16, max_size=40),
    st.sampled_from(["", "-", "CS-" + "0" * 29, "DC" + "Z" * 29, "22-0000-0000-0000-0000"]),
    _any_text,
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_any_text, inner, max_size=3),
    max_leaves=8,
)
_field = st.one_of(_code_like, _json)


def _post(client: TestClient, path: str, body: Any) -> Any:
    raw = json.dumps(body).encode()  # ensure_ascii keeps lone surrogates as \\ud800 escapes
    return client.post(path, content=raw, headers={"content-type": "application/json"})


def _assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["code"], str)
        assert isinstance(body["message"], str)


@_SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "registration_key": _field,
            "company": _field,
            "contact_email": _field,
            "server_id": _field,
        }
    )
    | _json
)
def test_registration_never_5xx(client: TestClient, body: Any) -> None:
    _assert_clean(_post(client, "/api/v1/registrations", body))


@_SETTINGS
@given(st.fixed_dictionaries({"activation_code": _field, "server_id": _field}) | _json)
def test_status_never_5xx(client: TestClient, body: Any) -> None:
    _assert_clean(_post(client, "/api/v1/status", body))


@_SETTINGS
@given(st.binary(max_size=200), st.sampled_from(["application/json", "text/plain", ""]))
def test_raw_bytes_never_5xx(client: TestClient, raw: bytes, content_type: str) -> None:
    for path in ("/api/v1/status", "/api/v1/registrations"):
        response = client.post(path, content=raw, headers={"content-type": content_type})
        _assert_clean(response)


@_SETTINGS
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_accept_language_never_5xx(client: TestClient, header: str) -> None:
    response = client.post("/api/v1/status", json={}, headers={"accept-language": header})
    _assert_clean(response)
