"""Time targets (DESIGN.md §3): when the next thing on a case is due, and what is due.

Targets are settings, counted from the referral date in working days (English
bank holidays skipped, see calendar.py), days or months, or from the moment
the referral came in (its received time, ``cases.received_at``) in hours: 48
hours from Tuesday 16:30 is Thursday 16:30. When the time is not known (a
referral logged on a later day without one) a target in hours is due on the
day those hours run out from the start of the referral's day, with no time. What
can be due on a case, by its status:

    new                    first contact; survey
    triage, survey         survey
    new, triage, survey    measures fitted, for an emergency or a high-risk
                           case (its target runs from the referral, so it shows
                           from the day it arrives)
    approval               measures fitted; landlord permission (asked: its
                           answer within target_landlord; not yet asked: by
                           the working day after the survey)
    works                  measures fitted
    approval, works        with nothing left to fit (the survey recommended
                           nothing, or every line was declined): closing the
                           case, and no fitting target
    fitted, follow_up      the next follow-up (followup_months after fitting);
                           once all are done, closing the case
    any but on_hold        equipment review: removable equipment still in the
                           home, equipment_review_months after it was fitted

The equipment review counts as done once a follow-up is recorded no more than
a month before it falls due (or any time after); removing the equipment
(``measures remove``) ends it too. On hold, nothing is due.

Each case keeps its next due date in ``cases.next_due_on`` (indexed), and its
moment in ``next_due_at`` when the target is in hours, stored by
:func:`refresh_due` whenever the case changes, so that ``referral list`` and
``thcli due`` never work out every case again: ``due`` reads the stored dates
that fall within its horizon, each case once at its next item
(:func:`due_list`), with the hours left (or late) for an item counted in
hours; ``referral show`` lists every item of a case.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from thcli import calendar, clock, codes, settings
from thcli.db import Database, one, write
from thcli.errors import BadInput

#: What can be due, in the order a coordinator deals with them on the same day.
WHAT_ORDER = ("first contact", "survey", "landlord permission to request", "landlord permission",
              "measures fitted", "follow-up", "close the case", "equipment review")
RISK_ORDER = {"high": 0, "medium": 1, "standard": 2}
#: The furthest ``due --within`` looks ahead, in working days (about a year).
MAX_WITHIN = 260

#: Settings that due dates are worked out from: after changing one, call refresh_all.
DUE_SETTINGS = ("target_first_contact", "target_survey", "target_fitted", "target_fitted_high", "target_emergency",
                "target_landlord", "followup_months", "equipment_review_months")

#: The columns of a case that due_items reads (a cheap SELECT for `due`).
CASE_COLUMNS = ("id", "ref", "status", "received_on", "received_at", "emergency", "risk_level", "district",
                "landlord_permission", "landlord_permission_on", "fitted_on", "updated_at")

#: An item due on a case: the date, what, and the moment when its target is in hours (None otherwise).
Item = tuple[dt.date, str, "dt.datetime | None"]


def due_date(start: dt.date, target: settings.Duration) -> dt.date:
    return calendar.due_after(start, target.amount, target.unit)


def received_moment(case: dict) -> dt.datetime | None:
    """When the referral came in (None when only its date is known)."""
    return dt.datetime.fromisoformat(case["received_at"]) if case.get("received_at") else None


def due_moment(received: dt.date, at: dt.datetime | None,
               target: settings.Duration) -> tuple[dt.date, dt.datetime | None]:
    """The date a target falls due, and its moment when it is in hours and the received time is known."""
    if target.unit == "hours" and at is not None:
        moment = at + dt.timedelta(hours=target.amount)
        return moment.date(), moment
    return due_date(received, target), None


@dataclass(frozen=True)
class Rules:
    """The scheme's target settings, read once."""

    first_contact: settings.Duration
    survey: settings.Duration
    fitted: settings.Duration
    fitted_high: settings.Duration
    emergency: settings.Duration
    landlord: settings.Duration
    followup_months: tuple[int, ...]
    review_months: int


