"""The money rules (DESIGN.md §5), and the money interface of measures (approve, decline, fitted).

- approving a measure (a **commitment** at its estimate), paying more than was
  committed, or correcting money away must not take a fund below zero, unless
  the coordinator gives an ``--allow-overspend`` reason (recorded):
  :func:`check_overspend`;
- a fund's year must cover the approval date; a district's fund pays only for
  that district's cases;
- the **household cap** (setting ``household_cap``): the scheme's spend on one
  case (committed and paid, and equipment issued to it from stock, less the
  contributions of others) above the cap
  needs an ``--over-cap-reason`` (recorded on the line, the ledger, the case
  timeline and the audit log);
- the **contribution rule** (setting ``contribution_cap``, East Lindsey's "up
  to £200 towards works"): the scheme's share of a household's *works* (less
  the contributions of the survivor, landlord or others) above it needs the
  same reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from thcli import audit, dates, parse, settings
from thcli.budget.funds import fund_by_id, fund_label, remaining, year_span
from thcli.budget.ledger import FIGURES, PLEDGES, append, effective
from thcli.cases import event, is_rented
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed, WouldOverspend
from thcli.parse import format_money


def line_figures(db: Database, line_id: int) -> dict[int, dict]:
    """Per fund: the line's open commitment and what was paid on it (net of refunds)."""
    rows = db.query(
        f"""WITH effective AS ({effective("l.line_id = ?")})
            SELECT fund_id, {FIGURES} FROM effective GROUP BY fund_id""", [line_id])
    return {r["fund_id"]: r for r in rows}


def _case_share(db: Database, case_id: int, *, works_only: bool) -> int:
    """The scheme's spend on a case (committed and paid, and the cost of equipment issued to it from stock),
    less others' contributions.

    With ``works_only``, only lines of kind ``works`` count (stock is
    equipment, so it never does). Contributions count when received or
    pledged (a pledge not yet received).
    """
    works = ("AND line_id IN (SELECT id FROM measure_lines WHERE case_id = :case AND kind = 'works')"
             if works_only else "")
    spend = db.conn.execute(
        f"""WITH effective AS ({effective("l.case_id = :case")})
            SELECT -coalesce(sum(amount_pence), 0) FROM effective
            WHERE counts_as IN ('commitment', 'release', 'payment', 'refund', 'stock') {works}""",
        {"case": case_id}).fetchone()[0]
    return spend - _case_contributions(db, case_id, with_pledges=True)


def _case_contributions(db: Database, case_id: int, *, with_pledges: bool) -> int:
    received = db.conn.execute(
        f"""WITH effective AS ({effective("l.case_id = ?")})
            SELECT coalesce(sum(amount_pence), 0) FROM effective
            WHERE counts_as = 'contribution' AND pledged = 0""", [case_id]).fetchone()[0]
    if not with_pledges:
        return received
    return received + _case_pledged(db, case_id)


def _case_pledged(db: Database, case_id: int) -> int:
    return db.conn.execute(
        f"""WITH effective AS ({effective("l.case_id = ?")})
            SELECT coalesce(sum(outstanding), 0) FROM ({PLEDGES.format(where='')})""",
        [case_id]).fetchone()[0]


def check_overspend(db: Database, fund: dict, effect: int, doing: str, allow_overspend: str | None) -> None:
    """Refuse an ``effect`` that would take the fund below zero, unless a reason is given."""
    if effect >= 0:
        return
    left = remaining(db, fund["id"])
    after = left + effect
    if after >= 0 or (allow_overspend and allow_overspend.strip()):
        return
    raise WouldOverspend(
        f"{doing} would take {fund_label(fund)} below zero by {format_money(-after)}: it has "
        f"{format_money(left)} left. "
        "Choose another fund, add money to it (`thcli budget fund allocate`), or go ahead with "
        "--allow-overspend REASON (recorded)"
    )


def require_covers(fund: dict, on: dt.date) -> None:
    start, end = year_span(fund["year"])
    if not start <= on <= end:
        raise NotAllowed(
            f"{fund_label(fund)} is for {fund['year']} ({dates.format_date(start)} to "
            f"{dates.format_date(end)}), and {dates.format_date(on)} falls in "
            f"{dates.financial_year_of(on)}: use a {dates.financial_year_of(on)} fund "
            f"(`thcli budget fund list --year {dates.financial_year_of(on)}`)"
        )


def require_district(fund: dict, case: dict) -> None:
    if fund["district"] and fund["district"] != case["district"]:
        raise NotAllowed(
            f"{fund_label(fund)} is for cases in {fund['district']}, and {case['ref']} is in "
            f"{case['district']}: use a county-wide fund or one for {case['district']}"
        )


def _numbers(lines: list[dict]) -> str:
    numbers = [str(line["line"]) for line in lines]
    return f"line{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"


