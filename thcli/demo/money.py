"""The demo's money: funds for each financial year, and the money of every case, through the ledger's own chain.

Entries are made in memory, in date order, then numbered and hashed by the
ledger's Chain (the same hashes as thcli's own entries) and written in bulk.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from typing import NamedTuple

from thcli import clock, codes, dates
from thcli.budget import IN_HOUSE, INSERT_INTO, PAYABLE, Chain, fund_code, year_span
from thcli.db import insert_many, write
from thcli.demo.stories import DemoContext
from thcli.parse import format_money
from thcli.workflow import ENDED

#: The demo's funds each year: (name, code before the year, source, district, weight of the cases
#: charged to it).
DEMO_FUNDS = [
    ("Example OPCC", "opcc", "opcc", None, 50),
    ("Homelessness Prevention Grant", "hpg", "hpg", None, 40),
    ("Sanctuary Donations", "donations", "donations", None, 10),
    ("Fenwick District Budget", "fenwick", "district_budget", "fenwick", 0),
]
#: The memo of a release written with a payment: replaced by "released by payment N" once numbered.
RELEASED = "released by payment"
#: The demo fund left close to running out (this year's district budget).
DEMO_TIGHT = ("Fenwick District Budget", 15_000)


class _DemoEntry(NamedTuple):
    """A demo ledger entry before it is numbered and hashed (a tuple: the demo makes 800,000)."""

    on: dt.date
    rank: int  # orders one day's entries: allocations 0, contributions 1, approvals 2, fittings 3, payments 4
    kind: str
    amount: int
    fund_id: int
    case_id: int | None = None
    line_id: int | None = None
    invoice: str | None = None
    contributor: str | None = None
    pledged: bool = False
    memo: str | None = None


def _round_up(pence: int, step: int) -> int:
    return max(step, -(-pence // step) * step)


def demo_money(context: DemoContext) -> None:
    """``thcli demo``: funds for each financial year of the demo, and the money of every case.

    Approved lines are charged to a fund (a Fenwick case mostly to the Fenwick
    district budget) with a commitment at the approval date; fitted lines are
    settled at their actual cost and most are paid with an invoice a few weeks
    later; some households get a contribution from the survivor, the landlord
    or a housing association (pledged while works are pending). Allocations are
    sized from the spend so that every fund stays above zero, this year's
    Fenwick District Budget only just.
    """
    db, rng, today, by = context.db, context.rng, context.today, context.by
    charged = [s for s in context.stories
               if any(m.get("line_id") and m["status"] in PAYABLE for m in s.measures)]
    fund_years = sorted({dates.financial_year_of(min(s.dates["approved"], today)) for s in charged}
                        | {dates.financial_year_of(today), dates.financial_year_of(today - dt.timedelta(days=365)),
                           # the year the stock in the cupboards was bought (equipment.py)
                           dates.financial_year_of(today - dt.timedelta(days=548))})
    now = clock.now_iso()
    funds: dict[tuple[str, str], dict] = {}
    with write(db):
        for year in fund_years:
            for name, short, source, district, _weight in DEMO_FUNDS:
                code = fund_code(short, year)
                fund_id = db.conn.execute(
                    "INSERT INTO funds (code, name, year, source, district, created_at, created_by) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [code, name, year, source, district, now, by]).lastrowid
                funds[(year, name)] = {"id": fund_id, "year": year, "name": name, "district": district}
        rows: list[_DemoEntry] = []  # every entry but allocations, in any order
        line_funds, events = [], []
        invoice = 1000
        weights = {name: weight for name, _c, _s, _d, weight in DEMO_FUNDS if weight}
        kinds = {r["code"]: r["kind"] for r in codes.list_codes(db, "measure")}
        for story in charged:
            approved = min(story.dates["approved"], today)
            year = dates.financial_year_of(approved)
            if story.district == "fenwick" and rng.random() < 0.7:
                name = "Fenwick District Budget"
            else:
                name = rng.choices(list(weights), weights=list(weights.values()))[0]
            fund_id = funds[(year, name)]["id"]
            works = 0
            case_paid = False
            done: dict[str | None, list[tuple[dict, dt.date, int, tuple[int, int, int]]]] = {}  # to pay, by contractor
            for m in story.measures:
                if not m.get("line_id") or m["status"] not in PAYABLE:
                    continue
                line_funds.append((fund_id, m["line_id"]))
                of_line = (fund_id, story.case_id, m["line_id"])  # fund, case and line of its entries
                estimate = m["estimate"]
                if kinds.get(m["code"]) == "works":
                    works += estimate
                rows.append(_DemoEntry(approved, 2, "commitment", -estimate, *of_line,
                                       memo=f"approved: {m['code']} x{m['quantity']}"))
                fitted, actual = m.get("fitted_on"), m.get("actual")
                if not fitted or actual is None:
                    continue
                fitted = max(fitted, approved)  # the demo's stories may fit before a late approval
                if actual != estimate:
                    more = actual > estimate
                    rows.append(_DemoEntry(fitted, 3, "commitment" if more else "release", estimate - actual, *of_line,
                                           memo=f"fitted for {format_money(actual)}, "
                                                f"{'over' if more else 'under'} the estimate"))
                if actual:
                    done.setdefault(m.get("contractor"), []).append((m, fitted, actual, of_line))
            # One invoice per contractor pays all its fitted lines (budget pay --fitted); the in-house
            # team's work is paid without one (--internal).
            for contractor, paid in done.items():
                paid_on = max(fitted for _m, fitted, _a, _o in paid) + dt.timedelta(days=rng.randint(10, 40))
                # A few invoices are still awaited, on cases not yet ended: an ended case was settled
                # first (workflow.require_money_settled).
                if paid_on > today or (rng.random() < 0.1 and story.status not in ENDED):
                    continue
                number = None
                if contractor != "in_house":
                    invoice += 1
                    number = f"INV-{invoice:05d}"
                for _m, _fitted, actual, of_line in paid:
                    rows.append(_DemoEntry(paid_on, 4, "payment", -actual, *of_line, invoice=number,
                                           memo=None if number else IN_HOUSE))
                    # Its memo names the payment's entry, numbered when the ledger is written.
                    rows.append(_DemoEntry(paid_on, 4, "release", actual, *of_line, invoice=number,
                                           memo=RELEASED))
                numbers = ", ".join(str(m["line"]) for m, *_ in paid)
                events.append((story.case_id, f"{paid_on.isoformat()}T11:00:00Z", "money",
                               f"{format_money(sum(a for _m, _f, a, _o in paid))} paid on line"
                               f"{'s' if len(paid) > 1 else ''} {numbers} "
                               f"({'invoice ' + number if number else IN_HOUSE})", by))
                case_paid = True
            contributor = {"private_rented": "landlord", "housing_association": "housing_association",
                           "council": "landlord"}.get(story.tenure, "survivor")
            # East Lindsey asks the landlord to contribute towards works: always while works are pending.
            if works and (rng.random() < 0.3 or (contributor == "landlord" and story.status in ("approval", "works"))):
                amount = min(20_000, max(500, works // 2 // 500 * 500))
                pledged = not case_paid and story.status not in ("closed", "declined", "withdrawn", "no_contact")
                on = min(approved + dt.timedelta(days=rng.randint(0, 5)), today)
                what = "pledged" if pledged else "received"
                rows.append(_DemoEntry(on, 1, "contribution", amount, fund_id, story.case_id, contributor=contributor,
                                       pledged=pledged, memo=f"{what} {'by' if pledged else 'from'} the "
                                                             f"{contributor.replace('_', ' ')}"))
                events.append((story.case_id, f"{on.isoformat()}T12:00:00Z", "money",
                               f"{format_money(amount)} contribution {what} from the "
                               f"{contributor.replace('_', ' ')}", by))
        # While the landlord's permission is asked, the landlord is asked to contribute too (East Lindsey):
        # the latest such case always, so that the demo's landlord letter says how much and how to pay.
        asking = sorted((s for s in context.stories if s.status == "approval" and s.tenure in ("private_rented",
                                                                                               "council")
                         and any(m["status"] == "recommended" for m in s.measures)), key=lambda s: -s.index)
        for position, story in enumerate(asking):
            if position and rng.random() < 0.5:
                continue
            on = min(story.dates["surveyed"], today)
            estimate = sum(m.get("estimate", 0) for m in story.measures if m["status"] == "recommended")
            amount = max(2_000, estimate // 2 // 500 * 500)
            fund_id = funds[(dates.financial_year_of(on), "Example OPCC")]["id"]
            rows.append(_DemoEntry(on, 1, "contribution", amount, fund_id, story.case_id, contributor="landlord",
                                   pledged=True, memo="pledged by the landlord"))
            events.append((story.case_id, f"{on.isoformat()}T12:00:00Z", "money",
                           f"{format_money(amount)} contribution pledged from the landlord", by))
        # Allocations: enough for the lowest point each fund reaches, with room to spare (this
        # year's Fenwick District Budget only just).
        order = operator.itemgetter(0, 1)  # the day, then the rank within it
        rows.sort(key=order)
        running: dict[int, int] = {}
        lowest: dict[int, int] = {}
        for index, r in enumerate(rows):
            if not r.pledged:
                running[r.fund_id] = running.get(r.fund_id, 0) + r.amount
            end_of_day = index + 1 == len(rows) or rows[index + 1].on != r.on
            if end_of_day:  # a payment and the release it brings are one movement
                for fund_id, balance in running.items():
                    lowest[fund_id] = min(lowest.get(fund_id, 0), balance)
        this_year = dates.financial_year_of(today)
        allocations = []
        for (year, name), fund in funds.items():
            need = -lowest.get(fund["id"], 0)
            start, end = year_span(year)
            if year == this_year and name == DEMO_TIGHT[0]:
                amount = need + DEMO_TIGHT[1]
            elif year == this_year:
                elapsed = max((today - start).days + 1, 1)
                amount = _round_up(need * 365 // elapsed * 5 // 4, 100_000)
            else:
                amount = _round_up(need * 21 // 20, 50_000)
            allocations.append(_DemoEntry(min(start, today), 0, "allocation", amount, fund["id"],
                                          memo="opening allocation"))
        chain = Chain(db)
        entries = []
        days: dict[dt.date, str] = {}  # each day's ISO text, made once (800,000 entries, 550 days)
        # The rows are in order already: placing the few allocations among them saves sorting
        # 800,000 entries again. Only allocations have rank 0, so each, put to the right of equal
        # keys, lands after its day's allocations placed before it and before the day's other
        # entries: where a stable sort of allocations + rows would put it.
        for allocation in sorted(allocations, key=order):
            bisect.insort_right(rows, allocation, key=order)
        for entry in rows:
            memo = entry.memo
            if entry.memo is RELEASED:  # right after its payment
                memo = f"released by payment {chain.next_id - 1}"
            day = days.get(entry.on) or days.setdefault(entry.on, entry.on.isoformat())
            at = f"{day}T{rng.randint(9, 16):02d}:{rng.randint(0, 59):02d}:00Z"
            entries.append(chain.append((at, day, entry.kind, entry.amount, entry.fund_id, entry.case_id,
                                         entry.line_id, entry.invoice, entry.contributor, int(entry.pledged), None,
                                         memo, by)))
        insert_many(db, INSERT_INTO, entries)
        db.conn.executemany("UPDATE measure_lines SET fund_id = ? WHERE id = ?", line_funds)
        insert_many(db, "INSERT INTO events (case_id, at, kind, detail, by)", events)
