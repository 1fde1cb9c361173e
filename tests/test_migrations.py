"""Upgrading a database made by an older thcli, through every later migration.

Modelled on llm's migration tests: a database as the first migration left it,
with a case in it, is opened by today's thcli, which must bring it to the
schema a fresh database has (tests/golden/schema.sql) and keep the case.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlite_utils import Database as UtilsDatabase
from sqlite_utils.migrations import Migrations
from test_schema import GOLDEN, dump_schema

from tests.conftest import insert_ledger_rows
from thcli import budget, migrations
from thcli.chains import verify_ledger
from thcli.db import open_db, write
from thcli.files import create_private_file

REPO = Path(__file__).resolve().parent.parent


def first_release_database(path: Path) -> None:
    """A database as thcli's first migration made it, with one client, address and case."""
    create_private_file(path)
    db = UtilsDatabase(path)
    first = Migrations(migrations.MIGRATION_SET)
    first()(migrations.m001_create_schema)
    first.apply(db)
    at = "2026-04-02T09:00:00+00:00"
    db.execute("INSERT INTO clients (id, name, name_key, created_at) VALUES (1, 'Alex Example', 'alex example', ?)",
               [at])
    db.execute("INSERT INTO addresses (id, client_id, address, postcode, postcode_key, recorded_at) "
               "VALUES (1, 1, '1 Example Row, Testville', 'ZZ1 2AB', 'ZZ12AB', ?)", [at])
    db.execute("INSERT INTO cases (id, ref, client_id, address_id, received_on, district, route, risk_level, "
               "created_at, updated_at) VALUES (1, 'TH-2026-0001', 1, 1, '2026-04-02', 'northmoor', 'idva', "
               "'high', ?, ?)", [at, at])
    db.conn.commit()
    db.close()


def test_a_first_release_database_is_brought_up_to_date_and_keeps_its_cases(tmp_path):
    path = tmp_path / "old.db"
    first_release_database(path)
    db = open_db(path)
    assert migrations.pending_names(db) == []
    applied = [row[0] for row in db.conn.execute(
        f"SELECT name FROM {migrations.MIGRATIONS_TABLE} ORDER BY applied_at, rowid")]
    assert applied == [function.__name__ for function in migrations.MIGRATIONS]
    assert dump_schema(db) == GOLDEN.read_text(encoding="utf-8")
    assert db.conn.execute("SELECT ref, status, received_on FROM cases").fetchall() == [
        ("TH-2026-0001", "new", "2026-04-02")]
    assert db.conn.execute("SELECT address, postcode FROM addresses").fetchall() == [
        ("1 Example Row, Testville", "ZZ1 2AB")]


def test_the_schema_is_a_real_file_in_the_package_not_a_symlink():
    # A Windows checkout without symlinks turns a git symlink into a text file naming its target.
    listed = subprocess.run(["git", "ls-files", "-s", "thcli"], cwd=REPO, capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an sdist): the installed file is what counts
        listed_modes = []
    else:
        listed_modes = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "120000" not in listed_modes
    assert migrations.schema_sql().lstrip().startswith("--")
    assert "CREATE TABLE cases" in migrations.schema_sql()


def test_a_scheme_set_up_before_issue_14_gets_its_assessors_reasons_and_due_dates(tmp_path):
    """m020 to m023 on a scheme with code lists, a survey and a high-risk case (DESIGN.md §3, issue 14)."""
    from freezegun import freeze_time

    from thcli import targets

    path = tmp_path / "old.db"
    first_release_database(path)
    old = UtilsDatabase(path)
    old.execute("INSERT INTO codes (list, code, label, position) VALUES ('outcome_reason', 'completed', 'Done', 0), "
                "('outcome_reason', 'other', 'Other', 1), ('decline_reason', 'other', 'Other', 0)")
    old.execute("INSERT INTO surveys (case_id, surveyor, requested_on, created_at) VALUES "
                "(1, 'PC Sam Example', '2026-04-03', '2026-04-03T09:00:00Z')")
    old.conn.commit()
    old.close()
    with freeze_time("2026-04-03 10:00"):
        db = open_db(path)
        assert db.conn.execute("SELECT c.code, d.kind FROM codes c JOIN assessor_details d ON d.code = c.code "
                               "ORDER BY c.position").fetchall() == [("police_cro", "police"),
                                                                      ("scheme_officer", "scheme")]
        assert db.conn.execute("SELECT assessor FROM surveys").fetchall() == [("police_cro",)]
        assert [row[0] for row in db.conn.execute(
            "SELECT code FROM codes WHERE list = 'outcome_reason' ORDER BY position")] == [
            "completed", "other", "no_measures_needed", "no_measures_fitted"]
        assert db.conn.execute("SELECT received_at, next_due_on FROM cases").fetchall() == [(None, None)]
        # Its stored due date is worked out again, once, by the first command that lists what is due: a
        # high-risk case's fitting target (48 hours) now shows before its survey is recorded.
        assert db.conn.execute("SELECT value FROM settings WHERE key = 'due_dates_stale'").fetchone() == ("yes",)
        assert [(row["what"], row["due_on"]) for row in targets.due_list(db, within=260)] == [
            ("measures fitted", "2026-04-04")]
        assert db.conn.execute("SELECT count(*) FROM settings WHERE key = 'due_dates_stale'").fetchone()[0] == 0
        db.close()


def test_migrations_add_no_codes_to_a_database_not_yet_set_up(tmp_path):
    """A new database is migrated before `thcli init` seeds it: the migrations must leave its code lists empty,
    or init would take it for a scheme already set up."""
    db = open_db(tmp_path / "new.db", create=True)
    assert db.conn.execute("SELECT count(*) FROM codes").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 0
    db.close()
def test_an_old_ledger_is_copied_whole_into_one_that_takes_stock_entries(tmp_path):
    """m030 copies the ledger into a table that allows the 'stock' kind: ids, figures and hashes as they were,
    the chain still intact, and the triggers still refusing a change."""
    path = tmp_path / "old.db"
    first_release_database(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO funds (id, code, name, year, source, created_at, created_by) VALUES "
                 "(1, 'opcc_2026_27', 'OPCC', '2026/27', 'opcc', '2026-04-02T09:00:00Z', 'tester')")
    insert_ledger_rows(conn, [
        (1, "2026-04-02T09:00:00Z", "2026-04-02", "allocation", 10_000, 1, None, None, None, None, 0, None,
         "opening allocation", "tester"),
        (2, "2026-04-03T09:00:00Z", "2026-04-03", "contribution", 2_500, 1, 1, None, None, "landlord", 1, None,
         "pledged by the landlord", "tester")])
    conn.commit()
    conn.close()
    db = open_db(path)
    assert db.conn.execute("SELECT id, kind, amount_pence, pledged FROM ledger ORDER BY id").fetchall() == [
        (1, "allocation", 10_000, 0), (2, "contribution", 2_500, 1)]
    assert verify_ledger(db) == []
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are never changed"):
        db.conn.execute("UPDATE ledger SET amount_pence = 1 WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are never deleted"):
        db.conn.execute("DELETE FROM ledger WHERE id = 1")
    with write(db):
        budget.charge_stock(db, 1, None, {1: 1_250}, memo="1 personal_alarm from idva's stock", by="tester",
                            on=dt.date(2026, 4, 4))
    assert verify_ledger(db) == []
    assert budget.list_funds(db)[0]["remaining_pence"] == 10_000
