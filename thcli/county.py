"""The county partnership export (COUNTY_EXPORT.md, version ``thcli-county-2``).

Two CSV files, the same from every district so that the county can add them up:

- the **case extract** (``export cases``): one pseudonymised row per case
  referred in the period. Cases are keyed by an HMAC of their reference under
  the scheme's own secret (``secrets.county_hmac``, never exported), clients by
  an HMAC of their client number, so repeat referrals can be counted without
  a name. It never holds a name, date of birth, address, postcode, phone,
  email, free text, perpetrator or referrer detail: it is read by one SQL
  statement (:data:`CASE_COLUMNS_SQL`) that selects none of them (but the
  date of birth, which only becomes an age band, and the name, which only
  goes into the county-key pseudonym), streamed a row at a time, so 100,000
  cases take no more memory than ten.
- **version 2** (issue 17): where the scheme holds the partnership's county
  key, a client with a date of birth is keyed on the person instead
  (:class:`CountyPseudonymiser`: HMAC-SHA256 of the normalised ``NAME|DOB``
  under the county key), so that one survivor has one pseudonym in every
  district's file; the ``pseudonym_scope`` column says which (``county`` or
  ``scheme``). Both files say ``thcli-county-2``: the contract versions them
  together, and the summary's columns are unchanged.
- the **aggregate return** (``export summary``): counts, money, medians and
  percentages for a period, with small-number suppression so that it can be
  published (the rules are in :func:`protect`).

Both files follow RFC 4180 with CRLF line ends, UTF-8 with a byte-order mark
unless asked not to (Excel needs it for ``£`` and accents), ``spec_version``
first; text cells that a spreadsheet would run as a formula are defused
(:func:`defuse`); numbers are written by thcli as numbers and never defused
(a net refund stays ``-12.00``). Each file is written to a private temporary
file beside the destination and moved into place, and each export is audited
(who, when, period, rows, file: never a personal value).

Which cases count where (periods are inclusive; a quarter is a calendar
quarter, a year a financial year):

- ``referrals``: cases received in the period;
- ``households_supported``: cases with a measure fitted (or issued) in the
  period; ``individuals_supported_*`` add up their adults (the client alone
  when not recorded) and children;
- ``households_unable_to_support``: cases declined or with no contact, or
  withdrawn with nothing fitted, ended in the period (by reason);
- ``households_support_ended``: cases closed, or withdrawn after a measure
  was fitted, ended in the period (by reason);
- ``measures_fitted``: measure lines fitted in the period;
- ``spend`` and ``contributions``: ledger money dated in the period (payments
  net of refunds and corrections; contributions received);
- ``median_days_to_fit`` and ``percent_within_target``: cases whose measures
  were all fitted in the period.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from thcli import audit, calendar, clock, codes, parse, referrals, settings, targets
from thcli.db import write
from thcli.errors import BadInput, DatabaseProblem, NotAllowed, ThcliError
from thcli.files import head, may_replace, os_problem, place, printable, sync_folder, temporary_beside

if TYPE_CHECKING:
    from sqlite_utils import Database

SPEC_VERSION = "thcli-county-2"
#: Every version a reader accepts (COUNTY_EXPORT.md: readers accept both).
SPEC_VERSIONS = ("thcli-county-1", "thcli-county-2")

# --- periods --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days an export or report covers, both ends included."""

    label: str
    start: dt.date
    end: dt.date

    def describe(self) -> str:
        """``2026/27 (01/04/2026 to 31/03/2027)``."""
        return f"{self.label} ({parse.format_date(self.start)} to {parse.format_date(self.end)})"

    def months(self) -> list[str]:
        """Every month the period touches, as ``YYYY-MM``."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(f"{day.year:04d}-{day.month:02d}")
            day = calendar.add_months(day, 1)
        return months

    def params(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


PERIOD_HINT = "--year 2026/27, --quarter 2026Q3, or --from 2026-04-01 --to 2026-06-30"


def period(*, start: dt.date | None = None, end: dt.date | None = None, quarter: str | None = None,
           year: str | None = None, today: dt.date | None = None, required: bool = True) -> Period:
    """The period chosen by ``--from/--to``, ``--quarter`` or ``--year`` (exactly one of them).

    Without any: BadInput when ``required``, else the current financial year.
    A quarter is a calendar quarter (``2026Q3``: July to September), a year a
    financial year (``2026/27``: April to March).
    """
    given = [name for name, value in (("--from/--to", start or end), ("--quarter", quarter), ("--year", year))
             if value]
    if len(given) > 1:
        raise BadInput(f"give one period, not {' and '.join(given)}: {PERIOD_HINT}")
    if quarter:
        try:
            first, last = parse.quarter(quarter)
        except BadInput as error:
            raise error.for_option("--quarter") from None
        return Period(f"{first.year}Q{(first.month + 2) // 3}", first, last)
    if year:
        try:
            label, first, last = parse.financial_year(year)
        except BadInput as error:
            raise error.for_option("--year") from None
        return Period(label, first, last)
    if start or end:
        if start is None:
            raise BadInput(f"the period needs its first day too, e.g. --from 2026-04-01 --to {end.isoformat()}",
                           "--from")
        if end is None:
            raise BadInput(f"the period needs its last day too, e.g. --from {start.isoformat()} --to 2026-06-30",
                           "--to")
        if end < start:
            raise BadInput(f"the period ends ({parse.format_date(end)}) before it starts "
                           f"({parse.format_date(start)}): swap --from and --to", "--to")
        return Period(f"{start.isoformat()}/{end.isoformat()}", start, end)
    if required:
        raise BadInput(f"say which period to export: {PERIOD_HINT}")
    label, first, last = parse.financial_year(parse.financial_year_of(today or clock.today()))
    return Period(label, first, last)


# --- pseudonyms -------------------------------------------------------------------------


class Pseudonymiser:
    """First 16 hex characters of HMAC-SHA256 under the scheme's county secret.

    The key is the stored secret's text (UTF-8). A case is keyed by its
    reference (``EV-2026-0042``), a client by ``client:`` and its client
    number, so the same client has the same pseudonym on every case.
    """

    def __init__(self, key: bytes):
        self._inner, self._outer = _hmac_pads(key)

    def __call__(self, text: str) -> str:
        # HMAC by hand from copied pad states: the same digest as hmac.new(key, text,
        # sha256), about three times quicker per row of a 100,000-case extract.
        inner = self._inner.copy()
        inner.update(text.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:16]

    def case(self, ref: str) -> str:
        return self(ref)

    def client(self, client_id: int) -> str:
        return self(f"client:{client_id}")


def pseudonymiser(db: Database) -> Pseudonymiser:
    """The scheme's pseudonymiser (DatabaseProblem when its secret is missing)."""
    row = db.conn.execute("SELECT value FROM secrets WHERE name = 'county_hmac'").fetchone()
    if row is None or not row[0]:
        raise DatabaseProblem(
            "the county pseudonym secret is missing from the database, so pseudonyms would not match "
            "earlier exports. Restore the latest backup with `thcli db restore BACKUP`."
        )
    return Pseudonymiser(row[0].encode("utf-8"))


