"""Issue 11, hole 4: the county case extract holds only cases whose client's county consent stands today.

A case with police consent only, one with no consent at all and one whose
county consent was withdrawn stay out; the command says how many and why;
the aggregate return still counts every case (it identifies no one).
"""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from test_county import add_case, extract, mac, set_secret, summary

from thcli import county, referrals


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


def consent(db, case_id: int, scope: str, given_on: str = "2026-05-05", withdrawn_on: str | None = None) -> None:
    db.conn.execute("INSERT INTO consents (case_id, scope, given_on, given_by, withdrawn_on) VALUES (?, ?, ?, 't', ?)",
                    [case_id, scope, given_on, withdrawn_on])
    db.conn.commit()


@pytest.fixture
def mixed(db):
    """Five cases referred in 2026/27: only the first and the last may go to the county."""
    set_secret(db)
    ids = {}
    ids["county"] = add_case(db, received="2026-05-05")
    ids["police_only"] = add_case(db, received="2026-05-06", county_consent=False)
    consent(db, ids["police_only"], "police")
    ids["none"] = add_case(db, received="2026-05-07", county_consent=False)
    ids["withdrawn"] = add_case(db, received="2026-05-08", county_consent=False)
    consent(db, ids["withdrawn"], "county", withdrawn_on="2026-09-01")
    ids["given_again"] = add_case(db, received="2026-05-09", county_consent=False)
    consent(db, ids["given_again"], "county", withdrawn_on="2026-06-01")
    consent(db, ids["given_again"], "county", given_on="2026-07-01")
    return ids


def test_only_cases_whose_county_consent_stands_are_extracted(db, mixed):
    assert [r["case_pseudonym"] for r in extract(db)] == [mac("TH-2026-0001"), mac("TH-2026-0005")]
    assert county.left_out(db, county.period(year="2026/27")) == {"never_given": 2, "withdrawn": 1}


def test_consent_is_read_on_the_day_of_the_export(db, mixed):
    period = county.period(year="2026/27")
    with freeze_time("2026-08-01"):  # before the withdrawal: that case was still in
        assert len(list(county.case_rows(db, period))) == 3
    consent(db, mixed["none"], "county", given_on="2026-12-01")  # recorded ahead of the day: not yet
    assert len(extract(db)) == 2


def test_the_one_reading_of_consent_agrees_with_the_extract(db, mixed):
    for name, case_id in mixed.items():
        assert referrals.consent_state(db, case_id)["county"] is (name in ("county", "given_again")), name
    assert referrals.consent_state(db, mixed["police_only"])["police"] is True


def test_the_summary_still_counts_every_case(db, mixed):
    assert summary(db)[("referrals", "all", "all")] == "5"


def test_the_export_audit_says_how_many_were_left_out(db, mixed, tmp_path):
    done = county.export_cases(db, county.period(year="2026/27"), by="t", out=tmp_path / "c.csv")
    assert done.rows == 2 and done.left_out == {"never_given": 2, "withdrawn": 1}
    detail = db.conn.execute("SELECT detail FROM audit WHERE action = 'export.cases'").fetchone()[0]
    assert "2 rows; 3 left out without county consent" in detail


def test_the_command_says_how_many_were_left_out_and_why(cli, db, mixed, tmp_path):
    out = tmp_path / "cases.csv"
    result = cli("export", "cases", "--year", "2026/27", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Wrote 2 cases referred in 2026/27 (01/04/2026 to 31/03/2027) to {out}.\n"
        "Left out 3 cases whose client's consent to share with the county partnership does not stand today "
        "(2 never consented, 1 withdrew consent); the summary still counts them.\n")
    assert out.read_bytes().count(b"\r\n") == 3  # the header and two cases
    result = cli("export", "cases", "--year", "2026/27")  # to standard output: the note goes to stderr
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3 and "Left out" not in result.stdout
    assert result.stderr == ("Left out 3 cases whose client's consent to share with the county partnership does not "
                             "stand today (2 never consented, 1 withdrew consent); the summary still counts them.\n")


def test_a_consent_recorded_with_the_referral_command_lets_the_case_in(cli, db):
    set_secret(db)
    def args(name: str) -> list[str]:
        return ["referral", "add", "--name", name, "--postcode", "ZZ1 2AB", "--district", "northmoor",
                "--route", "idva", "--risk", "high", "--received", "2026-11-18"]

    assert cli(*args("Alex Example"), "--consent", "police").exit_code == 0
    assert cli(*args("Sam Sample"), "--consent", "police,county").exit_code == 0
    assert [r["case_pseudonym"] for r in extract(db)] == [mac("TH-2026-0002")]
    assert cli("referral", "consent", "TH-2026-0002", "--scope", "county", "--withdraw").exit_code == 0
    assert extract(db) == []


def test_one_case_left_out_is_said_in_the_singular(cli, db, tmp_path):
    set_secret(db)
    add_case(db, received="2026-05-05")
    add_case(db, received="2026-05-06", county_consent=False)
    result = cli("export", "cases", "--year", "2026/27", "--out", tmp_path / "c.csv")
    assert result.stdout.splitlines()[1] == (
        "Left out 1 case whose client's consent to share with the county partnership does not stand today "
        "(1 never consented); the summary still counts it.")
