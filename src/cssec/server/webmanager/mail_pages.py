"""運用管理 → メール通知: the SMTP settings, the failures before an online-check notice,
and a "send test mail" button. The stored password is never put in the page."""

from __future__ import annotations

import asyncio
import smtplib
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import Response

from cssec.server.logs.events import Level, add_event
from cssec.server.models import User
from cssec.server.notices.mailer import (
    DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_PORTS,
    FieldErrors,
    MailForm,
    MailNotConfigured,
    Security,
    admin_language,
    build_mail,
    describe_failure,
    mail_form_errors,
    read_mail_settings,
    save_mail_settings,
    send_mail,
    smtp_config,
)
from cssec.server.notices.service import (
    deliver_pending,
    mail_failed_event,
    recent_notices,
    retry_now,
)
from cssec.server.webmanager.deps import require_user
from cssec.server.webmanager.forms import FormScope, csrf_refusal, form_action, refuse
from cssec.server.webmanager.templating import ctx_of, flash, redirect, render

router = APIRouter(include_in_schema=False)
MAIL_URL = "/admin/mail"
UserDep = Annotated[User, Depends(require_user)]

_TEST = {
    "ja": (
        "テストメール",
        "C/S Sec. サーバからのテストメールです。このメールが届いていれば、"
        "有効期限・更新猶予期間・契約期間終了・オンライン確認の失敗・席数の超過・"
        "アウトブレークの通知もこの宛先に届きます。\n",
    ),
    "en": (
        "Test mail",
        "This is a test mail from the C/S Sec. server. If it arrived, notices about the "
        "expiry, the grace period, expiry, failing online checks, seats and outbreaks will "
        "reach this address too.\n",
    ),
}


def _int(value: str, default: int) -> int:
    try:
        return int(value.strip()) if value.strip() else default
    except ValueError:
        return -1


@router.get(MAIL_URL)
async def mail_page(request: Request, user: UserDep) -> Response:
    return _page(request, user)


def _page(
    request: Request,
    user: User,
    *,
    typed: Any = None,
    errors: FieldErrors | None = None,
    password_typed: bool = False,
) -> Response:
    """The page with the saved settings, or with what was typed and the error beside each
    wrong field (422) when a save was refused."""
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        settings = read_mail_settings(session)
        notices = recent_notices(session)
        session.expunge_all()
    return render(
        request,
        "mail_settings.html",
        user=user,
        active="mail",
        settings=settings if typed is None else typed,
        has_password=bool(settings.password),
        errors=errors or {},
        password_typed=password_typed,
        securities=[s.value for s in Security],
        notices=notices,
        undelivered=sum(n.state in {"retrying", "failed"} for n in notices),
        status_code=422 if errors else 200,
    )


@router.post(MAIL_URL)
async def save_mail(
    request: Request,
    user: UserDep,
    background: BackgroundTasks,
    *,
    smtp_host: Annotated[str, Form(max_length=300)] = "",
    smtp_port: Annotated[str, Form(max_length=8)] = "",
    security: Annotated[str, Form(max_length=16)] = "none",
    username: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    forget_stored: Annotated[str, Form(max_length=4)] = "",
    sender: Annotated[str, Form(max_length=300)] = "",
    recipients: Annotated[str, Form(max_length=1100)] = "",
    failure_threshold: Annotated[str, Form(max_length=8)] = "3",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    known = security in {s.value for s in Security}
    port = DEFAULT_PORTS[Security(security) if known else Security.NONE]
    form = MailForm(
        smtp_host=smtp_host,
        smtp_port=_int(smtp_port, port),
        security=security if known else "?",
        username=username,
        password=password,
        sender=sender,
        recipients=recipients,
        failure_threshold=_int(failure_threshold, DEFAULT_FAILURE_THRESHOLD),
    )

    forget_password = forget_stored == "1"
    if (refused := csrf_refusal(request, csrf_token, MAIL_URL)) is not None:
        return refused
    errors = mail_form_errors(form)
    if errors:
        typed = SimpleNamespace(
            smtp_host=smtp_host,
            smtp_port=smtp_port,
            security=security,
            username=username,
            sender=sender,
            recipients=recipients,
            failure_threshold=failure_threshold,
        )
        return _page(request, user, typed=typed, errors=errors, password_typed=bool(password))

    def save(scope: FormScope) -> None:
        save_mail_settings(
            scope.session,
            form,
            actor=user.username,
            now=scope.now,
            keep_password=not forget_password,
        )
        add_event(
            scope.session,
            at=scope.now,
            level=Level.INFO,
            kind="mail.settings_changed",
            message={
                "ja": f"メール通知の設定を変更しました (実行者: {user.username})。",
                "en": f"Mail settings changed by {user.username}.",
            },
            details={"actor": user.username, "smtp_host": form.smtp_host.strip()},
        )
        retry_now(scope.session, now=scope.now)  # the waiting mails try the new settings
        scope.session.commit()
        ctx = ctx_of(request)
        background.add_task(deliver_pending, ctx.sessionmaker, ctx.clock)

    return form_action(
        request,
        csrf_token,
        save,
        back=MAIL_URL,
        done=lambda _: {"ja": "メール通知の設定を保存しました。", "en": "Mail settings saved."},
    )


@router.post(MAIL_URL + "/test")
async def send_test(
    request: Request, user: UserDep, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """Send a test mail now with the saved settings; the outcome is flashed (and a failure
    logged as a system event)."""
    if (refused := csrf_refusal(request, csrf_token, MAIL_URL)) is not None:
        return refused
    ctx = ctx_of(request)
    with ctx.sessionmaker() as session:
        config = smtp_config(read_mail_settings(session))
        lang = admin_language(session)
    if config is None:
        return refuse(request, MailNotConfigured(), MAIL_URL)
    subject, body = _TEST[lang]
    mail = build_mail(config, subject=subject, body=body, at=ctx.clock.now())
    try:
        await asyncio.to_thread(send_mail, config, mail)
    except (OSError, smtplib.SMTPException) as exc:
        cause = describe_failure(exc)
        with ctx.sessionmaker() as session:
            mail_failed_event(session, now=ctx.clock.now(), config=config, cause=cause, what="test")
            session.commit()
        flash(
            request,
            "danger",
            {
                "ja": f"テストメールを送信できませんでした ({config.host}:{config.port}: {cause})。"
                "設定と SMTP サーバを確認してください。",
                "en": f"The test mail could not be sent ({config.host}:{config.port}: {cause}). "
                "Check the settings and the SMTP server.",
            },
        )
        return redirect(MAIL_URL)
    to = ", ".join(config.recipients)
    flash(
        request,
        "success",
        {"ja": f"テストメールを送信しました ({to})。", "en": f"Test mail sent to {to}."},
    )
    return redirect(MAIL_URL)
