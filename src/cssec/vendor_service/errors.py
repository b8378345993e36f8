"""Errors only the vendor service raises (support desk, CLI); the shared ones are in core."""

from __future__ import annotations

from cssec.core.errors import CssecError, RevokedActivationCode


class UnknownProduct(CssecError):
    code = "unknown_product"
    message_ja = "製品「{product}」はカタログにありません。CS または DCSを指定してください。"
    message_en = "Product {product!r} is not in the catalog. Use CS or DCS."


class ProductNotInContract(CssecError):
    code = "product_not_in_contract"
    status = 409
    product_fields = ("product",)
    message_ja = "この契約には製品「{product}」が含まれていません。契約内容をご確認ください。"
    message_en = "This contract does not include {product}. Check the contract's products."


class RevocationNeedsAdmin(CssecError):
    """Reissuing a revoked product would undo the revocation: only an admin may."""

    code = "revocation_needs_admin"
    status = 403
    product_fields = ("product",)
    message_ja = (
        "製品「{product}」のアクティベーションコードは失効処理されています。新しいコードの発行は"
        "失効の取り消しにあたるため、管理者のみが行えます。管理者に依頼してください。"
    )
    message_en = (
        "The {product} activation code of this contract was revoked. Issuing a new one would "
        "undo the revocation, which only an admin may do. Ask an admin."
    )


class RevocationLiftNotAsked(RevocationNeedsAdmin):
    """`cssec vendor code reissue` for a product whose newest code is revoked, without
    `--lift-revocation`: the command line undoes a revocation only when told to."""

    message_ja = (
        "製品「{product}」の最新のアクティベーションコードは失効処理されています。新しいコードを"
        "発行すると失効を取り消すことになります。取り消す場合は --lift-revocationを付けて"
        "もう一度実行してください。"
    )
    message_en = (
        "The newest {product} activation code of this contract was revoked. A new code would "
        "undo the revocation; to undo it, run the command again with --lift-revocation."
    )


class RevocationLiftNotRequested(RevocationNeedsAdmin):
    """The admin API's reissue for a product whose newest code is revoked, without
    `lift_revocation`: the way on is that flag (and the codes:revoke scope), not an admin."""

    message_ja = (
        "製品「{product}」の最新のアクティベーションコードは失効処理されています。新しいコードを"
        "発行すると失効を取り消すことになります。取り消す場合は、codes:revokeの権限も持つ"
        'トークンで "lift_revocation": trueを付けて送ってください。'
    )
    message_en = (
        "The newest {product} activation code of this contract was revoked. A new code would "
        'undo the revocation; to undo it, send "lift_revocation": true with a token that also '
        "holds the codes:revoke scope."
    )


class InvalidContractTerms(CssecError):
    code = "invalid_contract_terms"
    message_ja = "契約内容に誤りがあります: {detail_ja}"
    message_en = "The contract terms are not valid: {detail_en}"


class NoCurrentCodes(RevokedActivationCode):
    """Registration found nothing to hand out: every code of the contract was revoked."""

    message_ja = (
        "この契約のアクティベーションコードはすべて失効しています。"
        "法人お問合せ窓口にお問い合わせください。"
    )
    message_en = (
        "Every activation code of this contract has been revoked. Contact corporate support."
    )


class UserExists(CssecError):
    code = "user_exists"
    status = 409
    message_ja = "ユーザー「{name}」は既に存在します。別の名前を指定してください。"
    message_en = "User {name!r} already exists. Choose another name."


class InvalidUser(CssecError):
    code = "invalid_user"
    message_ja = "ユーザーの指定に誤りがあります: {detail_ja}"
    message_en = "The user is not valid: {detail_en}"


# --- ActiveUpdate ------------------------------------------------------------------------


class UnknownComponent(CssecError):
    code = "unknown_component"
    message_ja = (
        "コンポーネント「{component}」はありません。virus_pattern、damage_cleanup_template、"
        "spyware_pattern、scan_engineのいずれかを指定してください。"
    )
    message_en = (
        "There is no component {component!r}. Use virus_pattern, damage_cleanup_template, "
        "spyware_pattern or scan_engine."
    )


class InvalidComponentFile(CssecError):
    code = "invalid_component_file"
    status = 422
    message_ja = (
        "{component_ja}として公開できないファイルです（{detail_ja}）。"
        "ファイルを修正してからもう一度公開してください。"
    )
    message_en = (
        "The file cannot be published as the {component_en} ({detail_en}). "
        "Fix the file, then publish it again."
    )


