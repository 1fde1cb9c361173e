"""The retention schedule: anonymising closed cases once they have been kept long enough.

A case that ended (closed, declined, withdrawn or no contact) is kept for
``retention_case_years`` after it ended (default 6), then **anonymised**:

- the client's details, addresses, safe contact and the perpetrator are
  removed (the client's row and addresses once no other case of theirs
  remains), the case's personal and free-text fields are emptied, the free
  text of its ledger entries (memos, invoice numbers) is removed, and the
  files thcli wrote about it (its letters, and subject access files holding
  its data) are deleted: only files this database wrote and that are
  unchanged since (case_files.py); the others are reported, never deleted;
- what the county's figures need is kept: the reference, the codes
  (district, route, risk, tenure, outcome, measures...), counts of adults
  and children, money, and dates reduced to their month (the first of it);
  the client is kept as their county pseudonym (``cases.client_pseudonym``),
  so repeat referrals still count as one person;
- the figures of the finance records stay: the ledger is append-only and
  hash-chained; its free text is sealed apart so it can be removed while the
  chain still proves every figure. Each ledger entry's text is also removed
  at its own finance retention date, ``retention_finance_years`` after the
  end of its financial year (default 6 + 1), whatever its case: after that
  the entry is an anonymous figure.

Then the traces go: ``secure_delete`` (set on every connection) zeroes what
was deleted, ``VACUUM`` rewrites the file, and a ``TRUNCATE`` checkpoint
empties the WAL. A case under **legal hold** (``referral hold``) is never
anonymised. The audit keeps who anonymised which case, and when.

What happens to each column is declared below (:data:`CLEARED`,
:data:`BY_MONTH`, :data:`KEPT`); a test fails when a new column is added to a
case's tables without being placed in one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thcli import audit, budget, calendar, case_files, clock, county, dates, settings
from thcli.cases import case_row, event
from thcli.db import Database, one, write
from thcli.dbfile import translated
from thcli.errors import NotAllowed
from thcli.workflow import ENDED

#: Columns emptied (NULL, or '' where the column may not be NULL), per table a case owns.
CLEARED: dict[str, tuple[str, ...]] = {
    "cases": (
        "client_id", "address_id", "crime_ref", "referrer_name", "referrer_org", "referrer_role",
        "referrer_phone", "referrer_email", "support_worker", "children_ages", "pregnant",
        "landlord_name", "landlord_email", "landlord_phone", "landlord_address", "landlord_postcode",
        "chooses_to_stay",
        "perpetrator_lives_there", "perpetrator_can_enter", "dash_score", "next_due_on", "next_due_what",
        "received_at", "next_due_at",
    ),
    "consents": (),
    "events": ("detail",),
    "surveys": ("surveyor", "notes"),
    "measure_lines": ("location", "over_cap_reason"),
    "followups": ("note", "early_reason"),
    "letters": ("path", "sha256", "override_reason", "made_in"),
    "eligibility_overrides": ("reason",),
}
#: Dates and moments kept to their month (the first of it).
BY_MONTH: dict[str, tuple[str, ...]] = {
    "cases": ("received_on", "marac_date", "dash_date", "landlord_permission_on", "first_contact_on",
              "fitted_on", "closed_on", "created_at"),
    "consents": ("given_on", "withdrawn_on"),
    "events": ("at",),
    "surveys": ("requested_on", "surveyed_on", "created_at"),
    "measure_lines": ("approved_on", "ordered_on", "fitted_on", "removed_on"),
    "followups": ("done_on", "at"),
    "letters": ("made_at",),
    "eligibility_overrides": ("at",),
}
#: Columns kept as they are: codes, counts, money, links, and the coordinators' names.
KEPT: dict[str, tuple[str, ...]] = {
    "cases": ("id", "ref", "client_pseudonym", "status", "status_before_hold", "district", "route",
              "risk_level", "emergency", "marac", "referral_form", "adults", "children", "tenure",
              "landlord_permission", "reason", "legal_hold", "anonymised_on", "updated_at"),
    "consents": ("id", "case_id", "scope", "given_by", "withdrawn_by"),
    "events": ("id", "case_id", "kind", "by"),
    "surveys": ("id", "case_id", "assessor"),
    "measure_lines": ("id", "case_id", "line", "survey_id", "code", "quantity", "unit_cost_pence",
                      "estimated_cost_pence", "kind", "removable", "status", "fund_id", "declined_reason",
                      "contractor", "actual_cost_pence", "stock_holder"),
    "followups": ("id", "case_id", "outcome", "by"),
    "letters": ("id", "case_id", "kind", "recipient", "made_by"),
    "eligibility_overrides": ("id", "case_id", "rule", "step", "by"),
}
#: Rows of these tables are deleted with the case's personal data.
DELETED_WITH_CASE = ("contacts", "perpetrators", "subject_access_files")
#: Rows of these tables are deleted once no case of the client remains.
DELETED_WITH_CLIENT = ("addresses", "clients")
#: Tables that point at a case and hold nothing personal: left as they are (the ledger's free
#: text is removed with budget.redact, its figures kept).
UNTOUCHED = ("case_repeats", "ledger", "stock_movements")


@dataclass
class DueCase:
    """A case the schedule has reached, as ``retention review`` shows it."""

    ref: str
    status: str
    closed_on: str
    due_on: str
    legal_hold: bool
    client_kept: bool
    letter_files: int
    finance_kept_until: str | None

    def as_dict(self) -> dict:
        return {
            "ref": self.ref, "status": self.status, "closed_on": self.closed_on, "due_on": self.due_on,
            "legal_hold": self.legal_hold, "client_kept": self.client_kept,
            "letter_files": self.letter_files, "finance_kept_until": self.finance_kept_until,
        }


@dataclass
class Outcome:
    """What ``retention apply`` did (or, with ``dry_run``, would do)."""

    dry_run: bool
    anonymised: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    clients_removed: int = 0
    letter_files_deleted: int = 0
    subject_access_files_deleted: int = 0
    #: ledger entries whose memo or invoice number was removed (with their case, or at their finance date)
    ledger_entries_cleaned: int = 0
    #: files recorded for the cases that were not deleted, and why (missing, changed, another copy's)
    files_kept: list[str] = field(default_factory=list)
    wal_emptied: bool = True


def case_years(db: Database) -> int:
    return int(settings.get(db, "retention_case_years"))


def finance_years(db: Database) -> int:
    return int(settings.get(db, "retention_finance_years"))


def due_date(closed_on: str, years: int) -> dt.date:
    """When a case that ended on ``closed_on`` reaches the end of its retention."""
    return calendar.add_months(dt.date.fromisoformat(closed_on[:10]), 12 * years)


def finance_kept_until(db: Database, case_id: int, years: int) -> str | None:
    """The end of the finance retention of a case's money (None: no money recorded)."""
    last = db.conn.execute("SELECT max(on_date) FROM ledger WHERE case_id = ?", [case_id]).fetchone()[0]
    if last is None:
        return None
    _, _, year_end = dates.financial_year(dates.financial_year_of(dt.date.fromisoformat(last)))
    return calendar.add_months(year_end, 12 * years).isoformat()


