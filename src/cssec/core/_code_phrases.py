"""Short ja/en phrases for `CodeCheck.detail`: what is wrong with what was typed."""

from __future__ import annotations

from cssec.core._symbols import Kind
from cssec.core.license import Product

EMPTY = {"ja": "何も入力されていません", "en": "nothing was entered"}
# Not "a typo": a made-up code fails the check symbol just the same (see core.code_typos).
CHECK_FAILED = {
    "ja": "チェック文字が一致しません。書類のコードと1文字ずつ見比べてください",
    "en": "its check character does not match; compare it with the document letter by letter",
}
WRONG_KIND: dict[Kind, dict[str, str]] = {
    "activation_code": {
        "ja": "これはレジストレーションキーです。アクティベーションコード"
        " (XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)を入力してください",
        "en": "this is a registration key; enter the activation code"
        " (XX-XXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)",
    },
    "registration_key": {
        "ja": "これはアクティベーションコードです。"
        "使用許諾契約書に記載のレジストレーションキーを入力してください",
        "en": "this is an activation code; enter the registration key from the license agreement",
    },
}
UNKNOWN_VERSION_TYPE = {"ja": "製品種別が不明です", "en": "the version type is unknown"}
NO_SEATS = {"ja": "ライセンス数が 0です", "en": "the seat count is 0"}
MAC_FAILED = {"ja": "発行されたコードと一致しません", "en": "it matches no issued code"}


def bad_character(position: int, ch: str) -> dict[str, str]:
    shown = ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
    return {
        "ja": f"{position}文字目の文字「{shown}」は使えません",
        "en": f"character {position}, '{shown}', cannot be used",
    }


def wrong_length(expected: int, got: int) -> dict[str, str]:
    return {
        "ja": f"英数字{expected}文字のところ{got}文字です (ハイフンと空白は数えません)",
        "en": f"expected {expected} letters and digits, got {got} (not counting hyphens, spaces)",
    }


def unsupported_version(version: int) -> dict[str, str]:
    return {
        "ja": f"形式のバージョン {version}には対応していません。ソフトウェアを更新してください",
        "en": f"format version {version} is not supported; update the software",
    }


def unknown_prefix(prefix: str) -> dict[str, str]:
    return {
        "ja": f"先頭の「{prefix}」は製品を表す記号ではありません (CS または DC)",
        "en": f"the prefix '{prefix}' names no product (expected CS or DC)",
    }


def wrong_product(*, expected: Product, actual: Product) -> dict[str, str]:
    return {
        "ja": f"{actual.name_in('ja')} 用のコードです ({expected.name_in('ja')} 用ではありません)",
        "en": f"this code is for {actual.name_in('en')}, not {expected.name_in('en')}",
    }
