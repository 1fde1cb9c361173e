"""Equipment held in stock (East Lindsey's IDVA, South Holland's police DA officer).

Stock is a list of movements: ``stock add`` puts items in a holder's hands
(+), ``stock issue`` gives them to a case (−). A holder's quantity of an item
is the sum of its movements, and it never goes below zero: an issue that is
not covered by what the holder has is refused, inside the same write
transaction that would record it.

Issuing counts as fitted for the case's measure line: the lowest-numbered
recommended, approved or ordered line of that item (a line approved or
ordered against a fund gets its commitment back: the stock was paid for when
it was bought), so that an alarm ordered and then handed over from stock is
one line, not two. With no such line (an IDVA handing over a personal alarm
at first contact, before any survey) a new line is added for the quantity
issued. Stock items are equipment from the measures catalogue; holders are
the ``stock_holder`` list. Issuing follows the scheme's eligibility rules
(eligibility.py: a MARAC-only scheme's alarms go to MARAC cases), unless
overridden with a reason.

Stock has a cost. Equipment bought (``stock add --cost --fund --invoice``) is
paid from the fund when it arrives, and each delivery keeps what one item cost
and the fund that paid. Issuing takes a holder's items first in, first out,
and records their cost against the case (budget.charge_stock): on the line as
its actual cost, and on the ledger in the fund that bought them, so a
household's spend and the county's figures include its equipment from stock.
Items added without a cost (donated, or from before costs were kept) cost the
case nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thcli import audit, budget, clock, codes, dates, eligibility, measures, settings, targets
from thcli.cases import case_row, event
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed
from thcli.parse import MAX_PENCE, MAX_QUANTITY, format_money

#: Case statuses a stock item can be issued in (not before the case is open, nor once it ended).
ISSUING = ("new", "triage", "survey", "approval", "works")


def held(db: Database, item: str, holder: str) -> int:
    """How many of ``item`` ``holder`` has now."""
    return db.conn.execute(
        "SELECT coalesce(sum(quantity), 0) FROM stock_movements WHERE item = ? AND holder = ?", [item, holder]
    ).fetchone()[0]


def _item(db: Database, item: str, option: str = "ITEM") -> dict:
    try:
        codes.require(db, "measure", item)
    except BadInput as error:
        raise error.for_option(option) from None
    entry = measures.catalogue_entry(db, item)
    if entry["kind"] != "equipment":
        raise BadInput(f"{item!r} ({entry['label']}) is a works measure: only equipment is held in stock "
                       "(see `thcli codes list measure`)", option)
    return entry


def _holder(db: Database, holder: str, option: str = "--holder") -> str:
    try:
        return codes.require(db, "stock_holder", holder)
    except BadInput as error:
        raise error.for_option(option) from None


@dataclass
class Received:
    """What ``stock add`` recorded: what the holder has now, and what was paid for it (if bought)."""

    held: int
    cost_pence: int = 0
    fund: str | None = None
    entry: int | None = None
    remaining_pence: int | None = None


def add_stock(db: Database, item: str, quantity: int, *, holder: str, by: str, on: dt.date | None = None) -> int:
    """Record items received by a holder at no cost (``stock add`` without --cost); returns what they have now."""
    return receive_stock(db, item, quantity, holder=holder, by=by, on=on).held


def receive_stock(db: Database, item: str, quantity: int, *, holder: str, by: str, on: dt.date | None = None,
                  unit_cost_pence: int | None = None, fund: str | None = None, invoice: str | None = None,
                  allow_overspend: str | None = None) -> Received:
    """Record items received by a holder (``stock add``), bought from a fund when a cost is given.

    ``unit_cost_pence`` is what one item cost: with it, ``fund`` pays the whole
    delivery on ``invoice`` (budget.pay_for_stock: the fund's year and the
    overspend rule apply); without it, the items cost nothing.
    """
    _item(db, item)
    _holder(db, holder)
    if quantity < 1:
        raise BadInput(f"{quantity} is not a quantity to add: give a whole number above zero", "QTY")
    if quantity > MAX_QUANTITY:
        raise BadInput(f"{quantity} is more than one delivery can be ({MAX_QUANTITY}): record larger deliveries "
                       "in parts", "QTY")
    bought = unit_cost_pence is not None
    if bought and unit_cost_pence is not None and unit_cost_pence <= 0:
        raise BadInput("the cost of one item must be more than £0.00 (leave --cost out for donated stock)", "--cost")
    if unit_cost_pence is not None and unit_cost_pence * quantity > MAX_PENCE:
        raise BadInput(f"{quantity} at {format_money(unit_cost_pence)} is {format_money(unit_cost_pence * quantity)}, "
                       f"more than one delivery can cost ({format_money(MAX_PENCE)}): check the cost of one item",
                       "--cost")
    if bought and not fund:
        raise BadInput("say which fund pays for it: stock bought with --cost is paid from --fund FUND", "--fund")
    if not bought and (fund or invoice):
        raise BadInput("--fund and --invoice go with --cost, what one item cost", "--cost")
    on = dates.not_future(on or clock.today(), "record stock once it arrives")
    with write(db):
        paid = None
        if unit_cost_pence is not None and fund:
            paid = budget.find_fund(db, fund)
            total = unit_cost_pence * quantity
            entry = budget.pay_for_stock(db, paid, total, invoice=invoice or "", on=on, by=by,
                                         allow_overspend=allow_overspend,
                                         memo=f"stock: {quantity} {item} for {holder} at "
                                              f"{format_money(unit_cost_pence)} each")
        db["stock_movements"].insert({"at": _at(on), "item": item, "holder": holder, "quantity": quantity,
                                      "by": by, "unit_cost_pence": unit_cost_pence,
                                      "fund_id": paid["id"] if paid else None})
        audit.record(db, by=by, action="stock.add", detail=f"{item} +{quantity} ({holder})"
                     + (f"; entry {entry}" if paid else ""))
        if paid is None:
            return Received(held(db, item, holder))
        return Received(held(db, item, holder), total, paid["code"], entry, budget.remaining(db, paid["id"]))


def cost_of_issue(db: Database, item: str, holder: str, count: int) -> dict[int, int]:
    """What the next ``count`` of a holder's ``item`` cost, per fund that bought them: first in, first out.

    The items issued so far came from the oldest deliveries; these are the
    next ones. Items added without a cost count nothing.
    """
    issued = -db.conn.execute(
        "SELECT coalesce(sum(quantity), 0) FROM stock_movements WHERE item = ? AND holder = ? AND quantity < 0",
        [item, holder]).fetchone()[0]
    costs: dict[int, int] = {}
    for quantity, unit, fund_id in db.conn.execute(
            "SELECT quantity, unit_cost_pence, fund_id FROM stock_movements WHERE item = ? AND holder = ? "
            "AND quantity > 0 ORDER BY id", [item, holder]):
        if issued >= quantity:
            issued -= quantity
            continue
        take = min(quantity - issued, count)
        issued, count = 0, count - take
        if unit and fund_id:
            costs[fund_id] = costs.get(fund_id, 0) + take * unit
        if not count:
            break
    return costs


def _at(on: dt.date) -> str:
    now = clock.now_iso()
    return now if on == clock.today() else f"{on.isoformat()}T12:00:00Z"


def stock_list(db: Database) -> list[dict]:
    """Quantity per item and holder, with the reorder flag (setting reorder_level)."""
    level = settings.get(db, "reorder_level")
    rows = []
    for item, label, holder, holder_label, quantity in db.conn.execute(
        """SELECT s.item, coalesce(m.label, s.item), s.holder, coalesce(h.label, s.holder), sum(s.quantity)
           FROM stock_movements s
           LEFT JOIN codes m ON m.list = 'measure' AND m.code = s.item
           LEFT JOIN codes h ON h.list = 'stock_holder' AND h.code = s.holder
           GROUP BY s.item, s.holder ORDER BY s.item, s.holder"""
    ):
        rows.append({"item": item, "label": label, "holder": holder, "holder_label": holder_label,
                     "quantity": quantity, "reorder_level": level, "reorder": quantity <= level})
    return rows


def _choose_holder(db: Database, item: str, quantity: int, holder: str | None) -> str:
    if holder:
        return _holder(db, holder)
    holding = db.conn.execute(
        "SELECT holder, sum(quantity) FROM stock_movements WHERE item = ? GROUP BY holder "
        "HAVING sum(quantity) > 0 ORDER BY holder", [item]).fetchall()
    if len(holding) == 1:
        return holding[0][0]
    if not holding:
        raise NotAllowed(f"no one holds any {item} in stock (see `thcli stock list`; add some with "
                         f"`thcli stock add {item} QTY --holder H`)")
    shown = ", ".join(f"{h} ({q})" for h, q in holding)
    raise BadInput(f"{item} is held by {shown}: say whose stock it comes from", "--holder")


def _require_unpaid(db: Database, ref: str, line: dict) -> None:
    """Refuse to fill a line from stock once something is paid on it: the stock's cost would be charged on top."""
    paid = budget.paid_on(db, line["id"])
    if not paid:
        return
    entries = [str(row[0]) for row in db.conn.execute(
        "SELECT p.id FROM ledger p WHERE p.kind = 'payment' AND p.line_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.corrects_id = p.id) ORDER BY p.id", [line["id"]])]
    number = line["line"]
    fit = f"`thcli measures fitted {ref} {number}`"
    if line["status"] != "ordered":
        fit = f"`thcli measures order {ref} {number} --contractor CODE`, then {fit}"
    raise NotAllowed(
        f"{ref} line {number} ({line['code']}) has {format_money(paid)} paid on it already (ledger "
        f"entr{'y' if len(entries) == 1 else 'ies'} {', '.join(entries)}): issuing it from stock would charge the "
        f"household twice, so nothing was issued. If that payment bought this equipment, record the line as fitted "
        f"({fit}); if it was entered by mistake, correct it (`thcli budget correct {(entries or ['ENTRY'])[0]} "
        "--reason TEXT`) and issue again")


