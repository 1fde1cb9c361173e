"""The county partnership export (COUNTY_EXPORT.md, version ``thcli-county-1``).

Two CSV files, the same from every district so that the county can add them up:

- the **case extract** (``export cases``): one pseudonymised row per case
  referred in the period. Cases are keyed by an HMAC of their reference under
  the scheme's own secret (``secrets.county_hmac``, never exported), clients by
  an HMAC of their client number, so repeat referrals can be counted without
  a name. It never holds a name, date of birth, address, postcode, phone,
  email, free text, perpetrator or referrer detail: it is read by one SQL
  statement (:data:`CASE_COLUMNS_SQL`) that selects none of them (but the
  date of birth, which only becomes an age band), streamed a row at a time,
  so 100,000 cases take no more memory than ten.
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
- ``spend`` and ``contributions``: a household's ledger money dated in the
  period (payments net of refunds and corrections, and equipment from stock at
  its cost when issued; contributions received);
- ``median_days_to_fit`` and ``percent_within_target``: cases whose measures
  were all fitted in the period.

The package: periods are periods.py's (below, shared with ``report``);
pseudonyms.py keys cases and clients, cells.py writes CSV cells, extract.py
reads the case extract, summary.py the aggregate return and its suppression,
and this module writes either file (to a path, atomically, or to a stream)
and audits it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from thcli import audit, clock
from thcli.county import extract
from thcli.county.cells import SPEC_VERSION, SPEC_VERSIONS, csv_cell, csv_writer, defuse, scheme_code
from thcli.county.extract import (
    CASE_COLUMNS,
    CASE_COLUMNS_SQL,
    CASE_COLUMNS_V1,
    case_rows,
    fill_lines,
    left_out,
    period_case_rows,
)
from thcli.county.pseudonyms import (
    COUNTY_KEY_SECRET,
    CountyPseudonymiser,
    Pseudonymiser,
    client_pseudonym,
    county_key,
    person_key,
    pseudonymiser,
)
from thcli.county.summary import (
    MEASURES,
    SUMMARY_COLUMNS,
    Cell,
    cell_text,
    check_threshold,
    protect,
    summary_cells,
    summary_rows,
)
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed
from thcli.files import check_writable, head, may_replace, os_problem, printable, sync_folder, write_atomically
from thcli.periods import PERIOD_HINT, Period, period

__all__ = [
    "CASE_COLUMNS", "CASE_COLUMNS_SQL", "CASE_COLUMNS_V1", "COUNTY_KEY_SECRET", "MEASURES", "PERIOD_HINT",
    "SPEC_VERSION", "SPEC_VERSIONS", "SUMMARY_COLUMNS", "Cell", "CountyPseudonymiser", "Exported", "Period",
    "Pseudonymiser", "case_rows", "cell_text", "check_destination", "check_threshold", "client_pseudonym",
    "county_key", "csv_cell", "defuse", "export_cases", "export_summary", "extract", "is_export", "left_out",
    "period", "period_case_rows", "person_key", "protect",
    "pseudonymiser", "scheme_code", "summary_cells", "summary_rows",
]

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
    writer = csv_writer(stream)
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
        if not os.path.lexists(path.parent):
            raise BadInput(f"the folder {printable(path.parent)} does not exist: create it first or choose another",
                           "--out")
    except OSError as error:
        raise os_problem(error, path, option="--out") from None
    check_writable(path, option="--out")  # a file where the folder should be, a read-only folder, a long name
    return path.absolute()


def is_export(path: Path, header: Iterable[str]) -> bool:
    """Whether a file is an earlier thcli export with this header (its first line, after any BOM)."""
    first = head(path, 8192).decode("utf-8", "replace").lstrip("\ufeff").split("\r\n", 1)[0].split("\n", 1)[0]
    return first == ",".join(header)


def _write_exported(db: Database, path: Path, fill: Callable[[IO[str]], int],
                    record: Callable[[int], None], replace: bool = False) -> int:
    """Write the export through files.write_atomically, its audit row in the transaction around the move.

    The audit row and the move succeed or fail together: a failed export
    leaves neither a file nor an audit row (and no half-written file).
    """

    @contextmanager
    def audited(count: int | None) -> Iterator[None]:
        with write(db):
            record(count or 0)
            yield

    try:
        count = write_atomically(path, fill, replace=replace, text=True, option="--out", placing=audited)
    except FileExistsError:
        raise NotAllowed(f"{printable(path)} appeared while the export was written: nothing was replaced; "
                         "choose another name") from None
    sync_folder(path.parent)
    return count or 0


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
        count = _write_exported(db, path, lambda f: fill(f, header, rows, bom),
                                  lambda n: record(n, str(path)), replace=replacing)
        return Exported(count, path, chosen)
    if stream is None:  # pragma: no cover - a programming error: the commands give one or the other
        raise ValueError("an export goes to a file (out) or a stream")
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
                   stream=stream, bom=bom, by=by, note=note, fill=fill_lines, force=force,
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