def client_pseudonym(db: Database, client_id: int) -> str:
    """The county pseudonym of a client: store it in ``cases.client_pseudonym`` before the client is erased.

    The case extract uses the stored value once ``cases.client_id`` is NULL,
    so a client's repeat referrals still count as one person after anonymisation.
    """
    return pseudonymiser(db).client(client_id)


# --- the county key (COUNTY_EXPORT.md version 2; issue 17) ---------------------------------

#: The name of the county key in the ``secrets`` table (64 hex digits), set by ``thcli county key use``.
COUNTY_KEY_SECRET = "county_key"


def person_key(name: str, dob: str) -> str:
    """``NAME|DOB`` exactly as COUNTY_EXPORT.md v2 says every district must write it.

    NAME: the full name, Unicode NFKC, case-folded, every character that is
    not a letter removed but for single spaces between words. DOB: the date
    of birth as ``YYYY-MM-DD``.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch if unicodedata.category(ch).startswith("L") else " " if ch.isspace() else ""
                   for ch in folded)
    return " ".join(kept.split()) + "|" + dob


class CountyPseudonymiser(Pseudonymiser):
    """The client pseudonym under the partnership's county key: the same person, the same pseudonym everywhere."""

    def person(self, name: str | None, dob: str | None) -> str | None:
        """The pseudonym of ``NAME|DOB``; None without a full date of birth or a letter in the name."""
        if not name or not dob or not _FULL_DATE.fullmatch(dob):
            return None
        key = person_key(name, dob)
        return self(key) if not key.startswith("|") else None


def county_key(db: Database) -> bytes | None:
    """The county key the scheme holds (32 bytes), or None."""
    row = db.conn.execute("SELECT value FROM secrets WHERE name = ?", [COUNTY_KEY_SECRET]).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return bytes.fromhex(row[0])
    except ValueError:
        raise DatabaseProblem("the county key stored in the database is damaged: import the partnership's key "
                              "file again with `thcli county key use FILE --force`") from None


_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def scheme_code(db: Database) -> str:
    """The scheme's code as stored (setting scheme_code), as the exports write it (defused, never refused).

    Read as text rather than through settings.get, which would refuse a value
    edited into the database by hand: an export writes it, defused, instead.
    """
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'scheme_code'").fetchone()
    return row[0] if row else settings.SETTINGS["scheme_code"].default


# --- CSV cells ---------------------------------------------------------------------------

#: What makes a spreadsheet treat a cell as a formula (after leading spaces).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def defuse(value: str | None) -> str:
    """A text cell a spreadsheet will not run: prefixed with ``'`` when it starts with a trigger.

    Only for text: numbers are written by thcli and never pass through here.
    """
    if not value:
        return ""
    if value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _writer(stream: IO[str]):
    return csv.writer(stream, lineterminator="\r\n")


