"""Money (DESIGN.md §5): funds, contributions, commitments, payments and the ledger.

A **fund** is a pot for one financial year (1 April to 31 March), county-wide
or for one district. Every movement of money is one row of the append-only
``ledger`` table, signed by its effect on the fund's remaining balance (the
convention is written above the table in schema.sql):

    allocation +   contribution + (pledged ones count only once received)
    commitment -   release +      payment -      refund +
    correction = minus the entry it corrects

so that a fund's remaining balance is one SQL aggregate,
``SUM(amount_pence) WHERE pledged = 0``, never a column that can drift. The
other figures (allocated, received, committed, paid) are the same sum split by
kind, a correction counting as the kind of the entry it corrects.

The rules, each with a message saying how to put it right:

- approving a measure (a **commitment** at its estimate), paying more than was
  committed, or correcting money away must not take a fund below zero, unless
  the coordinator gives an ``--allow-overspend`` reason (recorded);
- a fund's year must cover the approval date; a district's fund pays only for
  that district's cases;
- the **household cap** (setting ``household_cap``): the scheme's spend on one
  case (committed and paid, less the contributions of others) above the cap
  needs an ``--over-cap-reason`` (recorded on the line, the ledger, the case
  timeline and the audit log);
- the **contribution rule** (setting ``contribution_cap``, East Lindsey's "up
  to £200 towards works"): the scheme's share of a household's *works* (less
  the contributions of the survivor, landlord or others) above it needs the
  same reason;
- a payment needs an invoice number, and a declined (or never approved) line
  takes no payment; a refund is never more than was paid;
- a payment on a line releases that line's open commitment up to the payment
  (all of it once the line is fitted), so money is never counted twice.

Every ledger row carries a SHA-256 hash over the previous row's hash and its
own fields (:func:`verify_chain`), as the audit log does. A row's free text
(invoice number, memo) enters the chain through a digest of its own
(``details_sha256``), so that retention can remove the text (:func:`redact`,
which sets ``redacted_on``) while the chain still proves every figure; that is
the only change the ledger accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from thcli import audit, clock, codes, parse, settings
from thcli.cases import case_row, event
from thcli.chains import GENESIS, INVOICE, LEDGER_FIELDS, MEMO, details_digest, ledger_row_hash
from thcli.chains import verify_ledger as verify_chain  # noqa: F401 - the ledger's own check, by its old name
from thcli.db import one, write
from thcli.errors import BadInput, NotAllowed, NotFound, WouldOverspend
from thcli.parse import format_money

if TYPE_CHECKING:
    from sqlite_utils import Database

KINDS = ("allocation", "contribution", "commitment", "release", "payment", "refund", "correction")
CONTRIBUTORS = ("survivor", "landlord", "housing_association", "charity")
#: Measure line statuses that can take a payment (approved against a fund).
PAYABLE = ("approved", "ordered", "fitted", "removed")
#: Kinds a coordinator may correct with `budget correct`. Commitments and
#: releases follow the measure line (approve, decline, fitted), and the release
#: written with a payment is corrected together with that payment.
CORRECTABLE = ("allocation", "contribution", "payment", "refund")

#: The statement that inserts whole rows (the chain's fields, then the text's digest and the hashes).
INSERT_INTO = f"INSERT INTO ledger ({', '.join(LEDGER_FIELDS)}, details_sha256, prev_hash, hash)"

#: A ledger row with the kind that counts for the figures: a correction counts
#: as the kind of the entry it corrects.
_EFFECTIVE = """
    SELECT l.*, coalesce(o.kind, l.kind) AS counts_as
    FROM ledger l LEFT JOIN ledger o ON o.id = l.corrects_id
    WHERE {where}
"""


#: The kind a ledger row ``l`` counts as: a correction counts as the entry it corrects.
COUNTS_AS = ("CASE WHEN l.corrects_id IS NULL THEN l.kind "
              "ELSE (SELECT o.kind FROM ledger o WHERE o.id = l.corrects_id) END")


def _effective(where: str = "1") -> str:
    """The effective rows, chosen by ``where`` over ledger ``l`` first (so that its indexes serve)."""
    return _EFFECTIVE.format(where=where)

#: One aggregate for every figure of a fund (or a case), from the ledger alone.
_FIGURES = """
    coalesce(sum(CASE WHEN pledged = 0 THEN amount_pence END), 0) AS remaining_pence,
    coalesce(sum(CASE WHEN counts_as = 'allocation' THEN amount_pence END), 0) AS allocated_pence,
    coalesce(sum(CASE WHEN counts_as = 'contribution' AND pledged = 0 THEN amount_pence END), 0)
        AS contributions_pence,
    -coalesce(sum(CASE WHEN counts_as IN ('commitment', 'release') THEN amount_pence END), 0) AS committed_pence,
    -coalesce(sum(CASE WHEN counts_as IN ('payment', 'refund') THEN amount_pence END), 0) AS paid_pence
"""

#: Pledges not yet matched by money received, per fund, case and contributor.
_PLEDGES = """
    SELECT fund_id, case_id, contributor,
           max(0, sum(CASE WHEN pledged = 1 THEN amount_pence ELSE 0 END)
                  - sum(CASE WHEN pledged = 0 THEN amount_pence ELSE 0 END)) AS outstanding
    FROM effective WHERE counts_as = 'contribution' {where}
    GROUP BY fund_id, case_id, contributor
