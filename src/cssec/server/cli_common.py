"""What every `cssec server …` command module shares: the --data, --lang and --force
options, the data directory a command works on, the installed server's license
environment, and `guarded`, the wrapper each command runs in.

`guarded` names a database or OS failure after the data directory (a full disk is named as
such, exit 2), and prints the warnings the command logged only when it succeeds, so a
failure stays one line. `vendor_transport` is the one hook tests replace to reach an
in-process vendor.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import httpx
import typer

from cssec.cli_warnings import warning_line, warning_text
from cssec.clikit import (
    LANG_HELP,
    Fault,
    Language,
    choose_data_dir,
    current_language,
    say_data_dir,
)
from cssec.core.clock import SystemClock, zone
from cssec.core.errors import CssecError
from cssec.server.licensing.clockguard import server_info
from cssec.server.licensing.env import LicenseEnv
from cssec.server.licensing.errors import NotInstalled
from cssec.server.licensing.vendor_client import VendorClient
from cssec.server.settings import ServerSettings, default_data_dir
from cssec.server.storage.datadir import DataDir, open_database
from cssec.server.storage.errors import STORAGE_ERRORS, storage_error
from cssec.server.tls.vendor import VendorTls

T = TypeVar("T")
P = ParamSpec("P")
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory (default: per-user).")
]
LangOption = Annotated[
    Language | None, typer.Option("--lang", case_sensitive=False, help=LANG_HELP)
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace an existing file (a link is replaced, not followed)."),
]


def vendor_transport() -> httpx.AsyncBaseTransport | None:
    """The transport for vendor calls; tests replace this to reach an in-process vendor."""
    return None


def explain_storage(exc: BaseException, data: object) -> CssecError | None:
    """A database or OS failure, named after the data directory (None: not one of those)."""
    return storage_error(exc, path=_data_path(data)) if isinstance(exc, STORAGE_ERRORS) else None


def _data_path(data: object) -> Path | str:
    """The data directory a command works on, for naming it in an error."""
    if isinstance(data, Path):
        return data
    try:
        return server_settings(None).data_dir
    except Exception:  # only for the message; the settings error is not ours
        return "?"


class _Warnings(logging.Handler):
    """Collects the warnings cssec logs during a command, each as one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def guarded(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command: a database or an OS failure becomes a `Fault` naming its data
    directory (one line, exit 2); its warnings are printed only when it succeeds."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        warnings = _Warnings()
        logger = logging.getLogger("cssec")
        logger.addHandler(warnings)
        try:
            command(*args, **kwargs)
        except STORAGE_ERRORS as exc:
            error = explain_storage(exc, kwargs.get("data"))
            if error is None:  # pragma: no cover - STORAGE_ERRORS are all explained
                raise
            raise Fault(error) from None
        finally:
            logger.removeHandler(warnings)
        lang = current_language()
        for record in warnings.records:
            typer.echo(warning_line(warning_text(record, lang), lang), err=True)

    return run


def run_async(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


def server_settings(data: Path | None) -> ServerSettings:
    return ServerSettings(data_dir=data) if data is not None else ServerSettings()


def chosen_dir(data: Path | None, *, install: bool = False) -> Path:
    """`--data`, else CSSEC_SERVER_DATA_DIR, else the per-user default, said on stderr when
    `--data` did not say it (a server is made only by `install`, never by another command)."""
    choice = choose_data_dir(data, variable="CSSEC_SERVER_DATA_DIR", default=default_data_dir())
    if install or DataDir(choice.path).is_installed():  # else NotInstalled names it, one line
        say_data_dir(choice)
    return choice.path


def open_env(data: Path | None) -> LicenseEnv:
    """The installed server's license environment (NotInstalled when there is none)."""
    return _env(server_settings(chosen_dir(data)))


def _env(settings: ServerSettings) -> LicenseEnv:
    data = DataDir(settings.data_dir)
    if not data.is_installed():
        raise NotInstalled(path=str(settings.data_dir))
    _engine, sessions = open_database(data)
    with sessions() as session:
        url = settings.vendor_url or server_info(session).vendor_url
    transport = vendor_transport()
    tls = VendorTls.load(data)

    def vendor() -> VendorClient:
        return VendorClient(
            url,
            transport=transport,
            proxy=settings.http_proxy,
            timeout=settings.vendor_timeout_seconds,
            tls=tls,
        )

    return LicenseEnv(
        sessionmaker=sessions,
        clock=SystemClock(),
        tz=zone(settings.timezone),
        data=data,
        vendor=vendor if url else None,
        seat_window_days=settings.seat_window_days,
    )
