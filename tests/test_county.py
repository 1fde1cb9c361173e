"""Domain tests of the county export (COUNTY_EXPORT.md): periods, pseudonyms, the case extract, the return.

The helpers at the top build cases straight into the tables, so that each
expected value is known exactly; test_county_cli.py and test_report.py use them too.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import inspect
import io
import itertools

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from thcli import county
from thcli.errors import BadInput, DatabaseProblem

SECRET = "county-test-secret"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


# --- helpers (also used by test_county_cli.py and test_report.py) ---------------------------

NOW = "2026-11-20T10:00:00Z"


def set_secret(db, value: str = SECRET) -> None:
    db.conn.execute("UPDATE secrets SET value = ? WHERE name = 'county_hmac'", [value])
    db.conn.commit()


def mac(text: str, secret: str = SECRET) -> str:
    """The pseudonym worked out independently, with the standard library's hmac."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:16]


def add_client(db, **fields) -> int:
    row = {"name": "Alex Example", "name_key": "alex example", "dob": None, "gender": "woman",
           "ethnicity": "white", "disabled": 0, "interpreter": 0, "nrpf": 0, "lgbt": 0,
           "mental_health_needs": 0, "substance_use_needs": 0, "created_at": NOW, **fields}
    cursor = db.conn.execute(
        f"INSERT INTO clients ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    db.conn.commit()
    return cursor.lastrowid


def add_case(db, *, client_id: int | None = -1, received: str = "2026-05-05", county_consent: bool = True,
             **fields) -> int:
    """A case straight into the table (a client of its own unless client_id is given or None).

    With ``county_consent`` (the default) the client consented to county sharing when referred, so that
    the case is in the case extract (issue 11: only such cases are).
    """
    if client_id == -1:
        client_id = add_client(db)
    year = received[:4]
    number = db.conn.execute("SELECT count(*) FROM cases WHERE ref LIKE ?", [f"TH-{year}-%"]).fetchone()[0] + 1
    row = {"ref": f"TH-{year}-{number:04d}", "client_id": client_id, "status": "new", "received_on": received,
           "district": "northmoor", "route": "idva", "risk_level": "medium", "emergency": 0, "marac": 0,
           "adults": 1, "children": 0, "tenure": "owner", "created_at": NOW, "updated_at": NOW, **fields}
    cursor = db.conn.execute(
        f"INSERT INTO cases ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    if county_consent:
        db.conn.execute("INSERT INTO consents (case_id, scope, given_on, given_by) VALUES (?, 'county', ?, 't')",
                        [cursor.lastrowid, min(received, NOW[:10])])
    db.conn.commit()
    return cursor.lastrowid


def add_survey(db, case_id: int, surveyed_on: str | None, requested_on: str = "2026-01-01") -> None:
    db.conn.execute("INSERT INTO surveys (case_id, surveyor, requested_on, surveyed_on, created_at) "
                    "VALUES (?, 'PC Sam Surveyexample', ?, ?, ?)", [case_id, requested_on, surveyed_on, NOW])
    db.conn.commit()


def add_line(db, case_id: int, code: str = "door_alarm", *, status: str = "fitted", fitted_on: str | None = None,
             fund_id: int | None = None) -> int:
    number = db.conn.execute("SELECT coalesce(max(line), 0) + 1 FROM measure_lines WHERE case_id = ?",
                             [case_id]).fetchone()[0]
    cursor = db.conn.execute(
        "INSERT INTO measure_lines (case_id, line, code, quantity, unit_cost_pence, estimated_cost_pence, kind, "
        "removable, status, fitted_on, fund_id) VALUES (?, ?, ?, 1, 1500, 1500, 'equipment', 1, ?, ?, ?)",
        [case_id, number, code, status, fitted_on, fund_id])
    db.conn.commit()
    return cursor.lastrowid


def add_fund(db, source: str = "opcc", *, code: str | None = None, year: str = "2026/27") -> int:
    count = db.conn.execute("SELECT count(*) FROM funds").fetchone()[0]
    cursor = db.conn.execute(
        "INSERT INTO funds (code, name, year, source, created_at, created_by) VALUES (?, ?, ?, ?, ?, 'tester')",
        [code or f"fund_{count + 1}", f"Fund {count + 1}", year, source, NOW])
    db.conn.commit()
    return cursor.lastrowid


def add_money(db, kind: str, amount: int, *, fund_id: int, case_id: int | None = None, line_id: int | None = None,
              on: str = "2026-06-01", pledged: int = 0, corrects_id: int | None = None, memo: str | None = None,
              invoice: str | None = None) -> int:
    """A ledger row with the sign convention of schema.sql (the hash chain is not what is tested here)."""
    cursor = db.conn.execute(
        "INSERT INTO ledger (at, on_date, kind, amount_pence, fund_id, case_id, line_id, pledged, corrects_id, "
        "memo, invoice, by, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'tester', 'x', 'x')",
        [NOW, on, kind, amount, fund_id, case_id, line_id, pledged, corrects_id, memo, invoice])
    db.conn.commit()
    return cursor.lastrowid


def set_setting(db, key: str, value: str) -> None:
    db.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    db.conn.commit()


def extract(db, period: county.Period | None = None) -> list[dict]:
    period = period or county.period(year="2026/27")
    return [dict(zip(county.CASE_COLUMNS, row, strict=True)) for row in county.case_rows(db, period)]


def summary(db, period: county.Period | None = None, round_to: int | None = None) -> dict:
    """The aggregate return as {(measure, breakdown, category): value text}."""
    period = period or county.period(year="2026/27")
    return {(r[3], r[4], r[5]): r[6] for r in county.summary_rows(db, period, round_to=round_to)}


# --- periods --------------------------------------------------------------------------------


def test_a_year_is_a_financial_year_and_a_quarter_a_calendar_quarter():
    assert county.period(year="2026/27") == county.Period("2026/27", dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert county.period(year="2026/2027").label == "2026/27"
    assert county.period(quarter="2026q3") == county.Period("2026Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert county.period(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 1)) == county.Period(
        "2026-04-01/2026-04-01", dt.date(2026, 4, 1), dt.date(2026, 4, 1))
    assert county.period(quarter="2026Q4").months() == ["2026-10", "2026-11", "2026-12"]
    assert county.period(year="2026/27").describe() == "2026/27 (01/04/2026 to 31/03/2027)"


def test_without_a_period_an_export_asks_for_one_and_a_report_takes_this_financial_year():
    with pytest.raises(BadInput) as error:
        county.period()
    assert error.value.message == (
        "say which period to export: --year 2026/27, --quarter 2026Q3, or --from 2026-04-01 --to 2026-06-30")
    assert county.period(required=False, today=dt.date(2027, 3, 31)).label == "2026/27"
    assert county.period(required=False, today=dt.date(2027, 4, 1)).label == "2027/28"


@pytest.mark.parametrize("options, message", [
    ({"year": "2026/28"}, "--year: '2026/28': the second year must follow the first, e.g. 2026/27"),
    ({"year": "26/27"}, "--year: '26/27' is not a financial year: write it like 2026/27"),
    ({"quarter": "2026Q5"},
     "--quarter: '2026Q5' is not a quarter: write it like 2026Q3 (calendar quarters Q1 to Q4)"),
    ({"quarter": "2026Q3", "year": "2026/27"},
     "give one period, not --quarter and --year: --year 2026/27, --quarter 2026Q3, or --from 2026-04-01 "
     "--to 2026-06-30"),
    ({"start": dt.date(2026, 4, 1), "year": "2026/27"},
     "give one period, not --from/--to and --year: --year 2026/27, --quarter 2026Q3, or --from 2026-04-01 "
     "--to 2026-06-30"),
    ({"start": dt.date(2026, 5, 1)},
     "--to: the period needs its last day too, e.g. --from 2026-05-01 --to 2026-06-30"),
    ({"end": dt.date(2026, 5, 1)},
     "--from: the period needs its first day too, e.g. --from 2026-04-01 --to 2026-05-01"),
    ({"start": dt.date(2026, 5, 2), "end": dt.date(2026, 5, 1)},
     "--to: the period ends (01/05/2026) before it starts (02/05/2026): swap --from and --to"),
])
def test_a_bad_period_is_refused_with_what_to_write(options, message):
    with pytest.raises(BadInput) as error:
        county.period(**options)
    assert error.value.message == message
    assert error.value.exit_code == 2


# --- pseudonyms and cells ------------------------------------------------------------------


def test_pseudonyms_are_hmac_sha256_of_the_reference_under_the_scheme_secret(db):
    set_secret(db)
    pseudonym = county.pseudonymiser(db)
    assert pseudonym.case("TH-2026-0001") == mac("TH-2026-0001")
    assert pseudonym.client(42) == mac("client:42") == county.client_pseudonym(db, 42)
    long_key = county.Pseudonymiser(b"k" * 100)  # keys longer than a block are hashed first (RFC 2104)
    assert long_key("x") == hmac.new(b"k" * 100, b"x", hashlib.sha256).hexdigest()[:16]
    assert len(pseudonym("anything")) == 16


def test_each_database_has_its_own_secret_and_an_export_without_it_is_refused(db, tmp_path):
    from thcli.db import open_db

    other = open_db(tmp_path / "other.db", create=True)
    mine = db.conn.execute("SELECT value FROM secrets WHERE name = 'county_hmac'").fetchone()[0]
    theirs = other.conn.execute("SELECT value FROM secrets WHERE name = 'county_hmac'").fetchone()[0]
    assert len(mine) == 64 and mine != theirs
    db.conn.execute("DELETE FROM secrets")
    db.conn.commit()
    with pytest.raises(DatabaseProblem) as error:
        county.pseudonymiser(db)
    assert "the county pseudonym secret is missing" in error.value.message


@pytest.mark.parametrize("text, expected", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+44", "'+44"), ("-1", "'-1"), ("@cmd", "'@cmd"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("\nx", "'\nx"), ("\0x", "'\0x"), ("   =1", "'   =1"), ("a=1", "a=1"), ("", ""),
    (None, ""), ("owner", "owner"), ("'=1", "'=1"),
])
def test_text_that_a_spreadsheet_would_run_is_defused(text, expected):
    assert county.defuse(text) == expected


@given(st.text(max_size=12))
def test_csv_cell_quotes_exactly_as_the_csv_module_does(text):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([text, "x"])
    assert buffer.getvalue() == county.csv_cell(text) + ",x\r\n"


# --- the case extract -------------------------------------------------------------------------


@pytest.fixture
def scheme(db):
    """Four cases referred in 2026/27 (one anonymised) and one before it, with known figures."""
    set_secret(db)
    client = add_client(db, dob="1990-05-06", gender="woman", ethnicity="asian", disabled=1, lgbt=None,
                        mental_health_needs=0, substance_use_needs=None, nrpf=0, interpreter=1)
    a = add_case(db, client_id=client, received="2026-05-05", route="idva", risk_level="medium", marac=1,
                 tenure="private_rented", adults=2, children=3, status="closed", reason="completed",
                 fitted_on="2026-05-15", closed_on="2026-11-02")
    add_survey(db, a, "2026-05-08")
    add_survey(db, a, None)
    opcc, hpg = add_fund(db, "opcc"), add_fund(db, "hpg")
    first = add_line(db, a, "door_alarm", fitted_on="2026-05-15", fund_id=opcc)
    add_line(db, a, "window_alarm", fitted_on="2026-05-12", fund_id=opcc)
    add_line(db, a, "door_alarm", fitted_on="2026-05-15", fund_id=opcc)
    add_line(db, a, "lock_change_door", status="declined", fund_id=hpg)
    add_money(db, "payment", -5000, fund_id=opcc, case_id=a, line_id=first)
    wrong = add_money(db, "payment", -2500, fund_id=opcc, case_id=a, line_id=first)
    add_money(db, "refund", 1000, fund_id=opcc, case_id=a, line_id=first)
    add_money(db, "correction", 2500, fund_id=opcc, case_id=a, line_id=first, corrects_id=wrong)
    add_money(db, "release", 4000, fund_id=opcc, case_id=a, line_id=first)
    add_money(db, "contribution", 1500, fund_id=opcc, case_id=a)
    add_money(db, "contribution", 9999, fund_id=opcc, case_id=a, pledged=1)
    given_back = add_money(db, "contribution", 700, fund_id=opcc, case_id=a)
    add_money(db, "correction", -700, fund_id=opcc, case_id=a, corrects_id=given_back)

    add_client_code = "INSERT INTO codes (list, code, label) VALUES ('gender', 'self_described', 'Self-described')"
    db.conn.execute(add_client_code)
    db.conn.commit()
    b = add_case(db, client_id=add_client(db, gender="self_described", ethnicity=None, disabled=None),
                 received="2026-06-01", route="self", risk_level="high", emergency=1, marac=None, tenure=None,
                 adults=None, children=None, status="survey")
    c = add_case(db, client_id=client, received="2026-10-01", status="declined", reason="out_of_area",
                 closed_on="2026-10-02")
    db.conn.execute("INSERT INTO case_repeats (case_id, earlier_case_id) VALUES (?, ?)", [c, a])
    d = add_case(db, client_id=None, client_pseudonym="abcdef0123456789", received="2026-04-01",
                 district="southvale", status="withdrawn", reason="client_withdrew", closed_on="2026-04-20")
    add_case(db, received="2026-03-31")
    db.conn.commit()
    return {"client": client, "a": a, "b": b, "c": c, "d": d, "opcc": opcc, "hpg": hpg}


def test_the_extract_has_the_columns_of_the_contract_in_order():
    # Version 2 (issue 17): pseudonym_scope straight after client_pseudonym, nothing else changed.
    assert county.CASE_COLUMNS_V1 == tuple(c for c in county.CASE_COLUMNS if c != "pseudonym_scope")
    assert county.CASE_COLUMNS.index("pseudonym_scope") == county.CASE_COLUMNS.index("client_pseudonym") + 1
    assert county.CASE_COLUMNS_V1 == (
        "spec_version", "scheme_code", "district", "case_pseudonym", "client_pseudonym", "referral_month",
        "referral_route", "risk_level", "marac", "emergency", "repeat_referral", "tenure", "adults", "children",
        "age_band", "gender", "ethnicity", "disabled", "lgbt", "mental_health_needs", "substance_use_needs", "nrpf",
        "interpreter_needed", "status", "outcome_reason", "days_to_survey", "days_to_fit", "within_target",
        "measures_fitted", "cost_total", "contributions_total", "funds", "closed_month")


def test_one_row_per_case_referred_in_the_period_in_referral_order(db, scheme):
    rows = extract(db)
    assert [r["case_pseudonym"] for r in rows] == [
        mac("TH-2026-0004"), mac("TH-2026-0001"), mac("TH-2026-0002"), mac("TH-2026-0003")]
    assert [r["case_pseudonym"] for r in extract(db, county.period(quarter="2026Q1"))] == [mac("TH-2026-0005")]


def test_a_completed_case_with_money_refunds_and_corrections(db, scheme):
    row = extract(db)[1]
    assert row == {
        "spec_version": "thcli-county-2", "scheme_code": "test", "district": "northmoor",
        "case_pseudonym": mac("TH-2026-0001"), "client_pseudonym": mac(f"client:{scheme['client']}"),
        "pseudonym_scope": "scheme",
        "referral_month": "2026-05", "referral_route": "idva", "risk_level": "medium", "marac": "yes",
        "emergency": "no", "repeat_referral": "no", "tenure": "private_rented", "adults": 2, "children": 3,
        "age_band": "35-44", "gender": "woman", "ethnicity": "asian", "disabled": "yes", "lgbt": "unknown",
        "mental_health_needs": "no", "substance_use_needs": "unknown", "nrpf": "no", "interpreter_needed": "yes",
        "status": "completed", "outcome_reason": "completed",
        "days_to_survey": 3,          # Wednesday, Thursday, Friday after Tuesday 5 May
        "days_to_fit": 8,
        "within_target": "yes",       # medium risk: 10 working days, due 19 May
        "measures_fitted": "door_alarm;window_alarm",
        "cost_total": "40.00",        # 50 + 25 paid, 10 refunded, the 25 corrected away
        "contributions_total": "15.00",  # the pledge is not received; the 7 was corrected away
        "funds": "opcc",              # the declined line's fund was never charged
        "closed_month": "2026-11",
    }


def test_unknowns_and_unmapped_codes_become_unknown_or_not_stated_never_empty(db, scheme):
    row = extract(db)[2]
    assert {k: row[k] for k in ("referral_route", "risk_level", "marac", "emergency", "tenure", "adults", "children",
                                "age_band", "gender", "ethnicity", "disabled", "status", "outcome_reason",
                                "days_to_survey", "days_to_fit", "within_target", "measures_fitted",
                                "cost_total", "contributions_total", "funds", "closed_month")} == {
        "referral_route": "self", "risk_level": "high", "marac": "unknown", "emergency": "yes",
        "tenure": "unknown", "adults": "", "children": "", "age_band": "unknown", "gender": "not_stated",
        "ethnicity": "not_stated", "disabled": "unknown", "status": "open", "outcome_reason": "",
        "days_to_survey": "", "days_to_fit": "",
        "within_target": "no",        # an emergency: due the next day, and still not fitted
        "measures_fitted": "", "cost_total": "0.00", "contributions_total": "0.00", "funds": "",
        "closed_month": "",
    }


def test_a_repeat_referral_keeps_the_client_pseudonym(db, scheme):
    rows = extract(db)
    assert rows[3]["repeat_referral"] == "yes"
    assert rows[3]["client_pseudonym"] == rows[1]["client_pseudonym"]
    assert (rows[3]["status"], rows[3]["outcome_reason"], rows[3]["closed_month"]) == (
        "declined", "out_of_area", "2026-10")
    assert rows[3]["within_target"] == "pending"  # declined the day after referral, before its target date


def test_an_anonymised_case_uses_its_stored_client_pseudonym(db, scheme):
    row = extract(db)[0]
    assert row["client_pseudonym"] == "abcdef0123456789"
    assert (row["district"], row["age_band"], row["gender"], row["ethnicity"], row["disabled"], row["nrpf"]) == (
        "southvale", "unknown", "not_stated", "not_stated", "unknown", "unknown")
    assert (row["status"], row["outcome_reason"]) == ("withdrawn", "client_withdrew")
    db.conn.execute("UPDATE cases SET status = 'triage' WHERE id = ?", [scheme["d"]])  # came back
    db.conn.commit()
    assert [extract(db)[0][k] for k in ("status", "outcome_reason", "closed_month")] == ["open", "", ""]
    db.conn.execute("UPDATE cases SET client_pseudonym = NULL WHERE id = ?", [scheme["d"]])
    db.conn.commit()
    assert extract(db)[0]["client_pseudonym"] == mac("client-of:TH-2026-0004")  # its own, never shared


def test_codes_are_mapped_to_the_county_codes(db, scheme):
    db.conn.execute("INSERT INTO codes (list, code, label, county_code) VALUES "
                    "('route', 'dv_officer', 'DV officer', 'police'), ('route', 'church', 'Church', NULL)")
    add_case(db, received="2026-12-01", route="dv_officer")
    add_case(db, received="2026-12-02", route="church")
    add_case(db, received="2026-12-03", route="gone_from_the_list")
    assert [r["referral_route"] for r in extract(db)[-3:]] == ["police", "unknown", "unknown"]


@pytest.mark.parametrize("risk, emergency, fitted_on, status, closed_on, expected", [
    ("medium", 0, "2026-11-19", "fitted", None, "yes"),      # 10 working days from 5 Nov: due 19 Nov
    ("medium", 0, "2026-11-20", "fitted", None, "no"),
    ("high", 0, "2026-11-07", "fitted", None, "yes"),        # 48 hours: due 7 Nov
    ("high", 0, "2026-11-09", "fitted", None, "no"),
    ("standard", 1, "2026-11-06", "fitted", None, "yes"),    # an emergency: 1 day
    ("medium", 0, None, "works", None, "no"),                # due 19 Nov, today is 20 Nov
    ("high", 0, None, "withdrawn", "2026-11-06", "pending"),  # ended before it was due
    ("high", 0, None, "withdrawn", "2026-11-09", "no"),       # ended after it was due, nothing fitted
])
def test_within_target_against_the_case_fitting_target(db, risk, emergency, fitted_on, status, closed_on,
                                                        expected):
    set_secret(db)
    add_case(db, received="2026-11-05", risk_level=risk, emergency=emergency, fitted_on=fitted_on, status=status,
             closed_on=closed_on)
    assert extract(db)[0]["within_target"] == expected


def test_a_case_not_yet_due_is_pending(db):
    add_case(db, received="2026-11-19", risk_level="medium", status="survey")
    assert extract(db)[0]["within_target"] == "pending"


def test_a_net_refund_stays_a_negative_number(db):
    case = add_case(db)
    fund = add_fund(db)
    add_money(db, "payment", -1000, fund_id=fund, case_id=case)
    add_money(db, "refund", 1250, fund_id=fund, case_id=case)
    assert extract(db)[0]["cost_total"] == "-2.50"


def test_the_extract_is_streamed_from_a_cursor(db, scheme):
    rows = county.case_rows(db, county.period(year="2026/27"))
    assert inspect.isgenerator(rows)
    first = next(rows)
    assert first[0] == "thcli-county-2"
    rows.close()


def test_the_benchmark_statement_selects_what_the_export_reads(db, scheme):
    sql = county.CASE_COLUMNS_SQL.format(year="2026/27")
    shell = db.conn.execute(sql).fetchall()
    exported = db.conn.execute(county.extract._CASE_SELECT.replace("{where}", county.extract._REFERRED),
                               county.period(year="2026/27").params()).fetchall()
    assert shell == exported and len(shell) == 4
    assert [r[1] for r in db.conn.execute(county.CASE_COLUMNS_SQL.format(year="2025/26"))] == ["TH-2026-0005"]


# --- never in the case extract ----------------------------------------------------------------

PLANTED = {
    "--name": "Zebedee Plantedname", "--dob": "1987-06-15", "--address": "77 Plantedstreet Road, Plantedtown",
    "--postcode": "ZZ9 7PL", "--phone": "020 7946 0123", "--email": "planted.client@example.org",
    "--safe-times": "Safetimesplanted", "--third-party": "Thirdpartyplanted Person",
    "--third-party-phone": "020 7946 0777", "--referrer": "Rita Referrerplanted",
    "--referrer-org": "Referrerorgplanted", "--referrer-role": "Referrerroleplanted",
    "--referrer-phone": "020 7946 0888", "--referrer-email": "planted.referrer@example.org",
    "--crime-ref": "CRIMEREFPLANTED", "--support-worker": "Supportworkerplanted",
    "--landlord": "Landlordplanted Lettings", "--landlord-email": "planted.landlord@example.org",
    "--landlord-phone": "020 7946 0999", "--perpetrator-name": "Quentin Perpplanted",
    "--perpetrator-notes": "Perpnotesplanted", "--perpetrator-court-orders": "Courtorderplanted",
    "--note": "Noteplanted free text", "--language": "Languageplanted", "--access-needs": "Accessneedsplanted",
    "--children-ages": "4, 9",
}


def test_no_personal_value_ever_reaches_the_case_extract(db, cli, tmp_path):
    args = ["referral", "add", "--district", "northmoor", "--route", "idva", "--risk", "high", "--received",
            "2026-11-18", "--tenure", "private_rented", "--children", "2", "--marac", "--consent", "county"]
    for option, value in PLANTED.items():
        args += [option, value]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    case_id = db.conn.execute("SELECT id FROM cases").fetchone()[0]
    add_survey(db, case_id, "2026-11-19")
    db.conn.execute("UPDATE surveys SET notes = 'Surveynotesplanted'")
    line = add_line(db, case_id, fitted_on="2026-11-20", fund_id=add_fund(db))
    db.conn.execute("UPDATE measure_lines SET location = 'Locationplanted', over_cap_reason = 'Overcapplanted'")
    db.conn.execute("INSERT INTO followups (case_id, done_on, outcome, note, by, at) "
                    "VALUES (?, '2026-11-20', 'feels_safer', 'Followupplanted', 'tester', ?)", [case_id, NOW])
    add_money(db, "payment", -1500, fund_id=1, case_id=case_id, line_id=line, memo="Memoplanted",
              invoice="INVPLANTED")
    db.conn.execute("INSERT INTO events (case_id, at, kind, detail, by) VALUES (?, ?, 'note', 'Eventplanted', "
                    "'Byplanted')", [case_id, NOW])
    db.conn.commit()
    out = tmp_path / "cases.csv"
    result = cli("export", "cases", "--year", "2026/27", "--out", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert len(text.splitlines()) == 2
    forbidden = [v for k, v in PLANTED.items() if k != "--children-ages"] + [
        "Plantedname", "Zebedee", "Plantedstreet", "ZZ9", "7946", "496 0", "example.org", "15/06/1987",
        "1987", "Surveynotesplanted", "Locationplanted", "Overcapplanted", "Followupplanted", "Memoplanted",
        "INVPLANTED", "Eventplanted", "Byplanted", "Perpplanted", "TH-2026-0001", "2026-11-18", "4, 9",
        "Sam Surveyexample", "test.coordinator"]
    found = [value for value in forbidden if value.lower() in text.lower()]
    assert found == []


# --- formula injection ------------------------------------------------------------------------

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "\0"]
dangerous = st.builds(lambda spaces, trigger, rest: " " * spaces + trigger + rest,
                      st.integers(0, 3), st.sampled_from(TRIGGERS),
                      st.text(st.characters(blacklist_categories=("Cs",)), max_size=8))

CASE_NUMBERS = {"adults", "children", "days_to_survey", "days_to_fit", "cost_total", "contributions_total"}


def _parse(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _starts_with_trigger(cell: str) -> bool:
    return cell.lstrip(" ").startswith(tuple(TRIGGERS))


_days = itertools.count()


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(dangerous, min_size=9, max_size=9))
def test_no_exported_text_cell_starts_with_a_formula_trigger(db, tmp_path, texts):
    # Each example has a day of its own (the ledger keeps every row), exported alone.
    day = (dt.date(2026, 4, 1) + dt.timedelta(days=next(_days))).isoformat()
    set_setting(db, "scheme_code", texts[0])
    set_setting(db, "suppression_threshold", "0")  # every figure shown, money too
    db.conn.execute("UPDATE codes SET county_code = ? WHERE list = 'route' AND code = 'idva'", [texts[1]])
    db.conn.execute("UPDATE codes SET county_code = ? WHERE list = 'tenure' AND code = 'owner'", [texts[2]])
    fund = add_fund(db, texts[3])
    case = add_case(db, received=day, district=texts[4], status="closed", reason=texts[5], fitted_on=day,
                    closed_on=day)
    add_line(db, case, texts[6], fitted_on=day, fund_id=fund)
    add_line(db, case, texts[7], fitted_on=day, fund_id=fund)
    add_money(db, "payment", -1000, fund_id=fund, case_id=case, on=day)
    add_money(db, "refund", 1234, fund_id=fund, case_id=case, on=day)
    db.conn.execute("INSERT INTO codes (list, code, label) VALUES ('outcome_reason', ?, 'x') "
                    "ON CONFLICT DO NOTHING", [texts[8]])
    db.conn.commit()
    period = county.period(start=dt.date.fromisoformat(day), end=dt.date.fromisoformat(day))

    buffer = io.BytesIO()
    county.export_cases(db, period, by="tester", stream=buffer)
    rows = _parse(buffer.getvalue())
    assert [len(r) for r in rows] == [34, 34]
    cells = dict(zip(rows[0], rows[1], strict=True))
    for column, cell in cells.items():
        if column in CASE_NUMBERS:
            float(cell or 0)
        else:
            assert not _starts_with_trigger(cell), (column, cell)
    assert cells["cost_total"] == "-2.34"
    assert cells["scheme_code"] == "'" + texts[0]

    buffer = io.BytesIO()
    county.export_summary(db, period, by="tester", stream=buffer)
    rows = _parse(buffer.getvalue())
    assert {len(r) for r in rows} == {7}
    assert len(rows) == 1 + len(county.summary_cells(db, period))
    for row in rows[1:]:
        assert not any(_starts_with_trigger(cell) for cell in row[:6]), row
        value = row[6]
        if value not in ("n/a", "suppressed") and not value.startswith("<"):
            float(value)
    assert ["spend", "all", "all", "-2.34"] == rows[[r[3:5] for r in rows].index(["spend", "all"])][3:]


# --- the aggregate return -------------------------------------------------------------------------


def test_the_return_counts_every_measure_of_the_contract(db, scheme):
    set_setting(db, "suppression_threshold", "0")
    figures = summary(db)
    assert sorted({measure for measure, _, _ in figures}) == sorted(county.MEASURES)
    assert figures[("referrals", "all", "all")] == "4"
    assert figures[("referrals", "district", "northmoor")] == "3"
    assert figures[("referrals", "district", "southvale")] == "1"
    assert figures[("referrals", "referral_route", "self")] == "1"
    assert figures[("referrals", "risk_level", "high")] == "1"
    assert figures[("referrals", "tenure", "unknown")] == "1"
    # Case A had measures fitted in May; it is the only household supported.
    assert figures[("households_supported", "all", "all")] == "1"
    assert figures[("households_supported", "age_band", "35-44")] == "1"
    assert figures[("households_supported", "lgbt", "unknown")] == "1"
    assert figures[("individuals_supported_adults", "all", "all")] == "2"
    assert figures[("individuals_supported_children", "district", "northmoor")] == "3"
    assert figures[("measures_fitted", "all", "all")] == "3"
    assert figures[("measures_fitted", "measure_code", "door_alarm")] == "2"
    # Declined (C), and withdrawn with nothing fitted (D): unable to support; A's support ended.
    assert figures[("households_unable_to_support", "all", "all")] == "2"
    assert figures[("households_unable_to_support", "outcome_reason", "out_of_area")] == "1"
    assert figures[("households_unable_to_support", "outcome_reason", "client_withdrew")] == "1"
    assert figures[("households_support_ended", "all", "all")] == "1"
    assert figures[("households_support_ended", "outcome_reason", "completed")] == "1"
    assert figures[("spend", "all", "all")] == "40.00"
    assert figures[("spend", "fund_source", "opcc")] == "40.00"
    assert figures[("spend", "fund_source", "hpg")] == "0.00"
    assert figures[("contributions", "all", "all")] == "15.00"
    assert figures[("median_days_to_fit", "all", "all")] == "8"
    assert figures[("median_days_to_fit", "risk_level", "high")] == "n/a"
    assert figures[("percent_within_target", "all", "all")] == "100.0"


def test_every_breakdown_adds_up_to_its_total(db, scheme):
    set_setting(db, "suppression_threshold", "0")
    cells = county.summary_cells(db, county.period(year="2026/27"))
    totals = {c.measure: c.value for c in cells if c.breakdown == "all"}
    sums: dict = {}
    for c in cells:
        if c.breakdown != "all" and c.additive:
            sums[(c.measure, c.breakdown)] = sums.get((c.measure, c.breakdown), 0) + c.value
    assert sums and all(total == totals[measure] for (measure, _), total in sums.items())


def test_the_summary_rows_have_the_contract_columns(db, scheme):
    rows = county.summary_rows(db, county.period(quarter="2026Q2"))
    assert county.SUMMARY_COLUMNS == ("spec_version", "scheme_code", "period", "measure", "breakdown", "category",
                                      "value")
    assert rows[0] == ["thcli-county-2", "test", "2026Q2", "referrals", "all", "all", "<5"]


def cell(measure, breakdown, category, value, cases=None, kind="count"):
    return county.Cell(measure, breakdown, category, value, value if cases is None else cases, kind)


def shown(cells):
    return [county.cell_text(c) for c in cells]


def test_small_counts_are_written_below_the_threshold_and_zero_stays_zero():
    cells = [cell("referrals", "all", "all", 20), cell("referrals", "district", "a", 12),
             cell("referrals", "district", "b", 8), cell("referrals", "district", "c", 0)]
    county.protect(cells, 5)
    assert shown(cells) == ["20", "12", "8", "0"]
    cells = [cell("referrals", "all", "all", 4), cell("referrals", "district", "a", 4),
             cell("referrals", "district", "b", 0)]
    county.protect(cells, 5)
    assert shown(cells) == ["<5", "<5", "0"]


def test_one_hidden_cell_hides_the_next_smallest_non_zero_one_too():
    cells = [cell("referrals", "all", "all", 30), cell("referrals", "district", "a", 3),
             cell("referrals", "district", "b", 0), cell("referrals", "district", "c", 12),
             cell("referrals", "district", "d", 9), cell("referrals", "district", "e", 6)]
    county.protect(cells, 5)
    assert shown(cells) == ["30", "<5", "0", "12", "9", "suppressed"]


def test_a_hidden_cell_beside_only_zeros_hides_a_zero_and_alone_hides_the_total():
    # Children: 6 in all, all in district a (from 3 households); b's households have none.
    cells = [cell("children", "all", "all", 6, cases=8), cell("children", "district", "a", 6, cases=3),
             cell("children", "district", "b", 0, cases=5)]
    county.protect(cells, 5)
    assert shown(cells) == ["6", "suppressed", "suppressed"]  # a shown 0 would give a's 6 away
    cells = [cell("children", "all", "all", 6, cases=8), cell("children", "district", "a", 6, cases=3)]
    county.protect(cells, 5)
    assert shown(cells) == ["suppressed", "suppressed"]


def test_two_hidden_cells_need_no_more():
    cells = [cell("referrals", "all", "all", 30), cell("referrals", "district", "a", 3),
             cell("referrals", "district", "b", 2), cell("referrals", "district", "c", 25)]
    county.protect(cells, 5)
    assert shown(cells) == ["30", "<5", "<5", "25"]


def test_money_and_medians_of_few_cases_are_suppressed_and_money_protected_like_counts():
    cells = [cell("spend", "all", "all", 90000, 9, "money"), cell("spend", "fund_source", "opcc", 10000, 2, "money"),
             cell("spend", "fund_source", "hpg", 50000, 5, "money"),
             cell("spend", "fund_source", "donations", 30000, 2, "money"),
             cell("spend", "fund_source", "other", 0, 0, "money"),
             cell("median_days_to_fit", "all", "all", 7.5, 6, "median"),
             cell("median_days_to_fit", "district", "a", 4, 4, "median"),
             cell("median_days_to_fit", "district", "b", None, 0, "median"),
             cell("percent_within_target", "all", "all", 66.66, 6, "percent")]
    county.protect(cells, 5)
    assert shown(cells) == ["900.00", "suppressed", "500.00", "suppressed", "0.00", "7.5", "suppressed", "n/a",
                            "66.7"]


def test_a_single_hidden_money_cell_takes_another_with_it():
    cells = [cell("spend", "all", "all", 90000, 12, "money"), cell("spend", "fund_source", "opcc", 10000, 2, "money"),
             cell("spend", "fund_source", "hpg", 50000, 5, "money"),
             cell("spend", "fund_source", "donations", 30000, 5, "money")]
    county.protect(cells, 5)
    assert shown(cells) == ["900.00", "suppressed", "500.00", "suppressed"]


def test_people_in_few_households_are_suppressed_even_when_many():
    cells = [cell("individuals_supported_children", "all", "all", 20, 8),
             cell("individuals_supported_children", "district", "a", 7, 2),
             cell("individuals_supported_children", "district", "b", 13, 6)]
    county.protect(cells, 5)
    assert shown(cells) == ["20", "suppressed", "suppressed"]


def test_rounding_to_five_applies_to_shown_counts_only():
    cells = [cell("referrals", "all", "all", 27), cell("referrals", "district", "a", 3),
             cell("referrals", "district", "b", 17), cell("referrals", "district", "c", 7),
             cell("spend", "all", "all", 12345, 27, "money")]
    county.protect(cells, 5)
    assert [county.cell_text(c, 5) for c in cells] == ["25", "<5", "15", "suppressed", "123.45"]
    assert [county.cell_text(cell("r", "all", "all", v), 5) for v in (0, 5, 7, 8, 12, 13)] == [
        "0", "5", "5", "10", "10", "15"]


def test_the_threshold_is_a_setting(db, scheme):
    set_setting(db, "suppression_threshold", "3")
    figures = summary(db)
    assert figures[("referrals", "all", "all")] == "4"
    assert figures[("referrals", "district", "southvale")] == "<3"
    assert figures[("referrals", "district", "northmoor")] == "suppressed"  # else 4 - 3 gives southvale away
    assert figures[("spend", "all", "all")] == "suppressed"  # one household's spend
    set_setting(db, "suppression_threshold", "1")
    assert summary(db)[("referrals", "district", "southvale")] == "1"


@st.composite
def breakdowns(draw):
    """A measure with one to three breakdowns of small counts that add up to the same total."""
    total = draw(st.integers(0, 40))
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 7))
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=size - 1, max_size=size - 1)))
        groups.append([b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)])
    return total, groups


