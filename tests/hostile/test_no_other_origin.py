"""No page of any app loads anything from another origin (issue 22, item 6).

Every HTML page reachable by following links from the entry points of the three web apps,
signed in and not (the vendor's support-desk console and customer portal, the server's
Web manager) and the API reference pages (/docs, /api/docs) is fetched; on each:

- the Content-Security-Policy header is there and names no other origin: every source is
  a keyword ('self', 'none'), a nonce or hash, or data: (no host, no scheme such as
  https:, no *);
- nothing in the HTML is loaded from elsewhere: script, stylesheet, icon, image, frame,
  media, object, form action, base and meta refresh are all on this origin, and so are the
  url()s of inline styles and of the stylesheets the page loads.

Links to other origins (<a href>) are not loads and are allowed. Before this, /docs
loaded swagger-ui-dist@5 from a public CDN, with no policy at all.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.helpers.hostile import SERVER_PASSWORD, csrf_of, vendor_of, vendor_settings
from tests.helpers.smtp_sink import Mailbox, smtp_sink

from cssec.core.clock import FakeClock
from cssec.vendor_service import services
from cssec.vendor_service.app import create_app as create_vendor_app

ORIGIN = "http://testserver"
PUBLIC = "https://licenses.vendor.example"
CONTACT = "it@origin.example.co.jp"
DESK = ("origin-admin", "origin admin password")
MAX_PAGES = 150
SKIP = re.compile(r"/(logout|signout)\b|/download|\.pdf$|/license-file|/export")
"""Links not followed: ending the session, and files that are not pages."""

LOADS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "form": ("action",),
    "input": ("src", "formaction"),
    "button": ("formaction",),
    "base": ("href",),
    "use": ("href", "xlink:href"),
    "image": ("href", "xlink:href"),
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.I)
_REFRESH = re.compile(r"url\s*=\s*(\S+)", re.I)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in LOADS.get(tag, ()):
            if values.get(name):
                for part in values[name].split(","):  # srcset: "url 2x, url 3x"
                    self.loads.append((f"<{tag} {name}>", part.strip().split(" ")[0]))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            found = _REFRESH.search(values.get("content", ""))
            if found:
                self.loads.append(("<meta refresh>", found.group(1).strip("'\"")))
        if "style" in values:
            self.styles.append(values["style"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def foreign(url: str, base: str) -> bool:
    """Whether `url`, met on the page at `base`, is on another origin (data: is not)."""
    absolute = urlsplit(urljoin(base, url.strip()))
    if absolute.scheme in ("data", "blob", "about", "javascript"):
        return False
    return f"{absolute.scheme}://{absolute.netloc}" != ORIGIN


def csp_problems(policy: str | None) -> list[str]:
    if not policy:
        return ["no Content-Security-Policy"]
    problems = []
    for directive in filter(None, (d.strip() for d in policy.split(";"))):
        name, *sources = directive.split()
        for source in sources:
            keyword = source.startswith("'") and source.endswith("'")
            if not keyword and source not in ("data:", "blob:"):
                problems.append(f"{name} names {source}")
    return problems


def crawl(client: TestClient, seeds: list[str]) -> dict[str, list[str]]:
    """Every same-origin HTML page reachable from `seeds`: {path: problems}."""
    seen: dict[str, list[str]] = {}
    stylesheets: dict[str, list[str]] = {}
    queue = deque(seeds)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path, follow_redirects=True)
        final = str(response.url).removeprefix(ORIGIN)
        if "text/html" not in response.headers.get("content-type", ""):
            seen[path] = []
            continue
        problems = csp_problems(response.headers.get("content-security-policy"))
        page = _Page()
        page.feed(response.text)
        base = ORIGIN + final
        for where, url in page.loads:
            if foreign(url, base):
                problems.append(f"{where} loads {url}")
            elif where == "<link href>" and url.endswith(".css"):
                sheet = urlsplit(urljoin(base, url)).path
                if sheet not in stylesheets:
                    stylesheets[sheet] = _css_problems(client.get(sheet).text, ORIGIN + sheet)
                problems += stylesheets[sheet]
        for style in page.styles:
            problems += _css_problems(style, base)
        seen[path] = problems
        seen.setdefault(final, problems)
        for link in page.links:
            target = urlsplit(urljoin(base, link))
            here = target.path + (f"?{target.query}" if target.query else "")
            if not foreign(link, base) and not SKIP.search(target.path) and here not in seen:
                queue.append(here)
    return seen


def _css_problems(css: str, base: str) -> list[str]:
    found = (a or b for a, b in _CSS_URL.findall(css))
    return [f"style loads {url}" for url in found if foreign(url, base)]


def _checked(client: TestClient, seeds: list[str], *, expect: set[str]) -> dict[str, list[str]]:
    pages = crawl(client, seeds)
    assert expect <= set(pages), f"not reached: {expect - set(pages)} of {sorted(pages)}"
    assert {path: problems for path, problems in pages.items() if problems} == {}
    return pages


# --- the apps, with something on every page -------------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_sink() as box:
        yield box


@pytest.fixture
def vendor_app(tmp_path: Path, clock: FakeClock, mailbox: Mailbox) -> Iterator[FastAPI]:
    """The hostile tests' vendor, with mail (the portal signs in by e-mailed link)."""
    settings = vendor_settings(tmp_path / "vendor").model_copy(
        update={
            "smtp_host": mailbox.host,
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_sender": "licenses@vendor.example",
            "portal_url": PUBLIC,
            "background_jobs": False,
        }
    )
    app = create_vendor_app(settings, clock=clock)
    with vendor_of(app).session() as session:
        services.add_user(session, name=DESK[0], password=DESK[1], role="admin", actor="test")
    try:
        yield app
    finally:
        vendor_of(app).close()


