"""The administrator's staged rollout timing (早期 / 標準 / 遅め) on the Web manager's
コンポーネント page and with `cssec server components rollout-timing`: shown with what it
means, changed by a form (CSRF, a value not offered refused beside the choice), an event
either way, and the choice moves what the next poll takes from a vendor rollout."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of
from tests.helpers.tuf import install_tuf_root
from tests.helpers.updates import EXTRA_RULE, SEED, current_versions
from typer.testing import CliRunner

from cssec.core.clock import FakeClock
from cssec.core.policy import Component
from cssec.server import cli
from cssec.server.updates.rollout_timing import EVENT_KIND, rollout_timing
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component

PAGE = "/updates/components"
FORM = PAGE + "/rollout-timing"
V1 = dict.fromkeys(Component, 1)
V2 = {**V1, Component.VIRUS_PATTERN: 2}


def _section(html: str) -> str:
    match = re.search(r'<section data-testid="rollout-timing".*?</section>', html, re.S)
    assert match is not None, "the components page has the rollout timing section"
    return match.group(0)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _checked(section: str) -> list[str]:
    return re.findall(r'value="(\w+)" checked', section)


async def _post(server: Server, timing: str) -> httpx.Response:
    token = csrf_of((await server.client.get(PAGE)).text)
    return await server.client.post(FORM, data={"timing": timing, "csrf_token": token})


async def _poll(server: Server, clock: FakeClock) -> str:
    clock.advance(timedelta(hours=1))
    outcome = await server.app.state.component_poller.run_update_if_due()
    return str(outcome.result)


async def test_the_page_shows_the_choice_and_early_takes_a_version_late_did_not(
    servers: ServerFactory, desk: Desk, clock: FakeClock, tmp_path: Path
) -> None:
    install_tuf_root(desk.vendor, tmp_path / "root-keys")
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    section = _section((await server.client.get(PAGE)).text)
    shown = _text(section)
    assert "段階的配信のタイミング" in shown
    assert "早期は最初のリング (サーバの10 %まで)で" in shown
    assert "遅めは多くのサーバで使われた後の最後のリング" in shown
    assert re.findall(r'value="\w+"[^>]*> (\S+)</label>', section) == ["早期", "標準", "遅め"]
    assert _checked(section) == ["standard"]
    assert await _poll(server, clock) == "up_to_date"

    response = await _post(server, "late")
    assert response.status_code == 303
    assert response.headers["location"] == PAGE
    page = (await server.client.get(PAGE)).text
    assert "段階的配信のタイミングを遅めにしました。" in page
    assert _checked(_section(page)) == ["late"]
    assert rollout_timing(server.settings.data_dir) == "late"  # what the poller reads
    [event] = server.events(EVENT_KIND)
    assert event.message_ja == "段階的配信のタイミングを標準から遅めに変更しました (admin)。"
    assert event.details == {"before": "standard", "after": "late", "actor": "admin"}

    data = (SEED / "virus_pattern.yar").read_bytes() + EXTRA_RULE
    with desk.vendor.session() as session:
        publish_component(
            session, "virus_pattern", data, actor="test",
            rollout=RolloutPlan(rings=(10, 100), step_hours=6),
        )  # fmt: skip
    assert await _poll(server, clock) == "up_to_date"
    assert current_versions(server) == V1, "late: outside the first 10 % ring"

    assert (await _post(server, "early")).status_code == 303
    assert await _poll(server, clock) == "success"
    assert current_versions(server) == V2, "early: inside the first ring"
    assert [e.details["after"] for e in server.events(EVENT_KIND)] == ["late", "early"]

    again = await _post(server, "early")  # no change: said so, no event
    assert again.status_code == 303
    assert "段階的配信のタイミングは早期のままです。" in (await server.client.get(PAGE)).text
    assert len(server.events(EVENT_KIND)) == 2

    token = csrf_of((await server.client.get(PAGE)).text)
    await server.client.post("/language", data={"lang": "en", "csrf_token": token, "next": PAGE})
    english = _section((await server.client.get(PAGE)).text)
    assert "Staged rollout timing" in english
    assert "early gets it in the first rings (up to 10 % of servers)" in english
    assert re.findall(r'value="\w+"[^>]*> (\S+)</label>', english) == ["Early", "Standard", "Late"]
    assert _checked(english) == ["early"]
    assert (await _post(server, "standard")).status_code == 303
    assert "Staged rollout timing set to standard." in (await server.client.get(PAGE)).text


async def test_a_forged_token_a_value_not_offered_and_no_login_change_nothing(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    anonymous = await server.client.post(FORM, data={"timing": "early", "csrf_token": "x"})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    await server.login()

    forged = await server.client.post(FORM, data={"timing": "early", "csrf_token": "forged"})
    assert forged.status_code == 303
    assert "フォームの有効期限が切れました" in (await server.client.get(PAGE)).text

    refused = await _post(server, "sooner")
    assert refused.status_code == 400
    section = _section(refused.text)
    error = re.search(r'<span class="field-error" id="timing-error"[^>]*>([^<]+)</span>', section)
    assert error is not None, "the refusal is beside the choice"
    assert "早期 (early)、標準 (standard)、遅め (late)のいずれか" in error.group(1)
    assert 'aria-invalid="true"' in section
    assert _checked(section) == ["standard"]

    assert rollout_timing(server.settings.data_dir) == "standard"
    assert server.events(EVENT_KIND) == []


async def test_the_cli_changes_it_with_the_same_event_and_words(
    servers: ServerFactory, desk: Desk
) -> None:
    settings = await servers.install(activation_code=desk.contract().codes["CS"])
    data = str(settings.data_dir)
    runner = CliRunner()
    changed = runner.invoke(cli.app, ["components", "rollout-timing", "early", "--data", data])
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.strip() == "段階的配信のタイミング: 早期 (early)"
    shown = runner.invoke(cli.app, ["components", "rollout-timing", "--data", data, "--lang", "en"])
    assert shown.stdout.strip() == "staged rollout timing: early"
    bad = runner.invoke(cli.app, ["components", "rollout-timing", "soon", "--data", data])
    assert bad.exit_code == 2
    assert "早期 (early)、標準 (standard)、遅め (late)のいずれか" in bad.stderr

    server = servers.open(settings)
    [event] = server.events(EVENT_KIND)
    assert event.details == {"before": "standard", "after": "early", "actor": "cli"}
    await server.login()
    assert _checked(_section((await server.client.get(PAGE)).text)) == ["early"]