@hsettings(max_examples=300, deadline=None)
@given(breakdowns(), st.integers(2, 7))
def test_no_small_count_is_shown_and_no_hidden_cell_follows_from_the_total(drawn, threshold):
    total, groups = drawn
    cells = [cell("referrals", "all", "all", total)]
    for number, group in enumerate(groups):
        cells += [cell("referrals", f"b{number}", f"c{i}", value) for i, value in enumerate(group)]
    county.protect(cells, threshold)
    for c in cells:
        if c.hidden is None:
            assert not 1 <= c.value < threshold
        elif c.hidden.startswith("<"):
            assert 1 <= c.value < threshold and c.hidden == f"<{threshold}"
    if cells[0].hidden is None:
        for number in range(len(groups)):
            hidden = [c for c in cells if c.breakdown == f"b{number}" and c.hidden]
            assert len(hidden) != 1
            shown_sum = sum(c.value for c in cells if c.breakdown == f"b{number}" and not c.hidden)
            assert total - shown_sum == sum(c.value for c in hidden)


DISTRICTS = ["northmoor", "southvale"]
ROUTES = ["self", "marac", "police", "idva"]
RISKS = ["standard", "medium", "high"]

random_case = st.fixed_dictionaries({
    "district": st.sampled_from(DISTRICTS), "route": st.sampled_from(ROUTES), "risk_level": st.sampled_from(RISKS),
    "tenure": st.sampled_from(["owner", "council", None]), "month": st.integers(4, 12),
    "fitted": st.booleans(), "gender": st.sampled_from(["woman", "man", "not_stated"]),
    "children": st.integers(0, 3),
})


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(random_case, max_size=25), threshold=st.integers(2, 6))
def test_small_random_schemes_are_protected_end_to_end(db, cases, threshold):
    db.conn.execute("DELETE FROM measure_lines")
    db.conn.execute("DELETE FROM consents")
    db.conn.execute("DELETE FROM cases")
    set_setting(db, "suppression_threshold", str(threshold))
    for case in cases:
        received = f"2026-{case['month']:02d}-01"
        client = add_client(db, gender=case["gender"])
        case_id = add_case(db, client_id=client, received=received, district=case["district"], route=case["route"],
                           risk_level=case["risk_level"], tenure=case["tenure"], children=case["children"],
                           fitted_on=f"2026-{case['month']:02d}-20" if case["fitted"] else None)
        if case["fitted"]:
            add_line(db, case_id, fitted_on=f"2026-{case['month']:02d}-20")
    rows = county.summary_rows(db, county.period(year="2026/27"))
    raw = {(c.measure, c.breakdown, c.category): c for c in county.summary_cells(db, county.period(year="2026/27"))}
    groups: dict = {}
    for row in rows:
        key = tuple(row[3:6])
        value = row[6]
        c = raw[key]
        if c.kind == "count" and value.isdigit():
            assert not 1 <= int(value) < threshold, row
        if key[1] != "all" and c.additive:
            groups.setdefault(key[:2], []).append(value)
    totals = {row[3]: row[6] for row in rows if row[4] == "all"}
    for (measure, _), values in groups.items():
        total = totals[measure]
        if total.isdigit() or total.replace(".", "", 1).isdigit():
            hidden = [v for v in values if v.startswith("<") or v == "suppressed"]
            assert len(hidden) != 1, (measure, values)
