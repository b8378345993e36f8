"""Request and response bodies of the vendor JSON API, and the error responses it declares."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cssec.core.errors import (
    CssecError,
    InvalidActivationCode,
    InvalidRegistrationKey,
    RateLimited,
    RevokedActivationCode,
    UnknownRegistrationKey,
    ValidationFailed,
)
from cssec.core.names import COMPANY_NAME, check_name

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; surrogates U+D800-U+DFFF.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_SPACING = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _plain_text(value: str, control: re.Pattern[str] = _CONTROL) -> str:
    """Refuses lone surrogates and control characters: they cannot be stored or echoed
    safely (PostgreSQL refuses NUL; UTF-8 refuses surrogates). One regex scan each, since
    every status check and manifest poll validates its fields here."""
    if _SURROGATE.search(value):
        raise ValueError("must be valid Unicode text")
    if control.search(value):
        raise ValueError("must not contain control characters")
    return value


def _code_text(value: str) -> str:
    """Codes are pasted: tabs and line breaks are forgiven like spaces by the parser."""
    return _plain_text(value, _CONTROL_BUT_SPACING)


def _trimmed(value: str) -> str:
    value = _plain_text(value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = _trimmed(value)
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address")
    return value


def _company(value: str) -> str:
    """InvalidName (a ValueError) names the field in ja and en; the error mapping answers it."""
    return _trimmed(check_name(value, COMPANY_NAME))


CodeText = Annotated[str, Field(max_length=100), AfterValidator(_code_text)]
Company = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_company)]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]
ServerId = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_trimmed)]
Nonce = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]

_KEY = "7Q-4M2X-9KDV-R3NB-8WT5"
_CODE = "CS-0R8C-1B0Z-K6Q9E-D5M2A-4HTW7-XJ3NS"
_CANONICAL = _CODE.replace("-", "")
_SERVER = "9f1c2e4a-7b3d-4e21-9a55-0c6f1d2e3b4a"


class RegistrationRequest(BaseModel):
    registration_key: CodeText = Field(
        description="As printed on the license agreement; case, spaces, hyphens and "
        "full-width input are forgiven.",
        examples=[_KEY],
    )
    company: Company = Field(examples=["株式会社サンプル"])
    contact_email: Email = Field(examples=["it@example.co.jp"])
    server_id: ServerId = Field(description="The C/S Sec. server's own id.", examples=[_SERVER])


class ActivationCodeOut(BaseModel):
    product: Literal["CS", "DCS"]
    activation_code: str = Field(
        description="Formatted XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.", examples=[_CODE]
    )
    expires_on: date = Field(description="The expiry encoded in the code.")


class RegistrationResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "activation_codes": [
                        {"product": "CS", "activation_code": _CODE, "expires_on": "2027-11-30"},
                        {
                            "product": "DCS",
                            "activation_code": "DC-0R8C-1B0Z-K6Q9E-D5M2B-0A1B2-C3D4E",
                            "expires_on": "2027-11-30",
                        },
                    ]
                }
            ]
        }
    )
    activation_codes: list[ActivationCodeOut]


class StatusRequest(BaseModel):
    activation_code: CodeText = Field(examples=[_CODE])
    server_id: ServerId = Field(examples=[_SERVER])
    nonce: Nonce | None = Field(
        None,
        description="A fresh random value from the server (16-128 URL-safe characters), "
        "echoed inside the signed statement so the server can refuse a replayed answer.",
        examples=["q0VvB2mXyK1wPz9JtR4sLg"],
    )
    seats_used: int | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="Clients the server counts as in use (seen lately); recorded in the "
        "status-check history for the support desk. Never changes the answer.",
        examples=[23],
    )


class Statement(BaseModel):
    """What the vendor vouches for; the signature covers it (with alg and kid)."""

    model_config = ConfigDict(extra="allow")
    v: int = Field(examples=[1])
    activation_code: str = Field(description="Canonical 31 symbols, no hyphens.")
    server_id: str
    product: Literal["CS", "DCS"]
    version_type: str = Field(examples=["full"])
    state: Literal["activated", "grace_period", "expired"]
    contract_end: date = Field(description="The contract's current end (renewals move it).")
    grace_days: int = Field(examples=[30])
    grace_end: date
    seats: int
    customer: str
    contract_id: int | None = Field(
        None,
        description="The contract the code belongs to. A server compares it when a code is "
        "replaced (another contract needs the administrator's confirmation).",
    )
    nonce: str | None = Field(None, description="The request's nonce, when it sent one.")
    issued_at: str = Field(description="UTC instant, YYYY-MM-DDTHH:MM:SSZ.")


_STATEMENT_EXAMPLE: dict[str, Any] = {
    "v": 1,
    "activation_code": _CANONICAL,
    "server_id": _SERVER,
    "product": "CS",
    "version_type": "full",
    "state": "activated",
    "contract_end": "2027-11-30",
    "grace_days": 30,
    "grace_end": "2027-12-30",
    "seats": 25,
    "customer": "株式会社サンプル",
    "contract_id": 12,
    "issued_at": "2026-11-27T20:00:00Z",
}


class StatusResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "statement": _STATEMENT_EXAMPLE,
                    "alg": "ed25519",
                    "kid": "ed25519-3f9a0c1b2d4e5f60",
                    "signature": "q1v1…base64…==",
                }
            ]
        }
    )
    statement: Statement
    alg: Literal["ed25519"]
    kid: str
    signature: str = Field(
        description="Base64 Ed25519 signature over core.signing.canonical_json of "
        '{"alg", "kid", "statement"}.'
    )


class Jwk(BaseModel):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class KeySet(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                            "kid": "ed25519-3f9a0c1b2d4e5f60",
                            "alg": "EdDSA",
                            "use": "sig",
                        }
                    ]
                }
            ]
        }
    )
    keys: list[Jwk] = Field(description="Every trusted signing key, the current one first.")
    endorsements: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "One signed envelope per key rotation, signed with the key it replaced, whose "
            'statement is {"v": 1, "kind": "signing_key_endorsement", "jwk": <the new key>, '
            '"endorsed_at": …}. A server that pinned an older key trusts a newer one only '
            "through this chain."
        ),
    )


class Health(BaseModel):
    status: Literal["ok"]


class ErrorBody(BaseModel):
    """Every non-2xx answer: a stable code, a message in the request's language, and fields."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(examples=["invalid_activation_code"])
    message: str


