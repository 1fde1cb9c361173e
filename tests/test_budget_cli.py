"""CLI tests of `thcli budget ...`: exit codes, messages, the JSON and CSV contracts."""

from __future__ import annotations

import csv
import io

import pytest
from freezegun import freeze_time

from tests.test_budget import add_line, approve, decline, fit, new_case

STATUS_KEYS = ["fund", "name", "year", "source", "district", "allocated_pence", "contributions_pence",
               "pledged_pence", "committed_pence", "paid_pence", "remaining_pence", "forecast_pence",
               "months_elapsed", "forecast_passes_fund"]
LEDGER_KEYS = ["id", "at", "on_date", "kind", "amount_pence", "fund", "ref", "line", "invoice", "contributor",
               "pledged", "corrects", "memo", "by"]


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


@pytest.fixture
def opcc(db, cli):
    result = cli("budget", "fund", "add", "Example OPCC", "--year", "2026/27", "--source", "opcc",
                 "--amount", "£15,000")
    assert result.exit_code == 0, result.stderr
    from thcli import budget

    return budget.find_fund(db, "example_opcc_2026_27")


def funds_json(cli) -> list[dict]:
    return cli.json("budget", "fund", "list")


def test_fund_add_says_what_was_added_and_its_code(db, cli):
    result = cli("budget", "fund", "add", "Example OPCC", "--year", "2026/27", "--source", "opcc",
                 "--amount", "£15,000")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Added fund example_opcc_2026_27: Example OPCC, 2026/27, opcc, for every district, "
                             "£15,000.00 allocated. Use it with --fund example_opcc_2026_27.\n")
    result = cli("budget", "fund", "add", "Southvale HPG", "--year", "2026/27", "--source", "hpg", "--amount",
                 "25000", "--district", "southvale", "--code", "hpg_sv")
    assert result.exit_code == 0, result.stderr
    assert [(f["fund"], f["district"], f["allocated_pence"], f["remaining_pence"]) for f in funds_json(cli)] == [
        ("example_opcc_2026_27", None, 1_500_000, 1_500_000), ("hpg_sv", "southvale", 2_500_000, 2_500_000)]


@pytest.mark.parametrize("change, message", [
    ({"--year": "2026-27"}, "Error: Invalid value for '--year': '2026-27' is not a financial year"),
    ({"--year": "2026/28"}, "Error: Invalid value for '--year': '2026/28': the second year must follow the first"),
    ({"--amount": "0"}, "Error: Invalid value for '--amount': '0': the amount must be more than £0.00"),
    ({"--amount": "-5"}, "Error: Invalid value for '--amount': '-5': the amount cannot be negative"),
    ({"--amount": "12.345"}, "Error: Invalid value for '--amount': '12.345' has more decimals than pence"),
    ({"--source": "lottery"}, "Error: --source: unknown fund source 'lottery'"),
    ({"--district": "elsewhere"}, "Error: --district: unknown district 'elsewhere'"),
])
def test_bad_fund_add_is_exit_2_and_saves_nothing(db, cli, change, message):
    options = {"--year": "2026/27", "--source": "opcc", "--amount": "100", **change}
    args = [item for pair in options.items() for item in pair]
    result = cli("budget", "fund", "add", "Example OPCC", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert funds_json(cli) == []


def test_fund_allocate_adds_money(db, cli, opcc):
    result = cli("budget", "fund", "allocate", "example_opcc_2026_27", "--amount", "250", "--memo", "Summer fair")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Allocated £250.00 to example_opcc_2026_27 (ledger entry 2). "
                             "example_opcc_2026_27 has £15,250.00 left.\n")


def test_contribution_received_and_pledged(db, cli, opcc):
    case = new_case(db)
    result = cli("budget", "contribution", case["ref"], "--from", "landlord", "--amount", "150")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("£150.00 received from the landlord for TH-2026-0001, credited to "
                             "example_opcc_2026_27 (ledger entry 2). example_opcc_2026_27 has £15,150.00 left.\n")
    result = cli("budget", "contribution", case["ref"], "--from", "survivor", "--amount", "50", "--pledged")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("£50.00 pledged by the survivor for TH-2026-0001")
    assert funds_json(cli)[0]["pledged_pence"] == 5_000


def test_contribution_without_a_clear_fund_needs_fund_exit_2(db, cli, opcc):
    cli("budget", "fund", "add", "Safe Accommodation", "--year", "2026/27", "--source", "safe_accommodation",
        "--amount", "1000")
    case = new_case(db)
    result = cli("budget", "contribution", case["ref"], "--from", "landlord", "--amount", "150")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --fund: needed, as TH-2026-0001 has no approved measures and 2026/27 has 2 "
                             "funds for northmoor (example_opcc_2026_27, safe_accommodation_2026_27)\n")
    result = cli("budget", "contribution", case["ref"], "--from", "neighbour", "--amount", "150")
    assert result.exit_code == 2
    assert "is not a contributor" in result.stderr
    assert len(cli.json("budget", "ledger")) == 2  # the two allocations only


