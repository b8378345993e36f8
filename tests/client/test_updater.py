"""The updater against a peer speaking the agent API over real HTTP.

Nothing here stubs the client: manifests are really signed (Ed25519, a key made per test
by the peer), files really hashed, and the failure modes are what a hostile or broken
server could actually send.
"""

from __future__ import annotations

import json
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yara

from cssec.client import rules
from cssec.client.agent import AgentClient
from cssec.client.engine import load_components, load_engine
from cssec.client.errors import ComponentRejected, ManifestRejected, ServerUnreachable
from cssec.client.install import agent_for, install_client
from cssec.client.state import ClientState
from cssec.client.updater import UpdateResult, update_components
from cssec.core.clock import FakeClock
from cssec.core.components import Manifest
from cssec.core.errors import CssecError, LicenseExpired
from cssec.core.license import LicenseState
from cssec.core.policy import Component
from cssec.core.signing import SigningKey, sign_statement

Peer = Any  # the agent_server fixture (conftest.AgentPeer)
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
EXTRA_RULE = b"""
rule Cssec_Test_Extra
{
    meta:
        threat = "Extra"
    strings:
        $a = "cssec-extra-test-rule-v2"
    condition:
        $a
}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def state(agent_server: Peer, tmp_path: Path, clock: FakeClock) -> ClientState:
    state = ClientState(tmp_path / "client")
    outcome = install_client(
        state,
        server_url=agent_server.url,
        route="autopcc",
        install_token=None,
        clock=clock,
        lang="en",
    )
    assert outcome.update_error is None
    return state


NEW_RULE = b'\nrule Cssec_Test_New { strings: $a = "cssec-new-rule" condition: $a }\n'
CRASHING = [sys.executable, "-c", "import os; os.abort()"]
HANGING = [
    sys.executable,
    "-c",
    "import sys, threading; sys.stdin.read(); threading.Event().wait()",
]


def update(state: ClientState, clock: FakeClock, lang: str = "en") -> Any:
    with agent_for(state.load_config(), lang=lang) as agent:
        return update_components(state, agent, clock=clock, lang=lang)


def versions_on_disk(state: ClientState, component: Component) -> list[str]:
    return sorted(p.name for p in (state.components_dir / component.value).iterdir())


def test_install_fetches_every_component_and_reports_success(
    agent_server: Peer, state: ClientState
) -> None:
    installed = state.load_installed()
    assert installed.versions() == dict.fromkeys(Component, 1)
    assert installed.serial == 1
    assert installed.manifest == agent_server.manifest_envelope()
    for component, version in installed.current.items():
        path = state.component_path(version)
        assert path == state.components_dir / component.value / "1" / version.filename
        assert path.read_bytes() == agent_server.files[version.sha256]
    [report] = agent_server.update_results
    assert report["result"] == "success"
    assert report["versions"] == dict.fromkeys([c.value for c in Component], 1)
    # A code and the versions before, for the server to say it in its reader's language.
    assert report["message_code"] == "components_updated"
    assert report["message_params"] == dict.fromkeys([c.value for c in Component])
    assert "- →" not in report["message"]
    config = json.loads(state.client_file.read_text())
    assert config["client_token"] in agent_server.tokens
    assert stat.S_IMODE(state.client_file.stat().st_mode) == 0o600
    assert agent_server.enrollments[0]["route"] == "autopcc"


def test_second_update_is_up_to_date(
    agent_server: Peer, state: ClientState, clock: FakeClock
) -> None:
    outcome = update(state, clock)
    assert (outcome.result, outcome.changes, outcome.delivery) == (
        UpdateResult.UP_TO_DATE,
        {},
        "sent",
    )
    assert agent_server.update_results[-1]["result"] == "up_to_date"
    assert agent_server.update_results[-1]["message_code"] == "up_to_date"


def test_new_version_switches_and_keeps_the_previous_one(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    outcome = update(state, clock)
    assert outcome.result is UpdateResult.SUCCESS
    assert outcome.changes == {Component.VIRUS_PATTERN: (1, 2)}
    installed = state.load_installed()
    assert (installed.serial, installed.current[Component.VIRUS_PATTERN].version) == (2, 2)
    assert installed.previous[Component.VIRUS_PATTERN].version == 1
    assert versions_on_disk(state, Component.VIRUS_PATTERN) == ["1", "2"]
    assert load_engine(state).versions[Component.VIRUS_PATTERN] == 2
    assert agent_server.update_results[-1]["versions"]["virus_pattern"] == 2
    assert agent_server.update_results[-1]["message_params"] == {"virus_pattern": 1}

    agent_server.publish(
        Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE + b"// v3\n"
    )
    update(state, clock)
    assert versions_on_disk(state, Component.VIRUS_PATTERN) == ["2", "3"]
    assert versions_on_disk(state, Component.SCAN_ENGINE) == ["1"]


def _other_key(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    peer.sign_with = SigningKey.generate()


def _tamper_manifest(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    peer.tamper_manifest = True


def _tamper_files(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    peer.tamper_files = True


def _truncate_files(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    peer.truncate_files = True


def _crashing_compiler(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "COMPILER", CRASHING)


def _hanging_compiler(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "COMPILER", HANGING)
    monkeypatch.setattr(rules, "COMPILE_TIMEOUT_SECONDS", 0.5)


@pytest.mark.parametrize(
    ("breakage", "error", "reason"),
    [
        (_tamper_manifest, ManifestRejected, "bad_signature"),
        (_other_key, ManifestRejected, "unknown_kid"),
        (_tamper_files, ComponentRejected, "its SHA-256 is not the manifest's"),
        (_truncate_files, ComponentRejected, "where the manifest says"),
        # The pattern's check, in a child process, crashed or hung: the client did not.
        (_crashing_compiler, ComponentRejected, "compiling the pattern crashed (signal 6)"),
        (_hanging_compiler, ComponentRejected, "compiling the pattern did not finish within 0.5 s"),
    ],
    ids=[
        "tampered-manifest",
        "wrong-key",
        "tampered-file",
        "truncated-download",
        "compiler-crashed",
        "compiler-hung",
    ],
)
def test_rejected_update_keeps_the_current_version_and_reports_failed(
    agent_server: Peer,
    state: ClientState,
    clock: FakeClock,
    seed: dict[Component, bytes],
    eicar: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    breakage: Any,
    error: type[CssecError],
    reason: str,
) -> None:
    before = state.current_file.read_bytes()
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    breakage(agent_server, monkeypatch)
    with pytest.raises(error) as raised:
        update(state, clock)
    assert reason in str(raised.value.fields["reason"])
    assert state.current_file.read_bytes() == before
    assert versions_on_disk(state, Component.VIRUS_PATTERN) == ["1"]
    report = agent_server.update_results[-1]
    assert report["result"] == "failed"
    assert report["versions"]["virus_pattern"] == 1
    assert reason in report["message"]
    monkeypatch.undo()  # a compiler that works again
    sample = tmp_path / "eicar.com"
    sample.write_bytes(eicar)
    assert [d.component_version for d in load_engine(state).scan(sample).detections] == [1]


def test_a_rejected_file_is_explained_in_japanese_alone(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    """The reason inside the Japanese message is Japanese too (it read 「(sha256 mismatch)」)."""
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    agent_server.tamper_files = True
    with pytest.raises(ComponentRejected):
        update(state, clock, lang="ja")
    message = agent_server.update_results[-1]["message"]
    assert "SHA-256がマニフェストと一致しません" in message
    assert "mismatch" not in message


def test_signed_pattern_that_does_not_compile_is_refused(
    agent_server: Peer, state: ClientState, clock: FakeClock
) -> None:
    agent_server.publish(Component.SPYWARE_PATTERN, b"rule broken {")
    with pytest.raises(ComponentRejected, match="compile"):
        update(state, clock)
    assert state.load_installed().versions()[Component.SPYWARE_PATTERN] == 1


def test_older_manifest_is_refused(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    old = agent_server.manifest_envelope()
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    update(state, clock)
    agent_server.manifest_override = old  # validly signed, but a replay of serial 1
    with pytest.raises(ManifestRejected, match="older"):
        update(state, clock)
    assert state.load_installed().serial == 2


def test_manifest_missing_a_component_is_refused(
    agent_server: Peer, state: ClientState, clock: FakeClock
) -> None:
    statement = Manifest.from_statement(agent_server.manifest_envelope()["statement"]).value
    assert statement is not None
    body = statement.to_statement()
    del body["components"]["scan_engine"]
    agent_server.manifest_override = sign_statement(body, agent_server.vendor_key)
    with pytest.raises(ManifestRejected, match="missing_component"):
        update(state, clock)


def test_refusal_is_reported_as_refused_and_raised(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    agent_server.expire_license()
    before = state.current_file.read_bytes()
    with pytest.raises(LicenseExpired) as raised:
        update(state, clock, lang="ja")
    message = raised.value.message("ja")
    assert "ライセンスの有効期限が切れています。管理者にお問い合わせください。" in message
    assert raised.value.fields["status_code"] == 403
    assert state.current_file.read_bytes() == before
    report = agent_server.update_results[-1]
    assert (report["result"], report["message"]) == ("refused", message)
    assert report["message_code"] == "license_expired"


def test_unreachable_server_queues_the_failure_and_sends_it_next_time(
    agent_server: Peer, state: ClientState, clock: FakeClock, unused_url: str
) -> None:
    config = state.load_config()
    with (
        AgentClient(unused_url, token=config.client_token) as agent,
        pytest.raises(ServerUnreachable),
    ):
        update_components(state, agent, clock=clock, lang="en")
    [queued] = state.load_outbox()
    assert (queued["endpoint"], queued["body"]["result"]) == ("update-result", "failed")
    assert len(agent_server.update_results) == 1

    update(state, clock)
    assert [r["result"] for r in agent_server.update_results] == ["success", "failed", "up_to_date"]
    assert state.load_outbox() == []


def test_damaged_current_file_falls_back_then_gets_repaired(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    update(state, clock)
    current = state.load_installed().current[Component.VIRUS_PATTERN]
    state.component_path(current).write_bytes(b"rule damaged { condition: false }")
    loaded, notes = load_components(state)
    assert loaded[Component.VIRUS_PATTERN].version == 1
    assert any("fell back" in note for note in notes)

    update(state, clock)
    assert state.component_path(current).read_bytes() == agent_server.files[current.sha256]
    assert load_components(state)[1] == []


def test_reused_version_number_is_refused(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    before = state.current_file.read_bytes()
    agent_server.serial += 1
    agent_server.put_version(Component.VIRUS_PATTERN, 1, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    with pytest.raises(ManifestRejected, match="different file"):
        update(state, clock)
    assert state.current_file.read_bytes() == before
    assert load_components(state)[1] == []


# --- The server's step back after a rollback (issue 24) ---------------------------------------


def _two_sets(
    peer: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> dict[str, Any]:
    """The client at serial 2 (virus pattern 2) after serial 1; returns serial 1's envelope."""
    first = peer.manifest_envelope()
    peer.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    assert update(state, clock).versions[Component.VIRUS_PATTERN] == 2
    return first


