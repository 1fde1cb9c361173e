"""Measure lines: approve, decline, order, fitted, remove; the case moving to fitted by itself."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time

from tests.test_surveys import SURVEYOR, add_fund, case, counts, new_case, surveyed_case
from thcli import budget, measures, referrals, settings, surveys, workflow
from thcli.errors import BadInput, NotAllowed, NotFound

TODAY = "2026-11-20"
D19 = dt.date(2026, 11, 19)
D20 = dt.date(2026, 11, 20)


def statuses(db, ref) -> list[str]:
    return [m["status"] for m in measures.list_measures(db, ref)]


def fund_left(db, code) -> int:
    return budget.remaining(db, budget.find_fund(db, code)["id"])


def ordered_case(db, **overrides) -> tuple[str, str]:
    """A case in works with lines 1 (lock change) and 2 (3 window alarms) ordered on 19/11."""
    ref = surveyed_case(db, **overrides)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    return ref, fund


# --- list: the JSON contract ----------------------------------------------------------------------


@freeze_time(TODAY)
def test_measures_list_json_contract(cli, db):
    ref = surveyed_case(db, measures=[("lock_change_door", 2, None), ("window_alarm", 3, 1250),
                                      ("door_jammer", 1, None)])
    fund = add_fund(db)
    measures.approve(db, ref, [1, 2], fund=fund, on=D19, by="t")
    measures.order(db, ref, [1], contractor="in_house", on=D19, by="t")
    measures.fitted(db, ref, [1], on=D20, cost_pence=18000, by="t")
    measures.decline(db, ref, [3], reason="no_funding", by="t")
    data = cli.json("measures", "list", ref)
    common = {"approved_on": None, "declined_reason": None, "over_cap_reason": None, "stock_holder": None,
              "removed_on": None, "location": None}
    assert data == [
        {"line": 1, "code": "lock_change_door", "label": "Change of door locks (per door)", "quantity": 2,
         "estimated_cost_pence": 17000, "status": "fitted", "fund": fund, "contractor": "in_house",
         "ordered_on": "2026-11-19", "fitted_on": "2026-11-20", "actual_cost_pence": 18000, "removable": False,
         "kind": "works", "unit_cost_pence": 8500, **common, "approved_on": "2026-11-19"},
        {"line": 2, "code": "window_alarm", "label": "Window alarm", "quantity": 3, "estimated_cost_pence": 3750,
         "status": "approved", "fund": fund, "contractor": None, "ordered_on": None, "fitted_on": None,
         "actual_cost_pence": None, "removable": True, "kind": "equipment", "unit_cost_pence": 1250, **common,
         "approved_on": "2026-11-19"},
        {"line": 3, "code": "door_jammer", "label": "Door jammer", "quantity": 1, "estimated_cost_pence": 2500,
         "status": "declined", "fund": None, "contractor": None, "ordered_on": None, "fitted_on": None,
         "actual_cost_pence": None, "removable": True, "kind": "equipment", "unit_cost_pence": 2500, **common,
         "declined_reason": "no_funding"},
    ]
    assert list(data[0])[:12] == ["line", "code", "label", "quantity", "estimated_cost_pence", "status", "fund",
                                  "contractor", "ordered_on", "fitted_on", "actual_cost_pence", "removable"]


@freeze_time(TODAY)
def test_measures_list_table_and_csv(cli, db):
    ref = surveyed_case(db)
    table = cli("measures", "list", ref, "--format", "table")
    assert table.exit_code == 0
    assert "Change of door locks (per door)" in table.stdout and "recommended" in table.stdout
    csv = cli("measures", "list", ref, "--format", "csv")
    assert csv.stdout.splitlines()[0] == ",".join(measures.LIST_FIELDS)
    assert csv.stdout.splitlines()[1].startswith("1,lock_change_door,Change of door locks (per door),1,8500,"
                                                 "recommended,,,,,,no,works,8500,")


# --- approve ---------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_approve_commits_the_estimate_to_the_fund(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    done = measures.approve(db, ref, [], fund=fund, by="Jo Coordinator")
    assert [(m["line"], m["status"], m["fund"], m["approved_on"]) for m in done] == [
        (1, "approved", fund, TODAY), (2, "approved", fund, TODAY)]
    assert fund_left(db, fund) == 500_000 - 8500 - 2400
    assert db.conn.execute("SELECT detail FROM events WHERE kind = 'measures'").fetchall() == [
        (f"approved lines 1, 2 against {fund}",)]
    assert db.conn.execute("SELECT by, ref, detail FROM audit WHERE action = 'measures.approve'").fetchall() == [
        ("Jo Coordinator", ref, f"lines 1, 2; fund {fund}")]


@freeze_time(TODAY)
def test_approve_chosen_lines_and_refuse_wrong_ones(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [2], fund=fund, by="t")
    assert statuses(db, ref) == ["recommended", "approved"]
    with pytest.raises(NotAllowed, match=r"line 2 \(window_alarm\) is approved, so it cannot be approved: it can be "
                                         "approved only while recommended"):
        measures.approve(db, ref, [2], fund=fund, by="t")
    with pytest.raises(NotFound, match=f"{ref} has no measure line 7: its lines are 1, 2"):
        measures.approve(db, ref, [1, 7], fund=fund, by="t")
    assert statuses(db, ref) == ["recommended", "approved"]


@freeze_time(TODAY)
def test_approve_needs_a_known_fund_and_saves_nothing_without(db):
    ref = surveyed_case(db)
    add_fund(db)
    before = counts(db)
    with pytest.raises(BadInput, match="--fund: there is no fund 'made_up'"):
        measures.approve(db, ref, [], fund="made_up", by="t")
    assert counts(db) == before


@freeze_time(TODAY)
def test_overspend_is_refused_unless_allowed_and_nothing_is_half_approved(db):
    from thcli.errors import WouldOverspend

    ref = surveyed_case(db)
    fund = add_fund(db, amount_pence=9000)   # enough for line 1 (£85), not for both
    before = counts(db)
    with pytest.raises(WouldOverspend):
        measures.approve(db, ref, [], fund=fund, by="t")
    assert counts(db) == before and statuses(db, ref) == ["recommended", "recommended"]
    measures.approve(db, ref, [], fund=fund, allow_overspend="Lock change cannot wait", by="t")
    assert statuses(db, ref) == ["approved", "approved"]


@freeze_time(TODAY)
def test_equipment_only_scheme_refuses_to_approve_works(db):
    settings.put(db, "works_offered", False)
    ref = surveyed_case(db)
    fund = add_fund(db)
    with pytest.raises(NotAllowed) as caught:
        measures.approve(db, ref, [], fund=fund, by="t")
    assert caught.value.message == (
        f'{ref}: approving measures is refused by the eligibility rule "works offered" (setting works_offered): this '
        "scheme offers equipment only, and line 1 (lock_change_door) is a works measure. Decline it with "
        f"`thcli measures decline {ref} 1 --reason works_not_offered`, approve or order the equipment lines by number, "
        "or go ahead with --override REASON (recorded on the case and in the audit log).")
    assert statuses(db, ref) == ["recommended", "recommended"]
    measures.approve(db, ref, [2], fund=fund, by="t")
    assert statuses(db, ref) == ["recommended", "approved"]
    with pytest.raises(NotAllowed, match='approving measures is refused by the eligibility rule "works offered"'):
        measures.approve(db, ref, [1], fund=fund, by="t")
    measures.approve(db, ref, [1], fund=fund, override="Landlord pays; lock fitted by the council", by="t")
    assert statuses(db, ref) == ["approved", "approved"]
    # Overridden on the case, the rule does not stop the order that follows.
    measures.order(db, ref, [], contractor="in_house", on=D20, by="t")
    assert statuses(db, ref) == ["ordered", "ordered"]


@freeze_time(TODAY)
def test_approve_only_while_the_case_awaits_approval_or_works(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    workflow.move(db, ref, "on_hold", by="t")
    with pytest.raises(NotAllowed, match=f"{ref}'s status is on_hold: measures are approved while a case is in "
                                         "approval or works"):
        measures.approve(db, ref, [], fund=fund, by="t")


@freeze_time(TODAY)
def test_approve_not_before_the_survey_nor_in_the_future(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    with pytest.raises(BadInput, match="--date: .* was recommended by the survey of 18/11/2026: it cannot be "
                                       "approved before that"):
        measures.approve(db, ref, [], fund=fund, on=dt.date(2026, 11, 17), by="t")
    with pytest.raises(BadInput, match="--date: 21/11/2026 is in the future"):
        measures.approve(db, ref, [], fund=fund, on=dt.date(2026, 11, 21), by="t")


# --- decline -----------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_decline_gives_the_commitment_back(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, by="t")
    measures.decline(db, ref, [1], reason="landlord_refused", by="t")
    assert statuses(db, ref) == ["declined", "approved"]
    assert fund_left(db, fund) == 500_000 - 2400
    line = measures.list_measures(db, ref)[0]
    assert (line["declined_reason"], line["fund"], line["approved_on"]) == ("landlord_refused", None, TODAY)


@freeze_time(TODAY)
def test_decline_needs_a_known_reason(db):
    ref = surveyed_case(db)
    with pytest.raises(BadInput, match="--reason: unknown decline reason 'whim'"):
        measures.decline(db, ref, [1], reason="whim", by="t")
    with pytest.raises(BadInput, match="give the numbers of the lines to decline"):
        measures.decline(db, ref, [], reason="other", by="t")
    assert statuses(db, ref) == ["recommended", "recommended"]


# --- order -------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_order_moves_the_case_to_works(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    done = measures.order(db, ref, [], contractor="in_house", by="t")
    assert [(m["status"], m["contractor"], m["ordered_on"]) for m in done] == [
        ("ordered", "in_house", TODAY), ("ordered", "in_house", TODAY)]
    assert case(db, ref)["status"] == "works"


@freeze_time(TODAY)
def test_works_on_a_rented_home_need_landlord_permission_but_equipment_does_not(db):
    ref = surveyed_case(db, tenure="private_rented")
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    before = counts(db)
    with pytest.raises(NotAllowed, match="the home is rented and the landlord's permission is not yet requested"):
        measures.order(db, ref, [], contractor="in_house", by="t")
    with pytest.raises(NotAllowed, match="permission is not yet requested"):
        measures.order(db, ref, [1], contractor="in_house", by="t")
    assert counts(db) == before
    measures.order(db, ref, [2], contractor="in_house", by="t")   # the window alarms: equipment
    assert statuses(db, ref) == ["approved", "ordered"] and case(db, ref)["status"] == "works"
    referrals.set_landlord_permission(db, ref, "granted", by="t")
    measures.order(db, ref, [1], contractor="in_house", by="t")
    assert statuses(db, ref) == ["ordered", "ordered"]


@freeze_time(TODAY)
def test_order_needs_consent_to_share_with_the_contractor(db):
    ref = surveyed_case(db, consent=["police"])
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, by="t")
    with pytest.raises(NotAllowed, match="no consent to share with the contractor"):
        measures.order(db, ref, [2], contractor="in_house", by="t")
    assert case(db, ref)["status"] == "approval"


@freeze_time(TODAY)
def test_order_rules(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    with pytest.raises(NotAllowed, match=r"line 1 \(lock_change_door\) is recommended, so it cannot be ordered: "
                                         rf"approve it first \(`thcli measures approve {ref} 1 --fund FUND`\)"):
        measures.order(db, ref, [1], contractor="in_house", by="t")
    with pytest.raises(NotAllowed, match=f"{ref} has no approved measure lines to be ordered "
                                         r"\(lines: 1 recommended, 2 recommended\)"):
        measures.order(db, ref, [], contractor="in_house", by="t")
    with pytest.raises(BadInput, match="--contractor: unknown contractor 'bodgers'"):
        measures.order(db, ref, [], contractor="bodgers", by="t")
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    with pytest.raises(BadInput, match="was approved on 19/11/2026: it cannot be ordered before that"):
        measures.order(db, ref, [], contractor="in_house", on=dt.date(2026, 11, 18), by="t")
    with pytest.raises(BadInput, match="--date: 21/11/2026 is in the future: record an order once it is placed"):
        measures.order(db, ref, [], contractor="in_house", on=dt.date(2026, 11, 21), by="t")


# --- fitted, and the case fitted by itself ---------------------------------------------------------------


@freeze_time(TODAY)
def test_fitted_at_actual_cost_and_the_case_moves_to_fitted_when_all_are(db):
    ref, fund = ordered_case(db)
    done, moved = measures.fitted(db, ref, [1], on=D20, cost_pence=9000, by="t")
    assert (done[0]["status"], done[0]["fitted_on"], done[0]["actual_cost_pence"], moved) == (
        "fitted", TODAY, 9000, False)
    assert case(db, ref)["status"] == "works"
    assert fund_left(db, fund) == 500_000 - 9000 - 2400   # £5 more than the estimate drawn
    done, moved = measures.fitted(db, ref, [], on=D20, by="t")
    assert (done[0]["line"], done[0]["actual_cost_pence"], moved) == (2, 2400, True)
    row = case(db, ref)
    assert (row["status"], row["fitted_on"], row["next_due_what"], row["next_due_on"]) == (
        "fitted", TODAY, "3-month follow-up", "2027-02-20")
    details = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind = 'status'")][-1:]
    assert details == ["works → fitted"]


@freeze_time(TODAY)
def test_case_not_fitted_while_a_line_awaits_a_decision(db):
    ref = surveyed_case(db, measures=[("lock_change_door", 1, None), ("window_alarm", 3, None),
                                      ("cctv", 1, None)])
    fund = add_fund(db)
    measures.approve(db, ref, [1, 2], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    _, moved = measures.fitted(db, ref, [], on=D20, by="t")
    assert (moved, case(db, ref)["status"]) == (False, "works")
    measures.decline(db, ref, [3], reason="no_funding", by="t")   # the last undecided line
    row = case(db, ref)
    assert (row["status"], row["fitted_on"]) == ("fitted", TODAY)


@freeze_time(TODAY)
@pytest.mark.parametrize("kwargs,error,message", [
    ({"on": dt.date(2026, 11, 18)}, BadInput,
     r"--date: TH-2026-0001 line 1 \(lock_change_door\) was ordered on 19/11/2026: it cannot be fitted before it was "
     "ordered"),
    ({"on": dt.date(2026, 11, 21)}, BadInput,
     "--date: 21/11/2026 is in the future: record a measure as fitted once it is fitted"),
    ({"on": D20, "cost_pence": 5000}, BadInput,
     r"--cost: --cost is the actual cost of one line, and 2 lines would be fitted \(1, 2\)"),
    ({"on": D20, "cost_pence": -1}, BadInput, "--cost: the cost cannot be negative"),
])
def test_fitted_bad_input_saves_nothing(db, kwargs, error, message):
    ref, _fund = ordered_case(db)
    before = counts(db)
    with pytest.raises(error, match=message):
        measures.fitted(db, ref, [], by="t", **kwargs)
    assert counts(db) == before


@freeze_time(TODAY)
def test_fitted_needs_the_line_ordered(db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [1], contractor="in_house", on=D19, by="t")
    with pytest.raises(NotAllowed, match=r"line 2 \(window_alarm\) is approved, so it cannot be fitted: it must be "
                                         "ordered first"):
        measures.fitted(db, ref, [2], on=D20, by="t")


# --- remove ------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_remove_only_removable_equipment_even_on_a_closed_case(db):
    ref, _fund = ordered_case(db)
    measures.fitted(db, ref, [], on=D19, by="t")
    with pytest.raises(NotAllowed, match=r"line 1 \(lock_change_door\) is permanent: only removable equipment"):
        measures.remove(db, ref, [1], on=D20, by="t")
    with pytest.raises(BadInput, match="was fitted on 19/11/2026: it cannot be removed before that"):
        measures.remove(db, ref, [2], on=dt.date(2026, 11, 18), by="t")
    budget.pay_invoice(db, ref, None, internal=True, by="t")
    workflow.move(db, ref, "closed", reason="moved_on", by="t")
    done = measures.remove(db, ref, [2], on=D20, by="t")
    assert (done[0]["status"], done[0]["removed_on"]) == ("removed", TODAY)
    with pytest.raises(NotAllowed, match=r"line 2 \(window_alarm\) is removed, so it cannot be removed"):
        measures.remove(db, ref, [2], on=D20, by="t")


# --- the command line ---------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_cli_walk_through(cli, db):
    ref = surveyed_case(db)
    fund = add_fund(db)
    result = cli("measures", "approve", ref, "--fund", fund)
    assert (result.exit_code, result.stdout) == (0, f"{ref}: approved lines 1, 2 against {fund}.\n")
    result = cli("measures", "order", ref, "1", "--contractor", "in_house")
    assert result.stdout == (f"{ref}: ordered line 1 from in_house.\n{ref} is works.\n"
                             "Next due: measures fitted by 18/11/2026.\n")
    cli("measures", "order", ref, "--contractor", "in_house")
    result = cli("measures", "fitted", ref, "1", "--date", "20/11/2026", "--cost", "£92.50")
    assert result.stdout == f"{ref}: fitted line 1.\n{ref} is works.\nNext due: measures fitted by 18/11/2026.\n"
    result = cli("measures", "fitted", ref, "--date", "20/11/2026")
    assert result.stdout == (f"{ref}: fitted line 2.\nEvery approved measure is fitted: {ref} is now fitted.\n"
                             "Next due: 3-month follow-up by 20/02/2027.\n")
    result = cli("measures", "remove", ref, "2", "--date", "20/11/2026")
    assert result.stdout == f"{ref}: removed line 2.\n"
    data = json.loads(cli("measures", "list", ref, "--format", "json").stdout)
    assert [(m["status"], m["actual_cost_pence"]) for m in data] == [("fitted", 9250), ("removed", 2400)]


@freeze_time(TODAY)
@pytest.mark.parametrize("args,code,message", [
    (["approve", "{ref}", "9", "--fund", "{fund}"], 1, "Error: {ref} has no measure line 9: its lines are 1, 2"),
    (["approve", "{ref}", "0", "--fund", "{fund}"], 2, "Error: Invalid value for '[LINE]...': '0' is out of range"),
    (["approve", "{ref}", "one", "--fund", "{fund}"], 2, "Error: Invalid value for '[LINE]...': 'one' is not a whole"),
    (["approve", "{ref}"], 2, "Error: Missing option '--fund'"),
    (["order", "{ref}", "--contractor", "bodgers"], 2, "Error: --contractor: unknown contractor 'bodgers'"),
    (["decline", "{ref}", "--reason", "other"], 2, "Error: Missing argument 'LINE...'"),
    (["fitted", "{ref}", "--date", "2026-11-20"], 1, "Error: {ref}'s status is approval: measures are recorded as "
                                                       "fitted while a case is in works"),
    (["fitted", "{ref}", "1", "--date", "2026-11-20", "--cost", "ten"], 2, "Error: Invalid value for '--cost'"),
    (["remove", "{ref}", "1", "--date", "2026-11-21"], 2, "Error: --date: 21/11/2026 is in the future"),
    (["list", "TH-2026-0099"], 1, "Error: there is no case 'TH-2026-0099'"),
])
def test_cli_bad_input(cli, db, args, code, message):
    ref = surveyed_case(db)
    fund = add_fund(db)
    before = counts(db)
    result = cli("measures", *[a.format(ref=ref, fund=fund) for a in args])
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message.format(ref=ref)), result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert counts(db) == before


@freeze_time(TODAY)
def test_survey_then_stock_line_numbers_follow_on(db):
    """A line issued from stock before the survey keeps number 1; the survey's lines follow."""
    from thcli import stock

    ref = new_case(db)
    stock.add_stock(db, "personal_alarm", 3, holder="idva", by="t")
    stock.issue(db, ref, "personal_alarm", by="t")
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=D19, by="t")
    surveys.record_survey(db, ref, surveyor=SURVEYOR, on=D20, measures=[("door_alarm", 1, None)], by="t")
    assert [(m["line"], m["code"], m["status"]) for m in measures.list_measures(db, ref)] == [
        (1, "personal_alarm", "fitted"), (2, "door_alarm", "recommended")]
