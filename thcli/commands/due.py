"""`thcli due`: what needs doing, most urgent first."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli import dates
from thcli.commands._common import FormatOption, parse_code, parse_count, session

app = typer.Typer(add_completion=False)


def _emergency(value: str, row: dict):
    from rich.text import Text

    return Text("emergency", style="bold") if row["emergency"] else value


def _late(days: int, row: dict | None = None):
    from rich.text import Text

    if row and row.get("hours_late") is not None:
        from thcli import render

        hours = row["hours_late"]
        return Text(render.hours_text(hours), style="bold red" if hours >= 0 else "bold yellow")
    if days > 0:
        return Text(f"{days} day{'s' if days != 1 else ''} late", style="bold red")
    if days == 0:
        return Text("today", style="bold yellow")
    return f"in {-days} day{'s' if days != -1 else ''}"


def _overdue(row: dict) -> bool:
    """Past its date, or (a target in hours) past its moment."""
    return row["days_late"] > 0 or (row["hours_late"] is not None and row["hours_late"] >= 0)


def _due_when(value: str, row: dict) -> str:

    return dates.format_date(value) + (f" {dates.format_time(row['due_at'])}" if row.get("due_at") else "")


@app.command()
def due(
    ctx: typer.Context,
    within: Annotated[int, typer.Option("--within", parser=parse_count, metavar="N",
                                        help="Also what falls due within N working days (0: overdue and today).")]
    = 5,
    district: Annotated[str | None, typer.Option("--district", parser=parse_code, metavar="CODE",
                                                 help="Only this district's cases.")] = None,
    limit: Annotated[int, typer.Option("--limit", parser=parse_count, metavar="N",
                                       help="At most N items in a table (0 for all; JSON and CSV give all).")]
    = 50,
    fmt: FormatOption = None,
) -> None:
    """Everything that needs doing, most urgent first: overdue (in red, with how late), today, then soon.

    First contact, survey, landlord permission, works past their target,
    follow-ups, closing, and removable equipment due for review. A target in
    hours (48 hours from the referral) shows the hours left, or how late. In
    JSON, days_late is negative for what is not due yet; due_at and
    hours_late are given for a target in hours.

    Example: thcli due --within 10
    """
    from rich.text import Text

    from thcli import audit, render, targets

    s = session(ctx)
    db = s.open()
    rows = targets.due_list(db, within=within, district=district)
    chosen = render.resolve_format(fmt)
    shown = rows if chosen != "table" or not limit else rows[:limit]
    audit.record_view(db, by=s.user, action="due.list", cases=len({r["ref"] for r in shown}), shown_as=chosen,
                      filters={"within": within, "district": district, "limit": limit if chosen == "table" else None})
    if chosen != "table":
        render.emit(rows, fmt, [], csv_columns=["ref", "what", "due_on", "days_late", "status", "district",
                                                "risk_level", "emergency", "due_at", "hours_late"])
        return
    if not rows:
        render.console.print("Nothing is due." if within == 0 else f"Nothing is due within {within} working days.")
        return
    overdue = sum(1 for r in rows if _overdue(r))
    today = sum(1 for r in rows if r["days_late"] == 0 and not _overdue(r))
    caption = f"{overdue} overdue, {today} due today, {len(rows) - overdue - today} due within {within} working days"
    if len(shown) < len(rows):
        caption += f"; showing the {len(shown)} most urgent (use --limit 0 for all)"
    # At 80 columns the reference, date, how late and what stay; status, district and risk go, in that order.
    columns = [
        render.Column("ref", "Ref", style="bold", kind="ref", drop=0),
        render.Column("due_on", "Due", _due_when, kind="whole", drop=0),
        render.Column("days_late", "", lambda v, r: _late(v, r), kind="whole", drop=4, name="how late"),
        render.Column("what", "What", kind="text", drop=0),
        render.Column("status", "Status", kind="code", drop=1),
        render.Column("district", "District", kind="code", drop=2),
        render.Column("risk_level", "Risk", lambda v, r: _emergency(v, r), kind="code", drop=3),
    ]
    laid = render.table(shown, columns, title="Due", row_style=lambda r: "red" if _overdue(r) else None)
    render.show(laid, Text(caption), left_out=laid.left_out)
