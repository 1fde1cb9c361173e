"""Reading the districts' files: every check, then the rows streamed into the county totals.

``thcli county combine FILE...`` takes each district's case extract and,
where it sent one, its summary, all for one period. Each file is checked
before it counts: that it is a file at all, not empty, UTF-8 (with or
without the byte-order mark Excel wants), a thcli county file of a version
this thcli reads (``thcli-county-1`` or ``-2``), with the header of that
version, one scheme code throughout, and the period: the summary's
``period`` column, and each extract row's referral month within it. Then:
no scheme sent twice, one period for all, and no summary without its
extract (the figures are made from the extracts; a summary's only use is to
say how many referrals its district had in all, consented or not). An
extract without a summary is accepted: the figures do not need it, and the
report says that district's share of referrals in the extract is not known.

Any refusal is a NotAllowed naming the file (and the line) and what to do,
before a single output file is written. The extracts are read a row at a
time (csv over a streamed, hashed file), so memory stays flat however many
rows they hold; the summaries, a few hundred rows each, are read first,
because they say the period the extracts must keep to.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from thcli import county, dates, parse
from thcli.county import CASE_COLUMNS, CASE_COLUMNS_V1, SPEC_VERSIONS, SUMMARY_COLUMNS, Period
from thcli.errors import BadInput, NotAllowed
from thcli.files import SQLITE_HEADER, head, os_problem, printable, readable_file
from thcli.partnership.figures import FIXED, SCOPES, WITHIN_TARGET, YES_NO, Source, Totals

EXTRACT = "case extract"
SUMMARY = "summary"
#: Each header thcli has written, with the kind of file and the version whose rows it carries.
HEADERS: dict[tuple[str, ...], tuple[str, str | None]] = {
    tuple(CASE_COLUMNS): (EXTRACT, "thcli-county-2"),
    tuple(CASE_COLUMNS_V1): (EXTRACT, "thcli-county-1"),
    tuple(SUMMARY_COLUMNS): (SUMMARY, None),  # the same in both versions: the rows say which
}
_READ = 1 << 16


@dataclass
class DistrictFile:
    """A file given on the command line, as first seen (header and first row)."""

    path: Path
    kind: str
    header: tuple[str, ...]
    version: str | None
    scheme: str | None
    #: summary: its period label, and the referrals it counts (the value text, maybe "<5")
    period: str | None = None
    referrals: str | None = None
    rows: int = 0
    sha256: str = ""
    county_rows: int = 0

    @property
    def name(self) -> str:
        return printable(self.path)

    def source(self) -> Source:
        return Source(self.path, self.kind, self.version or "", self.scheme or "", self.period or "", self.rows,
                      self.sha256, self.county_rows)


@dataclass
class Combined:
    """What ``combine`` read: the period, the totals, and each scheme's files."""

    period: Period
    totals: Totals
    files: list[DistrictFile] = field(default_factory=list)

    def summaries(self) -> dict[str, DistrictFile]:
        return {f.scheme or "": f for f in self.files if f.kind == SUMMARY}

    def extracts(self) -> list[DistrictFile]:
        return [f for f in self.files if f.kind == EXTRACT]


# --- reading a file, hashed, as text -------------------------------------------------------------


