"""One Alembic history for the server: it builds exactly the models' schema, and goes down."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from cssec.server.models import Base
from cssec.server.storage.datadir import MIGRATIONS, sqlite_engine
from cssec.web.db import database_revisions, script_head, upgrade_to_head


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


def test_the_head_read_without_alembic_is_alembics_head() -> None:
    """upgrade_to_head skips Alembic when the database is at this head: it must be right."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert script_head(MIGRATIONS) == ScriptDirectory.from_config(config).get_current_head()


def test_a_database_behind_the_head_is_still_upgraded(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "server.db")
    try:
        upgrade_to_head(engine, MIGRATIONS)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
        assert database_revisions(engine) != {script_head(MIGRATIONS)}
        upgrade_to_head(engine, MIGRATIONS)
        assert database_revisions(engine) == {script_head(MIGRATIONS)}
    finally:
        engine.dispose()


def test_a_history_it_cannot_read_is_left_to_alembic(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    assert script_head(tmp_path) == "a"
    (versions / "b.py").write_text('revision = "b"\ndown_revision = None\n')
    assert script_head(tmp_path) is None  # two heads
    (versions / "b.py").write_text('revision = make()\ndown_revision = "a"\n')
    assert script_head(tmp_path) is None  # not a literal
    (versions / "b.py").write_text('revision = "b"\ndown_revision = ("a", "c")\n')
    assert script_head(tmp_path) is None  # a parent that is not there