def issue(db: Database, ref: str, item: str, *, by: str, holder: str | None = None, quantity: int | None = None,
          on: dt.date | None = None, override: str | None = None) -> dict:
    """Issue equipment from a holder's stock to a case (``stock issue``): that line counts as fitted.

    Returns the line (as ``measures list`` shows it), the holder, what they
    have left, and whether the case moved to fitted.
    """
    entry = _item(db, item)
    on = dates.not_future(on or clock.today(), "record an issue once it is made")
    if quantity is not None and quantity < 1:
        raise BadInput(f"{quantity} is not a quantity to issue: give a whole number above zero", "--quantity")
    if quantity is not None and quantity > MAX_QUANTITY:
        raise BadInput(f"{quantity} is more than one issue can be (at most {MAX_QUANTITY})", "--quantity")
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        if case["status"] not in ISSUING:
            raise NotAllowed(f"{ref}'s status is {case['status']}: equipment is issued while a case is "
                             f"open and not yet fitted ({', '.join(ISSUING)})")
        if on < dt.date.fromisoformat(case["received_on"]):
            raise BadInput(f"{dates.format_date(on)} is before the referral was received", "--date")
        eligibility.enforce(db, case, "issue", by=by, override=override)
        line = db.conn.execute(
            "SELECT * FROM measure_lines WHERE case_id = ? AND code = ? "
            "AND status IN ('recommended', 'approved', 'ordered') ORDER BY line LIMIT 1", [case["id"], item])
        names = [d[0] for d in line.description]
        values = line.fetchone()
        line = dict(zip(names, values, strict=True)) if values else None
        if line and quantity is not None and quantity != line["quantity"]:
            raise BadInput(f"{ref} line {line['line']} is for {line['quantity']} {item}: issue that many "
                           "(leave --quantity out)", "--quantity")
        if line:
            _require_unpaid(db, ref, line)
        count = line["quantity"] if line else (quantity or 1)
        chosen = _choose_holder(db, item, count, holder)
        have = held(db, item, chosen)
        if have < count:
            raise NotAllowed(f"{chosen} holds {have} {item}, not {count}: nothing was issued. Add stock with "
                             f"`thcli stock add {item} QTY --holder {chosen}`, or issue from another holder "
                             "(`thcli stock list`)")
        costs = cost_of_issue(db, item, chosen, count)
        if line is None:
            number = db.conn.execute("SELECT coalesce(max(line), 0) + 1 FROM measure_lines WHERE case_id = ?",
                                     [case["id"]]).fetchone()[0]
            line_id = db["measure_lines"].insert({
                "case_id": case["id"], "line": number, "code": item, "quantity": count,
                "unit_cost_pence": entry["unit_cost_pence"], "estimated_cost_pence": entry["unit_cost_pence"] * count,
                "kind": "equipment", "removable": entry["removable"], "status": "recommended",
            }).last_pk
        else:
            number, line_id = line["line"], line["id"]
            if line["status"] in ("approved", "ordered"):
                budget.release_line(db, line, by=by, on=on, memo=f"line {number} issued from stock ({chosen})")
        # Issued from stock, the line charges no fund (an approved one had its commitment given back).
        db["measure_lines"].update(line_id, {"status": "fitted", "fitted_on": on.isoformat(), "stock_holder": chosen,
                                             "fund_id": None,
                                             **({"actual_cost_pence": sum(costs.values())} if costs else {})})
        db["stock_movements"].insert({"at": _at(on), "item": item, "holder": chosen, "quantity": -count,
                                      "case_id": case["id"], "line_id": line_id, "by": by,
                                      "cost_pence": sum(costs.values()) if costs else None})
        budget.charge_stock(db, case["id"], line_id, costs, on=on, by=by,
                            memo=f"{count} {item} from {chosen}'s stock")
        event(db, case["id"], "measures", f"line {number}: {count} {item} issued from stock ({chosen})",
                        by=by)
        db["cases"].update(case["id"], {"updated_at": clock.now_iso()})
        audit.record(db, by=by, action="stock.issue", ref=ref, detail=f"{item} -{count} ({chosen})")
        moved = measures.settle_case(db, case["id"], by=by)
        targets.refresh_due(db, case["id"])
        left = held(db, item, chosen)
        row = next(r for r in measures.case_lines(db, case["id"]) if r["line"] == number)
    return {"ref": ref, "line": row, "holder": chosen, "left": left, "moved_to_fitted": moved,
            "reorder": left <= settings.get(db, "reorder_level"), "cost_pence": sum(costs.values())}


