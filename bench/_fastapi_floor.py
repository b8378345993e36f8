"""The framework floor: the vendor's HTTP stack (FastAPI, its middleware, a pydantic body,
a sync route in the thread pool, JSONResponse) with no database, MAC or signature.

`--floor` in status.py / manifest.py serves it next to the bare baseline: vendor / floor
is what cssec's own work costs; floor / bare is what the framework costs.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cssec.web.http import (
    BodySizeLimitMiddleware,
    LanguageMiddleware,
    SecurityHeadersMiddleware,
    install_error_handlers,
)

STATEMENT = {
    "v": 1, "activation_code": "CS-0R8C-1B0Z-K6Q9E-D5M2A-4HTW7-XJ3NS", "server_id": "x",
    "product": "CS", "version_type": "製品版", "state": "activated", "contract_end": "2027-11-30",
    "grace_days": 30, "grace_end": "2027-12-30", "seats": 50, "customer": "bench",
    "issued_at": "2026-11-27T00:00:00Z",
}  # fmt: skip


class Body(BaseModel):
    activation_code: str
    server_id: str


app = FastAPI()
install_error_handlers(app)
app.add_middleware(BodySizeLimitMiddleware, max_bytes=64 * 1024)
app.add_middleware(SecurityHeadersMiddleware)
app.add_middleware(LanguageMiddleware)


@app.post("/{path:path}")
def post_any(body: Body) -> JSONResponse:
    return JSONResponse({"statement": STATEMENT, "alg": "ed25519", "kid": "k", "signature": "s"})


@app.get("/{path:path}")
def get_any() -> JSONResponse:
    return JSONResponse({"status": "ok"})