class _Hashed(io.RawIOBase):
    """A binary file read through SHA-256, so a file is read once for its rows and its digest."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        self.digest.update(data)
        buffer[:len(data)] = data
        return len(data)


class _Reader:
    """A district file's rows as lists of text, with their line numbers; every reading error named."""

    def __init__(self, path: Path):
        self.path = path
        self.line = 0
        self.hashed: _Hashed | None = None

    def __iter__(self) -> Iterator[list[str]]:
        try:
            with open(self.path, "rb") as raw:
                self.hashed = _Hashed(raw)
                text = io.TextIOWrapper(io.BufferedReader(self.hashed, _READ), encoding="utf-8-sig", newline="")
                reader = csv.reader(text, strict=True)
                for row in reader:
                    self.line = reader.line_num
                    yield row
        except UnicodeDecodeError:
            raise NotAllowed(f"{printable(self.path)} is not UTF-8 text (line {self._first_undecodable()}): ask the "
                             "district for the file thcli wrote, or in Excel save it as \"CSV UTF-8\"") from None
        except csv.Error as error:
            raise NotAllowed(f"{printable(self.path)} line {self.line + 1} is not valid CSV ({error}): the file is "
                             "damaged; ask the district to export it again") from None
        except OSError as error:
            raise os_problem(error, self.path, doing="read") from None

    def _first_undecodable(self) -> int:
        """The number of the first line that is not UTF-8 (the decoder reads ahead, so its place is no guide)."""
        with open(self.path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return number
        return self.line + 1

    @property
    def sha256(self) -> str:
        return self.hashed.digest.hexdigest() if self.hashed is not None else ""


def _problem(file: DistrictFile | Path, line: int | None, message: str) -> NotAllowed:
    where = printable(file.path if isinstance(file, DistrictFile) else file)
    return NotAllowed(f"{where}{f' line {line}' if line else ''} {message}")


def open_file(path: Path) -> DistrictFile:
    """Look at a file given to ``combine``: its kind, version and scheme (from its header and first row)."""
    path = Path(path).expanduser()
    where = printable(path)
    size = readable_file(path, folder=f"give the district files in it, e.g. {printable(path / '*.csv')}",
                         missing="check the name")
    start = head(path, 16)
    if size == 0 or start in (b"", b"\xef\xbb\xbf"):
        raise NotAllowed(f"{where} is empty: ask the district for its file again "
                         "(thcli export cases / thcli export summary)")
    if start.startswith(b"PK\x03\x04"):
        raise NotAllowed(f"{where} is not a thcli county file (it is an Excel or Word file, not CSV): ask the "
                         "district for the CSV file thcli wrote")
    if start.startswith(SQLITE_HEADER):
        raise NotAllowed(f"{where} is not a thcli county file (it is a SQLite database, perhaps a thcli database "
                         "or backup): give the CSV files of thcli export cases and thcli export summary")
    reader = _Reader(path)
    rows = iter(reader)
    try:
        header = tuple(next(rows, ()))
        first = next(rows, None)
    finally:
        rows.close()  # type: ignore[attr-defined]
    known = HEADERS.get(header)
    if known is None:
        raise _unknown_header(path, header)
    kind, version = known
    if first is not None and len(first) == len(header):
        found = first[0]
        if found not in SPEC_VERSIONS:
            raise _problem(path, 2, _unknown_version(found))
        version = version or found
        scheme = first[1]
        if not parse.is_code(scheme):
            raise _problem(path, 2, f"has scheme_code {_shown(scheme)!r}, which is not a scheme code "
                                    f"({_CODE_WORDS}): ask the district to export it again")
    else:
        scheme = None
    return DistrictFile(path, kind, header, version, scheme)


def _unknown_header(path: Path, header: tuple[str, ...]) -> NotAllowed:
    where = printable(path)
    if not header or header[0] != "spec_version":
        return NotAllowed(f"{where} is not a thcli county file (its first line is not the header of a case "
                          "extract or a summary): give only the files of thcli export cases and thcli export summary")
    expected = CASE_COLUMNS if len(header) > len(SUMMARY_COLUMNS) else SUMMARY_COLUMNS
    what = EXTRACT if expected is CASE_COLUMNS else SUMMARY
    for number, (got, wanted) in enumerate(zip(header, expected, strict=False), start=1):
        if got != wanted:
            detail = f"column {number} is {got!r} where a {what} has {wanted!r}"
            break
    else:
        detail = f"it has {len(header)} columns where a {what} has {len(expected)}"
    return NotAllowed(f"{where} has a header thcli does not know ({detail}): ask the district to export it "
                      "again with thcli")


def _unknown_version(found: str) -> str:
    if re.fullmatch(r"thcli-county-\d+", found):
        return (f"is {found}, which this thcli cannot read (it reads {' and '.join(SPEC_VERSIONS)}): "
                "update thcli (pip install -U thcli)")
    return f"has spec_version {found!r}, which is not a thcli county version: ask the district to export it again"


# --- periods ------------------------------------------------------------------------------------------


def period_of_label(label: str) -> Period:
    """The Period a summary's ``period`` column names (``2026/27``, ``2026Q3``, ``2026-04-01/2026-06-30``)."""
    if re.fullmatch(r"\d{4}Q[1-4]", label):
        return county.period(quarter=label)
    if re.fullmatch(r"\d{4}/\d{2}", label):
        return county.period(year=label)
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})", label)
    if match:
        return county.period(start=dt.date.fromisoformat(match[1]), end=dt.date.fromisoformat(match[2]))
    raise BadInput(f"{label!r} is not a period thcli writes")