def _database_file(db: Database, db_path: Path | None) -> Path | None:
    return Path(db_path).expanduser().resolve() if db_path is not None else case_files.database_file(db)


def letter_files(db: Database, db_path: Path | None, case_id: int) -> list[Path]:
    """The letter files of a case that exist on this computer."""
    here = _database_file(db, db_path)
    found = []
    for (stored,) in db.conn.execute("SELECT path FROM letters WHERE case_id = ? AND path IS NOT NULL AND path <> ''",
                                     [case_id]):
        file = case_files.located(here, stored)
        if file.is_file():
            found.append(file)
    return found


@dataclass
class FilePlan:
    """The files thcli recorded for some cases, each once: those retention deletes, and those it keeps (why)."""

    #: ("letter" | "subject access", the file as found): this database's own and unchanged
    to_delete: list[tuple[str, Any]] = field(default_factory=list)
    #: "REF: letter file PATH (why)" for each recorded file that is there but not thcli's to delete
    kept: list[str] = field(default_factory=list)


def plan_files(db: Database, db_path: Path | None, cases: list[tuple[int, str]]) -> FilePlan:
    """What retention does with the files thcli recorded for ``cases`` ((id, ref) pairs), in order.

    Both ``retention apply`` and its dry run use this, so they agree. A subject access file
    holds every case of its client and is recorded against each: it is counted once, with the
    first of the cases, by its latest record (an export replaced with --force by an older
    thcli left the earlier records too). Missing files are left out: there is nothing to do.
    """
    here = _database_file(db, db_path)
    plan, seen = FilePlan(), set()
    for case_id, ref in cases:
        found = [("letter", case_files.state_of(here, stored, sha256, made_in))
                 for stored, sha256, made_in in db.conn.execute(
                     "SELECT path, sha256, made_in FROM letters WHERE case_id = ? AND path IS NOT NULL "
                     "AND path <> '' ORDER BY id", [case_id])]
        found += [("subject access", case_files.state_of(here, stored, sha256, made_in))
                  for stored, sha256, made_in in db.conn.execute(
                      """SELECT path, sha256, made_in FROM subject_access_files
                         WHERE id IN (SELECT max(id) FROM subject_access_files
                                      WHERE path IN (SELECT path FROM subject_access_files WHERE case_id = ?)
                                      GROUP BY path)
                         ORDER BY id""", [case_id])]
        for what, state in found:
            if (what, state.file) in seen or state.state == "missing":
                continue
            seen.add((what, state.file))
            if state.state == "ok":
                plan.to_delete.append((what, state))
            else:
                plan.kept.append(f"{ref}: {what} file {state.describe()}")
    return plan


