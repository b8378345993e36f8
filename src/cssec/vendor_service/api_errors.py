"""Refusals of the admin API and of its tokens (`/api/v1/admin/`, `services.tokens`).

Mapped to HTTP in the one place the app maps every `CssecError`; each names what happened
and what to do next, in Japanese and English.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cssec.core.errors import CssecError

# --- Tokens ------------------------------------------------------------------------------


class ApiTokenRequired(CssecError):
    code = "api_token_required"
    status = 401
    message_ja = (
        "APIトークンがありません。Authorization: Bearer <トークン> ヘッダーを付けてください。"
        "トークンは管理者が「cssec vendor token create」"
        "またはコンソールの「APIトークン」で作成します（コンソールのログインCookieはAPIでは使えません）。"
    )
    message_en = (
        "No API token was given. Send the header Authorization: Bearer <token>. An admin "
        "makes tokens with `cssec vendor token create` or on the console's API tokens page "
        "(the console's sign-in cookie does not work on the API)."
    )


class InvalidApiToken(CssecError):
    code = "invalid_api_token"
    status = 401
    message_ja = (
        "このAPIトークンは使用できません（発行されていないか、入力が誤っています）。"
        "作成時に表示されたトークンを確認するか、管理者に新しいトークンを依頼してください。"
    )
    message_en = (
        "This API token is not valid (it was never issued, or it was mistyped). Check the "
        "token shown when it was made, or ask an admin for a new one."
    )


class ApiTokenExpired(CssecError):
    code = "api_token_expired"
    status = 401
    message_ja = (
        "APIトークン「{name}」は {expired_at}に有効期限が切れました。"
        "管理者に新しいトークンを依頼してください。"
    )
    message_en = "The API token {name!r} expired at {expired_at}. Ask an admin for a new token."


class ApiTokenRevoked(CssecError):
    code = "api_token_revoked"
    status = 401
    message_ja = (
        "APIトークン「{name}」は {revoked_at}に取り消されました。"
        "管理者に新しいトークンを依頼してください。"
    )
    message_en = "The API token {name!r} was revoked at {revoked_at}. Ask an admin for a new token."


class InsufficientScope(CssecError):
    code = "insufficient_scope"
    status = 403
    message_ja = (
        "APIトークン「{name}」には、この操作に必要なスコープ「{scope}」がありません。"
        "管理者にこのスコープを持つトークンを依頼してください。"
    )
    message_en = (
        "The API token {name!r} lacks the scope {scope!r} that this call needs. Ask an admin "
        "for a token with that scope."
    )


class InvalidTokenRequest(CssecError):
    code = "invalid_token_request"
    status = 422
    message_ja = "APIトークンを作成できません: {detail_ja}"
    message_en = "The API token cannot be made: {detail_en}"


class TokenNameTaken(CssecError):
    code = "token_name_taken"
    status = 409
    message_ja = (
        "APIトークン「{name}」は既にあります（取り消し済みを含む）。別の名前を指定してください。"
    )
    message_en = (
        "There is already an API token named {name!r} (revoked ones count). Choose another name."
    )


class ApiTokenNotFound(CssecError):
    code = "api_token_not_found"
    status = 404
    message_ja = (
        "APIトークン「{name}」はありません。「cssec vendor token list」で確認してください。"
    )
    message_en = "There is no API token {name!r}. See `cssec vendor token list`."


# --- Conventions -------------------------------------------------------------------------


class IdempotencyKeyReused(CssecError):
    code = "idempotency_key_reused"
    status = 422
    message_ja = (
        "Idempotency-Key「{key}」は別の内容の要求に使われています。"
        "新しい要求には新しいキーを指定してください（同じ要求の再送なら内容を同じにしてください）。"
    )
    message_en = (
        "The Idempotency-Key {key!r} was used for a different request. Use a new key for a "
        "new request (a retry must send the same body)."
    )


class IdempotencyKeyInProgress(CssecError):
    code = "idempotency_key_in_progress"
    status = 409
    message_ja = (
        "Idempotency-Key「{key}」の最初の要求はまだ処理中です。"
        "少し待ってから同じ要求をもう一度送ってください。"
    )
    message_en = (
        "The first request with the Idempotency-Key {key!r} is still being processed. Send "
        "the same request again in a moment."
    )


class InvalidIdempotencyKey(CssecError):
    code = "invalid_idempotency_key"
    status = 400
    message_ja = (
        "Idempotency-Keyは 1〜255 文字の印字可能なASCII文字で指定してください（UUIDを推奨）。"
    )
    message_en = "An Idempotency-Key must be 1 to 255 printable ASCII characters (a UUID is best)."


class PreconditionRequired(CssecError):
    code = "precondition_required"
    status = 428
    message_ja = (
        "更新には If-Match ヘッダーが必要です。"
        "先に GETで取得した ETagを If-Matchに指定してください"
        "（他の担当者の変更を上書きしないためです）。"
    )
    message_en = (
        "An update needs an If-Match header. GET the resource first and send its ETag in "
        "If-Match (so that nobody's change is overwritten unseen)."
    )


class PreconditionFailed(CssecError):
    code = "precondition_failed"
    status = 412
    message_ja = (
        "この契約は取得後に変更されています（現在の ETag: {etag}）。"
        "もう一度取得して内容を確認し、新しい ETagで更新してください。"
    )
    message_en = (
        "The contract changed since you read it (current ETag: {etag}). GET it again, check "
        "it, then send the update with the new ETag."
    )


class InvalidCursor(CssecError):
    code = "invalid_cursor"
    status = 400
    message_ja = (
        "cursorの値が正しくありません。前の応答の next_cursorをそのまま指定するか、"
        "cursorを付けずに最初から取得してください。"
    )
    message_en = (
        "The cursor is not valid. Pass a previous answer's next_cursor unchanged, or leave "
        "cursor out to start from the beginning."
    )


class AdminNotFound(CssecError):
    code = "not_found"
    status = 404
    message_ja = "{what_ja} {ref}はありません。一覧または検索で確認してください。"
    message_en = "There is no {what_en} {ref}. Check the list or search."


class BulkJobNotFinished(CssecError):
    code = "bulk_job_not_finished"
    status = 409
    message_ja = (
        "一括発行 #{job_id}の結果はありません（状態: {job_status}）。待機中・実行中"
        "なら完了を待ってから取得してください。失敗した場合は何も発行されていません。"
        "エラーの内容を確認し、もう一度開始してください。"
    )
    message_en = (
        "Bulk batch #{job_id} has no result (status: {job_status}). If it is queued or "
        "running, fetch the result once it is done; if it failed, nothing was issued: read "
        "its error and start it again."
    )
    statuses_ja: ClassVar[dict[str, str]] = {
        "queued": "待機中",
        "running": "実行中",
        "done": "完了",
        "failed": "失敗",
    }
    """The body's `job_status` stays the value a script compares; a Japanese reader gets words."""

    def said(self, lang: str) -> dict[str, Any]:
        fields = super().said(lang)
        if not lang.lower().startswith("en"):
            status = str(fields.get("job_status"))
            fields["job_status"] = self.statuses_ja.get(status, status)
        return fields
