"""One Alembic history that matches the models on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cssec.vendor_service.models import Base
from cssec.vendor_service.runtime import MIGRATIONS, database_url
from cssec.vendor_service.settings import VendorSettings
from cssec.web.db import make_engine, upgrade_to_head


def test_history_matches_models_and_is_idempotent(tmp_path: Path, database_url_: str) -> None:
    engine = make_engine(database_url_)
    try:
        upgrade_to_head(engine, MIGRATIONS)
        upgrade_to_head(engine, MIGRATIONS)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert "alembic_version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_version_files_are_named_by_date_slug_rev() -> None:
    names = [p.name for p in (MIGRATIONS / "versions").glob("*.py")]
    assert names
    for name in names:
        day, _rest = name.split("_", 1)
        assert len(day) == 10
        assert day[4] == day[7] == "-"


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = VendorSettings(data_dir=tmp_path)
    assert database_url(settings) == f"sqlite+pysqlite:///{tmp_path / 'vendor.db'}"
