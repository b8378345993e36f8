"""Reserving row ids and inserting rows in bulk, inside the caller's transaction.

Rows are given by column: a `Same` value shared by every row, or a sequence with one
value a row (ids as `range`s, codes as lists of strings).

SQLite: ids are max(id)+1 onwards, safe because the vendor engine opens every
transaction with BEGIN IMMEDIATE (any other writer waits for our commit; on an engine
without that, a concurrent writer makes our insert fail, never collide). A chunk goes in
as ONE prepared INSERT … SELECT over a recursive CTE that counts the rows: ids are
`start + i`, codes are slices of one blob, constants are bound once. That binds three
parameters a chunk instead of seven a row and is ~2.5x faster than executemany, which
remains the fallback for columns of any other shape.

PostgreSQL: the batch first locks the tables it fills (EXCLUSIVE: other writers wait
for the commit, readers do not), after which no one else can draw from their sequences,
so one setval(nextval + count - 1) reserves a run of ids. Rows go in with COPY. A
foreign key check is a trigger that runs one query per row, six a contract, which alone
costs more than the minute a million contracts may take; so by default
(`set_based_checks`) the batch drops the foreign keys of the tables it fills and adds
them back before commit, which checks every row in one join. DDL is transactional in
PostgreSQL, so a failure anywhere restores them with everything else; the price is an
ACCESS EXCLUSIVE lock on those tables and the ones they reference until commit (readers
wait too): run big batches off-peak, or pass set_based_checks=False to keep per-row
checks and let readers through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from itertools import repeat
from typing import Any, Protocol

from sqlalchemy import Connection, Table


@dataclass(frozen=True)
class Same:
    """One value for every row of a column."""

    value: Any


Columns = Mapping[str, "Same | Sequence[Any]"]

_COPY_UNSAFE = ("\t", "\n", "\r", "\\")


def _refuse_escapes(text: str) -> None:
    """COPY text needs these escaped; nothing bulk issuance writes contains them."""
    if any(c in text for c in _COPY_UNSAFE):
        raise ValueError(f"bulk COPY refuses a value that needs escaping: {text[:80]!r}")


class BulkWriter(Protocol):
    def begin(self, tables: Sequence[Table]) -> None:
        """Take what the batch needs on `tables` (locks), before any reservation."""

    def reserve(self, table: Table, count: int) -> range:
        """`count` consecutive ids no one else will take."""

    def value(self, table: Table, column: str, value: Any) -> Any:
        """`value` as this writer's rows carry it (what SQLAlchemy would have bound)."""

    def prepare(self, table: Table, count: int, columns: Columns) -> Callable[[], None]:
        """Everything but the database work of inserting these rows (it needs the GIL);
        calling the result does the rest (the driver releases the GIL)."""

    def finish(self) -> None:
        """Called once after the last insert, before commit."""


def bulk_writer(connection: Connection, *, set_based_checks: bool = True) -> BulkWriter:
    """The fast path for `connection`'s database (SQLite or PostgreSQL via psycopg 3)."""
    name = connection.dialect.name
    if name == "sqlite":
        return SqliteWriter(connection)
    if name == "postgresql" and connection.dialect.driver == "psycopg":
        return PostgresWriter(connection, set_based_checks=set_based_checks)
    raise NotImplementedError(f"bulk issuance supports SQLite and PostgreSQL (psycopg), not {name}")


def _nothing() -> None:
    return None


def _rows(count: int, columns: Columns) -> Iterable[tuple[Any, ...]]:
    parts = [repeat(c.value, count) if isinstance(c, Same) else c for c in columns.values()]
    return zip(*parts, strict=True)


def _fixed_width(values: Sequence[Any]) -> int | None:
    """The common length of a list of strings, else None."""
    if not values or not all(isinstance(v, str) for v in values):
        return None
    widths = set(map(len, values))
    return widths.pop() if len(widths) == 1 else None


