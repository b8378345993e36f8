"""SIGKILL at every step of an activation and of an online status check (renewal), then a
restart: the license is the old one or the new one, never a mix; the event log holds
exactly the rows of what was committed; the next run succeeds (DESIGN.md: "a crash
halfway through an activation leaves the old license in force")."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.crash import CrashReport, crash_everywhere
from tests.helpers.faults import World, age, base_env, server_state

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _slots(data: Path) -> Any:
    return server_state(data)["slots"]


def _assert_clean(report: CrashReport, *, allowed: set[str]) -> None:
    assert report.steps, "the operation took no step"
    assert report.before != report.after, "the operation changed nothing"
    assert not report.problems(), "\n".join(report.problems())
    assert set(report.labels()) <= allowed, report.labels()
    assert {"before", "after"} <= set(report.labels()), report.labels()


def test_activation_with_the_vendor_unreachable(world: World) -> None:
    """Offline renewal: a new code with the new date, accepted on its structure."""
    contract = world.contract()
    server = world.install("offline", code=contract.codes["CS"], offline=True)
    world.renew(contract.key)
    new_code = world.reissue(contract.key)
    env = base_env(CSSEC_SERVER_VENDOR_URL=world.unreachable_url())
    report = crash_everywhere(
        world.pool,
        name="activate-vendor-unreachable",
        snapshot=age(server),
        workdir=world.root / "crash-activate-offline",
        args=lambda data: ["server", "license", "activate", new_code, "--data", str(data)],
        state=server_state,
        settled=_slots,
        env=env,
    )
    _assert_clean(report, allowed={"before", "after"})
    [slot] = report.after["slots"]
    assert slot["code"] == new_code.replace("-", "")
    assert slot["expires_on"] > report.before["slots"][0]["expires_on"]
    assert slot["confirmed_online"] is False
    event = report.after["events"][-1]
    assert (event["kind"], event["details"]["not_confirmed_cause"]) == (
        "license.activated",
        "vendor_unreachable",
    )


def test_activation_confirmed_online(world: World) -> None:
    contract = world.contract()
    server = world.install("online", key=contract.key)
    world.renew(contract.key)
    new_code = world.reissue(contract.key)
    report = crash_everywhere(
        world.pool,
        name="activate-online",
        snapshot=age(server),
        workdir=world.root / "crash-activate-online",
        args=lambda data: ["server", "license", "activate", new_code, "--data", str(data)],
        state=server_state,
        settled=_slots,
    )
    _assert_clean(report, allowed={"before", "after"})
    [slot] = report.after["slots"]
    assert (slot["code"], slot["confirmed_online"]) == (new_code.replace("-", ""), True)
    assert slot["expires_on"] > report.before["slots"][0]["expires_on"]


@pytest.fixture(scope="module")
def first_contact(world: World) -> CrashReport:
    """An offline-installed server meets the vendor for the first time while activating:
    it pins the vendor's keys (vendor-keys.json), logs vendor.keys_pinned, then activates."""
    contract = world.contract()
    server = world.install("first-contact", code=contract.codes["CS"], offline=True)
    world.renew(contract.key)
    new_code = world.reissue(contract.key)

    def pinned(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        # A restart may legitimately find the keys pinned and logged, the license as it was;
        # or the event committed and the keys not yet renamed into place (the next contact
        # pins and logs again: an event without a pin, never a pin without its event).
        logged = copy.deepcopy(before)
        logged["keys_pinned"] = True
        logged["events"].append(after["events"][len(before["events"])])
        logged_only = copy.deepcopy(logged)
        logged_only["keys_pinned"] = False
        silently = copy.deepcopy(before)
        silently["keys_pinned"] = True
        return {
            "pinned_and_logged": logged,
            "logged_not_pinned": logged_only,
            "pinned_silently": silently,
        }

    return crash_everywhere(
        world.pool,
        name="activate-first-contact",
        snapshot=age(server),
        workdir=world.root / "crash-first-contact",
        args=lambda data: ["server", "license", "activate", new_code, "--data", str(data)],
        state=server_state,
        settled=_slots,
        env=base_env(CSSEC_SERVER_VENDOR_URL=world.vendor.url),
        legitimate=pinned,
    )


def test_activation_at_first_contact_pins_keys_and_activates(first_contact: CrashReport) -> None:
    report = first_contact
    assert not report.problems(), "\n".join(report.problems())
    kinds = [e["kind"] for e in report.after["events"][len(report.before["events"]) :]]
    assert kinds == ["vendor.keys_pinned", "license.activated"]
    assert report.after["keys_pinned"]
    assert not report.before["keys_pinned"]
    assert {"before", "pinned_and_logged", "after"} <= set(report.labels()), report.labels()


def test_keys_are_never_pinned_without_their_event(first_contact: CrashReport) -> None:
    silent = [o.n for o in first_contact.outcomes if o.label == "pinned_silently"]
    assert not silent, f"keys pinned without a vendor.keys_pinned event at steps {silent}"


def test_status_check_after_a_renewal(world: World) -> None:
    """Online renewal: C/S Sec. and Damage Cleanup Services are checked one after the other,
    each slot in its own transaction with its event; a crash between them leaves C/S Sec.
    renewed and DCS as it was, which the next check completes."""
    contract = world.contract(with_dcs=True)
    server = world.install("renewal", key=contract.key)
    world.renew(contract.key)

    def cs_first(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        state = copy.deepcopy(before)
        state["slots"][0] = after["slots"][0]
        state["events"].append(after["events"][len(before["events"])])
        return {"cs_renewed": state}

    report = crash_everywhere(
        world.pool,
        name="check-online-renewal",
        snapshot=age(server),
        workdir=world.root / "crash-check-online",
        args=lambda data: ["server", "license", "check-online", "--data", str(data)],
        state=server_state,
        settled=_slots,
        legitimate=cs_first,
    )
    _assert_clean(report, allowed={"before", "cs_renewed", "after"})
    new = [e for e in report.after["events"] if e["kind"] == "license.check_succeeded"]
    assert [e["details"]["product"] for e in new] == ["CS", "DCS"]
    for before, after in zip(report.before["slots"], report.after["slots"], strict=True):
        assert after["expires_on"] > before["expires_on"]
        assert after["code"] == before["code"], "an online renewal keeps the code"
