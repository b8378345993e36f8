"""Errors of the real-time scan switch and Damage Cleanup Services (the license-expiry
refusals come from core.policy)."""

from __future__ import annotations

from cssec.core.errors import CssecError


class DcsNotLicensed(CssecError):
    """No Damage Cleanup Services slot at all: a licensing fact, not the expiry policy."""

    code = "dcs_not_licensed"
    status = 403
    message_ja = (
        "ウイルス感染復旧サービス (Damage Cleanup Services)のライセンスがありません。"
        "[運用管理] → [製品ライセンス]で、製品「ウイルス感染復旧サービス」の"
        "アクティベーションコードを入力してから、もう一度実行してください。"
    )
    message_en = (
        "Damage Cleanup Services is not licensed. Enter the activation code of the product "
        "Damage Cleanup Services under Administration → Product License, then try again."
    )


class CleanupRequestNotFound(CssecError):
    code = "cleanup_request_not_found"
    status = 404
    message_ja = (
        "ウイルス感染復旧の依頼 {request_id}はこのクライアント宛てのものではありません。"
        "依頼番号を付けずに結果を送信するか、サーバの最新の依頼を受け取り直してください。"
    )
    message_en = (
        "Cleanup request {request_id} is not one for this client. Send the result without "
        "a request id, or fetch the server's current requests with a heartbeat."
    )


class InvalidRealtimeFolders(CssecError):
    code = "invalid_realtime_folders"
    status = 422
    message_ja = (
        "リアルタイム検索の対象フォルダに誤りがあります: {detail_ja}。"
        "修正してもう一度保存してください。"
    )
    message_en = (
        "The real-time scan folders are not valid: {detail_en}. Correct them and save again."
    )
