"""No dead ends (issue 14, item 4): a survey that recommends nothing, every line declined, follow-up windows, and
stock filling an ordered line."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import SURVEYOR, add_fund, case, counts, new_case, surveyed_case
from thcli import budget, followups, measures, stock, surveys, targets, workflow
from thcli.errors import NotAllowed

TODAY = "2026-11-20"
D17, D18, D19, D20 = (dt.date(2026, 11, d) for d in (17, 18, 19, 20))


# --- a survey that recommends nothing -------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_survey_recommending_nothing_is_recorded_and_the_case_closes(db):
    ref = new_case(db)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=D17, by="t")
    result = surveys.record_survey(db, ref, on=D18, no_measures=True, note="Home already secure", by="t")
    assert (result["status"], result["lines"], result["surveyor"]) == ("approval", [], SURVEYOR)
    row = case(db, ref)
    assert (row["next_due_what"], row["next_due_on"]) == ("close the case", TODAY)
    assert [i["what"] for i in targets.case_due(db, row)] == ["close the case"]
    with pytest.raises(NotAllowed) as caught:
        workflow.move(db, ref, "closed", reason="completed", by="t")
    assert caught.value.message == (
        f"{ref}: no measure was fitted, so it cannot be closed as completed: close it as no_measures_fitted (every "
        "recommendation declined), no_measures_needed (the survey recommended none) or another outcome (`thcli codes "
        "list outcome_reason`).")
    closed = workflow.move(db, ref, "closed", reason="no_measures_needed", by="t")
    assert (closed["status"], closed["reason"], closed["next_due_on"]) == ("closed", "no_measures_needed", None)


@freeze_time(TODAY)
def test_cli_survey_record_no_measures(cli, db):
    ref = new_case(db)
    cli("survey", "request", ref, "--surveyor", SURVEYOR, "--date", "17/11/2026")
    result = cli("survey", "record", ref, "--date", "18/11/2026", "--no-measures")
    assert (result.exit_code, result.stdout) == (0, (
        f"Recorded the survey of {ref} by {SURVEYOR} on 18/11/2026: no measures recommended. {ref} is now approval.\n"
        f"Next: close it with `thcli referral move {ref} closed --reason no_measures_needed`.\n"))
    closed = cli("referral", "move", ref, "closed", "--reason", "no_measures_needed")
    assert closed.stdout == f"{ref} is now closed.\n"


# --- every line declined ----------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_every_line_declined_shows_no_fitting_target_and_closes_as_no_measures_fitted(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [1], fund=fund, on=D19, by="t")
    assert case(db, ref)["next_due_what"] == "measures fitted"
    with pytest.raises(NotAllowed) as waiting:
        workflow.move(db, ref, "closed", reason="no_measures_fitted", by="t")
    assert waiting.value.message == (
        f"{ref}: lines 1, 2 still await a decision, so it cannot be closed yet: fit them, or decline them with "
        f"`thcli measures decline {ref} 1 2 --reason CODE`.")
    measures.decline(db, ref, [1, 2], reason="no_funding", by="t")
    row = case(db, ref)
    assert (row["status"], row["next_due_what"], row["next_due_on"]) == ("approval", "close the case", TODAY)
    assert "measures fitted" not in [i["what"] for i in targets.case_due(db, row)]
    assert budget.remaining(db, budget.find_fund(db, fund)["id"]) == 500_000   # the commitment given back
    closed = workflow.move(db, ref, "closed", reason="no_measures_fitted", by="t")
    assert (closed["status"], closed["reason"]) == ("closed", "no_measures_fitted")


@freeze_time(TODAY)
def test_a_case_in_works_whose_orders_are_all_declined_closes_too(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    measures.decline(db, ref, [1, 2], reason="landlord_refused", by="t")
    assert case(db, ref)["next_due_what"] == "close the case"
    assert workflow.move(db, ref, "closed", reason="no_measures_fitted", by="t")["status"] == "closed"


@freeze_time(TODAY)
def test_cli_close_with_lines_waiting_exit_1(cli, db):
    ref = surveyed_case(db)
    result = cli("referral", "move", ref, "closed", "--reason", "no_measures_fitted")
    assert (result.exit_code, result.stderr) == (1, (
        f"Error: {ref}: lines 1, 2 still await a decision, so it cannot be closed yet: fit them, or decline them "
        f"with `thcli measures decline {ref} 1 2 --reason CODE`.\n"))


# --- follow-ups not before their window -------------------------------------------------------------------------------


def _fitted(db) -> str:
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    measures.fitted(db, ref, [], on=D20, by="t")
    return ref


def test_a_follow_up_on_the_fitting_day_is_refused_without_a_reason(db):
    with freeze_time(TODAY):
        ref = _fitted(db)
        before = counts(db)
        with pytest.raises(NotAllowed) as caught:
            followups.record_followup(db, ref, on=D20, outcome="feels_safer", by="t")
        assert caught.value.message == (
            f"{ref}: the 3-month follow-up is due on 20/02/2027, and its window opens on 20/01/2027, a month before: "
            f"20/11/2026 is too early to count as it. Record it from 20/01/2027, note the contact with `thcli referral "
            f"note {ref} TEXT`, or add --early REASON (recorded).")
        assert counts(db) == before
        with pytest.raises(Exception, match="give the reason for recording it early"):
            followups.record_followup(db, ref, on=D20, outcome="feels_safer", early="  ", by="t")
    with freeze_time("2027-01-19"):
        with pytest.raises(NotAllowed, match="window opens on 20/01/2027"):
            followups.record_followup(db, ref, on=dt.date(2027, 1, 19), outcome="feels_safer", by="t")
    with freeze_time("2027-01-20"):
        result = followups.record_followup(db, ref, on=dt.date(2027, 1, 20), outcome="feels_safer", by="t")
        assert (result["followups_done"], result["next_due_what"]) == (1, "6-month follow-up")
    with freeze_time("2027-02-01"):
        with pytest.raises(NotAllowed, match="the 6-month follow-up is due on 20/05/2027, and its window opens on "
                                             "20/04/2027"):
            followups.record_followup(db, ref, on=dt.date(2027, 2, 1), outcome="feels_safer", by="t")
        result = followups.record_followup(db, ref, on=dt.date(2027, 2, 1), outcome="moved", by="Jo",
                                           early="Moving out of the area next week")
        assert result["can_close"] is True
        assert db.conn.execute("SELECT early_reason FROM followups ORDER BY id").fetchall() == [
            (None,), ("Moving out of the area next week",)]
        assert db.conn.execute("SELECT detail FROM audit WHERE action = 'followup.record' ORDER BY id").fetchall() == [
            ("feels_safer",), ("moved (early)",)]


def test_the_equipment_review_of_a_closed_case_has_no_window(db):
    with freeze_time(TODAY):
        ref = _fitted(db)
        workflow.move(db, ref, "closed", reason="moved_on", force="the invoice is paid outside thcli", by="t")
        assert followups.record_followup(db, ref, on=D20, outcome="equipment_faulty", by="t")["followups_done"] == 1


# --- stock fills an ordered line --------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_stock_issue_fills_an_ordered_line_of_the_item(db):
    ref = surveyed_case(db, measures=[("lock_change_door", 1, None), ("window_alarm", 2, None)])
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    fund_id = budget.find_fund(db, fund)["id"]
    assert budget.remaining(db, fund_id) == 500_000 - 8500 - 1600
    stock.add_stock(db, "window_alarm", 5, holder="idva", by="t")
    result = stock.issue(db, ref, "window_alarm", by="t")
    lines = measures.list_measures(db, ref)
    assert len(lines) == 2   # no new line: the ordered one is filled
    assert (result["line"]["line"], lines[1]["status"], lines[1]["stock_holder"], lines[1]["fund"]) == (
        2, "fitted", "idva", None)
    assert budget.remaining(db, fund_id) == 500_000 - 8500   # its commitment given back
    assert stock.held(db, "window_alarm", "idva") == 3


@freeze_time(TODAY)
def test_cli_stock_issue_fills_the_ordered_line(cli, db):
    ref = surveyed_case(db, measures=[("window_alarm", 2, None)])
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    stock.add_stock(db, "window_alarm", 5, holder="idva", by="t")
    result = cli("stock", "issue", ref, "window_alarm")
    assert result.stdout == (f"Issued 2 window_alarm to {ref} (line 1) from idva's stock: 3 left.\n"
                             f"Every approved measure is fitted: {ref} is now fitted.\n")