def test_a_server_that_rolled_back_steps_the_client_back_once(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    first = _two_sets(agent_server, state, clock, seed)
    assert state.load_installed().previous_serial == 1
    agent_server.manifest_override, agent_server.step_back_from = first, 2
    outcome = update(state, clock, lang="ja")
    assert outcome.stepped_back
    assert (outcome.result, outcome.changes) == (
        UpdateResult.SUCCESS,
        {Component.VIRUS_PATTERN: (2, 1)},
    )
    installed = state.load_installed()
    assert (installed.serial, installed.previous_serial) == (1, None)
    assert load_engine(state).versions[Component.VIRUS_PATTERN] == 1
    report = agent_server.update_results[-1]
    assert (report["result"], report["message_code"]) == ("success", "components_stepped_back")
    assert report["versions"]["virus_pattern"] == 1
    # Once: the same answer again changes nothing, and a further step back is refused.
    assert update(state, clock).result is UpdateResult.UP_TO_DATE
    agent_server.step_back_from = 1
    agent_server.manifest_override = None
    agent_server.serial = 0  # an older set than any the client held, validly signed
    again = update(state, clock)
    assert (again.result, again.stepped_back) == (UpdateResult.UP_TO_DATE, False)
    assert state.load_installed().serial == 1
    # Forward again as usual when the vendor publishes a newer set.
    agent_server.step_back_from, agent_server.serial = None, 2
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + b"// v3\n")
    assert update(state, clock).versions[Component.VIRUS_PATTERN] == 3