def over_cap(db: Database, case: dict, lines: list[dict], fund: dict) -> str | None:
    """Why approving ``lines`` together would pass the household cap or the contribution rule, with the fix
    (the total a contribution must come to, once, and a command that records it), or None when neither is
    passed."""
    ref = case["ref"]
    amount = sum(int(line["estimated_cost_pence"]) for line in lines)
    works = [line for line in lines if line["kind"] == "works"]
    works_amount = sum(int(line["estimated_cost_pence"]) for line in works)
    passed, short = [], 0
    cap = settings.get(db, "household_cap")
    if cap and amount > 0:
        share = _case_share(db, case["id"], works_only=False)
        if share + amount > cap:
            short = max(short, share + amount - cap)
            passed.append(f"the household cap is {format_money(cap)} (setting household_cap), and approving "
                          f"{_numbers(lines)} ({format_money(amount)}) would bring the scheme's spend on {ref} to "
                          f"{format_money(share + amount)}")
    works_cap = settings.get(db, "contribution_cap")
    if works_cap and works_amount > 0:
        share = _case_share(db, case["id"], works_only=True)
        if share + works_amount > works_cap:
            short = max(short, share + works_amount - works_cap)
            passed.append(f"the scheme pays at most {format_money(works_cap)} towards a household's works (setting "
                          f"contribution_cap), and approving {_numbers(works)} ({format_money(works_amount)} of "
                          f"works) would bring its share of {ref}'s works to {format_money(share + works_amount)}, "
                          "after contributions from others")
    if not passed:
        return None
    who = "landlord" if is_rented(db, case["tenure"]) else "survivor"
    return (f"{ref}: " + "; and ".join(passed) + f". To approve {'them' if len(lines) > 1 else 'it'} within the "
            f"{'caps' if len(passed) > 1 else 'cap'}, {format_money(short)} must come from others: record the "
            f"{who}'s contribution first (`thcli budget contribution {ref} --from {who} --amount "
            f"{parse.pounds(short)} --pledged --fund {fund['code']}`), then approve again. Or approve with "
            "--over-cap-reason REASON (recorded), or leave lines out")


def line_fund(db: Database, line: dict, case: dict) -> dict:
    """The fund a line is charged to (set when it was approved)."""
    fund_id = line.get("fund_id")
    if not fund_id:
        row = db.conn.execute("SELECT fund_id FROM ledger WHERE line_id = ? AND kind = 'commitment' "
                              "ORDER BY id DESC LIMIT 1", [line["id"]]).fetchone()
        fund_id = row[0] if row else None
    if not fund_id and line.get("stock_holder"):
        raise NotAllowed(f"{case['ref']} line {line['line']} was issued from {line['stock_holder']}'s stock, which "
                         "no fund bought: nothing is paid on a stock line. Stock is paid for when it is bought "
                         "(`thcli stock add ITEM QTY --holder H --cost MONEY --fund FUND --invoice NO`)")
    if not fund_id:
        raise NotAllowed(f"{case['ref']} line {line['line']} has not been approved against a fund: approve it "
                         f"first with `thcli measures approve {case['ref']} {line['line']} --fund FUND`")
    return fund_by_id(db, fund_id)


def note_override(db: Database, case: dict, *, by: str, action: str, text: str) -> None:
    event(db, case["id"], "money", text, by=by)
    audit.record(db, by=by, action=action, ref=case["ref"])


def commit_line(db: Database, case: dict, line: dict, fund: dict, *, by: str, on: dt.date,
                allow_overspend: str | None = None, over_cap_reason: str | None = None) -> None:
    """Commit a measure line's estimated cost to a fund (``measures approve``).

    Runs inside the caller's write transaction (or its own). Enforces the
    fund's year and district, the household cap and the contribution rule
    (``over_cap_reason``), and the overspend rule (``allow_overspend``). Writes
    the commitment and sets the line's ``fund_id`` (and ``over_cap_reason`` when
    a cap was passed); the line's status is the caller's.
    """
    amount = int(line["estimated_cost_pence"])
    with write(db):
        require_covers(fund, on)
        require_district(fund, case)
        for fund_id, figures in line_figures(db, line["id"]).items():
            if figures["committed_pence"] > 0:
                other = fund_by_id(db, fund_id)
                raise NotAllowed(f"{case['ref']} line {line['line']} is already approved against "
                                 f"{fund_label(other)} ({format_money(figures['committed_pence'])} committed)")
        caps = over_cap(db, case, [line], fund)
        reason = (over_cap_reason or "").strip()
        if caps and not reason:
            raise NotAllowed(caps)
        doing = f"approving {format_money(amount)} for {case['ref']} line {line['line']}"
        check_overspend(db, fund, -amount, doing, allow_overspend)
        overspending = amount > 0 and remaining(db, fund["id"]) - amount < 0
        memo = f"approved: {line['code']} x{line['quantity']}"
        if caps:
            memo += f"; over cap: {reason}"
        if overspending:
            memo += f"; overspend allowed: {(allow_overspend or '').strip()}"
        append(db, kind="commitment", amount=-amount, fund_id=fund["id"], on=on, by=by, case_id=case["id"],
                line_id=line["id"], memo=memo)
        changes: dict[str, Any] = {"fund_id": fund["id"]}
        if caps:
            changes["over_cap_reason"] = reason
        db["measure_lines"].update(line["id"], changes)
        if caps:
            note_override(db, case, by=by, action="budget.over_cap",
                           text=f"line {line['line']} approved over the cap: {reason}")
        if overspending:
            note_override(db, case, by=by, action="budget.overspend",
                           text=f"line {line['line']} approved although {fund['code']} goes below zero: "
                                f"{(allow_overspend or '').strip()}")


