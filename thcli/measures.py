"""Measure lines (DESIGN.md §3–4): from the survey's recommendation to the fitted lock.

Each line of a case moves along

    recommended ─▶ approved ─▶ ordered ─▶ fitted ─▶ removed (removable equipment only)
         │             │          │
         └─────────────┴──────────┴──▶ declined (with a reason)

and a recommended or approved equipment line can also be issued from stock
(stock.py), which counts as fitted. The rules, each with a message that says
how to put it right:

- approving and ordering follow the scheme's eligibility rules (eligibility.py:
  routes, MARAC, risk levels, tenures, documents, and "works offered": an
  equipment-only scheme, setting ``works_offered`` = no, approves and orders
  no works measure), unless overridden with a reason (``--override``);
- approving charges the line's estimate to a fund (budget.commit_line: the
  overspend, household-cap and contribution rules);
- ordering needs consent to share with the contractor, and for works on a
  rented home the landlord's permission granted (workflow.require_works_allowed);
  the first order moves the case from approval to works;
- a line is fitted after it was ordered, never in the future, at its actual
  cost (budget.settle_fitted), and once every approved line is fitted (or
  issued) with none left awaiting a decision, the case moves to ``fitted`` by
  itself (:func:`settle_case`);
- only removable equipment is removed, after it was fitted; this is allowed on
  a closed case too, since lent equipment is collected long after closing.

Line numbers are the ``line`` values of ``measures list``; no number means
every line in the right state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from thcli import audit, budget, clock, codes, dates, eligibility, parse, screening, targets, workflow
from thcli.cases import case_row, event
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed, NotFound

STATUSES = ("recommended", "approved", "declined", "ordered", "fitted", "removed")
#: Lines still waiting for something: the case is not fitted while one is left.
WAITING = ("recommended", "approved", "ordered")
#: Case statuses in which lines are approved, declined and ordered.
DECIDING = ("approval", "works")
#: The longest description of where a measure goes (printed for the landlord and the fitter).
MAX_WHERE = 80

#: The JSON contract of `measures list` (CLI additions after the first twelve).
LIST_FIELDS = (
    "line", "code", "label", "quantity", "estimated_cost_pence", "status", "fund", "contractor", "ordered_on",
    "fitted_on", "actual_cost_pence", "removable",
    "kind", "unit_cost_pence", "approved_on", "declined_reason", "over_cap_reason", "stock_holder",
    "removed_on", "location",
)


# --- reading ------------------------------------------------------------------------


def case_lines(db: Database, case_id: int) -> list[dict]:
    """A case's measure lines, as the JSON contract of ``measures list``."""
    cursor = db.conn.execute(
        """SELECT l.line, l.code, coalesce(c.label, l.code) AS label, l.quantity, l.estimated_cost_pence,
                  l.status, f.code AS fund, l.contractor, l.ordered_on, l.fitted_on, l.actual_cost_pence,
                  l.removable, l.kind, l.unit_cost_pence, l.approved_on, l.declined_reason,
                  l.over_cap_reason, l.stock_holder, l.removed_on, l.location
           FROM measure_lines l
           LEFT JOIN codes c ON c.list = 'measure' AND c.code = l.code
           LEFT JOIN funds f ON f.id = l.fund_id
           WHERE l.case_id = ? ORDER BY l.line""",
        [case_id],
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["removable"] = bool(row["removable"])
        rows.append({key: row[key] for key in LIST_FIELDS})
    return rows


def list_measures(db: Database, ref: str) -> list[dict]:
    """``measures list REF``: every line of the case, in line order."""

    case = case_row(db, ref)
    return case_lines(db, case["id"])


def _lines(db: Database, case_id: int) -> list[dict]:
    cursor = db.conn.execute("SELECT * FROM measure_lines WHERE case_id = ? ORDER BY line", [case_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def catalogue_entry(db: Database, code: str) -> dict:
    """A measure of the catalogue: kind, removable, unit cost (NotFound when missing)."""
    row = one(db, "SELECT m.*, c.label FROM measure_catalogue m JOIN codes c ON c.list = 'measure' "
                  "AND c.code = m.code WHERE m.code = ?", [code])
    if row is None:
        raise NotFound(f"measure {code!r} is not in the catalogue (see `thcli codes list measure`)")
    return row


def _describe(line: dict) -> str:
    return f"line {line['line']} ({line['code']})"


def _numbers(lines: Iterable[dict]) -> str:
    return ", ".join(str(line["line"]) for line in lines)


# --- choosing lines -------------------------------------------------------------------

#: For each action: the line statuses it applies to, and what to do with a line in another status.
_HINTS = {
    "approved": "it can be approved only while recommended",
    "declined": "only recommended, approved or ordered lines can be declined",
    "ordered": "approve it first (`thcli measures approve {ref} {line} --fund FUND`)",
    "fitted": "it must be ordered first (`thcli measures order {ref} {line} --contractor CODE`)",
    "removed": "only fitted equipment can be removed",
    "recharged": "only a line approved against a fund can be charged to another",
}


def select_lines(db: Database, case: dict, numbers: Sequence[int], states: Sequence[str], doing: str) -> list[dict]:
    """The lines an action applies to: the numbers given (each in one of ``states``), or all in them.

    NotFound for a number the case does not have; NotAllowed for a line in
    the wrong state, or when no line is in the right state.
    """
    ref = case["ref"]
    lines = _lines(db, case["id"])
    if not lines:
        raise NotAllowed(f"{ref} has no measures yet: record the survey with "
                         f"`thcli survey record {ref} --surveyor NAME --date DATE --measure CODE`")
    by_number = {line["line"]: line for line in lines}
    if not numbers:
        chosen = [line for line in lines if line["status"] in states]
        if not chosen:
            shown = ", ".join(f"{line['line']} {line['status']}" for line in lines)
            raise NotAllowed(f"{ref} has no {' or '.join(states)} measure lines to be {doing} (lines: {shown})")
        return chosen
    chosen = []
    for number in dict.fromkeys(numbers):
        line = by_number.get(number)
        if line is None:
            raise NotFound(f"{ref} has no measure line {number}: its lines are {_numbers(lines)} "
                           f"(`thcli measures list {ref}`)")
        if line["status"] not in states:
            hint = _HINTS[doing].format(ref=ref, line=number)
            raise NotAllowed(f"{ref} {_describe(line)} is {line['status']}, so it cannot be {doing}: {hint}")
        chosen.append(line)
    return chosen


def _case_in(db: Database, ref: str, statuses: Sequence[str], doing: str) -> dict:
    case = case_row(db, ref)
    if case["status"] not in statuses:
        where = " or ".join(statuses)
        raise NotAllowed(f"{case['ref']}'s status is {case['status']}: measures are {doing} while a case "
                         f"is in {where}")
    return case


def _not_before(on: dt.date, earlier: str | None, option: str, message: str) -> None:
    if earlier and on < dt.date.fromisoformat(earlier):
        raise BadInput(message.format(date=dates.format_date(earlier)), option)


def _record(db: Database, case: dict, *, by: str, action: str, detail: str, audit_detail: str) -> None:
    event(db, case["id"], "measures", detail, by=by)
    db["cases"].update(case["id"], {"updated_at": clock.now_iso()})
    audit.record(db, by=by, action=action, ref=case["ref"], detail=audit_detail)


def settle_case(db: Database, case_id: int, *, by: str) -> bool:
    """Move the case to ``fitted`` once every approved line is fitted (or issued) and none waits.

    Called inside the write of whatever fitted, issued or declined the last
    line. A case still in approval (everything issued from stock) passes
    through works. Returns whether the case moved.
    """
    case = one(db, "SELECT * FROM cases WHERE id = ?", [case_id])
    if case is None or case["status"] not in DECIDING:
        return False
    counts = dict(db.conn.execute(
        "SELECT status, count(*) FROM measure_lines WHERE case_id = ? GROUP BY status", [case_id]).fetchall())
    if any(counts.get(s) for s in WAITING) or not (counts.get("fitted") or counts.get("removed")):
        return False
    last = db.conn.execute("SELECT max(fitted_on) FROM measure_lines WHERE case_id = ? AND fitted_on IS NOT NULL",
                           [case_id]).fetchone()[0]
    on = dt.date.fromisoformat(last) if last else clock.today()
    if case["status"] == "approval":
        workflow.move(db, case["ref"], "works", by=by, on=on, rules=False)
    workflow.move(db, case["ref"], "fitted", by=by, on=on, rules=False)
    return True


# --- the actions ------------------------------------------------------------------------


def approve(db: Database, ref: str, numbers: Sequence[int], *, fund: str, by: str, on: dt.date | None = None,
            over_cap_reason: str | None = None, allow_overspend: str | None = None,
            override: str | None = None) -> list[dict]:
    """Approve recommended lines against a fund (``measures approve``); returns the lines approved.

    The money rules are budget.commit_line's; the scheme's eligibility rules
    (an equipment-only scheme approves no works measure) eligibility.enforce's,
    with ``override`` as the reason to go ahead past them.
    """
    on = on or clock.today()
    dates.not_future(on, "a measure is approved on the day it is approved")
    with write(db):
        case = _case_in(db, ref, DECIDING, "approved")
        ref = case["ref"]
        chosen = select_lines(db, case, numbers, ("recommended",), "approved")
        works = eligibility.works_problem(db, chosen)
        eligibility.enforce(db, case, "approve", by=by, override=override, extra=[works] if works else [])
        fund_row = budget.find_fund(db, fund)
        for line in chosen:
            _not_before(on, _surveyed_on(db, line), "--date",
                        f"{ref} {_describe(line)} was recommended by the survey of {{date}}: it cannot be "
                        "approved before that")
        # The caps are checked for the lines together, so that the message gives the whole shortfall once.
        caps = budget.over_cap(db, case, chosen, fund_row)
        if caps and not (over_cap_reason or "").strip():
            raise NotAllowed(caps)
        for line in chosen:
            budget.commit_line(db, case, line, fund_row, by=by, on=on, allow_overspend=allow_overspend,
                               over_cap_reason=over_cap_reason)
            db["measure_lines"].update(line["id"], {"status": "approved", "approved_on": on.isoformat(),
                                                    "fund_id": fund_row["id"]})
        _record(db, case, by=by, action="measures.approve",
                detail=f"approved line{'s' if len(chosen) > 1 else ''} {_numbers(chosen)} against {fund_row['code']}",
                audit_detail=f"lines {_numbers(chosen)}; fund {fund_row['code']}")
        targets.refresh_due(db, case["id"])
        return _after(db, case, chosen)


def _surveyed_on(db: Database, line: dict) -> str | None:
    if not line["survey_id"]:
        return None
    row = db.conn.execute("SELECT surveyed_on FROM surveys WHERE id = ?", [line["survey_id"]]).fetchone()
    return row[0] if row else None


def _after(db: Database, case: dict, chosen: list[dict]) -> list[dict]:
    wanted = {line["line"] for line in chosen}
    return [row for row in case_lines(db, case["id"]) if row["line"] in wanted]


def decline(db: Database, ref: str, numbers: Sequence[int], *, reason: str, by: str,
            on: dt.date | None = None) -> list[dict]:
    """Decline lines with a reason (``measures decline``), giving back any money committed to them."""
    if not numbers:
        raise BadInput("give the numbers of the lines to decline (see `thcli measures list REF`)")
    try:
        codes.require(db, "decline_reason", reason)
    except BadInput as error:
        raise error.for_option("--reason") from None
    on = on or clock.today()
    with write(db):
        case = _case_in(db, ref, DECIDING, "declined")
        chosen = select_lines(db, case, numbers, WAITING, "declined")
        for line in chosen:
            if line["status"] in ("approved", "ordered"):
                budget.release_line(db, line, by=by, on=on, memo=f"line {line['line']} declined ({reason})")
            # A declined line charges no fund: any commitment was given back just above.
            db["measure_lines"].update(line["id"], {"status": "declined", "declined_reason": reason,
                                                    "fund_id": None})
        _record(db, case, by=by, action="measures.decline",
                detail=f"declined line{'s' if len(chosen) > 1 else ''} {_numbers(chosen)} ({reason})",
                audit_detail=f"lines {_numbers(chosen)}; {reason}")
        settle_case(db, case["id"], by=by)
        targets.refresh_due(db, case["id"])
        return _after(db, case, chosen)


def order(db: Database, ref: str, numbers: Sequence[int], *, contractor: str, by: str,
          on: dt.date | None = None, override: str | None = None) -> list[dict]:
    """Order approved lines from a contractor (``measures order``); the case moves to works.

    Needs consent to share with the contractor, and for a works measure on a
    rented home the landlord's permission granted; and the scheme's
    eligibility rules, as for :func:`approve`.
    """
    try:
        codes.require(db, "contractor", contractor)
    except BadInput as error:
        raise error.for_option("--contractor") from None
    on = on or clock.today()
    dates.not_future(on, "record an order once it is placed")
    with write(db):
        case = _case_in(db, ref, DECIDING, "ordered")
        chosen = select_lines(db, case, numbers, ("approved",), "ordered")
        works = eligibility.works_problem(db, chosen)
        eligibility.enforce(db, case, "order", by=by, override=override, extra=[works] if works else [])
        if any(line["kind"] == "works" for line in chosen):
            workflow.require_works_allowed(db, case)
        else:
            workflow.require_contractor_consent(db, case)
        for line in chosen:
            _not_before(on, line["approved_on"], "--date",
                        f"{case['ref']} {_describe(line)} was approved on {{date}}: it cannot be ordered before that")
        for line in chosen:
            db["measure_lines"].update(line["id"], {"status": "ordered", "contractor": contractor,
                                                    "ordered_on": on.isoformat()})
        _record(db, case, by=by, action="measures.order",
                detail=f"ordered line{'s' if len(chosen) > 1 else ''} {_numbers(chosen)} from "
                       f"{codes.label(db, 'contractor', contractor)}",
                audit_detail=f"lines {_numbers(chosen)}; {contractor}")
        if case["status"] == "approval":
            workflow.move(db, case["ref"], "works", by=by, on=on, rules=False)
        targets.refresh_due(db, case["id"])
        return _after(db, case, chosen)


def fitted(db: Database, ref: str, numbers: Sequence[int], *, on: dt.date, by: str, cost_pence: int | None = None,
           allow_overspend: str | None = None) -> tuple[list[dict], bool]:
    """Record ordered lines as fitted (``measures fitted``), at their actual cost.

    ``cost_pence`` is the actual cost of one line (the estimate otherwise);
    budget.settle_fitted brings the money to it. Returns the lines and whether
    the case moved to fitted.
    """
    if cost_pence is not None and cost_pence < 0:
        raise BadInput("the cost cannot be negative", "--cost")
    dates.not_future(on, "record a measure as fitted once it is fitted")
    with write(db):
        case = _case_in(db, ref, ("works",), "recorded as fitted")
        chosen = select_lines(db, case, numbers, ("ordered",), "fitted")
        if cost_pence is not None and len(chosen) != 1:
            raise BadInput(f"--cost is the actual cost of one line, and {len(chosen)} lines would be fitted "
                           f"({_numbers(chosen)}): give one LINE number with --cost", "--cost")
        for line in chosen:
            _not_before(on, line["ordered_on"], "--date",
                        f"{case['ref']} {_describe(line)} was ordered on {{date}}: it cannot be fitted before "
                        "it was ordered")
        for line in chosen:
            actual = cost_pence if cost_pence is not None else line["estimated_cost_pence"]
            budget.settle_fitted(db, case, line, actual, by=by, on=on, allow_overspend=allow_overspend)
            db["measure_lines"].update(line["id"], {"status": "fitted", "fitted_on": on.isoformat(),
                                                    "actual_cost_pence": actual})
        _record(db, case, by=by, action="measures.fitted",
                detail=f"fitted line{'s' if len(chosen) > 1 else ''} {_numbers(chosen)}"
                       + (f" for {parse.format_money(cost_pence)}" if cost_pence is not None else ""),
                audit_detail=f"lines {_numbers(chosen)}")
        moved = settle_case(db, case["id"], by=by)
        targets.refresh_due(db, case["id"])
        return _after(db, case, chosen), moved


def recharge(db: Database, ref: str, number: int, *, fund: str, by: str, on: dt.date | None = None,
             allow_overspend: str | None = None) -> tuple[dict, str, int]:
    """Charge an approved line to another fund (``measures recharge``): the old fund's commitment is released
    and the new one's made, in one transaction (budget.recharge_line). Returns the line, the old fund's code and
    the amount moved."""
    on = on or clock.today()
    dates.not_future(on, "a line is recharged on the day it is moved")
    with write(db):
        case = case_row(db, ref)
        line = select_lines(db, case, [number], ("approved", "ordered", "fitted"), "recharged")[0]
        new = budget.find_fund(db, fund)
        old, amount = budget.recharge_line(db, case, line, new, by=by, on=on, allow_overspend=allow_overspend)
        _record(db, case, by=by, action="measures.recharge",
                detail=f"line {line['line']} moved from {old['code']} to {new['code']} "
                       f"({parse.format_money(amount)} committed)",
                audit_detail=f"line {line['line']}; {old['code']} to {new['code']}")
        return _after(db, case, [line])[0], old["code"], amount


def set_location(db: Database, ref: str, number: int, where: str, *, by: str) -> tuple[dict, list[str]]:
    """Say where in the home a measure goes (``measures where``); returns the line and warnings.

    The text is printed for the landlord and the fitter, so it is screened
    (screening.py): a word about the abuse or part of the perpetrator's name
    is saved with a warning, and the letters that would carry it are refused
    until it is reworded. Not on a closed or declined case (read-only).
    """
    where = " ".join(str(where).split())
    if not where:
        raise BadInput("say where the measure goes, e.g. \"front door\"", "WHERE")
    if len(where) > MAX_WHERE:
        raise BadInput(f"where a measure goes is at most {MAX_WHERE} characters", "WHERE")
    where = parse.text(where, max_len=MAX_WHERE)
    with write(db):
        case = case_row(db, ref)
        workflow.require_not_read_only(case)
        line = select_lines(db, case, [number], STATUSES, "moved")[0]
        db["measure_lines"].update(line["id"], {"location": where})
        _record(db, case, by=by, action="measures.where", detail=f"line {line['line']}: where it goes changed",
                audit_detail=f"line {line['line']}")
        warnings = screening.line_warnings(screening.for_client(db, case["client_id"]), case["ref"],
                                           [(line["line"], where)])
        return _after(db, case, [line])[0], warnings


def remove(db: Database, ref: str, numbers: Sequence[int], *, on: dt.date, by: str) -> list[dict]:
    """Record removable equipment taken out of the home (``measures remove``)."""

    if not numbers:
        raise BadInput("give the numbers of the lines removed (see `thcli measures list REF`)")
    dates.not_future(on, "record equipment as removed once it is removed")
    with write(db):
        case = case_row(db, ref)
        chosen = select_lines(db, case, numbers, ("fitted",), "removed")
        for line in chosen:
            if not line["removable"]:
                raise NotAllowed(f"{case['ref']} {_describe(line)} is permanent: only removable equipment can be "
                                 "removed")
            _not_before(on, line["fitted_on"], "--date",
                        f"{case['ref']} {_describe(line)} was fitted on {{date}}: it cannot be removed before that")
        for line in chosen:
            db["measure_lines"].update(line["id"], {"status": "removed", "removed_on": on.isoformat()})
        _record(db, case, by=by, action="measures.remove",
                detail=f"removed line{'s' if len(chosen) > 1 else ''} {_numbers(chosen)}",
                audit_detail=f"lines {_numbers(chosen)}")
        targets.refresh_due(db, case["id"])
        return _after(db, case, chosen)