@pytest.fixture
def contract(vendor_app: FastAPI) -> services.IssuedContract:
    with vendor_of(vendor_app).session() as session:
        return services.issue_contract(
            session, customer="株式会社オリジン", seats=25, with_dcs=True,
            contact_email=CONTACT, actor="test",
        )  # fmt: skip


def test_the_vendor_console_and_its_api_reference_load_nothing_from_elsewhere(
    vendor_app: FastAPI, contract: services.IssuedContract
) -> None:
    anonymous = TestClient(vendor_app, raise_server_exceptions=False)
    _checked(anonymous, ["/console/login", "/console/no-such-page", "/docs"],
             expect={"/console/login", "/docs"})  # fmt: skip
    assert anonymous.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert anonymous.get("/docs/assets/../settings.py").status_code == 404
    assert anonymous.get("/openapi.json").json()["openapi"].startswith("3.1")
    desk = TestClient(vendor_app, raise_server_exceptions=False)
    page = desk.get("/console/login")
    signed_in = desk.post(
        "/console/login",
        data={"username": DESK[0], "password": DESK[1], "csrf_token": csrf_of(page.text)},
    )
    assert signed_in.status_code == 200
    pages = _checked(
        desk, ["/console/"], expect={"/console/", f"/console/contracts/{contract.contract_id}"}
    )
    assert len(pages) >= 10, sorted(pages)


def test_the_portal_loads_nothing_from_elsewhere(
    vendor_app: FastAPI, contract: services.IssuedContract, mailbox: Mailbox
) -> None:
    client = TestClient(vendor_app, raise_server_exceptions=False)
    _checked(client, ["/portal/", "/portal/no-such-page"], expect={"/portal/"})
    page = client.get("/portal/")
    asked = client.post(
        "/portal/signin",
        data={"registration_key": contract.registration_key, "email": CONTACT,
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert asked.status_code == 200
    link = re.search(re.escape(PUBLIC) + r"(/portal/signin/[A-Za-z0-9_-]+)",
                     mailbox.received()[-1].get_content())  # fmt: skip
    assert link is not None
    landing = client.get(link.group(1))
    done = client.post(link.group(1), data={"csrf_token": csrf_of(landing.text)})
    contract_page = str(done.url).removeprefix(ORIGIN)
    assert contract_page.startswith("/portal/contracts/"), done.text
    _checked(client, [link.group(1), contract_page], expect={contract_page})


def test_the_web_manager_and_its_api_reference_load_nothing_from_elsewhere(
    server_app: FastAPI,
) -> None:
    client = TestClient(server_app, raise_server_exceptions=False)
    _checked(client, ["/login", "/no-such-page", "/api/docs"], expect={"/login", "/api/docs"})
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
    page = client.get("/login")
    signed_in = client.post(
        "/login",
        data={"username": "admin", "password": SERVER_PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert signed_in.status_code == 200, signed_in.text
    pages = _checked(client, ["/"], expect={"/admin/licenses"})
    assert len(pages) >= 5, sorted(pages)


def test_the_checks_would_catch_a_cdn() -> None:
    """The checks themselves: what FastAPI's stock /docs page was."""
    assert csp_problems(None) == ["no Content-Security-Policy"]
    assert csp_problems("default-src 'self'; script-src 'self' https://cdn.jsdelivr.net") == [
        "script-src names https://cdn.jsdelivr.net"
    ]
    assert csp_problems("img-src * data:; style-src https:") == [
        "img-src names *", "style-src names https:",
    ]  # fmt: skip
    page = _Page()
    page.feed(
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">'
        '<script src="//cdn.example/x.js"></script><img src="/static/ok.png">'
        '<div style="background: url(https://tracker.example/p.gif)"></div>'
        '<a href="https://elsewhere.example/">a link is no load</a>'
    )
    base = ORIGIN + "/docs"
    assert [url for _, url in page.loads if foreign(url, base)] == [
        "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css",
        "//cdn.example/x.js",
    ]
    assert _css_problems(page.styles[0], base) == ["style loads https://tracker.example/p.gif"]
