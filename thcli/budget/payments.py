"""Contributions, refunds and corrections: money that moves on a case or a fund.

Paying an invoice is invoices.py's. A refund is never more than was paid; a
correction reverses an entry, which is never changed. The overspend rule
applies to each (rules.py).
"""

from __future__ import annotations

import datetime as dt

from thcli import audit, dates, parse
from thcli.budget.funds import Recorded, find_fund, fund_by_id, not_future, recorded, remaining
from thcli.budget.ledger import CONTRIBUTORS, CORRECTABLE, append, same_invoice
from thcli.budget.rules import check_overspend, line_figures, require_covers, require_district
from thcli.cases import case_row, event
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.parse import format_money


def _case_line(db: Database, ref: str, number: int) -> tuple[dict, dict, str]:
    """The case, its measure line ``number``, and how a message names the line (NotFound without it)."""
    case = case_row(db, ref)
    line = one(db, "SELECT * FROM measure_lines WHERE case_id = ? AND line = ?", [case["id"], number])
    if line is None:
        numbers = [str(r[0]) for r in db.conn.execute(
            "SELECT line FROM measure_lines WHERE case_id = ? ORDER BY line", [case["id"]])]
        raise NotFound(f"{case['ref']} has no measure line {number}: "
                       + (f"its lines are {', '.join(numbers)} (`thcli measures list {case['ref']}`)"
                          if numbers else "it has no measures yet"))
    return case, line, f"{case['ref']} line {line['line']}"


def contribution_fund(db: Database, case: dict, on: dt.date) -> dict:
    """The fund a contribution goes to when ``--fund`` is not given.

    The fund the case's approved measures are charged to, else the year's only
    fund open to the case's district; otherwise ``--fund`` is needed (exit 2).
    """
    charged = [r[0] for r in db.conn.execute(
        "SELECT DISTINCT fund_id FROM measure_lines WHERE case_id = ? AND fund_id IS NOT NULL "
        "AND status IN ('approved', 'ordered', 'fitted', 'removed') ORDER BY fund_id", [case["id"]])]
    if len(charged) == 1:
        return fund_by_id(db, charged[0])
    year = dates.financial_year_of(on)
    open_to_case = list(db.query(
        "SELECT * FROM funds WHERE year = ? AND (district IS NULL OR district = ?) ORDER BY code",
        [year, case["district"]]))
    if not charged and len(open_to_case) == 1:
        return open_to_case[0]
    if charged:
        why = (f"{case['ref']}'s measures are charged to "
               + ", ".join(fund_by_id(db, i)["code"] for i in charged))
    elif open_to_case:
        why = (f"{case['ref']} has no approved measures and {year} has {len(open_to_case)} funds for "
               f"{case['district']} ({', '.join(f['code'] for f in open_to_case)})")
    else:
        why = f"{year} has no fund for {case['district']} (add one with `thcli budget fund add`)"
    raise BadInput(f"needed, as {why}", "--fund")


def add_contribution(db: Database, ref: str, *, contributor: str, amount_pence: int, by: str,
                     pledged: bool = False, fund_text: str | None = None, on: dt.date | None = None,
                     memo: str | None = None) -> Recorded:
    """Record a contribution from the survivor, a landlord, a housing association or a charity.

    A pledge (``pledged``) is kept apart from the balance until money is
    received; money received from the same contributor for the case meets
    its pledges first.
    """

    if contributor not in CONTRIBUTORS:
        raise BadInput(f"{contributor!r} is not a contributor: use one of {', '.join(CONTRIBUTORS)}",
                       "--from")
    if amount_pence <= 0:
        raise BadInput("a contribution must be more than £0.00", "--amount")
    on = not_future(on)
    with write(db):
        case = case_row(db, ref)
        if fund_text:
            fund = find_fund(db, fund_text)
            require_district(fund, case)
        else:
            fund = contribution_fund(db, case, on)
        what = "pledged" if pledged else "received"
        entry = append(db, kind="contribution", amount=amount_pence, fund_id=fund["id"], on=on, by=by,
                        case_id=case["id"], contributor=contributor, pledged=pledged,
                        memo=memo or f"{what} {'by' if pledged else 'from'} the {contributor.replace('_', ' ')}")
        event(db, case["id"], "money", f"{format_money(amount_pence)} contribution {what} from the "
                        f"{contributor.replace('_', ' ')} ({fund['code']})", by=by)
        audit.record(db, by=by, action="budget.contribution", ref=case["ref"], detail=f"entry {entry}")
        return recorded(db, [entry], fund)