def load_rules(db: Database) -> Rules:
    return Rules(
        first_contact=settings.get(db, "target_first_contact"),
        survey=settings.get(db, "target_survey"),
        fitted=settings.get(db, "target_fitted"),
        fitted_high=settings.get(db, "target_fitted_high"),
        emergency=settings.get(db, "target_emergency"),
        landlord=settings.get(db, "target_landlord"),
        followup_months=tuple(settings.get(db, "followup_months")),
        review_months=settings.get(db, "equipment_review_months"),
    )


def fitted_target(case: dict, rules: Rules) -> settings.Duration:
    """The fitting target for this case (``emergency`` and ``risk_level``): emergency, high risk, or standard."""
    if case["emergency"]:
        return rules.emergency
    if case["risk_level"] == "high":
        return rules.fitted_high
    return rules.fitted


@dataclass(frozen=True)
class CaseTargets:
    """The dates a case is due by, from its referral date and the scheme's targets (one source for
    ``due``, ``referral show`` and the dates letters promise)."""

    first_contact: dt.date
    survey: dt.date
    fitted: dt.date
    #: the fitting target that applies (emergency, high risk or standard)
    fitted_target: settings.Duration
    #: the landlord's answer, once permission has been asked (None before)
    landlord: dt.date | None
    #: the moments of the targets in hours (None for a target in days)
    first_contact_at: dt.datetime | None = None
    survey_at: dt.datetime | None = None
    fitted_at: dt.datetime | None = None


def case_targets(case: dict, rules: Rules) -> CaseTargets:
    """The due dates of a case (``case`` needs received_on, received_at, emergency, risk_level,
    landlord_permission and landlord_permission_on)."""
    received, at = dt.date.fromisoformat(case["received_on"]), received_moment(case)
    target = fitted_target(case, rules)
    asked = _d(case["landlord_permission_on"]) if case["landlord_permission"] == "requested" else None
    first_contact, first_contact_at = due_moment(received, at, rules.first_contact)
    survey, survey_at = due_moment(received, at, rules.survey)
    fitted, fitted_at = due_moment(received, at, target)
    return CaseTargets(
        first_contact=first_contact, survey=survey, fitted=fitted, fitted_target=target,
        landlord=due_date(asked, rules.landlord) if asked else None,
        first_contact_at=first_contact_at, survey_at=survey_at, fitted_at=fitted_at,
    )


def urgent(case: dict) -> bool:
    """An emergency or a high-risk case: its fitting target shows from the day the referral arrives."""
    return bool(case["emergency"]) or case["risk_level"] == "high"


def followup_dates(fitted_on: dt.date, rules: Rules, done: int = 0) -> list[dt.date]:
    """When the follow-ups not yet done fall due (followup_months after fitting)."""
    return [calendar.add_months(fitted_on, months) for months in rules.followup_months[done:]]


def promise(due: dt.date, on: dt.date) -> tuple[dt.date, bool]:
    """The date a letter dated ``on`` may promise for something due on ``due``, and whether it is the target.

    A letter never gives a date on or before its own: once the target has
    passed (or falls on the letter's date), the promise is the earliest date
    that can still be kept, the next working day, and the letter must not
    claim the target (the second value is False).
    """
    if due > on:
        return due, True
    return calendar.add_working_days(on, 1), False


