"""The interactive API reference (Swagger UI) served from the installed package, not a CDN.

FastAPI's own /docs page loads swagger-ui-dist@5 from a public CDN, unpinned and without
integrity checks, on the app's origin (the console's cookies live there), with an inline
script; a closed network has no CDN at all. Here the page, its script and its stylesheet
come from this origin: Swagger UI's files from the `swagger-ui-bundle-v2` package (a
pinned Swagger UI 5, which reads OpenAPI 3.1), and the few lines that start it from
`INIT_JS` rather than inline. The page's Content-Security-Policy names no other origin;
validatorUrl is off (Swagger UI would otherwise show a badge from validator.swagger.io).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
"""Like every page's policy, plus the script and the openapi.json fetch, from this origin."""
ASSET_CACHE = "public, max-age=86400"

INIT_JS = """window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def install_api_docs(app: FastAPI, *, docs_url: str, openapi_url: str = "/openapi.json") -> None:
    """Serve Swagger UI at `docs_url` (create the app with docs_url=None, redoc_url=None)."""
    app.include_router(api_docs_router(app.title, docs_url=docs_url, openapi_url=openapi_url))


def api_docs_router(title: str, *, docs_url: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """The routes of the API reference page at `docs_url`: the page, its start-up script
    and Swagger UI's files (only those three: no path reaches anything else)."""
    router = APIRouter(include_in_schema=False)
    assets = Path(str(swagger_ui_path))
    title = escape(title)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API</title>
<link rel="stylesheet" href="{docs_url}/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{docs_url}/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{docs_url}/assets/swagger-ui-bundle.js"></script>
<script src="{docs_url}/init.js"></script>
</body>
</html>
"""

    @router.get(docs_url)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"content-security-policy": DOCS_CSP})

    @router.get(f"{docs_url}/init.js")
    def api_docs_init() -> Response:
        return Response(
            INIT_JS,
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": ASSET_CACHE},
        )

    @router.get(docs_url + "/assets/{name}")
    def api_docs_asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            return Response(status_code=404)
        return FileResponse(
            assets / name, media_type=media_type, headers={"cache-control": ASSET_CACHE}
        )

    return router
