"""Errors of outbreak prevention (大規模感染予防) policies and their deployment."""

from __future__ import annotations

from cssec.core.errors import CssecError


class InvalidOutbreakPolicy(CssecError):
    code = "invalid_outbreak_policy"
    status = 422
    message_ja = (
        "大規模感染予防ポリシーの内容に誤りがあります: {detail_ja}。修正して保存し直してください。"
    )
    message_en = (
        "The outbreak prevention policy is not valid: {detail_en}. Correct it and save again."
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
        "クライアントを選択するか、[すべてのクライアント]を選んでください。"
    )
    message_en = "No client to act on. Select clients, or choose All clients."


class OutbreakPolicyMismatch(CssecError):
    code = "outbreak_policy_mismatch"
    status = 409
    message_ja = (
        "報告されたポリシー {policy_id} ({action})は、このクライアントに現在指示されている"
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