def recharge_line(db: Database, case: dict, line: dict, fund: dict, *, by: str, on: dt.date,
                  allow_overspend: str | None = None) -> tuple[dict, int]:
    """Move a line's open commitment to another fund (``measures recharge``); returns the old fund and the amount.

    One release in the old fund and one commitment in the new, inside the
    caller's write (or its own): the new fund must cover ``on`` and the case's
    district, and the overspend rule applies there as to any approval. What
    was already paid stays paid from the old fund.
    """
    ref, number = case["ref"], line["line"]
    with write(db):
        old = line_fund(db, line, case)
        if old["id"] == fund["id"]:
            raise NotAllowed(f"{ref} line {number} is already charged to {fund_label(fund)}")
        require_covers(fund, on)
        require_district(fund, case)
        figures = line_figures(db, line["id"])
        amount = max(figures.get(old["id"], {"committed_pence": 0})["committed_pence"], 0)
        if not amount:
            paid = sum(f["paid_pence"] for f in figures.values())
            raise NotAllowed(
                f"{ref} line {number} has nothing committed to move: {format_money(paid)} was paid on it from "
                f"{old['code']}. To charge that to {fund['code']} instead, correct the payment (`thcli budget ledger "
                f"--ref {ref} --kind payment`, then `thcli budget correct ENTRY --reason TEXT`), recharge the line "
                "and pay it again")
        doing = f"moving {format_money(amount)} for {ref} line {number} to {fund['code']}"
        check_overspend(db, fund, -amount, doing, allow_overspend)
        overspending = remaining(db, fund["id"]) - amount < 0
        append(db, kind="release", amount=amount, fund_id=old["id"], on=on, by=by, case_id=case["id"],
               line_id=line["id"], memo=f"recharged to {fund['code']}")
        memo = f"recharged from {old['code']}"
        if overspending:
            memo += f"; overspend allowed: {(allow_overspend or '').strip()}"
        append(db, kind="commitment", amount=-amount, fund_id=fund["id"], on=on, by=by, case_id=case["id"],
               line_id=line["id"], memo=memo)
        db["measure_lines"].update(line["id"], {"fund_id": fund["id"]})
        if overspending:
            note_override(db, case, by=by, action="budget.overspend",
                          text=f"line {number} moved to {fund['code']} although it goes below zero: "
                               f"{(allow_overspend or '').strip()}")
        return old, amount


def release_line(db: Database, line: dict, *, by: str, on: dt.date, memo: str) -> None:
    """Give back a line's whole open commitment (``measures decline`` or remove)."""
    with write(db):
        for fund_id, figures in line_figures(db, line["id"]).items():
            if figures["committed_pence"] > 0:
                append(db, kind="release", amount=figures["committed_pence"], fund_id=fund_id, on=on, by=by,
                        case_id=line["case_id"], line_id=line["id"], memo=memo)


def settle_fitted(db: Database, case: dict, line: dict, actual_cost_pence: int, *, by: str, on: dt.date,
                  allow_overspend: str | None = None) -> None:
    """Bring a fitted line's charge to its actual cost (``measures fitted --cost``).

    Fitted for less: the difference is released. Fitted for more: the
    difference is drawn from the line's fund, and the overspend rule applies.
    """
    if actual_cost_pence < 0:
        raise BadInput("the cost cannot be negative", "--cost")
    with write(db):
        fund = line_fund(db, line, case)
        figures = line_figures(db, line["id"]).get(fund["id"], {"committed_pence": 0, "paid_pence": 0})
        open_ = figures["committed_pence"]
        charged = open_ + figures["paid_pence"]
        difference = actual_cost_pence - charged
        if difference < 0 and open_ > 0:
            append(db, kind="release", amount=min(-difference, open_), fund_id=fund["id"], on=on, by=by,
                    case_id=case["id"], line_id=line["id"],
                    memo=f"fitted for {format_money(actual_cost_pence)}, under the estimate")
        elif difference > 0:
            doing = f"fitting {case['ref']} line {line['line']} for {format_money(difference)} more than committed"
            check_overspend(db, fund, -difference, doing, allow_overspend)
            memo = f"fitted for {format_money(actual_cost_pence)}, over the estimate"
            overspending = remaining(db, fund["id"]) - difference < 0
            if overspending:
                memo += f"; overspend allowed: {(allow_overspend or '').strip()}"
            append(db, kind="commitment", amount=-difference, fund_id=fund["id"], on=on, by=by,
                    case_id=case["id"], line_id=line["id"], memo=memo)
            if overspending:
                note_override(db, case, by=by, action="budget.overspend",
                               text=f"line {line['line']} fitted for more although {fund['code']} goes below "
                                    f"zero: {(allow_overspend or '').strip()}")
