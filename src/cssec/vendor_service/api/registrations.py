"""POST /api/v1/registrations: online registration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from cssec.vendor_service.api.deps import get_vendor, rate_limit
from cssec.vendor_service.api.schemas import (
    COMMON_ERRORS,
    ActivationCodeOut,
    RegistrationRequest,
    RegistrationResponse,
    error_responses,
)
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import register_server
from cssec.web.http import client_ip

router = APIRouter(tags=["registration"])


@router.post(
    "/registrations",
    response_model=RegistrationResponse,
    summary="Register a server with a registration key",
    description=(
        "Returns the contract's current activation codes (C/S Sec., plus Damage Cleanup "
        "Services when bought) and records the company, contact and server id. Idempotent: "
        "registering again returns the same codes; revoked codes are never returned."
    ),
    responses=error_responses(
        (
            400,
            "The key is malformed (typo): reason and position say where.",
            ["invalid_registration_key"],
        ),
        (403, "Every activation code of the contract was revoked.", ["revoked_activation_code"]),
        (404, "Well-formed, but not a key we issued.", ["unknown_registration_key"]),
        *COMMON_ERRORS,
    ),
    dependencies=[Depends(rate_limit("registrations", "registration_rate_limit"))],
)
def create_registration(
    body: RegistrationRequest,
    request: Request,
    vendor: Annotated[Vendor, Depends(get_vendor)],
) -> RegistrationResponse:
    with vendor.session() as session:
        issued = register_server(
            session,
            body.registration_key,
            company=body.company,
            contact_email=body.contact_email,
            server_id=body.server_id,
            actor=f"api:{client_ip(request)}",
        )
    return RegistrationResponse(
        activation_codes=[
            ActivationCodeOut(
                product=c.product,
                activation_code=c.activation_code,
                expires_on=c.expires_on,
            )
            for c in issued
        ]
    )
