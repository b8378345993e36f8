"""Database engines and Alembic upgrades for the apps' own migration histories."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text

VERSION_TABLE = "alembic_version"
"""Alembic's default; neither migrations/env.py names another."""
_NOT_LITERAL = object()
MIGRATION_LOCK = 0x63737365635F6D67  # "cssec_mg": the PostgreSQL advisory lock of upgrades


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def upgrade_to_head(engine: Engine, script_location: Path) -> None:
    """Applies the app's Alembic history on `engine` (idempotent).

    A database already at the history's one head is left as it is without importing
    Alembic (and the migration scripts and Mako it loads): about 10 MB that a server or
    a CLI command would otherwise carry for nothing. Anything else (a fresh database,
    an older revision, a history this cannot read) goes through Alembic as before.
    """
    head = script_head(script_location)
    if head is not None and database_revisions(engine) == {head}:
        return
    from alembic import command  # noqa: PLC0415 - only when there is something to do
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # N nodes starting at once: one migrates, the others wait here (until its
            # commit) and then find nothing left to do. SQLite: one host, its write lock.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def script_head(script_location: Path) -> str | None:
    """The one head revision of the history in `script_location`/versions, read from the
    scripts' literal `revision` and `down_revision` assignments without importing them
    (as Alembic lists them: every *.py but __init__ and editor lock files).

    None when that cannot be told for sure: no scripts, a script without a literal
    revision, or several heads. The caller then leaves the decision to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = script_location / "versions"
    if not versions.is_dir():
        return None
    for script in versions.glob("*.py"):
        if script.name.startswith(("__init__", ".#")):
            continue
        values = _literal_assignments(script, {"revision", "down_revision"})
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or revision in revisions:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
            parents.update(down)
        elif down is not None:
            return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _literal_assignments(script: Path, names: set[str]) -> dict[str, Any]:
    """The module-level `name = <literal>` (or annotated) assignments of `names`."""
    try:
        tree = ast.parse(script.read_bytes(), filename=str(script))
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = _NOT_LITERAL
    return found


def database_revisions(engine: Engine) -> set[str]:
    """The revisions Alembic recorded in the database (empty when it never ran)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return {str(row[0]) for row in rows}