def pay_for_stock(db: Database, fund: dict, amount_pence: int, *, invoice: str, memo: str, by: str, on: dt.date,
                  allow_overspend: str | None = None) -> int:
    """The payment for equipment bought into stock (``stock add --cost``), from a fund, with no case; returns the
    entry. Inside the caller's write. The fund must cover the day; the overspend rule applies; an invoice for
    stock is entered once."""
    if not (invoice or "").strip():
        raise BadInput("equipment bought for stock needs the supplier's invoice number", "--invoice")
    try:
        invoice = parse.invoice(invoice)
    except BadInput as error:
        raise error.for_option("--invoice") from None
    require_covers(fund, on)
    earlier = db.conn.execute(
        f"SELECT p.id FROM ledger p WHERE p.kind = 'payment' AND p.case_id IS NULL AND {same_invoice(db)} "
        "AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.corrects_id = p.id) ORDER BY p.id LIMIT 1",
        [invoice]).fetchone()
    if earlier:
        raise NotAllowed(f"invoice {invoice} for stock was already entered (ledger entry {earlier[0]}): an invoice "
                         f"is entered once. If that entry was wrong, correct it with `thcli budget correct "
                         f"{earlier[0]} --reason TEXT` and enter the invoice again")
    check_overspend(db, fund, -amount_pence, f"paying {format_money(amount_pence)} for stock", allow_overspend)
    if remaining(db, fund["id"]) - amount_pence < 0:
        memo += f"; overspend allowed: {(allow_overspend or '').strip()}"
    return append(db, kind="payment", amount=-amount_pence, fund_id=fund["id"], on=on, by=by, invoice=invoice,
                  memo=memo)


def charge_stock(db: Database, case_id: int, line_id: int | None, costs: dict[int, int], *, memo: str, by: str,
                 on: dt.date) -> list[int]:
    """Move the cost of equipment issued from stock to the case (``stock issue``), per fund that bought it:
    a ``stock`` entry on the case (-) and its pair on the fund's stock (+), which add up to nothing, so the
    fund's figures stay as they are and the case's spend includes the equipment. Inside the caller's write."""
    written = []
    for fund_id, pence in sorted(costs.items()):
        if pence <= 0:
            continue
        entry = append(db, kind="stock", amount=-pence, fund_id=fund_id, on=on, by=by, case_id=case_id,
                       line_id=line_id, memo=memo)
        written += [entry, append(db, kind="stock", amount=pence, fund_id=fund_id, on=on, by=by,
                                  memo=f"issued from stock (entry {entry})")]
    return written


def refund(db: Database, ref: str, line_number: int, *, amount_pence: int, by: str, on: dt.date | None = None,
           invoice: str | None = None, memo: str | None = None) -> Recorded:
    """Record money paid back on a measure line (a contractor's credit note)."""

    if amount_pence <= 0:
        raise BadInput("a refund must be more than £0.00", "--amount")
    on = not_future(on)
    with write(db):
        case, line, label = _case_line(db, ref, line_number)
        paid = {fid: f["paid_pence"] for fid, f in line_figures(db, line["id"]).items() if f["paid_pence"] > 0}
        total = sum(paid.values())
        if amount_pence > total:
            raise NotAllowed(f"{label} has {format_money(total)} paid on it: a refund cannot be more than that")
        fund_id = max(paid, key=lambda fid: paid[fid]) if len(paid) > 1 else next(iter(paid))
        if paid[fund_id] < amount_pence:
            raise NotAllowed(f"{label} was paid from several funds: refund at most {format_money(paid[fund_id])} "
                             "at once")
        fund = fund_by_id(db, fund_id)
        try:
            invoice = parse.invoice(invoice) if invoice and invoice.strip() else None
        except BadInput as error:
            raise error.for_option("--invoice") from None
        entry = append(db, kind="refund", amount=amount_pence, fund_id=fund_id, on=on, by=by, case_id=case["id"],
                        line_id=line["id"], invoice=invoice,
                        memo=memo)
        event(db, case["id"], "money", f"{format_money(amount_pence)} refunded on line {line['line']} "
                        f"({fund['code']})", by=by)
        audit.record(db, by=by, action="budget.refund", ref=case["ref"], detail=f"entry {entry}")
        return recorded(db, [entry], fund)


