"""The outbreak monitor on the real server: the threshold over a window on the fake clock,
one alert per outbreak (cool-down), the dashboard banner and acknowledge button, the
webhook to a real HTTP endpoint after the response, mail building, and every license state."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select
from tests.helpers.server import Desk, Server, ServerFactory, csrf_of

from cssec.core.clock import FakeClock
from cssec.core.license import grace_end
from cssec.server.models import OutbreakAlert
from cssec.server.notices.mailer import Security, SmtpConfig, build_mail
from cssec.server.outbreak.monitor import InvalidMonitorSetting, MonitorForm, validate
from cssec.server.outbreak.notify import alert_notice, webhook_payload

ENROLL = "/api/v1/agent/enroll"


async def _client(server: Server, hostname: str) -> httpx.AsyncClient:
    body = {"route": "autopcc", "hostname": hostname, "os": "Linux", "agent_version": "0.1"}
    enrolled = await server.client.post(ENROLL, json=body)
    assert enrolled.status_code == 200, enrolled.text
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app, client=("127.0.0.1", 40000)),
        base_url="http://server.test",
        headers={"Authorization": f"Bearer {enrolled.json()['client_token']}"},
    )


async def _detect(agent: httpx.AsyncClient, count: int, threat: str = "Eicar_test_file") -> None:
    detections = [{"path": f"/share/f{i}.com", "threat": threat} for i in range(count)]
    response = await agent.post(
        "/api/v1/agent/virus-log", json={"scan_type": "realtime", "detections": detections}
    )
    assert response.status_code == 204, response.text


def _alerts(server: Server) -> list[OutbreakAlert]:
    with server.app.state.server.sessionmaker() as session:
        return list(session.scalars(select(OutbreakAlert).order_by(OutbreakAlert.id)))


async def _configure(server: Server, **fields: Any) -> httpx.Response:
    form = {
        "enabled": "1",
        "min_detections": "4",
        "min_clients": "2",
        "window_minutes": "10",
        "cooldown_minutes": "30",
        "smtp_port": "25",
        **fields,
    }
    form["csrf_token"] = await server.csrf("/admin/outbreak-monitor")
    return await server.client.post("/admin/outbreak-monitor", data=form)


async def _server(servers: ServerFactory, desk: Desk) -> Server:
    server = servers.open(await servers.install(activation_code=desk.contract().codes["CS"]))
    await server.login()
    return server


async def test_threshold_window_cooldown_and_acknowledge(
    servers: ServerFactory, desk: Desk, clock: FakeClock
) -> None:
    server = await _server(servers, desk)
    assert (await _configure(server)).status_code == 303
    async with await _client(server, "pc-a") as a, await _client(server, "pc-b") as b:
        await _detect(a, 6)  # many detections, one client: no outbreak
        assert _alerts(server) == []
        clock.advance(timedelta(minutes=11))  # pc-a's detections leave the window
        await _detect(b, 2)
        assert _alerts(server) == []
        await _detect(a, 2)  # 4 detections on 2 clients within 10 minutes
        alerts = _alerts(server)
        assert len(alerts) == 1
        assert (alerts[0].detections, alerts[0].clients) == (4, 2)
        assert alerts[0].hostnames == ["pc-a", "pc-b"]
        assert alerts[0].threats == {"Eicar_test_file": 4}
        # The same outbreak goes on: no second alert within the cool-down.
        clock.advance(timedelta(minutes=5))
        await _detect(a, 5)
        await _detect(b, 5)
        assert len(_alerts(server)) == 1
        # After the cool-down only detections since the alert count.
        clock.advance(timedelta(minutes=26))
        await _detect(a, 1)
        assert len(_alerts(server)) == 1
        await _detect(b, 3, threat="Spyware_Test_File")
        assert len(_alerts(server)) == 2
    events = [e.kind for e in server.events() if e.kind.startswith("outbreak.")]
    assert events == ["outbreak.monitor_settings", "outbreak.alert", "outbreak.alert"]
    dashboard = await server.client.get("/dashboard")
    assert 'data-testid="outbreak-banner"' in dashboard.text
    assert "未確認の警告 2 件" in dashboard.text
    first = _alerts(server)[0].id
    ack = await server.client.post(
        f"/logs/outbreak-alerts/{first}/acknowledge",
        data={"csrf_token": csrf_of(dashboard.text), "next": "/dashboard"},
    )
    assert ack.status_code == 303
    assert ack.headers["location"] == "/dashboard"
    page = await server.client.get("/logs/outbreak-alerts")
    assert page.text.count('data-status="acknowledged"') == 1
    assert "adminが確認済み" in page.text
    second = _alerts(server)[1].id
    token = csrf_of(page.text)
    await server.client.post(
        f"/logs/outbreak-alerts/{second}/acknowledge", data={"csrf_token": token}
    )
    assert 'data-testid="outbreak-banner"' not in (await server.client.get("/dashboard")).text
    assert [e.kind for e in server.events("outbreak.acknowledged")] == ["outbreak.acknowledged"] * 2
    forged = await server.client.post(f"/logs/outbreak-alerts/{first}/acknowledge", data={})
    assert forged.status_code == 303
    missing = await server.client.post(
        "/logs/outbreak-alerts/999/acknowledge", data={"csrf_token": token}
    )
    assert missing.status_code == 303


async def test_disabled_monitor_raises_nothing(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    form = {"enabled": "", "min_detections": "1", "min_clients": "1"}
    assert (await _configure(server, **form)).status_code == 303
    async with await _client(server, "pc-a") as a:
        await _detect(a, 3)
    assert _alerts(server) == []


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    _Hook.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    httpd.shutdown()
    httpd.server_close()


async def test_webhook_gets_the_alert_after_the_response(
    servers: ServerFactory, desk: Desk, webhook: str
) -> None:
    server = await _server(servers, desk)
    assert (await _configure(server, webhook_url=webhook)).status_code == 303
    async with await _client(server, "pc-a") as a, await _client(server, "pc-b") as b:
        await _detect(a, 2)
        await _detect(b, 2)
    assert len(_Hook.received) == 1
    body = _Hook.received[0]
    assert body["event"] == "cssec.outbreak_alert"
    assert (body["detections"], body["clients"]) == (4, 2)
    assert body["hostnames"] == ["pc-a", "pc-b"]
    assert body["raised_at"].endswith("Z")
    assert "Possible outbreak" in body["message"]["en"]
    assert _alerts(server)[0].notified == "webhook: ok"


async def test_a_failing_receiver_never_fails_the_report(
    servers: ServerFactory, desk: Desk
) -> None:
    server = await _server(servers, desk)
    fields = {
        "webhook_url": "http://127.0.0.1:9/unreachable",
        "smtp_host": "127.0.0.1",
        "smtp_port": "9",
        "mail_from": "cssec@example.jp",
        "mail_to": "admin@example.jp, sec@example.jp",
    }
    assert (await _configure(server, **fields)).status_code == 303
    async with await _client(server, "pc-a") as a, await _client(server, "pc-b") as b:
        await _detect(a, 2)
        await _detect(b, 2)  # 204 although both receivers are down
    failed = server.events("outbreak.notify_failed")
    assert len(failed) == 1
    assert "webhook" in failed[0].message_en
    assert "mail" in failed[0].message_en
    assert "Webhook / SMTP" in failed[0].message_ja
    assert (_alerts(server)[0].notified or "").count("failed") == 2


def test_mail_message_is_bilingual_utf8() -> None:
    alert = OutbreakAlert(
        id=7,
        raised_at=datetime(2026, 11, 27, 3, 0, tzinfo=UTC),
        window_start=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        detections=12,
        clients=3,
        threats={"Eicar_test_file": 12},
        hostnames=["pc-a", "pc-b", "pc-c"],
        threshold={"window_minutes": 60},
    )
    subject, body = alert_notice(alert)
    assert subject == {"ja": "アウトブレーク警告 #7", "en": "Outbreak alert #7"}
    assert "アウトブレークの可能性があります" in body["ja"]
    assert "Possible outbreak: 12 detections on 3 clients within 60 min" in body["en"]
    assert all("Eicar_test_file: 12" in text for text in body.values())
    raised = f"{alert.raised_at:%Y-%m-%d %H:%M:%S}\n"
    assert f"発生日時 (UTC): {raised}" in body["ja"]
    assert f"Raised at (UTC): {raised}" in body["en"]
    config = SmtpConfig(
        host="mail.example.jp",
        port=25,
        security=Security.NONE,
        username=None,
        password=None,
        sender="cssec@example.jp",
        recipients=["a@example.jp", "b@example.jp"],
    )
    mail = build_mail(config, subject=subject["ja"], body=body["ja"], at=alert.raised_at)
    assert mail["To"] == "a@example.jp, b@example.jp"
    assert "アウトブレーク警告 #7" in mail["Subject"]
    assert b'charset="utf-8"' in mail.as_bytes()
    assert webhook_payload(alert)["alert_id"] == 7


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"min_detections": 0}, "the number of detections"),
        ({"window_minutes": 100_000}, "the period"),
        ({"webhook_url": "ftp://x"}, "webhook URL"),
        ({"mail_to": "not an address"}, "recipient"),
        ({"mail_to": "a@example.jp"}, "SMTP server"),
    ],
)
def test_settings_are_validated(change: dict[str, Any], detail: str) -> None:
    base = MonitorForm(
        enabled=True, min_detections=5, min_clients=2, window_minutes=60, cooldown_minutes=60
    )
    with pytest.raises(InvalidMonitorSetting) as raised:
        validate(MonitorForm(**{**base.__dict__, **change}))
    assert detail in raised.value.message("en")


async def test_invalid_settings_are_refused_on_the_page(servers: ServerFactory, desk: Desk) -> None:
    server = await _server(servers, desk)
    response = await _configure(server, min_clients="zero")
    assert response.status_code == 303
    page = await server.client.get("/admin/outbreak-monitor")
    assert "保存できませんでした" in page.text
    assert 'aria-current="page"' in page.text


@pytest.mark.parametrize("state", ["grace_period", "expired"])
async def test_the_monitor_works_in_every_license_state(
    servers: ServerFactory, desk: Desk, clock: FakeClock, state: str
) -> None:
    server = await _server(servers, desk)
    async with await _client(server, "pc-a") as a, await _client(server, "pc-b") as b:
        slot = server.slot()
        day = slot.expires_on + timedelta(days=1)
        if state == "expired":
            day = grace_end(slot.expires_on, slot.grace_days) + timedelta(days=1)
        clock.set(datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC))
        licenses = await server.api("GET", "/api/v1/licenses")
        assert licenses.json()[0]["status"] == state
        assert (await _configure(server)).status_code == 303
        assert "保存しました" in (await server.client.get("/admin/outbreak-monitor")).text
        await _detect(a, 2)
        await _detect(b, 2)
    assert len(_alerts(server)) == 1
    text = re.sub(r"\s+", " ", (await server.client.get("/logs/outbreak-alerts")).text)
    assert "Eicar_test_file (4)" in text