@dataclass(frozen=True)
class Facts:
    """What due_items needs to know about a case beyond its own row."""

    followups_done: int = 0
    last_followup: dt.date | None = None
    surveyed_on: dt.date | None = None
    #: when the earliest removable equipment still in the home was fitted
    equipment_since: dt.date | None = None
    #: measure lines still to be fitted (recommended, approved or ordered)
    waiting_lines: int = 0


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def case_facts(db: Database, where: str = "", params: list | tuple = ()) -> dict[int, Facts]:
    """Facts of the cases chosen by ``where`` (SQL on cases ``c``; all cases when empty), in three queries."""
    cases = f"SELECT c.id FROM cases c WHERE {where}" if where else "SELECT id FROM cases"
    found: dict[int, dict] = {}
    for case_id, done, last in db.conn.execute(
        f"SELECT case_id, count(*), max(done_on) FROM followups WHERE case_id IN ({cases}) GROUP BY case_id",
        params,
    ):
        found.setdefault(case_id, {}).update(followups_done=done, last_followup=_d(last))
    for case_id, surveyed in db.conn.execute(
        f"SELECT case_id, max(surveyed_on) FROM surveys WHERE case_id IN ({cases}) "
        "AND surveyed_on IS NOT NULL GROUP BY case_id", params,
    ):
        found.setdefault(case_id, {})["surveyed_on"] = _d(surveyed)
    for case_id, since in db.conn.execute(
        f"SELECT case_id, min(fitted_on) FROM measure_lines WHERE case_id IN ({cases}) "
        "AND +status = 'fitted' AND removable = 1 AND fitted_on IS NOT NULL GROUP BY case_id", params,
    ):
        found.setdefault(case_id, {})["equipment_since"] = _d(since)
    for case_id, waiting in db.conn.execute(
        f"SELECT case_id, count(*) FROM measure_lines WHERE case_id IN ({cases}) "
        "AND +status IN ('recommended', 'approved', 'ordered') GROUP BY case_id", params,
    ):
        found.setdefault(case_id, {})["waiting_lines"] = waiting
    return {case_id: Facts(**values) for case_id, values in found.items()}


def due_items(db: Database, case: dict, *, rules: Rules | None = None,
              facts: Facts | None = None) -> list[Item]:
    """What is due on one case, as (date, what, moment) items, soonest first; the moment is the time a
    target in hours runs out (None for a target in days).

    ``rules`` and ``facts`` may be given when many cases are worked out at
    once; otherwise they are read for this case.
    """
    rules = rules or load_rules(db)
    if facts is None:
        facts = case_facts(db, "c.id = ?", [case["id"]]).get(case["id"], Facts())
    status = case["status"]
    if status == "on_hold":
        return []
    due = case_targets(case, rules)
    items: list[Item] = []
    if status == "new":
        items.append((due.first_contact, "first contact", due.first_contact_at))
    if status in ("new", "triage", "survey"):
        items.append((due.survey, "survey", due.survey_at))
        if urgent(case):
            items.append((due.fitted, "measures fitted", due.fitted_at))
    if status in ("approval", "works"):
        if facts.waiting_lines:
            items.append((due.fitted, "measures fitted", due.fitted_at))
        else:
            # Nothing left to fit (the survey recommended nothing, or every line was declined): the case
            # closes, from the day that became so.
            since = _d((case.get("updated_at") or "")[:10]) or facts.surveyed_on or clock.today()
            items.append((since, "close the case", None))
    if status == "approval" and facts.waiting_lines:
        if due.landlord:
            items.append((due.landlord, "landlord permission", None))
        elif case["landlord_permission"] is None and facts.surveyed_on:
            # A rented home (not_needed otherwise): ask as soon as the survey says what is needed.
            items.append((calendar.add_working_days(facts.surveyed_on, 1), "landlord permission to request", None))
    fitted = _d(case["fitted_on"])
    if status in ("fitted", "follow_up") and fitted:
        months = rules.followup_months
        done = facts.followups_done
        if done < len(months):
            items.append((followup_dates(fitted, rules, done)[0], f"{months[done]}-month follow-up", None))
        else:
            items.append((facts.last_followup or fitted, "close the case", None))
    if facts.equipment_since:
        review = calendar.add_months(facts.equipment_since, rules.review_months)
        reviewed = facts.last_followup is not None and facts.last_followup >= calendar.add_months(review, -1)
        if not reviewed:
            items.append((review, "equipment review", None))
    items.sort(key=_item_order)
    return items


