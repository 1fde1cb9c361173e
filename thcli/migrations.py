"""Schema migrations, through sqlite-utils' ``Migrations``.

m001 runs ``schema.sql`` (the whole schema as it stood at the first release);
every later change is a function ``m0NN_verb_noun`` with a comment saying why,
listed in MIGRATIONS. Each migration runs in a transaction with the record of
it being applied.

Every command opens the database and so asks whether a migration is pending:
that is one plain query (:func:`pending_names`), and sqlite-utils (60 to 90 ms
to import) is loaded only when one is.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from thcli.errors import DatabaseProblem

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

#: sqlite-utils' name for this set of migrations, and its table of those applied.
MIGRATION_SET = "thcli"
MIGRATIONS_TABLE = "_sqlite_migrations"


def schema_sql() -> str:
    """The text of schema.sql, shipped inside the package."""
    return resources.files("thcli").joinpath("schema.sql").read_text(encoding="utf-8")


def m001_create_schema(db: Database) -> None:
    db.executescript(schema_sql())


def m002_add_county_secret(db: Database) -> None:
    # The county export's pseudonyms are HMACs keyed by a secret of the scheme's
    # own, which never leaves the database (COUNTY_EXPORT.md). Databases made
    # before the export existed get theirs here.
    db.execute(
        "INSERT OR IGNORE INTO secrets (name, value) VALUES ('county_hmac', ?)",
        [secrets.token_hex(32)],
    )


#: Every migration, in the order they run.
MIGRATIONS = (m001_create_schema, m002_add_county_secret)


@cache
def _migration_set() -> Migrations:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for function in MIGRATIONS:
        migrations()(function)
    return migrations


def __getattr__(name: str):
    # ``from thcli.migrations import migrations``: sqlite-utils' Migrations, made on first use.
    if name == "migrations":
        return _migration_set()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ensure_thcli_database(db: Database, path: Path) -> None:
    """Refuse a SQLite file that holds something other than a thcli database."""
    tables = set(db.table_names())
    if not tables:
        return
    if MIGRATIONS_TABLE not in tables or "cases" not in tables:
        raise DatabaseProblem(f"{path}: wrong key or not a thcli database.")


def pending_names(db: Database) -> list[str]:
    """The names of the migrations not yet applied, read with plain SQL."""
    conn = db.conn
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             [MIGRATIONS_TABLE]).fetchone()
    applied = set()
    if has_table:
        applied = {row[0] for row in conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET])}
    return [function.__name__ for function in MIGRATIONS if function.__name__ not in applied]


def apply(db: Database) -> None:
    """Apply any pending migrations (a no-op on an up-to-date database)."""
    if pending_names(db):
        _migration_set().apply(getattr(db, "utils", db))
