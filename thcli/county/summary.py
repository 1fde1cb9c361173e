"""The aggregate return (``export summary``): counts, money, medians and percentages for a period, with
small-number suppression so that it can be published (the rules are :func:`protect`'s)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from thcli import codes, dates, parse, settings
from thcli.budget import COUNTS_AS, SPENT
from thcli.county.cells import SPEC_VERSION, defuse, number_cell, scheme_code
from thcli.county.extract import CASE_COLUMNS, case_records
from thcli.db import Database
from thcli.errors import BadInput
from thcli.periods import Period

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


def check_threshold(threshold: int, *, option: str) -> int:
    """A suppression threshold given on the command line, refused (BadInput naming ``option``) if it hides nothing."""
    if threshold < settings.SUPPRESSION_MINIMUM:
        raise BadInput(f"{threshold} is below {settings.SUPPRESSION_MINIMUM}, the smallest suppression threshold "
                       f"({settings.SUPPRESSION_WHY}): give {settings.SUPPRESSION_MINIMUM} or more",
                       option=option)
    return threshold


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
    return number_cell(cell.value)


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
        "age_band": [band for _, _, band in dates.AGE_BANDS] + ["unknown"],
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
    for values in case_records(db, where, params, today=today, with_facts=True):
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
    # Spend is what was spent on households: payments net of refunds (a negative amount in
    # the ledger is money out), with equipment from stock at its cost when it was issued, as
    # the case extract's cost_total counts it (stock bought but not yet issued is no
    # household's); contributions are those received. Corrections count as what they correct.
    for measure, counted, sign in (("spend", SPENT, -1), ("contributions", "('contribution')", 1)):
        for case_id, source, district, amount in db.conn.execute(
                f"""SELECT l.case_id, f.source, c.district, l.amount_pence
                    FROM ledger l JOIN funds f ON f.id = l.fund_id JOIN cases c ON c.id = l.case_id
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
