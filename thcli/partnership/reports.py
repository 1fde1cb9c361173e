"""The two ways the partnership's figures are made: the county's (from files) and a scheme's (from its database).

- :func:`combine_files`: ``thcli county combine FILE... --out DIR
  [--report FILE.docx]``. Every destination is checked first, then every
  file (combine.py), then the report is made, and only then is anything
  written: the figures files into DIR (0700 when made; each file 0600, in
  one step) and the report.
  It needs no database and no key.
- :func:`scheme_board`: ``thcli report board``: the same figures and the
  same document for one scheme, from every case referred in the period in
  its own database (consented to county sharing or not: nothing leaves the
  scheme but suppressed figures), with the scheme's own suppression
  threshold, protective marking, district names and fitting target. Audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from thcli import audit, county, settings
from thcli.county import CASE_COLUMNS, Cell, Period
from thcli.db import Database, write
from thcli.partnership import board as boards
from thcli.partnership import combine as combining
from thcli.partnership.figures import DEFAULT_THRESHOLD, Totals, destinations, write_folder

DEFAULT_PARTNERSHIP = "County domestic abuse partnership"


@dataclass
class CountyResult:
    combined: combining.Combined
    cells: list[Cell]
    folder: Path
    files: list[Path]
    report: Path | None
    threshold: int
    round_to: int | None


def combine_files(paths: list[Path], out: Path, *, by: str, report: Path | None = None, chosen: Period | None = None,
                  period_given: str | None = None, threshold: int = DEFAULT_THRESHOLD, round_to: int | None = None,
                  force: bool = False, partnership: str = DEFAULT_PARTNERSHIP,
                  marking: str = "OFFICIAL-SENSITIVE", today: dt.date | None = None) -> CountyResult:
    """Check and combine the districts' files; write the county figures (and the board report)."""
    county.check_threshold(threshold, option="--threshold")
    folder, plan = destinations(out, force=force)
    report_plan = boards.check_report_path(report, force=force, option="--report") if report is not None else None
    combined = combining.combine(paths, chosen=chosen, period_given=period_given)
    cells = combined.totals.figures(threshold=threshold)
    # The report is made before any figure file is written, so that a report that fails leaves nothing written.
    content = None
    if report_plan is not None:
        county_schemes, other_schemes = combined.totals.schemes_by_scope()
        summaries = combined.summaries()
        extracts = combined.extracts()
        coverage = [boards.Coverage(e.scheme or "(empty)", e.rows,
                                    summaries[e.scheme].referrals if e.scheme in summaries else None)
                    for e in extracts]
        schemes = sorted({e.scheme for e in extracts if e.scheme})
        board = boards.Board(
            name=partnership, period=combined.period, cells=cells, threshold=threshold, marking=marking, by=by,
            county=True, round_to=round_to, county_schemes=county_schemes, other_schemes=other_schemes,
            coverage=coverage, today=today,
            made_from=f"{len(combined.files)} file{'s' if len(combined.files) != 1 else ''} from "
                      f"{len(schemes)} district scheme{'s' if len(schemes) != 1 else ''} ({', '.join(schemes)})")
        content = boards.document(board)
    written = write_folder(folder, plan, combined.period, cells, [f.source() for f in combined.files],
                           round_to=round_to)
    report_path = None
    if report_plan is not None and content is not None:
        report_path = boards.write_report(report_plan[0], content, replace=report_plan[1], option="--report")
    return CountyResult(combined, cells, written.folder, written.files, report_path, threshold, round_to)


def scheme_board(db: Database, chosen: Period, out: Path, *, by: str, force: bool = False,
                 today: dt.date | None = None) -> tuple[Path, list[Cell]]:
    """``report board``: the scheme's board report for a period, from its own database (audited)."""
    path, replacing = boards.check_report_path(out, force=force, option="--out",
                                               database=getattr(db, "path", None))
    totals = Totals(chosen, today=today)
    for row in county.period_case_rows(db, chosen, today=today):
        totals.add(dict(zip(CASE_COLUMNS, map(str, row), strict=True)))
    threshold = settings.get(db, "suppression_threshold")
    cells = totals.figures(threshold=threshold)
    target = settings.get(db, "target_fitted")
    labels = dict(db.conn.execute("SELECT code, label FROM codes WHERE list = 'district'").fetchall())
    board = boards.Board(
        name=settings.get(db, "scheme_name"), period=chosen, cells=cells, threshold=threshold,
        marking=settings.get(db, "protective_marking"), by=by, county=False,
        made_from="the scheme's own records", district_labels=labels, today=today,
        target_days=target.amount if getattr(target, "unit", None) == "working_days" else None)
    boards.write_report(path, boards.document(board), replace=replacing, option="--out")
    try:
        with write(db):
            audit.record(db, by=by, action="report.board",
                         detail=f"period {chosen.label} ({chosen.start.isoformat()} to {chosen.end.isoformat()}); "
                                f"{totals.rows} cases; to {path}")
    except BaseException:
        path.unlink(missing_ok=True)  # no report without its audit row
        raise
    return path, cells
