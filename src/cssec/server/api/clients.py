"""JSON API of the clients: each PC's component versions and last update result, and the
"outdated" view (PCs behind the server's components for more than N hours), as JSON or CSV.
The same sign-in as /api/v1/licenses (HTTP Basic as admin, or the Web manager session)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cssec.core.policy import Component
from cssec.server.api.licenses import ERRORS, api_user
from cssec.server.clients.components import OUTDATED_HOURS, ClientComponents, client_components
from cssec.server.logs.export import BOM, csv_line
from cssec.server.logs.update_logs import RESULT_LABELS
from cssec.server.models import User
from cssec.server.webmanager.templating import ctx_of
from cssec.web.i18n import current_language

router = APIRouter(prefix="/api/v1", tags=["clients"])


class VersionPair(BaseModel):
    client: int | None = Field(description="The version the PC reported (null: never reported)")
    server: int = Field(description="The version the server distributes")


class ClientOut(BaseModel):
    client_id: str
    hostname: str
    last_contact_at: datetime
    versions: dict[str, int] = Field(
        description="Component → version the PC last reported after a successful update",
        examples=[{"virus_pattern": 3, "scan_engine": 1}],
    )
    last_result: str | None = Field(
        description="The PC's newest update result: success, up_to_date, failed or refused"
    )
    last_update_at: datetime | None
    behind: dict[str, VersionPair] = Field(
        description="The components on which the PC is behind the server"
    )
    behind_since: datetime | None = Field(
        description="When the server first had a version newer than the PC's (null: up to date)"
    )
    outdated: bool = Field(description="Behind for more than `hours` hours")


_HEADERS = {
    "ja": [
        "ホスト名",
        "クライアントID",
        "最終接続",
        "最終結果",
        "最終アップデート",
        "遅れている開始",
    ]
    + [c.label("ja") for c in Component],
    "en": [
        "Host name",
        "Client ID",
        "Last contact",
        "Last result",
        "Last update",
        "Behind since",
    ]
    + [c.label("en").capitalize() for c in Component],
}


def _time(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _version_cell(row: ClientComponents, component: Component) -> str:
    mine = row.versions.get(component)
    text = "" if mine is None else str(mine)
    if component in row.behind:
        text = f"{text} → {row.behind[component][1]}" if text else f"→ {row.behind[component][1]}"
    return text


def _csv(rows: list[ClientComponents], lang: str, tz: tzinfo) -> bytes:
    lines = [BOM + csv_line(_HEADERS[lang])]
    for row in rows:
        result = RESULT_LABELS.get(row.last_result or "", {}).get(lang, row.last_result or "")
        lines.append(
            csv_line(
                [
                    row.hostname,
                    row.uid,
                    _time(row.last_contact_at, tz),
                    result,
                    _time(row.last_update_at, tz),
                    _time(row.behind_since, tz),
                    *(_version_cell(row, c) for c in Component),
                ]
            )
        )
    return "".join(lines).encode("utf-8")


@router.get(
    "/clients",
    response_model=list[ClientOut],
    responses={
        **ERRORS,
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"},
    },
)
async def list_clients(
    request: Request,
    user: Annotated[User, Depends(api_user)],
    outdated: Annotated[
        bool, Query(description="Only PCs behind the server's components for over `hours`")
    ] = False,
    hours: Annotated[int, Query(ge=0, le=24 * 365)] = OUTDATED_HOURS,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Every enrolled PC with its component versions and last update result."""
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        rows = client_components(session)
    if outdated:
        rows = [r for r in rows if r.outdated(now, hours=hours)]
    if format == "csv":
        lang = "en" if current_language.get() == "en" else "ja"
        name = "outdated-clients.csv" if outdated else "clients.csv"
        return Response(
            _csv(rows, lang, ctx.tz),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return [r.to_api(now, hours=hours) for r in rows]
