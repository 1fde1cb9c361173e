"""The schema as migrated, against the committed golden file, and the migrations."""

from __future__ import annotations

import os
from pathlib import Path

from thcli.db import open_db

GOLDEN = Path(__file__).parent / "golden" / "schema.sql"


def dump_schema(db) -> str:
    rows = db.conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type, name"
    ).fetchall()
    return "\n".join(f"-- {kind} {name}\n{sql};\n" for kind, name, sql in rows)


def test_fresh_database_matches_the_golden_schema(tmp_path):
    db = open_db(tmp_path / "fresh.db", create=True)
    schema = dump_schema(db)
    if os.environ.get("THCLI_UPDATE_GOLDEN"):
        GOLDEN.write_text(schema, encoding="utf-8")
    assert schema == GOLDEN.read_text(encoding="utf-8")


def test_migrations_are_recorded_and_idempotent(tmp_path):
    from thcli.migrations import MIGRATIONS, migrations

    path = tmp_path / "m.db"
    open_db(path, create=True).close()
    db = open_db(path)
    applied = [m.name for m in migrations.applied(db)]
    assert applied == [f.__name__ for f in MIGRATIONS]
    assert applied[:2] == ["m001_create_schema", "m002_add_county_secret"]
    assert migrations.pending(db) == []


def test_every_money_column_is_an_integer(tmp_path):
    db = open_db(tmp_path / "money.db", create=True)
    for table in db.table_names():
        for column in db[table].columns:
            if column.name.endswith("_pence"):
                assert column.type == "INTEGER", f"{table}.{column.name}"


def test_a_database_from_another_program_is_refused(tmp_path):
    import sqlite3

    import pytest

    from thcli.errors import DatabaseProblem

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseProblem, match="not a thcli database"):
        open_db(other)


def test_the_county_secret_is_made_once(tmp_path):
    path = tmp_path / "s.db"
    first = open_db(path, create=True).conn.execute("SELECT value FROM secrets").fetchall()
    second = open_db(path).conn.execute("SELECT value FROM secrets").fetchall()
    assert first == second and len(first) == 1 and len(first[0][0]) == 64
