"""The retention schedule: review, apply (anonymise), legal hold, and erasure that leaves no trace."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest
from freezegun import freeze_time

from thcli import audit, budget, case_view, county, maintenance, referrals, retention, workflow
from thcli.db import one, write
from thcli.errors import NotAllowed
from thcli.referrals import ReferralInput

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


def ended_case(db, name="Alex Example", *, received="2019-05-01", ended="2019-06-03", status="declined",
               reason="out_of_area", **fields) -> dict:
    """A case received and ended on the given dates."""
    with freeze_time(f"{received} 09:00:00"):
        ref = referrals.add_referral(db, ReferralInput(
            name=name, postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
            received_on=dt.date.fromisoformat(received), **fields), by="tester").ref
    if status:
        with freeze_time(f"{ended} 15:30:00"):
            workflow.move(db, ref, status, reason=reason, by="tester", on=dt.date.fromisoformat(ended))
    return referrals.case_row(db, ref)


def row(db, table, where, params) -> dict | None:
    return one(db, f"SELECT * FROM {table} WHERE {where}", params)


# --- review -------------------------------------------------------------------------------------------


def test_review_lists_ended_cases_past_their_retention_oldest_first(db):
    late = ended_case(db, "Robin Example", received="2020-10-01", ended="2020-11-19")
    old = ended_case(db, "Alex Example", received="2019-05-01", ended="2019-06-03")
    ended_case(db, "Sam Example", received="2020-11-01", ended="2020-11-21")  # 6 years on Saturday: not yet
    ended_case(db, "Kit Example", received="2019-01-07", status=None)  # still open
    due = retention.review(db)
    assert [d.as_dict() for d in due] == [
        {"ref": old["ref"], "status": "declined", "closed_on": "2019-06-03", "due_on": "2025-06-03",
         "legal_hold": False, "client_kept": False, "letter_files": 0, "finance_kept_until": None},
        {"ref": late["ref"], "status": "declined", "closed_on": "2020-11-19", "due_on": "2026-11-19",
         "legal_hold": False, "client_kept": False, "letter_files": 0, "finance_kept_until": None},
    ]


def test_the_retention_period_is_a_setting(db):
    from thcli import settings

    case = ended_case(db, received="2022-01-04", ended="2022-02-01")
    assert retention.review(db) == []
    with write(db):
        settings.put(db, "retention_case_years", 4)
    assert [d.ref for d in retention.review(db)] == [case["ref"]]


def test_review_says_how_long_a_cases_money_is_kept(db):
    case = ended_case(db, status=None, received="2019-05-01")
    with freeze_time("2019-05-10 10:00:00"):
        budget.add_fund(db, "Example OPCC", year="2019/20", source="opcc", amount_pence=100_000, by="tester")
        budget.add_contribution(db, case["ref"], contributor="survivor", amount_pence=2500, by="tester")
    with freeze_time("2019-06-03 10:00:00"):
        workflow.move(db, case["ref"], "withdrawn", reason=_code(db, "withdrawal_reason"), by="tester")
    (item,) = retention.review(db)
    # The last entry is in 2019/20, which ends on 31 March 2020: kept 7 years after that.
    assert item.finance_kept_until == "2027-03-31"


def _code(db, list_name):
    return db.conn.execute("SELECT code FROM codes WHERE list = ? AND retired = 0 ORDER BY position LIMIT 1",
                           [list_name]).fetchone()[0]


# --- apply ---------------------------------------------------------------------------------------------


def test_apply_anonymises_keeping_codes_months_money_and_the_county_pseudonym(db):
    case = ended_case(db, received="2019-05-01", ended="2019-06-03", address="1 Example Street",
                      phone="020 7946 0001", safe_call=True, perpetrator_name="Pat Example",
                      referrer_name="Jo Referrer", crime_ref="CR/123/19", adults=1, children=2,
                      children_ages="3, 7", note="Spoke to Alex", dob=dt.date(1990, 2, 3))
    pseudonym = county.client_pseudonym(db, case["client_id"])
    outcome = retention.apply(db, by="dpo")
    assert (outcome.anonymised, outcome.held, outcome.clients_removed, outcome.letter_files_deleted,
            outcome.wal_emptied) == ([case["ref"]], [], 1, 0, True)

    after = row(db, "cases", "id = ?", [case["id"]])
    assert {k: after[k] for k in ("client_id", "address_id", "client_pseudonym", "received_on", "closed_on",
                                  "created_at", "crime_ref", "referrer_name", "children_ages", "adults",
                                  "children", "district", "route", "risk_level", "reason", "status",
                                  "anonymised_on")} == {
        "client_id": None, "address_id": None, "client_pseudonym": pseudonym, "received_on": "2019-05-01",
        "closed_on": "2019-06-01", "created_at": "2019-05-01T00:00:00Z", "crime_ref": None,
        "referrer_name": None, "children_ages": None, "adults": 1, "children": 2, "district": "northmoor",
        "route": "idva", "risk_level": "high", "reason": "out_of_area", "status": "declined",
        "anonymised_on": "2026-11-20"}
    for table in ("clients", "addresses"):
        assert db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    for table in ("contacts", "perpetrators"):
        assert db.conn.execute(f"SELECT count(*) FROM {table} WHERE case_id = ?", [case["id"]]).fetchone()[0] == 0
    events = list(db.query("SELECT at, kind, detail, by FROM events WHERE case_id = ? ORDER BY id", [case["id"]]))
    assert events[-1] == {"at": "2026-11-20T10:00:00Z", "kind": "anonymised",
                          "detail": "personal data removed under the retention schedule", "by": "dpo"}
    assert {(e["at"], e["detail"]) for e in events[:-1]} == {("2019-05-01T00:00:00Z", ""), ("2019-06-01T00:00:00Z", "")}
    actions = [(a["action"], a["ref"], a["detail"]) for a in audit.entries(db, limit=2)]
    assert actions == [("retention.apply", None, "1 case"), ("retention.anonymise", case["ref"], "ended 2019-06")]
    assert audit.verify(db) == []
    assert retention.review(db) == []  # done once
    assert retention.apply(db, by="dpo").anonymised == []


def test_the_county_extract_counts_an_anonymised_case_as_before(db):
    # With county consent: the extract holds only such cases (issue 11), and anonymising keeps the consent.
    first = ended_case(db, "Alex Example", received="2019-05-01", ended="2019-06-03", consent=["county"])
    ended_case(db, "Alex Example", received="2019-07-01", ended="2019-07-20", consent=["county"])  # a repeat
    chosen = county.period(year="2019/20")
    before = list(county.case_rows(db, chosen))
    retention.apply(db, by="dpo")
    after = list(county.case_rows(db, chosen))
    assert len(after) == len(before) == 2
    for old, new in zip(before, after, strict=True):
        assert new[:6] == old[:6]  # spec, scheme, district, case and client pseudonyms, referral month
        assert new[6:12] == old[6:12]  # route, risk, marac, emergency, repeat, tenure
    assert after[0][4] == after[1][4] == county.client_pseudonym(db, first["client_id"])


def test_a_client_with_a_later_case_keeps_their_record_until_it_too_is_anonymised(db):
    old = ended_case(db, "Alex Example", received="2019-05-01", ended="2019-06-03", address="1 Example Street")
    later = ended_case(db, "Alex Example", received="2024-02-01", status=None, address="1 Example Street")
    assert later["client_id"] == old["client_id"]
    (item,) = retention.review(db)
    assert item.client_kept is True
    outcome = retention.apply(db, by="dpo")
    assert (outcome.anonymised, outcome.clients_removed) == ([old["ref"]], 0)
    assert row(db, "clients", "id = ?", [later["client_id"]])["name"] == "Alex Example"
    assert case_view.show_case(db, later["ref"], by="tester")["client"]["address"] == "1 Example Street"
    assert case_view.show_case(db, later["ref"], by="tester")["repeat_of"] == [old["ref"]]
    assert row(db, "cases", "id = ?", [old["id"]])["client_pseudonym"] == county.client_pseudonym(
        db, later["client_id"])


def test_legal_hold_stops_anonymisation_until_released(db, cli):
    case = ended_case(db)
    result = cli("referral", "hold", case["ref"])
    assert (result.exit_code, result.stdout) == (0, f"{case['ref']} is now on legal hold.\n")
    again = cli("referral", "hold", case["ref"])
    assert (again.exit_code, again.stderr) == (1, f"Error: {case['ref']} is already on legal hold\n")
    (item,) = retention.review(db)
    assert item.legal_hold is True
    outcome = retention.apply(db, by="dpo")
    assert (outcome.anonymised, outcome.held) == ([], [case["ref"]])
    assert row(db, "clients", "id = ?", [case["client_id"]]) is not None

    released = cli("referral", "hold", case["ref"], "--release")
    assert (released.exit_code, released.stdout) == (0, f"{case['ref']} is no longer on legal hold.\n")
    assert retention.apply(db, by="dpo").anonymised == [case["ref"]]
    late = cli("referral", "hold", case["ref"])
    assert late.exit_code == 1
    assert late.stderr == (f"Error: {case['ref']} was anonymised on 20/11/2026: there is nothing personal left "
                           "to hold\n")
    kinds = [e["kind"] for e in db.query("SELECT kind FROM events WHERE case_id = ?", [case["id"]])]
    assert kinds[-3:] == ["legal_hold", "legal_hold", "anonymised"]
    assert [a["action"] for a in audit.entries(db, ref=case["ref"])] == [
        "retention.anonymise", "referral.hold_release", "referral.hold", "referral.move", "referral.add"]


def test_release_of_a_case_not_on_hold_is_refused(db):
    case = ended_case(db)
    with pytest.raises(NotAllowed, match=f"{case['ref']} is not on legal hold"):
        retention.set_hold(db, case["ref"], by="tester", release=True)


def test_apply_deletes_the_cases_letter_files(db, tmp_path):
    case = ended_case(db)
    letters = tmp_path / "letters"
    letters.mkdir()
    kept = ended_case(db, "Sam Example", received="2026-11-02", status=None)
    files = {}
    for which, ref_case in (("old", case), ("new", kept)):
        file = letters / f"{ref_case['ref']}-acknowledgement.docx"
        file.write_bytes(b"PK letter")
        files[which] = file
        with write(db):
            db["letters"].insert({"case_id": ref_case["id"], "kind": "acknowledgement", "recipient": "referrer",
                                  # Issue 12: only a file whose hash matches the record is deleted.
                                  "path": str(file), "sha256": hashlib.sha256(b"PK letter").hexdigest(),
                                  "made_at": "2019-05-02T10:00:00Z",
                                  "made_by": "tester"})
    assert retention.review(db, db_path=tmp_path / "thcli.db")[0].letter_files == 1
    outcome = retention.apply(db, by="dpo", db_path=tmp_path / "thcli.db")
    assert outcome.letter_files_deleted == 1
    assert not files["old"].exists() and files["new"].exists()
    letter = row(db, "letters", "case_id = ?", [case["id"]])
    assert {k: letter[k] for k in ("path", "sha256", "made_at", "kind", "recipient")} == {
        "path": None, "sha256": "", "made_at": "2019-05-01T00:00:00Z", "kind": "acknowledgement",
        "recipient": "referrer"}


def test_a_dry_run_changes_nothing(db):
    case = ended_case(db)
    snapshot = list(db.conn.iterdump())
    outcome = retention.apply(db, by="dpo", dry_run=True)
    assert (outcome.dry_run, outcome.anonymised, outcome.clients_removed) == (True, [case["ref"]], 1)
    assert list(db.conn.iterdump()) == snapshot


# --- the command line -------------------------------------------------------------------------------------


def test_retention_commands(db, cli):
    case = ended_case(db)
    review = cli.json("retention", "review")
    assert review == [{"ref": case["ref"], "status": "declined", "closed_on": "2019-06-03", "due_on": "2025-06-03",
                       "legal_hold": False, "client_kept": False, "letter_files": 0, "finance_kept_until": None}]
    dry = cli("retention", "apply", "--dry-run")
    assert dry.exit_code == 0
    assert dry.stdout == (f"Would anonymise 1 case: {case['ref']}\n"
                          "  client records to be removed: 1\n  letter files to be deleted: 0\n")
    refused = cli("retention", "apply")
    assert refused.exit_code == 2
    assert refused.stderr == ("Error: anonymising cannot be undone: add --yes to confirm (or --dry-run to see "
                              "what would be done)\n")
    assert row(db, "cases", "id = ?", [case["id"]])["anonymised_on"] is None
    done = cli("retention", "apply", "--yes")
    assert done.exit_code == 0, done.stderr
    assert done.stdout == (f"Anonymised 1 case: {case['ref']}\n  client records removed: 1\n"
                           "  letter files deleted: 0\n"
                           "Backups made before this run still hold the old data: make a new backup and delete the "
                           "old ones.\n")
    assert cli("retention", "apply", "--yes").stdout == "No case is due for anonymisation.\n"
    assert cli("retention", "review", "--format", "table").stdout == (
        "No case is past its retention (6 years after it ended).\n")


# --- every column is placed, and erasure leaves no trace -----------------------------------------------------


def test_every_column_of_a_cases_tables_is_cleared_kept_or_kept_by_month(db):
    for table in retention.CLEARED:
        columns = [r[1] for r in db.conn.execute(f"PRAGMA table_info({table})")]
        placed = retention.CLEARED[table] + retention.BY_MONTH[table] + retention.KEPT[table]
        assert sorted(placed) == sorted(columns), table
    handled = (set(retention.CLEARED) | set(retention.DELETED_WITH_CASE) | set(retention.DELETED_WITH_CLIENT)
               | set(retention.UNTOUCHED))
    pointing = {t for (t,) in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if {"case_id", "client_id"} & {r[1] for r in db.conn.execute(f"PRAGMA table_info({t})")}}
    assert pointing <= handled, pointing - handled


def _text_columns(db, table: str) -> list[str]:
    return [r[1] for r in db.conn.execute(f"PRAGMA table_info({table})") if r[2].upper() == "TEXT"]


def test_erasure_leaves_no_planted_name_in_the_database_its_wal_or_a_backup(db, db_path, tmp_path):
    case = ended_case(db, "Zephyrina Quillfeather", address="17 Marzipan Crescent", phone="020 7946 0738",
                      email="zq@example.org", safe_call=True, perpetrator_name="Thaddeus Grimsworth",
                      note="Velvetmoss gate")
    with write(db):
        survey = db["surveys"].insert({"case_id": case["id"], "surveyor": "x", "created_at": "2019-05-02T10:00:00Z"}
                                      ).last_pk
        db["measure_lines"].insert({"case_id": case["id"], "line": 1, "survey_id": survey, "code": "door_alarm",
                                    "quantity": 1, "unit_cost_pence": 100, "estimated_cost_pence": 100,
                                    "kind": "equipment", "removable": 1, "status": "recommended"})
        db["followups"].insert({"case_id": case["id"], "done_on": "2019-05-20", "outcome": "x", "by": "tester",
                                "at": "2019-05-20T10:00:00Z"})
        db["letters"].insert({"case_id": case["id"], "kind": "acknowledgement", "recipient": "referrer",
                              "path": "x", "sha256": "x", "made_at": "2019-05-02T10:00:00Z", "made_by": "tester"})
        db["consents"].insert({"case_id": case["id"], "scope": "police", "given_on": "2019-05-02",
                               "given_by": "tester"})
    planted = []
    with write(db):  # a unique made-up name in every personal text field there is
        targets = {"clients": ("id", case["client_id"]), "addresses": ("client_id", case["client_id"]),
                   "contacts": ("case_id", case["id"]), "perpetrators": ("case_id", case["id"])}
        for table, (key, value) in targets.items():
            for column in _text_columns(db, table):
                planted.append(f"Plnt{table}{column}Zq".replace("_", ""))
                db.conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", [planted[-1], value])
        for table, columns in retention.CLEARED.items():
            key = "id" if table == "cases" else "case_id"
            for column in set(columns) & set(_text_columns(db, table)):
                planted.append(f"Plnt{table}{column}Zq".replace("_", ""))
                db.conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", [planted[-1], case["id"]])
    assert len(planted) > 40
    words = [w.encode() for w in planted + ["Zephyrina", "Marzipan", "7946 0738", "Grimsworth", "Velvetmoss"]]
    folder = tmp_path / "backups"
    folder.mkdir()
    before = maintenance.backup(db, folder / "before.db", by="tester")
    assert all(w in before.read_bytes() for w in words[:5])  # they were really there

    retention.apply(db, by="dpo")
    after = maintenance.backup(db, folder / "after.db", by="tester")
    wal = db_path.with_name(db_path.name + "-wal")
    files = [db_path, wal, db_path.with_name(db_path.name + "-shm"), after]
    assert wal.exists()  # the connection is open: its WAL is there, emptied
    found = {f"{f.name}: {w.decode()}" for f in files if f.exists() for w in words if w in f.read_bytes()}
    assert found == set()
    assert sqlite3.connect(str(after)).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert Path(before).exists()  # older backups keep the data: the README says to replace them


def test_an_anonymised_withdrawn_case_cannot_be_reopened_or_edited(db, cli):
    case = ended_case(db, received="2019-05-01", ended="2019-06-03", status="withdrawn", reason="moved_away")
    retention.apply(db, by="dpo")
    with pytest.raises(NotAllowed, match="anonymised under the retention schedule and cannot be reopened"):
        workflow.move(db, case["ref"], "triage", by="tester")
    assert referrals.case_row(db, case["ref"])["status"] == "withdrawn"
    result = cli("referral", "edit", case["ref"], "--phone", "020 7946 0002")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {case['ref']} was anonymised under the retention schedule: its details can no longer be changed")
