"""Errors of signing in to the Web manager."""

from __future__ import annotations

from cssec.core.errors import CssecError


class LoginFailed(CssecError):
    code = "login_failed"
    status = 401
    message_ja = "ユーザー名またはパスワードが正しくありません。"
    message_en = "The user name or password is incorrect."


class AccountLocked(CssecError):
    """Logins of this name from this address wait (`cssec.web.lockout`); other addresses
    are not affected, so the message says so."""

    code = "account_locked"
    status = 429
    message_ja = (
        "ログインの失敗が続いたため、この接続元からのログインを一時的にロックしています。"
        "{retry_after} 秒後にもう一度お試しください (ほかの接続元からのログインには影響しません)。"
    )
    message_en = (
        "Too many failed logins from this address: logins from here are locked for now. "
        "Try again in {retry_after} seconds (logins from elsewhere are not affected)."
    )


class WrongCurrentPassword(CssecError):
    code = "wrong_current_password"
    status = 403
    message_ja = "現在のパスワードが正しくありません。パスワードは変更されていません。"
    message_en = "The current password is not correct. The password has not been changed."


class WeakPassword(CssecError):
    code = "weak_password"
    status = 422
    message_ja = (
        "新しいパスワードは{min_length}文字以上で、確認用の入力と同じにしてください。"
        "パスワードは変更されていません。"
    )
    message_en = (
        "The new password must have at least {min_length} characters and match its "
        "confirmation. The password has not been changed."
    )


class UnknownUser(CssecError):
    code = "unknown_user"
    status = 404
    message_ja = "ユーザー「{username}」はありません。"
    message_en = "There is no user {username}."
