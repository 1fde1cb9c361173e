"""Paying invoices (issue 15): several lines on one invoice, --fitted, in-house work, no line paid past its cost
or twice, one invoice number per contractor. Domain, then CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import add_fund, counts, surveyed_case
from thcli import budget, codes, measures
from thcli.errors import BadInput, NotAllowed

TODAY = "2026-11-20"
D19, D20 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def job(db, *, contractor: str = "secure_homes", fitted: bool = True,
        lines=(("lock_change_door", 1, None), ("window_alarm", 3, None), ("door_viewer", 1, None))) -> str:
    """A case whose lines (£85.00, 3 x £8.00 = £24.00, £35.00) were approved, ordered from ``contractor`` and
    (``fitted``) fitted at their estimates."""
    if contractor != "in_house" and codes.get(db, "contractor", contractor) is None:
        codes.add(db, "contractor", contractor, "Secure Homes Ltd", by="t")
    ref = surveyed_case(db, measures=list(lines))
    fund = add_fund(db) if not budget.years(db) else "example_opcc_2026_27"
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor=contractor, on=D19, by="t")
    if fitted:
        measures.fitted(db, ref, [], on=D20, by="t")
    return ref


def payments(db) -> list[tuple]:
    return db.conn.execute("SELECT l.kind, l.amount_pence, m.line, l.invoice FROM ledger l "
                           "LEFT JOIN measure_lines m ON m.id = l.line_id WHERE l.kind IN ('payment', 'release') "
                           "ORDER BY l.id").fetchall()


# --- domain -------------------------------------------------------------------------------------


def test_one_invoice_pays_several_lines_each_with_its_own_entry_sharing_the_invoice(db):
    ref = job(db)
    paid = budget.pay_invoice(db, ref, [(1, 8_500), (2, 2_400)], invoice="ZZ-1001", by="t")
    assert [(p.line, p.amount_pence, p.fund, p.released_pence) for p in paid.lines] == [
        (1, 8_500, "example_opcc_2026_27", 8_500), (2, 2_400, "example_opcc_2026_27", 2_400)]
    assert paid.total_pence == 10_900
    assert payments(db) == [("payment", -8_500, 1, "ZZ-1001"), ("release", 8_500, 1, "ZZ-1001"),
                            ("payment", -2_400, 2, "ZZ-1001"), ("release", 2_400, 2, "ZZ-1001")]
    assert paid.remaining == {"example_opcc_2026_27": 500_000 - 8_500 - 2_400 - 3_500}
    assert db.conn.execute("SELECT detail FROM events WHERE kind = 'money'").fetchall() == [
        ("£109.00 paid on lines 1, 2 (invoice ZZ-1001, example_opcc_2026_27)",)]
    assert budget.verify_chain(db) == []


def test_fitted_pays_every_fitted_line_not_yet_paid_at_what_is_left_of_its_actual_cost(db):
    ref = job(db, fitted=False)
    measures.fitted(db, ref, [1], on=D20, cost_pence=9_250, by="t")
    measures.fitted(db, ref, [2], on=D20, by="t")
    budget.pay_invoice(db, ref, [(2, 1_000)], invoice="ZZ-0999", by="t")  # a part payment earlier
    paid = budget.pay_invoice(db, ref, None, invoice="ZZ-1001", by="t")
    assert [(p.line, p.amount_pence) for p in paid.lines] == [(1, 9_250), (2, 1_400)]  # line 3 is not fitted
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, ref, None, invoice="ZZ-1002", by="t")
    assert caught.value.message == ("TH-2026-0001 has no fitted line left to pay: lines 1, 2 are paid in full "
                                    "(`thcli budget ledger --ref TH-2026-0001`)")


def test_fitted_with_one_line_paid_in_full_says_it_in_the_singular(db):
    ref = job(db, fitted=False)
    measures.fitted(db, ref, [1], on=D20, by="t")
    budget.pay_invoice(db, ref, None, invoice="ZZ-1001", by="t")
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, ref, None, invoice="ZZ-1002", by="t")
    assert caught.value.message == ("TH-2026-0001 has no fitted line left to pay: line 1 is paid in full "
                                    "(`thcli budget ledger --ref TH-2026-0001`)")


def test_fitted_with_nothing_fitted_says_how_to_pay_by_line(db):
    ref = job(db, fitted=False)
    with pytest.raises(NotAllowed, match=r"has no fitted line left to pay: none is fitted yet. Pay lines by number "
                                         r"with `thcli budget pay TH-2026-0001 --line N:MONEY --invoice NO`"):
        budget.pay_invoice(db, ref, None, invoice="ZZ-1001", by="t")


def test_a_refused_line_leaves_the_whole_invoice_unpaid(db):
    ref = job(db)
    before = counts(db)
    with pytest.raises(NotAllowed, match="paying £30.00 on line 2 would take it £6.00 past its cost"):
        budget.pay_invoice(db, ref, [(1, 8_500), (2, 3_000)], invoice="ZZ-1001", by="t")
    assert counts(db) == before


def test_paying_past_the_approved_cost_or_twice_needs_allow_over_which_is_recorded(db):
    ref = job(db, fitted=False)
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, ref, [(1, 9_000)], invoice="ZZ-1001", by="t")
    assert caught.value.message == (
        "TH-2026-0001: paying £90.00 on line 1 would take it £5.00 past its cost (approved at £85.00). Check the "
        "invoice; if it is right, pay it with --allow-over REASON (recorded)")
    budget.pay_invoice(db, ref, [(1, 8_500)], invoice="ZZ-1001", by="t")
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, ref, [(1, 8_500)], invoice="ZZ-1002", by="t")
    assert caught.value.message == (
        "TH-2026-0001: line 1 is already paid in full (£85.00; approved at £85.00). Check the invoice; if it is "
        "right, pay it with --allow-over REASON (recorded)")
    paid = budget.pay_invoice(db, ref, [(1, 500)], invoice="ZZ-1002", by="Jo Coordinator",
                              allow_over="Extra hinge bolts agreed on the day")
    assert paid.over == ["line 1 is already paid in full (£85.00; approved at £85.00)"]
    assert db.conn.execute("SELECT memo FROM ledger WHERE kind = 'payment' ORDER BY id DESC").fetchone()[0] == (
        "over the approved cost: Extra hinge bolts agreed on the day")
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'budget.over'").fetchone()[0] == 1
    assert db.conn.execute("SELECT detail FROM events ORDER BY id DESC").fetchone()[0] == (
        "invoice ZZ-1002 paid past the approved cost: line 1 is already paid in full (£85.00; approved at £85.00): "
        "Extra hinge bolts agreed on the day")


def test_a_fitted_line_may_be_paid_its_actual_cost(db):
    ref = job(db, fitted=False)
    measures.fitted(db, ref, [1], on=D20, cost_pence=9_250, by="t")
    budget.pay_invoice(db, ref, [(1, 9_250)], invoice="ZZ-1001", by="t")
    with pytest.raises(NotAllowed, match=r"line 1 is already paid in full \(£92.50; fitted for £92.50\)"):
        budget.pay_invoice(db, ref, [(1, 1)], invoice="ZZ-1002", by="t")


def test_an_invoice_number_is_entered_once_per_contractor(db):
    first = job(db)
    second = job(db, lines=(("lock_change_door", 1, None),))
    budget.pay_invoice(db, first, [(1, 8_500)], invoice="ZZ-1001", by="t")
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, second, [(1, 8_500)], invoice="zz-1001", by="t")
    assert caught.value.message == (
        "invoice zz-1001 from Secure Homes Ltd was already entered, on TH-2026-0001 line 1 (ledger entry 6): an "
        "invoice is entered once, with all its lines (--line N:MONEY, repeated). If that entry was wrong, correct "
        "it with `thcli budget correct 6 --reason TEXT` and enter the invoice again")
    assert counts(db) == before
    budget.correct(db, 6, reason="Entered on the wrong case", by="t")
    budget.pay_invoice(db, second, [(1, 8_500)], invoice="ZZ-1001", by="t")  # once corrected, it may be entered


def test_an_invoice_number_written_in_full_width_or_another_case_is_the_same_invoice(db):
    # 'Ｚ Ｚ-1001' and 'ZZ-1001' counted as two invoices (only ASCII letters were compared without case).
    first = job(db)
    second = job(db, lines=(("lock_change_door", 1, None),))
    budget.pay_invoice(db, first, [(1, 8_500)], invoice="ZZ-1001", by="t")
    with pytest.raises(NotAllowed, match=r"^invoice ＺＺ-１００１ from Secure Homes Ltd was already entered"):
        budget.pay_invoice(db, second, [(1, 8_500)], invoice="ＺＺ-１００１", by="t")


def test_a_bad_invoice_number_is_refused_at_the_domain_too(db):
    ref = job(db)
    before = counts(db)
    with pytest.raises(BadInput, match=r"^--invoice: 'A-\\n1' contains control characters or line breaks"):
        budget.pay_invoice(db, ref, [(1, 8_500)], invoice="A-\n1", by="t")
    with pytest.raises(BadInput, match=r"^--invoice: .* is longer than 40 characters"):
        budget.pay_invoice(db, ref, [(1, 8_500)], invoice="A" * 2_000, by="t")
    assert counts(db) == before


def test_an_invoice_paid_on_a_line_not_yet_ordered_is_still_entered_once_on_its_case(db):
    # The check matched on the line's contractor, so an invoice paid on a line with none could be entered again.
    ref = job(db, fitted=False, lines=(("lock_change_door", 1, None),))
    second = surveyed_case(db, measures=[("window_alarm", 1, None)], name="Sam Sample", postcode="ZZ1 3CD")
    measures.approve(db, second, [], fund="example_opcc_2026_27", on=D19, by="t")
    budget.pay_invoice(db, second, [(1, 800)], invoice="ZZ-7", by="t")   # not ordered: no contractor
    assert budget.pay_invoice(db, ref, [(1, 8_500)], invoice="ZZ-7", by="t").invoice == "ZZ-7"  # another case
    extra = surveyed_case(db, measures=[("window_alarm", 1, None), ("door_viewer", 1, None)], name="Robin Sample",
                          postcode="ZZ1 4EF")
    measures.approve(db, extra, [], fund="example_opcc_2026_27", on=D19, by="t")
    budget.pay_invoice(db, extra, [(1, 800)], invoice="ZZ-9", by="t")
    measures.order(db, extra, [2], contractor="secure_homes", on=D19, by="t")
    before = counts(db)
    with pytest.raises(NotAllowed, match=r"^invoice zz-9 from Secure Homes Ltd was already entered, on "
                                         r"TH-2026-0003 line 1"):
        budget.pay_invoice(db, extra, [(2, 3_500)], invoice="zz-9", by="t")
    assert counts(db) == before


def test_the_same_number_from_another_contractor_is_another_invoice(db):
    first = job(db)
    other = job(db, contractor="in_house", lines=(("lock_change_door", 1, None),))
    budget.pay_invoice(db, first, [(1, 8_500)], invoice="1001", by="t")
    assert budget.pay_invoice(db, other, [(1, 8_500)], invoice="1001", by="t").invoice == "1001"


def test_an_invoice_comes_from_one_contractor(db):
    codes.add(db, "contractor", "secure_homes", "Secure Homes Ltd", by="t")
    ref = surveyed_case(db)
    measures.approve(db, ref, [], fund=add_fund(db), on=D19, by="t")
    measures.order(db, ref, [1], contractor="secure_homes", on=D19, by="t")
    measures.order(db, ref, [2], contractor="in_house", on=D19, by="t")
    measures.fitted(db, ref, [], on=D20, by="t")
    with pytest.raises(NotAllowed) as caught:
        budget.pay_invoice(db, ref, None, invoice="ZZ-1001", by="t")
    assert caught.value.message == (
        "TH-2026-0001: an invoice comes from one contractor, and these lines were ordered from 2 (line 1 from "
        "secure_homes; line 2 from in_house): pay each contractor's invoice on its own, naming its lines with "
        "--line N:MONEY")


def test_in_house_work_is_paid_without_an_invoice_still_from_the_fund(db):
    ref = job(db, contractor="in_house")
    paid = budget.pay_invoice(db, ref, None, internal=True, by="t")
    assert paid.invoice is None and paid.total_pence == 14_400
    assert db.conn.execute("SELECT kind, amount_pence, invoice, memo FROM ledger WHERE kind = 'payment'").fetchall() \
        == [("payment", -8_500, None, "in-house work"), ("payment", -2_400, None, "in-house work"),
            ("payment", -3_500, None, "in-house work")]
    figures = budget.list_funds(db)[0]
    assert (figures["paid_pence"], figures["committed_pence"]) == (14_400, 0)
    assert db.conn.execute("SELECT detail FROM events WHERE kind = 'money'").fetchone()[0] == (
        "£144.00 paid on lines 1, 2, 3 (in-house work, example_opcc_2026_27)")


def test_internal_is_refused_for_an_outside_contractor_and_goes_without_an_invoice(db):
    ref = job(db)
    with pytest.raises(NotAllowed, match=r"TH-2026-0001: the lines were ordered from Secure Homes Ltd "
                                         r"\(secure_homes\), an outside contractor: give its invoice number with "
                                         r"--invoice NO \(--internal is for work by the scheme's in-house team\)"):
        budget.pay_invoice(db, ref, None, internal=True, by="t")
    with pytest.raises(BadInput, match="--internal: in-house work has no invoice number"):
        budget.pay_invoice(db, ref, None, internal=True, invoice="ZZ-1", by="t")
    with pytest.raises(BadInput, match=r"--invoice: a payment needs the invoice number \(or --internal"):
        budget.pay_invoice(db, ref, None, by="t")


@pytest.mark.parametrize("given, message", [
    ((None, None, [], False), "say what the invoice pays in one way: LINE --amount MONEY (one line), --line "
                              "N:MONEY repeated (several lines), or --fitted (every fitted line not yet paid)"),
    ((1, 500, [(2, 100)], False), "; not LINE --amount MONEY and --line N:MONEY together"),
    ((None, None, [(2, 100)], True), "; not --line N:MONEY and --fitted together"),
    ((None, 500, [], False), "LINE: --amount is the amount paid on one LINE"),
    ((2, None, [], False), "--amount: how much was paid on line 2? Give it with --amount MONEY"),
])
def test_what_to_pay_takes_one_of_the_three_forms(given, message):
    with pytest.raises(BadInput) as caught:
        budget.what_to_pay(*given)
    assert message in caught.value.message


def test_a_line_given_twice_is_refused(db):
    ref = job(db)
    with pytest.raises(BadInput, match="--line: line 1 is given twice"):
        budget.pay_invoice(db, ref, [(1, 100), (1, 200)], invoice="ZZ-1", by="t")


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_pays_an_invoice_of_several_lines(db, cli):
    ref = job(db)
    result = cli("budget", "pay", ref, "--line", "1:85", "--line", "2:24", "--invoice", "ZZ-1001")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Paid £109.00 on TH-2026-0001 (invoice ZZ-1001), 2 lines (ledger entries 5, 6, 7, 8):\n"
        "  line 1  Change of door locks (per door)     £85.00 from example_opcc_2026_27; £85.00 of its commitment "
        "released\n"
        "  line 2  Window alarm                        £24.00 from example_opcc_2026_27; £24.00 of its commitment "
        "released\n"
        "example_opcc_2026_27 has £4,856.00 left.\n")
    result = cli("budget", "pay", ref, "--fitted", "--invoice", "ZZ-1002")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Paid £35.00 on TH-2026-0001 line 3 (invoice ZZ-1002) from example_opcc_2026_27; "
                             "£35.00 of its commitment released (ledger entries 9, 10). example_opcc_2026_27 has "
                             "£4,856.00 left.\n")


def test_cli_in_house_work(db, cli):
    ref = job(db, contractor="in_house")
    result = cli("budget", "pay", ref, "3", "--amount", "35", "--internal")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Paid £35.00 on TH-2026-0001 line 3 (in-house work) from example_opcc_2026_27")


@pytest.mark.parametrize("args, message", [
    (["--line", "1:85", "--invoice", "ZZ-1", "--internal"],
     "Error: --internal: in-house work has no invoice number: give --invoice NO or --internal, not both\n"),
    (["--line", "one:85", "--invoice", "ZZ-1"],
     "Error: Invalid value for '--line': 'one:85' is not LINE:MONEY: write the line number and the amount, e.g. "
     "2:40 (line 2, £40.00) (see `thcli budget pay --help`)\n"),
    (["--line", "1:0", "--invoice", "ZZ-1"],
     "Error: Invalid value for '--line': '1:0': the amount must be more than £0.00 (see `thcli budget pay --help`)\n"),
    (["--line", "1:8.555", "--invoice", "ZZ-1"],
     "Error: Invalid value for '--line': '1:8.555': the amount '8.555' has more decimals than pence: use at most "
     "two, like 12.50 (see `thcli budget pay --help`)\n"),
    (["--fitted", "--line", "1:85", "--invoice", "ZZ-1"],
     "Error: say what the invoice pays in one way: LINE --amount MONEY (one line), --line N:MONEY repeated (several "
     "lines), or --fitted (every fitted line not yet paid); not --line N:MONEY and --fitted together\n"),
])
def test_cli_bad_payments_are_exit_2_and_save_nothing(db, cli, args, message):
    ref = job(db)
    before = counts(db)
    result = cli("budget", "pay", ref, *args)
    assert (result.exit_code, result.stderr) == (2, message)
    assert counts(db) == before


@pytest.mark.parametrize("command", [
    ["budget", "pay", "{ref}", "1", "--amount", "85"],
    ["budget", "refund", "{ref}", "1", "--amount", "5"],
    ["stock", "add", "personal_alarm", "2", "--holder", "idva", "--cost", "10", "--fund", "example_opcc_2026_27"],
])
@pytest.mark.parametrize("invoice", ["A-\n1", "A" * 2_000])
def test_cli_every_invoice_option_takes_one_short_line(db, cli, command, invoice):
    ref = job(db)
    cli("budget", "pay", ref, "1", "--amount", "85", "--invoice", "ZZ-1")
    before = counts(db)
    result = cli(*[a.format(ref=ref) for a in command], "--invoice", invoice)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid value for '--invoice': ")
    assert result.stderr.count("\n") == 1
    assert counts(db) == before


def test_cli_over_and_twice_are_exit_1_until_allowed(db, cli):
    ref = job(db)
    cli("budget", "pay", ref, "--fitted", "--invoice", "ZZ-1001")
    result = cli("budget", "pay", ref, "1", "--amount", "85", "--invoice", "ZZ-1002")
    assert (result.exit_code, result.stderr) == (1, (
        "Error: TH-2026-0001: line 1 is already paid in full (£85.00; fitted for £85.00). Check the invoice; if it "
        "is right, pay it with --allow-over REASON (recorded)\n"))
    result = cli("budget", "pay", ref, "1", "--amount", "85", "--invoice", "ZZ-1001", "--allow-over", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invoice ZZ-1001 from Secure Homes Ltd was already entered, on "
                                    "TH-2026-0001 line 1 (ledger entry 5)")
    result = cli("budget", "pay", ref, "1", "--amount", "85", "--invoice", "ZZ-1002", "--allow-over",
                 "Second door lock agreed")
    assert result.exit_code == 0, result.stderr
