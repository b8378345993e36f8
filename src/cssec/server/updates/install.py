"""An online install downloads the current components before it finishes.

`download_components` runs with the other network steps, before the disk is touched;
`store_components` writes them into the install's temporary data directory, so a failed
download or a full disk fails the install and leaves nothing behind. The Damage Cleanup
template is downloaded only with `dcs_code` (the vendor sends it to a live Damage Cleanup
Services code alone: `entitlement`); without it, a DCS site's first update brings it."""

from __future__ import annotations

from datetime import datetime

import httpx

from cssec.core.signing import VerifyingKey
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.storage.datadir import DataDir
from cssec.server.tls.vendor import VendorTls
from cssec.server.updates.fetch import Fetched, fetch_update
from cssec.server.updates.service import install_components


async def download_components(
    vendor_url: str,
    keys: list[VerifyingKey],
    *,
    activation_code: str,
    server_id: str,
    transport: httpx.AsyncBaseTransport | None,
    proxy: str | None,
    timeout_seconds: float,
    language: str,
    tls: VendorTls | None = None,
    dcs_code: str | None = None,
) -> Fetched:
    async with VendorClient(
        vendor_url, transport=transport, proxy=proxy, timeout=timeout_seconds, language=language,
        tls=tls,
    ) as vendor:  # fmt: skip
        return await fetch_update(
            vendor,
            {key.kid: key for key in keys},
            activation_code=activation_code,
            server_id=server_id,
            dcs_code=dcs_code,
        )


def store_components(data: DataDir, fetched: Fetched, *, now: datetime) -> None:
    engine = data.engine()
    try:
        install_components(engine, data.root, fetched, now=now)
    finally:
        engine.dispose()
