"""One error hierarchy for all of cssec.

Each error has a stable machine `code`, an HTTP status for the one place per app that
maps errors to responses, the fields that explain it, and a message in Japanese and
English that says what happened and what to do next. Services raise these; they never
raise framework exceptions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from cssec.core.license import Product


class Phrase:
    """A field of an error message said in both languages (a detail computed where the
    error is raised), so that a Japanese message never carries an English aside."""

    __slots__ = ("en", "ja")

    def __init__(self, ja: str, en: str) -> None:
        self.ja = ja
        self.en = en

    def in_(self, lang: str) -> str:
        return self.en if lang.lower().startswith("en") else self.ja

    def __str__(self) -> str:
        return self.en

    def __repr__(self) -> str:
        return f"Phrase({self.ja!r}, {self.en!r})"


def _said(fields: dict[str, Any], lang: str) -> dict[str, Any]:
    return {k: v.in_(lang) if isinstance(v, Phrase) else v for k, v in fields.items()}


def product_named(value: object, lang: str) -> object:
    """The product's name in `lang` for a product code (CS, DCS); any other value as given
    (an unknown code a person typed, or a name a caller already put there)."""
    try:
        return Product(str(value)).name_in(lang)
    except ValueError:
        return value


def component_named(value: object, lang: str) -> object:
    """A component kind's words in `lang` (virus_pattern: ウイルスパターンファイル); any other
    value as given."""
    from cssec.core.policy import Component  # noqa: PLC0415 (policy imports this module)

    try:
        return Component(str(value)).label(lang)
    except ValueError:
        return value


class CssecError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message_ja: ClassVar[str] = "エラーが発生しました。"
    message_en: ClassVar[str] = "An error occurred."
    product_fields: ClassVar[tuple[str, ...]] = ()
    """Fields that hold a product code: the JSON body keeps the code a script reads, the
    messages name the product in the reader's language (「CS」 means nothing to a person)."""
    component_fields: ClassVar[tuple[str, ...]] = ()
    """Likewise for fields that hold a component kind (damage_cleanup_template)."""

    def __init__(self, message: str | None = None, /, **fields: Any) -> None:
        self.fields = fields
        self._override = message
        super().__init__(self.message("en"))

    def message(self, lang: str = "ja") -> str:
        if self._override is not None:
            return self._override
        template = self.message_en if lang.lower().startswith("en") else self.message_ja
        try:
            return template.format(**self.said(lang))
        except (KeyError, IndexError):
            return template

    def said(self, lang: str) -> dict[str, Any]:
        """The fields as a message in `lang` puts them: phrases in that language, products
        and components by name."""
        fields = _said(self.fields, lang)
        for names, named in (
            (self.product_fields, product_named),
            (self.component_fields, component_named),
        ):
            for name in names:
                if name in fields:
                    fields[name] = named(fields[name], lang)
        return fields

    def to_dict(self, lang: str = "ja") -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        body.update({k: v for k, v in _said(self.fields, lang).items() if k not in body})
        return body


_CONTACT_JA = "文字列を今一度ご確認ください。それでも解決しない場合は、ご契約の状況をご確認のうえ、法人お問合せ窓口にお問い合わせください。"
_CONTACT_EN = (
    "Check the string once more. If it still fails, confirm your contract and contact "
    "corporate support with the code's expiry and this error."
)


class InvalidActivationCode(CssecError):
    code = "invalid_activation_code"
    message_ja = "無効なアクティベーションコードです ({detail_ja})。" + _CONTACT_JA
    message_en = "Invalid activation code ({detail_en}). " + _CONTACT_EN


class ExpiredActivationCode(CssecError):
    code = "expired_activation_code"
    message_ja = (
        "アクティベーションコードの有効期限が切れています (有効期限: {expires_on})。"
        "ご契約を更新し、新しいアクティベーションコードを入手してください。"
        "ご不明な点は法人お問合せ窓口にお問い合わせください。"
    )
    message_en = (
        "The activation code has expired (expiry: {expires_on}). Renew the contract and "
        "obtain a new activation code; contact corporate support if in doubt."
    )