"""


# --- money and years as a coordinator reads them ---------------------------------


def year_span(year: str) -> tuple[dt.date, dt.date]:
    """First and last day of a financial year ``2026/27``."""
    _label, start, end = parse.financial_year(year)
    return start, end


def fund_code(name: str, year: str) -> str:
    """A fund's code from its name and year: ``Example OPCC`` 2026/27 -> ``example_opcc_2026_27``."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].strip("_")
    suffix = year.replace("/", "_")
    if suffix not in slug:
        slug = f"{slug}_{suffix}" if slug else suffix
    if not slug[0].isalpha():
        slug = f"fund_{slug}"
    return slug


@dataclass
class Recorded:
    """What a money command wrote: its ledger entries and the fund's balance after."""

    entries: list[dict]
    fund: dict
    remaining_pence: int


def _recorded(db: Database, entry_ids: list[int], fund: dict) -> Recorded:
    return Recorded([entry_row(db, e) for e in entry_ids], fund, remaining(db, fund["id"]))


# --- the ledger itself ------------------------------------------------------------


class Chain:
    """Appends ledger rows with explicit ids, each hashed over the one before (thcli's own entries, and
    the demo's 800,000 written in bulk)."""

    def __init__(self, db: Database):
        self.db = db
        last = db.conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
        self.next_id = (last[0] + 1) if last else 1
        self.prev_hash = last[1] if last else GENESIS

    def row(self, *, kind: str, amount: int, fund_id: int, on: dt.date | str, by: str, at: str | None = None,
            case_id: int | None = None, line_id: int | None = None, invoice: str | None = None,
            contributor: str | None = None, pledged: bool = False, corrects_id: int | None = None,
            memo: str | None = None) -> tuple:
        on_date = on if isinstance(on, str) else on.isoformat()
        return self.append((at or clock.now_iso(), on_date, kind, int(amount), fund_id, case_id, line_id,
                            invoice, contributor, int(pledged), corrects_id, memo, by))

    def append(self, values: tuple) -> tuple:
        """The row of ``values`` (the fields of chains.LEDGER_FIELDS after ``id``, in order), numbered and hashed.

        Positional, for the demo's 800,000 entries, where keyword arguments cost a second or two.
        """
        values = (self.next_id, *values)
        details = details_digest(values[INVOICE], values[MEMO])
        digest = ledger_row_hash(self.prev_hash, values, details)
        full = (*values, details, self.prev_hash, digest)
        self.prev_hash = digest
        self.next_id += 1
        return full


_INSERT = f"{INSERT_INTO} VALUES ({', '.join('?' * (len(LEDGER_FIELDS) + 3))})"


def _append(db: Database, **fields: Any) -> int:
    """Append one ledger row (inside the caller's write transaction); returns its id."""
    row = Chain(db).row(**fields)
    db.conn.execute(_INSERT, row)
    return row[0]


def redact(db: Database, where: str, params: Iterable, *, on: dt.date) -> int:
    """Remove the free text (invoice, memo) of the ledger rows ``where`` chooses, figures kept; returns how many.

    Inside the caller's write. Rows sealed before m011 on a ledger whose chain
    was already broken cannot be redacted, and are left (``db check`` reports
    that chain).
    """
    cursor = db.conn.execute(
        f"""UPDATE ledger SET invoice = NULL, memo = NULL, redacted_on = ?
            WHERE redacted_on IS NULL AND details_sha256 IS NOT NULL
              AND (invoice IS NOT NULL OR memo IS NOT NULL) AND ({where})""", [on.isoformat(), *params])
    return cursor.rowcount


# --- funds ------------------------------------------------------------------------


def _fund_row(db: Database, where: str, params: Iterable) -> dict | None:
    return one(db, f"SELECT * FROM funds WHERE {where}", list(params))


def years(db: Database) -> list[str]:
    """The financial years that have funds, oldest first."""
    return [r[0] for r in db.conn.execute("SELECT DISTINCT year FROM funds ORDER BY year")]


def find_fund(db: Database, text: str, *, option: str = "--fund") -> dict:
    """A fund by its code (as shown by ``budget fund list``) or its number.

    BadInput (exit 2, naming ``option``) when there is no such fund.
    """
    wanted = (text or "").strip()
    fund = None
    if wanted.isascii() and wanted.isdigit():
        fund = _fund_row(db, "id = ?", [int(wanted)])
    elif wanted:
        fund = _fund_row(db, "code = ?", [wanted.lower()])
    if fund is not None:
        return fund
    this_year = parse.financial_year_of(clock.today())
    known = [r[0] for r in db.conn.execute("SELECT code FROM funds WHERE year = ? ORDER BY code", [this_year])]
    if known:
        hint = f"{this_year} funds are {', '.join(known)}"
    elif years(db):
        hint = f"funds exist for {', '.join(years(db))}"
    else:
        hint = "there are no funds yet: add one with `thcli budget fund add`"
    raise BadInput(f"there is no fund {wanted!r}: use a fund code or number from "
                   f"`thcli budget fund list` ({hint})", option)


