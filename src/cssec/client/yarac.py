"""The pattern compiler, run as a short-lived child: ``python -m cssec.client.yarac [OUT]``.

Compiling YARA rules takes many times the memory the compiled rules then need (a pattern
of 2,000 rules: about 10 MB to compile, 2 MB loaded), and the peak stays with a process
for the rest of its life. So the client's long-running processes never compile: this
child does, and exits. It reads ``{namespace: source}`` as JSON on stdin, compiles each
source on its own only when the whole set fails (to tell which ones do not compile),
saves the rules of those that do to OUT when OUT is given (`yara.Rules.save`, compressed
with zlib: a compiled rule holds its strings as they are, so an uncompressed file would be
found by the very patterns it holds when a scan walks the client's data directory; 0600,
by rename), and writes ``{"errors": {namespace: why}}`` as JSON on stdout. Any other exit than
0 is a failure of the compiler itself, never a verdict on a pattern
(`cssec.client.rules` turns it into one).

Imports only the standard library and yara: the child's own footprint is the compile's.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zlib
from typing import Any

import yara


def _compile(sources: dict[str, str]) -> Any:
    return yara.compile(sources=sources, includes=False)


def compile_sources(sources: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The rules of every source that compiles (None when none does), and why each other
    one does not. The whole set is tried first: one compile when all is well."""
    if not sources:
        return None, {}
    try:
        return _compile(sources), {}
    except yara.Error as whole:
        if len(sources) == 1:
            return None, {next(iter(sources)): str(whole)}
    errors: dict[str, str] = {}
    for namespace, source in sources.items():
        try:
            _compile({namespace: source})
        except yara.Error as exc:
            errors[namespace] = str(exc)
    good = {ns: source for ns, source in sources.items() if ns not in errors}
    return (_compile(good) if good else None), errors


def _save(rules: Any, out: str) -> None:
    compiled = io.BytesIO()
    rules.save(file=compiled)
    partial = f"{out}.{os.getpid()}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(zlib.compress(compiled.getvalue()))
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def main(argv: list[str]) -> int:
    sources = json.load(sys.stdin)
    if not isinstance(sources, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in sources.items()
    ):
        sys.stderr.write("stdin must be a JSON object of namespace to source\n")
        return 2
    rules, errors = compile_sources(sources)
    if argv and rules is not None:
        _save(rules, argv[0])
    json.dump({"errors": errors}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