def csv_cell(text: str) -> str:
    """A text cell quoted as RFC 4180 (and Python's csv module) quote it: only when it must be."""
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _number(value: float | int) -> str:
    """A number as the county reads it: 7, 7.5 (never 7.0)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


# --- the case extract ---------------------------------------------------------------------

CASE_COLUMNS = (
    "spec_version", "scheme_code", "district", "case_pseudonym", "client_pseudonym", "pseudonym_scope",
    "referral_month",
    "referral_route", "risk_level", "marac", "emergency", "repeat_referral", "tenure", "adults", "children",
    "age_band", "gender", "ethnicity", "disabled", "lgbt", "mental_health_needs", "substance_use_needs", "nrpf",
    "interpreter_needed", "status", "outcome_reason", "days_to_survey", "days_to_fit", "within_target",
    "measures_fitted", "cost_total", "contributions_total", "funds", "closed_month",
)
#: Version 1's columns: version 2 without ``pseudonym_scope`` (readers still accept it).
CASE_COLUMNS_V1 = tuple(column for column in CASE_COLUMNS if column != "pseudonym_scope")


def _yes_no(column: str) -> str:
    return f"CASE {column} WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE 'unknown' END"


def _county(alias: str, list_name: str, column: str) -> str:
    return f"LEFT JOIN codes {alias} ON {alias}.list = '{list_name}' AND {alias}.code = {column}"


#: The kind a ledger row ``l`` counts as: a correction counts as the entry it corrects.
COUNTS_AS = ("CASE WHEN l.corrects_id IS NULL THEN l.kind "
              "ELSE (SELECT o.kind FROM ledger o WHERE o.id = l.corrects_id) END")

#: Every case column the extract needs, in one statement. What SQL does cheaply
#: is done here (county codes, yes/no, status, money sums); Python adds the
#: HMACs, age bands, working days, the target, sorting of lists and the
#: formatting. No personal column is selected but the date of birth, which
#: becomes an age band. ``money`` is "COST CONTRIBUTIONS" in pence (one pass
#: over the case's ledger rows instead of two): cost is payments net of refunds
#: and their corrections, contributions are those received, corrections included.
_CASE_SELECT = f"""SELECT
    c.id, c.ref, c.client_id, c.client_pseudonym, c.district,
    substr(c.received_on, 1, 7) AS referral_month,
    coalesce(route.county_code, 'unknown') AS referral_route,
    coalesce(risk.county_code, 'unknown') AS risk_level,
    {_yes_no('c.marac')} AS marac,
    CASE WHEN c.emergency = 1 THEN 'yes' ELSE 'no' END AS emergency,
    CASE WHEN EXISTS (SELECT 1 FROM case_repeats r WHERE r.case_id = c.id) THEN 'yes' ELSE 'no' END
        AS repeat_referral,
    coalesce(tenure.county_code, 'unknown') AS tenure,
    c.adults, c.children, cl.dob, cl.name,
    coalesce(gender.county_code, 'not_stated') AS gender,
    coalesce(ethnicity.county_code, 'not_stated') AS ethnicity,
    {_yes_no('cl.disabled')} AS disabled,
    {_yes_no('cl.lgbt')} AS lgbt,
    {_yes_no('cl.mental_health_needs')} AS mental_health_needs,
    {_yes_no('cl.substance_use_needs')} AS substance_use_needs,
    {_yes_no('cl.nrpf')} AS nrpf,
    {_yes_no('cl.interpreter')} AS interpreter_needed,
    CASE c.status WHEN 'closed' THEN 'completed' WHEN 'declined' THEN 'declined'
        WHEN 'withdrawn' THEN 'withdrawn' WHEN 'no_contact' THEN 'no_contact' ELSE 'open' END AS status,
    CASE WHEN c.status IN ('closed', 'declined', 'withdrawn', 'no_contact') THEN c.reason END AS outcome_reason,
    c.received_on,
    (SELECT min(s.surveyed_on) FROM surveys s WHERE s.case_id = c.id) AS surveyed_on,
    c.fitted_on, c.closed_on, c.emergency AS emergency_flag, c.risk_level AS scheme_risk,
    (SELECT group_concat(m.code, ';') FROM measure_lines m
        WHERE m.case_id = c.id AND m.status IN ('fitted', 'removed') AND m.fitted_on IS NOT NULL)
        AS measures_fitted,
    (SELECT coalesce(-sum(CASE WHEN k IN ('payment', 'refund') THEN a END), 0) || ' '
            || coalesce(sum(CASE WHEN k = 'contribution' AND p = 0 THEN a END), 0)
        FROM (SELECT l.amount_pence AS a, l.pledged AS p, {COUNTS_AS} AS k FROM ledger l WHERE l.case_id = c.id))
        AS money,
    (SELECT group_concat(f.source, ';') FROM measure_lines m JOIN funds f ON f.id = m.fund_id
        WHERE m.case_id = c.id AND m.status IN ('approved', 'ordered', 'fitted', 'removed')) AS funds,
    CASE WHEN c.status IN ('closed', 'declined', 'withdrawn', 'no_contact') THEN substr(c.closed_on, 1, 7) END
        AS closed_month
