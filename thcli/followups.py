"""Follow-ups after fitting (DESIGN.md §3): 3 and 6 months by default (setting followup_months).

A follow-up records when the survivor was contacted and what was found (a
``followup_outcome`` code: feels safer, no further incidents, equipment
faulty, moved, no contact...). The first one moves a fitted case to
``follow_up``; once every scheduled follow-up is done, the case can be closed
as completed (workflow.py), and ``due`` says so. Follow-ups are recorded on
closed cases too: the equipment review of removable equipment
(equipment_review_months after fitting, see targets.py) is one.

A scheduled follow-up is recorded once its window opens, a month before it
falls due (the 3-month follow-up from two months after fitting; the same
month the equipment review allows): one recorded on the fitting day would
close the case as completed at once. ``early`` records one sooner, with the
reason on the timeline and the follow-up, and the audit log saying it was
early.
"""

from __future__ import annotations

import datetime as dt

from thcli import audit, calendar, clock, codes, dates, parse, settings, targets, workflow
from thcli.cases import case_row, event
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed

#: How long before a scheduled follow-up falls due its window opens, in months.
WINDOW_MONTHS = 1


def window(db: Database, case: dict) -> tuple[str, dt.date, dt.date] | None:
    """The next scheduled follow-up of a fitted case: what it is, when its window opens, and when it is due
    (None when every scheduled follow-up is done, or the case was never fitted)."""
    if not case["fitted_on"]:
        return None
    months = settings.get(db, "followup_months")
    done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
    if done >= len(months):
        return None
    due = calendar.add_months(dt.date.fromisoformat(case["fitted_on"]), months[done])
    return f"{months[done]}-month follow-up", calendar.add_months(due, -WINDOW_MONTHS), due


def record_followup(db: Database, ref: str, *, on: dt.date, outcome: str, by: str,
                    note: str | None = None, early: str | None = None) -> dict:
    """Record a follow-up (``followup record``); returns what is done and what comes next.

    ``early`` is the reason for recording a scheduled follow-up before its
    window opens (:func:`window`).
    """

    try:
        codes.require(db, "followup_outcome", outcome)
    except BadInput as error:
        raise error.for_option("--outcome") from None
    try:
        note = parse.text(note) if note else None
    except BadInput as error:
        raise error.for_option("--note") from None
    if early is not None and not early.strip():
        raise BadInput("give the reason for recording it early", "--early")
    try:
        early = parse.text(early, max_len=500).strip() if early is not None else None
    except BadInput as error:
        raise error.for_option("--early") from None
    dates.not_future(on, "record a follow-up once it is done")
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        since = case["fitted_on"]
        if not since and case["status"] in workflow.ENDED:
            # An ended case with equipment left in the home: its review is a follow-up.
            since = db.conn.execute(
                "SELECT min(fitted_on) FROM measure_lines WHERE case_id = ? AND fitted_on IS NOT NULL",
                [case["id"]]).fetchone()[0]
        if not since:
            raise NotAllowed(f"{ref}'s status is {case['status']} and not yet fitted: follow-ups come "
                             f"after the measures are fitted (`thcli measures fitted {ref} --date DATE`)")
        if on < dt.date.fromisoformat(since):
            raise BadInput(f"{dates.format_date(on)} is before the measures were fitted "
                           f"({dates.format_date(since)})", "--date")
        if case["status"] == "on_hold":
            raise NotAllowed(f"{ref} is on hold: bring it back first (`thcli referral move {ref} "
                             f"{case['status_before_hold']}`)")
        next_one = window(db, case) if case["status"] in ("fitted", "follow_up") else None
        too_early = next_one is not None and on < next_one[1]
        if next_one is not None and too_early and not early:
            what, opens, due_on = next_one
            raise NotAllowed(
                f"{ref}: the {what} is due on {dates.format_date(due_on)}, and its window opens on "
                f"{dates.format_date(opens)}, a month before: {dates.format_date(on)} is too early to count as it. "
                f"Record it from {dates.format_date(opens)}, note the contact with `thcli referral note {ref} "
                "TEXT`, or add --early REASON (recorded)."
            )
        db["followups"].insert({"case_id": case["id"], "done_on": on.isoformat(), "outcome": outcome,
                                "note": note, "by": by, "at": clock.now_iso(),
                                "early_reason": early if too_early else None})
        detail = f"follow-up: {codes.label(db, 'followup_outcome', outcome)}"
        if too_early:
            detail += f" (recorded before its window opened: {early})"
        event(db, case["id"], "followup", detail, by=by)
        if note:
            event(db, case["id"], "note", note, by=by)
        audit.record(db, by=by, action="followup.record", ref=ref, detail=outcome + (" (early)" if too_early else ""))
        if case["status"] == "fitted":
            workflow.move(db, ref, "follow_up", by=by, on=on, rules=False)
        else:
            db["cases"].update(case["id"], {"updated_at": clock.now_iso()})
        targets.refresh_due(db, case["id"])
        done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
        case = case_row(db, ref)
    scheduled = len(settings.get(db, "followup_months"))
    return {
        "ref": ref, "done_on": on.isoformat(), "outcome": outcome, "followups_done": done,
        "followups_scheduled": scheduled, "status": case["status"],
        "can_close": case["status"] in ("fitted", "follow_up") and done >= scheduled,
        "next_due_on": case["next_due_on"], "next_due_what": case["next_due_what"],
    }


def case_followups(db: Database, case_id: int) -> list[dict]:
    """A case's follow-ups, oldest first (for ``referral show``)."""
    return list(db.query("SELECT done_on, outcome, note, by, early_reason FROM followups WHERE case_id = ? "
                         "ORDER BY done_on, id", [case_id]))
