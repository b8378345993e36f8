"""Errors of the issue #6 protection features: real-time scan switch, Damage Cleanup
Services, outbreak prevention (the license-expiry refusals come from core.policy)."""

from __future__ import annotations

from cssec.core.errors import CssecError


class DcsNotLicensed(CssecError):
    """No Damage Cleanup Services slot at all: a licensing fact, not the expiry policy."""

    code = "dcs_not_licensed"
    status = 403
    message_ja = (
        "ウイルス感染復旧サービス (Damage Cleanup Services) のライセンスがありません。"
        "[運用管理] → [製品ライセンス] で、製品「ウイルス感染復旧サービス」の"
        "アクティベーションコードを入力してから、もう一度実行してください。"
    )
    message_en = (
        "Damage Cleanup Services is not licensed. Enter the activation code of the product "
        "Damage Cleanup Services under Administration → Product License, then try again."
    )


class ClientNotFound(CssecError):
    code = "client_not_found"
    status = 404
    message_ja = (
        "クライアント {client} が見つかりません。アンインストールされた可能性があります。"
        "クライアント一覧を開き直してください。"
    )
    message_en = (
        "Client {client} was not found; it may have been uninstalled. Open the client list again."
    )


class CleanupRequestNotFound(CssecError):
    code = "cleanup_request_not_found"
    status = 404
    message_ja = (
        "ウイルス感染復旧の依頼 {request_id} はこのクライアント宛てのものではありません。"
        "依頼番号を付けずに結果を送信するか、サーバの最新の依頼を受け取り直してください。"
    )
    message_en = (
        "Cleanup request {request_id} is not one for this client. Send the result without "
        "a request id, or fetch the server's current requests with a heartbeat."
    )


class InvalidOutbreakPolicy(CssecError):
    code = "invalid_outbreak_policy"
    status = 422
    message_ja = (
        "大規模感染予防ポリシーの内容に誤りがあります: {detail_ja}。修正して保存し直してください。"
    )
    message_en = (
        "The outbreak prevention policy is not valid: {detail_en}. Correct it and save again."
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


class NoOutbreakPolicy(CssecError):
    code = "no_outbreak_policy"
    status = 409
    message_ja = (
        "大規模感染予防ポリシーがまだ設定されていません。"
        "先にポリシーを設定して保存してから配信してください。"
    )
    message_en = (
        "No outbreak prevention policy has been set yet. Set and save a policy first, "
        "then deploy it."
    )


class NoClientsChosen(CssecError):
    code = "no_clients_chosen"
    status = 422
    message_ja = (
        "対象のクライアントがありません。"
        "クライアントを選択するか、[すべてのクライアント] を選んでください。"
    )
    message_en = "No client to act on. Select clients, or choose All clients."


class OutbreakPolicyMismatch(CssecError):
    code = "outbreak_policy_mismatch"
    status = 409
    message_ja = (
        "報告されたポリシー {policy_id} ({action}) は、このクライアントに現在指示されている"
        "ものではありません。ハートビートを送信して最新の指示を受け取ってください。"
    )
    message_en = (
        "The reported policy {policy_id} ({action}) is not what this client is currently "
        "told to do. Send a heartbeat to receive the current instruction."
    )


class OutbreakNotDeployed(CssecError):
    code = "outbreak_not_deployed"
    status = 409
    message_ja = (
        "解除する大規模感染予防ポリシーがありません (選択したクライアントには配信されていません)。"
        "クライアントごとの状態を確認してください。"
    )
    message_en = (
        "There is no outbreak prevention policy to release (it is not deployed to the chosen "
        "clients). Check the per-client state."
    )
