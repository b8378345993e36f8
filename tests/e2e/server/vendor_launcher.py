"""Start a real vendor process for the server's end-to-end tests (no dependency on how the
`cssec vendor serve` command is mounted): `python vendor_launcher.py DATA_DIR PORT`."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from cssec.vendor_service.app import create_app
from cssec.vendor_service.settings import VendorSettings


def main() -> None:
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    settings = VendorSettings(
        data_dir=data_dir,
        registration_rate_limit="10000/minute",
        status_rate_limit="10000/minute",
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