FROM cases c
LEFT JOIN clients cl ON cl.id = c.client_id
{_county('route', 'route', 'c.route')}
{_county('risk', 'risk', 'c.risk_level')}
{_county('tenure', 'tenure', 'c.tenure')}
{_county('gender', 'gender', 'cl.gender')}
{_county('ethnicity', 'ethnicity', 'cl.ethnicity')}
WHERE {{where}}
ORDER BY c.received_on, c.id"""

#: The cases referred in the period (the aggregate return counts all of them).
_REFERRED = "c.received_on BETWEEN :start AND :end"
#: The extract holds only the cases whose client's consent to share with the county partnership stands on
#: the day of the export (referrals.consent_stands_sql: given, and not withdrawn since).
_CONSENTED = referrals.consent_stands_sql("county", on=":today")
_EXTRACT = f"{_REFERRED} AND {_CONSENTED}"

#: The extract's statement with the period as a ``{year}`` placeholder (a
#: financial year such as ``2026/27``), for the benchmark: the sqlite3 shell
#: runs it (``sqlite3 -csv DB "$SQL"``) against ``export cases --year``.
CASE_COLUMNS_SQL = _CASE_SELECT.replace("{where}", _EXTRACT).replace(
    ":start", "substr('{year}', 1, 4) || '-04-01'").replace(
    ":end", "(CAST(substr('{year}', 1, 4) AS INTEGER) + 1) || '-03-31'").replace(":today", "date('now')")


class FitTargets:
    """Each case's fitting target (targets.fitted_target) and whether it was met.

    Dates are ISO text, as stored: due dates are worked out once per referral
    date and target, and compared as text (ISO dates sort as dates).
    """

    def __init__(self, db: Database, today: dt.date):
        self.db = db
        self.rules = targets.load_rules(db)
        self.today = today.isoformat()
        self._due: dict[tuple, str] = {}

    def due(self, received_on: str, emergency: int, risk: str) -> str:
        """The ISO date by which the case's measures should be fitted."""
        key = (received_on, emergency, risk)
        found = self._due.get(key)
        if found is None:
            target = targets.fitted_target(self.db, {"emergency": emergency, "risk_level": risk}, self.rules)
            found = self._due[key] = targets.due_date(dt.date.fromisoformat(received_on), target).isoformat()
        return found

    def within(self, received_on: str, emergency: int, risk: str, fitted_on: str | None,
               ended_on: str | None) -> str:
        """``yes``: fitted by the target date; ``no``: fitted after it, or not fitted when it passed
        (while the case was open); ``pending`` otherwise (not due yet, or the case ended first)."""
        due = self.due(received_on, emergency, risk)
        if fitted_on:
            return "yes" if fitted_on <= due else "no"
        return "no" if (ended_on or self.today) > due else "pending"


#: Working days are counted from here (the calendar's first year), so that the
#: days between two dates are a difference of two remembered counts.
_EPOCH = dt.date(1990, 1, 1)
_EPOCH_ISO = _EPOCH.isoformat()


class WorkingDays(dict):
    """Working days from _EPOCH up to each ISO date, worked out once per date."""

    def __missing__(self, iso: str) -> int:
        value = self[iso] = calendar.working_days_between(_EPOCH, dt.date.fromisoformat(iso))
        return value

    def between(self, start: str, end: str) -> int:
        """calendar.working_days_between for ISO dates."""
        if start < _EPOCH_ISO or end < _EPOCH_ISO:
            return calendar.working_days_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        return max(0, self[end] - self[start])


class _Defused(dict):
    """Text cells defused (and with ``quote``, quoted for CSV) once per distinct value: codes repeat."""

    def __init__(self, quote: bool):
        super().__init__()
        self.quote = quote

    def __missing__(self, value: str | None) -> str:
        result = self.prepare(value)
        self[value] = result
        return result

    def prepare(self, value: str | None) -> str:
        text = defuse(value)
        return csv_cell(text) if self.quote else text


class _CodeLists(_Defused):
    """``;``-separated codes, sorted without repeats, then as _Defused."""

    def prepare(self, value: str | None) -> str:
        return super().prepare(";".join(sorted(set(value.split(";")))) if value else "")


