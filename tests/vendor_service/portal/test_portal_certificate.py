"""The license certificate: a printable page and a PDF (text read back with pypdf, the QR
codes decoded from the rendered page with zxing-cpp), in Japanese and English."""

from __future__ import annotations

import io
from datetime import date

import pypdfium2
import pytest
import segno
import zxingcpp
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from starlette.testclient import TestClient
from tests.vendor_service.portal.conftest import CUSTOMER

from cssec.core.codes import ACTIVATION_CODE_GROUPS, ALPHABET, format_symbols
from cssec.vendor_service import services
from cssec.vendor_service.portal.certificate import (
    Certificate,
    CertificateCode,
    certificate_pdf,
    qr_code,
)


def _pdf(customer: TestClient, contract: services.IssuedContract) -> bytes:
    response = customer.get(f"/portal/contracts/{contract.contract_id}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def _decoded_qr(pdf: bytes) -> set[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCodeModel2)
    return {barcode.text for barcode in found}


def test_the_pdf_certificate_in_japanese(
    customer: TestClient, contract: services.IssuedContract
) -> None:
    pdf = _pdf(customer, contract)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in (
        "ライセンス証書",
        CUSTOMER,
        contract.registration_key,
        contract.codes["CS"],
        contract.codes["DCS"],
        "ライセンス数",
        "25",
        f"{contract.start.isoformat()} - {contract.end.isoformat()}",
        "ウイルス感染復旧サービス",
    ):
        assert expected in text, expected
    assert _decoded_qr(pdf) == {contract.codes["CS"], contract.codes["DCS"]}


def test_the_pdf_certificate_in_english(
    app: FastAPI, customer: TestClient, contract: services.IssuedContract
) -> None:
    customer.headers["Accept-Language"] = "en"
    pdf = _pdf(customer, contract)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "License certificate" in text
    assert "Damage Cleanup Services" in text
    assert "Seats" in text
    assert contract.codes["CS"] in text
    assert "ライセンス証書" not in text


def test_the_printable_certificate_page(
    customer: TestClient, contract: services.IssuedContract
) -> None:
    page = customer.get(f"/portal/contracts/{contract.contract_id}/certificate")
    assert page.status_code == 200
    html = page.text
    assert f'data-testid="cert-customer">{CUSTOMER}<' in html
    assert f'data-testid="cert-key">{contract.registration_key}<' in html
    assert html.count('data-testid="qr"><svg') == 2
    assert "style=" not in html.split('data-testid="certificate-sheet"', 1)[1]  # CSP: none


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_certificate_without_codes_still_renders(lang: str) -> None:
    cert = Certificate(
        contract_id=1, customer="顧客", registration_key=None, seats=1,
        starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), grace_end=date(2027, 1, 30),
        codes=[], issued_on=date(2026, 1, 1),
    )  # fmt: skip
    assert PdfReader(io.BytesIO(certificate_pdf(cert, lang=lang))).pages[0].extract_text()


_symbols = st.text(alphabet=ALPHABET, min_size=31, max_size=31)


@settings(max_examples=25, deadline=None)
@given(_symbols)
def test_the_qr_code_holds_exactly_the_code(symbols: str) -> None:
    """segno's matrix, drawn into the PDF as squares, decodes back to the code."""
    code = format_symbols(symbols, ACTIVATION_CODE_GROUPS)
    qr = qr_code(code)
    assert qr.mode == "alphanumeric"
    cert = Certificate(
        contract_id=1, customer="x", registration_key=None, seats=1,
        starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), grace_end=date(2027, 1, 30),
        codes=[CertificateCode("CS", "C/S Sec.", code, date(2026, 12, 31))],
        issued_on=date(2026, 1, 1),
    )  # fmt: skip
    assert _decoded_qr(certificate_pdf(cert, lang="en")) == {code}
    assert segno.make_qr(code, error="m", boost_error=False).matrix == qr.matrix
