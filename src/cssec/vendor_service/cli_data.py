"""Which vendor data directory a `cssec vendor` command works on (issue 23, finding 3).

`--data DIR`, else CSSEC_VENDOR_DATA_DIR (what the demo prints), else the per-user
default. A command says on stderr which one it uses when `--data` did not say it, and only
`serve` and `init` make a new database in a directory nobody chose: another command there
refuses (`data_dir_not_chosen`) instead of acting on a fresh, empty vendor.
"""

from __future__ import annotations

from pathlib import Path

from cssec.clikit import DataDirNotChosen, choose_data_dir, say_data_dir
from cssec.vendor_service.settings import VendorSettings, default_data_dir

VARIABLE = "CSSEC_VENDOR_DATA_DIR"


def vendor_settings(data: Path | None, *, creating: bool = False) -> VendorSettings:
    """The settings for `data` (None: the environment or the default), after the note on
    stderr; DataDirNotChosen for a default directory without a database, unless `creating`."""
    choice = choose_data_dir(data, variable=VARIABLE, default=default_data_dir())
    settings = VendorSettings(data_dir=choice.path)
    fresh = settings.database_url is None and not (choice.path / "vendor.db").exists()
    if fresh and choice.source == "default" and not creating:
        raise DataDirNotChosen(  # names the directory itself: the refusal stays one line
            path=str(choice.path),
            part="ライセンスサービス",
            part_en="license service",
            variable=VARIABLE,
            init="cssec vendor init",
        )
    say_data_dir(choice)
    return settings