def period_option(chosen: Period) -> str:
    """The options that choose a period, as a district would type them."""
    if re.fullmatch(r"\d{4}Q[1-4]", chosen.label):
        return f"--quarter {chosen.label}"
    if re.fullmatch(r"\d{4}/\d{2}", chosen.label):
        return f"--year {chosen.label}"
    return f"--from {chosen.start.isoformat()} --to {chosen.end.isoformat()}"


# --- checking and reading ------------------------------------------------------------------------------


def _read_summary(file: DistrictFile) -> None:
    """Read a summary whole (a few hundred rows): its version, scheme, period and referrals, checked."""
    reader = _Reader(file.path)
    rows = iter(reader)
    next(rows)
    width = len(file.header)
    for row in rows:
        _check_row(file, reader.line, row, width)
        _check_summary_cells(file, reader.line, row)
        if file.period is None:
            file.period = row[2]
        elif row[2] != file.period:
            raise _problem(file, reader.line, f"is for {row[2]!r} where the rows before it are for "
                                              f"{file.period!r}: the file is damaged; ask the district for it again")
        if row[3:6] == ["referrals", "all", "all"]:
            file.referrals = row[6]
        file.rows += 1
    if not file.rows:
        raise _problem(file, None, "is a summary with no figures: ask the district to export it again")
    file.sha256 = reader.sha256


def _check_summary_cells(file: DistrictFile, line: int, row: list[str]) -> None:
    """A summary's figures reach the board report: its names are codes and its values figures, never free text."""
    for at, column in ((3, "measure"), (4, "breakdown")):
        if not parse.is_code(row[at]):
            raise _bad(file, line, column, row[at], f"a code ({_CODE_WORDS})")
    if not (parse.is_code(row[5]) or row[5] in _AGE_BANDS):
        raise _bad(file, line, "category", row[5], f"a code ({_CODE_WORDS}) or an age band")
    if not _SUMMARY_VALUE.fullmatch(row[6]):
        raise _bad(file, line, "value", row[6], "a figure (a count, <5, suppressed, n/a, 7.5 or pounds as 1234.50)")


def _check_row(file: DistrictFile, line: int, row: list[str], width: int) -> None:
    if len(row) != width:
        raise _problem(file, line, f"has {len(row)} cells where the header has {width}: the file is damaged; "
                                   "ask the district for it again")
    if row[0] != file.version:
        if row[0] not in SPEC_VERSIONS:
            raise _problem(file, line, _unknown_version(row[0]))
        raise _problem(file, line, f"says {row[0]} where the file is {file.version}: the file is damaged or "
                                   "two files were joined; ask the district for it again")
    if row[1] != file.scheme:
        raise _problem(file, line, f"is from scheme {row[1]!r} where the file's first row is from {file.scheme!r}: "
                                   "give each scheme's files apart")


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_PSEUDONYM = re.compile(r"[0-9a-f]{16}")
_WHOLE = re.compile(r"\d{1,5}")
_MONEY = re.compile(r"-?\d{1,12}\.\d{2}")
#: Free codes (district, fund, measure, reason) reach the published figures and the board report: a code by
#: parse.code's rule, never a name or an address (COUNTY_EXPORT.md: "never in this file: ... free text").
_CODE_WORDS = "lower-case letters, digits and _, at most 40"
#: The summary's age_band categories (16-17 ... 65+), the only categories that are not codes.
_AGE_BANDS = frozenset(band for _, _, band in dates.AGE_BANDS)
#: A summary's value (COUNTY_EXPORT.md; county.cell_text): a count, a median or percentage (7.5), pounds (1234.50),
#: a suppressed count (<5), suppressed or n/a.
_SUMMARY_VALUE = re.compile(r"\d{1,12}(\.\d{1,2})?|-\d{1,12}\.\d{2}|<\d{1,3}|suppressed|n/a")
#: What a checked extract cell may hold (the columns the figures use).
_ALLOWED = {
    "referral_route": set(FIXED["referral_route"]),
    "risk_level": set(FIXED["risk_level"]),
    "tenure": set(FIXED["tenure"]),
    "status": set(FIXED["status"]),
    "within_target": set(WITHIN_TARGET),
    "repeat_referral": set(YES_NO),
    "pseudonym_scope": set(SCOPES),
}


