"""What is due: ordering, the JSON contract, follow-ups, closing, equipment reviews."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import add_fund, case, counts, new_case, surveyed_case
from thcli import budget, followups, measures, referrals, settings, targets, workflow
from thcli.errors import BadInput, NotAllowed

TODAY = "2026-11-20"  # a Friday
D19, D20 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)


def brief(rows) -> list[tuple]:
    return [(r["ref"], r["what"], r["due_on"], r["days_late"]) for r in rows]


def fitted_case(db, **overrides) -> str:
    """A case fitted on 20/11/2026: a lock change and three (removable) window alarms."""
    ref = surveyed_case(db, **overrides)
    fund = add_fund(db)
    measures.approve(db, ref, [], fund=fund, on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    measures.fitted(db, ref, [], on=D20, by="t")
    budget.pay_invoice(db, ref, None, internal=True, on=D20, by="t")  # paid: nothing is left open to close on
    return ref


@pytest.fixture
def mixed(db):
    """Cases whose next items fall before, on and after Friday 20/11/2026."""
    with freeze_time(TODAY):
        a = new_case(db, risk_level="standard", received_on=dt.date(2026, 11, 18))          # contact due 19/11
        b = new_case(db, risk_level="high", emergency=True, received_on=dt.date(2026, 11, 18))
        c = new_case(db, risk_level="high", received_on=dt.date(2026, 11, 18))
        d = new_case(db, risk_level="standard", received_on=dt.date(2026, 11, 19))          # contact due today
        workflow.move(db, d, "triage", by="t")                                                 # survey due 26/11
        e = new_case(db, risk_level="medium", received_on=dt.date(2026, 11, 20))           # contact due 23/11
        f = new_case(db, risk_level="medium", received_on=dt.date(2026, 11, 19))           # contact due today
        g = new_case(db, risk_level="medium", received_on=dt.date(2026, 11, 1))
        workflow.move(db, g, "on_hold", by="t")                                                # nothing due
    return a, b, c, d, e, f, g


@freeze_time(TODAY)
def test_due_most_urgent_first(db, mixed):
    a, b, c, d, e, f, _g = mixed
    assert brief(targets.due_list(db)) == [
        (b, "first contact", "2026-11-19", 1),   # emergency first
        (c, "first contact", "2026-11-19", 1),   # then high risk
        (a, "first contact", "2026-11-19", 1),
        (f, "first contact", "2026-11-20", 0),
        (e, "first contact", "2026-11-23", -3),
        (d, "survey", "2026-11-26", -6),
    ]
    assert brief(targets.due_list(db, within=0)) == brief(targets.due_list(db))[:4]
    assert brief(targets.due_list(db, within=1)) == brief(targets.due_list(db))[:5]


@freeze_time(TODAY)
def test_due_json_contract(cli, db, mixed):
    a, b, *_ = mixed
    data = cli.json("due", "--within", "0")
    assert data[0] == {"ref": b, "what": "first contact", "due_on": "2026-11-19", "days_late": 1, "status": "new",
                       "district": "northmoor", "risk_level": "high", "emergency": True, "due_at": None,
                       "hours_late": None}
    assert [list(item)[:4] for item in data] == [["ref", "what", "due_on", "days_late"]] * 4
    assert data[2]["ref"] == a
    csv = cli("due", "--format", "csv").stdout.splitlines()
    assert csv[0] == "ref,what,due_on,days_late,status,district,risk_level,emergency,due_at,hours_late"
    assert csv[1] == f"{b},first contact,2026-11-19,1,new,northmoor,high,yes,,"


@freeze_time(TODAY)
def test_due_table_shows_how_late(cli, db, mixed):
    result = cli("due", "--format", "table")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "1 day late" in lines[4] and "first contact" in lines[4]
    assert any("today" in line for line in lines)
    assert any("in 3 days" in line for line in lines)
    assert "3 overdue, 1 due today, 2 due within 5 working days" in result.stdout
    limited = cli("due", "--format", "table", "--limit", "2")
    assert "showing the 2 most urgent (use --limit 0 for all)" in limited.stdout


@freeze_time(TODAY)
@pytest.mark.parametrize("within,message", [
    ("261", "Error: --within: 261 is out of range: give a number of working days from 0 to 260 (a year)\n"),
    ("-1", "Error: Invalid value for '--within': '-1' is not a whole number: use digits 0-9"),
    ("soon", "Error: Invalid value for '--within': 'soon' is not a whole number"),
])
def test_due_within_bad_input(cli, db, within, message):
    result = cli("due", "--within", within)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


@freeze_time(TODAY)
def test_due_by_district_and_nothing_due(cli, db, mixed):
    assert cli.json("due", "--district", "southvale") == []
    assert cli("due", "--district", "southvale", "--format", "table").stdout == (
        "Nothing is due within 5 working days.\n")
    result = cli("due", "--district", "atlantis")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --district: unknown district 'atlantis'")


@freeze_time(TODAY)
def test_due_reads_the_stored_dates(db, mixed):
    """`due` trusts cases.next_due_on (indexed) and works nothing out again; refresh_all repairs it."""
    a = mixed[0]
    db.conn.execute("UPDATE cases SET next_due_on = '2027-01-01' WHERE ref = ?", [a])
    assert a not in [r["ref"] for r in targets.due_list(db)]
    settings.put(db, "target_first_contact", settings.parse_duration("3 working days"))
    assert targets.refresh_all(db) == 7
    assert (case(db, a)["next_due_on"], case(db, a)["next_due_what"]) == ("2026-11-23", "first contact")


# --- what each status has due ------------------------------------------------------------------


@freeze_time(TODAY)
def test_landlord_permission_to_request_then_awaited(db):
    ref = surveyed_case(db, tenure="private_rented")
    row = case(db, ref)
    assert targets.case_due(db, row) == [
        {"what": "measures fitted", "due_on": "2026-11-18", "days_late": 2},
        {"what": "landlord permission to request", "due_on": "2026-11-19", "days_late": 1},
    ]
    referrals.set_landlord_permission(db, ref, "requested", on=D19, by="t")
    assert targets.case_due(db, case(db, ref))[1] == {"what": "landlord permission", "due_on": "2026-12-03",
                                                      "days_late": -13}


@freeze_time(TODAY)
def test_emergency_and_hour_targets(db):
    ref = surveyed_case(db, emergency=True)
    assert targets.case_due(db, case(db, ref))[0] == {"what": "measures fitted", "due_on": "2026-11-17",
                                                      "days_late": 3}
    standard = surveyed_case(db, risk_level="standard", postcode="ZZ9 9ZZ", name="Sam Sample")
    assert targets.case_due(db, case(db, standard))[0]["due_on"] == "2026-11-30"   # 10 working days


def test_follow_ups_closing_and_the_equipment_review(db):
    with freeze_time(TODAY):
        ref = fitted_case(db)
        assert targets.case_due(db, case(db, ref)) == [
            {"what": "3-month follow-up", "due_on": "2027-02-20", "days_late": -92},
            {"what": "equipment review", "due_on": "2027-11-20", "days_late": -365},
        ]
        with pytest.raises(NotAllowed, match="0 of 2 follow-ups done, so it cannot be closed as completed yet"):
            workflow.move(db, ref, "closed", reason="completed", by="t")
    with freeze_time("2027-02-22"):
        result = followups.record_followup(db, ref, on=dt.date(2027, 2, 22), outcome="feels_safer", by="t")
        assert (result["status"], result["followups_done"], result["can_close"], result["next_due_what"],
                result["next_due_on"]) == ("follow_up", 1, False, "6-month follow-up", "2027-05-20")
    with freeze_time("2027-05-21"):
        result = followups.record_followup(db, ref, on=dt.date(2027, 5, 21), outcome="no_further_incidents",
                                           by="t")
        assert (result["can_close"], result["next_due_what"], result["next_due_on"]) == (
            True, "close the case", "2027-05-21")
        assert brief(targets.due_list(db, within=0)) == [(ref, "close the case", "2027-05-21", 0)]
        closed = workflow.move(db, ref, "closed", reason="completed", by="t")
        assert (closed["next_due_what"], closed["next_due_on"]) == ("equipment review", "2027-11-20")
    with freeze_time("2027-11-25"):
        assert brief(targets.due_list(db)) == [(ref, "equipment review", "2027-11-20", 5)]
        followups.record_followup(db, ref, on=dt.date(2027, 11, 25), outcome="feels_safer", by="t")
        assert (case(db, ref)["status"], case(db, ref)["next_due_on"]) == ("closed", None)


def test_removing_the_equipment_ends_its_review(db):
    with freeze_time(TODAY):
        ref = fitted_case(db)
        workflow.move(db, ref, "closed", reason="moved_on", by="t")
        assert case(db, ref)["next_due_what"] == "equipment review"
        measures.remove(db, ref, [2], on=D20, by="t")
        assert case(db, ref)["next_due_on"] is None


def test_a_follow_up_long_before_the_review_does_not_count_as_it(db):
    with freeze_time(TODAY):
        ref = fitted_case(db)
        workflow.move(db, ref, "closed", reason="moved_on", by="t")
    with freeze_time("2027-10-19"):   # more than a month before 20/11/2027
        followups.record_followup(db, ref, on=dt.date(2027, 10, 19), outcome="feels_safer", by="t")
        assert case(db, ref)["next_due_what"] == "equipment review"
    with freeze_time("2027-10-20"):
        followups.record_followup(db, ref, on=dt.date(2027, 10, 20), outcome="feels_safer", by="t")
        assert case(db, ref)["next_due_on"] is None


@freeze_time(TODAY)
def test_on_hold_pauses_everything(db):
    ref = fitted_case(db)
    workflow.move(db, ref, "on_hold", by="t")
    assert (case(db, ref)["next_due_on"], targets.case_due(db, case(db, ref))) == (None, [])
    workflow.move(db, ref, "fitted", by="t")
    assert case(db, ref)["next_due_what"] == "3-month follow-up"


# --- follow-up bad input ----------------------------------------------------------------------------


@freeze_time(TODAY)
def test_follow_up_rules(db):
    ref = surveyed_case(db)
    with pytest.raises(NotAllowed, match="status is approval and not yet fitted: follow-ups come after the measures"):
        followups.record_followup(db, ref, on=D20, outcome="feels_safer", by="t")
    fitted = fitted_case(db, name="Sam Sample", postcode="ZZ9 9ZZ")
    before = counts(db)
    with pytest.raises(BadInput, match="--outcome: unknown followup outcome 'fine'"):
        followups.record_followup(db, fitted, on=D20, outcome="fine", by="t")
    with pytest.raises(BadInput, match="--date: 21/11/2026 is in the future"):
        followups.record_followup(db, fitted, on=dt.date(2026, 11, 21), outcome="feels_safer", by="t")
    with pytest.raises(BadInput, match=r"--date: 19/11/2026 is before the measures were fitted \(20/11/2026\)"):
        followups.record_followup(db, fitted, on=D19, outcome="feels_safer", by="t")
    assert counts(db) == before


@freeze_time(TODAY)
def test_cli_followup(cli, db):
    ref = fitted_case(db)
    early = cli("followup", "record", ref, "--date", "20/11/2026", "--outcome", "feels_safer")
    assert (early.exit_code, early.stderr) == (1, (
        f"Error: {ref}: the 3-month follow-up is due on 20/02/2027, and its window opens on 20/01/2027, a month "
        f"before: 20/11/2026 is too early to count as it. Record it from 20/01/2027, note the contact with "
        f"`thcli referral note {ref} TEXT`, or add --early REASON (recorded).\n"))
    result = cli("followup", "record", ref, "--date", "20/11/2026", "--outcome", "feels_safer", "--note",
                 "Feels safer at night", "--early", "Moving abroad next week")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"Follow-up of {ref} recorded (feels_safer, 20/11/2026): 1 of 2 done. {ref} is "
                             "follow_up.\nNext due: 6-month follow-up by 20/05/2027.\n")
    result = cli("followup", "record", ref, "--date", "20/11/2026", "--outcome", "feels_safer", "--early",
                 "Moving abroad next week")
    assert result.stdout.endswith(f"Every follow-up is done: close it with `thcli referral move {ref} closed "
                                  "--reason completed`.\n")
    result = cli("followup", "record", ref, "--outcome", "feels_safer")
    assert (result.exit_code, result.stderr) == (2, "Error: Missing option '--date'. (see `thcli followup record "
                                                    "--help`)\n")
    shown = cli.json("referral", "show", ref)
    assert [(f["outcome"], f["early_reason"]) for f in shown["followups"]] == [
        ("feels_safer", "Moving abroad next week")] * 2
    assert [e["detail"] for e in shown["timeline"] if e["kind"] == "followup"] == [
        "follow-up: Feels safer at home (recorded before its window opened: Moving abroad next week)"] * 2
    assert shown["due"] == [{"what": "close the case", "due_on": "2026-11-20", "days_late": 0},
                            {"what": "equipment review", "due_on": "2027-11-20", "days_late": -365}]
    assert [m["status"] for m in shown["measures"]] == ["fitted", "fitted"]
    assert shown["surveys"] == [{"surveyor": "PC Sam Surveyexample", "assessor": "police_cro",
                                 "assessor_label": "Police Crime Reduction Officer", "assessor_kind": "police",
                                 "requested_on": "2026-11-17", "surveyed_on": "2026-11-18", "notes": None}]
