"""GET /api/v1/agent/tls-renewals: the server certificate's renewal statements (public).

A client whose pinned certificate no longer matches reads this over a connection that trusts
only the certificate it is shown, and re-pins only if a chain of these statements, each
signed by the key of the certificate before it, leads from its pin to that certificate
(`cssec.core.certs.follow_renewals`). The statements prove themselves, so no client token is
needed, and anyone may read them: they hold certificates and signatures only.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from cssec.server.agent.routing import agent_router
from cssec.server.tls.certificate import read_renewals
from cssec.server.webmanager.templating import ctx_of

router = agent_router()


@router.get(
    "/tls-renewals",
    summary="The server certificate's renewals, each signed by the key it replaced",
    responses={
        200: {
            "description": '{"renewals": [{"renewal": {old_fingerprint, new_fingerprint, '
            'old_cert, new_cert, issued_at}, "alg": "ES256|RS256|EdDSA", "signature": b64}]}'
        }
    },
)
def get_tls_renewals(request: Request) -> JSONResponse:
    """Every renewal since install, oldest first. Allowed in every license state."""
    return JSONResponse({"renewals": read_renewals(ctx_of(request).data)})
