"""`thcli survey ...`: request and record home security surveys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from thcli.commands._common import Ref, out, parse_date, parse_name, parse_text, session, warn

app = typer.Typer(help="Request and record home security surveys.", no_args_is_help=True, add_completion=False)

Surveyor = Annotated[str, typer.Option("--surveyor", parser=parse_name, metavar="NAME",
                                       help="The Crime Reduction Officer (or the scheme's own assessor).")]


@app.command()
def request(
    ctx: typer.Context,
    ref: Ref,
    surveyor: Surveyor,
    on: Annotated[dt.date | None, typer.Option("--date", parser=parse_date, metavar="DATE",
                                                help="When it was requested (default today).")] = None,
) -> None:
    """Ask for a home security survey: needs consent to share with the police; the case moves to survey.

    A new case passes through triage (asking for a survey means the survivor
    has been contacted).

    Example: thcli survey request TH-2026-0042 --surveyor "PC Sam Surveyexample"
    """
    from thcli import parse, surveys

    s = session(ctx)
    db = s.open()
    result = surveys.request_survey(db, ref, surveyor=surveyor, on=on, by=s.user)
    out(f"Survey of {result['ref']} requested from {result['surveyor']} on "
        f"{parse.format_date(result['requested_on'])}. {result['ref']} is now {result['status']}.")
    if result["due_on"]:
        out(f"Next due: {result['due_what']} by {parse.format_date(result['due_on'])}.")


@app.command()
def record(
    ctx: typer.Context,
    ref: Ref,
    surveyor: Surveyor,
    on: Annotated[dt.date, typer.Option("--date", parser=parse_date, metavar="DATE",
                                        help="When the survey was done.")],
    measure: Annotated[list[str], typer.Option(
        "--measure", metavar="CODE[xQTY][@COST][:WHERE]",
        help="A recommended measure (repeat for each): catalogue code, quantity, unit cost if not the "
             "catalogue's, where it goes, e.g. \"window_alarmx3@12.50:ground-floor windows\".")],
    note: Annotated[str | None, typer.Option("--note", parser=parse_text, metavar="TEXT",
                                              help="The surveyor's notes.")] = None,
) -> None:
    """Record the survey visit and each measure it recommends; the case moves to approval.

    Each --measure is CODE[xQTY][@COST][:WHERE]: costs come from the
    measures catalogue (`thcli codes list measure`) unless a unit cost is
    given; WHERE (after a colon) says where it goes, for the works order. A scheme whose own officer assesses can
    record the survey straight from triage.

    Example: thcli survey record TH-2026-0042 --surveyor "PC Sam Example" --date 19/11/2026 --measure window_alarmx3
    """
    from thcli import parse, surveys

    s = session(ctx)
    db = s.open()
    specs = [surveys.parse_measure(db, text) for text in measure]
    result = surveys.record_survey(db, ref, surveyor=surveyor, on=on, measures=specs, note=note, by=s.user)
    count = len(result["lines"])
    out(f"Recorded the survey of {result['ref']} by {result['surveyor']} on "
        f"{parse.format_date(result['surveyed_on'])}: {count} measure{'s' if count != 1 else ''} recommended. "
        f"{result['ref']} is now {result['status']}.")
    for line in result["lines"]:
        where = f"  at: {line['location']}" if line["location"] else ""
        out(f"  {line['line']:>2}  {line['label']} x{line['quantity']}  "
            f"{parse.format_money(line['estimated_cost_pence'])}  ({line['kind']}){where}")
    for text in result["warnings"]:
        warn(text)
    out(f"Next: approve them with `thcli measures approve {result['ref']} --fund FUND`.")
