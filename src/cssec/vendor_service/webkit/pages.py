"""One server-rendered app of the vendor service (the console or the portal) as the kit
sees it: its templates over the kit's own, its catalogs, its stylesheet beside the
kit's, its refusal pages and the formats every page shows dates and products in.

The layout, the macros and the stylesheet live once, here; an app keeps what only it has
(its menu, its pages, its texts), so a fix to the layout is made in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cssec.core.errors import CssecError
from cssec.core.license import PRODUCT_NAMES, STATE_LABELS, LicenseState, Product
from cssec.vendor_service.runtime import Vendor
from cssec.vendor_service.services import formatted_code
from cssec.web.i18n import Catalogs, current_language
from cssec.web.pages import SHARED_TEMPLATES, pick, render_page, safe_next

K = TypeVar("K")
KIT = Path(__file__).parent
KIT_TEMPLATES = KIT / "templates"
"""`layout.html`, `error.html`, `_kit.html` (forms, flashes, badges), `_contract.html`."""
KIT_STATIC = KIT / "static"
"""`kit.css`: the layout both apps share; each app's own sheet adds what only it has."""


def vendor_of(request: Request) -> Vendor:
    vendor: Vendor = request.app.state.vendor
    return vendor


def fmt_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value is not None else "-"


def _in_language(labels: Mapping[K, Mapping[str, str]], parse: Callable[[str], K], key: str) -> str:
    """The current language's label of `key` (read by `parse`), or `key` itself if unknown."""
    try:
        texts = labels[parse(key)]
    except ValueError:
        return key
    return texts["en" if current_language.get() == "en" else "ja"]


def product_name(code: str) -> str:
    return _in_language(PRODUCT_NAMES, Product, code)


def state_label(state: str) -> str:
    return _in_language(STATE_LABELS, LicenseState, state)


def template_loader(own: Path) -> jinja2.BaseLoader:
    """The app's own templates first, then the kit's, then those every web app shares
    (`_language_switch.html`, `_logout.html`)."""
    return jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(path) for path in (own, KIT_TEMPLATES, SHARED_TEMPLATES)]
    )


class WebApp:
    """An app under `/<name>`: its package folder `here` (with `templates/`, `static/` and,
    unless `locale_dir` says otherwise, `locale/`), its stylesheet `static/<name>.css`
    (loaded after `kit.css`), its session cookie `cssec_<name>` and its sign-out route.
    Its catalogs and templates live on `app.state` as `<name>_catalogs`, `<name>_templates`."""

    def __init__(
        self, name: str, here: Path, *, logout_path: str, locale_dir: Path | None = None
    ) -> None:
        self.name = name
        self.prefix = f"/{name}"
        self.here = here
        self.locale_dir = locale_dir or here / "locale"
        self.logout_path = logout_path
        self.stylesheet = f"{name}.css"
        self.cookie = f"cssec_{name}"

    @property
    def home(self) -> str:
        return f"{self.prefix}/"

    def catalogs(self, request: Request) -> Catalogs:
        catalogs: Catalogs = getattr(request.app.state, f"{self.name}_catalogs")
        return catalogs

    def gettext(self, request: Request, message: str, **params: Any) -> str:
        return self.catalogs(request).gettext(message, **params)

    def next_page(self, url: str | None) -> str:
        """Where a sign-in or a language switch goes on: a path of this app, else its home."""
        return safe_next(url, default=self.home, within=self.home)

    def build_environment(
        self,
        catalogs: Catalogs,
        *,
        extra: Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> jinja2.Environment:
        """The app's Jinja environment: the kit's globals and filters, and its own `extra`
        globals and `filters`."""
        env = jinja2.Environment(
            loader=template_loader(self.here / "templates"),
            autoescape=jinja2.select_autoescape(default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals.update(
            _=catalogs.gettext,
            ngettext=catalogs.ngettext,
            product_name=product_name,
            state_label=state_label,
            pick=pick,
            prefix=self.prefix,
            stylesheet=f"{self.prefix}/static/{self.stylesheet}",
            language_action=f"{self.prefix}/language",
            logout_action=f"{self.prefix}{self.logout_path}",
            formatted_code=formatted_code,
            **(extra or {}),
        )
        env.filters.update(dt=fmt_datetime, d=fmt_date, **(filters or {}))
        return env

    def install_pages(
        self,
        app: FastAPI,
        *,
        extra: Mapping[str, Any] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        """Catalogs and templates on `app.state`; the app's and the kit's static files under
        `<prefix>/static` (one mount: each app serves `kit.css` under its own path)."""
        catalogs = Catalogs(self.locale_dir)
        env = self.build_environment(catalogs, extra=extra, filters=filters)
        setattr(app.state, f"{self.name}_catalogs", catalogs)
        setattr(app.state, f"{self.name}_templates", env)
        static = StaticFiles(
            directory=self.here / "static", packages=[("cssec.vendor_service.webkit", "static")]
        )
        app.mount(f"{self.prefix}/static", static, name=f"{self.name}-static")

    def render(self, request: Request, name: str, **context: Any) -> HTMLResponse:
        """A page of this app; `context` may set `active`, `status_code` and `headers`."""
        env: jinja2.Environment = getattr(request.app.state, f"{self.name}_templates")
        return render_page(request, env, name, **context)

    def refusal_page(
        self,
        request: Request,
        exc: CssecError,
        *,
        titles: Mapping[str, str],
        back: tuple[str, str],
        **context: Any,
    ) -> HTMLResponse:
        """A refusal as this app's error page in the request's language: the title by the
        error's code (`titles`, msgids), its message, Retry-After when it has one, and one
        way on (`back`: path and label, already translated)."""
        retry_after = exc.fields.get("retry_after")
        return self.render(
            request,
            "error.html",
            status_code=exc.status,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
            title=self.gettext(request, titles.get(exc.code, "Error")),
            message=exc.message(current_language.get()),
            back_url=back[0],
            back_label=back[1],
            **context,
        )
