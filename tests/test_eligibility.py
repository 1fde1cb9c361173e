"""A scheme's eligibility rules (issue 14, item 2): checked when a referral arrives, shown in `referral show`, and
enforced at the survey, approval, order and stock issue, with a recorded override; settings checked when set."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from tests.conftest import referral_args
from tests.test_surveys import SURVEYOR, add_fund, case, counts, new_case, surveyed_case
from thcli import eligibility, measures, referrals, scheme, settings, stock, surveys, workflow
from thcli.errors import BadInput, NotAllowed

TODAY = "2026-11-20"
D17, D18, D19 = dt.date(2026, 11, 17), dt.date(2026, 11, 18), dt.date(2026, 11, 19)
OVERRIDE = "(recorded on the case and in the audit log)."


def set_(db, **values) -> None:
    for key, value in values.items():
        scheme.set_from_text(db, key, value, by="t")


def texts(db, case_dict: dict) -> list[str]:
    return [p.text for p in eligibility.problems(db, case_dict)]


# --- each rule, in words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings_", "case_", "expected"), [
    ({"eligible_routes": "self,marac,idva"}, {"route": "police"},
     'rule "eligible routes" (setting eligible_routes): the referral came by route police, which this scheme does '
     "not take (it takes self, marac, idva)"),
    ({"marac_required": "yes"}, {"marac": False},
     'rule "MARAC required" (setting marac_required): the case has not been heard at MARAC'),
    ({"marac_required": "yes"}, {"marac": None},
     'rule "MARAC required" (setting marac_required): the case is not recorded as heard at MARAC'),
    ({"eligible_risks": "high"}, {"risk_level": "standard"},
     'rule "eligible risk levels" (setting eligible_risks): risk level standard is not one this scheme helps (it '
     "helps high)"),
    ({"eligible_tenures": "owner,council"}, {"tenure": "private_rented"},
     'rule "eligible tenures" (setting eligible_tenures): the home\'s tenure (private_rented) is not one this scheme '
     "helps (it helps owner, council)"),
    ({"eligible_tenures": "owner,council"}, {"tenure": None},
     'rule "eligible tenures" (setting eligible_tenures): the home\'s tenure is not recorded (the scheme helps owner, '
     "council)"),
    ({"required_documents": "dash,referral_form"}, {"dash_date": None, "referral_form": True},
     'rule "required documents" (setting required_documents): the DASH risk assessment has not been received'),
    ({"required_documents": "dash,referral_form"}, {"dash_date": None, "referral_form": False},
     'rule "required documents" (setting required_documents): the DASH risk assessment and the scheme\'s referral '
     "form have not been received"),
    ({}, {"chooses_to_stay": False}, 'rule "client chooses to stay": the client does not choose to stay in the home'),
    ({}, {"perpetrator_lives_there": True}, 'rule "perpetrator lives elsewhere": the perpetrator lives at the home'),
    ({}, {"perpetrator_can_enter": True}, 'rule "no right of entry": the perpetrator has a right to enter the home'),
])
def test_each_rule_in_words(db, settings_, case_, expected):
    assert texts(db, case_) == [] or not settings_
    set_(db, **settings_)
    assert texts(db, case_) == [expected]


def test_a_rule_whose_answer_is_not_given_is_not_tested(db):
    set_(db, marac_required="yes", eligible_tenures="owner", required_documents="dash")
    assert texts(db, {"risk_level": "high"}) == []
    assert texts(db, {"route": "idva", "marac": True, "tenure": "owner", "dash_date": "2026-11-01"}) == []


def test_works_offered_is_a_rule_of_the_lines(db):
    lines = [{"line": 1, "code": "door_jammer", "kind": "equipment"}, {"line": 3, "code": "cctv", "kind": "works"}]
    assert eligibility.works_problem(db, lines) is None
    set_(db, works_offered="no")
    problem = eligibility.works_problem(db, lines)
    assert problem is not None and problem.text == (
        'rule "works offered" (setting works_offered): this scheme offers equipment only, and line 3 (cctv) is a works '
        "measure")
    assert eligibility.works_problem(db, lines[:1]) is None


# --- at add: a warning naming the rule --------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_referral_failing_rules_is_saved_with_a_warning_for_each(db):
    set_(db, marac_required="yes", eligible_routes="marac,idva", required_documents="referral_form")
    result = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="police", risk_level="high",
        marac=False), by="t")
    assert (result.status, result.warnings) == ("new", [
        'eligibility rule "eligible routes" (setting eligible_routes): the referral came by route police, which this '
        "scheme does not take (it takes marac, idva)",
        'eligibility rule "MARAC required" (setting marac_required): the case has not been heard at MARAC',
        'eligibility rule "required documents" (setting required_documents): the scheme\'s referral form has not been '
        "received",
    ])


@freeze_time(TODAY)
def test_cli_add_warns_naming_the_rule(cli, db):
    set_(db, marac_required="yes")
    result = cli("referral", "add", *referral_args(**{"--route": "police"}), "--no-marac")
    assert result.exit_code == 0
    assert result.stderr == ('Warning: eligibility rule "MARAC required" (setting marac_required): the case has not '
                             "been heard at MARAC\n")


# --- enforced at each step --------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_the_survey_is_refused_naming_the_rule_and_saves_nothing(db):
    set_(db, marac_required="yes")
    ref = new_case(db, marac=False)
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        surveys.request_survey(db, ref, surveyor=SURVEYOR, by="t")
    assert caught.value.message == (
        f'{ref}: the survey is refused by the eligibility rule "MARAC required" (setting marac_required): the case has '
        f"not been heard at MARAC. Record the MARAC once heard with `thcli referral edit {ref} --marac --marac-date "
        f"DATE`, decline the case with `thcli referral move {ref} declined --reason not_marac`, or go ahead with "
        f"--override REASON {OVERRIDE}")
    assert counts(db) == before and case(db, ref)["status"] == "new"


@freeze_time(TODAY)
def test_several_rules_are_named_together(db):
    set_(db, marac_required="yes", eligible_risks="high")
    ref = new_case(db, marac=False, risk_level="medium")
    with pytest.raises(NotAllowed) as caught:
        surveys.request_survey(db, ref, surveyor=SURVEYOR, by="t")
    assert caught.value.message == (
        f'{ref}: the survey is refused by the eligibility rules "MARAC required" (setting marac_required): the case '
        'has not been heard at MARAC; "eligible risk levels" (setting eligible_risks): risk level medium is not one '
        f"this scheme helps (it helps high). Put it right with `thcli referral edit {ref}`, decline the case with "
        f"`thcli referral move {ref} declined --reason CODE`, or go ahead with --override REASON {OVERRIDE}")


@freeze_time(TODAY)
def test_an_override_is_recorded_and_stays_for_the_case(db):
    set_(db, marac_required="yes")
    ref = new_case(db, marac=False)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=D17, by="Jo Coordinator",
                           override="MARAC listed for next week; risk escalating")
    assert eligibility.overridden(db, case(db, ref)["id"]) == [{
        "rule": "marac_required", "step": "survey", "reason": "MARAC listed for next week; risk escalating",
        "at": "2026-11-20T00:00:00Z", "by": "Jo Coordinator", "name": "MARAC required"}]
    events = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind = 'override'")]
    assert events == ['eligibility rule "MARAC required" (setting marac_required): the case has not been heard at '
                      "MARAC overridden for the survey: MARAC listed for next week; risk escalating"]
    # The audit log says which rule, never the reason's words (they may name someone).
    assert db.conn.execute("SELECT by, ref, detail FROM audit WHERE action = 'eligibility.override'").fetchall() == [
        ("Jo Coordinator", ref, "marac_required (survey)")]
    # The rule stays overridden for the case: approving, ordering and issuing go on without asking again.
    surveys.record_survey(db, ref, surveyor=SURVEYOR, on=D18, measures=[("lock_change_door", 1, None),
                                                                        ("personal_alarm", 1, None)], by="t")
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [1], contractor="in_house", on=D19, by="t")
    stock.add_stock(db, "personal_alarm", 2, holder="idva", by="t")
    stock.issue(db, ref, "personal_alarm", by="t")
    assert db.conn.execute("SELECT count(*) FROM eligibility_overrides").fetchone()[0] == 1


@freeze_time(TODAY)
def test_a_rule_failing_later_refuses_approval_order_and_issue(db):
    ref = surveyed_case(db, measures=[("lock_change_door", 1, None), ("personal_alarm", 1, None)])
    fund = add_fund(db)
    set_(db, eligible_risks="standard,medium")   # the scheme narrows its rules after the survey
    message = (f'{ref}: {{step}} is refused by the eligibility rule "eligible risk levels" (setting eligible_risks): '
               f"risk level high is not one this scheme helps (it helps standard, medium). Correct the risk level with "
               f"`thcli referral edit {ref} --risk LEVEL`, decline the case with `thcli referral move {ref} declined "
               f"--reason risk_not_eligible`, or go ahead with --override REASON {OVERRIDE}")
    with pytest.raises(NotAllowed) as approve:
        measures.approve(db, ref, [], fund=fund, by="t")
    assert approve.value.message == message.format(step="approving measures")
    stock.add_stock(db, "personal_alarm", 2, holder="idva", by="t")
    with pytest.raises(NotAllowed) as issue:
        stock.issue(db, ref, "personal_alarm", by="t")
    assert issue.value.message == message.format(step="issuing equipment from stock")
    set_(db, eligible_risks="standard,medium,high")
    measures.approve(db, ref, [1], fund=fund, by="t")
    set_(db, eligible_risks="medium")
    with pytest.raises(NotAllowed) as order:
        measures.order(db, ref, [], contractor="in_house", by="t")
    assert order.value.message == message.format(step="ordering measures").replace("standard, medium", "medium")
    measures.order(db, ref, [], contractor="in_house", by="t", override="Agreed with the head of service")
    assert [m["status"] for m in measures.list_measures(db, ref)] == ["ordered", "recommended"]


@freeze_time(TODAY)
def test_a_standard_risk_case_in_a_marac_only_scheme_gets_no_alarm_from_stock(db):
    # South Holland: a standard-risk case was handed two alarms from stock.
    set_(db, marac_required="yes", eligible_risks="high")
    ref = new_case(db, risk_level="standard", marac=False)
    stock.add_stock(db, "window_alarm", 5, holder="police_da_officer", by="t")
    before = counts(db)
    with pytest.raises(NotAllowed, match='issuing equipment from stock is refused by the eligibility rules "MARAC '
                                         'required"'):
        stock.issue(db, ref, "window_alarm", quantity=2, by="t")
    assert counts(db) == before and stock.held(db, "window_alarm", "police_da_officer") == 5


@freeze_time(TODAY)
def test_moving_to_survey_by_hand_takes_the_same_rules_and_override(db):
    set_(db, eligible_routes="marac")
    ref = new_case(db)
    workflow.move(db, ref, "triage", by="t")
    with pytest.raises(NotAllowed, match='the survey is refused by the eligibility rule "eligible routes"'):
        workflow.move(db, ref, "survey", by="t")
    assert workflow.move(db, ref, "survey", by="t", override="Referred on by MARAC chair")["status"] == "survey"
    with pytest.raises(BadInput) as caught:
        workflow.move(db, ref, "on_hold", by="t", override="no")
    assert caught.value.message == ("--override: it is for moving a case to survey past one of the scheme's "
                                    "eligibility rules")


@freeze_time(TODAY)
def test_referral_show_lists_what_fails_and_what_was_overridden(cli, db):
    set_(db, marac_required="yes", eligible_risks="high")
    ref = new_case(db, marac=False, risk_level="medium")
    shown = cli.json("referral", "show", ref)["eligibility"]
    assert shown["problems"] == [
        'rule "MARAC required" (setting marac_required): the case has not been heard at MARAC',
        'rule "eligible risk levels" (setting eligible_risks): risk level medium is not one this scheme helps (it '
        "helps high)"]
    assert shown["rules"][0] == {"rule": "marac_required", "name": "MARAC required", "setting": "marac_required",
                                 "why": "the case has not been heard at MARAC"}
    result = cli("survey", "request", ref, "--surveyor", SURVEYOR, "--override", "Urgent: agreed by manager")
    assert result.exit_code == 0
    shown = cli.json("referral", "show", ref)["eligibility"]
    assert (shown["problems"], [o["rule"] for o in shown["overridden"]]) == ([], ["marac_required", "eligible_risks"])
    table = cli("referral", "show", ref, "--format", "table").stdout
    assert re.search(r"Eligibility +no problems found", table)
    assert re.search(r'Overridden +"MARAC required" overridden 20/11/2026 by test.coordinator: Urgent: agreed by '
                     r'manager; "eligible risk levels" overridden', table)


@freeze_time(TODAY)
@pytest.mark.parametrize("args", [
    ["survey", "request", "{ref}", "--surveyor", SURVEYOR],
    ["referral", "move", "{ref}", "survey"],
    ["stock", "issue", "{ref}", "window_alarm", "--holder", "idva"],
])
def test_cli_refusals_exit_1_and_override(cli, db, args):
    set_(db, marac_required="yes")
    ref = new_case(db, marac=False)
    if args[1] == "move":
        workflow.move(db, ref, "triage", by="t")
    stock.add_stock(db, "window_alarm", 3, holder="idva", by="t")
    command = [a.format(ref=ref) for a in args]
    refused = cli(*command)
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr.startswith(f"Error: {ref}: ")
    assert '"MARAC required" (setting marac_required)' in refused.stderr
    ok = cli(*command, "--override", "MARAC on 26/11; the IDVA asks for it now")
    assert ok.exit_code == 0, ok.stderr
    empty = cli(*command, "--override", "")
    assert empty.exit_code == 2


# --- settings checked when set ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "message"), [
    ("retention_case_years", "0", "retention_case_years is a whole number from 1 to 100, not 0 (a case is kept at "
                                  "least a year after it ends)"),
    ("retention_finance_years", "3", "retention_finance_years is a whole number from 6 to 100, not 3 (finance records "
                                     "are kept at least 6 years after their financial year)"),
    ("suppression_threshold", "1", "suppression_threshold is a whole number from 2 to 100, not 1 (below 2 nothing "
                                   "would be suppressed)"),
    ("equipment_review_months", "0", "equipment_review_months is a whole number from 1 to 120, not 0 (a review is "
                                     "some months after fitting)"),
    ("eligible_risks", "", "eligible_risks cannot be empty: give at least one risk code, e.g. high"),
    ("eligible_routes", " , ", "eligible_routes cannot be empty: give at least one route code (or all), e.g. "
                               "self,marac,idva"),
    ("eligible_tenures", "owner,owner", "eligible_tenures: 'owner,owner': give each code once"),
    ("followup_months", "6,3", "followup_months: '6,3': give the months in order, each once, e.g. 3,6"),
    ("followup_months", "3,3", "followup_months: '3,3': give the months in order, each once, e.g. 3,6"),
    ("target_survey", "0 hours", "target_survey of 0 hours would be due at once: give at least 1, e.g. '1 working "
                                 "day' or '4 hours'"),
    ("required_documents", "dash,passport", "required_documents: passport: required documents can be dash and "
                                            "referral_form (or none)"),
    ("scheme_name", "  ", "scheme_name: '  ': it cannot be empty"),
    ("protective_marking", "", "protective_marking: '': it cannot be empty"),
    ("default_assessor", "nobody", "default_assessor: unknown assessor 'nobody': use one of police_cro, scheme_officer "
                                   "(see `thcli codes list assessor`)"),
    ("marac_required", "maybe", "marac_required: 'maybe' is not yes or no"),
])
def test_settings_are_checked_when_set(db, key, value, message):
    before = settings.get(db, key)
    with pytest.raises(BadInput) as caught:
        scheme.set_from_text(db, key, value, by="t")
    assert caught.value.message.startswith(message), caught.value.message
    assert settings.get(db, key) == before


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("eligible_routes", "all", "all"),
    ("eligible_routes", "idva, marac", "idva, marac"),
    ("eligible_tenures", "owner,council", "owner, council"),
    ("marac_required", "yes", "yes"),
    ("required_documents", "none", "(none)"),
    ("required_documents", "referral_form,dash", "referral_form, dash"),
    ("retention_case_years", "1", "1"),
    ("followup_months", "1,3,12", "1, 3, 12"),
])
def test_settings_that_make_sense_are_taken(cli, db, key, value, shown):
    result = cli("settings", "set", key, value)
    assert (result.exit_code, result.stdout) == (0, f"{key} = {shown}\n")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("retention_case_years", "1000000", "retention_case_years is a whole number from 1 to 100, not 1000000"),
    ("retention_case_years", "101", "retention_case_years is a whole number from 1 to 100, not 101"),
    ("reorder_level", "5" * 40, f"reorder_level is a whole number from 0 to 1000, not {'5' * 20}..."),
    ("suppression_threshold", "ten", "suppression_threshold: 'ten' is not a whole number: use digits 0-9, from 2 "
                                     "to 100"),
])
def test_a_whole_number_setting_is_refused_with_its_own_range(db, cli, key, value, message):
    with pytest.raises(BadInput) as caught:
        scheme.set_from_text(db, key, value, by="t")
    assert caught.value.message == message
    result = cli("settings", "set", key, value)
    assert (result.exit_code, result.stderr) == (2, f"Error: {message}\n")


def test_cli_settings_refusal_exit_2(cli, db):
    result = cli("settings", "set", "retention_case_years", "0")
    assert (result.exit_code, result.stderr) == (
        2, "Error: retention_case_years is a whole number from 1 to 100, not 0 (a case is kept at least a year after "
           "it ends)\n")
    shown = {row["key"]: row["value"] for row in cli.json("settings", "show")}
    assert (shown["eligible_routes"], shown["eligible_tenures"], shown["marac_required"],
            shown["default_assessor"]) == ("all", "all", False, "police_cro")