def correct(db: Database, entry_id: int, *, reason: str, by: str, on: dt.date | None = None,
            allow_overspend: str | None = None) -> Recorded:
    """Reverse a ledger entry with a correction (the entry itself is never changed).

    Allocations, contributions, payments and refunds can be corrected; a
    payment's correction also restores the commitment its payment released.
    """
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("say why the entry is wrong", "--reason")
    on = not_future(on)
    with write(db):
        entry = one(db, "SELECT * FROM ledger WHERE id = ?", [entry_id])
        if entry is None:
            raise NotFound(f"there is no ledger entry {entry_id}: see `thcli budget ledger`")
        done = db.conn.execute("SELECT id FROM ledger WHERE corrects_id = ?", [entry_id]).fetchone()
        if done:
            raise NotAllowed(f"entry {entry_id} was already corrected by entry {done[0]}")
        if entry["kind"] == "correction":
            raise NotAllowed(f"entry {entry_id} is itself a correction: to put the money back, record the "
                             "original entry again")
        if entry["kind"] not in CORRECTABLE:
            follow = {"commitment": "approving, declining, fitting and recharging measures",
                      "release": "its payment or the measure line",
                      "stock": "issuing equipment from stock"}[entry["kind"]]
            hint = ""
            if entry["kind"] == "release" and entry["invoice"]:
                payment = db.conn.execute(
                    "SELECT id FROM ledger WHERE kind = 'payment' AND id < ? AND line_id = ? AND invoice = ? "
                    "ORDER BY id DESC LIMIT 1", [entry_id, entry["line_id"], entry["invoice"]]).fetchone()
                if payment:
                    hint = f": correct its payment, entry {payment[0]}"
            raise NotAllowed(f"entry {entry_id} is a {entry['kind']}, which follows {follow}{hint}")
        reversals = [entry]
        if entry["kind"] == "payment":
            released = one(db, "SELECT * FROM ledger WHERE id = ? AND kind = 'release' AND line_id IS ? "
                               "AND invoice IS ?", [entry_id + 1, entry["line_id"], entry["invoice"]])
            if released:
                reversals.append(released)
        if entry["kind"] == "payment" and entry["line_id"]:
            paid = line_figures(db, entry["line_id"]).get(entry["fund_id"], {"paid_pence": 0})["paid_pence"]
            if paid + entry["amount_pence"] < 0:
                raise NotAllowed(f"entry {entry_id} cannot be corrected while refunds on its line are more than "
                                 "the payments left: correct the refund first")
        fund = fund_by_id(db, entry["fund_id"])
        effect = -sum(r["amount_pence"] for r in reversals if not r["pledged"])
        check_overspend(db, fund, effect, f"correcting entry {entry_id}", allow_overspend)
        overspending = effect < 0 and remaining(db, fund["id"]) + effect < 0
        extra = f"; overspend allowed: {(allow_overspend or '').strip()}" if overspending else ""
        written = []
        for r in reversals:
            what = f"corrects {r['id']}" + (f" with payment {entry_id}" if r["id"] != entry_id else "")
            written.append(append(db, kind="correction", amount=-r["amount_pence"], fund_id=r["fund_id"], on=on,
                                   by=by, case_id=r["case_id"], line_id=r["line_id"], invoice=r["invoice"],
                                   contributor=r["contributor"], pledged=bool(r["pledged"]), corrects_id=r["id"],
                                   memo=f"{what}: {reason}{extra}"))
        ref = None
        if entry["case_id"]:

            ref = db.conn.execute("SELECT ref FROM cases WHERE id = ?", [entry["case_id"]]).fetchone()[0]
            event(db, entry["case_id"], "money", f"ledger entry {entry_id} ({entry['kind']}, "
                            f"{format_money(entry['amount_pence'])}) corrected: {reason}", by=by)
        audit.record(db, by=by, action="budget.correct", ref=ref, detail=f"entry {entry_id} by entry {written[0]}")
        if overspending and ref:
            audit.record(db, by=by, action="budget.overspend", ref=ref)
        return recorded(db, written, fund)
