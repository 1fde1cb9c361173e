"""The county figures: running totals of case-extract rows, suppressed and written as CSV files.

:class:`Totals` takes one extract row at a time (from a district's file, or
from a scheme's own database for its board report) and keeps only counts,
sums and histograms, plus one small entry per survivor for the repeat
counts, so a combine's memory grows with the number of different survivors
and never with the number of rows. :meth:`Totals.figures` turns them into
county.Cell figures and protects them with **the district summary's own
rules and code** (county.protect: primary suppression below the threshold,
secondary suppression within each breakdown; county.cell_text writes them).

Every figure is over the cases **referred in the period** (the rows of the
case extracts), followed to the day each district exported them:

- ``referrals`` by district, route, risk, tenure and month;
- ``households_surveyed``/``households_fitted`` and the working days to
  survey and to fit (median, and the 90th percentile by nearest rank: 90% of
  households waited no longer), and ``percent_within_target`` (fitted by the
  district's own target, of those fitted or past their target), by district
  and risk level;
- ``spend`` (payments net of refunds), ``households_with_spend``,
  ``spend_per_household`` (their mean) and ``contributions``, by district;
  spend also by fund source (a household charged to more than one source
  counts under ``more_than_one``: the extract does not split its cost);
- ``cases`` by status, households unable to be supported and whose support
  ended by reason, and ``measures_fitted`` (households with each measure);
- repeats: ``survivors`` (different client pseudonyms), ``repeat_referrals``
  (cases the district flagged as a repeat of any earlier referral),
  ``survivors_referred_again_in_district`` (more than one referral in one
  district in the period) and ``survivors_in_more_than_one_district``
  (referred in two or more districts in the period). Pseudonyms can only be
  matched where they share a key: county-key pseudonyms
  (``pseudonym_scope=county``) across every district, a scheme's own
  pseudonyms within that scheme's districts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from thcli import clock, codes, parse
from thcli.county import Cell, Period, cell_text, defuse, is_export, protect
from thcli.errors import BadInput, NotAllowed
from thcli.files import may_replace, os_problem, printable, private_folder, write_atomically

#: The suppression threshold when nobody says otherwise (the district setting's default).
DEFAULT_THRESHOLD = 5

#: The categories every file shows, zero or not (the county's codes; COUNTY_EXPORT.md).
FIXED: dict[str, list[str]] = {
    "referral_route": [*codes.COUNTY_CODES["route"], "unknown"],
    "risk_level": [*codes.COUNTY_CODES["risk"], "unknown"],
    "tenure": [*codes.COUNTY_CODES["tenure"], "unknown"],
    "status": ["open", "completed", "declined", "withdrawn", "no_contact"],
}
WITHIN_TARGET = ("yes", "no", "pending")
YES_NO = ("yes", "no")
SCOPES = ("scheme", "county")
MORE_THAN_ONE = "more_than_one"

#: Each output file, its measures, and each measure's breakdowns after ``all``.
FILES: dict[str, dict[str, tuple[str, ...]]] = {
    "referrals.csv": {
        "referrals": ("district", "referral_route", "risk_level", "tenure", "month"),
    },
    "times.csv": {
        "households_surveyed": ("district", "risk_level"),
        "median_days_to_survey": ("district", "risk_level"),
        "p90_days_to_survey": ("district", "risk_level"),
        "households_fitted": ("district", "risk_level"),
        "median_days_to_fit": ("district", "risk_level"),
        "p90_days_to_fit": ("district", "risk_level"),
        "percent_within_target": ("district", "risk_level"),
    },
    "spend.csv": {
        "spend": ("district", "fund_source"),
        "households_with_spend": ("district",),
        "spend_per_household": ("district",),
        "contributions": ("district",),
    },
    "outcomes.csv": {
        "cases": ("status",),
        "households_unable_to_support": ("outcome_reason",),
        "households_support_ended": ("outcome_reason",),
        "measures_fitted": ("measure_code",),
    },
    "repeats.csv": {
        "survivors": ("district",),
        "repeat_referrals": ("district",),
        "survivors_referred_again_in_district": ("district",),
        "survivors_in_more_than_one_district": ("district",),
    },
}
MEASURES: dict[str, tuple[str, ...]] = {m: b for measures in FILES.values() for m, b in measures.items()}
KINDS = {"median_days_to_survey": "median", "p90_days_to_survey": "median", "median_days_to_fit": "median",
         "p90_days_to_fit": "median", "percent_within_target": "percent", "spend": "money",
         "contributions": "money", "spend_per_household": "mean_money"}
COLUMNS = ("period", "measure", "breakdown", "category", "value")
#: Measures whose value is not a count of cases: how many cases each figure is made of is kept apart.
_COUNTED = frozenset(m for m, kind in KINDS.items() if kind in ("percent", "money", "mean_money"))
#: The list of files written (kept apart from the figures: it names files and counts their rows).
SOURCES_FILE = "sources.csv"
SOURCE_COLUMNS = ("file", "kind", "spec_version", "scheme_code", "period", "rows", "pseudonym_scope_county",
                  "sha256")


def median(histogram: Counter) -> float | int | None:
    """The median of whole numbers given as {value: how many} (of two middle ones, their mean)."""
    n = sum(histogram.values())
    if not n:
        return None
    low, high = _ranked(histogram, (n - 1) // 2), _ranked(histogram, n // 2)
    middle = (low + high) / 2
    return int(middle) if middle == int(middle) else middle


def percentile(histogram: Counter, fraction: float) -> int | None:
    """The nearest-rank percentile of whole numbers given as {value: how many} (report.percentile's rule)."""
    n = sum(histogram.values())
    if not n:
        return None
    return _ranked(histogram, max(0, math.ceil(fraction * n) - 1))


def _ranked(histogram: Counter, index: int) -> int:
    """The value at a 0-based rank of the sorted values."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if index < seen:
            return value
    raise IndexError(index)


def _pence(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    pounds, _, pence = text.lstrip("-").partition(".")
    return sign * (int(pounds) * 100 + int(pence or 0))


class Totals:
    """Running totals of case-extract rows (dicts of column to text), for one period."""

    def __init__(self, chosen: Period, *, today: dt.date | None = None):
        self.period = chosen
        today = today or clock.today()
        # Months after today cannot hold a referral: a year still running shows the months so far.
        last = f"{today.year:04d}-{today.month:02d}"
        self.months = [m for m in chosen.months() if m <= last] or chosen.months()[:1]
        self.counts: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        self.cases: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.days: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
        self.rows = 0
        self.scopes: Counter = Counter()
        #: survivor -> the district index they were referred in, or a frozenset of several
        self._where: dict[int, int | frozenset[int]] = {}
        #: (survivor, district index) referred more than once in the period
        self._again: set[tuple[int, int]] = set()
        self._districts: dict[str, int] = {}
        self._schemes: dict[str, int] = {}

    # --- adding rows -----------------------------------------------------------------------------

    def _add(self, measure: str, categories: Mapping[str, str], value: float = 1) -> None:
        # The hot loop of a combine (about ten calls a row): plain dict updates, nothing more. How many
        # cases a figure is made of is kept only where suppression reads it (a count is its own).
        counts = self.counts
        counts[(measure, "all", "all")] += value
        keys = [(measure, breakdown, categories[breakdown]) for breakdown in MEASURES[measure]]
        for key in keys:
            counts[key] += value
        if measure in _COUNTED:
            cases = self.cases
            cases[(measure, "all", "all")] += 1
            for key in keys:
                cases[key] += 1

    def _sample(self, measure: str, categories: Mapping[str, str], days: int) -> None:
        for breakdown in ("all", *MEASURES[f"median_{measure}"]):
            category = "all" if breakdown == "all" else categories[breakdown]
            self.days[(measure, breakdown, category)][days] += 1

    def add(self, row: Mapping[str, str]) -> None:
        """One case of the extract (its cells as text, already checked)."""
        self.rows += 1
        district = row["district"] or "unknown"
        categories = {"district": district, "referral_route": row["referral_route"], "risk_level": row["risk_level"],
                      "tenure": row["tenure"], "month": row["referral_month"], "status": row["status"],
                      "outcome_reason": row["outcome_reason"] or "unknown"}
        self._add("referrals", categories)
        self._add("cases", categories)
        fitted = row["days_to_fit"]
        if row["days_to_survey"]:
            self._add("households_surveyed", categories)
            self._sample("days_to_survey", categories, int(row["days_to_survey"]))
        if fitted:
            self._add("households_fitted", categories)
            self._sample("days_to_fit", categories, int(fitted))
        if row["within_target"] in YES_NO:
            self._add("percent_within_target", categories, row["within_target"] == "yes")
        status = row["status"]
        something_fitted = bool(row["measures_fitted"])
        if status in ("declined", "no_contact") or (status == "withdrawn" and not something_fitted):
            self._add("households_unable_to_support", categories)
        elif status in ("completed", "withdrawn"):
            self._add("households_support_ended", categories)
        for code in filter(None, row["measures_fitted"].split(";")):
            self._add("measures_fitted", {"measure_code": code})
        cost = _pence(row["cost_total"] or "0")
        if cost:
            funds = [f for f in row["funds"].split(";") if f]
            source = funds[0] if len(funds) == 1 else MORE_THAN_ONE if funds else "unknown"
            self._add("spend", {**categories, "fund_source": source}, cost)
            self._add("households_with_spend", categories)
            self._add("spend_per_household", categories, cost)
        contributed = _pence(row["contributions_total"] or "0")
        if contributed:
            self._add("contributions", categories, contributed)
        if row["repeat_referral"] == "yes":
            self._add("repeat_referrals", categories)
        self._survivor(row, district)

    def _survivor(self, row: Mapping[str, str], district: str) -> None:
        """Where the survivor was referred, keyed so that only pseudonyms under the same key can match."""
        scope = row.get("pseudonym_scope") or "scheme"
        self.scopes[(row["scheme_code"], scope)] += 1
        number = int(row["client_pseudonym"], 16)
        if scope != "county":  # a scheme's own pseudonym: one space per scheme, apart from the county's
            number |= (1 + self._schemes.setdefault(row["scheme_code"], len(self._schemes))) << 64
        place = self._districts.setdefault(district, len(self._districts))
        where = self._where.get(number)
        if where is None:
            self._where[number] = place
        elif where == place or (isinstance(where, frozenset) and place in where):
            self._again.add((number, place))
        else:
            self._where[number] = (where if isinstance(where, frozenset) else frozenset((where,))) | {place}

    def _count_survivors(self) -> None:
        names = {index: name for name, index in self._districts.items()}
        for place_or_places in self._where.values():
            places = place_or_places if isinstance(place_or_places, frozenset) else (place_or_places,)
            for place in places:
                self.counts[("survivors", "district", names[place])] += 1
                if len(places) > 1:
                    self.counts[("survivors_in_more_than_one_district", "district", names[place])] += 1
            self.counts[("survivors", "all", "all")] += 1
            if len(places) > 1:
                self.counts[("survivors_in_more_than_one_district", "all", "all")] += 1
        again = {survivor for survivor, _ in self._again}
        self.counts[("survivors_referred_again_in_district", "all", "all")] = len(again)
        for _, place in self._again:
            self.counts[("survivors_referred_again_in_district", "district", names[place])] += 1

    # --- figures ---------------------------------------------------------------------------------

    def _categories(self, breakdown: str) -> list[str]:
        if breakdown == "all":
            return ["all"]
        if breakdown == "month":
            fixed = self.months
        else:
            fixed = FIXED.get(breakdown, [])
        extra = sorted(self._seen.get(breakdown, set()) - set(fixed))
        return [*fixed, *extra]

    def figures(self, *, threshold: int = DEFAULT_THRESHOLD) -> list[Cell]:
        """Every county figure, suppressed (county.protect) and ready to write."""
        self._count_survivors()
        self._seen: dict[str, set[str]] = defaultdict(set)
        for _, breakdown, category in self.counts:
            if breakdown != "all":
                self._seen[breakdown].add(category)
        cells: list[Cell] = []
        for measure, breakdowns in MEASURES.items():
            kind = KINDS.get(measure, "count")
            for breakdown in ("all", *breakdowns):
                for category in self._categories(breakdown):
                    key = (measure, breakdown, category)
                    cells.append(self._cell(measure, breakdown, category, kind, key))
        protect(cells, threshold)
        return cells

    def _cell(self, measure: str, breakdown: str, category: str, kind: str, key: tuple[str, str, str]) -> Cell:
        if kind == "median":
            what = "days_to_survey" if measure.endswith("survey") else "days_to_fit"
            histogram = self.days.get((what, breakdown, category), Counter())
            value = median(histogram) if measure.startswith("median") else percentile(histogram, 0.9)
            return Cell(measure, breakdown, category, value, sum(histogram.values()), kind)
        cases = self.cases.get(key, 0) if measure in _COUNTED else int(self.counts.get(key, 0))
        if kind == "percent":
            return Cell(measure, breakdown, category, 100 * self.counts[key] / cases if cases else None, cases, kind)
        if kind == "mean_money":
            return Cell(measure, breakdown, category, self.counts[key] / cases if cases else None, cases, kind)
        return Cell(measure, breakdown, category, self.counts.get(key, 0), cases, kind)

    # --- what the figures rest on ------------------------------------------------------------

    def schemes_by_scope(self) -> tuple[list[str], list[str]]:
        """(schemes whose rows carry county-key pseudonyms, schemes whose rows are all scheme-keyed)."""
        county = sorted({scheme for (scheme, scope), n in self.scopes.items() if scope == "county" and n})
        others = sorted({scheme for (scheme, _), n in self.scopes.items() if n} - set(county))
        return county, others


def figure_text(cell: Cell, round_to: int | None = None) -> str:
    """The text of a figure as written: county.cell_text, and a mean in pounds for spend per household."""
    if cell.hidden is None and cell.kind == "mean_money":
        return "n/a" if cell.value is None else parse.pounds(round(cell.value))
    return cell_text(cell, round_to)


def lookup(cells: Iterable[Cell]) -> dict[tuple[str, str, str], Cell]:
    return {(c.measure, c.breakdown, c.category): c for c in cells}


# --- the output folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One district file that went into the figures."""

    path: Path
    kind: str                 # "case extract" or "summary"
    version: str
    scheme: str
    period: str
    rows: int
    sha256: str
    county_rows: int = 0


@dataclass
class Written:
    folder: Path
    files: list[Path] = field(default_factory=list)


def _rows(chosen: Period, cells: list[Cell], measures: Iterable[str], round_to: int | None) -> Iterator[list[str]]:
    wanted = set(measures)
    label = defuse(chosen.label)
    for cell in cells:
        if cell.measure in wanted:
            yield [label, cell.measure, cell.breakdown, defuse(cell.category), figure_text(cell, round_to)]


def _csv(header: Iterable[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def destinations(folder: Path, *, force: bool) -> tuple[Path, dict[Path, bool]]:
    """The output folder (0700 when made) and each file to write, with whether it replaces an earlier one.

    Checked before anything is read, so that a refusal costs nothing; an
    existing file is replaced only with ``force`` and only when it is an
    earlier file of the same kind (files.may_replace).
    """
    folder = Path(folder).expanduser()
    try:
        is_file = folder.exists() and not folder.is_dir()
    except OSError as error:  # a name too long for the disk, a file where a folder should be
        raise os_problem(error, folder, option="--out") from None
    if is_file:
        raise BadInput(f"{printable(folder)} is a file: give a folder for the county figures (made if new)", "--out")
    plan: dict[Path, bool] = {}
    for name in [*FILES, SOURCES_FILE]:
        path = folder / name
        header = SOURCE_COLUMNS if name == SOURCES_FILE else COLUMNS
        plan[path] = may_replace(path, what="county figures file", force=force, option="--out",
                                 is_earlier=_is_earlier(header))
    return folder, plan


def _is_earlier(header: tuple[str, ...]) -> Callable[[Path], bool]:
    return lambda path: is_export(path, header)


def write_folder(folder: Path, plan: dict[Path, bool], chosen: Period, cells: list[Cell], sources: list[Source],
                 *, round_to: int | None = None) -> Written:
    """Write every figures file into ``folder`` (made 0700), each 0600 and in one step."""
    folder = private_folder(folder, option="--out")
    written = Written(folder)
    for name, measures in FILES.items():
        path = folder / name
        _place(path, _csv(COLUMNS, _rows(chosen, cells, measures, round_to)), plan[path])
        written.files.append(path)
    path = folder / SOURCES_FILE
    rows = [[defuse(s.path.name), s.kind, defuse(s.version), defuse(s.scheme), defuse(s.period), str(s.rows),
             str(s.county_rows) if s.kind == "case extract" else "", s.sha256] for s in sources]
    _place(path, _csv(SOURCE_COLUMNS, rows), plan[path])
    written.files.append(path)
    return written


def _place(path: Path, text: str, replace: bool) -> None:
    try:
        write_atomically(path, text, replace=replace, option="--out")
    except FileExistsError:
        raise NotAllowed(f"{printable(path)} appeared while the figures were written: choose another folder, "
                         "or add --force to replace earlier figures") from None

