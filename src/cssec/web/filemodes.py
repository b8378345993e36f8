"""Files at rest: a data directory is readable by its owner only.

Every database file (SQLite's WAL and shared-memory files are created by SQLite with the
database file's mode, so the database file is created 0600 before SQLite opens it:
`create_private`), every key and every backup is 0600, every directory 0700. A subtree
may be opened to the service's group on purpose (the vendor's ActiveUpdate files, which
nginx sends: 0750 directories, 0640 files); nothing is ever open to other users.

**At start** (`serve`, and whenever an app opens its data directory) `secure_data_dir`
walks the directory and *fixes* a looser mode, logging each fix as a warning (in Japanese
and English: the record carries `message_ja` and `message_en`, which a command prints in
its output language, `cssec.cli_warnings`), rather than
refusing to start. Why a fix and not a refusal: the loose modes met in practice are the
ones earlier versions of cssec wrote (server.db and its WAL were 0644) or that a copy or
a restore made by hand left (`cp -r`, an archive unpacked without `-p`); refusing would
take every upgraded server down over a mode its own user can correct, and the data
directory's owner is the one who may correct it. What the owner cannot correct is
refused: a file or directory owned by another user (someone else controls it: `chown`
it back, or run cssec as its owner). Symbolic links are left alone (never followed).

cssec creates its own files within these modes (`make_private_dirs`, `create_private`,
`core.signing.write_secret_file`), so the fix is for what came from elsewhere, never for
what cssec wrote itself.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cssec.core.errors import CssecError

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


@dataclass(frozen=True)
class Modes:
    """The loosest modes allowed: for the directory itself, and for the directories and
    files below it."""

    root: int = PRIVATE_DIR
    directory: int = PRIVATE_DIR
    file: int = PRIVATE_FILE


GROUP_READABLE = Modes(root=0o750, directory=0o750, file=0o640)
"""A subtree shared with the service's group (nginx sends the vendor's ActiveUpdate files)."""


@dataclass(frozen=True)
class Fixed:
    path: Path
    before: int
    after: int

    def message(self, lang: str) -> str:
        """The warning, in `lang` (ja or en)."""
        if lang == "ja":
            return (
                f"{self.path}のファイルモードが{self.before:04o}だったため{self.after:04o}に"
                "直しました（データファイルは所有者だけが使います）"
            )
        return (
            f"file mode of {self.path} was {self.before:04o}, now {self.after:04o} "
            "(data files are for their owner only)"
        )


class DataDirNotOwned(CssecError):
    code = "data_dir_not_owned"
    status = 500
    message_ja = (
        "{path}の所有者 (uid {owner})が、cssecを実行しているユーザー (uid {uid})と異なるため"
        "起動できません。別のユーザーが管理しているデータは使用しません。「chown -R」で所有者を"
        "戻すか、データディレクトリの所有者としてcssecを実行してください。"
    )
    message_en = (
        "{path} is owned by uid {owner}, not by the user running cssec (uid {uid}); data "
        "another user controls is not used. Give it back with `chown -R`, or run cssec as "
        "the data directory's owner."
    )


def make_private_dirs(path: Path, *, mode: int = PRIVATE_DIR) -> None:
    """`mkdir -p` with every directory it creates 0700 (or `mode`, as GROUP_READABLE's
    0750; `Path.mkdir(parents=True, mode=…)` gives the parents the umask's mode), so a data
    directory never needs a fix-up later."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=mode, exist_ok=True)
        os.chmod(directory, mode)


def create_private(path: Path) -> None:
    """Create `path` empty and 0600 if it does not exist (never through a symbolic link),
    so that SQLite, opening it next, and its -wal and -shm files are private too."""
    flags = os.O_CREAT | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(path, flags, PRIVATE_FILE))


def secure_data_dir(
    root: Path, *, root_mode: int = PRIVATE_DIR, shared: Mapping[str, Modes] | None = None
) -> list[Fixed]:
    """Bring every mode under `root` within what is allowed (see the module docstring);
    the fixes made, each logged. `root_mode` is the loosest mode of `root` itself;
    `shared` names top-level subtrees with their own `Modes`. DataDirNotOwned for an
    entry another user owns (checked before anything is changed). Nothing when `root`
    does not exist."""
    if not root.is_dir():
        return []
    plan: list[tuple[Path, os.stat_result, int]] = []
    uid = os.geteuid()
    shared = shared or {}
    plan.append((root, root.lstat(), root_mode))
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        top = here.relative_to(root).parts[:1]
        for name in sorted(dirs) + sorted(files):
            path = here / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            modes = shared.get(top[0] if top else name, Modes())
            is_dir = stat.S_ISDIR(info.st_mode)
            plan.append((path, info, modes.directory if is_dir else modes.file))
    for path, info, _allowed in plan:
        if uid not in {0, info.st_uid}:  # root may fix anything
            raise DataDirNotOwned(path=str(path), owner=info.st_uid, uid=uid)
    fixed: list[Fixed] = []
    for path, info, allowed in plan:
        mode = stat.S_IMODE(info.st_mode)
        if mode & ~allowed:
            os.chmod(path, mode & allowed)  # not a symbolic link: lstat above
            fix = Fixed(path, mode, mode & allowed)
            fixed.append(fix)
            said = {"message_ja": fix.message("ja"), "message_en": fix.message("en")}
            log.warning("%s", said["message_en"], extra=said)
    return fixed


__all__ = [
    "GROUP_READABLE",
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "DataDirNotOwned",
    "Fixed",
    "Modes",
    "create_private",
    "make_private_dirs",
    "secure_data_dir",
]
