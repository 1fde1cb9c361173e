"""The demo's equipment: stock held by the IDVA, the police DA officer and the office, issues from it,
and lent equipment reviewed or collected."""

from __future__ import annotations

import datetime as dt
import random

from thcli import calendar, codes, settings
from thcli.db import write
from thcli.demo.stories import DemoContext

#: Who holds what in the demo: (holder, items).
DEMO_HOLDERS = (
    ("idva", ("personal_alarm", "door_alarm", "door_jammer")),
    ("police_da_officer", ("window_alarm", "personal_alarm")),
    ("office", ("smoke_alarm", "door_jammer", "window_alarm")),
)


def demo_equipment(context: DemoContext) -> None:
    """``thcli demo``: equipment stock, issues from it, and lent equipment reviewed or removed.

    - Stock: the IDVA, the police DA officer and the office hold alarms and
      jammers; some new and triage cases got a personal alarm from the IDVA
      at first contact (a line of its own), and some cases awaiting approval
      got a recommended alarm from stock while the rest waits. What is left
      is a few items each, some at or below the reorder level.
    - Equipment reviews: removable equipment reaches its review
      (equipment_review_months after fitting); most older ones were reviewed
      with a follow-up, some collected (``removed``), and the most recent are
      left for ``due`` to show.
    """
    db, rng, today, by = context.db, context.rng, context.today, context.by
    start = today - dt.timedelta(days=548)
    review_months = settings.get(db, "equipment_review_months")
    catalogue = {r["code"]: r for r in codes.list_codes(db, "measure")}
    holder_of: dict[str, list[str]] = {}
    for holder, items in DEMO_HOLDERS:
        for item in items:
            holder_of.setdefault(item, []).append(holder)
    issued: dict[tuple[str, str], int] = {}
    movements: list[tuple] = []
    new_lines, fitted_lines, followups, removals, events = [], [], [], [], []
    next_line_id = db.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM measure_lines").fetchone()[0]
    for story in context.stories:
        d = story.dates
        if story.status in ("new", "triage") and not story.measures and story.route in ("idva", "marac") \
                and story.received >= start + dt.timedelta(days=30) and rng.random() < 0.3:
            # A personal alarm handed over at first contact, before any survey.
            on = d["contact"] if story.status == "triage" else story.received
            on = min(on, today)
            item = "personal_alarm"
            line = {"line_id": next_line_id, "line": 1, "code": item, "quantity": 1, "status": "fitted",
                    "fitted_on": on, "estimate": catalogue[item]["unit_cost_pence"], "actual": None,
                    "stock_holder": "idva"}
            story.measures.append(line)
            new_lines.append((next_line_id, story.case_id, 1, item, 1, line["estimate"], line["estimate"],
                              "equipment", 1, "fitted", on.isoformat(), "idva"))
            movements.append((f"{on.isoformat()}T10:00:00Z", item, "idva", -1, story.case_id, next_line_id, by))
            events.append((story.case_id, f"{on.isoformat()}T10:00:00Z", "measures",
                           f"line 1: 1 {item} issued from stock (idva)", by))
            issued[(item, "idva")] = issued.get((item, "idva"), 0) + 1
            next_line_id += 1
        elif story.status == "approval" and rng.random() < 0.5:
            waiting = [m for m in story.measures if m["status"] == "recommended"]
            stocked = [m for m in waiting if m["code"] in holder_of]
            if stocked and len(stocked) < len(waiting):
                m = stocked[0]
                holder = rng.choice(holder_of[m["code"]])
                on = min(today, calendar.add_working_days(d["surveyed"], 1))
                m.update(status="fitted", fitted_on=on, stock_holder=holder)
                fitted_lines.append((on.isoformat(), holder, m["line_id"]))
                movements.append((f"{on.isoformat()}T11:00:00Z", m["code"], holder, -m["quantity"], story.case_id,
                                  m["line_id"], by))
                events.append((story.case_id, f"{on.isoformat()}T11:00:00Z", "measures",
                               f"line {m['line']}: {m['quantity']} {m['code']} issued from stock ({holder})", by))
                issued[(m["code"], holder)] = issued.get((m["code"], holder), 0) + m["quantity"]
        if story.status == "on_hold":
            continue
        lent = [m for m in story.measures if m["status"] == "fitted" and m.get("fitted_on")
                and catalogue[m["code"]]["removable"]]
        if not lent:
            continue
        review = calendar.add_months(min(m["fitted_on"] for m in lent), review_months)
        if review > today or (review > today - dt.timedelta(days=30) and rng.random() < 0.4):
            continue  # not due yet, or due lately and still to do: `due` shows it
        done = min(today, review + dt.timedelta(days=rng.randint(0, 20)))
        if rng.random() < 0.15:
            for m in lent:
                m["status"] = "removed"
                removals.append((done.isoformat(), m["line_id"]))
            events.append((story.case_id, f"{done.isoformat()}T14:00:00Z", "measures",
                           f"removed line{'s' if len(lent) > 1 else ''} {', '.join(str(m['line']) for m in lent)}",
                           by))
        else:
            outcome = rng.choice(["feels_safer", "feels_safer", "no_further_incidents", "equipment_faulty"])
            followups.append((story.case_id, done.isoformat(), outcome, "equipment review", by,
                              f"{done.isoformat()}T14:00:00Z"))
    stock_rng = random.Random(rng.random())
    for holder, items in DEMO_HOLDERS:
        for item in items:
            # Enough from the start for every issue, with a few left (some at the reorder level).
            left = stock_rng.choice([0, 1, 2, 3, 5, 8, 12])
            opening = issued.get((item, holder), 0) + left
            if opening:
                movements.append((f"{start.isoformat()}T09:00:00Z", item, holder, opening, None, None, by))
    movements.sort(key=lambda row: row[0])
    with write(db):
        db.conn.executemany(
            "INSERT INTO measure_lines (id, case_id, line, code, quantity, unit_cost_pence, estimated_cost_pence, "
            "kind, removable, status, fitted_on, stock_holder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_lines)
        db.conn.executemany("UPDATE measure_lines SET status = 'fitted', fitted_on = ?, stock_holder = ? "
                            "WHERE id = ?", fitted_lines)
        db.conn.executemany("UPDATE measure_lines SET status = 'removed', removed_on = ? WHERE id = ?", removals)
        db.conn.executemany("INSERT INTO followups (case_id, done_on, outcome, note, by, at) VALUES (?, ?, ?, ?, ?, ?)",
                            followups)
        db.conn.executemany("INSERT INTO stock_movements (at, item, holder, quantity, case_id, line_id, by) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", movements)
        db.conn.executemany("INSERT INTO events (case_id, at, kind, detail, by) VALUES (?, ?, ?, ?, ?)", events)
