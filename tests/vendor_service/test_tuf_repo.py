"""ActiveUpdate as a TUF repository, on both databases: the offline root ceremony, the
metadata a publish writes, the timestamp the service re-signs on its own, a root rotation,
and the license gate in front of every file. Verified with python-tuf's own client
(`tuf.ngclient.Updater`) against the app, the clock injected."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tuf.api import exceptions
from tuf.api.metadata import Metadata, Timestamp
from tuf.ngclient import FetcherInterface, Updater
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.core.signing import VerifyingKey, verify_statement
from cssec.vendor_service import services
from cssec.vendor_service.activeupdate import publish_component
from cssec.vendor_service.activeupdate.tuf_keys import load_root_keys
from cssec.vendor_service.activeupdate.tuf_repo import install_root, sync_repository
from cssec.vendor_service.cli import app as cli_app
from cssec.vendor_service.runtime import Vendor

SERVER = "srv-0001"
VIRUS_V2 = b'rule Cssec_Demo_Worm { strings: $a = "CSSEC-DEMO-WORM" condition: $a }\n'


class ClientFetcher(FetcherInterface):
    """ngclient's fetcher over the TestClient, presenting an activation code."""

    def __init__(self, client: TestClient, code: str) -> None:
        self.client, self.code = client, code
        self.urls: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        self.urls.append(url)
        headers = {"X-Cssec-Activation-Code": self.code, "X-Cssec-Server-Id": SERVER}
        response = self.client.get(url, headers=headers)
        if response.status_code != 200:
            raise exceptions.DownloadHTTPError(response.text, response.status_code)
        return iter([response.content])


def _vendor(app: FastAPI) -> Vendor:
    vendor: Vendor = app.state.vendor
    return vendor


def _code(app: FastAPI, **kwargs: Any) -> str:
    options: dict[str, Any] = {"customer": "株式会社サンプル", "seats": 25, "actor": "test"}
    options.update(kwargs)
    with _vendor(app).session() as session:
        return services.issue_contract(session, **options).codes["CS"]