class SqliteWriter:
    def __init__(self, connection: Connection) -> None:
        self._dialect = connection.dialect
        self._quote = connection.dialect.identifier_preparer.quote
        self._cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def begin(self, tables: Sequence[Table]) -> None:
        """Nothing: the vendor engine's BEGIN IMMEDIATE already holds the write lock."""

    def reserve(self, table: Table, count: int) -> range:
        self._cursor.execute(f"SELECT coalesce(max(id), 0) FROM {self._quote(table.name)}")  # noqa: S608
        last = int(self._cursor.fetchone()[0])
        return range(last + 1, last + count + 1)

    def value(self, table: Table, column: str, value: Any) -> Any:
        process = table.c[column].type.dialect_impl(self._dialect).bind_processor(self._dialect)
        return process(value) if process is not None else value

    def prepare(self, table: Table, count: int, columns: Columns) -> Callable[[], None]:
        if not count:
            return _nothing
        names = ", ".join(self._quote(c) for c in columns)
        exprs: list[str] = []
        params: dict[str, Any] = {"last": count - 1}
        for index, column in enumerate(columns.values()):
            name = f"p{index}"
            if isinstance(column, Same):
                exprs.append(f":{name}")
                params[name] = column.value
            elif isinstance(column, range) and column.step == 1 and len(column) == count:
                exprs.append(f"(i + :{name})")
                params[name] = column.start
            elif (width := _fixed_width(column)) is not None and len(column) == count:
                blob = "".join(column).encode()
                if len(blob) != width * count:  # not ASCII: byte offsets would be wrong
                    return self._executemany(table, count, columns)
                exprs.append(f"CAST(substr(:{name}, i * {width} + 1, {width}) AS TEXT)")
                params[name] = blob
            else:
                return self._executemany(table, count, columns)
        sql = (
            f"INSERT INTO {self._quote(table.name)} ({names}) "  # noqa: S608
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
            f"SELECT {', '.join(exprs)} FROM n"
        )
        return partial(self._cursor.execute, sql, params)

    def _executemany(self, table: Table, count: int, columns: Columns) -> Callable[[], None]:
        names = ", ".join(self._quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {self._quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
        return partial(self._cursor.executemany, sql, list(_rows(count, columns)))

    def finish(self) -> None:
        return None


class PostgresWriter:
    def __init__(self, connection: Connection, *, set_based_checks: bool = True) -> None:
        self._quote = connection.dialect.identifier_preparer.quote
        self._cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._set_based_checks = set_based_checks
        self._dropped: list[tuple[str, str, str]] = []

    def begin(self, tables: Sequence[Table]) -> None:
        names = ", ".join(self._quote(t.name) for t in tables)
        mode = "ACCESS EXCLUSIVE" if self._set_based_checks else "EXCLUSIVE"
        self._cursor.execute("SET LOCAL lock_timeout = '10s'")
        self._cursor.execute(f"LOCK TABLE {names} IN {mode} MODE")
        if self._set_based_checks:
            for table in tables:
                self._drop_foreign_keys(table)

    def reserve(self, table: Table, count: int) -> range:
        """`count` consecutive ids from the table's sequence (locked by `begin`)."""
        if not count:
            return range(0)
        self._cursor.execute(
            "SELECT setval(seq, nextval(seq) + %s - 1) "
            "FROM pg_get_serial_sequence(%s, 'id') AS seq",
            (count, self._quote(table.name)),
        )
        last = int(self._cursor.fetchone()[0])
        return range(last - count + 1, last + 1)

    def value(self, table: Table, column: str, value: Any) -> Any:
        """COPY text: dates and times in ISO form."""
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    def prepare(self, table: Table, count: int, columns: Columns) -> Callable[[], None]:
        """COPY in text format, each line from a template with the constants baked in.

        Every value bulk issuance writes is an int, an ISO date or time, or base32
        symbols, none of which needs escaping; a value that would is refused.
        """
        if not count:
            return _nothing
        fields: list[str] = []
        varying: list[Sequence[Any]] = []
        for column in columns.values():
            if isinstance(column, Same):
                text = str(column.value)
                _refuse_escapes(text)
                fields.append(text.replace("%", "%%"))
            else:
                if not isinstance(column, range):
                    _refuse_escapes("".join(map(str, column)))
                fields.append("%s")
                varying.append(column)
        template = "\t".join(fields) + "\n"
        data = "".join([template % values for values in zip(*varying, strict=True)])
        names = ", ".join(self._quote(c) for c in columns)
        return partial(self._copy, f"COPY {self._quote(table.name)} ({names}) FROM STDIN", data)

    def _copy(self, sql: str, data: str) -> None:
        with self._cursor.copy(sql) as copy:
            copy.write(data)

    def _drop_foreign_keys(self, table: Table) -> None:
        self._cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            (self._quote(table.name),),
        )
        for name, definition in self._cursor.fetchall():
            self._cursor.execute(
                f"ALTER TABLE {self._quote(table.name)} DROP CONSTRAINT {self._quote(name)}"
            )
            self._dropped.append((table.name, name, definition))

    def finish(self) -> None:
        """Add the dropped foreign keys back: PostgreSQL checks each with one query."""
        for table, name, definition in self._dropped:
            self._cursor.execute(
                f"ALTER TABLE {self._quote(table)} ADD CONSTRAINT {self._quote(name)} {definition}"
            )
        self._dropped.clear()
