"""The vendor misbehaving over a real socket: slow past the server's timeout setting
(CSSEC_SERVER_VENDOR_TIMEOUT_SECONDS), answering 500, or answering with a statement whose
signature fails or that a key the server never pinned signed. The server is unchanged
and says why, in one line on stderr and one event / update-log row.

What tests/server already covers with in-process fakes (httpx transports) is not repeated:
see the report (test_server_licenses.py::test_failed_check_leaves_the_license_alone for
down / simulated timeout / 503 / bad signature on check-online; test_server_updates.py::
test_a_bad_update_is_refused_logged_and_changes_nothing for a tampered or re-signed
manifest, a tampered or cut file and a vendor that is down)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.faults import Contract, World, base_env, copy_dir, server_state
from tests.helpers.meddling_proxy import FORGED_END, Meddler, meddling_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = "1"


@pytest.fixture(scope="module")
def setup(world: World) -> tuple[Contract, Path]:
    """A server installed online (keys pinned, v1 components); then the contract is renewed
    and a new virus pattern published, so a successful check or update would change it."""
    contract = world.contract()
    server = world.install("vendor-faults", key=contract.key)
    world.renew(contract.key)
    source = world.root / "virus_pattern-faults.yar"
    seed = Path(__file__).resolve().parents[2] / "src/cssec/vendor_service/activeupdate_seed"
    source.write_bytes(
        (seed / "virus_pattern.yar").read_bytes()
        + b'\nrule Cssec_Vendor_Faults\n{\n    strings:\n        $m = "CSSEC-VENDOR-FAULTS"\n'
        b"    condition:\n        $m\n}\n"
    )
    world.vendor_cli("component", "publish", "virus_pattern", str(source))
    return contract, server


@pytest.fixture(scope="module")
def proxy(world: World) -> Iterator[tuple[Meddler, str]]:
    with meddling_proxy(world.vendor.url) as running:
        yield running


def _run(world: World, proxy_url: str, *args: str) -> Any:
    env = base_env(CSSEC_SERVER_VENDOR_URL=proxy_url, CSSEC_SERVER_VENDOR_TIMEOUT_SECONDS=TIMEOUT)
    return world.pool.run(*args, env=env)


def _new_rows(before: list[Any], after: list[Any]) -> list[Any]:
    assert after[: len(before)] == before, "earlier rows changed"
    return after[len(before) :]


CHECK_CASES = [
    ("slow", "vendor_unreachable", None),
    ("http_500", "vendor_unreachable", None),
    ("bad_signature", "untrusted_statement", "bad_signature"),
    ("wrong_key", "untrusted_statement", "unknown_kid"),
]


@pytest.mark.parametrize(("mode", "cause", "reason"), CHECK_CASES)
def test_check_online_against_a_misbehaving_vendor(
    world: World,
    setup: tuple[Contract, Path],
    proxy: tuple[Meddler, str],
    mode: str,
    cause: str,
    reason: str | None,
) -> None:
    meddler, url = proxy
    server = copy_dir(setup[1], world.root / f"check-{mode}")
    before = server_state(server)
    meddler.mode = mode
    try:
        run = _run(world, url, "server", "license", "check-online", "--data", str(server))
    finally:
        meddler.mode = "up"
    assert run.returncode == 1, run.stdout + run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(f"error: {cause}:"), line
    after = server_state(server)
    for old, new in zip(before["slots"], after["slots"], strict=True):
        assert {**new, "last_error": None} == {**old, "last_error": None}
        assert new["last_error"] == cause
    assert after["components"] == before["components"]
    [event] = _new_rows(before["events"], after["events"])
    assert (event["kind"], event["level"], event["details"]["cause"]) == (
        "license.check_failed",
        "error",
        cause,
    )
    if reason is not None:
        assert event["details"]["error"]["reason"] == reason
    assert FORGED_END not in str(after)


UPDATE_CASES = [
    ("slow", "vendor_unreachable"),
    ("http_500", "vendor_unreachable"),
    ("bad_signature", "bad_manifest"),
    ("wrong_key", "bad_manifest"),
]


@pytest.mark.parametrize(("mode", "cause"), UPDATE_CASES)
def test_components_update_against_a_misbehaving_vendor(
    world: World,
    setup: tuple[Contract, Path],
    proxy: tuple[Meddler, str],
    mode: str,
    cause: str,
) -> None:
    meddler, url = proxy
    server = copy_dir(setup[1], world.root / f"update-{mode}")
    before = server_state(server)
    meddler.mode = mode
    try:
        run = _run(world, url, "server", "components", "update", "--data", str(server))
    finally:
        meddler.mode = "up"
    assert run.returncode == 1, run.stdout + run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("error: component_update_failed:"), line
    after = server_state(server)
    assert after["components"] == before["components"]
    assert after["components"]["files_verify"]
    assert after["slots"] == before["slots"]
    [row] = _new_rows(before["update_log"], after["update_log"])
    assert (row["result"], row["cause"]) == ("failed", cause)
    assert not (server / "components" / "virus_pattern" / "2").exists()


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("slow", "vendor_unreachable"),
        ("bad_signature", "untrusted_statement"),
        ("wrong_key", "untrusted_statement"),
    ],
)
def test_activation_against_a_misbehaving_vendor(
    world: World,
    setup: tuple[Contract, Path],
    proxy: tuple[Meddler, str],
    mode: str,
    cause: str,
) -> None:
    """By design (license_manager.activate_code) a code the vendor cannot confirm is
    accepted on its structure and encoded expiry, logged as not confirmed: what the
    untrusted answer said is never applied."""
    meddler, url = proxy
    contract, installed = setup
    server = copy_dir(installed, world.root / f"activate-{mode}")
    new_code = world.reissue(contract.key)
    before = server_state(server)
    meddler.mode = mode
    try:
        run = _run(world, url, "server", "license", "activate", new_code, "--data", str(server))
    finally:
        meddler.mode = "up"
    assert run.returncode == 0, run.stdout + run.stderr
    said = ("warning: not confirmed online", "警告: オンラインで確認できなかった")
    assert any(warning in run.stderr for warning in said), run.stderr
    after = server_state(server)
    [slot] = after["slots"]
    assert slot["code"] == new_code.replace("-", "")
    assert slot["confirmed_online"] is False
    assert slot["expires_on"] != FORGED_END
    [event] = _new_rows(before["events"], after["events"])
    assert (event["kind"], event["level"]) == ("license.activated", "warning")
    assert event["details"]["not_confirmed_cause"] == cause
    assert FORGED_END not in str(after)
