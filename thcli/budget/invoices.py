"""Paying a contractor's invoice (``budget pay``): one invoice, one or more measure lines, one transaction.

A contractor invoices a whole job, so one invoice pays several lines of a
case: ``--line 1:85 --line 2:40``, or ``--fitted`` (every fitted line not yet
paid in full, for what is left of its actual cost). Each line gets its own
payment entry, sharing the invoice number, and each payment releases that
line's open commitment up to its amount (the rest of a part-paid line stays open),
so money is never counted twice. The rules, each with a message that says how
to put it right:

- an invoice comes from one contractor, and the same invoice number is never
  entered twice for one contractor, nor twice on one case whoever the
  contractor (a line not yet ordered has none) (a wrong entry is corrected,
  then the invoice entered again);
- a payment that takes a line past its approved cost (its actual cost once
  fitted), or pays a line already paid in full, needs ``--allow-over REASON``
  (recorded on the ledger, the case and the audit log);
- in-house work (the council's own repairs team) is paid with ``--internal``
  and no invoice number, still as a payment from the fund; an outside
  contractor's work needs its invoice number;
- a declined, or never approved, line takes no payment; the overspend rule
  applies to each fund (rules.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from thcli import audit, codes, parse
from thcli.budget.funds import Recorded, find_fund, not_future, remaining
from thcli.budget.ledger import PAYABLE, append, entry_row, same_invoice
from thcli.budget.rules import check_overspend, line_figures, line_fund, note_override
from thcli.cases import case_row, event
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.parse import format_money

#: The ledger's invoice column for a payment made without one (in-house work) is empty; this is what is said.
IN_HOUSE = "in-house work"


@dataclass
class LinePaid:
    """One line of an invoice paid: the amount, the fund, and the commitment released."""

    line: int
    label: str
    amount_pence: int
    fund: str
    released_pence: int
    entries: list[dict]


@dataclass
class Paid:
    """What ``budget pay`` wrote: one payment per line, sharing the invoice, and each fund's balance after."""

    ref: str
    invoice: str | None
    lines: list[LinePaid]
    remaining: dict[str, int]
    over: list[str] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def entries(self) -> list[dict]:
        return [entry for line in self.lines for entry in line.entries]


def _lines(db: Database, case: dict) -> dict[int, dict]:
    cursor = db.conn.execute(
        """SELECT l.*, coalesce(c.label, l.code) AS label FROM measure_lines l
           LEFT JOIN codes c ON c.list = 'measure' AND c.code = l.code
           WHERE l.case_id = ? ORDER BY l.line""", [case["id"]])
    names = [d[0] for d in cursor.description]
    return {row[names.index("line")]: dict(zip(names, row, strict=True)) for row in cursor}


def approved_cost(line: dict) -> int:
    """What a line may be paid in all: its actual cost once fitted, its approved estimate before."""
    if line["status"] in ("fitted", "removed") and line["actual_cost_pence"] is not None:
        return int(line["actual_cost_pence"])
    return int(line["estimated_cost_pence"])


def paid_on(db: Database, line_id: int) -> int:
    """What has been paid on a line so far, net of refunds and corrections, in every fund."""
    return sum(f["paid_pence"] for f in line_figures(db, line_id).values())