def _item_order(item: Item) -> tuple:
    return item[0], item[2] or dt.datetime.combine(item[0], dt.time.max), _what_rank(item[1])


def _what_rank(what: str) -> int:
    name = "follow-up" if what.endswith("follow-up") else what
    return WHAT_ORDER.index(name) if name in WHAT_ORDER else len(WHAT_ORDER)


def _next(items: list[Item]) -> tuple[str | None, str | None, str | None]:
    """What refresh stores of a case's next item: its date, what, and its moment (ISO, to the minute)."""
    if not items:
        return None, None, None
    on, what, at = items[0]
    return on.isoformat(), what, at.isoformat(timespec="minutes") if at else None


def refresh_due(db: Database, case_id: int) -> None:
    """Recompute and store the next due date of one case (inside a write)."""
    row = one(db, "SELECT * FROM cases WHERE id = ?", [case_id])
    if row is None:  # pragma: no cover - callers pass a case they have just read
        return
    due_on, what, due_at = _next(due_items(db, row))
    db.conn.execute("UPDATE cases SET next_due_on = ?, next_due_what = ?, next_due_at = ? WHERE id = ?",
                    [due_on, what, due_at, case_id])


def refresh_all(db: Database, where: str = "", params: list | tuple = ()) -> int:
    """Recompute the stored next due date of many cases at once (all when ``where`` is empty).

    For bulk writers (the demo) and after a target setting changes. Runs
    inside the caller's write transaction if there is one. Returns how many
    cases were looked at.
    """
    rules = load_rules(db)
    with write(db):
        facts = case_facts(db, where, params)
        sql = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases c" + (f" WHERE {where}" if where else "")
        cursor = db.conn.execute(sql, params)
        updates = []
        for row in cursor.fetchall():
            case = dict(zip(CASE_COLUMNS, row, strict=True))
            items = due_items(db, case, rules=rules, facts=facts.get(case["id"], Facts()))
            updates.append((*_next(items), case["id"]))
        db.conn.executemany("UPDATE cases SET next_due_on = ?, next_due_what = ?, next_due_at = ? WHERE id = ?",
                            updates)
        if not where:
            db.conn.execute("DELETE FROM settings WHERE key = 'due_dates_stale'")
    return len(updates)


def catch_up(db: Database) -> None:
    """Work every case's stored due date out again, once, after an upgrade that changed how (the setting
    due_dates_stale, set by a migration); a quick look-up otherwise. Before ``due`` and ``referral list``."""
    if settings.get(db, "due_dates_stale") and db.read_only is None:
        refresh_all(db)


class FitTargets:
    """Each case's fitting target (:func:`fitted_target`) and whether it was met, for many cases at once.

    Dates are ISO text, as stored: due dates are worked out once per referral
    date and target, and compared as text (ISO dates sort as dates).
    """

    def __init__(self, db: Database, today: dt.date):
        self.db = db
        self.rules = load_rules(db)
        self.today = today.isoformat()
        self._due: dict[tuple, str] = {}

    def due(self, received_on: str, emergency: int, risk: str) -> str:
        """The ISO date by which the case's measures should be fitted."""
        key = (received_on, emergency, risk)
        found = self._due.get(key)
        if found is None:
            target = fitted_target({"emergency": emergency, "risk_level": risk}, self.rules)
            found = self._due[key] = due_date(dt.date.fromisoformat(received_on), target).isoformat()
        return found

    def within(self, received_on: str, emergency: int, risk: str, fitted_on: str | None,
               ended_on: str | None) -> str:
        """``yes``: fitted by the target date; ``no``: fitted after it, or not fitted when it passed
        (while the case was open); ``pending`` otherwise (not due yet, or the case ended first)."""
        due = self.due(received_on, emergency, risk)
        if fitted_on:
            return "yes" if fitted_on <= due else "no"
        return "no" if (ended_on or self.today) > due else "pending"


