"""クライアント: the client list, and クライアントのインストール → Web インストール /
リモートインストール, which issue one-time install tokens.

A token is shown once, in the answer to the POST that made it (sent no-store, and never put
in the session cookie); only its hash is kept.
"""

from __future__ import annotations

import shlex
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from cssec.core.names import InvalidName
from cssec.core.policy import Component
from cssec.server.clients.components import OUTDATED_HOURS, client_components
from cssec.server.clients.enrollment import (
    IssuedToken,
    Route,
    is_online,
    issue_install_token,
    normalize_hostname,
    recent_install_tokens,
    token_status,
)
from cssec.server.logs.client_logs import list_clients
from cssec.server.logs.labels import ROUTE_LABELS
from cssec.server.logs.update_logs import RESULT_LABELS
from cssec.server.models import User
from cssec.server.tls.certificate import current_fingerprint
from cssec.server.updates.pilot import pilot_ids
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import csrf_refusal
from cssec.server.webmanager.protection_pages import clients_extras
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render

router = APIRouter(include_in_schema=False)
CLIENTS_URL = "/clients"
WEB_INSTALL_URL = "/clients/install/web"
REMOTE_INSTALL_URL = "/clients/install/remote"
DEFAULT_CLIENT_DIR = "/var/lib/cssec-client"
HOSTNAME_MAX = 255


def cssec_program() -> list[str]:
    """`cssec` as it runs from this installation: its script by its full path (a virtual
    environment's `bin` is seldom on PATH, so a bare `cssec` is "command not found"), else
    this interpreter running the package."""
    script = Path(sys.executable).parent / "cssec"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cssec"]


def install_command(
    server_url: str,
    token: str | None,
    route: Route,
    directory: str,
    *,
    fingerprint: str | None = None,
    program: list[str] | None = None,
) -> str:
    """The exact `cssec client install` line to run on the client. A token carries the
    server certificate's fingerprint itself; a token-less (AutoPcc) line names it.
    `program` is how `cssec` is run (default: `cssec_program`)."""
    parts = [*(program or cssec_program()), "client", "install", "--server", server_url]
    if token is not None:
        parts += ["--token", token]
    elif fingerprint is not None:
        parts += ["--fingerprint", fingerprint]
    parts += ["--route", route.value, "--dir", directory]
    return " ".join(shlex.quote(part) for part in parts)


def _server_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _fingerprint(request: Request) -> str | None:
    """The certificate clients must pin, when this page is served over HTTPS."""
    if request.url.scheme != "https":
        return None
    return current_fingerprint(ctx_of(request).data)


def _directory(value: str) -> str:
    value = value.strip()
    return value if value and "\n" not in value and len(value) <= 500 else DEFAULT_CLIENT_DIR


@router.get(CLIENTS_URL)
async def clients_page(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    host: Annotated[str, Query(max_length=HOSTNAME_MAX)] = "",
    outdated: Annotated[bool, Query()] = False,
) -> Response:
    ctx = ctx_of(request)
    now = ctx.clock.now()
    offline_after = timedelta(minutes=ctx.settings.client_offline_minutes)
    with ctx.sessionmaker() as session:
        components = {c.uid: c for c in client_components(session)}
        only = (
            [uid for uid, c in components.items() if c.outdated(now, hours=OUTDATED_HOURS)]
            if outdated
            else None
        )
        result = list_clients(session, page=page, hostname=host.strip(), uids=only)
        extras = clients_extras(session, [c.id for c in result.rows])
        pilots = pilot_ids(session)
    online = {c.id: is_online(c, now=now, offline_after=offline_after) for c in result.rows}
    return render(
        request,
        "clients.html",
        user=user,
        active="clients",
        result=result,
        online=online,
        host=host.strip(),
        outdated=outdated,
        outdated_hours=OUTDATED_HOURS,
        components=components,
        component_kinds=list(Component),
        result_labels=RESULT_LABELS,
        now=now,
        offline_minutes=ctx.settings.client_offline_minutes,
        route_labels=ROUTE_LABELS,
        pilots=pilots,
        **extras,
    )


def _install_page(
    request: Request,
    user: User,
    route: Route,
    *,
    issued: IssuedToken | None = None,
    directory: str = DEFAULT_CLIENT_DIR,
    hostname: str = "",
) -> Response:
    ctx = ctx_of(request)
    now = ctx.clock.now()
    with ctx.sessionmaker() as session:
        tokens = recent_install_tokens(session, route)
    server_url = _server_url(request)
    fingerprint = _fingerprint(request)
    return render(
        request,
        "install_web.html" if route is Route.WEB else "install_remote.html",
        user=user,
        active="install-web" if route is Route.WEB else "install-remote",
        issued=issued,
        command=install_command(server_url, issued.text, route, directory) if issued else "",
        autopcc_command=install_command(
            server_url, None, Route.AUTOPCC, directory, fingerprint=fingerprint
        ),
        server_url=server_url,
        program=" ".join(shlex.quote(part) for part in cssec_program()),
        fingerprint=fingerprint,
        directory=directory,
        hostname=hostname,
        tokens=[(row, token_status(row, now=now)) for row in tokens],
        token_hours=ctx.settings.install_token_hours,
    )


@router.get(WEB_INSTALL_URL)
async def web_install_page(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> Response:
    return _install_page(request, user, Route.WEB)


@router.get(REMOTE_INSTALL_URL)
async def remote_install_page(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> Response:
    return _install_page(request, user, Route.REMOTE)


def _issue(request: Request, user: User, route: Route, hostname: str | None) -> IssuedToken:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        return issue_install_token(
            session,
            route=route,
            hostname=hostname,
            now=ctx.clock.now(),
            lifetime=timedelta(hours=ctx.settings.install_token_hours),
            actor=user.username,
            fingerprint=_fingerprint(request),
        )


@router.post(WEB_INSTALL_URL)
async def issue_web_token(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    directory: Annotated[str, Form(max_length=500)] = DEFAULT_CLIENT_DIR,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, WEB_INSTALL_URL)) is not None:
        return refused
    issued = _issue(request, user, Route.WEB, None)
    return _install_page(request, user, Route.WEB, issued=issued, directory=_directory(directory))


@router.post(REMOTE_INSTALL_URL)
async def issue_remote_token(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    hostname: Annotated[str, Form(max_length=HOSTNAME_MAX)] = "",
    directory: Annotated[str, Form(max_length=500)] = DEFAULT_CLIENT_DIR,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if (refused := csrf_refusal(request, csrf_token, REMOTE_INSTALL_URL)) is not None:
        return refused
    host = hostname.strip()
    if not normalize_hostname(host) or any(ch.isspace() for ch in host):
        flash(
            request,
            "danger",
            {
                "ja": "インストール先のコンピュータのホスト名を入力してください"
                " (空白は使えません)。",
                "en": "Enter the host name of the computer to install on (no spaces).",
            },
        )
        return redirect(REMOTE_INSTALL_URL)
    try:
        issued = _issue(request, user, Route.REMOTE, host)
    except InvalidName as bad_name:
        flash(request, "danger", {"ja": bad_name.message("ja"), "en": bad_name.message("en")})
        return redirect(REMOTE_INSTALL_URL)
    return _install_page(
        request, user, Route.REMOTE, issued=issued, directory=_directory(directory), hostname=host
    )
