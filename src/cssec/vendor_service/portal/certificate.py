"""The license certificate (ライセンス証書): what a contract entitles the customer to, as a
printable page and as a PDF, with a QR code of each activation code.

The PDF is drawn with ReportLab in a TrueType font embedded in it (a subset of the glyphs
used), so every reader shows the same letters at the same widths and text copied or
extracted from it reads back exactly: IPA P Gothic for the text and the fixed-pitch IPA
Gothic for codes (Debian's fonts-ipafont-gothic; `FONT_CANDIDATES` lists where they are
looked for). Without either, ReportLab's built-in Japanese CID font is the last resort
(not embedded: a reader substitutes its own font and may space letters wrongly), and a
warning says so. The QR codes are segno's, drawn module by module as vector squares, so
they print sharp at any size.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno
from markupsafe import Markup
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from cssec.core.license import PRODUCT_NAMES, Product, grace_end
from cssec.vendor_service.console.queries import grace_days
from cssec.vendor_service.models import Contract
from cssec.vendor_service.services import current_code_rows, formatted_code, formatted_key

log = logging.getLogger(__name__)

FONT_DIRS = (
    Path("/usr/share/fonts/opentype/ipafont-gothic"),
    Path("/usr/share/fonts/truetype/ipafont-gothic"),
    Path("/usr/share/fonts/opentype/ipaexfont-gothic"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic"),
    Path("/usr/share/fonts/ipa-pgothic"),
    Path("/usr/share/fonts/ipa-gothic"),
)
FONT_CANDIDATES = {
    "text": ("ipagp.ttf", "ipaexg.ttf", "ipag.ttf"),
    "mono": ("ipag.ttf",),
}
"""TrueType files (not OpenType/CFF, which ReportLab cannot embed) by role, best first."""
FALLBACK_FONT = "HeiseiKakuGo-W5"
FALLBACK_MONO = "Courier-Bold"


@dataclass(frozen=True)
class CertificateCode:
    product: str
    product_name: str
    code: str
    expires_on: date


@dataclass(frozen=True)
class Certificate:
    contract_id: int
    customer: str
    registration_key: str | None
    seats: int
    starts_on: date
    ends_on: date
    grace_end: date
    codes: list[CertificateCode]
    issued_on: date


def _product_name(product: str, lang: str) -> str:
    try:
        return PRODUCT_NAMES[Product(product)]["en" if lang == "en" else "ja"]
    except (ValueError, KeyError):
        return product


def certificate_of(session: Session, contract: Contract, *, today: date, lang: str) -> Certificate:
    """The certificate of `contract` today: its current codes, one per product."""
    current = current_code_rows(contract)
    codes = [
        CertificateCode(
            product=product,
            product_name=_product_name(product, lang),
            code=formatted_code(current[product]),
            expires_on=current[product].expires_on,
        )
        for product in contract.product_codes
        if product in current
    ]
    key = contract.registration_key
    return Certificate(
        contract_id=contract.id,
        customer=contract.customer.name,
        registration_key=formatted_key(key) if key is not None and key.text else None,
        seats=contract.seats,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        grace_end=grace_end(contract.ends_on, grace_days(session)),
        codes=codes,
        issued_on=today,
    )


def qr_code(text: str) -> segno.QRCode:
    """The QR code of an activation code (alphanumeric mode, error correction M)."""
    return segno.make_qr(text, error="m", boost_error=False)


def qr_svg(text: str) -> Markup:
    """An inline SVG of the QR code for the printable page (no style attribute: the
    pages' Content-Security-Policy allows none)."""
    svg = qr_code(text).svg_inline(scale=4, dark="#000", light="#fff", title=text)
    return Markup(svg)  # noqa: S704  (segno's own markup around an escaped title)


LABELS = {
    "ja": {
        "title": "ライセンス証書",
        "product": "C/S Sec. ライセンス",
        "customer": "お客様",
        "contract": "契約番号",
        "registration_key": "レジストレーションキー",
        "seats": "ライセンス数",
        "term": "契約期間",
        "grace": "更新猶予期間の終了日",
        "codes": "アクティベーションコード",
        "expires": "有効期限",
        "issued": "発行日",
        "note": (
            "アクティベーションコードは、Webマネージャの[製品ライセンス]→[新規入力]で入力します。"
        ),
        "note2": "QRコードには同じアクティベーションコードが入っています。",
        "keep": "この証書は大切に保管してください。",
    },
    "en": {
        "title": "License certificate",
        "product": "C/S Sec. license",
        "customer": "Customer",
        "contract": "Contract no.",
        "registration_key": "Registration key",
        "seats": "Seats",
        "term": "Term",
        "grace": "Grace period ends",
        "codes": "Activation codes",
        "expires": "Expires",
        "issued": "Issued on",
        "note": (
            "Enter an activation code in the Web manager: [Product License] → [Enter new code]."
        ),
        "note2": "Each QR code holds the same activation code.",
        "keep": "Keep this certificate in a safe place.",
    },
}


def _font_file(role: str) -> Path | None:
    for name in FONT_CANDIDATES[role]:
        for folder in FONT_DIRS:
            if (folder / name).is_file():
                return folder / name
    return None


@functools.cache
def _register_fonts() -> tuple[str, str]:
    """The (text, mono) font names to draw with, registered once."""
    text_file, mono_file = _font_file("text"), _font_file("mono")
    if text_file is None:
        log.warning(
            "no Japanese TrueType font found (install fonts-ipafont-gothic): the "
            "certificate PDF uses a font it does not embed / 日本語 TrueType フォントが"
            "ありません (fonts-ipafont-gothicを導入してください)。"
            "証書 PDFはフォントを埋め込めません"
        )
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
        return FALLBACK_FONT, FALLBACK_MONO
    pdfmetrics.registerFont(TTFont("CssecText", str(text_file)))
    if mono_file is None:
        return "CssecText", "CssecText"
    pdfmetrics.registerFont(TTFont("CssecMono", str(mono_file)))
    return "CssecText", "CssecMono"


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code with its quiet zone as a `size`-wide square whose lower left is (x, y)."""
    qr = qr_code(text)
    border = 4
    modules = qr.symbol_size(scale=1, border=border)[0]
    cell = size / modules
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(qr.matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (col_index + border) * cell,
                    y + size - (row_index + border + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def certificate_pdf(cert: Certificate, *, lang: str) -> bytes:
    """The certificate as a one-page A4 PDF in `lang` (ja or en)."""
    font, mono = _register_fonts()
    text = LABELS["en" if lang == "en" else "ja"]
    buffer = io.BytesIO()
    # The initial font would otherwise be Helvetica, a font the PDF names but never embeds.
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font)  # type: ignore[arg-type]
    canvas.setTitle(f"{text['title']} #{cert.contract_id}")
    canvas.setAuthor("cssec")
    width, height = A4
    left = 22 * mm
    top = height - 28 * mm
    canvas.setFillColorRGB(0.06, 0.24, 0.43)
    canvas.rect(0, height - 14 * mm, width, 14 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(font, 22)
    canvas.drawString(left, top, text["title"])
    canvas.setFont(font, 11)
    canvas.drawString(left, top - 8 * mm, text["product"])

    rows = [
        (text["customer"], cert.customer),
        (text["contract"], f"#{cert.contract_id}"),
        (text["registration_key"], cert.registration_key or "-"),
        (text["seats"], str(cert.seats)),
        (text["term"], f"{cert.starts_on.isoformat()} - {cert.ends_on.isoformat()}"),
        (text["grace"], cert.grace_end.isoformat()),
        (text["issued"], cert.issued_on.isoformat()),
    ]
    y = top - 22 * mm
    for label, value in rows:
        canvas.setFont(font, 10)
        canvas.setFillColorRGB(0.37, 0.42, 0.48)
        canvas.drawString(left, y, label)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(mono if label == text["registration_key"] else font, 12)
        canvas.drawString(left + 55 * mm, y, value)
        y -= 9 * mm

    y -= 4 * mm
    canvas.setFont(font, 14)
    canvas.drawString(left, y, text["codes"])
    y -= 6 * mm
    qr_size = 38 * mm
    for code in cert.codes:
        y -= qr_size
        canvas.setStrokeColorRGB(0.87, 0.89, 0.92)
        canvas.rect(left - 3 * mm, y - 3 * mm, width - 2 * left + 6 * mm, qr_size + 6 * mm)
        canvas.setFont(font, 12)
        canvas.drawString(left, y + qr_size - 7 * mm, code.product_name)
        canvas.setFont(mono, 13)
        canvas.drawString(left, y + qr_size - 16 * mm, code.code)
        canvas.setFont(font, 10)
        canvas.drawString(left, y + qr_size - 25 * mm, f"{text['expires']}: {code.expires_on}")
        _draw_qr(canvas, code.code, width - left - qr_size, y, qr_size)
        y -= 10 * mm

    canvas.setFont(font, 9)
    canvas.setFillColorRGB(0.37, 0.42, 0.48)
    canvas.drawString(left, 24 * mm, text["note"])
    canvas.drawString(left, 19 * mm, text["note2"])
    canvas.drawString(left, 14 * mm, text["keep"])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
