"""The demo's heartbeat loop (issue 23, finding 10): a client removed in the Web manager
made the demo print a wrapped, multi-line error every 5 minutes forever. Now each failure
is one line, a client the server no longer recognises is said once and left alone, and
another failure backs off."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from cssec.demo_processes import Demo, DemoError

REMOVED = (
    "`cssec client heartbeat --dir` failed: error: not_authenticated: サーバがこのクライアントを"
    "認識できません。クライアントがサーバから削除されたか、再インストールが必要です。"
    "管理者にお問い合わせください。"
)
DOWN = "`cssec client heartbeat --dir` failed: error: server_unreachable: " + "x" * 200


def _demo(
    tmp_path: Path, answers: dict[str, str | None], lang: str = "en"
) -> tuple[Demo, io.StringIO, list[str]]:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False)
    demo = Demo(root=tmp_path, console=console, lang=lang)
    demo.clients = [tmp_path / name for name in answers]
    calls: list[str] = []

    def run(*args: str, **_: Any) -> str:
        name = Path(args[-1]).name
        calls.append(name)
        if answers[name] is not None:
            raise DemoError(answers[name])
        return ""

    demo.run = run  # type: ignore[method-assign]
    return demo, out, calls


def test_a_removed_client_is_said_once_on_one_line_then_left_alone(tmp_path: Path) -> None:
    demo, out, calls = _demo(tmp_path, {"demo-pc-01": None, "demo-pc-02": REMOVED})
    for _ in range(5):
        demo.heartbeats()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("demo-pc-02: the server no longer knows this client")
    assert calls.count("demo-pc-02") == 1
    assert calls.count("demo-pc-01") == 5


def test_the_notes_speak_japanese_by_default(tmp_path: Path) -> None:
    demo, out, _ = _demo(tmp_path, {"demo-pc-01": DOWN, "demo-pc-02": REMOVED}, lang="ja")
    demo.heartbeats()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("demo-pc-01: ハートビートに失敗しました（次は2回後に試します）:")
    assert lines[1].startswith("demo-pc-02: サーバがこのクライアントを認識しなくなりました")
    assert "heartbeat failed" not in out.getvalue()
    assert "no longer knows" not in out.getvalue()
    assert Demo(root=tmp_path, console=Console()).lang == "ja"


def test_another_failure_backs_off(tmp_path: Path) -> None:
    demo, out, calls = _demo(tmp_path, {"demo-pc-01": DOWN})
    for _ in range(20):
        demo.heartbeats()
    tries = calls.count("demo-pc-01")
    assert tries == 5  # beats 1, 3, 6, 11, 20: 1, 2, 4, 8 beats skipped in between
    lines = out.getvalue().splitlines()
    assert len(lines) == tries, lines  # one line each, however long
