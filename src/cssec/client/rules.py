"""Pattern rules compiled in a short-lived child (`cssec.client.yarac`), loaded here.

Compiling a pattern costs several times the memory its compiled rules then take, and a
process keeps its peak for the rest of its life: the real-time scan runs for weeks. So
every compile (an update's check of a new pattern, an engine's rules) happens in a child
that exits, and this process only loads the result (`yara.load`). A child that crashes,
is killed or does not finish in COMPILE_TIMEOUT_SECONDS is `CompilerFailed`, with a
reason in both languages: the caller treats it as that pattern not loading (an update
keeps the current components, a scan reports it), never as its own crash.

Compiled rules are kept in the client's data directory (compressed: `cssec.client.yarac`),
named by the hashes of their sources and the YARA version, so a scan after the first with
the same components only loads them; a damaged file is compiled again. Only the client
writes there (0700): loading a compiled file trusts that directory as the client trusts
the token kept in it, since YARA's compiled format is no boundary against a hostile file.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cssec.core.errors import Phrase

COMPILER = [sys.executable, "-P", "-m", "cssec.client.yarac"]
"""`-P`: the working directory (maybe a folder being scanned) never shadows a module."""
COMPILE_TIMEOUT_SECONDS = 300.0
"""Far above a real compile (20,000 rules: under a second), below a stuck update's patience."""
COMPILED_SUFFIX = ".yarc.z"
"""Compiled rules, compressed (`cssec.client.yarac`)."""
NOT_UTF8 = "pattern is not UTF-8"
PATTERN_ERROR = "pattern does not compile"


class CompilerFailed(Exception):
    """The compiler child did not give an answer: no verdict on the pattern itself."""

    def __init__(self, reason: Phrase) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True)
class Compiled:
    rules: Any
    """`yara.Rules` of the sources that compile, None when none does."""
    errors: dict[str, str]
    """Why each other source does not compile, by namespace."""


def _failed(exit_status: int) -> CompilerFailed:
    how = (
        Phrase(f"シグナル {-exit_status}", f"signal {-exit_status}")
        if exit_status < 0
        else Phrase(f"終了コード {exit_status}", f"exit status {exit_status}")
    )
    return CompilerFailed(
        Phrase(
            f"パターンファイルをコンパイルするプロセスが異常終了しました（{how.ja}）",
            f"the process compiling the pattern crashed ({how.en})",
        )
    )


def run_compiler(
    sources: Mapping[str, str], out: Path | None, *, timeout: float | None = None
) -> dict[str, str]:
    """Compile `sources` in a child, saving the rules of those that compile to `out` when
    given; returns why each other one does not. CompilerFailed when the child gave no answer."""
    limit = COMPILE_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        done = subprocess.run(  # noqa: S603 - our own module, the output path we chose
            [*COMPILER, *([str(out)] if out is not None else [])],
            input=json.dumps(dict(sources)).encode("utf-8"),
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CompilerFailed(
            Phrase(
                f"パターンファイルのコンパイルが{limit:g}秒以内に終わりませんでした",
                f"compiling the pattern did not finish within {limit:g} s",
            )
        ) from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise CompilerFailed(
            Phrase(
                f"パターンファイルをコンパイルするプロセスを起動できませんでした（{why}）",
                f"the process compiling the pattern could not start ({why})",
            )
        ) from None
    if done.returncode != 0:
        raise _failed(done.returncode)
    try:
        errors = json.loads(done.stdout)["errors"]
    except (ValueError, KeyError, TypeError):
        errors = None
    if not isinstance(errors, dict):
        raise _failed(done.returncode)
    return {str(k): str(v) for k, v in errors.items()}


def check_pattern(data: bytes) -> str | Phrase | None:
    """Why `data` cannot serve as a pattern, or None when it compiles."""
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    try:
        errors = run_compiler({"pattern": source}, None)
    except CompilerFailed as exc:
        return exc.reason
    error = errors.get("pattern")
    return None if error is None else f"{PATTERN_ERROR}: {error}"


def _load(path: Path) -> Any:
    """The rules `cssec.client.yarac` saved at `path`, None when missing or damaged."""
    import yara  # noqa: PLC0415 - commands that never scan do without it

    try:
        return yara.load(file=io.BytesIO(zlib.decompress(path.read_bytes())))
    except (OSError, zlib.error, yara.Error):
        return None


def cache_key(sources: Mapping[str, str]) -> str:
    import yara  # noqa: PLC0415

    digests = {ns: hashlib.sha256(src.encode("utf-8")).hexdigest() for ns, src in sources.items()}
    body = json.dumps({"yara": yara.__version__, "sources": digests}, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def load_rules(sources: Mapping[str, str], cache_dir: Path | None) -> Compiled:
    """The rules of `sources`: loaded from `cache_dir` when compiled before, else compiled
    in a child (and kept there when every source compiled). CompilerFailed as
    `run_compiler`."""
    if not sources:
        return Compiled(None, {})
    if cache_dir is None:
        with tempfile.TemporaryDirectory(prefix="cssec-rules-") as tmp:
            return _compile_and_load(sources, Path(tmp) / f"rules{COMPILED_SUFFIX}")
    path = cache_dir / f"{cache_key(sources)}{COMPILED_SUFFIX}"
    rules = _load(path)
    if rules is not None:
        return Compiled(rules, {})
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    compiled = _compile_and_load(sources, path)
    if compiled.errors:
        path.unlink(missing_ok=True)  # the errors are not kept: such a set compiles each time
    else:
        _prune(cache_dir, keep=path)
    return compiled


def _compile_and_load(sources: Mapping[str, str], path: Path) -> Compiled:
    """Compiled at `path`, then loaded; compiled again once when the file went meanwhile
    (another process, on other components, pruned it: `_prune`)."""
    for _ in range(2):
        errors = run_compiler(sources, path)
        if len(errors) == len(sources):
            return Compiled(None, errors)
        rules = _load(path)
        if rules is not None:
            return Compiled(rules, errors)
    raise CompilerFailed(
        Phrase(
            "コンパイルしたパターンファイルを読み込めませんでした",
            "the compiled pattern could not be loaded",
        )
    )


def _prune(cache_dir: Path, *, keep: Path) -> None:
    """Rules of earlier components go: a process still scanning with them holds them in memory."""
    for stale in cache_dir.glob(f"*{COMPILED_SUFFIX}"):
        if stale != keep:
            stale.unlink(missing_ok=True)
