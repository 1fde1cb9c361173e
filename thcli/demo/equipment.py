"""The demo's equipment: stock held by the IDVA, the police DA officer and the office, issues from it,
and lent equipment reviewed or collected."""

from __future__ import annotations

import datetime as dt
import random

from thcli import calendar, codes, dates, settings
from thcli.budget import INSERT_INTO, Chain, fund_code
from thcli.db import Database, insert_many, write
from thcli.demo.stories import DemoContext
from thcli.parse import format_money

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
    charges: list[tuple[dt.date, int, int, int, str]] = []  # (day, case, line, cost, memo) of each issue
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
            cost = catalogue[item]["unit_cost_pence"]
            line = {"line_id": next_line_id, "line": 1, "code": item, "quantity": 1, "status": "fitted",
                    "fitted_on": on, "estimate": cost, "actual": cost, "stock_holder": "idva"}
            story.measures.append(line)
            new_lines.append((next_line_id, story.case_id, 1, item, 1, cost, cost, "equipment", 1, "fitted",
                              on.isoformat(), "idva", cost))
            movements.append((f"{on.isoformat()}T10:00:00Z", item, "idva", -1, story.case_id, next_line_id, by,
                              None, None, cost))
            charges.append((on, story.case_id, next_line_id, cost, f"1 {item} from idva's stock"))
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
                cost = catalogue[m["code"]]["unit_cost_pence"] * m["quantity"]
                m.update(status="fitted", fitted_on=on, stock_holder=holder, actual=cost)
                fitted_lines.append((on.isoformat(), holder, cost, m["line_id"]))
                movements.append((f"{on.isoformat()}T11:00:00Z", m["code"], holder, -m["quantity"], story.case_id,
                                  m["line_id"], by, None, None, cost))
                charges.append((on, story.case_id, m["line_id"], cost,
                                f"{m['quantity']} {m['code']} from {holder}'s stock"))
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
    # The stock was bought from the donations fund of its year (stock add --cost --fund --invoice), each
    # item at its catalogue cost; each issue recorded that cost against its case (budget.charge_stock).
    fund_id = db.conn.execute("SELECT id FROM funds WHERE code = ?",
                              [fund_code("donations", dates.financial_year_of(start))]).fetchone()[0]
    purchases: list[tuple[int, str, str]] = []  # (cost, invoice, memo) of each delivery
    for holder, items in DEMO_HOLDERS:
        for item in items:
            # Enough from the start for every issue, with a few left (some at the reorder level).
            left = stock_rng.choice([0, 1, 2, 3, 5, 8, 12])
            opening = issued.get((item, holder), 0) + left
            if opening:
                unit = catalogue[item]["unit_cost_pence"]
                movements.append((f"{start.isoformat()}T09:00:00Z", item, holder, opening, None, None, by, unit,
                                  fund_id, None))
                purchases.append((opening * unit, f"SUP-{len(purchases) + 1:04d}",
                                  f"stock: {opening} {item} for {holder} at {format_money(unit)} each"))
    movements.sort(key=lambda row: row[0])
    with write(db):
        db.conn.executemany(
            "INSERT INTO measure_lines (id, case_id, line, code, quantity, unit_cost_pence, estimated_cost_pence, "
            "kind, removable, status, fitted_on, stock_holder, actual_cost_pence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", new_lines)
        db.conn.executemany("UPDATE measure_lines SET status = 'fitted', fitted_on = ?, stock_holder = ?, "
                            "actual_cost_pence = ? WHERE id = ?", fitted_lines)
        _stock_money(db, fund_id, start, purchases, charges, by)
        db.conn.executemany("UPDATE measure_lines SET status = 'removed', removed_on = ? WHERE id = ?", removals)
        db.conn.executemany("INSERT INTO followups (case_id, done_on, outcome, note, by, at) VALUES (?, ?, ?, ?, ?, ?)",
                            followups)
        db.conn.executemany("INSERT INTO stock_movements (at, item, holder, quantity, case_id, line_id, by, "
                            "unit_cost_pence, fund_id, cost_pence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", movements)
        db.conn.executemany("INSERT INTO events (case_id, at, kind, detail, by) VALUES (?, ?, ?, ?, ?)", events)


def _stock_money(db: Database, fund_id: int, start: dt.date, purchases: list[tuple[int, str, str]],
                 charges: list[tuple[dt.date, int, int, int, str]], by: str) -> None:
    """The ledger of the stock: a top-up of the donations fund for it, each delivery paid on its invoice, and
    each issue's cost moved to its case (the pair of ``stock`` entries budget.charge_stock writes)."""
    chain = Chain(db)
    day = start.isoformat()
    at = f"{day}T09:00:00Z"
    rows = [chain.row(kind="allocation", amount=sum(cost for cost, _i, _m in purchases), fund_id=fund_id, on=day,
                      by=by, at=at, memo="donations for the stock of equipment")]
    rows += [chain.row(kind="payment", amount=-cost, fund_id=fund_id, on=day, by=by, at=at, invoice=invoice,
                       memo=memo) for cost, invoice, memo in purchases]
    for on, case_id, line_id, cost, memo in sorted(charges):
        issued_at = f"{on.isoformat()}T10:00:00Z"
        rows.append(chain.row(kind="stock", amount=-cost, fund_id=fund_id, on=on, by=by, at=issued_at,
                              case_id=case_id, line_id=line_id, memo=memo))
        rows.append(chain.row(kind="stock", amount=cost, fund_id=fund_id, on=on, by=by, at=issued_at,
                              memo=f"issued from stock (entry {rows[-1][0]})"))
    insert_many(db, INSERT_INTO, rows)