def _hmac_pads(key: bytes):
    """The inner and outer SHA-256 states of HMAC (RFC 2104) for a key, to be copied per message."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


class _Money(dict):
    """The ``money`` column ("COST CONTRIBUTIONS" in pence) as two cells in pounds, once per distinct value."""

    def __missing__(self, value: str) -> tuple[str, str]:
        cost, _, contributions = value.partition(" ")
        result = self[value] = (parse.pounds(int(cost)), parse.pounds(int(contributions)))
        return result


#: Lines written to the file at a time.
_BATCH = 1000


def _case_records(db: Database, where: str, params: dict, *, today: dt.date | None = None,
                  with_facts: bool = False, quote: bool = False) -> Iterator[list]:
    """The extract's rows for the cases chosen by ``where`` (SQL on cases ``c``), one at a time.

    With ``with_facts``, each row carries four more values after the extract's
    columns: the case id and the ISO dates of referral, fitting and ending.
    With ``quote``, text cells are ready for CSV (quoted where RFC 4180 needs
    it): every other cell is a number, a pseudonym or a fixed word, which
    never needs quoting, so a row is written by joining it with commas.
    """
    today = today or clock.today()
    text, lists, money_cells = _Defused(quote), _CodeLists(quote), _Money()
    scheme = text[scheme_code(db)]
    pseudonym = pseudonymiser(db)
    key = county_key(db)
    person = CountyPseudonymiser(key) if key is not None else None
    fit = FitTargets(db, today)
    days = WorkingDays()
    age_band = parse.age_band
    rows = db.conn.execute(_CASE_SELECT.replace("{where}", where), params)  # a cursor: one row at a time
    for (case_id, ref, client_id, stored_client, district, referral_month, route, risk, marac, emergency, repeat,
         tenure, adults, children, dob, name, gender, ethnicity, disabled, lgbt, mental_health, substance_use, nrpf,
         interpreter, status, reason, received_on, surveyed_on, fitted_on, closed_on, emergency_flag, scheme_risk,
         measures, money, funds, closed_month) in rows:
        ended_on = closed_on if status != "open" else None
        scope = "scheme"
        if client_id is not None:
            # COUNTY_EXPORT.md v2: keyed on the person under the county key where the scheme holds
            # one and the client has a date of birth; else the scheme's own pseudonym, and the row says so.
            client = person.person(name, dob) if person is not None else None
            if client is None:
                client = pseudonym.client(client_id)
            else:
                scope = "county"
        else:
            client = stored_client or pseudonym(f"client-of:{ref}")
        cost, contributions = money_cells[money]
        row = [
            SPEC_VERSION, scheme, text[district], pseudonym(ref), client, scope, text[referral_month],
            text[route], text[risk], marac, emergency, repeat, text[tenure],
            "" if adults is None else adults, "" if children is None else children,
            age_band(dob, received_on) if dob else "unknown", text[gender], text[ethnicity],
            disabled, lgbt, mental_health, substance_use, nrpf, interpreter, status, text[reason],
            days.between(received_on, surveyed_on) if surveyed_on else "",
            days.between(received_on, fitted_on) if fitted_on else "",
            fit.within(received_on, emergency_flag, scheme_risk, fitted_on, ended_on),
            lists[measures], cost, contributions, lists[funds], text[closed_month],
        ]
        if with_facts:
            row += [case_id, received_on, fitted_on, ended_on]
        yield row


def case_rows(db: Database, chosen: Period, *, today: dt.date | None = None,
              quote: bool = False) -> Iterator[list]:
    """The case extract's rows (without the header), streamed: the cases referred in the period whose
    client's county consent stands today.

    Cells are text or whole numbers; with ``quote``, text cells are quoted for CSV.
    """
    today = today or clock.today()
    return _case_records(db, _EXTRACT, {**chosen.params(), "today": today.isoformat()}, today=today, quote=quote)


def period_case_rows(db: Database, chosen: Period, *, today: dt.date | None = None) -> Iterator[list]:
    """Every case referred in the period, consent or not, as extract rows (the scheme's own board report)."""
    return _case_records(db, _REFERRED, chosen.params(), today=today)


def left_out(db: Database, chosen: Period, *, today: dt.date | None = None) -> dict[str, int]:
    """The cases referred in the period that the extract leaves out, by why: ``never_given`` (no consent to
    share with the county was recorded) and ``withdrawn`` (it was, and has been withdrawn)."""
    today = today or clock.today()
    given = "EXISTS (SELECT 1 FROM consents k WHERE k.case_id = c.id AND k.scope = 'county' AND k.given_on <= :today)"
    row = db.conn.execute(
        f"SELECT count(*), coalesce(sum({given}), 0) FROM cases c WHERE {_REFERRED} AND NOT {_CONSENTED}",
        {**chosen.params(), "today": today.isoformat()}).fetchone()
    return {"never_given": row[0] - row[1], "withdrawn": row[1]}


def _fill_lines(stream: IO[str], header: Iterable[str], rows: Iterable[list], bom: bool) -> int:
    """Rows whose cells are ready for CSV (case_rows with ``quote``), joined and written in batches."""
    if bom:
        stream.write("\ufeff")
    stream.write(",".join(csv_cell(h) for h in header) + "\r\n")
    count, lines = 0, []
    for row in rows:
        lines.append(",".join(map(str, row)))
        if len(lines) == _BATCH:
            stream.write("\r\n".join(lines) + "\r\n")
            count += len(lines)
            lines = []
    if lines:
        stream.write("\r\n".join(lines) + "\r\n")
        count += len(lines)
    return count


# --- the aggregate return -------------------------------------------------------------

SUMMARY_COLUMNS = ("spec_version", "scheme_code", "period", "measure", "breakdown", "category", "value")

CHARACTERISTICS = ("age_band", "gender", "ethnicity", "disabled", "lgbt", "mental_health_needs",
                   "substance_use_needs", "nrpf")
PROFILE = ("district", "referral_route", "risk_level", "tenure")

#: Each measure's breakdowns after ``all``, in the order written.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "referrals": PROFILE,
    "households_supported": PROFILE + CHARACTERISTICS,
    "households_unable_to_support": ("outcome_reason",),
    "households_support_ended": ("outcome_reason",),
    "individuals_supported_adults": ("district",),
    "individuals_supported_children": ("district",),
    "measures_fitted": ("measure_code",),
    "spend": ("district", "fund_source"),
    "contributions": ("fund_source",),
    "median_days_to_fit": ("district", "risk_level"),
    "percent_within_target": ("district", "risk_level"),
}
MEASURES = tuple(BREAKDOWNS)

#: Reason lists of the cases each measure counts.
_UNABLE_REASONS = ("decline_reason", "no_contact_reason", "withdrawal_reason")
_ENDED_REASONS = ("outcome_reason", "withdrawal_reason")

_YES_NO_UNKNOWN = ["yes", "no", "unknown"]


@dataclass
class Cell:
    """One figure of the aggregate return before it is written."""

    measure: str
    breakdown: str
    category: str
    value: int | float | None
    #: how many cases (households) the figure is made of
    cases: int
    #: count, money (pence), median or percent
    kind: str = "count"
    #: the text written instead of the value, once suppressed
    hidden: str | None = None

    @property
    def additive(self) -> bool:
        """Counts and money add up to their ``all`` figure; medians and percentages do not."""
        return self.kind in ("count", "money")