class RevokedActivationCode(CssecError):
    code = "revoked_activation_code"
    status = 403
    message_ja = (
        "このアクティベーションコードは失効しています。法人お問合せ窓口にお問い合わせください。"
    )
    message_en = "This activation code has been revoked. Contact corporate support."


class WrongProduct(CssecError):
    """`expected` and `actual` are product codes (CS, DCS); the messages name the products."""

    code = "wrong_product"
    product_fields = ("expected", "actual")
    message_ja = (
        "このアクティベーションコードは{actual}のコードで、{expected}のコードではありません。"
        "{actual}のコードは[製品ライセンス]の{actual}の[新規入力]で入力してください。"
    )
    message_en = (
        "This activation code is for {actual}; it is not a {expected} code. Enter it under "
        "Product License → {actual} → Enter new code, and enter the {expected} code here."
    )


class InvalidRegistrationKey(CssecError):
    code = "invalid_registration_key"
    message_ja = "無効なレジストレーションキーです ({detail_ja})。使用許諾契約書に記載のキー (XX-XXXX-XXXX-XXXX-XXXX)をご確認ください。"
    message_en = "Invalid registration key ({detail_en}). Check the key printed on your license agreement (XX-XXXX-XXXX-XXXX-XXXX)."


class UnknownRegistrationKey(CssecError):
    code = "unknown_registration_key"
    status = 404
    message_ja = "このレジストレーションキーは登録できません。キーをご確認のうえ、ご購入元または法人お問合せ窓口にお問い合わせください。"
    message_en = "This registration key cannot be registered. Check the key, then contact your reseller or corporate support."


class LicenseExpired(CssecError):
    """Raised by `policy.Decision.raise_if_refused`, which names the refused operation.

    Raised without `operation_ja` / `operation_en` (say, by a service that has no
    operation at hand) it falls back to the generic sentence instead of printing the
    template's braces.
    """

    code = "license_expired"
    status = 403
    message_ja = (
        "{operation_ja}はできません。ライセンスの有効期限と更新猶予期間が終了しています。"
        "ご契約を更新したうえで、[運用管理] → [製品ライセンス] → [新規入力]で"
        "新しいアクティベーションコードを入力するか、[ステータスをオンラインで確認]を押してください。"
    )
    message_en = (
        "{operation_en} is refused: the license and its grace period have ended. "
        "Renew the contract, then enter a new activation code under Administration → "
        "Product License → Enter new code, or press Check status online."
    )
    generic_message_ja: ClassVar[str] = (
        "ライセンスの有効期限と更新猶予期間が終了しているため実行できません。"
        "ご契約を更新し、新しいアクティベーションコードを入力するか、"
        "ステータスをオンラインで確認してください。"
    )
    generic_message_en: ClassVar[str] = (
        "Refused: the license and its grace period have ended. Renew the contract, "
        "then enter a new activation code or check the status online."
    )

    needs: ClassVar[frozenset[str]] = frozenset({"operation_ja", "operation_en"})
    """The fields the templates interpolate; without them, the generic sentence."""
    other_product_ja: ClassVar[str] = (
        "{operation_ja}はできません。{product_ja}のライセンスの有効期限と更新猶予期間が"
        "終了しています。ご契約を更新したうえで、[運用管理] → [製品ライセンス]の{product_ja}の"
        "[新規入力]で新しいアクティベーションコードを入力するか、[ステータスをオンラインで確認]を"
        "押してください。"
    )
    other_product_en: ClassVar[str] = (
        "{operation_en} is refused: the {product_en} license and its grace period have ended. "
        "Renew the contract, then enter a new {product_en} activation code under "
        "Administration → Product License → Enter new code, or press Check status online."
    )

    def message(self, lang: str = "ja") -> str:
        named = self.needs <= self.fields.keys()
        en = lang.lower().startswith("en")
        if self._override is None and not named:
            return self.generic_message_en if en else self.generic_message_ja
        if (
            self._override is None
            and type(self).code == LicenseExpired.code
            and self.fields.get("product", "CS") != "CS"
            and {"product_ja", "product_en"} <= self.fields.keys()
        ):
            # Damage Cleanup Services' own lapse: name it, or it reads as C/S Sec.'s.
            return (self.other_product_en if en else self.other_product_ja).format(**self.fields)
        return super().message(lang)


