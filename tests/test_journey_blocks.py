"""How tests/e2e/test_journeys.py reads the docs: only marked blocks, in order, page steps
checked, variables never silently empty (a docs typo fails, it is not skipped)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.journeys import collect, expand, page_steps, read_blocks

MARKDOWN = """# t

```sh journey=a
echo one
```

```
echo not marked
```

~~~page journey=b
open https://127.0.0.1:$PORT/
fill ラベル = $VALUE
read OUT .x a.y
~~~

```sh journey=a
echo two
```
"""


def test_marked_blocks_only_in_order_grouped_by_journey(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(MARKDOWN, encoding="utf-8")
    blocks = read_blocks(doc)
    assert [(b.kind, b.journey, b.line) for b in blocks] == [
        ("sh", "a", 3), ("page", "b", 11), ("sh", "a", 17)
    ]  # fmt: skip
    journeys = collect((doc,))
    assert [(j.name, [b.text for b in j.blocks]) for j in journeys] == [
        ("a", ["echo one\n", "echo two\n"]),
        ("b", [blocks[1].text]),
    ]
    assert page_steps(blocks[1]) == [
        ["open", "https://127.0.0.1:$PORT/"],
        ["fill", "ラベル", "$VALUE"],
        ["read", "OUT", ".x a.y"],
    ]


def test_an_unknown_step_or_variable_is_the_docs_error(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("```page journey=x\nclick here\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown page step"):
        page_steps(read_blocks(doc)[0])
    assert expand("${A}-$B", {"A": "1", "B": "2"}) == "1-2"
    with pytest.raises(KeyError, match="C is not set"):
        expand("$C", {})


def test_the_repository_docs_mark_their_journeys() -> None:
    names = [journey.name for journey in collect()]
    assert names[:2] == ["quick-start", "vendor"], names
