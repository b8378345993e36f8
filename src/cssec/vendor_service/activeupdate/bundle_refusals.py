"""Why the support desk cannot make a component bundle, told to the support desk.

`make_bundle` is refused as an online download would be, but the online refusals speak
to a server's administrator ("enter a new code under Administration → Product License").
The person making a bundle is at the vendor; these say what they can do there. The
machine codes stay those of the online refusal (`revoked_activation_code`, …).
"""

from __future__ import annotations

from typing import ClassVar

from cssec.core.errors import (
    CssecError,
    InvalidActivationCode,
    LicenseExpired,
    RevokedActivationCode,
)


class BundleCodeRevoked(RevokedActivationCode):
    message_ja = (
        "このアクティベーションコードは失効しているため、コンポーネントバンドルを作成できません。"
        "「cssec vendor code inspect CODE」で同じ契約の現在のコードを確かめ、そのコードで"
        "作成してください（お客様には、新しいコードをサーバに入力するようお伝えください）。"
    )
    message_en = (
        "This activation code is revoked, so no component bundle can be made for it. Find the "
        "contract's current code with cssec vendor code inspect CODE and bundle for that one "
        "(the customer enters that code on their server)."
    )


class BundleCodeInvalid(InvalidActivationCode):
    message_ja = (
        "当社が発行したアクティベーションコードではないため、コンポーネントバンドルを作成"
        "できません（{detail_ja}）。お客様のコードを「cssec vendor code inspect CODE」で"
        "確かめてから、もう一度実行してください。"
    )
    message_en = (
        "This is not an activation code we issued ({detail_en}), so no component bundle can "
        "be made. Check the customer's code with cssec vendor code inspect CODE, then run "
        "this again."
    )


class BundleContractEnded(LicenseExpired):
    desk_ja: ClassVar[str] = (
        "このコードの契約は有効期限と更新猶予期間が終了しているため、コンポーネントバンドルを"
        "作成できません。契約を更新する場合は「cssec vendor contract renew KEY」で更新し、"
        "「cssec vendor code reissue KEY」で発行した新しいコードでバンドルを作成してください。"
    )
    desk_en: ClassVar[str] = (
        "The contract of this code has ended, grace period included, so no component bundle "
        "can be made. If the customer renews, renew with cssec vendor contract renew KEY and "
        "bundle for the new code from cssec vendor code reissue KEY."
    )

    def message(self, lang: str = "ja") -> str:
        return self.desk_en if lang.lower().startswith("en") else self.desk_ja


def for_the_desk(error: CssecError) -> CssecError:
    """The same refusal, addressed to the support desk (others unchanged)."""
    if isinstance(error, RevokedActivationCode):
        return BundleCodeRevoked(**error.fields)
    if isinstance(error, InvalidActivationCode):
        return BundleCodeInvalid(**error.fields)
    if type(error) is LicenseExpired:
        return BundleContractEnded(**error.fields)
    return error


__all__ = ["BundleCodeInvalid", "BundleCodeRevoked", "BundleContractEnded", "for_the_desk"]