def test_pay_records_the_invoice_and_releases_the_commitment(db, cli, opcc):
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 8_500), opcc), 8_500)
    result = cli("budget", "pay", case["ref"], "1", "--amount", "85", "--invoice", "INV-1001")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Paid £85.00 on TH-2026-0001 line 1 (invoice INV-1001) from example_opcc_2026_27; "
                             "£85.00 of its commitment released (ledger entries 3, 4). example_opcc_2026_27 has "
                             "£14,915.00 left.\n")


def test_pay_without_invoice_is_exit_2(db, cli, opcc):
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), opcc)
    result = cli("budget", "pay", case["ref"], "1", "--amount", "85")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --invoice: a payment needs the invoice number (or --internal for work by the "
                             "scheme's in-house team)\n")
    result = cli("budget", "pay", case["ref"], "1", "--amount", "85", "--invoice", "  ")
    assert result.exit_code == 2
    assert len(cli.json("budget", "ledger")) == 2


def test_pay_on_a_declined_line_is_exit_1(db, cli, opcc):
    case = new_case(db)
    decline(db, approve(db, case, add_line(db, case, 8_500), opcc))
    result = cli("budget", "pay", case["ref"], "1", "--amount", "85", "--invoice", "INV-1")
    assert result.exit_code == 1
    assert result.stderr == ("Error: TH-2026-0001 line 1 was declined: no payment can be made on a declined "
                             "line\n")


def test_pay_over_the_fund_needs_allow_overspend(db, cli):
    cli("budget", "fund", "add", "Tiny", "--year", "2026/27", "--source", "donations", "--amount", "90")
    from thcli import budget

    tiny = budget.find_fund(db, "tiny_2026_27")
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), tiny)
    result = cli("budget", "pay", case["ref"], "1", "--amount", "100", "--invoice", "INV-2", "--allow-over", "Bolts")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: paying £100.00 on TH-2026-0001 line 1 would take Tiny (tiny_2026_27) below zero by £10.00: it has "
        "£5.00 left. Choose another fund, add money to it (`thcli budget fund allocate`), or go ahead with "
        "--allow-overspend REASON (recorded)\n")
    result = cli("budget", "pay", case["ref"], "1", "--amount", "100", "--invoice", "INV-2", "--allow-over", "Bolts",
                 "--allow-overspend", "Extra bolts needed on the day")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Warning: tiny_2026_27 is overspent by £10.00.\n"


def test_refund_and_correct(db, cli, opcc):
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 8_500), opcc), 8_500)
    cli("budget", "pay", case["ref"], "1", "--amount", "85", "--invoice", "INV-1")
    result = cli("budget", "refund", case["ref"], "1", "--amount", "10", "--invoice", "CN-7")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Refund of £10.00 on TH-2026-0001 line 1 credited to example_opcc_2026_27 "
                             "(ledger entry 5). example_opcc_2026_27 has £14,925.00 left.\n")
    result = cli("budget", "correct", "5", "--reason", "Credit note was for another case")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Entry 5 corrected: -£10.00 on example_opcc_2026_27 (ledger entry 6). "
                             "example_opcc_2026_27 has £14,915.00 left.\n")
    result = cli("budget", "correct", "5", "--reason", "again")
    assert result.exit_code == 1
    assert result.stderr == "Error: entry 5 was already corrected by entry 6\n"
    for bad in (["0", "--reason", "x"], ["five", "--reason", "x"], ["5"]):
        assert cli("budget", "correct", *bad).exit_code == 2


def test_status_json_follows_the_contract(db, cli, opcc):
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 40_000), opcc), 40_000)
    cli("budget", "pay", case["ref"], "1", "--amount", "400", "--invoice", "INV-9")
    rows = cli.json("budget", "status")
    assert rows == [{
        "fund": "example_opcc_2026_27", "name": "Example OPCC", "year": "2026/27", "source": "opcc",
        "district": None, "allocated_pence": 1_500_000, "contributions_pence": 0, "pledged_pence": 0,
        "committed_pence": 0, "paid_pence": 40_000, "remaining_pence": 1_460_000, "forecast_pence": 62_393,
        "months_elapsed": 7.7, "forecast_passes_fund": False}]
    assert list(rows[0]) == STATUS_KEYS
    # `fund` is accepted by --fund
    assert cli("budget", "ledger", "--fund", rows[0]["fund"], "--format", "json").exit_code == 0


