"""`thcli survey ...`: request and record home security surveys."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from thcli import dates
from thcli.commands._common import (
    OverrideOption,
    Ref,
    next_due,
    out,
    parse_code,
    parse_date,
    parse_name,
    parse_text,
    session,
    warn,
)

app = typer.Typer(help="Request and record home security surveys.", no_args_is_help=True, add_completion=False)

Surveyor = Annotated[str | None, typer.Option("--surveyor", parser=parse_name, metavar="NAME",
                                              help="Who visits, by name (default: the assessor's name in the list).")]
Assessor = Annotated[str | None, typer.Option(
    "--assessor", parser=parse_code, metavar="CODE",
    help="Who assesses the home (`thcli codes list assessor`): a police Crime Reduction Officer, the scheme's own "
         "assessor or a contractor's surveyor (default: the setting default_assessor).")]


@app.command()
def request(
    ctx: typer.Context,
    ref: Ref,
    surveyor: Surveyor = None,
    assessor: Assessor = None,
    on: Annotated[dt.date | None, typer.Option("--date", parser=parse_date, metavar="DATE",
                                                help="When it was requested (default today).")] = None,
    override: OverrideOption = None,
) -> None:
    """Ask for a home security survey; the case moves to survey.

    It needs consent to share with whoever assesses: the police for a Crime
    Reduction Officer, the contractor for a contractor's surveyor, nobody new
    for the scheme's own assessor; and the scheme's eligibility rules (or
    --override REASON). A new case passes through triage (asking for a
    survey means the survivor has been contacted).

    Example: thcli survey request TH-2026-0042 --surveyor "PC Sam Surveyexample"
    """
    from thcli import surveys

    s = session(ctx)
    db = s.open()
    result = surveys.request_survey(db, ref, surveyor=surveyor, assessor=assessor, on=on, override=override,
                                    by=s.user)
    out(f"Survey of {result['ref']} requested from {result['surveyor']} on "
        f"{dates.format_date(result['requested_on'])}. {result['ref']} is now {result['status']}.")
    if result["due_on"]:
        from thcli.cases import case_row

        out(next_due(result["due_what"], result["due_on"], case_row(db, result["ref"])["next_due_at"]))


@app.command()
def record(
    ctx: typer.Context,
    ref: Ref,
    on: Annotated[dt.date, typer.Option("--date", parser=parse_date, metavar="DATE",
                                        help="When the survey was done.")],
    surveyor: Surveyor = None,
    measure: Annotated[list[str] | None, typer.Option(
        "--measure", metavar="CODE[xQTY][@COST][:WHERE]",
        help="A recommended measure (repeat for each): catalogue code, quantity, unit cost if not the "
             "catalogue's, where it goes, e.g. \"window_alarmx3@12.50:ground-floor windows\".")] = None,
    no_measures: Annotated[bool, typer.Option("--no-measures",
                                              help="The survey recommends nothing (the case can then close, "
                                                   "e.g. --reason no_measures_needed).")] = False,
    assessor: Assessor = None,
    note: Annotated[str | None, typer.Option("--note", parser=parse_text, metavar="TEXT",
                                              help="The surveyor's notes.")] = None,
    override: OverrideOption = None,
) -> None:
    """Record the survey visit and each measure it recommends; the case moves to approval.

    Each --measure is CODE[xQTY][@COST][:WHERE]: costs come from the
    measures catalogue (`thcli codes list measure`) unless a unit cost is
    given; WHERE (after a colon) says where it goes, for the works order.
    --no-measures records a survey that recommends nothing. A scheme whose
    own officer assesses can record the survey straight from triage, under
    the same consent and eligibility rules as a request.

    Example: thcli survey record TH-2026-0042 --surveyor "PC Sam Example" --date 19/11/2026 --measure window_alarmx3
    """
    from thcli import parse, surveys

    s = session(ctx)
    db = s.open()
    specs = [surveys.parse_measure(db, text) for text in measure or []]
    result = surveys.record_survey(db, ref, surveyor=surveyor, on=on, measures=specs, note=note,
                                   no_measures=no_measures, assessor=assessor, override=override, by=s.user)
    count = len(result["lines"])
    out(f"Recorded the survey of {result['ref']} by {result['surveyor']} on "
        f"{dates.format_date(result['surveyed_on'])}: "
        f"{f'{count} measure' + ('s' if count != 1 else '') if count else 'no measures'} recommended. "
        f"{result['ref']} is now {result['status']}.")
    for line in result["lines"]:
        where = f"  at: {line['location']}" if line["location"] else ""
        out(f"  {line['line']:>2}  {line['label']} x{line['quantity']}  "
            f"{parse.format_money(line['estimated_cost_pence'])}  ({line['kind']}){where}")
    for text in result["warnings"]:
        warn(text)
    if count:
        out(f"Next: approve them with `thcli measures approve {result['ref']} --fund FUND`.")
    else:
        out(f"Next: close it with `thcli referral move {result['ref']} closed --reason no_measures_needed`.")