def finance_cutoff(db: Database, today: dt.date) -> str:
    """The last day of the latest financial year whose entries are past their finance retention."""
    cutoff = calendar.add_months(today, -12 * finance_years(db))
    year_end = dt.date(cutoff.year if cutoff.month >= 4 else cutoff.year - 1, 3, 31)
    return year_end.isoformat()


_FINANCE_DUE = ("on_date <= ? AND (case_id IS NULL OR case_id NOT IN (SELECT id FROM cases WHERE legal_hold = 1))")


def review(db: Database, *, today: dt.date | None = None, db_path: Path | None = None) -> list[DueCase]:
    """Cases past their retention and not yet anonymised, oldest first (held ones included, marked)."""
    today = today or clock.today()
    years, money_years = case_years(db), finance_years(db)
    cutoff = calendar.add_months(today, -12 * years).isoformat()
    rows = list(db.query(
        f"""SELECT c.id, c.ref, c.status, c.closed_on, c.legal_hold, c.client_id,
                   (SELECT count(*) FROM cases o WHERE o.client_id = c.client_id AND o.id <> c.id) AS others
            FROM cases c
            WHERE c.status IN ({', '.join('?' * len(ENDED))}) AND c.anonymised_on IS NULL
              AND c.closed_on IS NOT NULL AND c.closed_on <= ?
            ORDER BY c.closed_on, c.id""",
        [*ENDED, cutoff]))
    return [
        DueCase(
            ref=r["ref"], status=r["status"], closed_on=r["closed_on"],
            due_on=due_date(r["closed_on"], years).isoformat(), legal_hold=bool(r["legal_hold"]),
            client_kept=r["client_id"] is not None and r["others"] > 0,
            letter_files=len(letter_files(db, db_path, r["id"])),
            finance_kept_until=finance_kept_until(db, r["id"], money_years),
        )
        for r in rows
    ]


def _month_sql(column: str) -> str:
    """SQL for a date (YYYY-MM-DD) or moment (YYYY-MM-DDTHH:MM:SSZ) kept to the first of its month."""
    return (f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN length({column}) > 10 THEN substr({column}, 1, 7) || '-01T00:00:00Z' "
            f"ELSE substr({column}, 1, 7) || '-01' END")


def _not_null(db: Database, table: str) -> set[str]:
    return {r[1] for r in db.conn.execute(f"PRAGMA table_info({table})") if r[3]}


