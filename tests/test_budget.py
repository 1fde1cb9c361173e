"""Domain tests of the money: funds, the ledger, commitments, payments and their rules."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from freezegun import freeze_time

from thcli import budget, case_view, referrals, settings
from thcli.db import one, write
from thcli.errors import BadInput, NotAllowed, NotFound, WouldOverspend
from thcli.referrals import ReferralInput

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


# --- helpers ----------------------------------------------------------------------


def new_case(db, *, district="northmoor", name="Alex Example", postcode="ZZ1 2AB") -> dict:
    ref = referrals.add_referral(db, ReferralInput(
        name=name, postcode=postcode, district=district, route="idva", risk_level="high",
        received_on=dt.date(2026, 11, 18)), by="tester").ref
    return referrals.case_row(db, ref)


def add_line(db, case: dict, estimate: int, *, kind: str = "equipment", code: str = "door_alarm",
             status: str = "recommended") -> dict:
    with write(db):
        number = db.conn.execute("SELECT coalesce(max(line), 0) + 1 FROM measure_lines WHERE case_id = ?",
                                 [case["id"]]).fetchone()[0]
        line_id = db["measure_lines"].insert({
            "case_id": case["id"], "line": number, "code": code, "quantity": 1, "unit_cost_pence": estimate,
            "estimated_cost_pence": estimate, "kind": kind, "removable": int(kind == "equipment"),
            "status": status}).last_pk
    return line_row(db, line_id)


def line_row(db, line_id: int) -> dict:
    return one(db, "SELECT * FROM measure_lines WHERE id = ?", [line_id])


def approve(db, case, line, fund, *, on=TODAY, **rules) -> dict:
    """What `measures approve` does with the money interface."""
    with write(db):
        budget.commit_line(db, case, line, fund, by="tester", on=on, **rules)
        db["measure_lines"].update(line["id"], {"status": "approved", "approved_on": on.isoformat()})
    return line_row(db, line["id"])


def decline(db, line) -> dict:
    with write(db):
        budget.release_line(db, line, by="tester", on=TODAY, memo="declined")
        db["measure_lines"].update(line["id"], {"status": "declined", "declined_reason": "no_funding"})
    return line_row(db, line["id"])


def fit(db, case, line, cost, **rules) -> dict:
    with write(db):
        budget.settle_fitted(db, case, line, cost, by="tester", on=TODAY, **rules)
        db["measure_lines"].update(line["id"], {"status": "fitted", "fitted_on": TODAY.isoformat(),
                                                "actual_cost_pence": cost})
    return line_row(db, line["id"])


def fund(db, amount=10_000, name="Example OPCC", year="2026/27", **options) -> dict:
    return budget.add_fund(db, name, year=year, source=options.pop("source", "opcc"), amount_pence=amount,
                           by="tester", **options)


def figures(db, fund_row) -> dict:
    row = [f for f in budget.list_funds(db) if f["id"] == fund_row["id"]][0]
    return {k: row[k] for k in ("allocated_pence", "contributions_pence", "pledged_pence", "committed_pence",
                                "paid_pence", "remaining_pence")}


def ledger_count(db) -> int:
    return db.conn.execute("SELECT count(*) FROM ledger").fetchone()[0]


def kinds(db) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in db.conn.execute("SELECT kind, amount_pence FROM ledger ORDER BY id")]


# --- funds ------------------------------------------------------------------------


def test_fund_code_is_made_from_the_name_and_year():
    assert budget.fund_code("Example OPCC", "2026/27") == "example_opcc_2026_27"
    assert budget.fund_code("OPCC 2026/27", "2026/27") == "opcc_2026_27"
    assert budget.fund_code("2026 appeal", "2026/27") == "fund_2026_appeal_2026_27"


def test_adding_a_fund_writes_its_allocation_to_the_ledger(db):
    f = fund(db, 1_500_000)
    assert (f["code"], f["name"], f["year"], f["source"], f["district"]) == (
        "example_opcc_2026_27", "Example OPCC", "2026/27", "opcc", None)
    assert kinds(db) == [("allocation", 1_500_000)]
    assert budget.remaining(db, f["id"]) == 1_500_000
    assert db.conn.execute("SELECT action, detail FROM audit WHERE action = 'budget.fund_add'").fetchone() == (
        "budget.fund_add", "example_opcc_2026_27 1500000")


def test_a_fund_can_be_for_one_district_and_have_its_own_code(db):
    f = fund(db, 2_500_000, name="Northmoor HPG", source="hpg", district="northmoor", code="hpg_nm")
    assert (f["code"], f["district"], f["source"]) == ("hpg_nm", "northmoor", "hpg")


@pytest.mark.parametrize("year, message", [
    ("2026-27", "--year: "),
    ("2026/28", "--year: "),
    ("26/27", "--year: "),
])
def test_a_year_not_yyyy_yy_or_whose_halves_do_not_follow_is_refused(db, year, message):
    with pytest.raises(BadInput, match=message):
        fund(db, year=year)
    assert db.conn.execute("SELECT count(*) FROM funds").fetchone()[0] == 0
    assert ledger_count(db) == 0


@pytest.mark.parametrize("options, message", [
    ({"amount": 0}, "--amount: a fund's allocation must be more than £0.00"),
    ({"amount": -500}, "--amount: a fund's allocation must be more than £0.00"),
    ({"source": "lottery"}, "--source: unknown fund source 'lottery'"),
    ({"district": "elsewhere"}, "--district: unknown district 'elsewhere'"),
    ({"code": "Not A Code!"}, "--code: "),
])
def test_bad_fund_values_are_refused_and_nothing_saved(db, options, message):
    with pytest.raises(BadInput) as caught:
        fund(db, **options)
    assert caught.value.message.startswith(message)
    assert caught.value.exit_code == 2
    assert db.conn.execute("SELECT count(*) FROM funds").fetchone()[0] == 0
    assert ledger_count(db) == 0


def test_the_same_fund_twice_is_refused(db):
    fund(db)
    with pytest.raises(NotAllowed, match=r"there is already a fund example_opcc_2026_27 \(Example OPCC, 2026/27\)"):
        fund(db)
    with pytest.raises(NotAllowed, match="there is already a fund called Example OPCC for 2026/27"):
        fund(db, name="example opcc", code="other")
    assert ledger_count(db) == 1


def test_find_fund_by_code_or_number_and_a_clear_error_otherwise(db):
    f = fund(db)
    assert budget.find_fund(db, "example_opcc_2026_27")["id"] == f["id"]
    assert budget.find_fund(db, " EXAMPLE_OPCC_2026_27 ")["id"] == f["id"]
    assert budget.find_fund(db, str(f["id"]))["code"] == f["code"]
    with pytest.raises(BadInput) as caught:
        budget.find_fund(db, "opcc")
    assert caught.value.message == (
        "--fund: there is no fund 'opcc': use a fund code or number from `thcli budget fund list` "
        "(2026/27 funds are example_opcc_2026_27)")
    assert caught.value.exit_code == 2


def test_find_fund_when_there_are_no_funds_says_how_to_add_one(db):
    with pytest.raises(BadInput, match="there are no funds yet: add one with `thcli budget fund add`"):
        budget.find_fund(db, "7")


def test_allocating_more_to_a_fund(db):
    f = fund(db, 10_000)
    recorded = budget.allocate(db, f["code"], 2_500, by="tester", memo="Summer fair")
    assert recorded.remaining_pence == 12_500
    assert recorded.entries[0]["memo"] == "Summer fair"
    with pytest.raises(BadInput, match="--amount: an allocation must be more than £0.00"):
        budget.allocate(db, f["code"], 0, by="tester")


# --- commitments (measures approve) -------------------------------------------------


def test_approving_commits_the_estimate_and_charges_the_line_to_the_fund(db):
    f = fund(db, 10_000)
    case = new_case(db)
    line = approve(db, case, add_line(db, case, 8_500), f)
    assert line["fund_id"] == f["id"]
    assert kinds(db) == [("allocation", 10_000), ("commitment", -8_500)]
    assert figures(db, f) == {"allocated_pence": 10_000, "contributions_pence": 0, "pledged_pence": 0,
                              "committed_pence": 8_500, "paid_pence": 0, "remaining_pence": 1_500}


def test_approving_more_than_is_left_is_refused_naming_the_fund_and_the_shortfall(db):
    f = fund(db, 7_250)
    case = new_case(db)
    line = add_line(db, case, 8_500)
    with pytest.raises(WouldOverspend) as caught:
        approve(db, case, line, f)
    assert caught.value.message == (
        "approving £85.00 for TH-2026-0001 line 1 would take Example OPCC (example_opcc_2026_27) below zero by "
        "£12.50: it has £72.50 left. Choose another fund, add money to it (`thcli budget fund allocate`), or go "
        "ahead with --allow-overspend REASON (recorded)")
    assert caught.value.exit_code == 1
    assert kinds(db) == [("allocation", 7_250)]
    assert line_row(db, line["id"])["status"] == "recommended"


def test_an_overspend_with_a_reason_is_allowed_and_recorded(db):
    f = fund(db, 7_250)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f, allow_overspend="Urgent lock change, top-up agreed")
    assert budget.remaining(db, f["id"]) == -1_250
    memo = db.conn.execute("SELECT memo FROM ledger WHERE kind = 'commitment'").fetchone()[0]
    assert memo == "approved: door_alarm x1; overspend allowed: Urgent lock change, top-up agreed"
    assert db.conn.execute("SELECT by, ref FROM audit WHERE action = 'budget.overspend'").fetchone() == (
        "tester", "TH-2026-0001")
    events = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind = 'money'")]
    assert events == ["line 1 approved although example_opcc_2026_27 goes below zero: Urgent lock change, "
                      "top-up agreed"]


def test_a_fund_of_another_year_is_refused(db):
    f = fund(db, year="2025/26")
    case = new_case(db)
    with pytest.raises(NotAllowed) as caught:
        approve(db, case, add_line(db, case, 1_000), f)
    assert caught.value.message == (
        "Example OPCC (example_opcc_2025_26) is for 2025/26 (01/04/2025 to 31/03/2026), and 20/11/2026 falls in "
        "2026/27: use a 2026/27 fund (`thcli budget fund list --year 2026/27`)")
    assert ledger_count(db) == 1


def test_a_district_fund_pays_only_for_that_districts_cases(db):
    f = fund(db, name="Southvale budget", source="district_budget", district="southvale")
    case = new_case(db, district="northmoor")
    with pytest.raises(NotAllowed) as caught:
        approve(db, case, add_line(db, case, 1_000), f)
    assert caught.value.message == (
        "Southvale budget (southvale_budget_2026_27) is for cases in southvale, and TH-2026-0001 is in "
        "northmoor: use a county-wide fund or one for northmoor")
    other = new_case(db, district="southvale", name="Sam Sample", postcode="ZZ2 3CD")
    approve(db, other, add_line(db, other, 1_000), f)
    assert budget.remaining(db, f["id"]) == 9_000


def test_a_line_cannot_be_committed_twice(db):
    f = fund(db)
    case = new_case(db)
    line = approve(db, case, add_line(db, case, 1_000), f)
    with pytest.raises(NotAllowed, match=r"TH-2026-0001 line 1 is already approved against Example OPCC "
                                         r"\(example_opcc_2026_27\) \(£10.00 committed\)"):
        approve(db, case, line, f)


def test_household_cap_needs_an_over_cap_reason_which_is_recorded(db):
    with write(db):
        settings.put(db, "household_cap", 15_000)
    f = fund(db, 100_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 10_000), f)
    second = add_line(db, case, 6_000)
    with pytest.raises(NotAllowed) as caught:
        approve(db, case, second, f)
    assert caught.value.message == (
        "TH-2026-0001: the household cap is £150.00 (setting household_cap), and approving line 2 (£60.00) would "
        "bring the scheme's spend on TH-2026-0001 to £160.00. To approve it within the cap, £10.00 must come from "
        "others: record the survivor's contribution first (`thcli budget contribution TH-2026-0001 --from survivor "
        "--amount 10.00 --pledged --fund example_opcc_2026_27`), then approve again. Or approve with "
        "--over-cap-reason REASON (recorded), or leave lines out")
    assert ledger_count(db) == 2
    line = approve(db, case, second, f, over_cap_reason="Two doors need new locks")
    assert line["over_cap_reason"] == "Two doors need new locks"
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'budget.over_cap'").fetchone()[0] == 1
    assert db.conn.execute("SELECT memo FROM ledger ORDER BY id DESC").fetchone()[0] == (
        "approved: door_alarm x1; over cap: Two doors need new locks")


def test_household_cap_counts_what_is_spent_less_contributions(db):
    with write(db):
        settings.put(db, "household_cap", 15_000)
    f = fund(db, 100_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 10_000), f)
    budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=1_000, by="tester")
    line = approve(db, case, add_line(db, case, 6_000), f)
    assert line["over_cap_reason"] is None


def test_contribution_rule_caps_the_schemes_share_of_works(db):
    with write(db):
        settings.put(db, "contribution_cap", 20_000)
    f = fund(db, 100_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 50_000, kind="equipment"), f)  # equipment is free: no rule
    works = add_line(db, case, 35_000, kind="works", code="lock_change_door")
    with pytest.raises(NotAllowed) as caught:
        approve(db, case, works, f)
    assert caught.value.message == (
        "TH-2026-0001: the scheme pays at most £200.00 towards a household's works (setting contribution_cap), and "
        "approving line 2 (£350.00 of works) would bring its share of TH-2026-0001's works to £350.00, after "
        "contributions from others. To approve it within the cap, £150.00 must come from others: record the "
        "survivor's contribution first (`thcli budget contribution TH-2026-0001 --from survivor --amount 150.00 "
        "--pledged --fund example_opcc_2026_27`), then approve again. Or approve with --over-cap-reason REASON "
        "(recorded), or leave lines out")
    budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=15_000, pledged=True,
                            fund_text=f["code"], by="tester")
    assert approve(db, case, works, f)["status"] == "approved"


def test_release_gives_back_the_whole_open_commitment(db):
    f = fund(db, 10_000)
    case = new_case(db)
    line = approve(db, case, add_line(db, case, 8_500), f)
    decline(db, line)
    assert kinds(db)[-1] == ("release", 8_500)
    assert budget.remaining(db, f["id"]) == 10_000
    decline(db, line)  # nothing left to release: nothing written
    assert ledger_count(db) == 3


def test_fitted_for_less_releases_the_difference(db):
    f = fund(db, 10_000)
    case = new_case(db)
    line = fit(db, case, approve(db, case, add_line(db, case, 8_500), f), 8_000)
    assert kinds(db)[-1] == ("release", 500)
    assert figures(db, f)["committed_pence"] == 8_000
    assert line["actual_cost_pence"] == 8_000


def test_fitted_for_more_draws_the_difference_under_the_overspend_rule(db):
    f = fund(db, 9_000)
    case = new_case(db)
    line = approve(db, case, add_line(db, case, 8_500), f)
    with pytest.raises(WouldOverspend, match="fitting TH-2026-0001 line 1 for £10.00 more than committed would "
                                             "take Example OPCC .* below zero by £5.00: it has £5.00 left"):
        fit(db, case, line, 9_500)
    assert ledger_count(db) == 2
    fit(db, case, line, 8_900)
    assert kinds(db)[-1] == ("commitment", -400)
    assert budget.remaining(db, f["id"]) == 100


# --- payments -------------------------------------------------------------------------


def test_a_payment_releases_the_commitment_up_to_its_amount(db):
    f = fund(db, 10_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    recorded = budget.pay(db, case["ref"], 1, amount_pence=5_000, invoice="INV-1", by="tester")
    assert [(e["kind"], e["amount_pence"], e["invoice"]) for e in recorded.entries] == [
        ("payment", -5_000, "INV-1"), ("release", 5_000, "INV-1")]
    assert recorded.remaining_pence == 1_500
    assert figures(db, f) == {"allocated_pence": 10_000, "contributions_pence": 0, "pledged_pence": 0,
                              "committed_pence": 3_500, "paid_pence": 5_000, "remaining_pence": 1_500}


def test_paying_part_of_a_fitted_line_releases_only_what_is_paid(db):
    # It released the whole £85.00, so the fund showed £5.00 it did not have and the case could close.
    f = fund(db, 10_000)
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 8_500), f), 8_500)
    recorded = budget.pay(db, case["ref"], 1, amount_pence=8_000, invoice="INV-2", by="tester")
    assert [e["amount_pence"] for e in recorded.entries] == [-8_000, 8_000]
    assert figures(db, f)["committed_pence"] == 500
    assert recorded.remaining_pence == 1_500
    rest = budget.pay_invoice(db, case["ref"], None, invoice="INV-3", by="tester")
    assert [(p.amount_pence, p.released_pence) for p in rest.lines] == [(500, 500)]
    assert figures(db, f)["committed_pence"] == 0
    assert figures(db, f)["remaining_pence"] == 1_500


def test_a_final_payment_below_the_cost_releases_what_is_left(db):
    f = fund(db, 10_000)
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 8_500), f), 8_500)
    recorded = budget.pay(db, case["ref"], 1, amount_pence=8_000, invoice="INV-2", by="tester", final=True)
    assert [e["amount_pence"] for e in recorded.entries] == [-8_000, 8_500]
    assert figures(db, f)["committed_pence"] == 0
    assert recorded.remaining_pence == 2_000   # £100.00 less the £80.00 paid: nothing is left committed


def test_final_is_only_for_fitted_lines(db):
    f = fund(db, 10_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    before = ledger_count(db)
    with pytest.raises(NotAllowed, match=r"TH-2026-0001: line 1 is not fitted yet, so no payment on it can be the "
                                         r"last: leave --final out"):
        budget.pay(db, case["ref"], 1, amount_pence=8_000, invoice="INV-2", by="tester", final=True)
    assert ledger_count(db) == before


def test_paying_more_than_committed_draws_the_rest_under_the_overspend_rule(db):
    f = fund(db, 9_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    with pytest.raises(WouldOverspend, match=r"paying £95.00 on TH-2026-0001 line 1 would take Example OPCC "
                                             r"\(example_opcc_2026_27\) below zero by £5.00"):
        budget.pay(db, case["ref"], 1, amount_pence=9_500, invoice="INV-3", by="tester", allow_over="Hinge bolts")
    assert ledger_count(db) == 2
    recorded = budget.pay(db, case["ref"], 1, amount_pence=9_500, invoice="INV-3", by="tester",
                          allow_over="Hinge bolts", allow_overspend="Extra hinge bolts needed")
    assert recorded.remaining_pence == -500


@pytest.mark.parametrize("invoice", ["", "   ", None])
def test_a_payment_without_an_invoice_number_is_refused(db, invoice):
    f = fund(db)
    case = new_case(db)
    approve(db, case, add_line(db, case, 1_000), f)
    with pytest.raises(BadInput, match="--invoice: a payment needs the invoice number"):
        budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice=invoice, by="tester")
    assert ledger_count(db) == 2


def test_a_payment_on_a_declined_line_is_refused(db):
    f = fund(db)
    case = new_case(db)
    decline(db, approve(db, case, add_line(db, case, 1_000), f))
    with pytest.raises(NotAllowed) as caught:
        budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="INV-4", by="tester")
    assert caught.value.message == "TH-2026-0001 line 1 was declined: no payment can be made on a declined line"
    assert ledger_count(db) == 3


def test_a_payment_on_a_line_never_approved_is_refused(db):
    fund(db)
    case = new_case(db)
    add_line(db, case, 1_000)
    with pytest.raises(NotAllowed, match=r"TH-2026-0001 line 1 is recommended, not approved: approve it first "
                                         r"with `thcli measures approve TH-2026-0001 1 --fund FUND`"):
        budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="INV-5", by="tester")


def test_the_same_invoice_twice_on_a_line_is_refused(db):
    f = fund(db)
    case = new_case(db)
    approve(db, case, add_line(db, case, 2_000), f)
    budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="INV-6", by="tester")
    with pytest.raises(NotAllowed) as caught:
        budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="inv-6", by="tester")
    assert caught.value.message == (
        "invoice inv-6 was already entered, on TH-2026-0001 line 1 (ledger entry 3): an invoice is entered once, "
        "with all its lines (--line N:MONEY, repeated). If that entry was wrong, correct it with `thcli budget "
        "correct 3 --reason TEXT` and enter the invoice again")


@pytest.mark.parametrize("amount", [0, -100])
def test_zero_or_negative_payments_are_refused(db, amount):
    f = fund(db)
    case = new_case(db)
    approve(db, case, add_line(db, case, 2_000), f)
    with pytest.raises(BadInput, match="--amount: a payment must be more than £0.00"):
        budget.pay(db, case["ref"], 1, amount_pence=amount, invoice="INV-7", by="tester")


def test_a_payment_dated_in_the_future_is_refused(db):
    f = fund(db)
    case = new_case(db)
    approve(db, case, add_line(db, case, 2_000), f)
    with pytest.raises(BadInput, match="--date: 21/11/2026 is in the future"):
        budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="INV-8", by="tester", on=dt.date(2026, 11, 21))


def test_unknown_case_or_line(db):
    fund(db)
    case = new_case(db)
    add_line(db, case, 1_000)
    with pytest.raises(NotFound, match="TH-2026-0001 has no measure line 4: its lines are 1"):
        budget.pay(db, case["ref"], 4, amount_pence=1_000, invoice="INV-9", by="tester")
    with pytest.raises(NotFound, match="there is no case 'TH-2026-0099'"):
        budget.pay(db, "TH-2026-0099", 1, amount_pence=1_000, invoice="INV-9", by="tester")


# --- refunds and corrections ----------------------------------------------------------


def test_a_refund_gives_money_back_up_to_what_was_paid(db):
    f = fund(db, 10_000)
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 8_500), f), 8_500)
    budget.pay(db, case["ref"], 1, amount_pence=8_500, invoice="INV-10", by="tester")
    with pytest.raises(NotAllowed, match="TH-2026-0001 line 1 has £85.00 paid on it: a refund cannot be more"):
        budget.refund(db, case["ref"], 1, amount_pence=9_000, by="tester")
    recorded = budget.refund(db, case["ref"], 1, amount_pence=1_000, invoice="CN-1", by="tester")
    assert recorded.remaining_pence == 2_500
    assert figures(db, f)["paid_pence"] == 7_500


def test_correcting_an_allocation_reverses_it(db):
    f = fund(db, 10_000)
    budget.allocate(db, f["code"], 50_000, by="tester")
    recorded = budget.correct(db, 2, reason="Typed £500 for £50", by="tester")
    entry = recorded.entries[0]
    assert (entry["kind"], entry["amount_pence"], entry["corrects"], entry["memo"]) == (
        "correction", -50_000, 2, "corrects 2: Typed £500 for £50")
    assert recorded.remaining_pence == 10_000
    assert figures(db, f)["allocated_pence"] == 10_000


def test_correcting_a_payment_restores_the_commitment_it_released(db):
    f = fund(db, 10_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    budget.pay(db, case["ref"], 1, amount_pence=5_000, invoice="INV-11", by="tester")
    recorded = budget.correct(db, 3, reason="Wrong case", by="tester")
    assert [(e["amount_pence"], e["corrects"], e["memo"]) for e in recorded.entries] == [
        (5_000, 3, "corrects 3: Wrong case"), (-5_000, 4, "corrects 4 with payment 3: Wrong case")]
    assert figures(db, f) == {"allocated_pence": 10_000, "contributions_pence": 0, "pledged_pence": 0,
                              "committed_pence": 8_500, "paid_pence": 0, "remaining_pence": 1_500}
    # The invoice may now be recorded again, on the right line.
    budget.pay(db, case["ref"], 1, amount_pence=5_000, invoice="INV-11", by="tester")


def test_corrections_that_make_no_sense_are_refused(db):
    f = fund(db, 10_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    budget.pay(db, case["ref"], 1, amount_pence=5_000, invoice="INV-12", by="tester")
    with pytest.raises(NotAllowed, match="entry 2 is a commitment, which follows approving, declining, "
                                         "fitting and recharging measures"):
        budget.correct(db, 2, reason="x", by="tester")
    with pytest.raises(NotAllowed, match="entry 4 is a release, which follows its payment or the measure line: "
                                         "correct its payment, entry 3"):
        budget.correct(db, 4, reason="x", by="tester")
    budget.correct(db, 3, reason="duplicate", by="tester")
    with pytest.raises(NotAllowed, match="entry 3 was already corrected by entry 5"):
        budget.correct(db, 3, reason="again", by="tester")
    with pytest.raises(NotAllowed, match="entry 5 is itself a correction"):
        budget.correct(db, 5, reason="undo", by="tester")
    with pytest.raises(NotFound, match="there is no ledger entry 99"):
        budget.correct(db, 99, reason="x", by="tester")
    with pytest.raises(BadInput, match="--reason: say why the entry is wrong"):
        budget.correct(db, 1, reason="  ", by="tester")


def test_a_correction_that_would_overspend_needs_a_reason(db):
    f = fund(db, 10_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    with pytest.raises(WouldOverspend, match="correcting entry 1 would take Example OPCC .* below zero by "
                                             "£85.00: it has £15.00 left"):
        budget.correct(db, 1, reason="Grant withdrawn", by="tester")
    recorded = budget.correct(db, 1, reason="Grant withdrawn", by="tester", allow_overspend="Replacement agreed")
    assert recorded.remaining_pence == -8_500


def test_the_database_refuses_to_change_or_delete_a_ledger_entry(db):
    fund(db)
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are never changed: add a correction"):
        db.conn.execute("UPDATE ledger SET amount_pence = 1 WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are never deleted: add a correction"):
        db.conn.execute("DELETE FROM ledger WHERE id = 1")


def test_the_ledger_hash_chain_shows_a_changed_or_removed_entry(db):
    f = fund(db)
    budget.allocate(db, f["code"], 1_000, by="tester")
    budget.allocate(db, f["code"], 2_000, by="tester")
    assert budget.verify_chain(db) == []
    db.conn.execute("DROP TRIGGER ledger_no_update")
    db.conn.execute("DROP TRIGGER ledger_no_delete")
    db.conn.execute("UPDATE ledger SET amount_pence = 9999 WHERE id = 2")
    db.conn.execute("DELETE FROM ledger WHERE id = 1")
    assert budget.verify_chain(db) == [
        "ledger entry 2: the entry before it was removed or changed",
        "ledger entry 2: its contents were changed",
    ]


# --- contributions ---------------------------------------------------------------------


def test_a_contribution_goes_to_the_fund_the_cases_measures_are_charged_to(db):
    first = fund(db, 10_000)
    second = fund(db, 10_000, name="Safe Accommodation", source="safe_accommodation")
    case = new_case(db)
    approve(db, case, add_line(db, case, 5_000), second)
    recorded = budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=2_000, by="tester")
    assert recorded.fund["id"] == second["id"]
    assert recorded.remaining_pence == 7_000
    assert budget.remaining(db, first["id"]) == 10_000


def test_a_contribution_goes_to_the_years_only_fund(db):
    f = fund(db, 10_000)
    fund(db, 10_000, name="Southvale budget", source="district_budget", district="southvale")
    case = new_case(db)  # northmoor: the southvale fund is not open to it
    recorded = budget.add_contribution(db, case["ref"], contributor="survivor", amount_pence=2_500, by="tester")
    assert recorded.fund["id"] == f["id"]


def test_a_contribution_needs_fund_when_the_fund_is_not_clear(db):
    fund(db, 10_000)
    fund(db, 10_000, name="Safe Accommodation", source="safe_accommodation")
    case = new_case(db)
    with pytest.raises(BadInput) as caught:
        budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=2_000, by="tester")
    assert caught.value.message == (
        "--fund: needed, as TH-2026-0001 has no approved measures and 2026/27 has 2 funds for northmoor "
        "(example_opcc_2026_27, safe_accommodation_2026_27)")
    assert caught.value.exit_code == 2
    assert ledger_count(db) == 2


def test_a_pledge_is_not_money_until_received(db):
    f = fund(db, 10_000)
    case = new_case(db)
    budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=20_000, pledged=True,
                            by="tester")
    assert figures(db, f) == {"allocated_pence": 10_000, "contributions_pence": 0, "pledged_pence": 20_000,
                              "committed_pence": 0, "paid_pence": 0, "remaining_pence": 10_000}
    budget.add_contribution(db, case["ref"], contributor="landlord", amount_pence=15_000, by="tester")
    assert figures(db, f) == {"allocated_pence": 10_000, "contributions_pence": 15_000, "pledged_pence": 5_000,
                              "committed_pence": 0, "paid_pence": 0, "remaining_pence": 25_000}
    money = budget.case_money(db, case["id"])
    assert (money["contributions_pence"], money["pledged_pence"]) == (15_000, 5_000)


@pytest.mark.parametrize("options, error, message", [
    ({"contributor": "neighbour"}, BadInput, "--from: 'neighbour' is not a contributor: use one of survivor, "
                                             "landlord, housing_association, charity"),
    ({"amount_pence": 0}, BadInput, "--amount: a contribution must be more than £0.00"),
    ({"fund_text": "nope"}, BadInput, "--fund: there is no fund 'nope'"),
    ({"on": dt.date(2026, 12, 1)}, BadInput, "--date: 01/12/2026 is in the future"),
])
def test_bad_contributions_are_refused_and_nothing_saved(db, options, error, message):
    fund(db)
    case = new_case(db)
    values = {"contributor": "landlord", "amount_pence": 1_000, **options}
    with pytest.raises(error) as caught:
        budget.add_contribution(db, case["ref"], by="tester", **values)
    assert caught.value.message.startswith(message)
    assert ledger_count(db) == 1


# --- status, ledger, case money ------------------------------------------------------


def test_status_figures_forecast_and_totals(db):
    opcc = fund(db, 100_000)
    south = fund(db, 20_000, name="Southvale budget", source="district_budget", district="southvale")
    case = new_case(db)
    fit(db, case, approve(db, case, add_line(db, case, 40_000), opcc), 40_000)
    budget.pay(db, case["ref"], 1, amount_pence=40_000, invoice="INV-20", by="tester")
    other = new_case(db, district="southvale", name="Sam Sample", postcode="ZZ2 3CD")
    approve(db, other, add_line(db, other, 15_000), south)
    budget.add_contribution(db, other["ref"], contributor="housing_association", amount_pence=2_000, by="tester")
    report = budget.status(db)
    assert report["year"] == "2026/27"
    rows = {f["fund"]: f for f in report["funds"]}
    # 1 April to 20 November is 234 of 365 days: 7.7 months; spend at that rate to the year end.
    assert rows["example_opcc_2026_27"] == {
        "fund": "example_opcc_2026_27", "id": opcc["id"], "name": "Example OPCC", "year": "2026/27",
        "source": "opcc", "district": None, "allocated_pence": 100_000, "contributions_pence": 0,
        "pledged_pence": 0, "committed_pence": 0, "paid_pence": 40_000, "remaining_pence": 60_000,
        "forecast_pence": 62_393, "months_elapsed": 7.7, "forecast_passes_fund": False}
    assert rows["southvale_budget_2026_27"]["forecast_pence"] == 23_397
    assert rows["southvale_budget_2026_27"]["forecast_passes_fund"] is True
    assert report["warnings"] == [
        "Southvale budget (southvale_budget_2026_27): at the rate so far (£150.00 in 7.7 months) 2026/27 will "
        "need £233.97, more than the fund's £220.00"]
    assert [(d["district"], d["remaining_pence"]) for d in report["districts"]] == [
        (None, 60_000), ("southvale", 7_000)]
    assert report["scheme"]["remaining_pence"] == 67_000
    assert report["scheme"]["allocated_pence"] == 120_000


def test_status_of_a_past_year_forecasts_what_was_spent(db):
    f = fund(db, 10_000, year="2025/26")
    case = new_case(db)
    approve(db, case, add_line(db, case, 3_000), f, on=dt.date(2026, 3, 1))
    row = budget.status(db, year="2025/26")["funds"][0]
    assert (row["forecast_pence"], row["months_elapsed"]) == (3_000, 12.0)


def test_status_warns_of_an_overspent_fund(db):
    f = fund(db, 1_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 1_500), f, allow_overspend="agreed")
    assert budget.status(db)["warnings"] == ["Example OPCC (example_opcc_2026_27) is overspent by £5.00"]


def test_status_or_ledger_of_a_year_without_funds_is_refused(db):
    fund(db)
    with pytest.raises(BadInput, match="--year: there are no funds for 2019/20: funds exist for 2026/27"):
        budget.status(db, year="2019/20")
    with pytest.raises(BadInput, match="--year: there are no funds for 2019/20"):
        budget.ledger_entries(db, budget.LedgerFilters(year="2019/20"))


def test_ledger_filters(db):
    opcc = fund(db, 10_000)
    fund(db, 5_000, name="Older", year="2025/26")
    case = new_case(db)
    approve(db, case, add_line(db, case, 1_000), opcc)
    budget.pay(db, case["ref"], 1, amount_pence=1_000, invoice="INV-30", by="tester")

    def ids(**filters):
        return [e["id"] for e in budget.ledger_entries(db, budget.LedgerFilters(**filters))]

    assert ids() == [1, 2, 3, 4, 5]
    assert ids(year="2025/26") == [2]
    assert ids(fund="example_opcc_2026_27", kind="payment") == [4]
    assert ids(ref="th-2026-0001") == [3, 4, 5]
    with pytest.raises(BadInput, match="--kind: 'spend' is not a kind of entry: use one of allocation, "):
        ids(kind="spend")
    entry = budget.ledger_entries(db, budget.LedgerFilters(kind="payment"))[0]
    assert entry == {"id": 4, "at": "2026-11-20T10:00:00Z", "on_date": "2026-11-20", "kind": "payment",
                     "amount_pence": -1_000, "fund": "example_opcc_2026_27", "ref": "TH-2026-0001", "line": 1,
                     "invoice": "INV-30", "contributor": None, "pledged": False, "corrects": None, "memo": None,
                     "by": "tester"}


def test_case_money_for_referral_show(db):
    f = fund(db, 100_000)
    case = new_case(db)
    approve(db, case, add_line(db, case, 8_500), f)
    approve(db, case, add_line(db, case, 2_000), f)
    budget.pay(db, case["ref"], 1, amount_pence=8_500, invoice="INV-40", by="tester")
    budget.add_contribution(db, case["ref"], contributor="survivor", amount_pence=1_000, by="tester")
    shown = case_view.show_case(db, case["ref"], by="tester")["money"]
    assert shown == {"committed_pence": 2_000, "paid_pence": 8_500, "contributions_pence": 1_000,
                     "pledged_pence": 0, "funds": [{
                         "fund": "example_opcc_2026_27", "name": "Example OPCC", "year": "2026/27",
                         "committed_pence": 2_000, "paid_pence": 8_500, "contributions_pence": 1_000,
                         "pledged_pence": 0}]}
    assert budget.case_money(db, new_case(db, name="Jo Placeholder", postcode="ZZ1 9XY")["id"]) == {
        "committed_pence": 0, "paid_pence": 0, "contributions_pence": 0, "pledged_pence": 0, "funds": []}
