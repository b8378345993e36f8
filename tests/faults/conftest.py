"""Fixtures of the fault tests: a fork server of the cssec CLI for the session, and one real
vendor process per module (`python -m cssec vendor serve` on a free loopback port)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# --import-mode=importlib keeps test directories off sys.path; the helpers are shared.
sys.path.insert(0, str(Path(__file__).parent))

from faults_helpers import PASSWORD, Pool, VendorProcess, free_port, last_line, start_vendor


@dataclass(frozen=True)
class Contract:
    key: str
    codes: dict[str, str]


@dataclass
class World:
    """The module's vendor, driven by its own CLI, and servers installed by the CLI."""

    pool: Pool
    vendor: VendorProcess
    root: Path
    password_file: Path

    def vendor_cli(self, *args: str) -> str:
        return self.pool.run("vendor", *args, "--data", str(self.vendor.data_dir)).check().stdout

    def contract(self, *, with_dcs: bool = False) -> Contract:
        extra = ["--with-dcs"] if with_dcs else []
        out = self.vendor_cli("contract", "new", "--customer", "障害試験", "--seats", "5", *extra)
        codes = {}
        for line in out.splitlines():
            if line.startswith("activation code "):
                product, code = line.removeprefix("activation code ").split(": ")
                codes[product] = code.strip()
        return Contract(key=last_line(out), codes=codes)

    def renew(self, key: str) -> None:
        self.vendor_cli("contract", "renew", key)

    def reissue(self, key: str) -> str:
        return last_line(self.vendor_cli("code", "reissue", key))

    def install(
        self, name: str, *, key: str | None = None, code: str | None = None, offline: bool = False
    ) -> Path:
        """A server installed by `cssec server install` (online unless `offline`)."""
        target = self.root / name
        credential = ["--registration-key", key] if key else ["--activation-code", str(code)]
        url = self.unreachable_url() if offline else self.vendor.url
        self.pool.run(
            "server", "install", "--data", str(target), "--vendor-url", url, *credential,
            "--admin-password-file", str(self.password_file), *(["--offline"] if offline else []),
        ).check()  # fmt: skip
        return target

    @staticmethod
    def unreachable_url() -> str:
        return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture(scope="session")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    running = Pool(tmp_path_factory.mktemp("jobs"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pool: Pool) -> Iterator[World]:
    root = tmp_path_factory.mktemp("faults")
    vendor = start_vendor(root / "vendor", root / "vendor.log")
    password_file = root / "admin.pw"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    try:
        yield World(pool=pool, vendor=vendor, root=root, password_file=password_file)
    finally:
        vendor.stop()
