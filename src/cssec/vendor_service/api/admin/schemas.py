"""Bodies of the admin API (`/api/v1/admin/`), with examples for its OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cssec.vendor_service.api.admin.conventions import PageAsk, encode_cursor, next_by_id
from cssec.vendor_service.api.schemas import _plain_text, _trimmed

T = TypeVar("T")
R = TypeVar("R")

Text200 = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_trimmed)]
Reason = Annotated[str, Field(max_length=1000), AfterValidator(_plain_text)]
StartDay = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2179, 6, 6))]
"""What an activation code can encode (core.codes); the term's end is checked too."""
Plain = AfterValidator(_plain_text)
"""No control characters in what is stored (PostgreSQL refuses NUL outright)."""
KeyOrCode = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_trimmed)]

_KEY = "7Q-4M2X-9KDV-R3NB-8WT5"
_CODE = "CS-0R8C-1B0Z-K6Q9E-D5M2A-4HTW7-XJ3NS"
_AT = "2026-12-07T09:30:00+00:00"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first unless said otherwise; pass `next_cursor` back as
    `cursor` for the next page (null: this was the last)."""

    items: list[T]
    next_cursor: str | None = Field(examples=["eyJpZCI6IDQxfQ"])

    @classmethod
    def of(cls, rows: Sequence[R], paging: PageAsk, out: Callable[[R], T]) -> Self:
        """The first `paging.limit` of `rows`, read in the list's order by id with one more
        than a page when there is more (`conventions.newest_first`); the cursor names the
        last id shown."""
        limit = paging.limit
        return cls(items=[out(r) for r in rows[:limit]], next_cursor=next_by_id(rows, limit))

    @classmethod
    def at_offset(cls, found: Sequence[R], paging: PageAsk, out: Callable[[R], T]) -> Self:
        """The page of the whole list `found` that the cursor points at (an offset)."""
        start, end = paging.offset(), paging.offset() + paging.limit
        return cls(
            items=[out(r) for r in found[start:end]],
            next_cursor=encode_cursor({"offset": end}) if len(found) > end else None,
        )


class Read(BaseModel):
    """A representation read off a row or a view object, attribute by attribute."""

    model_config = ConfigDict(from_attributes=True)


# --- Customers and contracts ---------------------------------------------------------------


class CustomerOut(BaseModel):
    id: int = Field(examples=[7])
    name: str = Field(examples=["株式会社サンプル"])
    created_at: datetime = Field(examples=[_AT])
    contract_ids: list[int] = Field(examples=[[12, 31]])


class CodeOut(BaseModel):
    product: Literal["CS", "DCS"] = Field(examples=["CS"])
    activation_code: str = Field(examples=[_CODE])
    serial: int = Field(examples=[1042])
    seats: int = Field(examples=[25])
    expires_on: date = Field(examples=["2027-12-06"])
    issued_at: datetime = Field(examples=[_AT])
    status: Literal["current", "replaced", "revoked"] = Field(
        description="current: what registration hands out; replaced: still valid online, "
        "a newer code was issued; revoked.",
        examples=["current"],
    )
    revoked_at: datetime | None = Field(default=None, examples=[None])
    revoke_reason: str | None = Field(default=None, examples=[None])


class ContactOut(BaseModel):
    email: str | None = Field(examples=["it@example.co.jp"])
    language: Literal["ja", "en"] = Field(examples=["ja"])


class ContractOut(BaseModel):
    """A contract. Its ETag (the response header) changes whenever anything here does."""

    id: int = Field(examples=[12])
    customer: CustomerRef
    seats: int = Field(examples=[25])
    starts_on: date = Field(examples=["2026-12-07"])
    ends_on: date = Field(examples=["2027-12-06"])
    state: Literal["activated", "grace_period", "expired"] = Field(examples=["activated"])
    products: list[str] = Field(examples=[["CS", "DCS"]])
    registration_key: str | None = Field(examples=[_KEY])
    contact: ContactOut
    codes: list[CodeOut]
    created_at: datetime = Field(examples=[_AT])
    updated_at: datetime = Field(examples=[_AT])
    etag: str = Field(
        description="The same value as the ETag header.", examples=['"3f9a1c0e5b7d2a48"']
    )


class CustomerRef(BaseModel):
    id: int = Field(examples=[7])
    name: str = Field(examples=["株式会社サンプル"])


class ContractIn(Strict):
    customer: Text200 = Field(
        description="Found by exact name, or created; a label, it grants nothing.",
        examples=["株式会社サンプル"],
    )
    seats: int = Field(ge=1, le=0xFFFF, examples=[25])
    months: int = Field(default=12, ge=1, le=120, examples=[12])
    start: StartDay | None = Field(
        default=None, description="Default: today (UTC).", examples=[None]
    )
    with_dcs: bool = Field(default=False, description="Damage Cleanup Services too.")
    contact_email: Annotated[str, Field(max_length=254), Plain] | None = Field(
        default=None, examples=["it@example.co.jp"]
    )
    language: Literal["ja", "en"] | None = Field(default=None, examples=["ja"])


class RenewIn(Strict):
    months: int = Field(default=12, ge=1, le=120, examples=[12])


class ContactIn(Strict):
    email: Annotated[str, Field(max_length=254), Plain] = Field(
        description="Empty: none (the address of the latest registration is used).",
        examples=["it@example.co.jp"],
    )
    language: Literal["ja", "en"] = Field(examples=["ja"])


# --- Codes ---------------------------------------------------------------------------------


class ReissueIn(Strict):
    product: Literal["CS", "DCS"] = Field(default="CS", examples=["CS"])
    lift_revocation: bool = Field(
        default=False,
        description="Reissue a product whose code was revoked (undoes the revocation for "
        "the customer): needs the codes:revoke scope as well.",
    )


class ReissuedOut(BaseModel):
    contract_id: int = Field(examples=[12])
    product: str = Field(examples=["CS"])
    activation_code: str = Field(examples=[_CODE])


class RevokeIn(Strict):
    reason: Reason = Field(default="", examples=["leaked on a forum"])


class CoveredCodeOut(BaseModel):
    activation_code: str = Field(examples=[_CODE])
    product: str = Field(examples=["CS"])
    contract_id: int = Field(examples=[12])
    expires_on: date = Field(examples=["2027-12-06"])
    issued_at: datetime = Field(examples=[_AT])
    revoked_at: datetime | None = Field(examples=[None])
    is_target: bool = Field(description="The code named in the request (the rest it superseded).")


class RevocationPreviewOut(BaseModel):
    """What revoking the code covers: it and the codes it superseded, oldest first."""

    codes: list[CoveredCodeOut]
    to_revoke: list[str] = Field(
        description="The codes the revocation would change (not revoked yet).",
        examples=[[_CODE]],
    )


class RevokedOut(BaseModel):
    revoked: list[str] = Field(
        description="The codes this call revoked (empty: they were revoked already).",
        examples=[[_CODE]],
    )
    preview: RevocationPreviewOut


class InspectionOut(BaseModel):
    """What the support desk sees about a code or key (`cssec vendor code inspect`)."""

    model_config = ConfigDict(extra="allow")
    kind: str = Field(examples=["activation_code"])
    verdict: Literal["valid", "invalid", "expired", "revoked"] = Field(examples=["valid"])
    reason: str | None = Field(examples=[None])
    detail: dict[str, str] = Field(examples=[{}])
    position: int | None = Field(
        default=None, description="Where a typo is (1-based).", examples=[None]
    )
    formatted: str | None = Field(examples=[_CODE])
    product: str | None = Field(examples=["CS"])
    seats: int | None = Field(default=None, examples=[25])
    expires_on: date | None = Field(default=None, examples=["2027-12-06"])
    serial: int | None = Field(default=None, examples=[1042])
    kid: int | None = Field(default=None, examples=[1])
    issued_at: datetime | None = Field(default=None, examples=[_AT])
    revoked_at: datetime | None = Field(default=None, examples=[None])
    revoke_reason: str | None = Field(default=None, examples=[None])
    replaced_by: str | None = Field(
        default=None, description="The code that replaced this one.", examples=[None]
    )
    superseded_by: str | None = Field(default=None, examples=[None])
    covered_by: str | None = Field(
        default=None,
        description="The newer code whose revocation revoked this one.",
        examples=[None],
    )
    contract_id: int | None = Field(examples=[12])
    customer: str | None = Field(default=None, examples=["株式会社サンプル"])
    contract_end: date | None = Field(default=None, examples=["2027-12-06"])
    contract_state: str | None = Field(default=None, examples=["activated"])
    products: list[str] = Field(default=[], examples=[["CS", "DCS"]])


# --- Bulk, usage, webhooks, audit -----------------------------------------------------------


class BulkIn(Strict):
    count: int = Field(ge=1, le=1_000_000, examples=[500])
    seats: int = Field(ge=1, le=0xFFFF, examples=[5])
    months: int = Field(default=12, ge=1, le=120, examples=[12])
    start: StartDay | None = Field(default=None, examples=[None])
    with_dcs: bool = False
    customer: Text200 | None = Field(
        default=None,
        description='The distributor or a label; default "bulk <UTC time>".',
        examples=["Distributor K.K."],
    )


class BulkJobOut(BaseModel):
    id: int = Field(examples=[3])
    status: Literal["queued", "running", "done", "failed"] = Field(examples=["running"])
    count: int = Field(examples=[500])
    done: int | None = Field(
        description="Contracts written so far (shown by the worker running the batch).",
        examples=[200],
    )
    terms: dict[str, Any] = Field(examples=[{"seats": 5, "months": 12, "with_dcs": False}])
    created_at: datetime = Field(examples=[_AT])
    created_by: str = Field(examples=["token:billing"])
    finished_at: datetime | None = Field(examples=[None])
    sha256: str | None = Field(description="Of the result CSV.", examples=[None])
    contract_ids: list[int] | None = Field(
        description="First and last id of the batch's contracts.", examples=[[101, 600]]
    )
    error: dict[str, Any] | None = Field(examples=[None])
    result_url: str | None = Field(examples=["/api/v1/admin/bulk-batches/3/result"])


class ServerUsageOut(BaseModel):
    contract_id: int = Field(examples=[12])
    server_id: str = Field(examples=["9f1c2e4a-7b3d-4e21-9a55-0c6f1d2e3b4a"])
    seats_used: int = Field(examples=[27])
    reported_at: datetime = Field(examples=[_AT])


class OverSeatsOut(BaseModel):
    contract_id: int = Field(examples=[12])
    customer: str = Field(examples=["株式会社サンプル"])
    seats: int = Field(examples=[25])
    seats_used: int = Field(examples=[27])
    servers: list[ServerUsageOut]


class WebhookIn(Strict):
    url: Annotated[str, Field(min_length=1, max_length=2000), Plain] = Field(
        examples=["https://billing.example.com/hooks/cssec"]
    )
    secret: Annotated[str, Field(min_length=1, max_length=200), Plain] = Field(
        description="whsec_ and 24 to 64 random bytes in base64; write-only.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
    events: list[Annotated[str, Field(max_length=64), Plain]] = Field(
        min_length=1, max_length=32, examples=[["contract.renewed", "code.revoked"]]
    )
    description: Annotated[str, Field(max_length=200), Plain] = Field(
        default="", examples=["billing"]
    )


class WebhookOut(Read):
    id: int = Field(examples=[2])
    url: str = Field(examples=["https://billing.example.com/hooks/cssec"])
    events: list[str] = Field(examples=[["contract.renewed"]])
    description: str | None = Field(examples=["billing"])
    secret_fingerprint: str = Field(examples=["sha256:1f2e3d4c"])
    created_at: datetime = Field(examples=[_AT])
    created_by: str = Field(examples=["token:billing"])


class WebhookRemovedOut(BaseModel):
    id: int = Field(examples=[2])
    cancelled_messages: int = Field(examples=[0])


class DeliveryOut(Read):
    id: int = Field(examples=[88])
    event: str = Field(examples=["contract.renewed"])
    channel: str = Field(examples=["webhook"])
    endpoint_id: int | None = Field(examples=[2])
    status: str = Field(examples=["delivered"])
    attempts: int = Field(examples=[0])
    created_at: datetime = Field(examples=[_AT])
    delivered_at: datetime | None = Field(examples=[_AT])
    last_status_code: int | None = Field(examples=[200])
    last_error: str | None = Field(examples=[None])


class AuditOut(Read):
    id: int = Field(examples=[501])
    at: datetime = Field(examples=[_AT])
    actor: str = Field(description="token:<name>, console:<user>, cli:<user>, api:<ip>.",
                       examples=["token:billing"])  # fmt: skip
    action: str = Field(examples=["contract.renewed"])
    target: str = Field(examples=["contract:12"])
    before: dict[str, Any] | None = Field(examples=[{"end": "2027-12-06"}])
    after: dict[str, Any] | None = Field(examples=[{"end": "2028-12-06", "months": 12}])


ContractOut.model_rebuild()