def _read_extract(file: DistrictFile, chosen: Period, totals: Totals) -> None:
    """Stream an extract's rows into the totals, each checked, and its months against the period."""
    months = set(chosen.months())
    reader = _Reader(file.path)
    rows = iter(reader)
    header = next(rows)
    width = len(header)
    index = {column: number for number, column in enumerate(header)}
    allowed = [(index[column], column, values) for column, values in _ALLOWED.items() if column in index]
    days = [(index[c], c) for c in ("days_to_survey", "days_to_fit")]
    money = [(index[c], c) for c in ("cost_total", "contributions_total")]
    month_at, client_at, case_at = index["referral_month"], index["client_pseudonym"], index["case_pseudonym"]
    #: each case once: a row repeated (or pasted in twice) would be counted twice. Client pseudonyms repeat
    #: (repeat referrals); case pseudonyms identify one referral (COUNTY_EXPORT.md).
    cases: dict[str, int] = {}
    district_at, reason_at = index["district"], index["outcome_reason"]
    code_lists = [(index[c], c) for c in ("measures_fitted", "funds")]
    is_code = parse.is_code
    scope_at = index.get("pseudonym_scope")
    fullmatch_month, fullmatch_pseudonym = _MONTH.fullmatch, _PSEUDONYM.fullmatch
    fullmatch_whole, fullmatch_money = _WHOLE.fullmatch, _MONEY.fullmatch
    for row in rows:
        line = reader.line
        _check_row(file, line, row, width)
        month = row[month_at]
        if month not in months:
            if not fullmatch_month(month):
                raise _bad(file, line, "referral_month", month, "a month (YYYY-MM)")
            raise _problem(file, line, f"is a referral of {month}, outside {chosen.describe()}: it is not the "
                                       f"extract of this period (the district makes it with thcli export cases "
                                       f"{period_option(chosen)})")
        case = row[case_at]
        if not fullmatch_pseudonym(case):
            raise _bad(file, line, "case_pseudonym", case, "16 hex digits")
        if case in cases:
            raise _problem(file, line, f"repeats the case {case} of line {cases[case]}: a case is counted once; the "
                                       "file is damaged or was edited, ask the district to export it again")
        cases[case] = line
        if not fullmatch_pseudonym(row[client_at]):
            raise _bad(file, line, "client_pseudonym", row[client_at], "16 hex digits")
        for at, column, values in allowed:
            if row[at] not in values:
                raise _bad(file, line, column, row[at], f"one of {', '.join(sorted(values))}")
        if not is_code(row[district_at]):
            raise _bad(file, line, "district", row[district_at], f"a code ({_CODE_WORDS})")
        if row[reason_at] and not is_code(row[reason_at]):
            raise _bad(file, line, "outcome_reason", row[reason_at], f"a code ({_CODE_WORDS}) or empty")
        for at, column in code_lists:
            if row[at] and not all(map(is_code, row[at].split(";"))):
                raise _bad(file, line, column, row[at], f"codes ({_CODE_WORDS}) separated by ; or empty")
        for at, column in days:
            if row[at] and not fullmatch_whole(row[at]):
                raise _bad(file, line, column, row[at], "a whole number of working days")
        for at, column in money:
            if not fullmatch_money(row[at]):
                raise _bad(file, line, column, row[at], "an amount in pounds (1234.50)")
        totals.add(dict(zip(header, row, strict=True)))
        file.rows += 1
        if scope_at is not None and row[scope_at] == "county":
            file.county_rows += 1
    file.sha256 = reader.sha256
    file.period = chosen.label  # an extract does not say its period: its months kept to this one


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _bad(file: DistrictFile, line: int, column: str, value: str, what: str) -> NotAllowed:
    shown = _shown(value)
    return _problem(file, line, f"has {column} {shown!r}, which is not {what}: the file is damaged or was edited; "
                                "ask the district to export it again")


