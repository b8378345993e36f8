"""`/` of the license service: what a person who opens the service's address finds.

A browser gets a small page (what this is, where the console, the customer portal and the
API reference are); a program that asks for JSON gets the same facts as JSON. Nothing here
needs a sign-in or touches the database.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cssec.web.i18n import current_language

router = APIRouter(include_in_schema=False)

LINKS = (
    ("/console/", "窓口コンソール（法人お問合せ窓口の担当者用）", "Support desk console (staff)"),
    (
        "/portal/",
        "お客様ポータル（契約、証明書、オフライン更新）",
        "Customer portal (contract, certificate, offline renewal)",
    ),
    ("/docs", "API リファレンス", "API reference"),
)
_TEXT = {
    "ja": (
        "C/S Sec. ライセンスサービス",
        "C/S Sec.のアクティベーションコード、契約、ActiveUpdateを扱うサービスです。"
        "C/S Sec. サーバはこのアドレスに自動で接続します。人が使う画面は次のとおりです。",
    ),
    "en": (
        "C/S Sec. license service",
        "This service handles C/S Sec. activation codes, contracts and ActiveUpdate; C/S Sec. "
        "servers connect to this address by themselves. The pages for people:",
    ),
}


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/")
def home(request: Request) -> Response:
    lang = "en" if current_language.get() == "en" else "ja"
    title, lead = _TEXT[lang]
    if _wants_json(request):
        links = {path: ja if lang == "ja" else en for path, ja, en in LINKS}
        return JSONResponse({"service": title, "about": lead, "links": links})
    items = "".join(
        f'<li><a href="{path}">{escape(ja if lang == "ja" else en)}</a></li>'
        for path, ja, en in LINKS
    )
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>"
        f"<main><h1>{escape(title)}</h1><p>{escape(lead)}</p><ul>{items}</ul></main>"
        "</body></html>"
    )
    return HTMLResponse(page)
