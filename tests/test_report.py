"""`report summary`: the operational figures of a period, as numbers and as a terminal view."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from test_county import add_case, add_fund, add_line, add_money, add_survey

from thcli import county, report


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


@pytest.fixture
def quarter(db):
    """Three cases referred in 2026Q2, and one referred before it but fitted in it."""
    a = add_case(db, received="2026-04-07", route="idva", district="northmoor", risk_level="medium",
                 status="fitted", fitted_on="2026-04-17")
    add_survey(db, a, "2026-04-09")
    add_line(db, a, fitted_on="2026-04-17")
    b = add_case(db, received="2026-05-05", route="marac", district="southvale", risk_level="high",
                 status="fitted", fitted_on="2026-05-12")
    add_survey(db, b, "2026-05-06")
    add_case(db, received="2026-06-10", route="idva", district="northmoor", risk_level="standard",
             status="declined", reason="out_of_area", closed_on="2026-06-11")
    d = add_case(db, received="2026-03-20", risk_level="standard", status="fitted", fitted_on="2026-04-02")
    add_survey(db, d, "2026-03-25")
    opcc = add_fund(db, "opcc", code="opcc_2026_27")
    hpg = add_fund(db, "hpg", code="hpg_2026_27")
    add_money(db, "payment", -10000, fund_id=opcc, case_id=a, on="2026-05-01")
    add_money(db, "refund", 2000, fund_id=opcc, case_id=a, on="2026-05-02")
    add_money(db, "payment", -5000, fund_id=opcc, case_id=b, on="2026-06-15")
    wrong = add_money(db, "payment", -3000, fund_id=hpg, case_id=b, on="2026-06-20")
    add_money(db, "correction", 3000, fund_id=hpg, case_id=b, on="2026-06-21", corrects_id=wrong)
    add_money(db, "payment", -7000, fund_id=opcc, case_id=d, on="2026-07-01")
    return db


EXPECTED = {
    "scheme": "Test Sanctuary Scheme",
    "period": {"label": "2026Q2", "from": "2026-04-01", "to": "2026-06-30"},
    "referrals": {
        "total": 3,
        "per_month": [{"month": "2026-04", "count": 1}, {"month": "2026-05", "count": 1},
                      {"month": "2026-06", "count": 1}],
        "by_route": [{"code": "idva", "label": "IDVA", "count": 2}, {"code": "marac", "label": "MARAC", "count": 1}],
        "by_district": [{"code": "northmoor", "label": "Northmoor", "count": 2},
                        {"code": "southvale", "label": "Southvale", "count": 1}],
        "by_risk": [{"code": "high", "label": "High", "count": 1}, {"code": "medium", "label": "Medium", "count": 1},
                    {"code": "standard", "label": "Standard", "count": 1}],
    },
    "conversion": {"referred": 3, "surveyed": 2, "fitted": 2, "percent_fitted": 66.7},
    # First surveyed in the quarter: A after 2 working days, B after 1 (D was surveyed in March).
    "days_to_survey": {"cases": 2, "median": 1.5, "p90": 2},
    # Fitted in the quarter: A after 8 working days, B after 5, D after 9 (Easter Monday is not one).
    "days_to_fit": {"cases": 3, "median": 8, "p90": 9},
    # B is high risk (48 hours) and took a week.
    "within_target": {"fitted": 3, "within": 2, "percent": 66.7},
    "spend": {
        "total_pence": 13000,
        "by_fund": [{"fund": "hpg_2026_27", "name": "Fund 2", "source": "hpg", "spend_pence": 0},
                    {"fund": "opcc_2026_27", "name": "Fund 1", "source": "opcc", "spend_pence": 13000}],
        "per_household": {"households": 2, "mean_pence": 6500, "min_pence": 5000, "max_pence": 8000},
    },
    "pledges": {"outstanding_pence": 0, "cases": []},
    "outcomes": [{"status": "declined", "reason": "out_of_area", "label": "The home is outside the scheme's area",
                  "count": 1}],
}


def test_the_summary_of_a_quarter(quarter):
    assert report.summary(quarter, county.period(quarter="2026Q2")) == EXPECTED


def test_an_empty_period_has_zeros_and_no_invented_figures(db):
    data = report.summary(db, county.period(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)))
    assert data["referrals"]["per_month"] == [{"month": "2026-01", "count": 0}]
    assert data["conversion"] == {"referred": 0, "surveyed": 0, "fitted": 0, "percent_fitted": None}
    assert data["days_to_fit"] == {"cases": 0, "median": None, "p90": None}
    assert data["within_target"] == {"fitted": 0, "within": 0, "percent": None}
    assert data["spend"]["per_household"] == {"households": 0, "mean_pence": None, "min_pence": None,
                                              "max_pence": None}
    assert data["outcomes"] == []


@pytest.mark.parametrize("values, expected", [
    (list(range(1, 11)), 9), ([5], 5), ([], None), ([3, 1, 2], 3), (list(range(1, 21)), 18)])
def test_the_90th_percentile_is_the_nearest_rank(values, expected):
    assert report.percentile(values, 0.9) == expected


def test_report_summary_json_gives_the_numbers(quarter, cli):
    assert cli.json("report", "summary", "--quarter", "2026Q2") == EXPECTED


def test_report_summary_without_a_period_is_this_financial_year(quarter, cli):
    data = cli.json("report", "summary")
    assert data["period"] == {"label": "2026/27", "from": "2026-04-01", "to": "2027-03-31"}
    assert [m["month"] for m in data["referrals"]["per_month"]][:2] == ["2026-04", "2026-05"]
    assert len(data["referrals"]["per_month"]) == 12


def test_report_summary_table_shows_bars_and_the_figures(quarter, cli):
    result = cli("report", "summary", "--quarter", "2026Q2", "--format", "table")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("Test Sanctuary Scheme: 2026Q2 (01/04/2026 to 30/06/2026)\n")
    assert "Referrals per month" in text
    april = next(line for line in text.splitlines() if line.startswith(" Apr 2026"))
    assert "█" * 40 in april and april.rstrip().endswith("1")
    for expected in ("By route", "IDVA", "By district", "Northmoor", "By risk", "2 (66.7%)",
                     "median 1.5, 90th percentile 2 (2 cases surveyed in the period)",
                     "median 8, 90th percentile 9 (3 cases fitted in the period)", "2 of those 3 (66.7%)",
                     "Fund 1 (opcc_2026_27)", "£130.00",
                     "Per household: mean £65.00, from £50.00 to £80.00 (2 households)",
                     "The home is outside the scheme's area"):
        assert expected in text, expected


def test_report_summary_refuses_csv_and_bad_periods(db, cli):
    result = cli("report", "summary", "--format", "csv")
    assert result.exit_code == 2
    assert "'csv' is not one of 'table', 'json'" in result.stderr
    result = cli("report", "summary", "--quarter", "2026Q9")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --quarter: '2026Q9' is not a quarter")


def test_report_help_has_an_example(cli):
    result = cli("report", "summary", "--help")
    assert result.exit_code == 0 and "Example: thcli report summary" in result.stdout
