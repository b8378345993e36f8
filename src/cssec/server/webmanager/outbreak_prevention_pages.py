"""大規模感染予防 (outbreak prevention): set the policy, deploy it to all or selected
clients, release it, and see each client's state. POST-redirect-GET with flash messages;
every action lands in the system event log (`outbreak.prevention`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from cssec.core.plural import count_en
from cssec.server.models import User
from cssec.server.outbreak.prevention import (
    client_states,
    current_policy,
    deploy_policy,
    parse_policy,
    release_policy,
    set_policy,
)
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import FormScope, form_action
from cssec.server.webmanager.templating import ctx_of, render

router = APIRouter(include_in_schema=False)
PAGE_URL = "/outbreak/prevention"
STATE_LABELS = {
    "none": {"ja": "未配信", "en": "Not deployed"},
    "deploying": {"ja": "配信中 (適用待ち)", "en": "Deploying (waiting for the client)"},
    "deployed": {"ja": "適用済み", "en": "Applied"},
    "deploy_failed": {"ja": "適用失敗", "en": "Could not apply"},
    "releasing": {"ja": "解除中 (クライアント待ち)", "en": "Releasing (waiting for the client)"},
    "released": {"ja": "解除済み", "en": "Released"},
    "release_failed": {"ja": "解除失敗", "en": "Could not release"},
}
CLIENT_LIMIT = 10_000


@router.get(PAGE_URL)
async def outbreak_prevention_page(
    request: Request, user: Annotated[User, Depends(require_user)]
) -> Response:
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        policy = current_policy(session)
        states = client_states(session)
    return render(
        request,
        "outbreak_prevention.html",
        user=user,
        active="outbreak-prevention",
        policy=policy,
        states=states,
        state_labels=STATE_LABELS,
    )


@router.post(PAGE_URL + "/policy")
async def save_policy(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    deny_write_shares: Annotated[str, Form(max_length=200_000)] = "",
    block_ports: Annotated[str, Form(max_length=20_000)] = "",
    deny_files: Annotated[str, Form(max_length=200_000)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    def save(form: FormScope) -> int:
        draft = parse_policy(
            deny_write_shares=deny_write_shares, block_ports=block_ports, deny_files=deny_files
        )
        policy = set_policy(
            form.session, draft, state=form.cs_state(), now=form.now, actor=user.username
        )
        return policy.id

    return form_action(
        request,
        csrf_token,
        save,
        back=PAGE_URL,
        done=lambda policy_id: {
            "ja": f"大規模感染予防ポリシー #{policy_id}を保存しました。"
            "クライアントに適用するには [配信]を押してください。",
            "en": f"Saved outbreak prevention policy #{policy_id}. Press Deploy to apply it "
            "on clients.",
        },
    )


def _chosen(scope: str, client_ids: list[int]) -> list[int] | None:
    return None if scope == "all" else client_ids


@router.post(PAGE_URL + "/deploy")
async def deploy(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    scope: Annotated[str, Form(max_length=16)] = "all",
    client_ids: Annotated[list[int], Form(max_length=CLIENT_LIMIT)] = [],  # noqa: B006
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return form_action(
        request,
        csrf_token,
        lambda form: deploy_policy(
            form.session,
            _chosen(scope, client_ids),
            state=form.cs_state(),
            now=form.now,
            actor=user.username,
        ),
        back=PAGE_URL,
        done=lambda count: {
            "ja": f"大規模感染予防ポリシーを {count} 台のクライアントに配信しました。"
            "各クライアントは次のハートビートで適用します。",
            "en": f"Deployed the outbreak prevention policy to {count_en(count, 'client')}; "
            "each applies "
            "it at its next heartbeat.",
        },
    )


@router.post(PAGE_URL + "/release")
async def release(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    *,
    scope: Annotated[str, Form(max_length=16)] = "all",
    client_ids: Annotated[list[int], Form(max_length=CLIENT_LIMIT)] = [],  # noqa: B006
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return form_action(
        request,
        csrf_token,
        lambda form: release_policy(
            form.session,
            _chosen(scope, client_ids),
            state=form.cs_state(),
            now=form.now,
            actor=user.username,
        ),
        back=PAGE_URL,
        done=lambda count: {
            "ja": f"{count} 台のクライアントで大規模感染予防を解除しました。"
            "各クライアントは次のハートビートで解除します。",
            "en": f"Released outbreak prevention on {count_en(count, 'client')}; each lifts it "
            "at its "
            "next heartbeat.",
        },
    )
