"""English counts said right: "1 client", "2 clients" (Japanese needs no plural)."""

from __future__ import annotations


def count_en(count: int, one: str, many: str | None = None) -> str:
    """`1 client`, `0 clients`, `3 clients`; `many` for an irregular plural."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


__all__ = ["count_en"]