_CONFIRMED_WAY_OUT_JA = (
    "法人お問合せ窓口にお問い合わせのうえ、ライセンスサーバで確認できる新しい"
    "アクティベーションコードを[運用管理] → [製品ライセンス] → [新規入力]で入力してください"
    "（入力時にライセンスサーバで確認されてから有効になります）。"
)
_CONFIRMED_WAY_OUT_EN = (
    "Contact corporate support, then enter a new activation code that the license server "
    "confirms under Administration → Product License → Enter new code (it takes effect once "
    "the license server has confirmed it)."
)


class LicenseRevoked(LicenseExpired):
    """A policy refusal because the vendor signed that the slot's code was revoked.

    A subclass of LicenseExpired only so that every handler of a policy refusal (the
    client's "refused, not failed", the update log) treats it alike; its code and its words
    are its own and never speak of expiry."""

    code = "license_revoked"
    needs = frozenset({"operation_ja", "operation_en", "product_ja", "product_en"})
    message_ja = (
        "{operation_ja}はできません。{product_ja}のアクティベーションコードは"
        "ライセンスサーバで失効処理されています。" + _CONFIRMED_WAY_OUT_JA
    )
    message_en = (
        "{operation_en} is refused: the license server has revoked the {product_en} "
        "activation code. " + _CONFIRMED_WAY_OUT_EN
    )
    generic_message_ja: ClassVar[str] = (
        "アクティベーションコードがライセンスサーバで失効処理されているため実行できません。"
        + _CONFIRMED_WAY_OUT_JA
    )
    generic_message_en: ClassVar[str] = (
        "Refused: the license server has revoked the activation code. " + _CONFIRMED_WAY_OUT_EN
    )


class LicenseRejected(LicenseExpired):
    """A policy refusal because the vendor signed that the slot's code is not one it issued
    (unknown, or its MAC fails). See LicenseRevoked on the base class."""

    code = "license_rejected"
    needs = frozenset({"operation_ja", "operation_en", "product_ja", "product_en"})
    message_ja = (
        "{operation_ja}はできません。{product_ja}のアクティベーションコードは"
        "ライセンスサーバで無効と回答されました（発行されていないコードです）。"
        + _CONFIRMED_WAY_OUT_JA
    )
    message_en = (
        "{operation_en} is refused: the license server answered that the {product_en} "
        "activation code is not valid (it never issued it). " + _CONFIRMED_WAY_OUT_EN
    )
    generic_message_ja: ClassVar[str] = (
        "アクティベーションコードがライセンスサーバで無効と回答されたため実行できません。"
        + _CONFIRMED_WAY_OUT_JA
    )
    generic_message_en: ClassVar[str] = (
        "Refused: the license server answered that the activation code is not valid. "
        + _CONFIRMED_WAY_OUT_EN
    )


