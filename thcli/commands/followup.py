"""`thcli followup ...`: follow-ups after the measures are fitted."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from thcli import dates
from thcli.commands._common import NoteOption, Ref, next_due, out, parse_code, parse_date, parse_text, session

app = typer.Typer(help="Record follow-ups after fitting.", no_args_is_help=True, add_completion=False)


@app.callback()
def followup() -> None:
    """Record follow-ups after fitting (3 and 6 months by default, setting followup_months)."""


@app.command()
def record(
    ctx: typer.Context,
    ref: Ref,
    on: Annotated[dt.date, typer.Option("--date", parser=parse_date, metavar="DATE",
                                        help="When the survivor was contacted.")],
    outcome: Annotated[str, typer.Option("--outcome", parser=parse_code, metavar="CODE",
                                         help="What was found (`thcli codes list followup_outcome`).")],
    note: NoteOption = None,
    early: Annotated[str | None, typer.Option("--early", parser=parse_text, metavar="REASON",
                                              help="Record it before its window opens (a month before it is "
                                                   "due), with the reason (recorded).")] = None,
) -> None:
    """Record a follow-up (3 and 6 months after fitting by default; closed cases too).

    A follow-up counts from a month before it is due (the 3-month one from
    two months after fitting); sooner needs --early REASON. The first moves a
    fitted case to follow_up; after the last, the case can be closed as
    completed. On a closed case with equipment left in the home, a follow-up
    is its equipment review.

    Example: thcli followup record TH-2026-0042 --date 20/11/2026 --outcome feels_safer
    """
    from thcli import followups

    s = session(ctx)
    db = s.open()
    result = followups.record_followup(db, ref, on=on, outcome=outcome, note=note, early=early, by=s.user)
    out(f"Follow-up of {result['ref']} recorded ({result['outcome']}, {dates.format_date(result['done_on'])}): "
        f"{min(result['followups_done'], result['followups_scheduled'])} of {result['followups_scheduled']} done. "
        f"{result['ref']} is {result['status']}.")
    if result["can_close"]:
        out(f"Every follow-up is done: close it with `thcli referral move {result['ref']} closed --reason completed`.")
    elif result["next_due_on"]:
        out(next_due(result["next_due_what"], result["next_due_on"]))
