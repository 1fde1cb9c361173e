"""Surveys: requested from the CRO, recorded with their measures (domain and CLI).

The helpers at the top (new_case, surveyed_case, add_fund) are shared by the
measures, stock and due tests.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from thcli import referrals, settings, surveys
from thcli.errors import BadInput, NotAllowed
from thcli.referrals import ReferralInput

TODAY = "2026-11-20"  # a Friday
SURVEYOR = "PC Sam Surveyexample"


def new_case(db, **overrides) -> str:
    """A high-risk owner-occupier case received Monday 16/11/2026, consent to police and contractor."""
    values = dict(name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
                  received_on=dt.date(2026, 11, 16), tenure="owner", consent=["police", "contractor"])
    values.update(overrides)
    return referrals.add_referral(db, ReferralInput(**values), by="t").ref


def surveyed_case(db, measures=(("lock_change_door", 1, None), ("window_alarm", 3, None)), *,
                  requested: dt.date = dt.date(2026, 11, 17), surveyed: dt.date = dt.date(2026, 11, 18),
                  **overrides) -> str:
    """A case at approval: survey requested 17/11, done 18/11, recommending ``measures``."""
    ref = new_case(db, **overrides)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=requested, by="t")
    surveys.record_survey(db, ref, surveyor=SURVEYOR, on=surveyed, measures=list(measures), by="t")
    return ref


def add_fund(db, amount_pence: int = 500_000) -> str:
    from thcli import budget

    return budget.add_fund(db, "Example OPCC", year="2026/27", source="opcc", amount_pence=amount_pence,
                           by="t", on=dt.date(2026, 4, 1))["code"]


def case(db, ref) -> dict:
    return referrals.case_row(db, ref)


def counts(db) -> dict:
    """Row counts of everything a survey or measure action writes (for 'nothing saved')."""
    tables = ("surveys", "measure_lines", "events", "audit", "ledger", "stock_movements", "followups")
    out = {t: db.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    out["statuses"] = db.conn.execute("SELECT group_concat(status) FROM (SELECT status FROM measure_lines "
                                      "ORDER BY id)").fetchone()[0]
    out["cases"] = db.conn.execute("SELECT group_concat(status) FROM cases").fetchone()[0]
    return out


# --- request -----------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_request_needs_police_consent_and_saves_nothing_without_it(db):
    ref = new_case(db, consent=[])
    before = counts(db)
    with pytest.raises(NotAllowed, match="no consent to share with the police, so no survey can be requested"):
        surveys.request_survey(db, ref, surveyor=SURVEYOR, by="t")
    assert counts(db) == before


@freeze_time(TODAY)
def test_request_moves_a_new_case_through_triage_to_survey(db):
    ref = new_case(db)
    result = surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 17), by="Jo Coordinator")
    # High risk: the fitting target (48 hours from 16/11) is due before the survey's.
    assert result == {"ref": ref, "survey_id": 1, "surveyor": SURVEYOR, "requested_on": "2026-11-17",
                      "assessor": "police_cro", "assessor_kind": "police",
                      "status": "survey", "due_on": "2026-11-18", "due_what": "measures fitted"}
    row = case(db, ref)
    assert (row["status"], row["first_contact_on"]) == ("survey", "2026-11-17")
    assert db.conn.execute("SELECT surveyor, assessor, requested_on, surveyed_on FROM surveys").fetchall() == [
        (SURVEYOR, "police_cro", "2026-11-17", None)]
    details = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind IN ('status', 'survey')")]
    assert details == ["new → triage", "triage → survey",
                       f"survey requested from {SURVEYOR} (Police Crime Reduction Officer)"]
    assert db.conn.execute("SELECT by, detail FROM audit WHERE action = 'survey.request'").fetchall() == [
        ("Jo Coordinator", "")]


@freeze_time(TODAY)
def test_a_second_request_and_a_request_past_survey_are_refused(db):
    ref = new_case(db)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 17), by="t")
    with pytest.raises(NotAllowed, match=f"already requested from {SURVEYOR} on 17/11/2026"):
        surveys.request_survey(db, ref, surveyor="PC Other Example", by="t")
    done = surveyed_case(db)
    with pytest.raises(NotAllowed, match="status is approval: a survey is requested while a case is new or in triage"):
        surveys.request_survey(db, done, surveyor=SURVEYOR, by="t")


@freeze_time(TODAY)
@pytest.mark.parametrize("on,message", [
    (dt.date(2026, 11, 21), "--date: 21/11/2026 is in the future: record a request once it is made"),
    (dt.date(2026, 11, 15), "--date: 15/11/2026 is before the referral was received (16/11/2026)"),
])
def test_request_dates(db, on, message):
    ref = new_case(db)
    with pytest.raises(BadInput) as caught:
        surveys.request_survey(db, ref, surveyor=SURVEYOR, on=on, by="t")
    assert caught.value.message == message
    assert case(db, ref)["status"] == "new"


@freeze_time(TODAY)
def test_request_refused_while_not_eligible(db):
    ref = new_case(db, perpetrator_lives_there=True)
    with pytest.raises(NotAllowed, match='the survey is refused by the eligibility rule "perpetrator lives '
                                         'elsewhere": the perpetrator lives at the home'):
        surveys.request_survey(db, ref, surveyor=SURVEYOR, by="t")
    assert case(db, ref)["status"] == "new"


# --- record ------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_record_adds_lines_costed_from_the_catalogue_and_moves_to_approval(db):
    ref = new_case(db)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 17), by="t")
    result = surveys.record_survey(
        db, ref, surveyor="PC Robin Surveyexample", on=dt.date(2026, 11, 18), note="Rear door weak",
        measures=[("lock_change_door", 2, None), ("window_alarm", 3, 1250), ("personal_alarm", 1, None)], by="t")
    assert (result["status"], result["surveyed_on"], result["warnings"]) == ("approval", "2026-11-18", [])
    assert [(m["line"], m["code"], m["quantity"], m["unit_cost_pence"], m["estimated_cost_pence"], m["kind"],
             m["removable"], m["status"]) for m in result["lines"]] == [
        (1, "lock_change_door", 2, 8500, 17000, "works", False, "recommended"),
        (2, "window_alarm", 3, 1250, 3750, "equipment", True, "recommended"),
        (3, "personal_alarm", 1, 1200, 1200, "equipment", True, "recommended"),
    ]
    # The request is completed, not duplicated: the surveyor who came is recorded.
    assert db.conn.execute("SELECT surveyor, requested_on, surveyed_on, notes FROM surveys").fetchall() == [
        ("PC Robin Surveyexample", "2026-11-17", "2026-11-18", "Rear door weak")]
    assert case(db, ref)["status"] == "approval"


@freeze_time(TODAY)
def test_own_assessor_records_straight_from_triage(db):
    from thcli import workflow

    ref = new_case(db)
    workflow.move(db, ref, "triage", by="t")
    result = surveys.record_survey(db, ref, surveyor="Sam Assessorexample", on=dt.date(2026, 11, 19),
                                   measures=[("door_alarm", 1, None)], by="t")
    assert result["status"] == "approval"
    assert db.conn.execute("SELECT requested_on, surveyed_on FROM surveys").fetchall() == [
        ("2026-11-19", "2026-11-19")]


@freeze_time(TODAY)
def test_record_refused_on_hold(db):
    from thcli import workflow

    ref = surveyed_case(db)
    workflow.move(db, ref, "on_hold", by="t")
    with pytest.raises(NotAllowed, match="status is on_hold: a survey is recorded while a case awaits its survey"):
        surveys.record_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 19),
                              measures=[("door_alarm", 1, None)], by="t")


@freeze_time(TODAY)
def test_record_on_a_new_case_says_to_request_first(db):
    ref = new_case(db)
    with pytest.raises(NotAllowed, match=f"status is new: request it first with `thcli survey request {ref}"):
        surveys.record_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 19),
                              measures=[("door_alarm", 1, None)], by="t")


@freeze_time(TODAY)
@pytest.mark.parametrize("on,message", [
    (dt.date(2026, 11, 21), "--date: 21/11/2026 is in the future: record a survey once it is done"),
    (dt.date(2026, 11, 16), "--date: 16/11/2026 is before the survey was requested (17/11/2026)"),
])
def test_record_dates(db, on, message):
    ref = new_case(db)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 17), by="t")
    before = counts(db)
    with pytest.raises(BadInput) as caught:
        surveys.record_survey(db, ref, surveyor=SURVEYOR, on=on, measures=[("door_alarm", 1, None)], by="t")
    assert caught.value.message == message
    assert counts(db) == before


@freeze_time(TODAY)
def test_equipment_only_scheme_is_warned_about_works_recommended(db):
    settings.put(db, "works_offered", False)
    ref = new_case(db)
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 17), by="t")
    result = surveys.record_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 11, 18), by="t",
                                   measures=[("door_alarm", 1, None), ("lock_change_door", 1, None)])
    assert result["warnings"] == [
        'eligibility rule "works offered" (setting works_offered): this scheme offers equipment only, and line 2 '
        f"(lock_change_door) is a works measure: decline it with `thcli measures decline {ref} 2 --reason "
        "works_not_offered`"]


# --- the command line -----------------------------------------------------------------------


def _cli_case(cli, *extra) -> str:
    from tests.conftest import referral_args

    result = cli("referral", "add", *referral_args(**{"--received": "2026-11-16", "--tenure": "owner"}), *extra)
    assert result.exit_code == 0, result.stderr
    return "TH-2026-0001"


@freeze_time(TODAY)
def test_cli_request_and_record(cli, db):
    ref = _cli_case(cli)
    cli("referral", "consent", ref, "--scope", "police")
    result = cli("survey", "request", ref, "--surveyor", SURVEYOR, "--date", "17/11/2026")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"Survey of {ref} requested from {SURVEYOR} on 17/11/2026. {ref} is now survey.\n"
                             "Next due: measures fitted by 18/11/2026.\n")
    result = cli("survey", "record", ref, "--surveyor", SURVEYOR, "--date", "2026-11-18",
                 "--measure", "lock_change_doorx2", "--measure", "window_alarmx3@12.50: ground-floor  windows ",
                 "--note", "Rear door weak")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Recorded the survey of {ref} by {SURVEYOR} on 18/11/2026: 2 measures recommended. {ref} is now approval.\n"
        "   1  Change of door locks (per door) x2  £170.00  (works)\n"
        "   2  Window alarm x3  £37.50  (equipment)  at: ground-floor windows\n"
        f"Next: approve them with `thcli measures approve {ref} --fund FUND`.\n")
    lines = cli.json("measures", "list", ref)
    assert [(line["code"], line["location"]) for line in lines] == [
        ("lock_change_door", None), ("window_alarm", "ground-floor windows")]
    table = cli("measures", "list", ref, "--format", "table").stdout
    assert "at: ground-floor windows" in table


@freeze_time(TODAY)
@pytest.mark.parametrize("args,code,message", [
    (["--measure", "made_up"], 2, "Error: --measure: unknown measure 'made_up': use one of lock_change_door,"),
    (["--measure", "window_alarmx0"], 2, "Error: --measure: 'window_alarmx0': the quantity must be a whole number "
                                         "above zero"),
    (["--measure", "window_alarmx2.5"], 2, "Error: --measure: 'window_alarmx2.5': the quantity '2.5' is not a "
                                           "whole number above zero (write e.g. window_alarmx3)"),
    (["--measure", "window_alarmx-1"], 2, "Error: --measure: 'window_alarmx-1': the quantity '-1' is not a whole "
                                          "number above zero"),
    (["--measure", "window_alarm@lots"], 2, "Error: --measure: "),
    (["--measure", "window_alarm: "], 2, "Error: --measure: window_alarm: say where after the colon, e.g. "
                                         "window_alarm:front door, or leave the colon out"),
    (["--measure", "window_alarm:" + "x" * 81], 2, "Error: --measure: window_alarm: where it goes is at most 80 "
                                                   "characters"),
    ([], 2, "Error: --measure: give each measure the survey recommends: --measure CODE[xQTY][@COST][:WHERE], e.g. "
            "--measure lock_change_doorx2 --measure \"window_alarmx3@12.50:ground-floor windows\" (or --no-measures "
            "when it recommends none)\n"),
    (["--no-measures", "--measure", "door_alarm"], 2, "Error: --no-measures: give the measures the survey recommends, "
                                                      "or --no-measures when it recommends none, not both\n"),
    (["--measure", "door_alarm", "--date", "2026-11-23"], 2, "Error: --date: 23/11/2026 is in the future"),
    (["--measure", "door_alarm", "--date", "11/23/2026"], 2, "Error: Invalid value for '--date': '11/23/2026' looks "
                                                             "like US order"),
])
def test_cli_record_bad_input(cli, db, args, code, message):
    ref = _cli_case(cli)
    cli("referral", "consent", ref, "--scope", "police")
    cli("survey", "request", ref, "--surveyor", SURVEYOR, "--date", "17/11/2026")
    before = counts(db)
    date = [] if "--date" in args else ["--date", "2026-11-18"]
    result = cli("survey", "record", ref, "--surveyor", SURVEYOR, *date, *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert counts(db) == before


@freeze_time(TODAY)
def test_cli_request_without_consent_exits_1(cli, db):
    ref = _cli_case(cli)
    result = cli("survey", "request", ref, "--surveyor", SURVEYOR)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {ref}: there is no consent to share with the police, so no survey can be "
                             f"requested. Record it with `thcli referral consent {ref} --scope police`.\n")


@freeze_time(TODAY)
def test_cli_unknown_case(cli, db):
    result = cli("survey", "request", "TH-2026-9999", "--surveyor", SURVEYOR)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: there is no case 'TH-2026-9999'")
