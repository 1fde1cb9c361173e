"""Equipment stock: add, list with the reorder flag, issue to a case (never below zero)."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.test_surveys import add_fund, case, counts, new_case, surveyed_case
from thcli import budget, measures, settings, stock
from thcli.errors import BadInput, NotAllowed

TODAY = "2026-11-20"


@freeze_time(TODAY)
def test_add_and_list_with_the_reorder_flag(db):
    assert stock.add_stock(db, "personal_alarm", 5, holder="idva", by="t") == 5
    assert stock.add_stock(db, "personal_alarm", 2, holder="idva", by="t") == 7
    stock.add_stock(db, "window_alarm", 2, holder="police_da_officer", by="t")
    assert stock.stock_list(db) == [
        {"item": "personal_alarm", "label": "Personal alarm", "holder": "idva", "holder_label": "IDVA service",
         "quantity": 7, "reorder_level": 2, "reorder": False},
        {"item": "window_alarm", "label": "Window alarm", "holder": "police_da_officer",
         "holder_label": "Police domestic abuse officer", "quantity": 2, "reorder_level": 2, "reorder": True},
    ]
    settings.put(db, "reorder_level", 1)
    assert [row["reorder"] for row in stock.stock_list(db)] == [False, False]
    assert db.conn.execute("SELECT by, action, ref, detail FROM audit WHERE action = 'stock.add'").fetchall()[0] == (
        "t", "stock.add", None, "personal_alarm +5 (idva)")


@freeze_time(TODAY)
@pytest.mark.parametrize("item,quantity,holder,message", [
    ("made_up", 1, "idva", "ITEM: unknown measure 'made_up'"),
    ("lock_change_door", 1, "idva", "ITEM: 'lock_change_door' (Change of door locks (per door)) is a works measure: "
                                    "only equipment is held in stock"),
    ("personal_alarm", 1, "the_shed", "--holder: unknown stock holder 'the_shed'"),
    ("personal_alarm", 0, "idva", "QTY: 0 is not a quantity to add"),
])
def test_add_bad_input(db, item, quantity, holder, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        stock.add_stock(db, item, quantity, holder=holder, by="t")
    assert stock.stock_list(db) == []


@freeze_time(TODAY)
def test_issue_fits_the_recommended_line_and_takes_it_from_stock(db):
    ref = surveyed_case(db, measures=[("window_alarm", 3, None), ("lock_change_door", 1, None)])
    stock.add_stock(db, "window_alarm", 5, holder="police_da_officer", by="t")
    result = stock.issue(db, ref, "window_alarm", by="Jo Coordinator")
    line = result["line"]
    assert (line["line"], line["status"], line["fitted_on"], line["stock_holder"], line["fund"]) == (
        1, "fitted", TODAY, "police_da_officer", None)
    assert (result["holder"], result["left"], result["reorder"], result["moved_to_fitted"]) == (
        "police_da_officer", 2, True, False)
    assert stock.held(db, "window_alarm", "police_da_officer") == 2
    assert db.conn.execute("SELECT item, holder, quantity, case_id, line_id FROM stock_movements "
                           "WHERE quantity < 0").fetchall() == [("window_alarm", "police_da_officer", -3, 1, 1)]
    assert case(db, ref)["status"] == "approval"


@freeze_time(TODAY)
def test_issuing_the_last_waiting_line_moves_the_case_to_fitted_through_works(db):
    ref = surveyed_case(db, measures=[("personal_alarm", 1, None)])
    stock.add_stock(db, "personal_alarm", 3, holder="idva", by="t")
    result = stock.issue(db, ref, "personal_alarm", by="t")
    assert result["moved_to_fitted"] is True
    row = case(db, ref)
    assert (row["status"], row["fitted_on"], row["next_due_what"], row["next_due_on"]) == (
        "fitted", TODAY, "3-month follow-up", "2027-02-20")
    details = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind = 'status'")][-2:]
    assert details == ["approval → works", "works → fitted"]


@freeze_time(TODAY)
def test_issuing_an_approved_line_gives_its_commitment_back(db):
    ref = surveyed_case(db, measures=[("personal_alarm", 2, None), ("lock_change_door", 1, None)])
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, by="t")
    fund_id = budget.find_fund(db, fund)["id"]
    assert budget.remaining(db, fund_id) == 500_000 - 2400 - 8500
    stock.add_stock(db, "personal_alarm", 2, holder="idva", by="t")
    line = stock.issue(db, ref, "personal_alarm", by="t")["line"]
    assert budget.remaining(db, fund_id) == 500_000 - 8500
    assert (line["status"], line["fund"], line["approved_on"], line["stock_holder"]) == (
        "fitted", None, TODAY, "idva")


@freeze_time(TODAY)
def test_issue_at_first_contact_adds_a_line(db):
    ref = new_case(db)
    stock.add_stock(db, "personal_alarm", 4, holder="idva", by="t")
    result = stock.issue(db, ref, "personal_alarm", quantity=2, by="t")
    assert (result["line"]["line"], result["line"]["quantity"], result["line"]["status"], result["left"]) == (
        1, 2, "fitted", 2)
    assert case(db, ref)["status"] == "new"


@freeze_time(TODAY)
def test_issue_not_held_saves_nothing(db):
    ref = surveyed_case(db, measures=[("window_alarm", 3, None)])
    stock.add_stock(db, "window_alarm", 2, holder="office", by="t")
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        stock.issue(db, ref, "window_alarm", by="t")
    assert caught.value.message == (
        "office holds 2 window_alarm, not 3: nothing was issued. Add stock with `thcli stock add window_alarm QTY "
        "--holder office`, or issue from another holder (`thcli stock list`)")
    with pytest.raises(NotAllowed, match="no one holds any door_alarm in stock"):
        stock.issue(db, ref, "door_alarm", by="t")
    assert counts(db) == before


@freeze_time(TODAY)
def test_issue_needs_a_holder_when_several_hold_the_item(db):
    ref = new_case(db)
    stock.add_stock(db, "personal_alarm", 3, holder="idva", by="t")
    stock.add_stock(db, "personal_alarm", 1, holder="office", by="t")
    with pytest.raises(BadInput, match=r"--holder: personal_alarm is held by idva \(3\), office \(1\): say whose"):
        stock.issue(db, ref, "personal_alarm", by="t")
    stock.issue(db, ref, "personal_alarm", holder="office", by="t")
    assert stock.held(db, "personal_alarm", "office") == 0


@freeze_time(TODAY)
def test_issue_refused_once_the_case_is_fitted_or_ended(db):
    from thcli import workflow

    ref = new_case(db)
    stock.add_stock(db, "personal_alarm", 3, holder="idva", by="t")
    workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")
    with pytest.raises(NotAllowed, match="status is withdrawn: equipment is issued while a case is open"):
        stock.issue(db, ref, "personal_alarm", by="t")


@freeze_time(TODAY)
def test_issue_quantity_must_match_the_line(db):
    ref = surveyed_case(db, measures=[("window_alarm", 3, None)])
    stock.add_stock(db, "window_alarm", 9, holder="office", by="t")
    with pytest.raises(BadInput, match="line 1 is for 3 window_alarm: issue that many"):
        stock.issue(db, ref, "window_alarm", quantity=2, by="t")


# --- never below zero -------------------------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["add", "issue"]), st.sampled_from(["idva", "office"]), st.integers(1, 6)),
    min_size=1, max_size=12)


@freeze_time(TODAY)
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_stock_never_goes_below_zero(tmp_path_factory, operations):
    """Whatever the adds and issues, a holder's quantity equals the model and is never negative."""
    from thcli import scheme
    from thcli.db import open_db

    db = open_db(tmp_path_factory.mktemp("stock") / "thcli.db", create=True)
    try:
        scheme.init_scheme(db, by="t", name="Stock Test", code="test", prefix="TH",
                           districts=[("northmoor", "Northmoor")])
        ref = new_case(db)
        model = {"idva": 0, "office": 0}
        for action, holder, quantity in operations:
            if action == "add":
                stock.add_stock(db, "personal_alarm", quantity, holder=holder, by="t")
                model[holder] += quantity
            elif model[holder] >= quantity:
                stock.issue(db, ref, "personal_alarm", holder=holder, quantity=quantity, by="t")
                model[holder] -= quantity
            else:
                lines = db.conn.execute("SELECT count(*) FROM measure_lines").fetchone()[0]
                with pytest.raises(NotAllowed, match="nothing was issued"):
                    stock.issue(db, ref, "personal_alarm", holder=holder, quantity=quantity, by="t")
                assert db.conn.execute("SELECT count(*) FROM measure_lines").fetchone()[0] == lines
            for name in model:
                assert stock.held(db, "personal_alarm", name) == model[name] >= 0
        lowest = db.conn.execute(
            "SELECT coalesce(min(running), 0) FROM (SELECT sum(quantity) OVER (PARTITION BY holder ORDER BY id) "
            "AS running FROM stock_movements)").fetchone()[0]
        assert lowest >= 0
    finally:
        db.close()