# --- what is due ------------------------------------------------------------------


def horizon(today: dt.date, within: int) -> dt.date:
    """The last day ``due --within N`` looks at: N working days ahead (0: today only)."""
    if not 0 <= within <= MAX_WITHIN:
        raise BadInput(f"{within} is out of range: give a number of working days from 0 to {MAX_WITHIN} (a year)",
                       "--within")
    return today if within == 0 else calendar.add_working_days(today, within)


def due_list(db: Database, *, within: int = 5, today: dt.date | None = None,
             district: str | None = None, now: dt.datetime | None = None) -> list[dict]:
    """What is due by the horizon, most urgent first (``thcli due``): each case once, at its next item.

    Reads the stored next due date of each case (``cases.next_due_on``,
    ``next_due_what`` and ``next_due_at``, kept by :func:`refresh_due`)
    through the partial index cases_next_due: nothing is worked out again, so
    it stays quick on a 100,000-case database. ``referral show`` lists every
    item of one case.

    Most urgent first: the earliest date (and, that day, the earliest moment),
    then emergencies, then the highest risk, then the order of WHAT_ORDER, then
    the reference. Each item has ``ref``, ``what``, ``due_on`` (ISO),
    ``days_late`` (calendar days past due; 0 due today; negative: due in that
    many days), ``status``, ``district``, ``risk_level`` and ``emergency``;
    and ``due_at`` (the moment, ISO) with ``hours_late`` (whole hours past it;
    negative: hours left) for an item whose target is in hours (null
    otherwise).
    """
    catch_up(db)
    today = today or clock.today()
    now = now or clock.now()
    last = horizon(today, within)
    where, params = "next_due_on IS NOT NULL AND next_due_on <= ?", [today.isoformat(), last.isoformat()]
    if district:
        try:
            codes.require(db, "district", district, allow_retired=True)
        except BadInput as error:
            raise error.for_option("--district") from None
        where += " AND district = ?"
        params.append(district)
    rows = db.query(
        f"""SELECT ref, next_due_what AS what, next_due_on AS due_on,
                   CAST(julianday(?) - julianday(next_due_on) AS INTEGER) AS days_late,
                   status, district, risk_level, emergency, next_due_at AS due_at
            FROM cases WHERE {where}
            ORDER BY next_due_on, coalesce(next_due_at, next_due_on || 'T24:00'), emergency DESC, {_RISK_SQL},
                     {_WHAT_SQL}, ref""", params)
    return [{**row, "emergency": bool(row["emergency"]), "hours_late": hours_late(row["due_at"], now)}
            for row in rows]


def hours_late(due_at: str | dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole hours from a due moment to ``now`` (negative: hours left before it); None without a moment."""
    if not due_at:
        return None
    moment = dt.datetime.fromisoformat(due_at) if isinstance(due_at, str) else due_at
    return math.floor((now - moment).total_seconds() / 3600)


#: The most-urgent-first order of due_list, as SQL.
_RISK_SQL = "CASE risk_level " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in RISK_ORDER.items()) + " ELSE 9 END"
_WHAT_SQL = ("CASE WHEN next_due_what LIKE '%follow-up' THEN " + str(WHAT_ORDER.index("follow-up")) + " "
             + " ".join(f"WHEN next_due_what = '{w}' THEN {i}" for i, w in enumerate(WHAT_ORDER)) + " ELSE 99 END")


def case_due(db: Database, case: dict, *, today: dt.date | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Every item due on one case, soonest first (for ``referral show``); an item counted in hours also has
    ``due_at`` and ``hours_late``."""
    today = today or clock.today()
    now = now or clock.now()
    out = []
    for due_on, what, at in due_items(db, case):
        item: dict = {"what": what, "due_on": due_on.isoformat(), "days_late": (today - due_on).days}
        if at is not None:
            item.update(due_at=at.isoformat(timespec="minutes"), hours_late=hours_late(at, now))
        out.append(item)
    return out
