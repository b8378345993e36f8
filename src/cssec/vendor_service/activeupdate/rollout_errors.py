"""The refusals a vendor operator can meet with staged rollouts (stable machine codes)."""

from __future__ import annotations

from typing import Any

from cssec.core.errors import CssecError, Phrase
from cssec.core.policy import Component

STATES_JA = {  # the console's words (/console/rollouts)
    "halted": "停止中",
    "active": "配信中",
    "completed": "完了",
    "pulled": "取り下げ済み",
    "superseded": "新しいバージョンに置き換え済み",
}


class _RolloutRefusal(CssecError):
    """The messages name the component in words (ウイルスパターンファイル, virus pattern
    file); the `component` field stays the key a script reads (virus_pattern)."""

    def __init__(self, message: str | None = None, /, **fields: Any) -> None:
        kind = fields.get("component")
        if isinstance(kind, str):
            try:
                label = Phrase(Component(kind).label("ja"), Component(kind).label("en"))
            except ValueError:
                label = Phrase(kind, kind)
            fields.setdefault("component_label", label)
        state = fields.get("state")
        if isinstance(state, str):
            fields.setdefault("state_label", Phrase(STATES_JA.get(state, state), state))
        super().__init__(message, **fields)


class RolloutInProgress(_RolloutRefusal):
    code = "rollout_in_progress"
    status = 409
    message_ja = (
        "{component_label}のバージョン {version}の段階的配信が進行中です。別のコンポーネントは、"
        "その配信が全サーバに届くか、停止して取り下げる (rollout halt / pull)まで公開できません。"
        "同じコンポーネントの新しいバージョンはいつでも公開できます。"
    )
    message_en = (
        "A staged rollout of the {component_label} version {version} is in progress. Another "
        "component can be published once it has reached every server, or after halting and "
        "pulling it (rollout halt / pull). A newer version of the same component can be "
        "published at any time."
    )


class RolloutNotFound(_RolloutRefusal):
    code = "rollout_not_found"
    status = 404
    message_ja = (
        "{component_label}のバージョン {version}の段階的配信はありません。"
        "cssec vendor component rollout showで配信を確認してください。"
    )
    message_en = (
        "There is no staged rollout of the {component_label} version {version}. "
        "See the rollouts with: cssec vendor component rollout show."
    )


class RolloutNotActive(_RolloutRefusal):
    code = "rollout_not_active"
    status = 409
    message_ja = (
        "{component_label}のバージョン {version}の配信は既に終了しています (状態: {state_label})。"
        "変更するには新しいバージョンを公開してください。"
    )
    message_en = (
        "The rollout of the {component_label} version {version} has already ended "
        "(state: {state}). Publish a new version to change what servers get."
    )


class BadRolloutPlan(_RolloutRefusal):
    code = "bad_rollout_plan"
    message_ja = (
        "段階的配信の指定が正しくありません ({detail})。例: --rollout 1,10,50,100 --step-hours 24"
    )
    message_en = (
        "The rollout plan is not valid ({detail}). Example: --rollout 1,10,50,100 --step-hours 24"
    )


class NoPreviousVersion(_RolloutRefusal):
    code = "no_previous_version"
    status = 409
    message_ja = (
        "{component_label}のバージョン {version}には戻す前のバージョンがありません。"
        "正常なファイルを新しいバージョンとして公開してください。"
    )
    message_en = (
        "The {component_label} version {version} has no previous version to go back to. "
        "Publish a good file as a new version instead."
    )


class HealthReportRefused(_RolloutRefusal):
    code = "health_report_refused"
    status = 400
    message_ja = "ヘルスレポートを受け付けられません ({detail})。サーバのログを確認してください。"
    message_en = "The health report was refused ({detail}). Check the server's log."


class HealthReportTooSoon(_RolloutRefusal):
    code = "health_report_too_soon"
    status = 429
    message_ja = "ヘルスレポートの送信間隔が短すぎます。{seconds} 秒後に再送してください。"
    message_en = "Health reports come too often. Send again in {seconds} seconds."
