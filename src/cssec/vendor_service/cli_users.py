"""`cssec vendor user add|reset-2fa|enrol-2fa`: support-desk staff accounts and their
second factor, from the vendor host's shell."""

from __future__ import annotations

from pathlib import Path

import typer

from cssec.clikit import say
from cssec.vendor_service import services
from cssec.vendor_service.cli_common import DataOption, cli_actor, run_service

user_app = typer.Typer(no_args_is_help=True, help="Support-desk staff accounts.")


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Login name."),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="File whose first line is the password (default: prompt).",
        exists=True, dir_okay=False, readable=True,
    ),
    role: str = typer.Option("staff", "--role", help="staff or admin."),
    data: Path | None = DataOption,
) -> None:  # fmt: skip
    """Create a support-desk account (argon2-hashed password)."""
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = run_service(
        data,
        lambda s: services.add_user(s, name=name, password=password, role=role, actor=cli_actor()),
    )
    role = {"staff": "担当者", "admin": "管理者"}.get(user.role, user.role)
    typer.echo(say(f"アカウントを作成しました: {user.name}（{role}）",
                   f"user: {user.name} ({user.role})"))  # fmt: skip


@user_app.command("reset-2fa")
def user_reset_2fa(
    name: str = typer.Argument(..., help="Login name."),
    data: Path | None = DataOption,
) -> None:
    """Turn a staff member's second factor off (a lost authenticator): secret and recovery
    codes removed, their sessions ended; they enrol again at the next login when the
    console requires it (CSSEC_VENDOR_CONSOLE_REQUIRE_TOTP)."""
    from cssec.vendor_service.services.two_factor import reset  # noqa: PLC0415

    run_service(data, lambda s: reset(s, name, actor=cli_actor()))
    typer.echo(say(f"二要素認証を解除しました: {name}", f"second factor reset: {name}"))


@user_app.command("enrol-2fa")
def user_enrol_2fa(
    name: str = typer.Argument(..., help="Login name."),
    data: Path | None = DataOption,
) -> None:
    """Give a staff member a second factor from the shell (a first administrator, the
    demo): prints the TOTP secret, its otpauth:// URI and ten recovery codes, once. Hand
    them over privately; the console asks for a code from the next login on, and every
    session of the user opened before ends."""
    from cssec.core.clock import SystemClock  # noqa: PLC0415
    from cssec.vendor_service.services.two_factor import enroll_issued  # noqa: PLC0415

    issued = run_service(
        data, lambda s: enroll_issued(s, name, now=SystemClock().now(), actor=cli_actor())
    )
    codes = " ".join(issued.recovery_codes)
    typer.echo(say(f"TOTPのシークレット: {issued.secret}", f"totp secret: {issued.secret}"))
    typer.echo(say(f"TOTPのURI: {issued.uri}", f"totp uri: {issued.uri}"))
    typer.echo(say(f"リカバリーコード: {codes}", f"recovery codes: {codes}"))
