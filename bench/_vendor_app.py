"""The vendor app for `uvicorn --factory` / `granian --factory` with several workers.

`cssec vendor serve` runs one process; the benches need two workers, so they serve
`_vendor_app:create` instead. Settings come from CSSEC_VENDOR_* like everywhere else
(the benches set CSSEC_VENDOR_DATA_DIR, CSSEC_VENDOR_DATABASE_URL and raised rate limits).
CSSEC_BENCH_THREADS (experiments only): the size of each worker's thread pool for sync
routes (anyio's default is 40).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from cssec.vendor.app import create_app
from cssec.vendor.settings import VendorSettings


def create() -> FastAPI:
    app = create_app(VendorSettings())
    threads = os.environ.get("CSSEC_BENCH_THREADS")
    if threads:
        inner = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
            anyio.to_thread.current_default_thread_limiter().total_tokens = int(threads)
            async with inner(application) as state:
                yield state

        app.router.lifespan_context = lifespan
    return app
