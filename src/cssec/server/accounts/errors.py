"""Errors of signing in to the Web manager."""

from __future__ import annotations

from cssec.core.errors import CssecError


class LoginFailed(CssecError):
    code = "login_failed"
    status = 401
    message_ja = "ユーザ名またはパスワードが正しくありません。"
    message_en = "The user name or password is incorrect."


class AccountLocked(CssecError):
    code = "account_locked"
    status = 429
    message_ja = (
        "ログインの失敗が続いたため、アカウントを一時的にロックしています。"
        "{retry_after} 秒後にもう一度お試しください。"
    )
    message_en = (
        "Too many failed logins: the account is locked for now. Try again in {retry_after} seconds."
    )