class ComponentUnchanged(CssecError):
    code = "component_unchanged"
    status = 409
    message_ja = (
        "このファイルは{component_ja}の現在のバージョン ({version})と同じです。"
        "新しいファイルを指定してください。"
    )
    message_en = (
        "This file is already the current {component_en} (version {version}). "
        "Give a changed file to publish a new version."
    )


class ActivationCodeRequired(CssecError):
    code = "activation_code_required"
    status = 401
    message_ja = (
        "アクティベーションコードがありません。ActiveUpdateのファイルを取得するには "
        "X-Cssec-Activation-Code ヘッダーにアクティベーションコードを指定してください。"
    )
    message_en = (
        "No activation code was given. To download ActiveUpdate files, send the "
        "activation code in the X-Cssec-Activation-Code header."
    )


class ComponentFileUnavailable(CssecError):
    code = "service_unavailable"
    status = 503
    message_ja = (
        "コンポーネントのファイルを一時的に提供できません。しばらくしてからもう一度お試しください。"
    )
    message_en = "The component file is temporarily unavailable. Try again shortly."


# --- Bulk issuance -----------------------------------------------------------------------


class BulkOutputExists(CssecError):
    code = "output_exists"
    status = 409
    message_ja = (
        "出力先のファイル {path}は既に存在します。以前のバッチを上書きしないよう、"
        "別のファイル名を指定してください。"
    )
    message_en = (
        "The output file {path} already exists. Give another file name so that an "
        "earlier batch is not overwritten."
    )


class OutboxMessageNotFound(CssecError):
    code = "outbox_message_not_found"
    status = 404
    message_ja = "配信メッセージ #{outbox_id}はありません。配信ログの一覧から選び直してください。"
    message_en = "There is no outgoing message #{outbox_id}. Pick one from the delivery log."


class InvalidWebhookEndpoint(CssecError):
    code = "invalid_webhook_endpoint"
    status = 422
    message_ja = (
        "Webhookの送信先を登録できませんでした: {detail_ja} 直して、もう一度登録してください。"
    )
    message_en = "The webhook endpoint was not added: {detail_en} Correct it and add it again."


class WebhookEndpointNotFound(CssecError):
    code = "webhook_endpoint_not_found"
    status = 404
    message_ja = (
        "Webhookの送信先 #{endpoint_id}はありません。"
        "「cssec vendor webhook list」で確認してください。"
    )
    message_en = "There is no webhook endpoint #{endpoint_id}. See `cssec vendor webhook list`."


class PortalLinkInvalid(CssecError):
    """A portal sign-in link that is unknown, already used or past its time: one answer
    for the three, so a guessed token learns nothing."""

    code = "portal_link_invalid"
    status = 400
    message_ja = (
        "このサインイン用リンクは使用済みか、有効期限が切れています。"
        "サインイン画面からもう一度リンクを請求してください。"
    )
    message_en = (
        "This sign-in link has already been used or has expired. Ask for a new link on the "
        "sign-in page."
    )


class PortalNotConfigured(CssecError):
    """The portal cannot mail a sign-in link: no SMTP server, or no public URL (it would
    have to put the request's own Host header into the link)."""

    code = "portal_not_configured"
    status = 503
    message_ja = (
        "カスタマーポータルのサインイン用リンクを送信できません（公開URLまたはメールサーバが未設定です）。"
        "法人お問合せ窓口にお問い合わせください。"
    )
    message_en = (
        "The customer portal cannot send sign-in links (its public URL or its mail server is "
        "not set up). "
        "Contact corporate support."
    )


class NothingToRenew(CssecError):
    """The customer asked for a new code, but the current one already carries the
    contract's end: there is nothing newer to give."""

    code = "nothing_to_renew"
    status = 409
    product_fields = ("product",)
    message_ja = (
        "製品「{product}」のアクティベーションコードは、すでに契約の終了日（{ends_on}）を含んでいます。"
        "現在のコードをそのままお使いください。"
    )
    message_en = (
        "The {product} activation code already carries the contract's end ({ends_on}). Keep "
        "using the current code."
    )


class LicenseRequestNotYours(CssecError):
    """A license request file uploaded to the portal names a code of another customer."""

    code = "license_request_not_yours"
    status = 403
    message_ja = (
        "このライセンス更新要求ファイルには、お客様のご契約以外のアクティベーションコードが"
        "含まれています。ご契約のサーバで作成したファイルを選択してください。"
    )
    message_en = (
        "This license request file names an activation code that is not one of your "
        "contracts'. Choose a file made on a server of your contract."
    )
