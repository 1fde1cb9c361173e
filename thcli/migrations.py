"""Schema migrations, through sqlite-utils' ``Migrations``.

m001 runs ``schema.sql`` (the whole schema as it stood at the first release);
every later change is a function ``m0NN_verb_noun`` with a comment saying why.
Each migration runs in a transaction with the record of it being applied.
"""

from __future__ import annotations

import secrets
from importlib import resources
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from thcli.errors import DatabaseProblem

migrations = Migrations("thcli")


def schema_sql() -> str:
    """The text of schema.sql, shipped inside the package."""
    return resources.files("thcli").joinpath("schema.sql").read_text(encoding="utf-8")


@migrations()
def m001_create_schema(db: Database) -> None:
    db.executescript(schema_sql())


@migrations()
def m002_add_county_secret(db: Database) -> None:
    # The county export's pseudonyms are HMACs keyed by a secret of the scheme's
    # own, which never leaves the database (COUNTY_EXPORT.md). Databases made
    # before the export existed get theirs here.
    db.execute(
        "INSERT OR IGNORE INTO secrets (name, value) VALUES ('county_hmac', ?)",
        [secrets.token_hex(32)],
    )


def ensure_thcli_database(db: Database, path: Path) -> None:
    """Refuse a SQLite file that holds something other than a thcli database."""
    tables = set(db.table_names())
    if not tables:
        return
    if migrations.migrations_table not in tables or "cases" not in tables:
        raise DatabaseProblem(f"{path}: wrong key or not a thcli database.")


def apply(db: Database) -> None:
    """Apply any pending migrations (a no-op on an up-to-date database)."""
    if migrations.pending(db):
        migrations.apply(db)
