"""The "components stale since …" event, written when the TUF timestamp this server last
verified has expired and no fresh one arrives (the vendor unreachable, or something in
the way serving old metadata: a freeze). Once per expiry instant, not once per poll."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select

from cssec.core.components import format_timestamp
from cssec.server.licensing.env import LicenseEnv
from cssec.server.logs.events import Level, add_event
from cssec.server.models import SystemEvent
from cssec.server.updates.tuf_mirror import stale_since

KIND = "components.stale"


def stale_message(since: datetime, tz: tzinfo) -> dict[str, str]:
    """The event's text: the banner's words (`webmanager.banners.components_stale_banner`),
    opening as the clients' do (`client.errors.ComponentsStale`, status.stale), the time in
    the server's zone (docs/style-ja.md)."""
    when = since.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return {
        "ja": f"コンポーネントは{when}から最新か確認できていません。ActiveUpdateから新しい"
        "署名付きメタデータが届いていません。ネットワークとプロキシの設定を確認し、"
        "[アップデート] → [コンポーネント]で[今すぐアップデート]を押してください。",
        "en": f"Components stale since {when}: no fresh signed metadata has arrived from "
        "ActiveUpdate. Check the network and proxy settings, then press Update now under "
        "Updates → Components.",
    }


def note_staleness(env: LicenseEnv, *, now: datetime) -> datetime | None:
    """Write the components.stale event if the held timestamp expired before `now` and
    this expiry has not been reported yet; returns the "stale since" instant, if stale."""
    since = stale_since(env.data.root)
    if since is None or since > now:
        return None
    with env.sessionmaker() as session, session.begin():
        reported = session.scalars(
            select(SystemEvent.details).where(SystemEvent.kind == KIND)
        ).all()
        if any(d.get("since") == format_timestamp(since) for d in reported):
            return since
        add_event(
            session, at=now, level=Level.WARNING, kind=KIND, message=stale_message(since, env.tz),
            details={"since": format_timestamp(since)},
        )  # fmt: skip
    return since