# --- the command line ------------------------------------------------------------------------


@freeze_time(TODAY)
def test_cli_stock(cli, db):
    ref = surveyed_case(db, measures=[("personal_alarm", 1, None), ("lock_change_door", 1, None)])
    result = cli("stock", "add", "personal_alarm", "3", "--holder", "idva")
    assert (result.exit_code, result.stdout) == (0, "Added 3 personal_alarm to idva's stock: idva now holds 3.\n")
    result = cli("stock", "issue", ref, "personal_alarm")
    assert result.exit_code == 0
    assert result.stdout == f"Issued 1 personal_alarm to {ref} (line 1) from idva's stock: 2 left.\n"
    assert result.stderr == "Warning: idva has 2 personal_alarm left: time to reorder (setting reorder_level).\n"
    assert cli.json("stock", "list") == [
        {"item": "personal_alarm", "label": "Personal alarm", "holder": "idva", "holder_label": "IDVA service",
         "quantity": 2, "reorder_level": 2, "reorder": True}]
    table = cli("stock", "list", "--format", "table")
    assert "reorder" in table.stdout and "IDVA service" in table.stdout


@freeze_time(TODAY)
@pytest.mark.parametrize("args,code,message", [
    (["add", "personal_alarm", "0", "--holder", "idva"], 2, "Error: Invalid value for 'QTY': '0' is out of range"),
    (["add", "personal_alarm", "2.5", "--holder", "idva"], 2, "Error: Invalid value for 'QTY': '2.5' is not a whole"),
    (["add", "personal_alarm", "3"], 2, "Error: Missing option '--holder'"),
    (["add", "personal_alarm", "3", "--holder", "shed"], 2, "Error: --holder: unknown stock holder 'shed'"),
    (["issue", "{ref}", "door_alarm"], 1, "Error: no one holds any door_alarm in stock"),
    (["issue", "{ref}", "personal_alarm", "--holder", "office"], 1, "Error: office holds 0 personal_alarm, not 1"),
    (["issue", "{ref}", "personal_alarm", "--date", "2026-11-21"], 2, "Error: --date: 21/11/2026 is in the future"),
])
def test_cli_stock_bad_input(cli, db, args, code, message):
    ref = surveyed_case(db, measures=[("personal_alarm", 1, None)])
    stock.add_stock(db, "personal_alarm", 1, holder="idva", by="t")
    before = counts(db)
    result = cli("stock", *[a.format(ref=ref) for a in args])
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert counts(db) == before


def test_dates_are_not_before_the_referral(db):
    with freeze_time(TODAY):
        ref = new_case(db)
        stock.add_stock(db, "personal_alarm", 1, holder="idva", by="t")
        with pytest.raises(BadInput, match="--date: 15/11/2026 is before the referral was received"):
            stock.issue(db, ref, "personal_alarm", on=dt.date(2026, 11, 15), by="t")
