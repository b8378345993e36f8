"""The runnable blocks of README.md and docs/journeys.md, read as a person reads them.

A fenced block whose info string is ``sh journey=NAME`` is shell, run as printed; one whose
info string is ``page journey=NAME`` is what the person does in the browser, one step a line:

- ``open URL``: open the page (``$VAR`` / ``${VAR}`` are the shell's variables so far);
- ``sign-in USER PASSWORD_FILE``: the sign-in form the page shows, filled in;
- ``see TEXT``: the page shows TEXT;
- ``fill LABEL = VALUE``: type VALUE into the field labelled LABEL;
- ``upload LABEL = FILE``: choose FILE (in the journey's directory) in the file field LABEL;
- ``download FILE LABEL``: press the button LABEL and save what it downloads as FILE;
- ``press LABEL``: press the button (or follow the link) labelled LABEL;
- ``read VAR SELECTOR``: what the page shows in SELECTOR (CSS) becomes the shell variable
  VAR of the blocks that follow (the docs say, in words, where to read it).

Blocks of one name are one journey, run in the order they appear (README.md first, then
docs/journeys.md); the journeys run in the order they first appear, in one shell session
as a person keeps one terminal open: every variable a block sets is there in the next one.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SOURCES = (REPO / "README.md", REPO / "docs" / "journeys.md")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<info>.*)$")
MARKER = re.compile(r"^(?P<kind>sh|page)\s+journey=(?P<name>[\w-]+)\s*$")
PAGE_VERBS = frozenset(
    {"open", "sign-in", "see", "fill", "upload", "download", "press", "read", "within", "check"}
)


@dataclass(frozen=True)
class Block:
    kind: str
    journey: str
    source: Path
    line: int
    text: str

    @property
    def where(self) -> str:
        shown = self.source.relative_to(REPO) if self.source.is_relative_to(REPO) else self.source
        return f"{shown}:{self.line}"


@dataclass
class Journey:
    name: str
    blocks: list[Block] = field(default_factory=list)


def read_blocks(path: Path) -> list[Block]:
    """The marked blocks of one Markdown file, in order."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index].strip())
        if opened is None:
            index += 1
            continue
        fence, start = opened["fence"], index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1
        marked = MARKER.match(opened["info"].strip())
        if marked is not None:
            blocks.append(
                Block(marked["kind"], marked["name"], path, start + 1, "\n".join(body) + "\n")
            )
    return blocks


def collect(sources: tuple[Path, ...] = SOURCES) -> list[Journey]:
    journeys: dict[str, Journey] = {}
    for path in sources:
        for block in read_blocks(path):
            journeys.setdefault(block.journey, Journey(block.journey)).blocks.append(block)
    return list(journeys.values())


def page_steps(block: Block) -> list[list[str]]:
    """A page block's steps, each [verb, *arguments]; a malformed line is the docs' error."""
    steps = []
    for raw in block.text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        verb, _, rest = line.partition(" ")
        if verb not in PAGE_VERBS:
            raise ValueError(f"{block.where}: unknown page step {line!r}")
        rest = rest.strip()
        if verb in {"sign-in", "read", "download"}:
            first, _, second = rest.partition(" ")
            steps.append([verb, first, second.strip()])
        elif verb in {"fill", "upload"}:
            label, equals, value = rest.partition(" = ")
            if not equals:
                raise ValueError(f"{block.where}: write `fill LABEL = VALUE`: {line!r}")
            steps.append([verb, label.strip(), value.strip()])
        else:
            steps.append([verb, rest])
    return steps


_VAR = re.compile(r"\$(?:\{(?P<braced>\w+)\}|(?P<plain>\w+))")


def expand(text: str, env: dict[str, str]) -> str:
    """$VAR and ${VAR} from the shell's variables; an unknown one is an error, not ""."""

    def value(match: re.Match[str]) -> str:
        name = match["braced"] or match["plain"]
        if name not in env:
            raise KeyError(f"{name} is not set by an earlier block")
        return env[name]

    return _VAR.sub(value, text)


