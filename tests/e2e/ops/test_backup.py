"""Backups of a running vendor and server, restored into fresh directories: the restored
server still checks its license online against the restored vendor."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

from tests.helpers.e2e_server import free_port, running_stack
from tests.helpers.processes import cssec_env, reaped, run_cssec, start_cssec, wait_answering


def _manifest(archive: Path) -> dict[str, object]:
    with tarfile.open(archive) as tar:
        first = tar.next()
        assert first is not None
        assert first.name == "manifest.json"
        handle = tar.extractfile(first)
        assert handle is not None
        manifest: dict[str, object] = json.loads(handle.read())
        return manifest


def test_backup_while_serving_then_restore_and_carry_on(tmp_path: Path) -> None:
    vendor_backup, server_backup = tmp_path / "vendor.backup", tmp_path / "server.backup"
    (tmp_path / "live").mkdir()
    with running_stack(tmp_path / "live", tls=False) as stack:
        vendor_dir = stack.root / "vendor"
        made = run_cssec("vendor", "backup", "--data", str(vendor_dir), "--out", str(vendor_backup))
        assert made.returncode == 0, made.stderr
        made = run_cssec(
            "server", "backup", "--data", str(stack.server_dir), "--out", str(server_backup)
        )
        assert made.returncode == 0, made.stderr
        again = run_cssec(
            "server", "backup", "--data", str(stack.server_dir), "--out", str(server_backup)
        )
        assert again.returncode == 1
        assert "backup_exists" in again.stderr
        code = stack.contract.codes["CS"]
        # Files at rest (issue 22): the live server's database and its WAL are private.
        for name in ("server.db", "server.db-wal", "server.db-shm", "backup.key"):
            path = stack.server_dir / name
            assert not path.exists() or stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert stat.S_IMODE(stack.server_dir.stat().st_mode) == 0o700

    for archive in (vendor_backup, server_backup):
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    vendor_manifest = _manifest(vendor_backup)
    names = {m["name"] for m in vendor_manifest["members"]}  # type: ignore[attr-defined]
    assert "database/vendor.db" in names
    assert "data/keys/hmac.json" in names
    assert all(len(m["sha256"]) == 64 for m in vendor_manifest["members"])  # type: ignore[attr-defined]
    server_names = {m["name"] for m in _manifest(server_backup)["members"]}  # type: ignore[attr-defined]
    assert {"database/server.db", "data/session.key", "data/vendor-keys.json"} <= server_names

    fresh = tmp_path / "fresh"
    restored_vendor, restored_server = fresh / "vendor", fresh / "server"
    # The archive does not carry its key: a restore without it is refused, nothing placed.
    keyless = run_cssec("server", "restore", str(server_backup), "--data", str(restored_server))
    assert keyless.returncode == 1
    assert "backup_key_required" in keyless.stderr
    assert not restored_server.exists()
    vendor_key = ["--key-file", str(vendor_dir / "keys" / "backup.key")]
    server_key = ["--key-file", str(stack.server_dir / "backup.key")]
    done = run_cssec(
        "vendor", "restore", str(vendor_backup), "--data", str(restored_vendor), *vendor_key
    )
    assert done.returncode == 0, done.stderr
    done = run_cssec(
        "server", "restore", str(server_backup), "--data", str(restored_server), *server_key
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((restored_server / "server.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((restored_server / "backup.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((restored_vendor / "keys" / "hmac.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(restored_server.stat().st_mode) == 0o700

    over = run_cssec(
        "server", "restore", str(server_backup), "--data", str(restored_server), *server_key
    )
    assert over.returncode == 1
    assert "restore_target_not_empty" in over.stderr

    inspected = run_cssec("vendor", "code", "inspect", code, "--data", str(restored_vendor))
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr

    port = free_port()
    log = tmp_path / "restored-vendor.log"
    args = ["vendor", "serve", "--data", str(restored_vendor), "--port", str(port)]
    with reaped(start_cssec(args, log)) as process:
        wait_answering(f"http://127.0.0.1:{port}/healthz", process, log)
        env = cssec_env(CSSEC_SERVER_VENDOR_URL=f"http://127.0.0.1:{port}")
        checked = run_cssec(
            "server", "license", "check-online",
            "--data", str(restored_server), env=env,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_restore_refuses_a_damaged_or_foreign_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a tar file")
    refused = run_cssec("vendor", "restore", str(junk), "--data", str(tmp_path / "v"))
    assert refused.returncode == 1
    assert "backup_invalid" in refused.stderr
    assert not (tmp_path / "v").exists()
