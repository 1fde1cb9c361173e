"""Targets in hours from the moment the referral came in (issue 14, item 3), and correcting the received date."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.conftest import referral_args
from tests.test_surveys import SURVEYOR, case, new_case
from thcli import dates, referrals, scheme, surveys, targets
from thcli.errors import BadInput

# --- the received date and time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "day", "time"), [
    ("01/12/2026 16:30", dt.date(2026, 12, 1), dt.time(16, 30)),
    ("2026-12-01T16:30", dt.date(2026, 12, 1), dt.time(16, 30)),
    ("2026-12-01 9:05", dt.date(2026, 12, 1), dt.time(9, 5)),
    ("1 December 2026 4:30pm", dt.date(2026, 12, 1), dt.time(16, 30)),
    ("1/12/2026, 4.30pm", dt.date(2026, 12, 1), dt.time(16, 30)),
    ("01/12/2026 12am", dt.date(2026, 12, 1), dt.time(0, 0)),
    ("01/12/2026", dt.date(2026, 12, 1), None),
    ("1 December 2026", dt.date(2026, 12, 1), None),
])
def test_a_received_moment_is_a_date_with_the_time_when_known(text, day, time):
    assert dates.moment(text) == dates.Moment(day, time)


@pytest.mark.parametrize(("text", "message"), [
    ("01/12/2026 25:00", "'25:00' is not a time: use the 24-hour clock, e.g. 16:30 (or 4:30pm)"),
    ("01/12/2026 16", "'16' is not a time: use the 24-hour clock, e.g. 16:30 (or 4:30pm)"),
    ("01/12/2026 13pm", "'13pm' is not a time: with am or pm the hour is 1 to 12"),
    ("12/01/2026x 16:30", "'12/01/2026x' is not a date"),
])
def test_bad_times_are_refused(text, message):
    with pytest.raises(BadInput) as caught:
        dates.moment(text)
    assert caught.value.message.startswith(message)


@freeze_time("2026-12-01 17:05")
def test_a_referral_received_today_without_a_time_came_in_now(db):
    ref = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high"), by="t").ref
    assert (case(db, ref)["received_on"], case(db, ref)["received_at"]) == ("2026-12-01", "2026-12-01T17:05")
    earlier = new_case(db, received_on=dt.date(2026, 11, 30), name="Sam Sample", postcode="ZZ9 9ZZ")
    assert case(db, earlier)["received_at"] is None   # another day's, and no time given: not known


@freeze_time("2026-12-01 17:05")
def test_cli_received_with_a_time_and_one_in_the_future(cli, db):
    result = cli("referral", "add", *referral_args(**{"--received": "01/12/2026 16:30"}))
    assert result.exit_code == 0, result.stderr
    assert cli.json("referral", "show", "TH-2026-0001")["received_at"] == "2026-12-01T16:30"
    future = cli("referral", "add", *referral_args(**{"--received": "01/12/2026 17:30"}))
    assert (future.exit_code, future.stderr) == (
        2, "Error: --received: 17:30 today is in the future: a referral is logged once received\n")
    bad = cli("referral", "add", *referral_args(**{"--received": "01/12/2026 17h30"}))
    assert bad.exit_code == 2 and "Invalid value for '--received'" in bad.stderr


# --- hour targets -------------------------------------------------------------------------------------------------


@freeze_time("2026-12-02 09:00")
def test_hour_targets_count_from_the_received_time(db):
    scheme.set_from_text(db, "target_survey", "48 hours", by="t")
    ref = new_case(db, risk_level="medium", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 30))
    due = targets.case_due(db, case(db, ref))
    assert due == [
        {"what": "first contact", "due_on": "2026-12-02", "days_late": 0},
        {"what": "survey", "due_on": "2026-12-03", "days_late": -1, "due_at": "2026-12-03T16:30", "hours_late": -32},
    ]
    assert (case(db, ref)["next_due_on"], case(db, ref)["next_due_at"]) == ("2026-12-02", None)


@freeze_time("2026-12-01 17:00")
def test_emergency_and_high_risk_fitting_targets_show_from_the_day_the_referral_arrives(db):
    scheme.set_from_text(db, "target_emergency", "8 hours", by="t")
    emergency = new_case(db, risk_level="medium", emergency=True, received_on=dt.date(2026, 12, 1),
                         received_time=dt.time(16, 30))
    high = new_case(db, risk_level="high", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 30),
                    name="Sam Sample", postcode="ZZ9 9ZZ")
    standard = new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 30),
                        name="Kim Sample", postcode="ZZ8 8ZZ")
    # The emergency's lock change is due at 00:30, before anyone's first contact (the next working day).
    assert [(c["ref"], c["what"], c["due_at"], c["hours_late"]) for c in targets.due_list(db, within=2)] == [
        (emergency, "measures fitted", "2026-12-02T00:30", -8),
        (high, "first contact", None, None), (standard, "first contact", None, None)]
    high_items = targets.case_due(db, case(db, high))
    assert [i["what"] for i in high_items] == ["first contact", "measures fitted", "survey"]
    assert high_items[1] == {"what": "measures fitted", "due_on": "2026-12-03", "days_late": -2,
                             "due_at": "2026-12-03T16:30", "hours_late": -48}
    assert "measures fitted" not in [i["what"] for i in targets.case_due(db, case(db, standard))]


@freeze_time("2026-12-01 17:00")
def test_the_due_list_shows_hours_left_and_hours_late(cli, db):
    scheme.set_from_text(db, "target_survey", "24 hours", by="t")
    scheme.set_from_text(db, "target_first_contact", "4 hours", by="t")
    late = new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(9, 0))
    soon = new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 0),
                    name="Sam Sample", postcode="ZZ9 9ZZ")
    rows = cli.json("due")
    assert [(r["ref"], r["what"], r["due_at"], r["hours_late"], r["days_late"]) for r in rows] == [
        (late, "first contact", "2026-12-01T13:00", 4, 0), (soon, "first contact", "2026-12-01T20:00", -3, 0)]
    table = cli("due", "--format", "table").stdout
    assert "01/12/2026 13:00  4 hours late" in table and "01/12/2026 20:00  in 3 hours" in table
    assert "1 overdue, 1 due today, 0 due within 5 working days" in table


@pytest.mark.parametrize(("hours", "text"), [
    (-1, "in 1 hour"), (-31, "in 31 hours"), (0, "less than an hour late"), (1, "1 hour late"), (71, "71 hours late"),
    (72, "3 days late"), (-100, "in 4 days"),
])
def test_hours_in_words(hours, text):
    from thcli import render  # not at the top: Rich reads the terminal's width when render is first imported

    assert render.hours_text(hours) == text


@freeze_time("2026-12-01 17:00")
def test_the_next_due_says_the_time_of_a_target_in_hours(cli, db):
    ref = new_case(db, received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 30))  # high risk: 48 hours
    result = cli("referral", "move", ref, "triage")
    assert result.stdout == f"{ref} is now triage.\nNext due: measures fitted by 03/12/2026 16:30.\n"


# --- referral edit --received ----------------------------------------------------------------------------------------


@freeze_time("2026-12-02 09:00")
def test_a_wrong_received_date_is_corrected_and_recorded(cli, db):
    ref = new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 30))
    result = cli("referral", "edit", ref, "--received", "30/11/2026 11:00")
    assert (result.exit_code, result.stdout) == (0, f"Updated {ref}: received.\n")
    row = case(db, ref)
    assert (row["received_on"], row["received_at"], row["next_due_on"]) == ("2026-11-30", "2026-11-30T11:00",
                                                                            "2026-12-01")
    events = [(e["kind"], e["detail"]) for e in cli.json("referral", "show", ref)["timeline"]][-2:]
    assert events == [("edit", "changed: received"),
                      ("received", "received date corrected: 01/12/2026 16:30 → 30/11/2026 11:00")]
    assert db.conn.execute("SELECT detail FROM audit WHERE action = 'referral.edit'").fetchone()[0] == "received"


@freeze_time("2026-12-02 09:00")
@pytest.mark.parametrize(("value", "message"), [
    ("03/12/2026", "Error: --received: 03/12/2026 is in the future: a referral is logged once received\n"),
    ("31/12/2025", "Error: --received: TH-2026-0001 is numbered in 2026, and 31/12/2025 is in 2025: a referral "
                   "received then is numbered in 2025. If it really came in then, log it again with `thcli referral "
                   "add --received DATE` and withdraw TH-2026-0001\n"),
    ("02/12/2026", "Error: --received: 02/12/2026 is after work on TH-2026-0001 began (01/12/2026): a referral is "
                   "received before anything is done on it\n"),
])
def test_a_received_date_that_cannot_be_is_refused(cli, db, value, message):
    ref = new_case(db, received_on=dt.date(2026, 12, 1))
    surveys.request_survey(db, ref, surveyor=SURVEYOR, on=dt.date(2026, 12, 1), by="t")
    result = cli("referral", "edit", ref, "--received", value)
    assert (result.exit_code, result.stderr) == (2, message)
    assert case(db, ref)["received_on"] == "2026-12-01"


@freeze_time("2026-12-02 09:00")
def test_domain_edit_needs_the_date_with_the_time(db):
    ref = new_case(db, received_on=dt.date(2026, 12, 1))
    with pytest.raises(BadInput) as caught:
        referrals.edit_referral(db, ref, {"received_time": dt.time(9, 0)}, by="t")
    assert caught.value.message == '--received: give the date with the time, e.g. --received "01/12/2026 16:30"'


@freeze_time("2026-12-01 17:00")
def test_referral_list_shows_the_time_and_overdue_counts_the_moment(cli, db):
    scheme.set_from_text(db, "target_first_contact", "4 hours", by="t")
    late = new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(9, 0))
    new_case(db, risk_level="standard", received_on=dt.date(2026, 12, 1), received_time=dt.time(16, 0),
             name="Sam Sample", postcode="ZZ9 9ZZ")
    rows = cli.json("referral", "list")
    assert [(r["next_due_on"], r["next_due_at"]) for r in rows] == [("2026-12-01", "2026-12-01T20:00"),
                                                                     ("2026-12-01", "2026-12-01T13:00")]
    assert [r["ref"] for r in cli.json("referral", "list", "--overdue")] == [late]
    assert "01/12/2026 13:00" in cli("referral", "list", "--format", "table").stdout