def _anonymise_table(db: Database, table: str, key: str, case_id: int, extra: dict | None = None) -> None:
    required = _not_null(db, table)
    sets = [f"{c} = {_month_sql(c)}" for c in BY_MONTH[table]]
    sets += [f"{c} = ''" if c in required else f"{c} = NULL" for c in CLEARED[table]]
    params: list = []
    for column, value in (extra or {}).items():
        sets.append(f"{column} = ?")
        params.append(value)
    if sets:
        db.conn.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {key} = ?", [*params, case_id])


def anonymise_case(db: Database, case: dict, *, by: str, today: dt.date,
                   db_path: Path | None = None, outcome: Outcome | None = None) -> tuple[bool, int]:
    """Anonymise one case (inside the caller's write); returns (client removed, letter files deleted).

    ``outcome``, when given, also collects the subject access files deleted,
    the ledger entries cleaned and the files kept (with why).
    """
    client_id = case["client_id"]
    pseudonym = county.client_pseudonym(db, client_id) if client_id is not None else case["client_pseudonym"]
    deleted = 0
    # Files go before the rows change: if the transaction fails, the next run finds the rows again.
    # Only this database's own, unchanged files; the rest are reported.
    plan = plan_files(db, db_path, [(case["id"], case["ref"])])
    for what, found in plan.to_delete:
        if case_files.remove(found):
            if what == "letter":
                deleted += 1
            elif outcome is not None:
                outcome.subject_access_files_deleted += 1
        elif found.state == "changed":  # could not be deleted after all
            plan.kept.append(f"{case['ref']}: {what} file {found.describe()}")
    if outcome is not None:
        outcome.files_kept += plan.kept
    sar_paths = [r[0] for r in db.conn.execute("SELECT path FROM subject_access_files WHERE case_id = ?",
                                               [case["id"]])]
    if sar_paths:  # the same files hold the client's other cases: they are dealt with now, once
        db.conn.execute(f"DELETE FROM subject_access_files WHERE path IN ({', '.join('?' * len(sar_paths))})",
                        sar_paths)
    cleaned = budget.redact(db, "case_id = ?", [case["id"]], on=today)
    if outcome is not None:
        outcome.ledger_entries_cleaned += cleaned
    for table in DELETED_WITH_CASE:
        db.conn.execute(f"DELETE FROM {table} WHERE case_id = ?", [case["id"]])
    _anonymise_table(db, "cases", "id", case["id"], {
        "client_pseudonym": pseudonym, "anonymised_on": today.isoformat(), "updated_at": clock.now_iso(),
    })
    for table in ("consents", "events", "surveys", "measure_lines", "followups", "letters"):
        _anonymise_table(db, table, "case_id", case["id"])
    removed = False
    if client_id is not None:
        remaining = db.conn.execute("SELECT count(*) FROM cases WHERE client_id = ?", [client_id]).fetchone()[0]
        if remaining == 0:
            db.conn.execute("DELETE FROM addresses WHERE client_id = ?", [client_id])
            db.conn.execute("DELETE FROM clients WHERE id = ?", [client_id])
            removed = True
    event(db, case["id"], "anonymised",
                    "personal data removed under the retention schedule", by=by)
    audit.record(db, by=by, action="retention.anonymise", ref=case["ref"],
                 detail=f"ended {case['closed_on'][:7]}")
    return removed, deleted