@pytest.mark.parametrize(
    ("case", "refused"),
    [
        ("no_header", True),  # an older set without a rollback said: a replay
        ("header_names_another_serial", True),
        ("not_the_set_before", False),  # a rollback said, to a set it never held: it stays
        ("files_it_never_ran", False),
    ],
)
def test_a_step_back_goes_only_to_exactly_the_set_before(
    agent_server: Peer,
    state: ClientState,
    clock: FakeClock,
    seed: dict[Component, bytes],
    case: str,
    refused: bool,
) -> None:
    first = _two_sets(agent_server, state, clock, seed)
    agent_server.manifest_override, agent_server.step_back_from = first, 2
    if case == "no_header":
        agent_server.step_back_from = None
    elif case == "header_names_another_serial":
        agent_server.step_back_from = 7
    elif case == "not_the_set_before":
        agent_server.manifest_override = None
        agent_server.serial = 0  # serial 0 != the set before (1), same files as serial 2
    else:  # serial 1 again, but naming a pattern this client never ran
        agent_server.manifest_override = None
        agent_server.serial = 1
        agent_server.put_version(
            Component.VIRUS_PATTERN, 9, seed[Component.VIRUS_PATTERN] + b"//9\n"
        )
    if refused:
        with pytest.raises(ManifestRejected, match="older"):
            update(state, clock)
        assert agent_server.update_results[-1]["result"] == "failed"
    else:
        outcome = update(state, clock)
        assert (outcome.result, outcome.stepped_back) == (UpdateResult.UP_TO_DATE, False)
        assert agent_server.update_results[-1]["result"] == "up_to_date"
    installed = state.load_installed()
    assert (installed.serial, installed.versions()[Component.VIRUS_PATTERN]) == (2, 2)