def combine(paths: list[Path], *, chosen: Period | None = None, period_given: str | None = None) -> Combined:
    """Check and read the districts' files into county totals (NotAllowed naming the first file that fails).

    ``chosen`` is the period asked for on the command line (``period_given``
    names its options); without it the summaries say it.
    """
    if not paths:
        raise BadInput("give the districts' files: thcli county combine FILE... --out DIR")
    files = [open_file(path) for path in paths]
    _no_scheme_twice(files)
    summaries = [f for f in files if f.kind == SUMMARY]
    for summary in summaries:
        _read_summary(summary)
    first: DistrictFile | None = None
    for summary in summaries:
        try:
            its_period = period_of_label(summary.period or "")
        except BadInput:
            raise _problem(summary, None, f"has the period {summary.period!r}, which thcli does not write: ask the "
                                          "district to export it again") from None
        if chosen is None:
            chosen, first = its_period, summary
        elif its_period != chosen:
            if first is None:
                raise _problem(summary, None, f"is for {its_period.label} but {period_given or 'the command'} asks for "
                                              f"{chosen.label}: combine one period at a time")
            raise _problem(summary, None, f"is for {its_period.label} but {first.name} is for {chosen.label}: "
                                          "combine one period at a time")
    if chosen is None:
        raise BadInput(f"no summary says which period the extracts cover: add the districts' summaries, or "
                       f"say it with {county.PERIOD_HINT}")
    _every_summary_has_its_extract(files)
    totals = Totals(chosen)
    for extract in (f for f in files if f.kind == EXTRACT):
        _read_extract(extract, chosen, totals)
    return Combined(chosen, totals, files)


def _no_scheme_twice(files: list[DistrictFile]) -> None:
    seen: dict[tuple[str, str], DistrictFile] = {}
    paths: dict[Path, DistrictFile] = {}
    for file in files:
        resolved = file.path.resolve()
        if resolved in paths:
            raise _problem(file, None, "is given twice: give each district's files once")
        paths[resolved] = file
        if file.scheme is None:
            continue
        earlier = seen.get((file.kind, file.scheme))
        if earlier is not None:
            raise _problem(file, None, f"is a second {file.kind} from scheme {file.scheme!r} (the first is "
                                       f"{earlier.name}): give each district's files once")
        seen[(file.kind, file.scheme)] = file


def _every_summary_has_its_extract(files: list[DistrictFile]) -> None:
    """Pair each summary with its scheme's extract; an extract with no rows (no scheme code) pairs with one left."""
    schemes = {f.scheme for f in files if f.kind == EXTRACT and f.scheme is not None}
    empty = [f for f in files if f.kind == EXTRACT and f.scheme is None]
    alone = [f for f in files if f.kind == SUMMARY and f.scheme not in schemes]
    if len(alone) > len(empty):
        file = alone[len(empty)] if empty else alone[0]
        raise _problem(file, None, f"is the summary of scheme {file.scheme!r}, but no case extract from "
                                   f"{file.scheme!r} was given: add its case extract (thcli export cases), or leave "
                                   "the summary out")
    for summary, extract in zip(alone, empty, strict=False):
        extract.scheme = summary.scheme