def apply(db: Database, *, by: str, dry_run: bool = False, today: dt.date | None = None,
          db_path: Path | None = None) -> Outcome:
    """Anonymise every case past its retention and not on legal hold, clean the ledger text past its
    finance retention, then remove the traces.

    With ``dry_run`` nothing changes: the outcome says what would be done.
    """
    today = today or clock.today()
    due = review(db, today=today, db_path=db_path)
    outcome = Outcome(dry_run=dry_run, held=[d.ref for d in due if d.legal_hold])
    chosen = [d for d in due if not d.legal_hold]
    finance_due = [finance_cutoff(db, today)]
    if dry_run:
        outcome.anonymised = [d.ref for d in chosen]
        outcome.clients_removed = _clients_leaving(db, [d.ref for d in chosen])
        plan = plan_files(db, db_path, [(_case_id(db, d.ref), d.ref) for d in chosen])
        outcome.letter_files_deleted = sum(1 for what, _ in plan.to_delete if what == "letter")
        outcome.subject_access_files_deleted = len(plan.to_delete) - outcome.letter_files_deleted
        outcome.files_kept = plan.kept
        marks = ", ".join("?" * len(chosen))
        outcome.ledger_entries_cleaned = db.conn.execute(
            f"""SELECT count(*) FROM ledger WHERE redacted_on IS NULL AND details_sha256 IS NOT NULL
                AND (invoice IS NOT NULL OR memo IS NOT NULL)
                AND (({_FINANCE_DUE}) OR case_id IN (SELECT id FROM cases WHERE ref IN ({marks or "NULL"})))""",
            [*finance_due, *[d.ref for d in chosen]]).fetchone()[0]
        return outcome
    with write(db):
        for item in chosen:
            case = one(db, "SELECT * FROM cases WHERE ref = ?", [item.ref])
            if case is None or case["anonymised_on"] or case["legal_hold"]:
                continue  # changed since the review (another thcli)
            removed, deleted = anonymise_case(db, case, by=by, today=today, db_path=db_path, outcome=outcome)
            outcome.anonymised.append(case["ref"])
            outcome.clients_removed += int(removed)
            outcome.letter_files_deleted += deleted
        outcome.ledger_entries_cleaned += budget.redact(db, _FINANCE_DUE, finance_due, on=today)
        if not outcome.anonymised and not outcome.ledger_entries_cleaned:
            return outcome
        count = len(outcome.anonymised)
        detail = f"{count} case{'' if count == 1 else 's'}"
        if outcome.ledger_entries_cleaned:
            detail += f"; ledger text removed from {outcome.ledger_entries_cleaned} entries"
        audit.record(db, by=by, action="retention.apply", detail=detail)
    outcome.wal_emptied = remove_traces(db)
    return outcome


def _case_id(db: Database, ref: str) -> int:
    return db.conn.execute("SELECT id FROM cases WHERE ref = ?", [ref]).fetchone()[0]


def _clients_leaving(db: Database, refs: list[str]) -> int:
    """How many clients would have no case left once these cases are anonymised."""
    if not refs:
        return 0
    marks = ", ".join("?" * len(refs))
    return db.conn.execute(
        f"""SELECT count(*) FROM (SELECT DISTINCT client_id FROM cases WHERE ref IN ({marks}) AND client_id IS NOT NULL)
            AS leaving WHERE NOT EXISTS (SELECT 1 FROM cases o WHERE o.client_id = leaving.client_id
                                          AND o.ref NOT IN ({marks}))""",
        [*refs, *refs]).fetchone()[0]


def remove_traces(db: Database) -> bool:
    """VACUUM, then empty the WAL; False when another connection kept the WAL from being emptied."""
    with translated():
        db.conn.execute("VACUUM")
        busy, _, _ = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


# --- legal hold ------------------------------------------------------------------------------


def set_hold(db: Database, ref: str, *, by: str, release: bool = False) -> dict:
    """Put a case on legal hold (retention never anonymises it), or release it; returns the case."""

    with write(db):
        case = case_row(db, ref)
        if case["anonymised_on"]:
            raise NotAllowed(f"{case['ref']} was anonymised on {dates.format_date(case['anonymised_on'])}: "
                             "there is nothing personal left to hold")
        if bool(case["legal_hold"]) != release:
            state = "not on legal hold" if release else "already on legal hold"
            raise NotAllowed(f"{case['ref']} is {state}")
        db["cases"].update(case["id"], {"legal_hold": 0 if release else 1, "updated_at": clock.now_iso()})
        what = "released from legal hold" if release else "put on legal hold: retention will not anonymise it"
        event(db, case["id"], "legal_hold", what, by=by)
        audit.record(db, by=by, action="referral.hold_release" if release else "referral.hold", ref=case["ref"])
        return case_row(db, case["ref"])
