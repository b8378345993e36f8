"""What `cssec vendor` prints for a person, in the output language.

The rule for every line (README, "Language, errors and exit status"): a line a person
reads speaks the output language; in English its label is the stable snake_case key
(what a script that passes `--lang en` reads). The lines the docs tell a script to read
in any language keep one spelling: the last line of `contract new` (the registration key)
and of `code reissue` (the code), and `activation code <product>: <code>`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cssec.core.license import LicenseState, Product
from cssec.vendor_service import services

_KIND_JA = {
    "activation_code": "アクティベーションコード",
    "registration_key": "レジストレーションキー",
}
_VERDICT_JA = {"valid": "有効", "invalid": "無効", "expired": "期限切れ", "revoked": "失効"}

_LABELS_JA = {
    "kind": "種類",
    "verdict": "判定",
    "detail": "説明",
    "position": "位置",
    "code": "コード",
    "product": "製品",
    "seats": "ライセンス数",
    "expires_on": "有効期限",
    "serial": "シリアル番号",
    "kid": "鍵の番号",
    "issued_at": "発行日時",
    "revoked_at": "失効日時",
    "revoke_reason": "失効の理由",
    "replaced_by": "置き換え先のコード",
    "superseded_by": "後継のコード",
    "covered_by": "まとめて失効させたコード",
    "contract": "契約番号",
    "customer": "顧客",
    "contract_end": "契約終了日",
    "contract_state": "契約の状態",
    "products": "契約の製品",
}


def _product(code: str | None, lang: str) -> str | None:
    if code is None:
        return None
    try:
        return Product(code).name_in(lang) if lang == "ja" else code
    except ValueError:
        return code


def _state(value: str | None, lang: str) -> str | None:
    if value is None or lang != "ja":
        return value
    try:
        return LicenseState(value).label("ja")
    except ValueError:
        return value


def _superseded(found: services.CodeInspection, lang: str) -> str | None:
    """The newer code of the lineage and whether it is revoked (revoking it covered this one)."""
    if found.superseded_by is None:
        return None
    if found.superseded_by_revoked:
        state = "失効済み" if lang == "ja" else "revoked"
    else:
        state = "有効" if lang == "ja" else "not revoked"
    return f"{found.superseded_by} ({state})"


def _when(at: Any, lang: str) -> Any:
    """A time in Japanese as the console shows it (2026-12-08 01:29 UTC); English keeps
    the value as scripts have read it."""
    if lang != "ja" or not isinstance(at, datetime):
        return at
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M UTC")


def inspection_rows(found: services.CodeInspection, lang: str) -> list[tuple[str, Any]]:
    """`code inspect`'s table: Japanese labels and readings, or the English keys."""
    ja = lang == "ja"
    position = found.position
    rows: list[tuple[str, Any]] = [
        ("kind", _KIND_JA.get(found.kind, found.kind) if ja else found.kind),
        ("verdict", _VERDICT_JA.get(found.verdict, found.verdict) if ja else found.verdict),
        # The machine reason is for scripts (`--lang en`); the detail says it in Japanese.
        *([] if ja else [("reason", found.reason)]),
        ("detail", found.detail.get(lang) if found.detail else None),
        ("position", f"{position}文字目" if ja and position is not None else position),
        ("code", found.formatted),
        ("product", _product(found.product, lang)),
        ("seats", found.seats),
        ("expires_on", found.expires_on),
        ("serial", found.serial),
        ("kid", found.kid),
        ("issued_at", _when(found.issued_at, lang)),
        ("revoked_at", _when(found.revoked_at, lang)),
        ("revoke_reason", found.revoke_reason),
        ("replaced_by", found.replaced_by),
        ("superseded_by", _superseded(found, lang)),
        ("covered_by", found.covered_by),
        ("contract", found.contract_id),
        ("customer", found.customer),
        ("contract_end", found.contract_end),
        ("contract_state", _state(found.contract_state, lang)),
        (
            "products",
            "、".join(_product(p, lang) or p for p in found.products)
            if ja and found.products
            else (", ".join(found.products) if found.products else None),
        ),
    ]
    if not ja:
        return rows
    return [(_LABELS_JA.get(name, name), value) for name, value in rows]


def table_lines(rows: list[tuple[str, Any]], lang: str) -> list[str]:
    """``label: value`` lines, values in one column (a Japanese letter takes two); the
    English keys keep their 16-column layout."""
    shown = [(name, value) for name, value in rows if value is not None]
    if lang != "ja":
        return [f"{name + ':':<16}{value}" for name, value in shown]
    width = max((_columns(name) for name, _ in shown), default=0) + 2
    return [f"{name}:{' ' * (width - _columns(name) - 1)}{value}" for name, value in shown]


def _columns(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def contract_summary(issued: services.IssuedContract, lang: str) -> list[str]:
    """The lines of `contract new` before its codes and key."""
    if lang == "ja":
        return [
            f"契約番号: {issued.contract_id}  顧客: {issued.customer}",
            f"ライセンス数: {issued.seats}",
            f"契約期間: {issued.start} 〜 {issued.end}",
        ]
    return [
        f"contract: {issued.contract_id}  customer: {issued.customer}",
        f"seats: {issued.seats}",
        f"term: {issued.start} .. {issued.end}",
    ]


__all__ = ["contract_summary", "inspection_rows", "table_lines"]
