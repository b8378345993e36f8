"""`services.tokens` and `services.idempotency` on a real database: what a token is and
is not, and how a key is held, replayed, refused and released."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cssec.core.clock import FakeClock
from cssec.vendor_service.api_errors import (
    ApiTokenExpired,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidApiToken,
    InvalidIdempotencyKey,
    InvalidTokenRequest,
    TokenNameTaken,
)
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import idempotency
from cssec.vendor_service.services.tokens import (
    authenticate_token,
    create_token,
    list_tokens,
)


def test_a_token_is_random_hashed_scoped_and_named_in_the_audit(vendor: Vendor) -> None:
    with vendor.session() as session:
        made = create_token(
            session, name="billing", scopes=["audit:read", "contracts:read"], actor="cli:op"
        )
        other = create_token(session, name="crm", scopes=["audit:read"], actor="cli:op")
    assert made.token.startswith("cssec_")
    assert len(made.token) == len("cssec_") + 43
    assert made.token != other.token
    assert made.view.scopes == ["contracts:read", "audit:read"]  # catalog order
    assert made.view.hint == made.token[:10]
    with vendor.session() as session:
        principal = authenticate_token(session, made.token)
        assert principal.actor == "token:billing"
        assert principal.scopes == {"contracts:read", "audit:read"}
        for wrong in (made.token[:-1], made.token + "A", made.token.upper(), "", "cssec_"):
            with pytest.raises(InvalidApiToken):
                authenticate_token(session, wrong)
        listed = {v.name: v for v in list_tokens(session)}
    assert listed["billing"].last_used_at == vendor.clock.now()


def test_token_requests_are_checked(vendor: Vendor) -> None:
    with vendor.session() as session:
        create_token(session, name="billing", scopes=["audit:read"], actor="cli:op")
        with pytest.raises(TokenNameTaken):
            create_token(session, name="billing", scopes=["audit:read"], actor="cli:op")
        for name, scopes, days in (
            ("", ["audit:read"], None),
            ("has space", ["audit:read"], None),
            ("-dash", ["audit:read"], None),
            ("ok", [], None),
            ("ok", ["audit:write"], None),
            ("ok", ["audit:read"], 0),
            ("ok", ["audit:read"], 4000),
        ):
            with pytest.raises(InvalidTokenRequest):
                create_token(
                    session, name=name, scopes=scopes, expires_in_days=days, actor="cli:op"
                )


def test_expiry_follows_the_clock(vendor: Vendor, clock: FakeClock) -> None:
    with vendor.session() as session:
        made = create_token(
            session, name="short", scopes=["audit:read"], expires_in_days=2, actor="cli:op"
        )
        clock.advance(timedelta(days=2) - timedelta(seconds=1))
        authenticate_token(session, made.token)
        clock.advance(timedelta(seconds=1))
        with pytest.raises(ApiTokenExpired):
            authenticate_token(session, made.token)


def test_an_idempotency_key_is_held_replayed_refused_and_released(
    vendor: Vendor, clock: FakeClock
) -> None:
    with vendor.session() as session:
        token_id = create_token(session, name="t", scopes=["audit:read"], actor="x").view.id
        same = idempotency.request_fingerprint("POST", "/a", {"x": 1, "y": [1, 2]})
        assert same == idempotency.request_fingerprint("post", "/a", {"y": [1, 2], "x": 1})
        other = idempotency.request_fingerprint("POST", "/b", {"x": 1, "y": [1, 2]})
        assert other != same

        assert idempotency.begin(session, token_id=token_id, key="k", fingerprint=same) is None
        with pytest.raises(IdempotencyKeyInProgress):  # the first is still running
            idempotency.begin(session, token_id=token_id, key="k", fingerprint=same)
        answer = idempotency.StoredAnswer(201, '{"id":1}', {"ETag": '"e"'})
        idempotency.finish(session, token_id=token_id, key="k", answer=answer)
        assert idempotency.begin(session, token_id=token_id, key="k", fingerprint=same) == answer
        with pytest.raises(IdempotencyKeyReused):
            idempotency.begin(session, token_id=token_id, key="k", fingerprint=other)

        # Released (a fault): the next request with the key runs.
        assert idempotency.begin(session, token_id=token_id, key="r", fingerprint=same) is None
        idempotency.finish(session, token_id=token_id, key="r", answer=None)
        assert idempotency.begin(session, token_id=token_id, key="r", fingerprint=same) is None
        # Abandoned (its process died before storing an answer): released after a while.
        clock.advance(idempotency.ABANDONED + timedelta(seconds=1))
        assert idempotency.begin(session, token_id=token_id, key="r", fingerprint=same) is None
        # Kept a day, then forgotten.
        clock.advance(idempotency.KEEP)
        assert idempotency.begin(session, token_id=token_id, key="k", fingerprint=other) is None

        for bad in ("", "x" * 256, "caf\u00e9", "tab\there"):
            with pytest.raises(InvalidIdempotencyKey):
                idempotency.begin(session, token_id=token_id, key=bad, fingerprint=same)
