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


def m003_end_moved_addresses(db: Database) -> None:
    # Issue 11: ending a case because the client moved (moved_away, rehoused, moved_on) now marks its
    # address as no longer current, so that no letter goes to a home the client has left. Cases that
    # ended that way before this release get the same here, unless the address is still in use: another
    # case at it is open, or was referred on or after the day the moved case ended (the client came back).
    from thcli import settings

    reasons = list(settings.get(db, "moved_reasons"))
    if not reasons:
        return
    marks = ", ".join("?" * len(reasons))
    db.execute(
        f"""UPDATE addresses SET current = 0,
                   ended_at = coalesce(ended_at, (SELECT max(c.closed_on) FROM cases c WHERE c.address_id = addresses.id
                                                  AND c.reason IN ({marks})) || 'T00:00:00Z')
            WHERE current = 1 AND id IN (
                SELECT c.address_id FROM cases c
                WHERE c.status IN ('closed', 'declined', 'withdrawn', 'no_contact') AND c.reason IN ({marks})
                  AND c.address_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.address_id = c.address_id AND o.id != c.id AND
                                  (o.status NOT IN ('closed', 'declined', 'withdrawn', 'no_contact')
                                   OR o.received_on >= coalesce(c.closed_on, c.received_on))))""",
        [*reasons, *reasons])


#: Every migration, in the order they run.
MIGRATIONS = (m001_create_schema, m002_add_county_secret, m003_end_moved_addresses)


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
