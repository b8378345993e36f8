"""The console's rollouts page: each rollout with its rings, state and health, and the
halt / resume / pull buttons (admins only, CSRF-checked), in Japanese by default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.vendor_service.console.conftest import csrf_of, vendor_of

from cssec.vendor_service.activeupdate.rollout_service import show_rollouts
from cssec.vendor_service.activeupdate.rollouts import RolloutPlan
from cssec.vendor_service.activeupdate.services import publish_component

SEED = (
    Path(__file__).resolve().parents[3] / "src" / "cssec" / "vendor_service" / "activeupdate_seed"
)


def _publish(app: FastAPI) -> None:
    data = (SEED / "virus_pattern.yar").read_bytes() + b"\nrule Console_R { condition: false }\n"
    with vendor_of(app).session() as session:
        publish_component(
            session, "virus_pattern", data, actor="t", rollout=RolloutPlan((1, 10, 100), 6)
        )


def test_rollouts_page_halts_resumes_and_pulls(
    app: FastAPI, admin: TestClient, make_client: Callable[..., TestClient]
) -> None:
    empty = admin.get("/console/rollouts")
    assert "段階的配信はありません" in empty.text
    _publish(app)
    page = admin.get("/console/rollouts")
    assert page.status_code == 200
    assert 'data-rollout="virus_pattern-2"' in page.text
    assert "配信中 (1.0%)" in page.text
    token = csrf_of(page.text)
    refused = admin.post(
        "/console/rollouts/virus_pattern/2/halt", data={"csrf_token": "x"}, follow_redirects=False
    )
    assert refused.status_code in (400, 403)
    halted = admin.post("/console/rollouts/virus_pattern/2/halt", data={"csrf_token": token})
    assert "配信を停止しました。" in halted.text
    assert "停止中" in halted.text
    assert 'data-testid="resume-virus_pattern-2"' in halted.text
    pulled = admin.post("/console/rollouts/virus_pattern/2/pull", data={"csrf_token": token})
    assert "配信を取り下げました" in pulled.text
    assert "取り下げ済み (v3)" in pulled.text
    with vendor_of(app).session() as session:
        assert show_rollouts(session)[0].state == "pulled"
    english = make_client(**{"Accept-Language": "en"}).get("/console/rollouts")
    assert "pulled (v3)" in english.text
