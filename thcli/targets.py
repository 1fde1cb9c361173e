"""Time targets (DESIGN.md §3): when the next thing on a case is due.

Targets are settings, counted from the referral date in working days (English
bank holidays skipped) or hours. Each open case keeps its next due date in
``cases.next_due_on`` (indexed), refreshed whenever the case changes, so that
``referral list`` and ``due`` never recompute it for every case.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from thcli import calendar, settings

if TYPE_CHECKING:
    from sqlite_utils import Database


def due_date(start: dt.date, target: settings.Duration) -> dt.date:
    return calendar.due_after(start, target.amount, target.unit)


def fitted_target(db: Database, case: dict) -> settings.Duration:
    """The fitting target for this case: emergency, high risk, or standard."""
    if case["emergency"]:
        return settings.get(db, "target_emergency")
    if case["risk_level"] == "high":
        return settings.get(db, "target_fitted_high")
    return settings.get(db, "target_fitted")


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def due_items(db: Database, case: dict) -> list[tuple[dt.date, str]]:
    """What is due on one case, as (date, what) pairs, soonest first."""
    status = case["status"]
    received = dt.date.fromisoformat(case["received_on"])
    items: list[tuple[dt.date, str]] = []
    if status == "new":
        items.append((due_date(received, settings.get(db, "target_first_contact")), "first contact"))
    if status in ("new", "triage", "survey"):
        items.append((due_date(received, settings.get(db, "target_survey")), "survey"))
    if status in ("approval", "works"):
        items.append((due_date(received, fitted_target(db, case)), "measures fitted"))
        if status == "approval" and case["landlord_permission"] == "requested" and case["landlord_permission_on"]:
            asked = dt.date.fromisoformat(case["landlord_permission_on"])
            items.append((due_date(asked, settings.get(db, "target_landlord")), "landlord permission"))
    if status in ("fitted", "follow_up") and case["fitted_on"]:
        fitted = dt.date.fromisoformat(case["fitted_on"])
        done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
        months = settings.get(db, "followup_months")
        if done < len(months):
            items.append((calendar.add_months(fitted, months[done]), f"{months[done]}-month follow-up"))
    items.sort()
    return items


def refresh_due(db: Database, case_id: int) -> None:
    """Recompute and store the next due date of one case (inside a write)."""
    case = db.conn.execute("SELECT * FROM cases WHERE id = ?", [case_id])
    names = [d[0] for d in case.description]
    row = dict(zip(names, case.fetchone()))
    items = due_items(db, row)
    due_on, what = (items[0][0].isoformat(), items[0][1]) if items else (None, None)
    db.conn.execute(
        "UPDATE cases SET next_due_on = ?, next_due_what = ? WHERE id = ?", [due_on, what, case_id]
    )
