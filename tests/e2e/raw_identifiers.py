"""Walking every page a browser reaches from a start page and finding raw identifiers
(`license.check_failed`, `revoked_activation_code`, 「製品: CS」, `cli:root`, "(1 clients)")
in its visible text outside `<code>`. Used by the Chromium test of the demo
(test_demo_browser.py) and, on pages and files fetched without a browser, by
tests/e2e/test_raw_identifiers.py (portal, code file, CSV exports, audit log)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
DOTTED = re.compile(r"\b[a-z]+\.[a-z_]+\b")
# File names, host names and mail addresses are words with a dot, not codes.
NOT_CODES = {
    "com",
    "jp",
    "json",
    "pem",
    "txt",
    "csv",
    "log",
    "html",
    "org",
    "net",
    "test",
    "py",
    "localdomain",
    "example",  # the reserved domain of the demo's contact addresses (RFC 2606)
    "g",
    "e",
}
SKIP = re.compile(r"/logout|/language|\.csv|/static/|/openapi|/api/")

# The page's visible text without what is meant to be copied: <code>, <pre>, form fields.
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('code, pre, script, style, input, textarea, select, [hidden]')
      .forEach((node) => node.remove());
  return body.innerText;
}"""


# What a person was shown this week instead of words (issue 23, finding 8): a product code
# standing alone after a label (「製品: CS」, "Products CS DCS"), Markdown backticks, an
# actor id (`cli:root`, `token:ci`), an English count that forgot its singular
# ("(1 clients)") and a cause left empty (「（-）」).
PRODUCT_AFTER_LABEL = re.compile(
    r"(?:製品|Products?)\s*[:：]?\s*(?:(?:CS|DCS)\b[\s,、]*)+(?![-\w])"
)
BACKTICK = re.compile(r"`[^`\n]*`")
ACTOR_ID = re.compile(r"\b(?:cli|token|console|api|system|bulk):[\w.@-]+")
ONE_PLURAL = re.compile(
    r"(?<![\d.,])\b1 (?:clients|files|codes|days|entries|seats|servers|contracts|threats|"
    r"versions|messages|ports|shared folders)\b"
)
EMPTY_CAUSE = re.compile(r"[（(]\s*-\s*[）)]")
PATTERNS = (PRODUCT_AFTER_LABEL, BACKTICK, ACTOR_ID, ONE_PLURAL, EMPTY_CAUSE)


def raw_identifiers(text: str) -> list[str]:
    found = set(SNAKE.findall(text))
    found |= {m for m in DOTTED.findall(text) if m.rsplit(".", 1)[1] not in NOT_CODES}
    found |= {" ".join(m.group(0).split()) for p in PATTERNS for m in p.finditer(text)}
    return sorted(found)


# A page's text as `VISIBLE_TEXT` reads it, for a page fetched without a browser.
_HIDDEN = re.compile(
    r"<(code|pre|script|style|textarea|select)\b.*?</\1>|<input\b[^>]*>|<[^>]+\shidden[\s>][^<]*",
    re.DOTALL | re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    """The text a person reads on `html`, without what is meant to be copied."""
    import html as entities  # noqa: PLC0415

    return entities.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", html)))


def crawl(
    page: Any, base: str, starts: Iterable[str], *, prefix: str, limit: int = 80
) -> dict[str, list[str]]:
    """Visit `starts` and every same-site link under `prefix` they lead to (GET only);
    each page's raw identifiers, by path (only pages with some)."""
    queue = [urljoin(base, s) for s in starts]
    seen: set[str] = set()
    found: dict[str, list[str]] = {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        if key in seen:
            continue
        seen.add(key)
        page.goto(url)
        raw = raw_identifiers(page.evaluate(VISIBLE_TEXT))
        if raw:
            found[key] = raw
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = urlsplit(href)
            if target.netloc != parts.netloc or not target.path.startswith(prefix):
                continue
            if SKIP.search(target.path):
                continue
            queue.append(href.split("#", 1)[0])
    return found | {"(visited)": sorted(seen)}


_HREF = re.compile(r"""href=["']([^"'#]+)""")
HTTP_SKIP = re.compile(r"/logout|/language|/static/|/openapi|/api/|\.pdf$|/docs")


def _read(path: str, response: Any) -> tuple[list[str], list[str]]:
    """A fetched page's raw identifiers and the same-site links to follow."""
    import html as entities  # noqa: PLC0415

    kind = response.headers.get("content-type", "")
    if "html" in kind:
        raw = raw_identifiers(visible_text(response.text))
        hrefs = [entities.unescape(h) for h in _HREF.findall(response.text)]
    elif kind.startswith(("text/", "application/csv")):
        return raw_identifiers(response.text), []
    else:
        return [], []
    links = []
    for href in hrefs:
        target = urlsplit(urljoin(f"http://x{path}", href))
        if target.netloc == "x" and not HTTP_SKIP.search(target.path):
            links.append(target.path + (f"?{target.query}" if target.query else ""))
    return raw, links


def walk(get: Any, starts: Iterable[str], *, prefix: str, limit: int = 80) -> dict[str, list[str]]:
    """`crawl` without a browser: `get(path)` returns a response (a TestClient's or an
    httpx client's); HTML is read as `visible_text`, a text or CSV export as it is.
    Each path's raw identifiers (only paths with some), and "(visited)"."""
    queue, seen, found = list(starts), set[str](), dict[str, list[str]]()
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        raw, links = _read(path, get(path))
        if raw:
            found[path] = raw
        queue += [link for link in links if link.startswith(prefix)]
    return found | {"(visited)": sorted(seen)}


async def walk_async(
    get: Any, starts: Iterable[str], *, prefix: str, limit: int = 80
) -> dict[str, list[str]]:
    """`walk` with an async `get` (httpx.AsyncClient.get)."""
    queue, seen, found = list(starts), set[str](), dict[str, list[str]]()
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        raw, links = _read(path, await get(path))
        if raw:
            found[path] = raw
        queue += [link for link in links if link.startswith(prefix)]
    return found | {"(visited)": sorted(seen)}
