"""Stock has a cost (issue 15): bought from a fund, and each item's cost recorded against the case it is issued
to, so that a household's spend, the county extract's cost_total, the summary's spend and ``report summary``
include equipment from stock. Domain, a property, then CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.test_surveys import add_fund, counts, new_case, surveyed_case
from thcli import budget, county, report, stock
from thcli.errors import BadInput, NotAllowed, WouldOverspend
from thcli.periods import Period

TODAY = "2026-11-20"
YEAR = Period("2026/27", dt.date(2026, 4, 1), dt.date(2027, 3, 31))


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def fund_figures(db, code: str = "example_opcc_2026_27") -> tuple[int, int, int]:
    row = next(f for f in budget.list_funds(db) if f["fund"] == code)
    return row["paid_pence"], row["committed_pence"], row["remaining_pence"]


def test_stock_bought_is_paid_from_the_fund_when_it_arrives(db):
    fund = add_fund(db, 20_000)
    done = stock.receive_stock(db, "personal_alarm", 10, holder="idva", unit_cost_pence=1_250, fund=fund,
                               invoice="ZZ-S-0042", by="t")
    assert (done.held, done.cost_pence, done.fund, done.entry, done.remaining_pence) == (10, 12_500, fund, 2, 7_500)
    assert fund_figures(db) == (12_500, 0, 7_500)
    last = db.conn.execute("SELECT kind, amount_pence, case_id, invoice, memo FROM ledger ORDER BY id DESC").fetchone()
    assert last == ("payment", -12_500, None, "ZZ-S-0042", "stock: 10 personal_alarm for idva at £12.50 each")


def test_buying_stock_follows_the_overspend_rule_and_an_invoice_is_entered_once(db):
    fund = add_fund(db, 10_000)
    before = counts(db)
    with pytest.raises(WouldOverspend, match=r"paying £125.00 for stock would take Example OPCC "
                                             r"\(example_opcc_2026_27\) below zero by £25.00"):
        stock.receive_stock(db, "personal_alarm", 10, holder="idva", unit_cost_pence=1_250, fund=fund,
                            invoice="ZZ-S-0042", by="t")
    assert counts(db) == before
    stock.receive_stock(db, "personal_alarm", 4, holder="idva", unit_cost_pence=1_250, fund=fund,
                        invoice="ZZ-S-0042", by="t")
    with pytest.raises(NotAllowed, match=r"invoice zz-s-0042 for stock was already entered \(ledger entry 2\)"):
        stock.receive_stock(db, "personal_alarm", 4, holder="idva", unit_cost_pence=1_250, fund=fund,
                            invoice="zz-s-0042", by="t")
    assert stock.held(db, "personal_alarm", "idva") == 4


@pytest.mark.parametrize("options, message", [
    ({"unit_cost_pence": 1_250, "invoice": "ZZ-1"}, "--fund: say which fund pays for it"),
    ({"unit_cost_pence": 1_250, "fund": "example_opcc_2026_27"}, "--invoice: equipment bought for stock needs the "
                                                                  "supplier's invoice number"),
    ({"fund": "example_opcc_2026_27"}, "--cost: --fund and --invoice go with --cost, what one item cost"),
    ({"unit_cost_pence": 0, "fund": "example_opcc_2026_27", "invoice": "ZZ-1"},
     "--cost: the cost of one item must be more than £0.00"),
])
def test_bad_stock_purchases_are_refused_and_save_nothing(db, options, message):
    add_fund(db)
    before = counts(db)
    with pytest.raises(BadInput) as caught:
        stock.receive_stock(db, "personal_alarm", 4, holder="idva", by="t", **options)
    assert caught.value.message.startswith(message)
    assert counts(db) == before


def test_issuing_records_the_cost_against_the_case_first_in_first_out(db):
    fund = add_fund(db)
    stock.receive_stock(db, "window_alarm", 2, holder="office", unit_cost_pence=700, fund=fund, invoice="ZZ-1",
                        by="t")
    stock.receive_stock(db, "window_alarm", 5, holder="office", unit_cost_pence=900, fund=fund, invoice="ZZ-2",
                        by="t")
    paid_before = fund_figures(db)
    ref = surveyed_case(db, measures=[("window_alarm", 3, None)])
    result = stock.issue(db, ref, "window_alarm", by="t")
    assert result["cost_pence"] == 2 * 700 + 900
    assert (result["line"]["actual_cost_pence"], result["line"]["fund"]) == (2_300, None)
    assert fund_figures(db) == paid_before  # the pair adds up to nothing on the fund
    first = db.conn.execute("SELECT min(id) FROM ledger WHERE kind = 'stock'").fetchone()[0]
    assert db.conn.execute("SELECT kind, amount_pence, case_id IS NOT NULL, memo FROM ledger WHERE kind = 'stock' "
                           "ORDER BY id").fetchall() == [
        ("stock", -2_300, 1, "3 window_alarm from office's stock"),
        ("stock", 2_300, 0, f"issued from stock (entry {first})")]
    case_id = db.conn.execute("SELECT id FROM cases WHERE ref = ?", [ref]).fetchone()[0]
    assert budget.case_money(db, case_id)["paid_pence"] == 2_300
    assert db.conn.execute("SELECT cost_pence FROM stock_movements WHERE quantity < 0").fetchone()[0] == 2_300
    second = surveyed_case(db, measures=[("window_alarm", 3, None)], name="Sam Sample", postcode="ZZ1 3CD")
    assert stock.issue(db, second, "window_alarm", by="t")["cost_pence"] == 3 * 900
    assert budget.verify_chain(db) == []


def test_equipment_from_stock_counts_towards_the_household_cap(db):
    """The scheme's spend on a household includes what it issued from stock: a lock change that fits under the
    cap on its own does not once an alarm from stock has been issued to the same case."""
    from thcli import measures, settings
    from thcli.db import write

    with write(db):
        settings.put(db, "household_cap", 9_000)
    fund = add_fund(db)
    stock.receive_stock(db, "window_alarm", 3, holder="office", unit_cost_pence=800, fund=fund, invoice="ZZ-3", by="t")
    ref = surveyed_case(db, measures=[("lock_change_door", 1, None), ("window_alarm", 1, None)])
    assert stock.issue(db, ref, "window_alarm", by="t")["cost_pence"] == 800
    before = counts(db)
    with pytest.raises(NotAllowed, match=r"approving line 1 \(£85.00\) would bring the scheme's spend on "
                                         r"TH-2026-0001 to £93.00"):
        measures.approve(db, ref, [1], fund=fund, by="t")
    assert counts(db) == before
    other = surveyed_case(db, measures=[("lock_change_door", 1, None)], name="Sam Sample", postcode="ZZ1 3CD")
    measures.approve(db, other, [1], fund=fund, by="t")   # £85.00 on its own is within the cap


def _paid_alarm_line(db) -> str:
    """A case whose approved window-alarm line (3 at £8.00) has £24.00 paid on it, with bought alarms in stock."""
    from thcli import measures

    fund = add_fund(db)
    stock.receive_stock(db, "window_alarm", 3, holder="office", unit_cost_pence=800, fund=fund, invoice="ZZ-4", by="t")
    ref = surveyed_case(db, measures=[("window_alarm", 3, None)])
    measures.approve(db, ref, [1], fund=fund, by="t")
    budget.pay(db, ref, 1, amount_pence=2_400, invoice="AL-1", by="t")
    return ref


def test_a_line_already_paid_is_not_filled_from_stock(db):
    # It was filled, and the stock's £24.00 charged on top of the £24.00 paid: the household charged twice.
    ref = _paid_alarm_line(db)
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        stock.issue(db, ref, "window_alarm", by="t")
    assert caught.value.message == (
        "TH-2026-0001 line 1 (window_alarm) has £24.00 paid on it already (ledger entry 4): issuing it from stock "
        "would charge the household twice, so nothing was issued. If that payment bought this equipment, record "
        "the line as fitted (`thcli measures order TH-2026-0001 1 --contractor CODE`, then `thcli measures fitted "
        "TH-2026-0001 1`); if it was entered by mistake, correct it (`thcli budget correct 4 --reason TEXT`) and "
        "issue again")
    assert counts(db) == before
    budget.correct(db, 4, reason="Paid on the wrong line", by="t")
    assert stock.issue(db, ref, "window_alarm", by="t")["cost_pence"] == 2_400


def test_cli_a_line_already_paid_is_not_filled_from_stock(db, cli):
    ref = _paid_alarm_line(db)
    result = cli("stock", "issue", ref, "window_alarm")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: TH-2026-0001 line 1 (window_alarm) has £24.00 paid on it already")
    assert result.stderr.count("\n") == 1
    assert stock.held(db, "window_alarm", "office") == 3


def test_donated_stock_costs_the_case_nothing(db):
    stock.add_stock(db, "personal_alarm", 2, holder="idva", by="t")
    ref = new_case(db)
    result = stock.issue(db, ref, "personal_alarm", by="t")
    assert (result["cost_pence"], result["line"]["actual_cost_pence"]) == (0, None)
    assert db.conn.execute("SELECT count(*) FROM ledger WHERE kind = 'stock'").fetchone()[0] == 0


def test_a_stock_entry_is_not_corrected_on_its_own(db):
    fund = add_fund(db)
    stock.receive_stock(db, "personal_alarm", 2, holder="idva", unit_cost_pence=1_000, fund=fund, invoice="ZZ-1",
                        by="t")
    stock.issue(db, new_case(db), "personal_alarm", by="t")
    entry = db.conn.execute("SELECT min(id) FROM ledger WHERE kind = 'stock'").fetchone()[0]
    with pytest.raises(NotAllowed, match=f"entry {entry} is a stock, which follows issuing equipment from stock"):
        budget.correct(db, entry, reason="x", by="t")


def test_spend_per_household_and_the_county_figures_include_equipment_from_stock(db):
    fund = add_fund(db)
    stock.receive_stock(db, "personal_alarm", 4, holder="idva", unit_cost_pence=1_500, fund=fund, invoice="ZZ-1",
                        by="t")
    ref = new_case(db, consent=["police", "contractor", "county"])
    stock.issue(db, ref, "personal_alarm", quantity=2, by="t")
    row = next(county.case_rows(db, YEAR))
    assert dict(zip(county.CASE_COLUMNS, row, strict=True))["cost_total"] == "30.00"
    cells = {(c.measure, c.breakdown, c.category): c.value for c in county.summary_cells(db, YEAR)}
    # Spend on households: the two alarms issued, not the two still in the cupboard.
    assert cells[("spend", "all", "all")] == 3_000
    assert cells[("spend", "district", "northmoor")] == 3_000
    assert cells[("spend", "fund_source", "opcc")] == 3_000
    figures = report.summary(db, YEAR)
    assert figures["spend"]["per_household"] == {"households": 1, "mean_pence": 3_000, "min_pence": 3_000,
                                                 "max_pence": 3_000}
    # What the fund paid: the whole delivery, when it was bought.
    assert figures["spend"]["by_fund"] == [{"fund": fund, "name": "Example OPCC", "source": "opcc",
                                            "spend_pence": 6_000}]


# --- a property: every penny of stock is in the fund once, and follows the items --------------------------------

DELIVERIES = st.lists(st.tuples(st.integers(1, 5), st.one_of(st.none(), st.integers(1, 5_000)), st.booleans()),
                      min_size=1, max_size=5)
ISSUES = st.lists(st.integers(1, 4), max_size=6)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=DELIVERIES, issues=ISSUES)
def test_stock_costs_add_up_to_the_penny(tmp_path_factory, deliveries, issues):
    """Whatever the deliveries (some donated, from two funds) and issues, each fund paid what it bought, its
    balance is untouched by issues, and what cases were charged plus what is left at cost is what was bought."""
    from thcli import scheme
    from thcli.db import open_db

    db = open_db(tmp_path_factory.mktemp("costs") / "thcli.db", create=True)
    try:
        scheme.init_scheme(db, by="t", name="Cost Test", code="test", prefix="TH",
                           districts=[("northmoor", "Northmoor")])
        funds = [budget.add_fund(db, name, year="2026/27", source="opcc", amount_pence=10_000_000, by="t")["code"]
                 for name in ("First", "Second")]
        units: list[tuple[int | None, str | None]] = []   # every item bought, in order: (unit cost, fund)
        for number, (quantity, unit, second) in enumerate(deliveries):
            fund = funds[second]
            if unit is None:
                stock.add_stock(db, "personal_alarm", quantity, holder="idva", by="t")
                units += [(None, None)] * quantity
            else:
                stock.receive_stock(db, "personal_alarm", quantity, holder="idva", unit_cost_pence=unit, fund=fund,
                                    invoice=f"ZZ-{number}", by="t")
                units += [(unit, fund)] * quantity
        balances = {code: fund_figures(db, code)[2] for code in funds}
        charged = 0
        for quantity in issues:
            if quantity > len(units):
                break
            taken, units = units[:quantity], units[quantity:]
            result = stock.issue(db, new_case(db), "personal_alarm", holder="idva", quantity=quantity, by="t")
            assert result["cost_pence"] == sum(unit or 0 for unit, _ in taken)
            charged += result["cost_pence"]
        assert {code: fund_figures(db, code)[2] for code in funds} == balances
        bought = sum(unit * quantity for quantity, unit, _ in deliveries if unit)
        assert charged + sum(unit or 0 for unit, _ in units) == bought
        assert -db.conn.execute("SELECT coalesce(sum(amount_pence), 0) FROM ledger WHERE kind = 'stock' AND "
                                "case_id IS NOT NULL").fetchone()[0] == charged
        assert budget.verify_chain(db) == []
    finally:
        db.close()


# --- the command line ---------------------------------------------------------------------------------


def test_cli_stock_bought_from_a_fund_and_issued_at_its_cost(db, cli):
    add_fund(db)
    result = cli("stock", "add", "personal_alarm", "10", "--holder", "idva", "--cost", "12.50", "--fund",
                 "example_opcc_2026_27", "--invoice", "ZZ-S-0042")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Added 10 personal_alarm to idva's stock: idva now holds 10.\n"
        "Paid £125.00 (10 at £12.50) from example_opcc_2026_27 on invoice ZZ-S-0042 (ledger entry 2). "
        "example_opcc_2026_27 has £4,875.00 left.\n")
    ref = new_case(db)
    result = cli("stock", "issue", ref, "personal_alarm", "--quantity", "2")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("Issued 2 personal_alarm to TH-2026-0001 (line 1) from idva's stock (£25.00 recorded "
                             "against the case): 8 left.\n")
    shown = cli.json("referral", "show", ref)
    assert shown["money"]["paid_pence"] == 2_500


def test_cli_stock_add_bad_cost_options_are_exit_2(db, cli):
    add_fund(db)
    result = cli("stock", "add", "personal_alarm", "10", "--holder", "idva", "--cost", "12.50", "--invoice", "ZZ")
    assert (result.exit_code, result.stderr) == (2, "Error: --fund: say which fund pays for it: stock bought with "
                                                    "--cost is paid from --fund FUND\n")
    result = cli("stock", "add", "personal_alarm", "10", "--holder", "idva", "--cost", "0", "--fund",
                 "example_opcc_2026_27", "--invoice", "ZZ")
    assert result.exit_code == 2
    assert stock.stock_list(db) == []


@pytest.mark.parametrize(("args", "message"), [
    (["stock", "add", "personal_alarm", "1000000", "--holder", "idva"],
     "Error: QTY: 1000000 is more than one delivery can be (9999): record larger deliveries in parts\n"),
    (["stock", "add", "personal_alarm", "9999", "--holder", "idva", "--cost", "10000000", "--fund",
      "example_opcc_2026_27", "--invoice", "ZZ-BIG"],
     "Error: --cost: 9999 at £10,000,000.00 is £99,990,000,000.00, more than one delivery can cost "
     "(£10,000,000.00): check the cost of one item\n"),
    (["stock", "issue", "{ref}", "personal_alarm", "--quantity", "1000000"],
     "Error: --quantity: 1000000 is more than one issue can be (at most 9999)\n"),
])
def test_cli_stock_quantities_and_delivery_totals_have_a_limit(db, cli, args, message):
    # A delivery of a million alarms at £10,000,000 each was recorded, and paid from the fund.
    add_fund(db)
    ref = new_case(db)
    before = counts(db)
    result = cli(*[a.format(ref=ref) for a in args])
    assert (result.exit_code, result.stderr) == (2, message)
    assert counts(db) == before


def test_stock_limits_hold_at_the_domain_too(db):
    fund = add_fund(db)
    with pytest.raises(BadInput, match="^QTY: 10000 is more than one delivery can be"):
        stock.add_stock(db, "personal_alarm", 10_000, holder="idva", by="t")
    with pytest.raises(BadInput, match="^--cost: 2 at £6,000,000.00 is £12,000,000.00"):
        stock.receive_stock(db, "personal_alarm", 2, holder="idva", unit_cost_pence=600_000_000, fund=fund,
                            invoice="ZZ-1", by="t")
    assert stock.stock_list(db) == []


# --- lent equipment back into stock --------------------------------------------------------------------------


def _lent(db) -> tuple[str, str]:
    """A case that was lent a personal alarm from the IDVA's stock (bought at £12.50) and has ended."""
    from thcli import workflow

    fund = add_fund(db)
    stock.receive_stock(db, "personal_alarm", 2, holder="idva", unit_cost_pence=1_250, fund=fund, invoice="ZZ-9",
                        by="t")
    ref = new_case(db)
    stock.issue(db, ref, "personal_alarm", by="t")
    workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")
    return ref, fund


