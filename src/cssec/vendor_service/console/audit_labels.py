"""What the audit log's actions and changed fields are called on the console's pages.

Every action the vendor writes (`record_audit`, the admin API's `api.read` / `api.refused`)
and every field its rows carry has a name here in Japanese and English, so the support
desk never reads `component.rollout_halted` or `locked_until` (a test walks the sources
for both). An action or field not listed, from a newer release's row, is shown as stored.
"""

from __future__ import annotations

from typing import Final

from cssec.web.i18n import current_language

ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "api.read": ("管理APIで参照", "Read through the admin API"),
    "api.refused": ("管理APIで拒否（権限外）", "Refused by the admin API (outside its scopes)"),
    "bulk.downloaded": ("一括発行の結果をダウンロード", "Bulk issue results downloaded"),
    "code.reissued": ("コード再発行", "Code reissued"),
    "code.revoked": ("コード失効", "Code revoked"),
    "component.bundled": ("コンポーネントのファイルを作成", "Component bundle made"),
    "component.published": ("コンポーネント公開", "Component published"),
    "component.rollout_started": ("段階的配信の開始", "Staged rollout started"),
    "component.rollout_advanced": ("段階的配信が次の段階へ", "Staged rollout advanced"),
    "component.rollout_completed": ("段階的配信の完了", "Staged rollout completed"),
    "component.rollout_halted": ("段階的配信の停止", "Staged rollout halted"),
    "component.rollout_resumed": ("段階的配信の再開", "Staged rollout resumed"),
    "component.rollout_pulled": ("配信の取り消し", "Rollout pulled"),
    "contract.bulk_issued": ("契約の一括発行", "Contracts issued in bulk"),
    "contract.contact_changed": ("通知の連絡先変更", "Notice contact changed"),
    "customer.contact_changed": ("通知の連絡先変更", "Notice contact changed"),
    "contract.created": ("契約発行", "Contract created"),
    "contract.renewed": ("契約更新", "Contract renewed"),
    "key.rotated": ("鍵の更新", "Keys rotated"),
    "license.offline_responded": ("オフライン更新の応答ファイルを発行", "Offline renewal answered"),
    "outbox.redelivered": ("メッセージ再送", "Message redelivered"),
    "portal.signed_in": ("お客様がポータルにサインイン", "Customer signed in to the portal"),
    "registration.created": ("サーバ登録", "Server registered"),
    "token.created": ("APIトークン発行", "API token created"),
    "token.revoked": ("APIトークン無効化", "API token revoked"),
    "user.2fa_enrolled": ("二要素認証の登録", "Second factor enrolled"),
    "user.2fa_reset": ("二要素認証のリセット", "Second factor reset"),
    "user.created": ("ユーザー作成", "User created"),
    "user.locked": ("アカウントロック", "Account locked"),
    "user.recovery_code_used": ("リカバリーコードでログイン", "Signed in with a recovery code"),
    "webhook.added": ("Webhook登録", "Webhook added"),
    "webhook.removed": ("Webhook削除", "Webhook removed"),
}

FIELDS: Final[dict[str, tuple[str, str]]] = {
    "attempts": ("送信の試行回数", "Attempts"),
    "cancelled": ("取り消し", "Cancelled"),
    "code": ("アクティベーションコード", "Activation code"),
    "codes": ("アクティベーションコード", "Activation codes"),
    "company": ("会社名", "Company"),
    "contact_email": ("連絡先メールアドレス", "Contact e-mail"),
    "content_of": ("内容の元のバージョン", "Content of version"),
    "contract_ids": ("契約番号", "Contracts"),
    "count": ("件数", "Count"),
    "covered_by": ("同時に失効させたコード", "Revoked along with"),
    "customer": ("顧客", "Customer"),
    "end": ("契約終了日", "Contract end"),
    "enrolled": ("確認コード（二要素認証）の登録", "Second factor enrolled"),
    "event": ("イベント", "Event"),
    "events": ("イベント", "Events"),
    "expires_at": ("有効期限", "Expires at"),
    "expires_on": ("コードの有効期限", "Expiry in code"),
    "file": ("ファイル", "File"),
    "halted": ("停止中", "Halted"),
    "hmac_kid": ("コード検証鍵のID", "Code key id"),
    "language": ("お知らせの言語", "Language of the notices"),
    "lifted_revocation": ("失効の取り消し（対象のコード）", "Revocation lifted (revoked code)"),
    "locked_until": ("ロック解除の日時", "Locked until"),
    "message_id": ("メッセージID", "Message id"),
    "method": ("HTTPメソッド", "HTTP method"),
    "months": ("月数", "Months"),
    "name": ("ユーザー名", "User name"),
    "nonce": ("要求ファイルのナンス", "Request nonce"),
    "percent": ("配信の割合（%）", "Share of servers (%)"),
    "product": ("製品", "Product"),
    "products": ("製品", "Products"),
    "query": ("問い合わせの条件", "Query"),
    "reason": ("理由", "Reason"),
    "recovery_codes": ("リカバリーコード", "Recovery codes"),
    "recovery_codes_left": ("未使用のリカバリーコード", "Recovery codes left"),
    "registration_key": ("レジストレーションキー", "Registration key"),
    "request_sha256": ("要求ファイルのSHA-256", "Request file SHA-256"),
    "requested_at": ("要求ファイルの作成日時", "Request made at"),
    "revoked_at": ("失効日時", "Revoked at"),
    "ring": ("配信の段階", "Ring"),
    "rings": ("配信の段階", "Rings"),
    "role": ("権限", "Role"),
    "scope": ("必要な権限", "Scope needed"),
    "scopes": ("権限", "Scopes"),
    "seats": ("ライセンス数", "Seats"),
    "seats_used": ("使用中のライセンス数", "Seats in use"),
    "secret": ("署名の秘密鍵", "Signing secret"),
    "serial": ("シリアル番号", "Serial"),
    "server_id": ("サーバ ID", "Server ID"),
    "server_key": ("サーバの鍵のID", "Server key id"),
    "sha256": ("SHA-256", "SHA-256"),
    "signing_kid": ("署名鍵のID", "Signing key id"),
    "size": ("サイズ（バイト）", "Size (bytes)"),
    "source": ("接続元", "From"),
    "start": ("開始日", "Start"),
    "status": ("状態", "Status"),
    "step_hours": ("段階の間隔（時間）", "Hours per ring"),
    "timestamp_version": ("タイムスタンプのバージョン", "Timestamp version"),
    "url": ("URL", "URL"),
    "version": ("バージョン", "Version"),
    "why": ("理由", "Why"),
}


def _label(table: dict[str, tuple[str, str]], key: str) -> str:
    names = table.get(key)
    if names is None:
        return key
    return names[1] if current_language.get() == "en" else names[0]


def action_label(action: str) -> str:
    """An audit action as the support desk reads it: `code.revoked` → 「コード失効」."""
    return _label(ACTIONS, action)


def field_label(key: str) -> str:
    """A changed field's name: `locked_until` → 「ロック解除の日時」."""
    return _label(FIELDS, key)
