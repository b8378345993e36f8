"""Errors only the vendor service raises (support desk, CLI); the shared ones are in core."""

from __future__ import annotations

from cssec.core.errors import CssecError, RevokedActivationCode


class UnknownProduct(CssecError):
    code = "unknown_product"
    message_ja = "製品「{product}」はカタログにありません。CS または DCS を指定してください。"
    message_en = "Product {product!r} is not in the catalog. Use CS or DCS."


class ProductNotInContract(CssecError):
    code = "product_not_in_contract"
    status = 409
    message_ja = "この契約には製品「{product}」が含まれていません。契約内容をご確認ください。"
    message_en = "This contract does not include {product}. Check the contract's products."


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
