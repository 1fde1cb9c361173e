"""What retention leaves behind, and whose files it may delete (issue 12, items 4 and 5).

Free text in the ledger (memos, invoice numbers, over-cap reasons) goes with
the case, figures kept and the ledger's chain still intact; ledger text goes
at its own finance retention date too; thcli's subject access files follow
the case; letter paths are stored relative to the database's letters folder,
and retention deletes only files this database wrote and that are unchanged,
so retention on a copy of the database never deletes the original's letters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3

import pytest
from freezegun import freeze_time

from tests.conftest import database_made_by, insert_ledger_rows
from thcli import budget, case_files, letters, person, referrals, retention, settings, workflow
from thcli.db import open_db, write
from thcli.referrals import ReferralInput

NAME, STREET = "Zephyrina Quillfeather", "17 Marzipan Crescent"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


def ended_case(db, name=NAME, *, received="2019-05-01", ended="2019-09-03", letter_folder=None) -> dict:
    """A case that was withdrawn long ago; with ``letter_folder``, its acknowledgement (``case["letter"]``).

    The letter is made while the case is open, the day it came in (an
    acknowledgement is only made before the survey).
    """
    with freeze_time(f"{received} 09:00:00"):
        ref = referrals.add_referral(db, ReferralInput(
            name=name, postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
            address=STREET, safe_post=True, received_on=dt.date.fromisoformat(received)), by="tester").ref
        made = letters.make_letter(db, ref, "acknowledgement", by="tester", out_dir=letter_folder)[0] \
            if letter_folder is not None else None
    with freeze_time(f"{ended} 15:30:00"):
        workflow.move(db, ref, "withdrawn", reason="moved_away", by="tester", on=dt.date.fromisoformat(ended))
    case = referrals.case_row(db, ref)
    return {**case, "letter": made} if made is not None else case


def money_with_names(db, case: dict) -> None:
    """A contribution memo, an over-cap reason and an invoice number, each naming the client."""
    with freeze_time("2019-06-10 10:00:00"):
        fund = budget.add_fund(db, "Old OPCC", year="2019/20", source="opcc", amount_pence=1_000_000, by="tester")
        settings.put(db, "household_cap", 10_000)
        with write(db):
            line_id = db["measure_lines"].insert({
                "case_id": case["id"], "line": 1, "code": "door_alarm", "quantity": 1, "unit_cost_pence": 50_000,
                "estimated_cost_pence": 50_000, "kind": "equipment", "removable": 1, "status": "recommended"}).last_pk
            line = db.conn.execute("SELECT * FROM measure_lines WHERE id = ?", [line_id])
            line = dict(zip([d[0] for d in line.description], line.fetchone(), strict=True))
            budget.commit_line(db, case, line, fund, by="tester", on=dt.date(2019, 6, 1),
                               over_cap_reason=f"{NAME} at {STREET} needs a second alarm")
            db["measure_lines"].update(line_id, {"status": "approved", "approved_on": "2019-06-01"})
        budget.add_contribution(db, case["ref"], contributor="survivor", amount_pence=2_000, by="tester",
                                on=dt.date(2019, 6, 2), memo=f"cash from {NAME}, {STREET}")
        budget.pay(db, case["ref"], 1, amount_pence=50_000, invoice=f"INV {NAME}", by="tester",
                   on=dt.date(2019, 6, 3))


def ledger_text(db) -> str:
    return " ".join(f"{i} {m}" for i, m in db.conn.execute("SELECT invoice, memo FROM ledger"))


# --- item 4: the ledger's free text ---------------------------------------------------------------------------


def test_the_subject_access_export_includes_ledger_memos_and_invoice_numbers(db, tmp_path):
    case = ended_case(db, received="2026-05-01", ended="2026-09-03")
    with freeze_time("2026-06-01 10:00:00"):
        budget.add_fund(db, "New OPCC", year="2026/27", source="opcc", amount_pence=100_000, by="tester")
        budget.add_contribution(db, case["ref"], contributor="survivor", amount_pence=2_000, by="tester",
                                memo=f"cash from {NAME}")
    done = person.export(db, case["ref"], tmp_path / "sar", by="tester")
    data = json.loads(done.json.read_text())
    assert [m["memo"] for m in data["cases"][0]["money_entries"]] == [f"cash from {NAME}"]
    from docx import Document

    cells = [c.text for t in Document(str(done.docx)).tables for r in t.rows for c in r.cells]
    assert f"cash from {NAME}" in cells


def test_retention_removes_ledger_memos_invoices_and_over_cap_reasons_keeping_figures_and_the_chain(db, cli):
    case = ended_case(db)
    money_with_names(db, case)
    assert NAME in ledger_text(db)
    figures = db.conn.execute("SELECT id, kind, amount_pence, fund_id, case_id FROM ledger ORDER BY id").fetchall()
    status_before = budget.status(db, year="2019/20")
    outcome = retention.apply(db, by="dpo", today=dt.date(2026, 11, 20))
    assert outcome.anonymised == [case["ref"]]
    assert outcome.ledger_entries_cleaned >= 4
    assert NAME not in ledger_text(db) and "Marzipan" not in ledger_text(db)
    assert db.conn.execute("SELECT over_cap_reason FROM measure_lines").fetchone()[0] is None
    assert db.conn.execute("SELECT id, kind, amount_pence, fund_id, case_id FROM ledger ORDER BY id").fetchall() \
        == figures
    assert budget.status(db, year="2019/20") == status_before
    assert budget.verify_chain(db) == []
    assert cli("db", "check").exit_code == 0
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are never changed"):
        with write(db):  # nothing else about a row may change, redacted or not
            db.conn.execute("UPDATE ledger SET amount_pence = 1 WHERE id = 2")


def test_ledger_text_goes_at_its_own_finance_retention_date_even_while_its_case_is_kept(db):
    with freeze_time("2018-06-01 10:00:00"):
        fund = budget.add_fund(db, "Older OPCC", year="2018/19", source="opcc", amount_pence=100_000, by="tester")
        budget.allocate(db, fund["code"], 5_000, by="tester", memo=f"top-up after {NAME}'s case")
    with freeze_time("2020-06-01 10:00:00"):
        budget.add_fund(db, "Later OPCC", year="2020/21", source="opcc", amount_pence=100_000, by="tester")
    # 2018/19 ends 31 March 2019; kept 7 years: until 31 March 2026. 2020/21 entries are kept until 2028.
    outcome = retention.apply(db, by="dpo", today=dt.date(2026, 11, 20))
    assert outcome.anonymised == [] and outcome.ledger_entries_cleaned == 2
    memos = dict(db.conn.execute("SELECT id, memo FROM ledger"))
    assert memos == {1: None, 2: None, 3: "opening allocation"}
    assert budget.verify_chain(db) == []


def test_a_ledger_from_before_m011_is_resealed_so_its_text_can_go(tmp_path):
    from thcli import migrations

    path = tmp_path / "old.db"
    conn = database_made_by(path, migrations.m001_create_schema, migrations.m002_add_county_secret)
    conn.execute("INSERT INTO funds (id, code, name, year, source, created_at, created_by) VALUES "
                 "(1, 'f', 'F', '2019/20', 'opcc', '2019-06-01T10:00:00Z', 'tester')")
    insert_ledger_rows(conn, [
        [entry_id, "2019-06-01T10:00:00Z", "2019-06-01", "allocation", 100, 1, None, None, None, None, 0, None, memo,
         "tester"] for entry_id, memo in ((1, "opening allocation"), (2, f"note about {NAME}"))])
    conn.commit()
    conn.close()
    db = open_db(path)
    try:
        assert budget.verify_chain(db) == []
        assert db.conn.execute("SELECT count(*) FROM ledger WHERE details_sha256 IS NULL").fetchone()[0] == 0
        with write(db):
            assert budget.redact(db, "id = 2", [], on=dt.date(2026, 11, 20)) == 1
        assert budget.verify_chain(db) == []
    finally:
        db.close()


# --- item 4: subject access files follow the case ------------------------------------------------------------


def test_subject_access_files_are_recorded_and_deleted_with_the_case_unless_changed(db, tmp_path):
    old = ended_case(db, "Alex Example")
    other = ended_case(db, "Sam Example")
    first = person.export(db, old["ref"], tmp_path / "sar", by="tester")
    second = person.export(db, other["ref"], tmp_path / "sar", by="tester")
    second.json.write_text("edited by hand")  # no longer as thcli wrote it
    outcome = retention.apply(db, by="dpo", today=dt.date(2026, 11, 20))
    assert sorted(outcome.anonymised) == sorted([old["ref"], other["ref"]])
    assert outcome.subject_access_files_deleted == 3
    assert not first.json.exists() and not first.docx.exists() and not second.docx.exists()
    assert second.json.exists()
    assert outcome.files_kept == [f"{other['ref']}: subject access file {second.json} (changed since thcli wrote it)"]
    assert db.conn.execute("SELECT count(*) FROM subject_access_files").fetchone()[0] == 0


def test_a_second_export_the_same_day_needs_force_and_replaces_only_its_own_kind(db, tmp_path, cli):
    case = ended_case(db, received="2026-05-01", ended="2026-09-03")
    folder = tmp_path / "sar"
    assert cli("person", "export", case["ref"], "--out", folder).exit_code == 0
    again = cli("person", "export", case["ref"], "--out", folder)
    stem = folder / f"subject-access-{case['ref']}-2026-11-20"
    assert again.exit_code == 1
    assert again.stderr == (f"Error: {stem}.json already exists: choose another name, or add --force to replace "
                            "it (only an earlier subject access export is replaced)\n")
    assert cli("person", "export", case["ref"], "--out", folder, "--force").exit_code == 0
    stem.with_suffix(".json").write_text("my own notes")
    refused = cli("person", "export", case["ref"], "--out", folder, "--force")
    assert refused.exit_code == 1
    assert "is not an earlier subject access export (it is something else)" in refused.stderr
    assert stem.with_suffix(".json").read_text() == "my own notes"


def test_a_dry_run_counts_a_subject_access_file_once_however_many_cases_it_holds(db, tmp_path):
    first = ended_case(db, "Alex Example", received="2019-05-01", ended="2019-06-03")
    ended_case(db, "Alex Example", received="2019-07-01", ended="2019-07-20")  # the same client again
    person.export(db, first["ref"], tmp_path / "sar", by="tester")  # one .docx and one .json for both cases
    dry = retention.apply(db, by="dpo", dry_run=True)
    assert (dry.subject_access_files_deleted, dry.files_kept) == (2, [])
    done = retention.apply(db, by="dpo")
    assert (done.subject_access_files_deleted, done.files_kept) == (2, [])


def test_an_export_replaced_with_force_is_deleted_and_not_also_listed_as_kept(db, tmp_path):
    case = ended_case(db)
    person.export(db, case["ref"], tmp_path / "sar", by="tester")
    with freeze_time("2026-11-20 11:00:00"):  # the client's record changed meanwhile: another file
        db["clients"].update(case["client_id"], {"language": "Welsh"})
        again = person.export(db, case["ref"], tmp_path / "sar", by="tester", force=True)
    assert db.conn.execute("SELECT count(*) FROM subject_access_files").fetchone()[0] == 2
    dry = retention.apply(db, by="dpo", dry_run=True)
    assert (dry.subject_access_files_deleted, dry.files_kept) == (2, [])
    done = retention.apply(db, by="dpo")
    assert (done.subject_access_files_deleted, done.files_kept) == (2, [])
    assert not again.json.exists() and not again.docx.exists()


def test_retention_apply_says_the_same_number_of_subject_access_files_dry_and_done(db, tmp_path, cli):
    first = ended_case(db, "Alex Example", received="2019-05-01", ended="2019-06-03")
    second = ended_case(db, "Alex Example", received="2019-07-01", ended="2019-07-20")
    folder = tmp_path / "sar"
    assert cli("person", "export", first["ref"], "--out", folder).exit_code == 0
    assert cli("person", "export", first["ref"], "--out", folder, "--force").exit_code == 0
    dry = cli("retention", "apply", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == (f"Would anonymise 2 cases: {first['ref']}, {second['ref']}\n"
                          "  client records to be removed: 1\n  letter files to be deleted: 0\n"
                          "  subject access files to be deleted: 2\n")
    done = cli("retention", "apply", "--yes")
    assert done.exit_code == 0, done.stderr
    assert done.stdout == (f"Anonymised 2 cases: {first['ref']}, {second['ref']}\n"
                           "  client records removed: 1\n  letter files deleted: 0\n"
                           "  subject access files deleted: 2\n"
                           "Backups made before this run still hold the old data: make a new backup and delete the "
                           "old ones.\n")
    assert list(folder.iterdir()) == []


def test_retention_apply_lists_the_files_it_keeps_dry_and_done(db, tmp_path, cli):
    case = ended_case(db)
    exported = person.export(db, case["ref"], tmp_path / "sar", by="tester")
    exported.json.write_text("edited by hand")
    kept = f"  {case['ref']}: subject access file {exported.json} (changed since thcli wrote it)\n"
    why = "not thcli's to delete (check them and delete them by hand if they hold the case's data):\n"
    dry = cli("retention", "apply", "--dry-run")
    assert dry.stdout.endswith(f"Files that would be kept, {why}{kept}"), dry.stdout
    done = cli("retention", "apply", "--yes")
    assert f"Files kept, {why}{kept}" in done.stdout, done.stdout


# --- item 5: letters -----------------------------------------------------------------------------------------


def test_letter_paths_are_stored_relative_to_the_letters_folder(db, db_path):
    case = ended_case(db, letter_folder=db_path.parent / "letters")
    made = case["letter"]
    stored, made_in = db.conn.execute("SELECT path, made_in FROM letters").fetchone()
    assert stored == made.path.name
    assert made_in == str(db_path.resolve())


@pytest.mark.parametrize("where", ["beside the original", "in another folder"])
def test_retention_on_a_copy_of_the_database_never_deletes_the_originals_letters(db, db_path, tmp_path, where):
    case = ended_case(db, letter_folder=db_path.parent / "letters")
    made = case["letter"]
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy_path = db_path.with_name("copy.db") if where == "beside the original" else tmp_path / "elsewhere" / "t.db"
    copy_path.parent.mkdir(exist_ok=True)
    shutil.copyfile(db_path, copy_path)
    copy = open_db(copy_path)
    try:
        outcome = retention.apply(copy, by="dpo", today=dt.date(2026, 11, 20), db_path=copy_path)
    finally:
        copy.close()
    assert outcome.anonymised == [case["ref"]]
    assert made.path.exists()  # the original's letter is still there
    assert outcome.letter_files_deleted == 0
    if where == "beside the original":  # same letters folder: found, and reported as the original's
        assert outcome.files_kept == [f"{case['ref']}: letter file {made.path} (written by another copy of this "
                                      "database, which is still there)"]
    # The original's own retention deletes it.
    outcome = retention.apply(db, by="dpo", today=dt.date(2026, 11, 20), db_path=db_path)
    assert outcome.letter_files_deleted == 1 and not made.path.exists()


def test_a_database_moved_with_its_letters_still_deletes_them(db, db_path, tmp_path):
    case = ended_case(db, letter_folder=db_path.parent / "letters")
    made = case["letter"]
    db.close()
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("thcli.db", "thcli.db-wal", "letters"):
        if (db_path.parent / name).exists():
            shutil.move(db_path.parent / name, moved / name)
    (db_path.parent / "thcli.db-shm").unlink(missing_ok=True)
    again = open_db(moved / "thcli.db")
    try:
        outcome = retention.apply(again, by="dpo", today=dt.date(2026, 11, 20), db_path=moved / "thcli.db")
    finally:
        again.close()
    assert outcome.letter_files_deleted == 1
    assert not (moved / "letters" / made.path.name).exists()


def test_a_changed_letter_is_kept_and_reported(db, db_path):
    case = ended_case(db, letter_folder=db_path.parent / "letters")
    made = case["letter"]
    made.path.write_bytes(b"a coordinator's own edited copy")
    outcome = retention.apply(db, by="dpo", today=dt.date(2026, 11, 20), db_path=db_path)
    assert outcome.letter_files_deleted == 0 and made.path.exists()
    assert outcome.files_kept == [f"{case['ref']}: letter file {made.path} (changed since thcli wrote it)"]


def test_db_check_and_db_restore_report_missing_and_changed_letter_files(cli, db, db_path, tmp_path):
    folder = db_path.parent / "letters"
    gone = ended_case(db, received="2026-05-01", ended="2026-09-03", letter_folder=folder)["letter"]
    edited = ended_case(db, "Sam Example", received="2026-05-01", ended="2026-09-03", letter_folder=folder)["letter"]
    backup = tmp_path / "backup.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    gone.path.unlink()
    edited.path.write_bytes(b"edited")
    check = cli("db", "check")
    assert check.exit_code == 0, check.stdout
    assert (f"warn  letter files: 1 missing, 1 changed: {gone.path} (missing); {edited.path} (changed since thcli "
            "wrote it) (thcli recorded each letter's hash when it wrote it)") in check.stdout
    db.close()
    restored = cli("db", "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.stderr
    assert restored.stderr == (f"Warning: letter files the restored database recorded are 1 missing, 1 changed: "
                               f"{gone.path} (missing); {edited.path} (changed since thcli wrote it)\n")


def test_m010_makes_existing_letter_paths_inside_the_letters_folder_relative(tmp_path):
    from thcli import migrations

    path = tmp_path / "old.db"
    conn = database_made_by(path, migrations.m001_create_schema, migrations.m002_add_county_secret)
    inside, outside = tmp_path / "letters" / "TH-2019-0001-a.docx", tmp_path / "out" / "TH-2019-0001-b.docx"
    for letter_id, file in ((1, inside), (2, outside)):
        conn.execute("INSERT INTO letters (id, case_id, kind, recipient, path, sha256, made_at, made_by) "
                     "VALUES (?, 1, 'acknowledgement', 'referrer', ?, ?, '2019-05-02T10:00:00Z', 'tester')",
                     [letter_id, str(file), hashlib.sha256(b"x").hexdigest()])
    conn.commit()
    conn.close()
    db = open_db(path)
    try:
        rows = db.conn.execute("SELECT path, made_in FROM letters ORDER BY id").fetchall()
    finally:
        db.close()
    assert rows == [("TH-2019-0001-a.docx", None), (str(outside), None)]
    assert case_files.located(path, rows[0][0]) == inside