def protect(cells: list[Cell], threshold: int) -> None:
    """Small-number suppression, in place (COUNTY_EXPORT.md).

    Primary: a count from 1 to threshold - 1 becomes ``<T``; any figure made of
    1 to threshold - 1 cases (money, a median, a percentage, people in few
    households) becomes ``suppressed``, as one household's spend identifies it.
    Secondary: where the ``all`` figure of an additive measure is shown and a
    breakdown has exactly one hidden cell, the next smallest non-zero cell of
    that breakdown is hidden too (``suppressed``), so that subtracting the
    shown cells from the total gives only the sum of two hidden cells. Where
    the only other cells are zeros, a zero is hidden (a shown zero would give
    the hidden cell away as the total); where there is no other cell at all,
    the total is hidden.
    """
    if threshold > 1:
        small = f"<{threshold}"
        for cell in cells:
            if cell.kind == "count" and cell.value is not None and 1 <= cell.value < threshold:
                cell.hidden = small
            elif 1 <= cell.cases < threshold:
                cell.hidden = "suppressed"
    groups: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    totals: dict[str, Cell] = {}
    for cell in cells:
        if cell.breakdown == "all":
            totals[cell.measure] = cell
        else:
            groups[(cell.measure, cell.breakdown)].append(cell)
    for (measure, _), group in groups.items():
        total = totals.get(measure)
        if total is None or not total.additive or total.hidden is not None:
            continue
        while sum(1 for c in group if c.hidden) == 1:
            shown = [c for c in group if c.hidden is None]
            if not shown:
                total.hidden = "suppressed"
                break
            # The smallest non-zero cell first; a zero only when nothing else is left.
            min(shown, key=lambda c: (not c.value, abs(c.value or 0), c.cases)).hidden = "suppressed"