def collect(db: Database, ref: str, numbers: list[int], *, holder: str, on: dt.date, by: str) -> dict:
    """Record lent equipment taken back from a home and put back in ``holder``'s stock (``measures remove
    --to-stock HOLDER``), in one transaction: the lines are removed as ``measures remove`` removes them, and
    each item goes back at no cost (what it cost stays with the household that had it, so it is not charged
    twice). Returns the lines and what the holder now has of each item."""
    _holder(db, holder, "--to-stock")
    with write(db):
        case = case_row(db, ref)
        lines = measures.remove(db, ref, numbers, on=on, by=by)
        for line in lines:
            if line["kind"] != "equipment":  # removable works (never in stock): refuse rather than guess
                raise NotAllowed(f"{case['ref']} line {line['line']} ({line['code']}) is not equipment, so it "
                                 "cannot go back into stock: record it without --to-stock")
            line_id = db.conn.execute("SELECT id FROM measure_lines WHERE case_id = ? AND line = ?",
                                      [case["id"], line["line"]]).fetchone()[0]
            db["stock_movements"].insert({"at": _at(on), "item": line["code"], "holder": holder,
                                          "quantity": line["quantity"], "case_id": case["id"], "line_id": line_id,
                                          "by": by, "unit_cost_pence": None, "fund_id": None})
        items = sorted({line["code"] for line in lines})
        event(db, case["id"], "measures", f"returned to {holder}'s stock: "
              + ", ".join(f"{line['quantity']} {line['code']}" for line in lines), by=by)
        audit.record(db, by=by, action="stock.return", ref=case["ref"],
                     detail=", ".join(f"{line['code']} +{line['quantity']} ({holder})" for line in lines))
        return {"ref": case["ref"], "lines": lines, "holder": holder,
                "held": {item: held(db, item, holder) for item in items}}
