"""Messages read as docs/style-ja.md says: a failed online check says the license is
unchanged once, names its cause in Japanese, and leaves no space before a particle."""

from __future__ import annotations

import re

from tests.helpers.server import Desk, ServerFactory, SwitchableTransport

from cssec.core.errors import VendorUnreachable


def _flash(html: str) -> str:
    found = re.search(r'data-testid="flash-danger">([^<]+)<', html)
    assert found, "a danger flash"
    return found.group(1)


async def test_failed_check_says_unchanged_once_in_one_language(
    servers: ServerFactory, desk: Desk, network: SwitchableTransport
) -> None:
    server = await servers.start(activation_code=desk.contract().codes["CS"])
    await server.login()
    network.mode = "down"
    await server.check_form()
    japanese = _flash((await server.client.get("/admin/licenses")).text)
    assert japanese.count("現在のライセンスは変更されていません") == 1, japanese
    assert "connection failed" not in japanese
    assert "接続できません" in japanese
    assert not re.search(r"[A-Za-z.] [をのがはにでへと]", japanese), japanese
    await server.check_form()
    english = _flash(
        (await server.client.get("/admin/licenses", headers={"Accept-Language": "en"})).text
    )
    assert english.count("current license is unchanged") == 1, english


def test_vendor_unreachable_names_its_cause_in_the_readers_language() -> None:
    error = VendorUnreachable(cause="connection failed")
    assert "（接続できません）" in error.message("ja") or "(接続できません)" in error.message("ja")
    assert "(connection failed)" in error.message("en")
    odd = VendorUnreachable(cause="HTTP 502")
    assert "HTTP 502" in odd.message("ja")


def test_an_untrusted_vendor_certificate_is_named_in_one_language() -> None:
    cause = (
        "TLS certificate not trusted: check the system CA store, SSL_CERT_FILE or --vendor-ca-file"
    )
    error = VendorUnreachable(cause=cause)
    assert "証明書を検証できません" in error.message("ja")
    assert "TLS certificate" not in error.message("ja")
    assert not any("\u3040" <= ch <= "\u30ff" for ch in error.message("en"))