# --- A lapsed Damage Cleanup Services license stops its template alone (issue 21) -------------

TEMPLATE_V2 = json.dumps(
    {"format": 1, "rules": [{"threat": "Eicar_test_file", "action": "quarantine"}],
     "default_action": "quarantine"}
).encode()  # fmt: skip


def test_a_client_of_a_site_without_dcs_is_not_told_it_keeps_a_template_it_never_had(
    agent_server: Peer, client_dir: Path, cli: Any, seed: dict[Component, bytes]
) -> None:
    """A C/S Sec.-only site's client never holds a template: its update says the template was
    not fetched, not that it "stays at the version it had"."""
    agent_server.dcs_state = LicenseState.EXPIRED
    result = cli("install", "--server", agent_server.url, "--dir", str(client_dir), lang="ja")
    assert result.exit_code == 0, result.output
    assert Component.DAMAGE_CLEANUP_TEMPLATE not in (
        ClientState(client_dir).load_installed().versions()
    )
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    ja = cli("update", "--dir", str(client_dir), lang="ja")
    assert ja.exit_code == 0, ja.output
    assert "ウイルス感染復旧テンプレートは取得していません。" in ja.output
    assert "以前のバージョンのまま" not in ja.output
    en = cli("update", "--dir", str(client_dir))
    assert "The damage cleanup template was not fetched." in en.output
    assert "stays at the version it had" not in en.output


def test_a_dcs_lapse_keeps_the_template_and_updates_the_rest(
    agent_server: Peer, installed: Path, cli: Any, seed: dict[Component, bytes]
) -> None:
    """What the banner says is what the client does: the revoked Damage Cleanup slot stops
    the template's distribution only, so the pattern still updates, the template stays at
    the version the client holds, and both facts reach the server's update log."""
    agent_server.dcs_state = LicenseState.REVOKED
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    agent_server.publish(Component.DAMAGE_CLEANUP_TEMPLATE, TEMPLATE_V2)
    result = cli("update", "--dir", str(installed), lang="ja")
    assert result.exit_code == 0, result.output
    assert "アップデートが完了しました: ウイルスパターンファイル 1 → 2" in result.output
    assert "ウイルス感染復旧テンプレートは以前のバージョンのまま使用します。" in result.output
    held = ClientState(installed).load_installed()
    assert held.versions()[Component.VIRUS_PATTERN] == 2
    assert held.versions()[Component.DAMAGE_CLEANUP_TEMPLATE] == 1
    success, refused = agent_server.update_results[-2:]
    assert (success["result"], success["message_params"]) == ("success", {"virus_pattern": 1})
    assert (refused["result"], refused["message_code"]) == ("refused", "license_revoked")
    # Nothing else new: up to date, the template still kept, no failure.
    again = cli("update", "--dir", str(installed))
    assert again.exit_code == 0, again.output
    assert "Components are up to date" in again.output
    assert "The damage cleanup template stays at the version it had." in again.output
    # Renewed: the template comes.
    agent_server.dcs_state = LicenseState.ACTIVATED
    assert cli("update", "--dir", str(installed)).exit_code == 0
    assert (
        ClientState(installed).load_installed().versions()[Component.DAMAGE_CLEANUP_TEMPLATE] == 2
    )


TEMPLATE_V3 = TEMPLATE_V2.replace(b"quarantine", b"delete", 1)