def _rounded(value: int, base: int) -> int:
    """To the nearest multiple of ``base``, halves up."""
    return (value + base // 2) // base * base if base > 1 else value


def cell_text(cell: Cell, round_to: int | None = None) -> str:
    """The ``value`` column of a cell: a number, ``<T``, ``suppressed`` or ``n/a`` (no cases to measure)."""
    if cell.hidden is not None:
        return cell.hidden
    if cell.kind == "count":
        return str(_rounded(int(cell.value or 0), round_to) if round_to else int(cell.value or 0))
    if cell.kind == "money":
        return parse.pounds(int(cell.value or 0))
    if cell.value is None:
        return "n/a"
    if cell.kind == "percent":
        return f"{cell.value:.1f}"
    return _number(cell.value)


def _list_codes(db: Database, *lists: str) -> list[str]:
    seen: list[str] = []
    for name in lists:
        for (code,) in db.conn.execute("SELECT code FROM codes WHERE list = ? ORDER BY position, code", [name]):
            if code not in seen:
                seen.append(code)
    return seen


def _categories(db: Database, breakdown: str, measure: str) -> list[str]:
    """Every category of a breakdown, zero or not, so that the return has the same shape every time."""
    county = codes.COUNTY_CODES
    fixed = {
        "referral_route": [*county["route"], "unknown"],
        "risk_level": [*county["risk"], "unknown"],
        "tenure": [*county["tenure"], "unknown"],
        "age_band": [band for _, _, band in parse.AGE_BANDS] + ["unknown"],
        "gender": list(county["gender"]),
        "ethnicity": list(county["ethnicity"]),
    }
    if breakdown in fixed:
        return fixed[breakdown]
    if breakdown in CHARACTERISTICS:
        return list(_YES_NO_UNKNOWN)
    if breakdown == "district":
        return _list_codes(db, "district")
    if breakdown == "fund_source":
        return _list_codes(db, "fund_source")
    if breakdown == "measure_code":
        return _list_codes(db, "measure")
    if breakdown == "outcome_reason":
        lists = _UNABLE_REASONS if measure == "households_unable_to_support" else _ENDED_REASONS
        return _list_codes(db, *lists) + ["unknown"]
    raise ValueError(f"unknown breakdown {breakdown!r}")


class _Tally:
    """Figures of one measure by breakdown and category: a value and how many cases it is made of.

    A case can come more than once (several measure lines, several ledger
    rows): it counts once per category, as long as each case's rows come
    together (the callers read them in case order), so that nothing but the
    last case seen is kept per category.
    """

    def __init__(self, measure: str, kind: str = "count"):
        self.measure = measure
        self.kind = kind
        self.values: dict[tuple[str, str], float] = defaultdict(int)
        self.cases: dict[tuple[str, str], int] = defaultdict(int)
        self.last: dict[tuple[str, str], Any] = {}
        self.samples: dict[tuple[str, str], list] = defaultdict(list)

    def _keys(self, categories: dict[str, str]) -> Iterator[tuple[str, str]]:
        yield "all", "all"
        for breakdown in BREAKDOWNS[self.measure]:
            yield breakdown, categories[breakdown] or "unknown"

    def _count(self, key: tuple[str, str], case_id: Any) -> None:
        if self.last.get(key, self) != case_id:
            self.last[key] = case_id
            self.cases[key] += 1

    def add(self, case_id: Any, categories: dict[str, str], value: float = 1) -> None:
        for key in self._keys(categories):
            self.values[key] += value
            self._count(key, case_id)

    def sample(self, case_id: Any, categories: dict[str, str], value: Any) -> None:
        for key in self._keys(categories):
            self.samples[key].append(value)
            self._count(key, case_id)

    def cells(self, db: Database) -> list[Cell]:
        out = []
        for breakdown in ("all", *BREAKDOWNS[self.measure]):
            categories = ["all"] if breakdown == "all" else _categories(db, breakdown, self.measure)
            extra = sorted({c for b, c in self.cases if b == breakdown and c not in categories})
            for category in categories + extra:
                key = (breakdown, category)
                cases = self.cases.get(key, 0)
                if self.kind == "median":
                    samples = self.samples.get(key)
                    value = statistics.median(samples) if samples else None
                elif self.kind == "percent":
                    samples = self.samples.get(key)
                    value = 100 * sum(samples) / len(samples) if samples else None
                else:
                    value = self.values.get(key, 0)
                out.append(Cell(self.measure, breakdown, category, value, cases, self.kind))
        return out


def summary_cells(db: Database, chosen: Period, *, today: dt.date | None = None) -> list[Cell]:
    """Every figure of the aggregate return for the period, before suppression."""
    params = chosen.params()
    first, last = chosen.start.isoformat(), chosen.end.isoformat()

    def within(day: str | None) -> bool:
        return day is not None and first <= day <= last

    fitted_lines: dict[int, list[str]] = defaultdict(list)
    for case_id, code in db.conn.execute(
            "SELECT case_id, code FROM measure_lines WHERE status IN ('fitted', 'removed') "
            "AND fitted_on BETWEEN :start AND :end ORDER BY case_id, line", params):
        fitted_lines[case_id].append(code)
    kinds = {"spend": "money", "contributions": "money", "median_days_to_fit": "median",
             "percent_within_target": "percent"}
    tallies = {m: _Tally(m, kinds.get(m, "count")) for m in MEASURES}
    where = ("(c.received_on BETWEEN :start AND :end OR c.closed_on BETWEEN :start AND :end "
             "OR c.fitted_on BETWEEN :start AND :end "
             "OR c.id IN (SELECT case_id FROM measure_lines WHERE fitted_on BETWEEN :start AND :end))")
    columns = [*CASE_COLUMNS, "case_id", "received", "fitted", "ended"]
    for values in _case_records(db, where, params, today=today, with_facts=True):
        case = dict(zip(columns, values, strict=True))
        case_id = case["case_id"]
        if within(case["received"]):
            tallies["referrals"].add(case_id, case)
        if case_id in fitted_lines:
            tallies["households_supported"].add(case_id, case)
            adults = case["adults"] if case["adults"] != "" else 1
            tallies["individuals_supported_adults"].add(case_id, case, adults)
            tallies["individuals_supported_children"].add(case_id, case, case["children"] or 0)
            for code in fitted_lines[case_id]:
                tallies["measures_fitted"].add(case_id, {"measure_code": code})
        if within(case["ended"]):
            something_fitted = bool(case["measures_fitted"])
            reason = {"outcome_reason": case["outcome_reason"] or "unknown"}
            if case["status"] in ("declined", "no_contact") or (case["status"] == "withdrawn"
                                                                  and not something_fitted):
                tallies["households_unable_to_support"].add(case_id, reason)
            elif case["status"] == "completed" or case["status"] == "withdrawn":
                tallies["households_support_ended"].add(case_id, reason)
        if within(case["fitted"]):
            tallies["median_days_to_fit"].sample(case_id, case, case["days_to_fit"])
            tallies["percent_within_target"].sample(case_id, case, case["within_target"] == "yes")
    # Spend is payments net of refunds (a negative amount in the ledger is money out);
    # contributions are those received. Corrections count as what they correct.
    for measure, counted, sign in (("spend", "('payment', 'refund')", -1), ("contributions", "('contribution')", 1)):
        for case_id, source, district, amount in db.conn.execute(
                f"""SELECT l.case_id, f.source, c.district, l.amount_pence
                    FROM ledger l JOIN funds f ON f.id = l.fund_id LEFT JOIN cases c ON c.id = l.case_id
                    WHERE l.on_date BETWEEN :start AND :end AND l.pledged = 0 AND {COUNTS_AS} IN {counted}
                    ORDER BY l.case_id""",
                params):
            tallies[measure].add(case_id, {"fund_source": source, "district": district or "unknown"},
                                 sign * amount)
    cells: list[Cell] = []
    for measure in MEASURES:
        cells += tallies[measure].cells(db)
    return cells


def summary_rows(db: Database, chosen: Period, *, round_to: int | None = None,
                 today: dt.date | None = None) -> list[list[str]]:
    """The aggregate return's rows (without the header), suppressed and ready to write."""
    cells = summary_cells(db, chosen, today=today)
    protect(cells, settings.get(db, "suppression_threshold"))
    scheme = defuse(scheme_code(db))
    label = defuse(chosen.label)
    return [[SPEC_VERSION, scheme, label, cell.measure, cell.breakdown, defuse(cell.category),
             cell_text(cell, round_to)] for cell in cells]


# --- writing the files -----------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    rows: int
    path: Path | None
    period: Period
    #: cases of the period the case extract left out, by why (referrals.consent: never_given, withdrawn)
    left_out: dict[str, int] = field(default_factory=dict)


def _fill(stream: IO[str], header: Iterable[str], rows: Iterable[list], bom: bool) -> int:
    if bom:
        stream.write("\ufeff")
    writer = _writer(stream)
    writer.writerow(header)
    counted = _Counted(rows)
    writer.writerows(counted)
    return counted.count


def check_destination(path: Path) -> Path:
    """Where an export may be written (BadInput naming --out otherwise)."""
    path = Path(path).expanduser()
    try:
        if path.is_dir():
            raise BadInput(f"{printable(path)} is a folder: give a file name, e.g. {printable(path / 'county.csv')}",
                           "--out")
        if not path.parent.is_dir():
            raise BadInput(f"the folder {printable(path.parent)} does not exist: create it first or choose another",
                           "--out")
    except OSError as error:
        raise os_problem(error, path, option="--out") from None
    return path.absolute()


def is_export(path: Path, header: Iterable[str]) -> bool:
    """Whether a file is an earlier thcli export with this header (its first line, after any BOM)."""
    first = head(path, 8192).decode("utf-8", "replace").lstrip("\ufeff").split("\r\n", 1)[0].split("\n", 1)[0]
    return first == ",".join(header)


def _write_atomically(db: Database, path: Path, fill: Callable[[IO[str]], int],
                      record: Callable[[int], None], replace: bool = False) -> int:
    """Write to a private temporary file beside ``path``, audit, then move it into place.

    The audit row and the move succeed or fail together: a failed export
    leaves neither a file nor an audit row (and no half-written file).
    """
    temporary: Path | None = None
    try:
        with temporary_beside(path, text=True, sync=True) as (stream, temporary):
            count = fill(stream)
        with write(db):
            record(count)
            place(temporary, path, replace=replace)
            temporary = None
        sync_folder(path.parent)
        return count
    except FileExistsError:
        raise NotAllowed(f"{printable(path)} appeared while the export was written: nothing was replaced; "
                         "choose another name") from None
    except OSError as error:
        raise ThcliError(f"could not write {printable(path)} ({error.strerror or error}): nothing was exported") \
            from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def _export(db: Database, *, action: str, chosen: Period, header: Iterable[str], rows: Iterable[list],
            out: Path | None, stream: IO[bytes] | None, bom: bool, by: str, note: str = "",
            fill: Callable[[IO[str], Iterable[str], Iterable[list], bool], int] = _fill,
            force: bool = False, what: str = "export", earlier: tuple[tuple[str, ...], ...] = ()) -> Exported:
    def record(count: int, where: str, stopped: bool = False) -> None:
        detail = (f"period {chosen.label} ({chosen.start.isoformat()} to {chosen.end.isoformat()}); "
                  f"{count} rows{note}; to {where}{' (stopped early)' if stopped else ''}")
        audit.record(db, by=by, action=action, detail=detail)

    if out is not None:
        path = check_destination(out)
        header = tuple(header)
        # Never over the database, a backup or another kind of file; an earlier export of this kind
        # only with --force (files.may_replace).
        replacing = may_replace(path, what=what, force=force,
                                is_earlier=lambda p: any(is_export(p, h) for h in (header, *earlier)),
                                database=getattr(db, "path", None), option="--out")
        count = _write_atomically(db, path, lambda f: fill(f, header, rows, bom),
                                  lambda n: record(n, str(path)), replace=replacing)
        return Exported(count, path, chosen)
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    counted = _Counted(rows)
    finished = False
    try:
        fill(text, header, counted, bom)
        text.flush()
        finished = True
    finally:
        try:
            text.detach()
        except ValueError:
            pass
        if counted.count or finished:  # whatever reached the screen or a pipe is audited
            with write(db):
                record(counted.count, "standard output", stopped=not finished)
    return Exported(counted.count, None, chosen)


class _Counted:
    """Rows passed through, counted (for the audit of an export to standard output)."""

    def __init__(self, rows: Iterable[list]):
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list]:
        for row in self.rows:
            yield row
            self.count += 1


