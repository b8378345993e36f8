"""Writing the files a person hands on (`--out`): never over an existing file, never
through a symbolic link, unless `--force`.

Without force the file is created with O_CREAT|O_EXCL|O_NOFOLLOW: an existing file, and a
symbolic link (even one pointing nowhere), make the open fail, so a link planted at the
name cannot redirect the write elsewhere and a file written earlier is not lost. With
force the data goes to a new temporary file in the same directory, which is then renamed
over the name: a symbolic link there is replaced, its target left alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cssec.core.errors import CssecError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class OutputExists(CssecError):
    code = "output_exists"
    status = 409
    message_ja = (
        "{path}は既にあります (またはシンボリックリンクです)。何も書き込んでいません。"
        "別のファイル名を指定するか、置き換えてよければ--forceを付けてください。"
    )
    message_en = (
        "{path} already exists (or is a symbolic link); nothing was written. Choose another "
        "file name, or add --force to replace it."
    )


def write_new_file(path: Path, data: bytes, *, mode: int = 0o600, force: bool = False) -> None:
    """Write `data` to `path` with `mode` (before the umask); OutputExists when `path`
    exists or is a symbolic link and not `force`."""
    path = Path(path)
    if not force:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
        except FileExistsError:
            raise OutputExists(path=str(path)) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


__all__ = ["OutputExists", "write_new_file"]