def _refused_the_template(peer: Peer, state: ClientState, clock: FakeClock) -> dict[str, Any]:
    """The client at serial 2 with template 1: it was refused serial 2's template 2 (no live
    Damage Cleanup Services license). Returns serial 2's envelope."""
    peer.dcs_state = LicenseState.REVOKED
    peer.publish(Component.DAMAGE_CLEANUP_TEMPLATE, TEMPLATE_V2)
    assert update(state, clock).refused.keys() == {Component.DAMAGE_CLEANUP_TEMPLATE}
    return peer.manifest_envelope()


@pytest.mark.parametrize(
    "dcs_at_rollback",
    [LicenseState.REVOKED, LicenseState.ACTIVATED],  # served now, and still never ran: not taken
)
def test_a_client_refused_the_template_steps_back_keeping_its_own(
    agent_server: Peer,
    state: ClientState,
    clock: FakeClock,
    seed: dict[Component, bytes],
    dcs_at_rollback: LicenseState,
) -> None:
    second = _refused_the_template(agent_server, state, clock)
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    assert update(state, clock).versions[Component.VIRUS_PATTERN] == 2  # serial 3, template 1
    agent_server.dcs_state = dcs_at_rollback
    agent_server.manifest_override, agent_server.step_back_from = second, 3
    outcome = update(state, clock)
    assert (outcome.stepped_back, outcome.changes) == (True, {Component.VIRUS_PATTERN: (2, 1)})
    installed = state.load_installed()
    assert (installed.serial, installed.previous_serial) == (2, None)
    assert load_engine(state).versions == dict.fromkeys(Component, 1)
    report = agent_server.update_results[-1]
    assert (report["message_code"], report["versions"]["damage_cleanup_template"]) == (
        "components_stepped_back",
        1,
    )


def test_a_client_that_runs_the_rolled_back_template_does_not_step_back_without_it(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    """Refused serial 2's template, then given serial 4's once licensed: going back to serial
    2 would leave the rolled-back set's template in use, so the client stays on its set."""
    second = _refused_the_template(agent_server, state, clock)
    agent_server.dcs_state = LicenseState.ACTIVATED
    agent_server.publish(Component.DAMAGE_CLEANUP_TEMPLATE, TEMPLATE_V3)
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    assert update(state, clock).versions[Component.DAMAGE_CLEANUP_TEMPLATE] == 3  # serial 4
    agent_server.manifest_override, agent_server.step_back_from = second, 4
    outcome = update(state, clock)
    assert (outcome.result, outcome.stepped_back) == (UpdateResult.UP_TO_DATE, False)
    installed = state.load_installed()
    assert (installed.serial, installed.versions()[Component.DAMAGE_CLEANUP_TEMPLATE]) == (4, 3)


def test_a_cs_lapse_still_stops_the_whole_update(
    agent_server: Peer, state: ClientState, clock: FakeClock, seed: dict[Component, bytes]
) -> None:
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + EXTRA_RULE)
    agent_server.expire_license()
    with pytest.raises(LicenseExpired):
        update(state, clock)
    assert state.load_installed().versions()[Component.VIRUS_PATTERN] == 1


# --- patterns are compiled in a child process (`client.rules`) -----------------------------


@pytest.fixture
def no_compile_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process must not compile a pattern: only the child may."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pattern was compiled in the client's own process")

    monkeypatch.setattr(yara, "compile", refuse)


@pytest.mark.usefixtures("no_compile_here")
def test_an_update_and_a_scan_compile_only_in_a_child(
    agent_server: Peer,
    state: ClientState,
    clock: FakeClock,
    seed: dict[Component, bytes],
    tmp_path: Path,
) -> None:
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + NEW_RULE)
    assert update(state, clock).result is UpdateResult.SUCCESS
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"... cssec-new-rule ...")
    report = load_engine(state).scan(sample)
    assert [d.rule for d in report.detections] == ["Cssec_Test_New"]
    assert report.issues == []


def test_a_crashed_compiler_is_said_in_the_clients_language(
    agent_server: Peer,
    state: ClientState,
    clock: FakeClock,
    seed: dict[Component, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "COMPILER", CRASHING)
    agent_server.publish(Component.VIRUS_PATTERN, seed[Component.VIRUS_PATTERN] + NEW_RULE)
    with pytest.raises(ComponentRejected):
        update(state, clock, lang="ja")
    said = agent_server.update_results[-1]["message"]
    assert "パターンファイルをコンパイルするプロセスが異常終了しました（シグナル 6）" in said