def test_collected_equipment_goes_back_into_stock_at_no_cost(db):
    ref, _fund = _lent(db)
    assert stock.held(db, "personal_alarm", "idva") == 1
    back = stock.collect(db, ref, [1], holder="idva", on=dt.date(2026, 11, 20), by="t")
    assert (back["held"], [(line["line"], line["status"]) for line in back["lines"]]) == (
        {"personal_alarm": 2}, [(1, "removed")])
    assert db.conn.execute("SELECT quantity, unit_cost_pence, fund_id, line_id IS NOT NULL FROM stock_movements "
                           "ORDER BY id DESC").fetchone() == (1, None, None, 1)
    case_id = db.conn.execute("SELECT id FROM cases WHERE ref = ?", [ref]).fetchone()[0]
    assert budget.case_money(db, case_id)["paid_pence"] == 1_250   # the household that had it keeps its cost
    other = new_case(db, name="Sam Sample", postcode="ZZ1 3CD")
    assert stock.issue(db, other, "personal_alarm", by="t")["cost_pence"] == 1_250   # first in: the bought one
    third = new_case(db, name="Robin Sample", postcode="ZZ1 4EF")
    assert stock.issue(db, third, "personal_alarm", by="t")["cost_pence"] == 0       # then the returned one
    assert budget.verify_chain(db) == []


def test_collecting_into_an_unknown_holder_or_from_a_line_not_there_saves_nothing(db):
    from thcli.errors import NotFound

    ref, _fund = _lent(db)
    before = counts(db)
    with pytest.raises(BadInput, match="--to-stock: unknown stock holder 'cupboard'"):
        stock.collect(db, ref, [1], holder="cupboard", on=dt.date(2026, 11, 20), by="t")
    with pytest.raises(NotFound, match="has no measure line 7"):
        stock.collect(db, ref, [7], holder="idva", on=dt.date(2026, 11, 20), by="t")
    assert counts(db) == before
    assert stock.held(db, "personal_alarm", "idva") == 1


def test_cli_measures_remove_to_stock(db, cli):
    ref, _fund = _lent(db)
    result = cli("measures", "remove", ref, "1", "--date", "20/11/2026", "--to-stock", "idva")
    assert (result.exit_code, result.stdout) == (
        0, f"{ref}: removed line 1, back in idva's stock: personal_alarm now 2.\n")
    result = cli("measures", "remove", ref, "1", "--date", "20/11/2026", "--to-stock", "nobody")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --to-stock: unknown stock holder 'nobody'")
