"""The certificate PDF embeds its fonts, so every reader draws the same letters at the same
widths: rendered by PDFium (what Chrome uses) its text reads back word for word, and no font
in it is left for the reader to substitute ("L icense certificate", "Custom er")."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pypdfium2
import pytest
from pypdf import PdfReader

from cssec.vendor_service.portal.certificate import (
    Certificate,
    CertificateCode,
    _font_file,
    certificate_pdf,
)

CODE = "CS-1234-56789-ABCDE-FGHJK-MNPQR-STVWX"
CERT = Certificate(
    contract_id=12, customer="株式会社サンプル商事 Customer Ltd",
    registration_key="AB-CDEF-GHJK-MNPQ-RSTV", seats=25,
    starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), grace_end=date(2027, 1, 30),
    codes=[CertificateCode("DCS", "ウイルス感染復旧サービス", CODE, date(2026, 12, 31))],
    issued_on=date(2026, 1, 1),
)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _fonts_installed() -> None:
    if _font_file("text") is None:
        pytest.fail("install fonts-ipafont-gothic (.ci/run does): the PDF needs a TrueType font")


def _lines(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    return page.get_textpage().get_text_range().replace("\r\n", "\n").split("\n")


def _fonts(pdf: bytes) -> list[Any]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return [fonts[name].get_object() for name in fonts]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_font_is_embedded(lang: str) -> None:
    fonts = _fonts(certificate_pdf(CERT, lang=lang))
    assert fonts
    for font in fonts:
        descendants = font.get("/DescendantFonts")
        target = descendants[0].get_object() if descendants else font
        descriptor = target.get("/FontDescriptor")
        assert descriptor is not None, f"{font.get('/BaseFont')} is not embedded"
        embedded = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.get_object())
        assert embedded, f"{font.get('/BaseFont')} is not embedded"


def test_the_english_text_reads_back_word_for_word() -> None:
    lines = _lines(certificate_pdf(CERT, lang="en"))
    for expected in (
        "License certificate",
        "Customer 株式会社サンプル商事 Customer Ltd",
        "Registration key AB-CDEF-GHJK-MNPQ-RSTV",
        "Seats 25",
        "Term 2026-01-01 - 2026-12-31",
        "ウイルス感染復旧サービス",
        CODE,
        "Expires: 2026-12-31",
        "Keep this certificate in a safe place.",
    ):
        assert expected in lines, (expected, lines)


def test_the_japanese_text_reads_back_word_for_word() -> None:
    lines = _lines(certificate_pdf(CERT, lang="ja"))
    for expected in (
        "ライセンス証書",
        "お客様 株式会社サンプル商事 Customer Ltd",
        "ライセンス数 25",
        "契約期間 2026-01-01 - 2026-12-31",
        CODE,
        "有効期限: 2026-12-31",
        "この証書は大切に保管してください。",
    ):
        assert expected in lines, (expected, lines)
