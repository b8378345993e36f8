"""Staged rollouts in the console (`/console/rollouts`): each rollout with its rings, where
it stands, its health against the previous version, and buttons to halt, resume and pull
(admins only: they change what every server installs). Every form carries the CSRF token;
the use cases are the CLI's (`activeupdate.rollout_service`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.errors import CssecError
from cssec.vendor_service.activeupdate.rollout_service import (
    halt_rollout,
    pull_rollout,
    resume_rollout,
    show_rollouts,
)
from cssec.vendor_service.console.web import (
    PREFIX,
    NotAllowed,
    StaffUser,
    gettext,
    render,
    require_user,
    vendor_of,
)
from cssec.web.i18n import current_language
from cssec.web.pages import check_csrf, flash, redirect

router = APIRouter(prefix=PREFIX, include_in_schema=False)

User = Annotated[StaffUser, Depends(require_user)]
Csrf = Annotated[str, Form(max_length=128)]
PAGE = f"{PREFIX}/rollouts"


@router.get("/rollouts")
def rollouts_page(request: Request, user: User) -> Response:
    with vendor_of(request).session() as session:
        views = show_rollouts(session)
    return render(request, "rollouts.html", user=user, active="rollouts", rollouts=views)


def _act(request: Request, user: StaffUser, csrf_token: str, action: str, done: str) -> Response:
    if not user.is_admin:
        raise NotAllowed(
            gettext(
                request,
                "This action needs the admin role. Ask an administrator to do it, "
                "or to give your account the admin role.",
            )
        )
    check_csrf(request, csrf_token)
    component, version = request.path_params["component"], int(request.path_params["version"])
    try:
        with vendor_of(request).session() as session:
            if action == "halt":
                halt_rollout(session, component, version, actor=user.actor, reason=done)
            elif action == "resume":
                resume_rollout(session, component, version, actor=user.actor)
            else:
                pull_rollout(session, component, version, actor=user.actor)
    except CssecError as exc:
        flash(request, "danger", exc.message(current_language.get()))
        return redirect(PAGE)
    flash(request, "success", done)
    return redirect(PAGE)


@router.post("/rollouts/{component}/{version}/halt")
def halt(request: Request, user: User, csrf_token: Csrf = "") -> Response:
    return _act(request, user, csrf_token, "halt", gettext(request, "Rollout halted."))


@router.post("/rollouts/{component}/{version}/resume")
def resume(request: Request, user: User, csrf_token: Csrf = "") -> Response:
    return _act(request, user, csrf_token, "resume", gettext(request, "Rollout resumed."))


@router.post("/rollouts/{component}/{version}/pull")
def pull(request: Request, user: User, csrf_token: Csrf = "") -> Response:
    done = gettext(request, "Rollout pulled: every server goes back to the previous content.")
    return _act(request, user, csrf_token, "pull", done)
