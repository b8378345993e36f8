from pathlib import Path

import pytest

from cssec.web.i18n import Catalogs, current_language, negotiate


@pytest.mark.parametrize(
    ("header", "cookie", "expected"),
    [
        (None, None, "ja"),
        ("", None, "ja"),
        ("en-US,en;q=0.9", None, "en"),
        ("ja,en;q=0.5", None, "ja"),
        ("fr-FR,en;q=0.8,ja;q=0.9", None, "ja"),
        ("fr-FR,en;q=0.8", None, "en"),
        ("en;q=0", None, "ja"),
        ("de", None, "ja"),
        ("en;q=abc", None, "ja"),
        ("en-US", "ja", "ja"),
        (None, "en", "en"),
        ("ja", "xx", "ja"),
    ],
)
def test_negotiate_prefers_the_users_choice_then_the_browser_then_japanese(
    header: str | None, cookie: str | None, expected: str
) -> None:
    assert negotiate(header, cookie) == expected


def test_catalogs_compile_po_files_in_memory(tmp_path: Path) -> None:
    po_dir = tmp_path / "ja" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    (po_dir / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Product License"\nmsgstr "製品ライセンス"\n\n'
        'msgid "Hello %(name)s"\nmsgstr "こんにちは %(name)s"\n',
        encoding="utf-8",
    )
    catalogs = Catalogs(tmp_path)
    token = current_language.set("ja")
    try:
        assert catalogs.gettext("Product License") == "製品ライセンス"
        assert catalogs.gettext("Hello %(name)s", name="admin") == "こんにちは admin"
    finally:
        current_language.reset(token)
    token = current_language.set("en")
    try:
        assert catalogs.gettext("Product License") == "Product License"
    finally:
        current_language.reset(token)