def require_year(db: Database, year: str, *, option: str = "--year") -> str:
    """A financial year that has funds (BadInput, exit 2, otherwise)."""
    try:
        label = parse.financial_year(year)[0]
    except BadInput as error:
        raise error.for_option(option) from None
    if not db.conn.execute("SELECT 1 FROM funds WHERE year = ? LIMIT 1", [label]).fetchone():
        known = years(db)
        raise BadInput(f"there are no funds for {label}: "
                       + (f"funds exist for {', '.join(known)}" if known
                          else "add one with `thcli budget fund add NAME --year YYYY/YY ...`"), option)
    return label


def add_fund(db: Database, name: str, *, year: str, source: str, amount_pence: int, by: str,
             district: str | None = None, code: str | None = None, on: dt.date | None = None) -> dict:
    """Create a fund for a financial year with its allocation; returns the fund row."""
    try:
        label = parse.financial_year(year)[0]
    except BadInput as error:
        raise error.for_option("--year") from None
    if not name.strip():
        raise BadInput("NAME: give the fund a name, e.g. \"Example OPCC\"")
    try:
        name = parse.label(name)
    except BadInput as error:
        raise BadInput(f"NAME: {error.message}") from None
    if amount_pence <= 0:
        raise BadInput("a fund's allocation must be more than £0.00", "--amount")
    try:
        codes.require(db, "fund_source", source)
    except BadInput as error:
        raise error.for_option("--source") from None
    if district is not None:
        try:
            codes.require(db, "district", district)
        except BadInput as error:
            raise error.for_option("--district") from None
    if code is None:
        code = fund_code(name, label)
    else:
        try:
            code = parse.code(code)
        except BadInput as error:
            raise error.for_option("--code") from None
    on = on or clock.today()
    with write(db):
        existing = _fund_row(db, "code = ?", [code])
        if existing:
            raise NotAllowed(f"there is already a fund {code} ({existing['name']}, {existing['year']}): "
                             "give this one another code with --code")
        same = _fund_row(db, "lower(name) = ? AND year = ?", [name.lower(), label])
        if same:
            raise NotAllowed(f"there is already a fund called {same['name']} for {label} ({same['code']})")
        now = clock.now_iso()
        fund_id = db.conn.execute(
            "INSERT INTO funds (code, name, year, source, district, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [code, name, label, source, district, now, by]).lastrowid
        _append(db, kind="allocation", amount=amount_pence, fund_id=fund_id, on=on, by=by,
                memo="opening allocation")
        audit.record(db, by=by, action="budget.fund_add", detail=f"{code} {amount_pence}")
        return _fund_row(db, "id = ?", [fund_id])


def allocate(db: Database, fund_text: str, amount_pence: int, *, by: str, on: dt.date | None = None,
             memo: str | None = None) -> Recorded:
    """Add money to a fund during its year (a grant top-up, donations)."""
    if amount_pence <= 0:
        raise BadInput("an allocation must be more than £0.00", "--amount")
    on = _not_future(on)
    with write(db):
        fund = find_fund(db, fund_text, option="FUND")
        entry = _append(db, kind="allocation", amount=amount_pence, fund_id=fund["id"], on=on, by=by,
                        memo=memo or "allocation added")
        audit.record(db, by=by, action="budget.allocate", detail=f"{fund['code']} entry {entry}")
        return _recorded(db, [entry], fund)


def list_funds(db: Database, *, year: str | None = None) -> list[dict]:
    """Funds (of one year, or all) with their figures; ``fund`` is the code ``--fund`` accepts."""
    label = require_year(db, year) if year else None
    return [{"fund": r["code"], **{k: v for k, v in r.items() if k != "code"}}
            for r in _fund_figures(db, year=label)]


# --- figures from the ledger ------------------------------------------------------


def _fund_figures(db: Database, *, year: str | None = None) -> list[dict]:
    """Every fund (of a year) with its figures: one aggregate over its ledger rows."""
    where, params = [], []
    if year:
        where.append("f.year = ?")
        params.append(year)
    chosen = f"l.fund_id IN (SELECT f.id FROM funds f WHERE {' AND '.join(where)})" if where else "1"
    sql = f"""
        WITH effective AS ({_effective(chosen)}),
        figures AS (SELECT fund_id, {_FIGURES} FROM effective GROUP BY fund_id),
        pledges AS (SELECT fund_id, sum(outstanding) AS pledged_pence FROM ({_PLEDGES.format(where='')})
                    GROUP BY fund_id)
        SELECT f.id, f.code, f.name, f.year, f.source, f.district,
               coalesce(g.allocated_pence, 0) AS allocated_pence,
               coalesce(g.contributions_pence, 0) AS contributions_pence,
               coalesce(p.pledged_pence, 0) AS pledged_pence,
               coalesce(g.committed_pence, 0) AS committed_pence,
               coalesce(g.paid_pence, 0) AS paid_pence,
               coalesce(g.remaining_pence, 0) AS remaining_pence
        FROM funds f LEFT JOIN figures g ON g.fund_id = f.id LEFT JOIN pledges p ON p.fund_id = f.id
        {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY f.year, f.district IS NOT NULL, f.district, f.code
    """
    return list(db.query(sql, params * 2))  # the funds are chosen twice: in the ledger and in the result


def remaining(db: Database, fund_id: int) -> int:
    """What is left in a fund: allocations and contributions received, less payments and open commitments."""
    return db.conn.execute(
        "SELECT coalesce(sum(amount_pence), 0) FROM ledger WHERE fund_id = ? AND pledged = 0", [fund_id]
    ).fetchone()[0]


def _line_figures(db: Database, line_id: int) -> dict[int, dict]:
    """Per fund: the line's open commitment and what was paid on it (net of refunds)."""
    rows = db.query(
        f"""WITH effective AS ({_effective("l.line_id = ?")})
            SELECT fund_id, {_FIGURES} FROM effective GROUP BY fund_id""", [line_id])
    return {r["fund_id"]: r for r in rows}


def _case_share(db: Database, case_id: int, *, works_only: bool) -> int:
    """The scheme's spend on a case (committed and paid), less others' contributions.

    With ``works_only``, only lines of kind ``works`` count. Contributions
    count when received or pledged (a pledge not yet received).
    """
    works = ("AND line_id IN (SELECT id FROM measure_lines WHERE case_id = :case AND kind = 'works')"
             if works_only else "")
    spend = db.conn.execute(
        f"""WITH effective AS ({_effective("l.case_id = :case")})
            SELECT -coalesce(sum(amount_pence), 0) FROM effective
            WHERE counts_as IN ('commitment', 'release', 'payment', 'refund') {works}""",
        {"case": case_id}).fetchone()[0]
    return spend - _case_contributions(db, case_id, with_pledges=True)


def _case_contributions(db: Database, case_id: int, *, with_pledges: bool) -> int:
    received = db.conn.execute(
        f"""WITH effective AS ({_effective("l.case_id = ?")})
            SELECT coalesce(sum(amount_pence), 0) FROM effective
            WHERE counts_as = 'contribution' AND pledged = 0""", [case_id]).fetchone()[0]
    if not with_pledges:
        return received
    return received + _case_pledged(db, case_id)


def _case_pledged(db: Database, case_id: int) -> int:
    return db.conn.execute(
        f"""WITH effective AS ({_effective("l.case_id = ?")})
            SELECT coalesce(sum(outstanding), 0) FROM ({_PLEDGES.format(where='')})""",
        [case_id]).fetchone()[0]


# --- the rules --------------------------------------------------------------------


def _fund_label(fund: dict) -> str:
    return f"{fund['name']} ({fund['code']})"


def _check_overspend(db: Database, fund: dict, effect: int, doing: str, allow_overspend: str | None) -> None:
    """Refuse an ``effect`` that would take the fund below zero, unless a reason is given."""
    if effect >= 0:
        return
    left = remaining(db, fund["id"])
    after = left + effect
    if after >= 0 or (allow_overspend and allow_overspend.strip()):
        return
    raise WouldOverspend(
        f"{doing} would take {_fund_label(fund)} below zero by {format_money(-after)}: it has "
        f"{format_money(left)} left. "
        "Choose another fund, add money to it (`thcli budget fund allocate`), or go ahead with "
        "--allow-overspend REASON (recorded)"
    )


def _require_covers(fund: dict, on: dt.date) -> None:
    start, end = year_span(fund["year"])
    if not start <= on <= end:
        raise NotAllowed(
            f"{_fund_label(fund)} is for {fund['year']} ({parse.format_date(start)} to "
            f"{parse.format_date(end)}), and {parse.format_date(on)} falls in "
            f"{parse.financial_year_of(on)}: use a {parse.financial_year_of(on)} fund "
            f"(`thcli budget fund list --year {parse.financial_year_of(on)}`)"
        )


def _require_district(fund: dict, case: dict) -> None:
    if fund["district"] and fund["district"] != case["district"]:
        raise NotAllowed(
            f"{_fund_label(fund)} is for cases in {fund['district']}, and {case['ref']} is in "
            f"{case['district']}: use a county-wide fund or one for {case['district']}"
        )


def _over_cap(db: Database, case: dict, line: dict, amount: int) -> list[str]:
    """The caps (household, contribution rule) that approving ``amount`` would pass."""
    passed = []
    cap = settings.get(db, "household_cap")
    if cap and amount > 0:
        share = _case_share(db, case["id"], works_only=False)
        if share + amount > cap:
            passed.append(
                f"the household cap is {format_money(cap)} (setting household_cap) and approving line "
                f"{line['line']} ({format_money(amount)}) would bring the scheme's spend on {case['ref']} to "
                f"{format_money(share + amount)}"
            )
    works_cap = settings.get(db, "contribution_cap")
    if works_cap and amount > 0 and line["kind"] == "works":
        share = _case_share(db, case["id"], works_only=True)
        if share + amount > works_cap:
            passed.append(
                f"the scheme contributes at most {format_money(works_cap)} towards works per household (setting "
                f"contribution_cap) and approving line {line['line']} ({format_money(amount)}) would bring its share "
                f"of {case['ref']}'s works to {format_money(share + amount)}, after contributions from others; record "
                f"the survivor's or landlord's contribution first (`thcli budget contribution {case['ref']} "
                f"--from landlord --amount {parse.pounds(share + amount - works_cap)} --pledged`)"
            )
    return passed


def _line_fund(db: Database, line: dict, case: dict) -> dict:
    """The fund a line is charged to (set when it was approved)."""
    fund_id = line.get("fund_id")
    if not fund_id:
        row = db.conn.execute("SELECT fund_id FROM ledger WHERE line_id = ? AND kind = 'commitment' "
                              "ORDER BY id DESC LIMIT 1", [line["id"]]).fetchone()
        fund_id = row[0] if row else None
    if not fund_id:
        raise NotAllowed(f"{case['ref']} line {line['line']} has not been approved against a fund: approve it "
                         f"first with `thcli measures approve {case['ref']} {line['line']} --fund FUND`")
    return _fund_row(db, "id = ?", [fund_id])


def _note_override(db: Database, case: dict, *, by: str, action: str, text: str) -> None:
    event(db, case["id"], "money", text, by=by)
    audit.record(db, by=by, action=action, ref=case["ref"])


# --- the money interface of measures (approve, decline, fitted) ------------------


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
        _require_covers(fund, on)
        _require_district(fund, case)
        for fund_id, figures in _line_figures(db, line["id"]).items():
            if figures["committed_pence"] > 0:
                other = _fund_row(db, "id = ?", [fund_id])
                raise NotAllowed(f"{case['ref']} line {line['line']} is already approved against "
                                 f"{_fund_label(other)} ({format_money(figures['committed_pence'])} committed)")
        caps = _over_cap(db, case, line, amount)
        reason = (over_cap_reason or "").strip()
        if caps and not reason:
            raise NotAllowed(f"{case['ref']}: " + "; and ".join(caps) + ". Approve with --over-cap-reason "
                             "REASON (recorded), or leave the line out")
        doing = f"approving {format_money(amount)} for {case['ref']} line {line['line']}"
        _check_overspend(db, fund, -amount, doing, allow_overspend)
        overspending = amount > 0 and remaining(db, fund["id"]) - amount < 0
        memo = f"approved: {line['code']} x{line['quantity']}"
        if caps:
            memo += f"; over cap: {reason}"
        if overspending:
            memo += f"; overspend allowed: {allow_overspend.strip()}"
        _append(db, kind="commitment", amount=-amount, fund_id=fund["id"], on=on, by=by, case_id=case["id"],
                line_id=line["id"], memo=memo)
        changes: dict[str, Any] = {"fund_id": fund["id"]}
        if caps:
            changes["over_cap_reason"] = reason
        db["measure_lines"].update(line["id"], changes)
        if caps:
            _note_override(db, case, by=by, action="budget.over_cap",
                           text=f"line {line['line']} approved over the cap: {reason}")
        if overspending:
            _note_override(db, case, by=by, action="budget.overspend",
                           text=f"line {line['line']} approved although {fund['code']} goes below zero: "
                                f"{allow_overspend.strip()}")


def release_line(db: Database, line: dict, *, by: str, on: dt.date, memo: str) -> None:
    """Give back a line's whole open commitment (``measures decline`` or remove)."""
    with write(db):
        for fund_id, figures in _line_figures(db, line["id"]).items():
            if figures["committed_pence"] > 0:
                _append(db, kind="release", amount=figures["committed_pence"], fund_id=fund_id, on=on, by=by,
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
        fund = _line_fund(db, line, case)
        figures = _line_figures(db, line["id"]).get(fund["id"], {"committed_pence": 0, "paid_pence": 0})
        open_ = figures["committed_pence"]
        charged = open_ + figures["paid_pence"]
        difference = actual_cost_pence - charged
        if difference < 0 and open_ > 0:
            _append(db, kind="release", amount=min(-difference, open_), fund_id=fund["id"], on=on, by=by,
                    case_id=case["id"], line_id=line["id"],
                    memo=f"fitted for {format_money(actual_cost_pence)}, under the estimate")
        elif difference > 0:
            doing = f"fitting {case['ref']} line {line['line']} for {format_money(difference)} more than committed"
            _check_overspend(db, fund, -difference, doing, allow_overspend)
            memo = f"fitted for {format_money(actual_cost_pence)}, over the estimate"
            overspending = remaining(db, fund["id"]) - difference < 0
            if overspending:
                memo += f"; overspend allowed: {allow_overspend.strip()}"
            _append(db, kind="commitment", amount=-difference, fund_id=fund["id"], on=on, by=by,
                    case_id=case["id"], line_id=line["id"], memo=memo)
            if overspending:
                _note_override(db, case, by=by, action="budget.overspend",
                               text=f"line {line['line']} fitted for more although {fund['code']} goes below "
                                    f"zero: {allow_overspend.strip()}")


# --- contributions, payments, refunds, corrections --------------------------------


def _not_future(on: dt.date | None, option: str = "--date") -> dt.date:
    today = clock.today()
    if on is None:
        return today
    if on > today:
        raise BadInput(f"{parse.format_date(on)} is in the future: money is recorded when it moves",
                       option)
    return on


def _case_line(db: Database, case: dict, number: int) -> dict:
    line = one(db, "SELECT * FROM measure_lines WHERE case_id = ? AND line = ?", [case["id"], number])
    if line is None:
        numbers = [str(r[0]) for r in db.conn.execute(
            "SELECT line FROM measure_lines WHERE case_id = ? ORDER BY line", [case["id"]])]
        raise NotFound(f"{case['ref']} has no measure line {number}: "
                       + (f"its lines are {', '.join(numbers)} (`thcli measures list {case['ref']}`)"
                          if numbers else "it has no measures yet"))
    return line


def contribution_fund(db: Database, case: dict, on: dt.date) -> dict:
    """The fund a contribution goes to when ``--fund`` is not given.

    The fund the case's approved measures are charged to, else the year's only
    fund open to the case's district; otherwise ``--fund`` is needed (exit 2).
    """
    charged = [r[0] for r in db.conn.execute(
        "SELECT DISTINCT fund_id FROM measure_lines WHERE case_id = ? AND fund_id IS NOT NULL "
        "AND status IN ('approved', 'ordered', 'fitted', 'removed') ORDER BY fund_id", [case["id"]])]
    if len(charged) == 1:
        return _fund_row(db, "id = ?", charged)
    year = parse.financial_year_of(on)
    open_to_case = list(db.query(
        "SELECT * FROM funds WHERE year = ? AND (district IS NULL OR district = ?) ORDER BY code",
        [year, case["district"]]))
    if not charged and len(open_to_case) == 1:
        return open_to_case[0]
    if charged:
        why = (f"{case['ref']}'s measures are charged to "
               + ", ".join(_fund_row(db, "id = ?", [i])["code"] for i in charged))
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
    on = _not_future(on)
    with write(db):
        case = case_row(db, ref)
        if fund_text:
            fund = find_fund(db, fund_text)
            _require_district(fund, case)
        else:
            fund = contribution_fund(db, case, on)
        what = "pledged" if pledged else "received"
        entry = _append(db, kind="contribution", amount=amount_pence, fund_id=fund["id"], on=on, by=by,
                        case_id=case["id"], contributor=contributor, pledged=pledged,
                        memo=memo or f"{what} {'by' if pledged else 'from'} the {contributor.replace('_', ' ')}")
        event(db, case["id"], "money", f"{format_money(amount_pence)} contribution {what} from the "
                        f"{contributor.replace('_', ' ')} ({fund['code']})", by=by)
        audit.record(db, by=by, action="budget.contribution", ref=case["ref"], detail=f"entry {entry}")
        return _recorded(db, [entry], fund)


def pay(db: Database, ref: str, line_number: int, *, amount_pence: int, invoice: str, by: str,
        on: dt.date | None = None, allow_overspend: str | None = None) -> Recorded:
    """Record an invoice paid on a measure line (the payment, and the commitment it releases).

    The payment releases the line's open commitment up to its amount (all of
    it once the line is fitted: the invoice settles it). Paying more than was
    committed draws the rest from the fund, and the overspend rule applies.
    """

    invoice = (invoice or "").strip()
    if not invoice:
        raise BadInput("a payment needs the invoice number", "--invoice")
    if amount_pence <= 0:
        raise BadInput("a payment must be more than £0.00", "--amount")
    on = _not_future(on)
    with write(db):
        case = case_row(db, ref)
        line = _case_line(db, case, line_number)
        label = f"{case['ref']} line {line['line']}"
        if line["status"] == "declined":
            raise NotAllowed(f"{label} was declined: no payment can be made on a declined line")
        if line["status"] not in PAYABLE:
            raise NotAllowed(f"{label} is {line['status']}, not approved: approve it first with "
                             f"`thcli measures approve {case['ref']} {line['line']} --fund FUND`")
        earlier = db.conn.execute(
            "SELECT p.id FROM ledger p WHERE p.kind = 'payment' AND p.line_id = ? AND lower(p.invoice) = lower(?) "
            "AND NOT EXISTS (SELECT 1 FROM ledger c WHERE c.corrects_id = p.id)", [line["id"], invoice]).fetchone()
        if earlier:
            raise NotAllowed(f"invoice {invoice} is already paid on {label} (entry {earlier[0]}): if that "
                             f"entry was wrong, correct it first with `thcli budget correct {earlier[0]}`")
        fund = _line_fund(db, line, case)
        open_ = _line_figures(db, line["id"]).get(fund["id"], {"committed_pence": 0})["committed_pence"]
        open_ = max(open_, 0)
        settles = line["status"] in ("fitted", "removed")
        release = open_ if settles else min(open_, amount_pence)
        effect = release - amount_pence
        _check_overspend(db, fund, effect, f"paying {format_money(amount_pence)} on {label}", allow_overspend)
        overspending = effect < 0 and remaining(db, fund["id"]) + effect < 0
        memo = f"overspend allowed: {allow_overspend.strip()}" if overspending else None
        entries = [_append(db, kind="payment", amount=-amount_pence, fund_id=fund["id"], on=on, by=by,
                           case_id=case["id"], line_id=line["id"], invoice=invoice, memo=memo)]
        if release:
            entries.append(_append(db, kind="release", amount=release, fund_id=fund["id"], on=on, by=by,
                                   case_id=case["id"], line_id=line["id"], invoice=invoice,
                                   memo=f"released by payment {entries[0]}"))
        event(db, case["id"], "money", f"{format_money(amount_pence)} paid on line {line['line']} "
                        f"(invoice {invoice}, {fund['code']})", by=by)
        audit.record(db, by=by, action="budget.pay", ref=case["ref"], detail=f"entry {entries[0]}")
        if overspending:
            _note_override(db, case, by=by, action="budget.overspend",
                           text=f"invoice {invoice} paid although {fund['code']} goes below zero: "
                                f"{allow_overspend.strip()}")
        return _recorded(db, entries, fund)


def refund(db: Database, ref: str, line_number: int, *, amount_pence: int, by: str, on: dt.date | None = None,
           invoice: str | None = None, memo: str | None = None) -> Recorded:
    """Record money paid back on a measure line (a contractor's credit note)."""

    if amount_pence <= 0:
        raise BadInput("a refund must be more than £0.00", "--amount")
    on = _not_future(on)
    with write(db):
        case = case_row(db, ref)
        line = _case_line(db, case, line_number)
        label = f"{case['ref']} line {line['line']}"
        paid = {fid: f["paid_pence"] for fid, f in _line_figures(db, line["id"]).items() if f["paid_pence"] > 0}
        total = sum(paid.values())
        if amount_pence > total:
            raise NotAllowed(f"{label} has {format_money(total)} paid on it: a refund cannot be more than that")
        fund_id = max(paid, key=lambda fid: paid[fid]) if len(paid) > 1 else next(iter(paid))
        if paid[fund_id] < amount_pence:
            raise NotAllowed(f"{label} was paid from several funds: refund at most {format_money(paid[fund_id])} "
                             "at once")
        fund = _fund_row(db, "id = ?", [fund_id])
        invoice = (invoice or "").strip() or None
        entry = _append(db, kind="refund", amount=amount_pence, fund_id=fund_id, on=on, by=by, case_id=case["id"],
                        line_id=line["id"], invoice=invoice,
                        memo=memo)
        event(db, case["id"], "money", f"{format_money(amount_pence)} refunded on line {line['line']} "
                        f"({fund['code']})", by=by)
        audit.record(db, by=by, action="budget.refund", ref=case["ref"], detail=f"entry {entry}")
        return _recorded(db, [entry], fund)


def correct(db: Database, entry_id: int, *, reason: str, by: str, on: dt.date | None = None,
            allow_overspend: str | None = None) -> Recorded:
    """Reverse a ledger entry with a correction (the entry itself is never changed).

    Allocations, contributions, payments and refunds can be corrected; a
    payment's correction also restores the commitment its payment released.
    """
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("say why the entry is wrong", "--reason")
    on = _not_future(on)
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
            follow = {"commitment": "approving, declining and fitting measures",
                      "release": "its payment or the measure line"}[entry["kind"]]
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
            paid = _line_figures(db, entry["line_id"]).get(entry["fund_id"], {"paid_pence": 0})["paid_pence"]
            if paid + entry["amount_pence"] < 0:
                raise NotAllowed(f"entry {entry_id} cannot be corrected while refunds on its line are more than "
                                 "the payments left: correct the refund first")
        fund = _fund_row(db, "id = ?", [entry["fund_id"]])
        effect = -sum(r["amount_pence"] for r in reversals if not r["pledged"])
        _check_overspend(db, fund, effect, f"correcting entry {entry_id}", allow_overspend)
        overspending = effect < 0 and remaining(db, fund["id"]) + effect < 0
        extra = f"; overspend allowed: {allow_overspend.strip()}" if overspending else ""
        written = []
        for r in reversals:
            what = f"corrects {r['id']}" + (f" with payment {entry_id}" if r["id"] != entry_id else "")
            written.append(_append(db, kind="correction", amount=-r["amount_pence"], fund_id=r["fund_id"], on=on,
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
        return _recorded(db, written, fund)


# --- reading the ledger -----------------------------------------------------------

_ENTRY_SQL = """
    SELECT l.id, l.at, l.on_date, l.kind, l.amount_pence, f.code AS fund, c.ref, m.line, l.invoice,
           l.contributor, l.pledged, l.corrects_id AS corrects, l.memo, l.by
    FROM ledger l JOIN funds f ON f.id = l.fund_id
    LEFT JOIN cases c ON c.id = l.case_id LEFT JOIN measure_lines m ON m.id = l.line_id
"""


def _entry(row: dict) -> dict:
    row["pledged"] = bool(row["pledged"])
    return row


def entry_row(db: Database, entry_id: int) -> dict:
    """One ledger entry as shown by ``budget ledger``."""
    return _entry(one(db, _ENTRY_SQL + " WHERE l.id = ?", [entry_id]))


@dataclass
class LedgerFilters:
    year: str | None = None
    fund: str | None = None
    ref: str | None = None
    kind: str | None = None


def ledger_entries(db: Database, filters: LedgerFilters) -> list[dict]:
    """Ledger entries, oldest first, by fund year, fund, case and kind."""
    where, params = [], []
    if filters.year:
        where.append("f.year = ?")
        params.append(require_year(db, filters.year))
    if filters.fund:
        where.append("l.fund_id = ?")
        params.append(find_fund(db, filters.fund)["id"])
    if filters.ref:

        where.append("l.case_id = ?")
        params.append(case_row(db, filters.ref)["id"])
    if filters.kind:
        kind = filters.kind.strip().lower()
        if kind not in KINDS:
            raise BadInput(f"{filters.kind!r} is not a kind of entry: use one of {', '.join(KINDS)}",
                           "--kind")
        where.append("l.kind = ?")
        params.append(kind)
    sql = _ENTRY_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY l.id"
    return [_entry(r) for r in db.query(sql, params)]


# --- budget status ----------------------------------------------------------------


FIGURE_KEYS = ("allocated_pence", "contributions_pence", "pledged_pence", "committed_pence", "paid_pence",
               "remaining_pence", "forecast_pence")


def _forecast(spend: int, year: str, today: dt.date) -> tuple[int, float]:
    """Year-end spend at the rate so far, and the months of the year elapsed."""
    start, end = year_span(year)
    total_days = (end - start).days + 1
    if today < start:
        return spend, 0.0
    elapsed = min((today - start).days + 1, total_days)
    forecast = (spend * total_days + elapsed // 2) // elapsed
    return max(forecast, spend), round(elapsed / total_days * 12, 1)


def status(db: Database, *, year: str | None = None, today: dt.date | None = None) -> dict:
    """Every fund of a year with its figures and forecast, totals per district and for the scheme.

    ``year`` defaults to the current financial year; a year without funds is
    BadInput (exit 2) when asked for.
    """
    today = today or clock.today()
    label = require_year(db, year) if year else parse.financial_year_of(today)
    funds = []
    warnings = []
    for row in _fund_figures(db, year=label):
        spend = row["committed_pence"] + row["paid_pence"]
        forecast, months = _forecast(spend, row["year"], today)
        total = row["allocated_pence"] + row["contributions_pence"]
        fund = {
            "fund": row["code"], "id": row["id"], "name": row["name"], "year": row["year"],
            "source": row["source"], "district": row["district"],
            "allocated_pence": row["allocated_pence"], "contributions_pence": row["contributions_pence"],
            "pledged_pence": row["pledged_pence"], "committed_pence": row["committed_pence"],
            "paid_pence": row["paid_pence"], "remaining_pence": row["remaining_pence"],
            "forecast_pence": forecast, "months_elapsed": months,
            "forecast_passes_fund": forecast > total,
        }
        funds.append(fund)
        if row["remaining_pence"] < 0:
            warnings.append(f"{_fund_label(row)} is overspent by {format_money(-row['remaining_pence'])}")
        elif forecast > total:
            warnings.append(f"{_fund_label(row)}: at the rate so far ({format_money(spend)} in {months:g} months) "
                            f"{label} will need {format_money(forecast)}, more than the fund's {format_money(total)}")
    districts: dict[str | None, dict] = {}
    for fund in funds:
        group = districts.setdefault(fund["district"], {"district": fund["district"], "funds": 0,
                                                         **{k: 0 for k in FIGURE_KEYS}})
        group["funds"] += 1
        for key in FIGURE_KEYS:
            group[key] += fund[key]
    scheme = {"district": None, "funds": len(funds), **{k: sum(f[k] for f in funds) for k in FIGURE_KEYS}}
    return {"year": label, "today": today.isoformat(), "funds": funds,
            "districts": sorted(districts.values(), key=lambda d: (d["district"] is not None, d["district"] or "")),
            "scheme": scheme, "warnings": warnings}


# --- the money of one case (referral show) ----------------------------------------


def case_money(db: Database, case_id: int) -> dict:
    """Committed, paid and contributions of a case, and the funds they are in."""
    rows = list(db.query(
        f"""WITH effective AS ({_effective("l.case_id = :case")}),
            pledges AS (SELECT fund_id, sum(outstanding) AS pledged_pence
                        FROM ({_PLEDGES.format(where='')}) GROUP BY fund_id)
            SELECT f.code AS fund, f.name, f.year, {_FIGURES},
                   coalesce(p.pledged_pence, 0) AS pledged_pence
            FROM effective e JOIN funds f ON f.id = e.fund_id LEFT JOIN pledges p ON p.fund_id = e.fund_id
            GROUP BY e.fund_id ORDER BY f.year, f.code""", {"case": case_id}))
    funds = [{"fund": r["fund"], "name": r["name"], "year": r["year"], "committed_pence": r["committed_pence"],
              "paid_pence": r["paid_pence"], "contributions_pence": r["contributions_pence"],
              "pledged_pence": r["pledged_pence"]} for r in rows]
    return {
        "committed_pence": sum(f["committed_pence"] for f in funds),
        "paid_pence": sum(f["paid_pence"] for f in funds),
        "contributions_pence": sum(f["contributions_pence"] for f in funds),
        "pledged_pence": sum(f["pledged_pence"] for f in funds),
        "funds": funds,
    }
