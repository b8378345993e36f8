"""One Alembic history for the server: it builds exactly the models' schema, and goes down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cssec.server.datadir import MIGRATIONS, sqlite_engine
from cssec.server.models import Base
from cssec.web.db import upgrade_to_head


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "server.db")
    try:
        upgrade_to_head(engine, MIGRATIONS)
        upgrade_to_head(engine, MIGRATIONS)  # idempotent
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            assert compare_metadata(context, Base.metadata) == []
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_version_files_are_named_by_date_and_slug() -> None:
    names = [p.name for p in (MIGRATIONS / "versions").glob("*.py")]
    assert names
    for name in names:
        date_part, _, rest = name.partition("_")
        assert len(date_part) == 10
        assert date_part[4] == "-"
        assert rest.endswith(".py")
