"""The vendor app for `uvicorn --factory` / `granian --factory` with several workers.

`cssec vendor serve` runs one process; the benches need two workers, so they serve
`_vendor_app:create` instead. Settings come from CSSEC_VENDOR_* like everywhere else
(the benches set CSSEC_VENDOR_DATA_DIR, CSSEC_VENDOR_DATABASE_URL and raised rate limits).
"""

from __future__ import annotations

from fastapi import FastAPI

from cssec.vendor.app import create_app
from cssec.vendor.settings import VendorSettings


def create() -> FastAPI:
    return create_app(VendorSettings())