def _chosen(db: Database, case: dict, payments: Sequence[tuple[int, int]] | None) -> list[tuple[dict, int]]:
    """The lines to pay and how much: those given, or (``payments`` None) every fitted line not paid in full."""
    ref = case["ref"]
    lines = _lines(db, case)
    if payments is None:
        chosen = []
        for line in lines.values():
            if line["status"] not in ("fitted", "removed") or line["stock_holder"]:
                continue
            left = approved_cost(line) - paid_on(db, line["id"])
            if left > 0:
                chosen.append((line, left))
        if not chosen:
            fitted = [str(n) for n, line in lines.items() if line["status"] in ("fitted", "removed")]
            which = f"lines {', '.join(fitted)} are" if len(fitted) > 1 else f"line {''.join(fitted)} is"
            raise NotAllowed(f"{ref} has no fitted line left to pay: "
                             + (f"{which} paid in full (`thcli budget ledger --ref {ref}`)"
                                if fitted else f"none is fitted yet. Pay lines by number with `thcli budget pay "
                                               f"{ref} --line N:MONEY --invoice NO`"))
        return chosen
    if not payments:
        raise BadInput("say what to pay: LINE --amount MONEY, --line N:MONEY (repeated), or --fitted")
    seen: set[int] = set()
    chosen = []
    for number, amount in payments:
        if number in seen:
            raise BadInput(f"line {number} is given twice: give each line once, with the whole amount for it",
                           "--line")
        seen.add(number)
        if amount <= 0:
            raise BadInput("a payment must be more than £0.00", "--amount")
        found = lines.get(number)
        if found is None:
            raise NotFound(f"{ref} has no measure line {number}: "
                           + (f"its lines are {', '.join(str(n) for n in lines)} (`thcli measures list {ref}`)"
                              if lines else "it has no measures yet"))
        line = found
        label = f"{ref} line {number}"
        if line["status"] == "declined":
            raise NotAllowed(f"{label} was declined: no payment can be made on a declined line")
        if line["status"] not in PAYABLE:
            raise NotAllowed(f"{label} is {line['status']}, not approved: approve it first with "
                             f"`thcli measures approve {ref} {number} --fund FUND`")
        chosen.append((line, amount))
    return chosen


def _contractor(db: Database, case: dict, chosen: list[tuple[dict, int]]) -> str | None:
    """The one contractor whose lines these are (None: not ordered from anyone, or issued from stock)."""
    by_contractor: dict[str, list[int]] = {}
    for line, _amount in chosen:
        if line["contractor"]:
            by_contractor.setdefault(line["contractor"], []).append(line["line"])
    if len(by_contractor) > 1:
        parts = [f"line{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))} from {code}"
                 for code, numbers in by_contractor.items()]
        raise NotAllowed(f"{case['ref']}: an invoice comes from one contractor, and these lines were ordered "
                         f"from {len(by_contractor)} ({'; '.join(parts)}): pay each contractor's invoice on its "
                         f"own, naming its lines with --line N:MONEY")
    return next(iter(by_contractor), None)


def _in_house(db: Database, contractor: str | None) -> bool:
    row = db.conn.execute("SELECT in_house FROM contractor_details WHERE code = ?", [contractor]).fetchone()
    return bool(row and row[0])


def _require_new_invoice(db: Database, case: dict, invoice: str, contractor: str | None) -> None:
    """The same invoice number is entered once per contractor, and once per case whatever the contractor: a line
    paid before it was ordered has no contractor, and its invoice must not escape the check (a corrected entry no
    longer counts)."""
    earlier = db.conn.execute(
        f"""SELECT p.id, c.ref, m.line FROM ledger p
           JOIN measure_lines m ON m.id = p.line_id JOIN cases c ON c.id = p.case_id
           WHERE p.kind = 'payment' AND {same_invoice(db)} AND (m.contractor IS ? OR p.case_id = ?)
             AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.corrects_id = p.id)
           ORDER BY p.id LIMIT 1""", [invoice, contractor, case["id"]]).fetchone()
    if earlier is None:
        return
    entry, ref, number = earlier
    who = f" from {codes.label(db, 'contractor', contractor)}" if contractor else ""
    raise NotAllowed(
        f"invoice {invoice}{who} was already entered, on {ref} line {number} (ledger entry {entry}): an invoice "
        f"is entered once, with all its lines (--line N:MONEY, repeated). If that entry was wrong, correct it with "
        f"`thcli budget correct {entry} --reason TEXT` and enter the invoice again")


def _over(db: Database, chosen: list[tuple[dict, int]]) -> dict[int, str]:
    """What each payment would do past its line's approved cost, in words, by line (empty: nothing)."""
    problems = {}
    for line, amount in chosen:
        cost, paid = approved_cost(line), paid_on(db, line["id"])
        label = f"line {line['line']}"
        approved = "fitted for" if line["status"] in ("fitted", "removed") and line["actual_cost_pence"] is not None \
            else "approved at"
        if paid >= cost and paid > 0:
            problems[line["line"]] = (f"{label} is already paid in full ({format_money(paid)}; {approved} "
                                      f"{format_money(cost)})")
        elif paid + amount > cost:
            problems[line["line"]] = (
                f"paying {format_money(amount)} on {label} would take it {format_money(paid + amount - cost)} past "
                f"its cost ({approved} {format_money(cost)}"
                + (f", {format_money(paid)} paid already)" if paid else ")"))
    return problems