def _root_keys(tmp_path: Path, name: str = "root-keys") -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(
        cli_app, ["keys", "root", "init", "--threshold", "2", "--keys", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # The output language follows the locale (Japanese without one).
    assert "threshold: 2 of 3" in result.output or "必要な署名: 3 個のうち 2 個" in result.output
    return out


def _install(app: FastAPI, keys: Path, old: Path | None = None) -> int:
    with _vendor(app).session() as session:
        return install_root(
            session,
            load_root_keys(keys),
            old_keys=load_root_keys(old) if old is not None else None,
        )


def _updater(client: TestClient, code: str, tmp: Path, clock: FakeClock) -> Updater:
    """A fresh client that trusts 1.root.json because the vendor key endorses it."""
    headers = {"X-Cssec-Activation-Code": code, "X-Cssec-Server-Id": SERVER}
    endorsed = client.get("/api/v1/tuf/root-endorsement", headers=headers).json()
    keys = {k["kid"]: VerifyingKey.from_jwk(k) for k in client.get("/api/v1/keys").json()["keys"]}
    check = verify_statement(endorsed["endorsement"], keys)
    assert check.ok
    assert check.statement is not None
    version = endorsed["version"]
    root = client.get(f"/api/v1/tuf/{version}.root.json", headers=headers).content
    assert hashlib.sha256(root).hexdigest() == check.statement["sha256"]
    tmp.mkdir(exist_ok=True)
    updater = Updater(
        str(tmp), "http://testserver/api/v1/tuf/", str(tmp / "t"),
        "http://testserver/api/v1/tuf/targets/", ClientFetcher(client, code), bootstrap=root,
    )  # fmt: skip
    updater._trusted_set.reference_time = clock.now()
    return updater


def test_root_ceremony_publish_and_a_tuf_client(
    app: FastAPI, client: TestClient, clock: FakeClock, tmp_path: Path
) -> None:
    code = _code(app)
    headers = {"X-Cssec-Activation-Code": code}
    assert client.get("/api/v1/tuf/timestamp.json", headers=headers).status_code == 404
    keys = _root_keys(tmp_path)
    assert sorted(p.name for p in keys.iterdir()) == [
        "root-1.pem", "root-2.pem", "root-3.pem", "root-keys.json",
    ]  # fmt: skip
    assert (keys / "root-1.pem").stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(cli_app, ["keys", "root", "init", "--out", str(keys)])
    assert again.exit_code != 0
    assert _install(app, keys) == 1

    updater = _updater(client, code, tmp_path / "c1", clock)
    updater.refresh()
    info = updater.get_targetinfo("virus_pattern/virus_pattern.yar")
    assert info is not None
    assert info.custom["version"] == 1
    path = updater.download_target(info)
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == info.hashes["sha256"]
    manifest_info = updater.get_targetinfo("activeupdate/manifest.json")
    assert manifest_info is not None
    envelope = json.loads(Path(updater.download_target(manifest_info)).read_bytes())
    assert envelope["statement"]["serial"] == manifest_info.custom["serial"] == 4

    with _vendor(app).session() as session:
        publish_component(session, "virus_pattern", VIRUS_V2, actor="t")
    updater = _updater(client, code, tmp_path / "c1", clock)
    updater.refresh()
    info = updater.get_targetinfo("virus_pattern/virus_pattern.yar")
    assert info is not None
    assert info.custom["version"] == 2
    assert Path(updater.download_target(info)).read_bytes() == VIRUS_V2
    assert any(
        "/targets/virus_pattern/" + info.hashes["sha256"] in u for u in updater._fetcher.urls
    )  # type: ignore[attr-defined]


def _timestamp(client: TestClient, code: str) -> Timestamp:
    body = client.get(
        "/api/v1/tuf/timestamp.json", headers={"X-Cssec-Activation-Code": code}
    ).content
    return Metadata[Timestamp].from_bytes(body).signed


def test_the_timestamp_is_re_signed_on_its_own(
    app: FastAPI, client: TestClient, clock: FakeClock, tmp_path: Path
) -> None:
    code = _code(app)
    _install(app, _root_keys(tmp_path))
    first = _timestamp(client, code)
    assert first.expires - clock.now() <= timedelta(days=1)
    clock.advance(timedelta(hours=11))
    assert _timestamp(client, code).version == first.version, "more than half left"
    clock.advance(timedelta(hours=2))
    renewed = _timestamp(client, code)
    assert renewed.version == first.version + 1
    assert renewed.expires > first.expires
    # Two days without a request: the next one gets a fresh timestamp, never an expired one.
    clock.advance(timedelta(days=2))
    updater = _updater(client, code, tmp_path / "c", clock)
    updater.refresh()
    with _vendor(app).session() as session:
        assert sync_repository(session) is False, "nothing left to do"


def test_root_rotation_is_followed_by_a_client(
    app: FastAPI, client: TestClient, clock: FakeClock, tmp_path: Path
) -> None:
    code = _code(app)
    old = _root_keys(tmp_path, "old")
    _install(app, old)
    client_dir = tmp_path / "c"
    _updater(client, code, client_dir, clock).refresh()
    new = _root_keys(tmp_path, "new")
    with pytest.raises(ValueError, match="current root keys"):
        _install(app, new)
    assert _install(app, new, old=old) == 2
    updater = Updater(
        str(client_dir), "http://testserver/api/v1/tuf/", str(client_dir / "t"),
        "http://testserver/api/v1/tuf/targets/", ClientFetcher(client, code), bootstrap=None,
    )  # fmt: skip
    updater._trusted_set.reference_time = clock.now()
    updater.refresh()
    assert updater._trusted_set.root.version == 2
    assert (client_dir / "root_history" / "2.root.json").is_file()


def test_every_tuf_path_is_license_gated(
    app: FastAPI, client: TestClient, clock: FakeClock, tmp_path: Path
) -> None:
    code = _code(app, start=date(2026, 1, 1))  # ends 2026-12-31, CS grace 30 days
    _install(app, _root_keys(tmp_path))
    updater = _updater(client, code, tmp_path / "c", clock)
    updater.refresh()
    info = updater.get_targetinfo("scan_engine/scan_engine.json")
    assert info is not None
    target = f"/api/v1/tuf/targets/scan_engine/{info.hashes['sha256']}.scan_engine.json"
    paths = ["/api/v1/tuf/timestamp.json", "/api/v1/tuf/1.root.json",
             "/api/v1/tuf/root-endorsement", target]  # fmt: skip
    for path in paths:
        missing = client.get(path)
        assert (missing.status_code, missing.json()["code"]) == (401, "activation_code_required")
        assert client.get(path, headers={"X-Cssec-Activation-Code": code}).status_code == 200
    unknown = "/api/v1/tuf/targets/scan_engine/" + "0" * 64 + ".scan_engine.json"
    assert client.get(unknown, headers={"X-Cssec-Activation-Code": code}).status_code == 404
    clock.set(clock.now().replace(year=2027, month=1, day=31))  # the day after grace
    for path in paths:
        for lang, words in (("ja", "猶予期間"), ("en", "grace period have ended")):
            refused = client.get(
                path, headers={"X-Cssec-Activation-Code": code, "Accept-Language": lang}
            )
            assert refused.status_code == 403
            assert refused.json()["code"] == "license_expired"
            assert words in refused.json()["message"]


def test_root_keys_inside_the_data_directory_are_refused(app: FastAPI, tmp_path: Path) -> None:
    data = _vendor(app).settings.data_dir
    inside = data / "root-keys"
    result = CliRunner().invoke(cli_app, ["keys", "root", "init", "--out", str(inside)])
    assert result.exit_code == 0
    install = CliRunner().invoke(
        cli_app, ["tuf", "root", "install", "--root-keys", str(inside), "--data", str(data)]
    )
    assert install.exit_code != 0
    assert "tuf_root_refused" in install.output or "offline" in install.output