def shell_script(block: Block, state: Path) -> str:
    """The block as printed, between reading and writing the session's variables (`set -a`
    exports every assignment, as in one terminal where the next command sees them)."""
    quoted = shlex.quote(str(state))
    keep = "grep -v -E '^declare -x (" + "|".join(SHELL_OWN) + ")(=|$)'"
    return (
        "set -euo pipefail\nset -a\n"
        f"source {quoted}\n"
        f"_journey_save() {{ export -p | {keep} > {quoted}.new; mv {quoted}.new {quoted}; }}\n"
        "trap _journey_save EXIT\n"
        f"{block.text}"
    )


SHELL_OWN = ("PWD", "OLDPWD", "SHLVL", "_")
"""Variables bash keeps itself: never carried from one block to the next (PWD above all:
each block starts in the journey's directory, as the docs' relative paths expect)."""


def read_state(state: Path) -> dict[str, str]:
    """The variables `export -p` wrote (values as bash quoted them)."""
    env: dict[str, str] = {}
    for line in state.read_text(encoding="utf-8").splitlines():
        match = re.match(r"declare -x (\w+)=(.*)$", line)
        if match:
            env[match[1]] = shlex.split(match[2])[0] if match[2] != '""' else ""
    return env


def initial_state(state: Path, env: dict[str, str]) -> None:
    state.write_text(
        "".join(
            f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()) if k not in SHELL_OWN
        ),
        encoding="utf-8",
    )


def run_page_block(page: Any, block: Block, env: dict[str, str], cwd: Path) -> dict[str, str]:
    """Do what a page block says in Playwright's `page`; returns the variables it read."""
    read: dict[str, str] = {}
    scope = page.locator("body")  # `within SELECTOR` narrows fill/check/press to one part
    for step in page_steps(block):
        verb = step[0]
        where = f"{block.where}: {' '.join(step)}"
        if verb == "within":
            scope = page.locator(step[1]).first
            assert scope.count() == 1, f"{where}: no {step[1]} on {page.url}"
        elif verb == "check":
            scope.get_by_label(step[1]).first.check()
        elif verb == "open":
            scope = page.locator("body")
            response = page.goto(expand(step[1], {**env, **read}))
            assert response is not None, where
            assert response.status < 400, f"{where}: {response.status}"
        elif verb == "sign-in":
            password_file = cwd / expand(step[2], env)
            password = password_file.read_text(encoding="utf-8").splitlines()[0]
            page.fill("#username", step[1])
            page.fill("#password", password)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state()
            assert "/login" not in page.url, f"{where}: still at {page.url}"
        elif verb == "see":
            text = expand(step[1], {**env, **read})
            body = page.locator("body").inner_text()
            assert text in body, f"{where}: not on {page.url}:\n{body[:3000]}"
        elif verb == "fill":
            scope.get_by_label(step[1], exact=True).fill(expand(step[2], {**env, **read}))
        elif verb == "upload":
            page.get_by_label(step[1], exact=True).set_input_files(cwd / expand(step[2], env))
        elif verb == "download":
            with page.expect_download() as download:
                page.get_by_role("button", name=step[2]).click()
            download.value.save_as(cwd / expand(step[1], env))
        elif verb == "press":
            scope.get_by_role("button", name=step[1]).or_(
                scope.get_by_role("link", name=step[1])
            ).first.click()
            page.wait_for_load_state()
            scope = page.locator("body")
        elif verb == "read":
            found = page.locator(step[2]).first.inner_text().strip()
            assert found, f"{where}: nothing in {step[2]} on {page.url}"
            read[step[1]] = found
    return read


def append_state(state: Path, values: dict[str, str]) -> None:
    with state.open("a", encoding="utf-8") as handle:
        for name, value in values.items():
            handle.write(f"export {name}={shlex.quote(value)}\n")


def base_env(bin_dir: Path) -> dict[str, str]:
    """The environment of a person who activated the venv: no CSSEC_ setting of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSSEC_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("VIRTUAL_ENV", None)
    return env