def what_to_pay(line: int | None, amount_pence: int | None, lines: Sequence[tuple[int, int]], fitted: bool
                ) -> list[tuple[int, int]] | None:
    """The payments ``budget pay`` was given, in one of its three forms (BadInput, exit 2, otherwise):
    LINE with ``--amount``, ``--line N:MONEY`` repeated, or ``--fitted`` (None: every fitted line)."""
    forms = [name for name, given in (("LINE --amount MONEY", line is not None or amount_pence is not None),
                                      ("--line N:MONEY", bool(lines)), ("--fitted", fitted)) if given]
    if len(forms) != 1:
        raise BadInput("say what the invoice pays in one way: LINE --amount MONEY (one line), --line N:MONEY "
                       "repeated (several lines), or --fitted (every fitted line not yet paid)"
                       + (f"; not {' and '.join(forms)} together" if forms else ""))
    if fitted:
        return None
    if lines:
        return list(lines)
    if line is None:
        raise BadInput("--amount is the amount paid on one LINE: give the line number before it, or use "
                       "--line N:MONEY", "LINE")
    if amount_pence is None:
        raise BadInput(f"how much was paid on line {line}? Give it with --amount MONEY", "--amount")
    return [(line, amount_pence)]


def pay_invoice(db: Database, ref: str, payments: Sequence[tuple[int, int]] | None, *, by: str,
                invoice: str | None = None, internal: bool = False, on: dt.date | None = None,
                allow_overspend: str | None = None, allow_over: str | None = None, final: bool = False) -> Paid:
    """Pay one invoice on one or more lines of a case, in one transaction (``budget pay``).

    ``payments`` is (line number, pence) for each line; None pays every fitted
    line not yet paid in full, for what is left of its actual cost
    (``--fitted``). ``internal`` is in-house work, paid without an invoice.
    A payment releases as much of a line's commitment as it pays; ``final``
    (an invoice that came in below the cost, and nothing more will be paid)
    releases what is left too, and is only for fitted (or removed) lines.
    """
    if invoice is not None and invoice.strip():
        try:
            invoice = parse.invoice(invoice)
        except BadInput as error:
            raise error.for_option("--invoice") from None
    else:
        invoice = None
    if internal and invoice:
        raise BadInput("in-house work has no invoice number: give --invoice NO or --internal, not both",
                       "--internal")
    if not internal and not invoice:
        raise BadInput("a payment needs the invoice number (or --internal for work by the scheme's in-house team)",
                       "--invoice")
    over_reason = (allow_over or "").strip()
    on = not_future(on)
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        chosen = _chosen(db, case, payments)
        contractor = _contractor(db, case, chosen)
        if internal and contractor and not _in_house(db, contractor):
            raise NotAllowed(f"{ref}: the lines were ordered from {codes.label(db, 'contractor', contractor)} "
                             f"({contractor}), an outside contractor: give its invoice number with --invoice NO "
                             "(--internal is for work by the scheme's in-house team)")
        if invoice:
            _require_new_invoice(db, case, invoice, contractor)
        if final:
            unfitted = [str(line["line"]) for line, _amount in chosen if line["status"] not in ("fitted", "removed")]
            if unfitted:
                raise NotAllowed(f"{ref}: line{'s' if len(unfitted) > 1 else ''} {', '.join(unfitted)} "
                                 f"{'are' if len(unfitted) > 1 else 'is'} not fitted yet, so no payment on "
                                 f"{'them' if len(unfitted) > 1 else 'it'} can be the last: leave --final out")
        over = _over(db, chosen)
        if over and not over_reason:
            raise NotAllowed(f"{ref}: " + "; ".join(over.values()) + ". Check the invoice; if it is right, pay it "
                             "with --allow-over REASON (recorded)")
        said = invoice or IN_HOUSE
        paid = Paid(ref, invoice, [], {}, list(over.values()))
        for line, amount in chosen:
            paid.lines.append(_pay_line(db, case, line, amount, invoice=invoice, on=on, by=by,
                                        allow_overspend=allow_overspend, final=final,
                                        over_reason=over_reason if line["line"] in over else None))
        numbers = ", ".join(str(p.line) for p in paid.lines)
        funds = ", ".join(dict.fromkeys(p.fund for p in paid.lines))
        event(db, case["id"], "money", f"{format_money(paid.total_pence)} paid on line"
                        f"{'s' if len(paid.lines) > 1 else ''} {numbers} ({'invoice ' + said if invoice else said}, "
                        f"{funds})", by=by)
        entry_ids = [str(e["id"]) for e in paid.entries if e["kind"] == "payment"]
        audit.record(db, by=by, action="budget.pay", ref=ref,
                     detail=f"entr{'y' if len(entry_ids) == 1 else 'ies'} {', '.join(entry_ids)}")
        if paid.over:
            note_override(db, case, by=by, action="budget.over",
                          text=f"{'invoice ' + said if invoice else said} paid past the approved cost: "
                               f"{'; '.join(paid.over)}: {over_reason}")
        for line_paid in paid.lines:
            fund_id = db.conn.execute("SELECT id FROM funds WHERE code = ?", [line_paid.fund]).fetchone()[0]
            paid.remaining[line_paid.fund] = remaining(db, fund_id)
        return paid


