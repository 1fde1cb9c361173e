"""`thcli export`: the county partnership's CSV files (COUNTY_EXPORT.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import (
    FromOption,
    QuarterOption,
    ToOption,
    YearOption,
    note,
    out,
    parse_positive,
    session,
)

app = typer.Typer(
    help="County partnership exports (CSV, spec thcli-county-2): the case extract and the aggregate return.",
    no_args_is_help=True,
    add_completion=False,
)

OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FILE",
    help="Write to FILE (readable by you only, written in one step) instead of the screen.", show_default=False)]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="Replace FILE if it is an earlier export of the same kind (nothing else is ever replaced).")]
NoBomOption = Annotated[bool, typer.Option(
    "--no-bom", help="Leave out the byte-order mark that Excel needs to show £ and accents.")]


def _stdout():
    sys.stdout.flush()
    return sys.stdout.buffer


@app.command("cases")
def cases(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    quarter: QuarterOption = None,
    year: YearOption = None,
    out_file: OutOption = None,
    no_bom: NoBomOption = False,
    force: ForceOption = False,
) -> None:
    """The pseudonymised case extract: one row per case referred in the period whose client consents.

    Only cases whose client's consent to share with the county partnership
    stands today are in it (`thcli referral consent REF --scope county`);
    the command says how many were left out and why, and the summary still
    counts them. No names, addresses, dates of birth, contact details, free
    text or perpetrator details: cases and clients are keyed pseudonyms
    (HMAC under the scheme's own secret), ages are bands and dates are
    months. Still personal data in law: share it under the
    information-sharing agreement only. Audited. Where the scheme holds the
    partnership's county key (`thcli county key use`), clients with a date
    of birth are keyed on it instead, the same in every district
    (pseudonym_scope county).

    Example: thcli export cases --year 2026/27 --out county-cases-2026-27.csv
    """
    from thcli import county, periods

    s = session(ctx)
    chosen = periods.period(start=start, end=end, quarter=quarter, year=year)
    db = s.open()
    done = county.export_cases(db, chosen, by=s.user, out=out_file, stream=None if out_file else _stdout(),
                               bom=not no_bom, force=force)
    if done.path is not None:
        out(f"Wrote {done.rows} case{'s' if done.rows != 1 else ''} referred in {chosen.describe()} "
            f"to {done.path}.")
        # issue 17: say which key the client pseudonyms are under (the check code, never the key)
        from thcli.partnership import key

        held = key.state(db)
        if held.held:
            out(f"Clients with a date of birth are keyed on the county key (check code {held.check_code}); "
                "the others on the scheme's own secret.")
    missing = sum(done.left_out.values())
    if missing:
        why = [f"{n} never consented" for n in [done.left_out["never_given"]] if n]
        why += [f"{n} withdrew consent" for n in [done.left_out["withdrawn"]] if n]
        # With the CSV on standard output, the note goes to stderr so that the file stays clean.
        (out if done.path is not None else note)(
            f"Left out {missing} case{'s' if missing != 1 else ''} whose client's consent to share with the "
            f"county partnership does not stand today ({', '.join(why)}); the summary still counts "
            f"{'them' if missing != 1 else 'it'}.")


@app.command("summary")
def summary(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    quarter: QuarterOption = None,
    year: YearOption = None,
    out_file: OutOption = None,
    round_to: Annotated[int | None, typer.Option(
        "--round", parser=parse_positive, metavar="N",
        help="Round every count shown to the nearest N (e.g. 5).", show_default=False)] = None,
    no_bom: NoBomOption = False,
    force: ForceOption = False,
) -> None:
    """The aggregate return for the period, safe to publish, including the MHCLG Part 4 figures.

    Counts from 1 to the suppression threshold minus one (setting
    suppression_threshold, default 5) are written <5; one more cell of the
    same breakdown is suppressed where the total would give a hidden cell
    away; money, medians and percentages of fewer cases than the threshold
    are suppressed. Audited.

    Example: thcli export summary --quarter 2026Q3 --round 5 --out county-summary-2026Q3.csv
    """
    from thcli import county, periods

    s = session(ctx)
    chosen = periods.period(start=start, end=end, quarter=quarter, year=year)
    db = s.open()
    done = county.export_summary(db, chosen, by=s.user, out=out_file, stream=None if out_file else _stdout(),
                                 bom=not no_bom, round_to=round_to, force=force)
    if done.path is not None:
        out(f"Wrote the summary for {chosen.describe()} ({done.rows} figures) to {done.path}.")
