"""Lists an administrator types one entry a line (folders, shares, file names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cssec.core.errors import CssecError


def clean_entries(
    items: Iterable[str],
    *,
    max_length: int,
    max_count: int,
    unusable: Callable[[str], CssecError],
    too_many: Callable[[], CssecError],
) -> list[str]:
    """The entries stripped, blanks dropped and repeats kept once, in their order.

    Refuses (raises) an entry longer than `max_length` or holding a control character,
    then more than `max_count` entries: a client gets only what it can take as it is.
    """
    out: list[str] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        if len(item) > max_length or any(ord(ch) < 32 for ch in item):
            raise unusable(item)
        if item not in out:
            out.append(item)
    if len(out) > max_count:
        raise too_many()
    return out