def _pay_line(db: Database, case: dict, line: dict, amount: int, *, invoice: str | None, on: dt.date, by: str,
              allow_overspend: str | None, over_reason: str | None, final: bool = False) -> LinePaid:
    """The payment on one line, and the commitment it releases (inside pay_invoice's write)."""
    label = f"{case['ref']} line {line['line']}"
    fund = line_fund(db, line, case)
    open_ = max(line_figures(db, line["id"]).get(fund["id"], {"committed_pence": 0})["committed_pence"], 0)
    # Only what is paid is released: a part payment on a fitted line leaves the rest committed, so the fund
    # still shows it and closing the case lists it; the last payment (final) releases the rest.
    release = open_ if final else min(open_, amount)
    effect = release - amount
    check_overspend(db, fund, effect, f"paying {format_money(amount)} on {label}", allow_overspend)
    overspending = effect < 0 and remaining(db, fund["id"]) + effect < 0
    notes = []
    if invoice is None:
        notes.append(IN_HOUSE)
    if over_reason:
        notes.append(f"over the approved cost: {over_reason}")
    if overspending:
        notes.append(f"overspend allowed: {(allow_overspend or '').strip()}")
    entries = [append(db, kind="payment", amount=-amount, fund_id=fund["id"], on=on, by=by, case_id=case["id"],
                      line_id=line["id"], invoice=invoice, memo="; ".join(notes) or None)]
    if release:
        entries.append(append(db, kind="release", amount=release, fund_id=fund["id"], on=on, by=by,
                              case_id=case["id"], line_id=line["id"], invoice=invoice,
                              memo=f"released by payment {entries[0]}"))
    if overspending:
        note_override(db, case, by=by, action="budget.overspend",
                      text=f"{'invoice ' + invoice if invoice else IN_HOUSE} paid on line {line['line']} although "
                           f"{fund['code']} goes below zero: {(allow_overspend or '').strip()}")
    return LinePaid(line["line"], line["label"], amount, fund["code"], release, [entry_row(db, e) for e in entries])


def pay(db: Database, ref: str, line_number: int, *, amount_pence: int, by: str, invoice: str | None = None,
        internal: bool = False, on: dt.date | None = None, allow_overspend: str | None = None,
        allow_over: str | None = None, final: bool = False) -> Recorded:
    """Pay one line of a case (``budget pay REF LINE --amount MONEY``): pay_invoice with one line."""
    paid = pay_invoice(db, ref, [(line_number, amount_pence)], by=by, invoice=invoice, internal=internal, on=on,
                       allow_overspend=allow_overspend, allow_over=allow_over, final=final)
    fund = find_fund(db, paid.lines[0].fund)
    return Recorded(paid.entries, fund, paid.remaining[fund["code"]])
