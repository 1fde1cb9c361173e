"""The case extract (``export cases``): one pseudonymised row per case referred in the period.

It never holds a name, date of birth, address, postcode, phone, email, free
text, perpetrator or referrer detail: it is read by one SQL statement
(:data:`CASE_COLUMNS_SQL`) that selects none of them (but the date of birth,
which only becomes an age band, and the name, which only goes into the
county-key pseudonym of version 2), streamed a row at a time, so 100,000 cases
take no more memory than ten. Only the cases whose client's consent to share
with the county partnership stands on the day of the export are in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import IO

from thcli import clock, dates, parse
from thcli.budget import COUNTS_AS, SPENT
from thcli.calendar import WorkingDays
from thcli.cases import consent_given_sql, consent_stands_sql
from thcli.county.cells import SPEC_VERSION, csv_cell, defuse, scheme_code
from thcli.county.pseudonyms import CountyPseudonymiser, county_key, pseudonymiser
from thcli.db import Database
from thcli.periods import Period
from thcli.targets import FitTargets

CASE_COLUMNS = (
    "spec_version", "scheme_code", "district", "case_pseudonym", "client_pseudonym", "pseudonym_scope",
    "referral_month", "referral_route", "risk_level", "marac", "emergency", "repeat_referral", "tenure", "adults",
    "children",
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


#: Every case column the extract needs, in one statement. What SQL does cheaply
#: is done here (county codes, yes/no, status, money sums); Python adds the
#: HMACs, age bands, working days, the target, sorting of lists and the
#: formatting. No personal column is selected but the date of birth, which
#: becomes an age band. ``money`` is "COST CONTRIBUTIONS" in pence (one pass
#: over the case's ledger rows instead of two): cost is payments net of refunds
#: and their corrections, with the cost of equipment issued from stock;
#: contributions are those received, corrections included.
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
    (SELECT coalesce(-sum(CASE WHEN k IN {SPENT} THEN a END), 0) || ' '
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
#: the day of the export (consent_stands_sql: given, and not withdrawn since).
_CONSENTED = consent_stands_sql("county", on=":today")


_EXTRACT = f"{_REFERRED} AND {_CONSENTED}"


#: The extract's statement with the period as a ``{year}`` placeholder (a
#: financial year such as ``2026/27``), for the benchmark: the sqlite3 shell
#: runs it (``sqlite3 -csv DB "$SQL"``) against ``export cases --year``.
CASE_COLUMNS_SQL = _CASE_SELECT.replace("{where}", _EXTRACT).replace(
    ":start", "substr('{year}', 1, 4) || '-04-01'").replace(
    ":end", "(CAST(substr('{year}', 1, 4) AS INTEGER) + 1) || '-03-31'").replace(":today", "date('now')")


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


class _Money(dict):
    """The ``money`` column ("COST CONTRIBUTIONS" in pence) as two cells in pounds, once per distinct value."""

    def __missing__(self, value: str) -> tuple[str, str]:
        cost, _, contributions = value.partition(" ")
        result = self[value] = (parse.pounds(int(cost)), parse.pounds(int(contributions)))
        return result


#: Lines written to the file at a time.
_BATCH = 1000


def case_records(db: Database, where: str, params: dict, *, today: dt.date | None = None,
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
    age_band = dates.age_band
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
    return case_records(db, _EXTRACT, {**chosen.params(), "today": today.isoformat()}, today=today, quote=quote)


def period_case_rows(db: Database, chosen: Period, *, today: dt.date | None = None) -> Iterator[list]:
    """Every case referred in the period, consent or not, as extract rows (the scheme's own board report)."""
    return case_records(db, _REFERRED, chosen.params(), today=today)


def left_out(db: Database, chosen: Period, *, today: dt.date | None = None) -> dict[str, int]:
    """The cases referred in the period that the extract leaves out, by why: ``never_given`` (no consent to
    share with the county was recorded) and ``withdrawn`` (it was, and has been withdrawn)."""
    today = today or clock.today()
    given = consent_given_sql("county", on=":today")
    row = db.conn.execute(
        f"SELECT count(*), coalesce(sum({given}), 0) FROM cases c WHERE {_REFERRED} AND NOT {_CONSENTED}",
        {**chosen.params(), "today": today.isoformat()}).fetchone()
    return {"never_given": row[0] - row[1], "withdrawn": row[1]}


def fill_lines(stream: IO[str], header: Iterable[str], rows: Iterable[list], bom: bool) -> int:
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
