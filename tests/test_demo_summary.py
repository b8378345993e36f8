"""What `cssec demo` prints, in either language: Japanese by default (`cssec demo`), English
with `--lang en`; the values a user pastes or compares (URLs, logins, fingerprints, commands,
paths) are the same in both and never wrapped. demo.json stays as it is (machine-readable)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cssec.demo import demo_directory
from cssec.demo_processes import Demo, DemoError, wait_until_up
from cssec.demo_summary import print_summary

FINGERPRINT = "sha256:" + "ab" * 32
TOTP_URI = "otpauth://totp/cssec:support?secret=" + "A" * 32 + "&issuer=cssec"


def _summary(root: Path) -> dict[str, Any]:
    return {
        "vendor_url": "https://127.0.0.1:8100",
        "server_url": "https://127.0.0.1:8443",
        "server_fingerprint": FINGERPRINT,
        "server_cert": str(root / "server" / "tls-cert.pem"),
        "vendor_cert": str(root / "vendor-cert.pem"),
        "server_admin": {"user": "admin", "password": "adm-pass-123"},
        "console_staff": {
            "user": "support",
            "password": "staff-pass-456",
            "totp_secret": "A" * 32,
            "totp_uri": TOTP_URI,
        },
        "registration_key": "CSSEC-KEY-0001",
        "clients": [str(root / "client-1"), str(root / "client-2")],
        "client_names": ["demo-pc-01", "demo-pc-02"],
        "portal_url": "https://127.0.0.1:8100/portal/",
        "portal_contact": "joho-system@demo-shoji.example",
        "mail_url": "http://127.0.0.1:8025/",
        "smtp": "127.0.0.1:1025",
        "vendor_data": str(root / "vendor"),
        "server_data": str(root / "server"),
    }


def _printed(tmp_path: Path, lang: str, width: int = 60) -> str:
    """Narrow by default: the unwrapped lines must stay whole however narrow the terminal."""
    console = Console(record=True, width=width, file=open(tmp_path / f"out-{lang}", "w"))  # noqa: SIM115
    print_summary(console, tmp_path, _summary(tmp_path), lang)
    console.file.close()
    return console.export_text()


def test_the_summary_is_japanese_by_default_with_the_values_unchanged(tmp_path: Path) -> None:
    text = _printed(tmp_path, "ja", width=200)  # the table's labels unwrapped
    lines = _printed(tmp_path, "ja").splitlines()
    for label in ("Webマネージャ", "サーバ証明書の指紋", "法人お問合せ窓口のコンソール",
                  "コンソールの2段階認証", "お客様ポータル", "受信メール",
                  "レジストレーションキー", "クライアント", "データとログ"):  # fmt: skip
        assert label in text, label
    for english in ("Web manager", "Server certificate", "Support desk", "Customer portal",
                    "Received mail", "Registration key", "Data and logs", "Try (",
                    "In another terminal", "An offline server"):  # fmt: skip
        assert english not in text, english
    assert f"サーバ証明書の指紋: {FINGERPRINT}" in lines
    assert "Webマネージャ: https://127.0.0.1:8443/" in lines
    assert "お客様ポータル: https://127.0.0.1:8100/portal/" in lines
    assert "受信メール: http://127.0.0.1:8025/" in lines
    assert f"コンソールの2段階認証: {TOTP_URI}" in lines
    assert f"  export CSSEC_VENDOR_DATA_DIR={tmp_path / 'vendor'}" in lines
    assert any(line.startswith("このサーバの隣にオフラインのサーバを作る手順") for line in lines)
    assert any(line.strip().endswith("--port 8444") for line in lines)


def test_the_summary_in_english_has_the_same_values(tmp_path: Path) -> None:
    ja, en = _printed(tmp_path, "ja"), _printed(tmp_path, "en")
    lines = en.splitlines()
    assert f"Server certificate: {FINGERPRINT}" in lines
    assert "Web manager: https://127.0.0.1:8443/" in lines
    assert "Customer portal: https://127.0.0.1:8100/portal/" in lines
    assert "Received mail: http://127.0.0.1:8025/" in lines
    assert f"Support desk TOTP: {TOTP_URI}" in lines
    assert any(line.startswith("An offline server beside this one") for line in lines)
    assert not any("\u3040" <= ch <= "\u30ff" for ch in _printed(tmp_path, "en", width=200))

    # The commands and paths to paste: the same lines in both languages.
    def commands(text: str) -> list[str]:
        return [
            line for line in text.splitlines() if line.startswith(("  export", "  CODE", "  /"))
        ]

    assert len(commands(ja)) == 10
    assert commands(ja) == commands(en)


def test_a_demo_error_speaks_the_chosen_language(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    for lang, expected in (
        (
            "ja",
            f"{tmp_path}は空ではありません。空のディレクトリか新しいディレクトリを選んでください",
        ),
        ("en", f"{tmp_path} is not empty; choose an empty or new directory"),
    ):
        with pytest.raises(DemoError) as raised, demo_directory(tmp_path, lang):
            pass
        assert str(raised.value) == expected
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    with pytest.raises(DemoError, match="の応答を待つ間にプロセスが終了しました"):
        wait_until_up("https://127.0.0.1:9/", [exited], lang="ja")
    with pytest.raises(DemoError, match="a process exited while waiting"):
        wait_until_up("https://127.0.0.1:9/", [exited], lang="en")


@pytest.mark.parametrize(
    ("lang", "quoted", "failed"),
    [("ja", "「cssec client heartbeat --dir」", "が失敗しました: "),
     ("en", "`cssec client heartbeat --dir`", " failed: ")],
)  # fmt: skip
def test_the_demo_commands_speak_its_language(
    tmp_path: Path, lang: str, quoted: str, failed: str
) -> None:
    demo = Demo(root=tmp_path, console=Console(), lang=lang)
    with pytest.raises(DemoError) as raised:
        demo.run("client", "heartbeat", "--dir", str(tmp_path / "missing"))
    said = str(raised.value)
    assert said.startswith(f"{quoted}{failed}"), said
    reason = said.split(failed, 1)[1]
    has_japanese = any("\u3040" <= ch <= "\u30ff" for ch in reason)
    assert has_japanese == (lang == "ja"), reason
