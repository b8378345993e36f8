"""Names that people type and cssec stores and shows again: customer (company) names,
support-desk user names, client host names.

They must not carry control characters (C0 including NUL, DEL, C1: a database refuses
NUL, a terminal or a log obeys the others) or the bidirectional overrides and isolates
U+202A-U+202E and U+2066-U+2069, which make a name display as something it is not
("Trojan Source": `admin\u202egnp.exe` reads as `adminexe.png`). Lone surrogates cannot be
stored as UTF-8 either. `forbidden_character` finds the first such character (a value);
`check_name` refuses it with `InvalidName`, whose message names the field in ja and en.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cssec.core.errors import CssecError

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True)
class NameField:
    """What a stored name is, for the error message and the JSON `field`."""

    key: str
    ja: str
    en: str


CUSTOMER_NAME = NameField("customer", "顧客名", "customer name")
COMPANY_NAME = NameField("company", "会社名", "company name")
USER_NAME = NameField("name", "ユーザー名", "user name")
HOST_NAME = NameField("hostname", "ホスト名", "host name")


class InvalidName(CssecError, ValueError):
    """Also a ValueError, so a pydantic validator can raise it and the one error mapping
    (`cssec.web.http`) still answers with this error rather than a generic 422."""

    code = "invalid_name"
    status = 422
    message_ja = (
        "{field_ja}に使用できない文字 ({character})が含まれています。"
        "制御文字と双方向テキストの制御文字 (U+202A〜U+202E、U+2066〜U+2069)を除いて、"
        "入力し直してください。"
    )
    message_en = (
        "The {field_en} contains a character that is not allowed ({character}). Enter it "
        "again without control characters or bidirectional-text controls "
        "(U+202A to U+202E, U+2066 to U+2069)."
    )


def forbidden_character(value: str) -> str | None:
    """The first refused character as `U+XXXX`, or None when the name is clean."""
    found = _FORBIDDEN.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def check_name(value: str, field: NameField) -> str:
    """`value` unchanged, or InvalidName naming `field` and the first refused character."""
    character = forbidden_character(value)
    if character is not None:
        raise InvalidName(
            field=field.key, field_ja=field.ja, field_en=field.en, character=character
        )
    return value