def export_cases(db: Database, chosen: Period, *, by: str, out: Path | None = None,
                 stream: IO[bytes] | None = None, bom: bool = True, today: dt.date | None = None,
                 force: bool = False) -> Exported:
    """``export cases``: the pseudonymised case extract, to ``out`` (atomically) or a byte ``stream``.

    Only the cases whose client's consent to share with the county stands
    today go in; ``left_out`` of the result says how many did not, and why
    (the audit row says how many).
    """
    today = today or clock.today()
    missing = left_out(db, chosen, today=today)
    rows = case_rows(db, chosen, today=today, quote=True)
    note = f"; {sum(missing.values())} left out without county consent" if sum(missing.values()) else ""
    done = _export(db, action="export.cases", chosen=chosen, header=CASE_COLUMNS, rows=rows, out=out,
                   stream=stream, bom=bom, by=by, note=note, fill=_fill_lines, force=force,
                   what="county case extract", earlier=(CASE_COLUMNS_V1,))
    return dataclasses.replace(done, left_out=missing)


def export_summary(db: Database, chosen: Period, *, by: str, out: Path | None = None,
                   stream: IO[bytes] | None = None, bom: bool = True, round_to: int | None = None,
                   today: dt.date | None = None, force: bool = False) -> Exported:
    """``export summary``: the aggregate return with suppression, to ``out`` (atomically) or a byte ``stream``."""
    if round_to is not None and round_to < 1:
        raise BadInput("give a whole number of 1 or more, e.g. --round 5", "--round")
    rows = summary_rows(db, chosen, round_to=round_to, today=today)
    note = f", rounded to {round_to}" if round_to and round_to > 1 else ""
    return _export(db, action="export.summary", chosen=chosen, header=SUMMARY_COLUMNS, rows=rows, out=out,
                   stream=stream, bom=bom, by=by, note=note, force=force, what="county summary")