class ProductNotLicensed(LicenseExpired):
    """A component another product's license governs (the Damage Cleanup template: Damage
    Cleanup Services) was asked for without a live license of that product: the code shown
    is another product's, or that product's license has lapsed. A subclass of
    LicenseExpired so that every handler of a license refusal treats it alike (a client
    keeps the template it has and updates the rest); its code and words are its own."""

    code = "product_not_licensed"
    needs = frozenset({"component_ja", "component_en", "product_ja", "product_en"})
    message_ja = (
        "{component_ja}は入手できません。{component_ja}は{product_ja}のライセンスが有効な"
        "場合に、{product_ja}のアクティベーションコードでのみダウンロードできます。"
        "ほかのコンポーネントのアップデートは続けられます。{product_ja}をご利用になる場合は、"
        "ご契約のうえ[運用管理] → [製品ライセンス]の{product_ja}の[新規入力]で"
        "アクティベーションコードを入力してください。"
    )
    message_en = (
        "The {component_en} is not available: only a {product_en} activation code of a live "
        "{product_en} license downloads it. The other components keep updating. To use "
        "{product_en}, contract it, then enter its activation code under Administration → "
        "Product License → {product_en} → Enter new code."
    )
    generic_message_ja: ClassVar[str] = (
        "このコンポーネントは、それを対象とする製品のライセンスが有効な場合にのみ入手できます。"
        "ほかのコンポーネントのアップデートは続けられます。"
    )
    generic_message_en: ClassVar[str] = (
        "This component is available only under a live license of the product it belongs "
        "to. The other components keep updating."
    )


class VendorUnreachable(CssecError):
    code = "vendor_unreachable"
    status = 502
    message_ja = "ライセンスサーバに接続できませんでした ({cause})。現在のライセンスは変更されていません。ネットワークとプロキシの設定を確認し、後でもう一度お試しください。"
    message_en = "Could not reach the license service ({cause}). The current license is unchanged. Check the network and proxy settings and try again later."

    # Causes are recorded in English (logs, JSON); the Japanese message names them in
    # Japanese, so no English phrase sits inside a Japanese sentence.
    causes_ja: ClassVar[dict[str, str]] = {
        "connection failed": "接続できません",
        "timeout": "応答がありません",
        "proxy error": "プロキシのエラー",
        "unknown": "原因不明",
        "malformed response": "応答の形式が正しくありません",
        "malformed status response": "応答の形式が正しくありません",
        "malformed registration response": "応答の形式が正しくありません",
        "malformed activation code from registration": "応答の形式が正しくありません",
        "no license service configured": "ライセンスサーバが設定されていません",
        "rate limited by the license service": "要求が多すぎます",
    }

    def message(self, lang: str = "ja") -> str:
        cause = str(self.fields.get("cause", ""))
        if self._override is None and not lang.lower().startswith("en"):
            if cause in self.causes_ja:
                return self.message_ja.format(**{**self.fields, "cause": self.causes_ja[cause]})
            if cause.startswith("TLS certificate not trusted"):
                cause_ja = (
                    "証明書を検証できません。システムのCAストア、SSL_CERT_FILE、"
                    "--vendor-ca-fileを確認してください"
                )
                return self.message_ja.format(**{**self.fields, "cause": cause_ja})
        return super().message(lang)


class RateLimited(CssecError):
    code = "rate_limited"
    status = 429
    message_ja = "リクエストが多すぎます。{retry_after} 秒後にもう一度お試しください。"
    message_en = "Too many requests. Try again in {retry_after} seconds."


class NotAuthenticated(CssecError):
    code = "not_authenticated"
    status = 401
    message_ja = "ログインが必要です。"
    message_en = "Authentication required."


class Forbidden(CssecError):
    code = "forbidden"
    status = 403
    message_ja = "この操作を行う権限がありません。"
    message_en = "You are not allowed to do this."


class NotFound(CssecError):
    code = "not_found"
    status = 404
    message_ja = "見つかりません。"
    message_en = "Not found."


class ValidationFailed(CssecError):
    code = "validation_error"
    status = 422
    message_ja = "入力内容に誤りがあります: {detail}"
    message_en = "The request is not valid: {detail}"


class CsrfFailed(CssecError):
    code = "csrf_failed"
    status = 403
    message_ja = "フォームの有効期限が切れました。ページを開き直して、もう一度お試しください。"
    message_en = "The form has expired. Open the page again and retry."