def test_status_csv_and_table(db, cli, opcc):
    cli("budget", "fund", "add", "Southvale budget", "--year", "2026/27", "--source", "district_budget",
        "--amount", "100", "--district", "southvale")
    other = new_case(db, district="southvale", name="Sam Sample", postcode="ZZ2 3CD")
    from thcli import budget

    approve(db, other, add_line(db, other, 8_000), budget.find_fund(db, "southvale_budget_2026_27"))
    result = cli("budget", "status", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == STATUS_KEYS
    assert table[2][:12] == ["southvale_budget_2026_27", "Southvale budget", "2026/27", "district_budget",
                             "southvale", "10000", "0", "0", "8000", "0", "2000", "12479"]
    assert result.stderr == ("Warning: Southvale budget (southvale_budget_2026_27): at the rate so far (£80.00 "
                             "in 7.7 months) 2026/27 will need £124.79, more than the fund's £100.00\n")
    result = cli("budget", "status", "--format", "table")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].strip() == "Funds 2026/27 (7.7 of 12 months elapsed)"
    bar = next(line for line in lines if line.startswith("southvale_budget_2026_27") and "▓" in line)
    assert bar.split()[1:] == ["▓" * 24 + "░" * 6, "20%", "(forecast", "over)"]
    assert next(line for line in lines if line.startswith("example_opcc_2026_27") and "░" in line).split()[1:] == [
        "░" * 30, "100%"]
    assert [line.split()[0] for line in lines if line.split() and line.split()[0] in (
        "county-wide", "southvale", "whole")] == ["county-wide", "southvale", "whole"]
    assert lines[-1].split() == ["whole", "scheme", "£15,100.00", "£0.00", "£80.00", "£0.00", "£15,020.00",
                                 "£124.79"]


def test_status_of_an_unknown_year_is_exit_2(db, cli, opcc):
    result = cli("budget", "status", "--year", "2019/20")
    assert result.exit_code == 2
    assert result.stderr == "Error: --year: there are no funds for 2019/20: funds exist for 2026/27\n"
    result = cli("budget", "status", "--year", "2019-20")
    assert result.exit_code == 2


def test_ledger_json_and_csv_follow_the_contract(db, cli, opcc):
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), opcc)
    cli("budget", "pay", case["ref"], "1", "--amount", "50", "--invoice", "INV-5")
    rows = cli.json("budget", "ledger", "--ref", case["ref"])
    assert [(r["id"], r["kind"], r["amount_pence"], r["line"], r["invoice"]) for r in rows] == [
        (2, "commitment", -8_500, 1, None), (3, "payment", -5_000, 1, "INV-5"), (4, "release", 5_000, 1, "INV-5")]
    assert list(rows[0]) == LEDGER_KEYS
    assert rows[1]["by"] == "test.coordinator"
    assert rows[1]["at"] == "2026-11-20T10:00:00Z"
    result = cli("budget", "ledger", "--kind", "payment", "--format", "csv")
    assert result.stdout.splitlines() == [
        ",".join(LEDGER_KEYS),
        "3,2026-11-20T10:00:00Z,2026-11-20,payment,-5000,example_opcc_2026_27,TH-2026-0001,1,INV-5,,no,,,"
        "test.coordinator"]
    for bad, message in ((["--fund", "nope"], "Error: --fund: there is no fund 'nope'"),
                         (["--kind", "spend"], "Error: --kind: 'spend' is not a kind of entry"),
                         (["--year", "2030/31"], "Error: --year: there are no funds for 2030/31")):
        result = cli("budget", "ledger", *bad)
        assert result.exit_code == 2
        assert result.stderr.startswith(message)


def test_ledger_table_shows_pledges_and_corrections(db, cli, opcc):
    case = new_case(db)
    cli("budget", "contribution", case["ref"], "--from", "landlord", "--amount", "150", "--pledged")
    cli("budget", "correct", "1", "--reason", "Wrong amount")
    result = cli("budget", "ledger", "--format", "table")
    assert result.exit_code == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[1] == ["#", "Date", "Kind", "Amount", "Fund", "Case", "Invoice", "Memo"]
    assert lines[4][:6] == ["2", "20/11/2026", "pledge", "£150.00", "example_opcc_2026_27", "TH-2026-0001"]
    assert lines[5][:5] == ["3", "20/11/2026", "correction", "-£15,000.00", "example_opcc_2026_27"]
    assert lines[5][5:] == ["corrects", "1:", "Wrong", "amount"]


def test_referral_show_has_the_money_of_the_case(db, cli, opcc):
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), opcc)
    cli("budget", "contribution", case["ref"], "--from", "landlord", "--amount", "20")
    shown = cli.json("referral", "show", case["ref"])
    assert shown["money"] == {"committed_pence": 8_500, "paid_pence": 0, "contributions_pence": 2_000,
                              "pledged_pence": 0, "funds": [{
                                  "fund": "example_opcc_2026_27", "name": "Example OPCC", "year": "2026/27",
                                  "committed_pence": 8_500, "paid_pence": 0, "contributions_pence": 2_000,
                                  "pledged_pence": 0}]}
    result = cli("referral", "show", case["ref"], "--format", "table")
    assert "committed £85.00, paid £0.00, contributions £20.00" in result.stdout
    assert "Example OPCC (example_opcc_2026_27, 2026/27)" in result.stdout
