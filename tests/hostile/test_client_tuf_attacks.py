"""Attacks between a client and its server's TUF mirror, each a real process in the middle
(`tests.helpers.attacker`, client_tuf_* modes) between real vendor and server processes and
the client: a forged target (another file of the same length), a rollback (an older
timestamp than the client holds) and a freeze (a recorded timestamp served past its
expiry). Each is refused with a clear message and the client's components unchanged; when
the attacker leaves, the next update succeeds.

The client runs as `cssec client …` processes, except for the freeze, where time must pass
beyond the timestamp's expiry: there the client's own update code runs in the test with
the clock moved two days on (over real HTTP through the same attacker process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from tests.helpers.e2e_server import REPO, Stack, free_port, running_stack
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import SEED

from cssec.client.errors import ComponentsStale
from cssec.client.install import agent_for
from cssec.client.state import ClientState
from cssec.client.updater import update_components
from cssec.core.clock import FakeClock, SystemClock
from cssec.vendor_service.activeupdate import publish_component

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSSEC = [sys.executable, "-m", "cssec"]


def cssec(*args: str, lang: str = "en_US.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSSEC_", "LC_", "LANG"))}
    env |= {"LANG": lang, "CSSEC_SERVER_TIMEZONE": "Asia/Tokyo", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*CSSEC, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("client-tuf")
    with running_stack(root, tls=False) as running:
        install_tuf_root(running.vendor, root / "offline-root-keys")
        server_update(running)  # the server trusts the TUF root from here on
        yield running


def server_update(stack: Stack) -> None:
    done = cssec("server", "components", "update", "--data", str(stack.server_dir))
    assert done.returncode == 0, done.stderr


def publish_next(stack: Stack, name: str) -> None:
    data = (SEED / "virus_pattern.yar").read_bytes() + (
        f'\nrule Cssec_Client_Tuf_{name} {{ strings: $m = "CSSEC-CT-{name}" condition: $m }}\n'
    ).encode()
    with stack.vendor.session() as session:
        publish_component(session, "virus_pattern", data, actor="test")
    server_update(stack)


@contextmanager
def attacker(upstream: str, mode: str, arm: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.attacker", "--upstream", upstream,
         "--port", str(port), "--mode", mode, "--arm-file", str(arm)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(b"listening"), line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _route_through(client_dir: Path, url: str) -> None:
    """The attacker takes over the route to the server: the client's calls reach `url`."""
    config = client_dir / "client.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["server_url"] = url
    config.write_text(json.dumps(data), encoding="utf-8")


def _status(client_dir: Path) -> dict[str, object]:
    shown = cssec("client", "status", "--dir", str(client_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    body: dict[str, object] = json.loads(shown.stdout)
    return body


def _installed_client(stack: Stack, tmp_path: Path, middle: str) -> Path:
    client_dir = tmp_path / "client"
    installed = cssec("client", "install", "--server", stack.server_url, "--dir", str(client_dir))
    assert installed.returncode == 0, installed.stderr
    assert (client_dir / "tuf" / "root.json").is_file(), "TUF from the install on"
    _route_through(client_dir, middle)
    first = cssec("client", "update", "--dir", str(client_dir))  # recorded in the middle
    assert first.returncode == 0, first.stderr
    return client_dir


@pytest.mark.parametrize(
    ("mode", "words_en", "words_ja"),
    [
        ("rollback", "a rollback or mix-and-match attack", "ロールバック攻撃"),
        ("arbitrary_software", "does not match the signed SHA-256", "ハッシュと一致しません"),
    ],
)
def test_an_attacker_between_client_and_server_is_refused(
    stack: Stack, tmp_path: Path, mode: str, words_en: str, words_ja: str
) -> None:
    arm = tmp_path / "armed"
    with attacker(stack.server_url, f"client_tuf_{mode}", arm) as middle:
        client_dir = _installed_client(stack, tmp_path, middle)
        publish_next(stack, mode)
        if mode == "rollback":
            moved = cssec("client", "update", "--dir", str(client_dir))
            assert moved.returncode == 0, moved.stderr
        before = _status(client_dir)["components"]
        arm.touch()
        for lang, words, stays in (
            ("en_US.UTF-8", words_en, "The current components stay in use"),
            ("ja_JP.UTF-8", words_ja, "現在のコンポーネントのまま動作します"),
        ):
            refused = cssec("client", "update", "--dir", str(client_dir), lang=lang)
            assert refused.returncode == 1, refused.stdout
            assert words in refused.stderr, refused.stderr
            assert stays in refused.stderr, refused.stderr
        assert _status(client_dir)["components"] == before
        arm.unlink()
        healed = cssec("client", "update", "--dir", str(client_dir))
        assert healed.returncode == 0, healed.stderr
    after = _status(client_dir)["components"]
    assert isinstance(after, dict)
    assert isinstance(before, dict)
    if mode != "rollback":
        assert after["virus_pattern"]["version"] > before["virus_pattern"]["version"]


def test_a_frozen_timestamp_is_refused_as_stale(stack: Stack, tmp_path: Path) -> None:
    arm = tmp_path / "armed"
    with attacker(stack.server_url, "client_tuf_freeze", arm) as middle:
        client_dir = _installed_client(stack, tmp_path, middle)
        publish_next(stack, "freeze")
        before = _status(client_dir)["components"]
        arm.touch()  # from now on the timestamp recorded at the first update, for ever
        state = ClientState(client_dir)
        later = FakeClock(SystemClock().now() + timedelta(days=2))
        with (
            agent_for(state.load_config(), lang="en") as agent,
            pytest.raises(ComponentsStale) as stale,
        ):
            update_components(state, agent, clock=later, lang="en")
        message = stale.value.message("en")
        assert message.startswith("Components stale since "), message
        assert "The current components stay in use" in message
        assert _status(client_dir)["components"] == before
        arm.unlink()
        healed = cssec("client", "update", "--dir", str(client_dir))
        assert healed.returncode == 0, healed.stderr
    after = _status(client_dir)["components"]
    assert isinstance(after, dict)
    assert isinstance(before, dict)
    assert after["virus_pattern"]["version"] > before["virus_pattern"]["version"]
