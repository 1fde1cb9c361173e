"""Working days around Easter, Christmas and the Boxing Day substitute days, and the targets built on them."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import case, new_case
from thcli import calendar, scheme, settings, targets

D = dt.date


@pytest.mark.parametrize("day,working", [
    (D(2026, 4, 2), True),     # Maundy Thursday
    (D(2026, 4, 3), False),    # Good Friday
    (D(2026, 4, 6), False),    # Easter Monday
    (D(2026, 4, 7), True),
    (D(2026, 12, 24), True),
    (D(2026, 12, 25), False),  # Christmas Day, a Friday
    (D(2026, 12, 26), False),  # Boxing Day, a Saturday...
    (D(2026, 12, 28), False),  # ...so Monday 28 December is the substitute day
    (D(2026, 12, 29), True),
    (D(2027, 1, 1), False),
    (D(2027, 12, 27), False),  # Christmas 2027 is a Saturday: substitute Monday
    (D(2027, 12, 28), False),  # Boxing Day 2027 is a Sunday: substitute Tuesday
    (D(2027, 12, 29), True),
    (D(2026, 11, 21), False),  # a Saturday
])
def test_is_working_day(day, working):
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize("start,n,expected", [
    (D(2026, 4, 2), 1, D(2026, 4, 7)),     # over Good Friday, the weekend and Easter Monday
    (D(2026, 4, 2), 5, D(2026, 4, 13)),
    (D(2026, 12, 24), 1, D(2026, 12, 29)),  # over Christmas, Boxing Day and its substitute
    (D(2026, 12, 24), 5, D(2027, 1, 5)),    # ... and New Year's Day
    (D(2027, 12, 24), 1, D(2027, 12, 29)),  # two substitute days in 2027
    (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday to Monday
    (D(2026, 11, 21), 0, D(2026, 11, 23)),  # a Saturday: the next working day
])
def test_add_working_days(start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_working_days_between():
    assert calendar.working_days_between(D(2026, 12, 24), D(2027, 1, 5)) == 5
    assert calendar.working_days_between(D(2026, 4, 2), D(2026, 4, 7)) == 1
    assert calendar.working_days_between(D(2026, 4, 7), D(2026, 4, 2)) == 0


def test_months_and_hours():
    assert calendar.add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert calendar.add_months(D(2027, 8, 31), 6) == D(2028, 2, 29)
    assert calendar.due_after(D(2026, 12, 24), 48, "hours") == D(2026, 12, 26)   # hours run over holidays
    assert calendar.due_after(D(2026, 12, 24), 1, "days") == D(2026, 12, 25)


# --- targets on a case, with "today" frozen ------------------------------------------------------


@freeze_time("2026-12-24")
def test_targets_of_a_christmas_eve_referral(db):
    ref = new_case(db, risk_level="standard", received_on=D(2026, 12, 24))
    assert targets.case_due(db, case(db, ref)) == [
        {"what": "first contact", "due_on": "2026-12-29", "days_late": -5},
        {"what": "survey", "due_on": "2027-01-05", "days_late": -12},
    ]
    assert (case(db, ref)["next_due_on"], case(db, ref)["next_due_what"]) == ("2026-12-29", "first contact")


@freeze_time("2026-12-24")
def test_due_within_counts_working_days_over_christmas(cli, db):
    ref = new_case(db, risk_level="standard", received_on=D(2026, 12, 24))
    assert cli.json("due", "--within", "0") == []
    assert [r["ref"] for r in cli.json("due", "--within", "1")] == [ref]   # horizon Tuesday 29/12


@freeze_time("2027-01-05")
def test_overdue_after_the_holidays(cli, db):
    ref = new_case(db, risk_level="standard", received_on=D(2026, 12, 24))
    assert cli.json("due", "--within", "0") == [
        {"ref": ref, "what": "first contact", "due_on": "2026-12-29", "days_late": 7, "status": "new",
         "district": "northmoor", "risk_level": "standard", "emergency": False, "due_at": None, "hours_late": None}]


@freeze_time("2026-04-02")
def test_targets_of_a_referral_before_easter(db):
    ref = new_case(db, risk_level="standard", received_on=D(2026, 4, 2))
    assert [(i["what"], i["due_on"]) for i in targets.case_due(db, case(db, ref))] == [
        ("first contact", "2026-04-07"), ("survey", "2026-04-13")]


@freeze_time("2026-12-24")
def test_high_risk_targets_in_hours_and_a_changed_setting(db):
    from tests.test_surveys import surveyed_case

    with freeze_time("2026-12-22"):
        ref = surveyed_case(db, received_on=D(2026, 12, 21), requested=D(2026, 12, 21),
                            surveyed=D(2026, 12, 22))  # high risk: 48 hours
    # 48 hours from Monday 21/12 (logged on a later day, without the time): Wednesday 23/12.
    assert targets.case_due(db, case(db, ref))[0] == {"what": "measures fitted", "due_on": "2026-12-23",
                                                      "days_late": 1}
    settings.put(db, "target_fitted_high", settings.parse_duration("3 working days"))
    assert targets.case_due(db, case(db, ref))[0]["due_on"] == "2026-12-24"
    settings.put(db, "target_fitted_high", settings.parse_duration("4 working days"))
    assert targets.case_due(db, case(db, ref))[0]["due_on"] == "2026-12-29"


def test_due_settings_are_settings():
    assert set(targets.DUE_SETTINGS) <= set(settings.SETTINGS)
    assert {k for k in settings.SETTINGS if k.startswith("target_")} <= set(targets.DUE_SETTINGS)


def test_changing_a_target_setting_moves_the_stored_due_date_of_open_cases(db):
    with freeze_time("2026-11-16"):
        ref = new_case(db, risk_level="standard")  # received Monday 16/11/2026: first contact due the next working day
    assert (case(db, ref)["next_due_on"], case(db, ref)["next_due_what"]) == ("2026-11-17", "first contact")
    scheme.set_from_text(db, "target_first_contact", "3 working days", by="t")
    assert case(db, ref)["next_due_on"] == "2026-11-19"