def _example(error: CssecError) -> dict[str, Any]:
    return {"summary": error.code, "value": error.to_dict("en")}


_TYPO = {
    "detail_ja": "チェック文字が一致しません",
    "detail_en": "the check character does not match",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "invalid_registration_key": _example(
        InvalidRegistrationKey(**_TYPO, reason="check_failed", position=None)
    ),
    "unknown_registration_key": _example(UnknownRegistrationKey()),
    "invalid_activation_code": _example(
        InvalidActivationCode(**_TYPO, reason="check_failed", position=None)
    ),
    "mac_failed": _example(
        InvalidActivationCode(
            detail_ja="発行されたコードと一致しません",
            detail_en="it matches no issued code",
            reason="mac_failed",
            position=None,
        )
    ),
    "revoked_activation_code": _example(
        RevokedActivationCode(revoked_at="2026-11-01T09:00:00+00:00")
    ),
    "rate_limited": _example(RateLimited(retry_after=42)),
    "validation_error": _example(ValidationFailed(detail="server_id: Field required")),
    "request_too_large": {
        "summary": "request_too_large",
        "value": {"code": "request_too_large", "message": "Request too large."},
    },
}


def error_responses(*spec: tuple[int, str, list[str]]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: (status, description, [example names]) each."""
    out: dict[int | str, dict[str, Any]] = {}
    for status, description, names in spec:
        out[status] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"examples": {n: EXAMPLES[n] for n in names}}},
        }
    return out


COMMON_ERRORS: tuple[tuple[int, str, list[str]], ...] = (
    (413, "The request body is too large.", ["request_too_large"]),
    (422, "The body is not the documented JSON.", ["validation_error"]),
    (429, "Too many requests from this address; see Retry-After.", ["rate_limited"]),
)
