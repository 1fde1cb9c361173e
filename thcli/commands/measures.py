"""`thcli measures ...`: approve, decline, order, record fitted and removed measure lines."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from thcli.commands._common import (
    FormatOption,
    Line,
    OnDate,
    OverrideOption,
    OverspendOption,
    Ref,
    next_due,
    out,
    parse_code,
    parse_date,
    parse_money,
    parse_positive,
    parse_text,
    session,
    warn,
)
from thcli.parse import format_money

if TYPE_CHECKING:
    from thcli.db import Database

app = typer.Typer(help="Approve, order and record fitted measures.", no_args_is_help=True, add_completion=False)

Lines = Annotated[list[int] | None, typer.Argument(
    parser=parse_positive, metavar="[LINE]...",
    help="Line numbers from `thcli measures list REF` (none: every line in the right state).", show_default=False)]
RequiredLines = Annotated[list[int], typer.Argument(
    parser=parse_positive, metavar="LINE...", help="Line numbers from `thcli measures list REF`.")]

STATUS_STYLE = {"recommended": "yellow", "approved": "cyan", "ordered": "blue", "fitted": "green",
                "declined": "dim", "removed": "dim"}


def _said(verb: str, ref: str, lines: list[dict]) -> str:
    numbers = ", ".join(str(line["line"]) for line in lines)
    return f"{ref}: {verb} line{'s' if len(lines) != 1 else ''} {numbers}"


@app.command("list")
def list_(ctx: typer.Context, ref: Ref, fmt: FormatOption = None) -> None:
    """The measure lines of a case with their status, fund, contractor, dates and costs.

    Example: thcli measures list TH-2026-0042 --format json
    """
    from rich.text import Text

    from thcli import measures, render

    s = session(ctx)
    db = s.open()
    rows = measures.list_measures(db, ref)

    def status(value, row):
        from thcli.commands.show_view import line_status

        style = STATUS_STYLE.get(value, "")
        return Text(line_status(row), style=style)

    # The line number, measure, estimate and status stay; at 80 columns the actual cost goes first, then the
    # quantity and the fund.
    columns = [
        render.Column("line", "Line", kind="number", drop=0),
        render.Column("label", "Measure",
                      lambda v, r: Text.assemble(v, (" (removable)" if r["removable"] else "", "dim"),
                                                 (f"\nat: {r['location']}" if r["location"] else "", "dim")),
                      kind="text", drop=0),
        render.Column("quantity", "Qty", kind="number", drop=2),
        render.Column("estimated_cost_pence", "Estimate", render.money, kind="money", drop=0),
        render.Column("status", "Status", status, kind="text", drop=0),
        render.Column("fund", "Fund", kind="code", drop=3),
        render.Column("actual_cost_pence", "Actual", render.money, kind="money", drop=1),
    ]
    title = f"Measures of {ref.strip().upper()}"
    render.emit(rows, fmt, columns, csv_columns=measures.LIST_FIELDS, title=title,
                empty=f"{ref.strip().upper()} has no measures yet.")


@app.command()
def approve(
    ctx: typer.Context,
    ref: Ref,
    fund: Annotated[str, typer.Option("--fund", metavar="FUND",
                                      help="The fund to charge (code or number, `thcli budget fund list`).")],
    lines: Lines = None,
    over_cap_reason: Annotated[str | None, typer.Option("--over-cap-reason", parser=parse_text, metavar="TEXT",
                                                        help="Why the household cap may be passed (recorded).")]
    = None,
    allow_overspend: OverspendOption = None,
    on: OnDate = None,
    override: OverrideOption = None,
) -> None:
    """Approve recommended lines against a fund (their estimate is committed).

    The scheme's eligibility rules apply (an equipment-only scheme approves
    no works measure), unless overridden with a reason.

    Example: thcli measures approve TH-2026-0042 1 2 --fund opcc_2026_27
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done = measures.approve(db, ref, lines or [], fund=fund, on=on, over_cap_reason=over_cap_reason,
                            allow_overspend=allow_overspend, override=override, by=s.user)
    out(_said("approved", ref.strip().upper(), done) + f" against {done[0]['fund']}.")


@app.command()
def decline(
    ctx: typer.Context,
    ref: Ref,
    lines: RequiredLines,
    reason: Annotated[str, typer.Option("--reason", parser=parse_code, metavar="CODE",
                                        help="Why (`thcli codes list decline_reason`).")],
) -> None:
    """Decline lines with a reason; money committed to them is given back.

    Example: thcli measures decline TH-2026-0042 3 --reason no_funding
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done = measures.decline(db, ref, lines, reason=reason, by=s.user)
    out(_said("declined", ref.strip().upper(), done) + f" ({reason}).")
    _status_after(db, ref)


@app.command()
def order(
    ctx: typer.Context,
    ref: Ref,
    contractor: Annotated[str, typer.Option("--contractor", parser=parse_code, metavar="CODE",
                                            help="Who fits them (`thcli codes list contractor`).")],
    lines: Lines = None,
    on: OnDate = None,
    override: OverrideOption = None,
) -> None:
    """Order approved lines from a contractor (or the in-house team); the case moves to works.

    Works on a rented home need the landlord's permission granted, every
    order needs consent to share with the contractor, and the scheme's
    eligibility rules apply (unless overridden with a reason).

    Example: thcli measures order TH-2026-0042 --contractor in_house
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done = measures.order(db, ref, lines or [], contractor=contractor, on=on, override=override, by=s.user)
    out(_said("ordered", ref.strip().upper(), done) + f" from {contractor}.")
    _status_after(db, ref)


@app.command()
def fitted(
    ctx: typer.Context,
    ref: Ref,
    on: Annotated[dt.date, typer.Option("--date", parser=parse_date, metavar="DATE", help="When they were fitted.")],
    lines: Lines = None,
    cost: Annotated[int | None, typer.Option("--cost", parser=parse_money, metavar="MONEY",
                                             help="The actual cost of the one line given (default: its estimate).")]
    = None,
    allow_overspend: OverspendOption = None,
) -> None:
    """Record ordered lines as fitted, with the actual cost; the case is fitted once all are.

    Example: thcli measures fitted TH-2026-0042 1 --date 24/11/2026 --cost 92.50
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done, moved = measures.fitted(db, ref, lines or [], on=on, cost_pence=cost, allow_overspend=allow_overspend,
                                  by=s.user)
    out(_said("fitted", ref.strip().upper(), done) + ".")
    _status_after(db, ref, moved_to="fitted" if moved else None)


@app.command()
def remove(
    ctx: typer.Context,
    ref: Ref,
    lines: RequiredLines,
    on: Annotated[dt.date, typer.Option("--date", parser=parse_date, metavar="DATE", help="When it was removed.")],
    to_stock: Annotated[str | None, typer.Option(
        "--to-stock", parser=parse_code, metavar="HOLDER",
        help="Put it back in this holder's stock, to lend again (`thcli codes list stock_holder`).")] = None,
) -> None:
    """Record removable equipment taken out of the home (allowed on closed cases too).

    With --to-stock the items go back into a holder's stock at no cost (the
    household that had them keeps what they cost), ready to lend again.

    Example: thcli measures remove TH-2026-0042 4 --date 20/11/2026 --to-stock idva
    """
    from thcli import measures, stock

    s = session(ctx)
    db = s.open()
    if to_stock is None:
        done = measures.remove(db, ref, lines, on=on, by=s.user)
        out(_said("removed", ref.strip().upper(), done) + ".")
        return
    back = stock.collect(db, ref, lines, holder=to_stock, on=on, by=s.user)
    out(_said("removed", back["ref"], back["lines"]) + f", back in {to_stock}'s stock: "
        + ", ".join(f"{item} now {count}" for item, count in back["held"].items()) + ".")


@app.command()
def recharge(
    ctx: typer.Context,
    ref: Ref,
    line: Line,
    fund: Annotated[str, typer.Option("--fund", metavar="FUND",
                                      help="The fund to charge instead (code or number, `thcli budget fund list`).")],
    allow_overspend: OverspendOption = None,
    on: OnDate = None,
) -> None:
    """Move an approved line to another fund: its commitment is released in the old fund and made in the new.

    For when the pot ran out, or the district's fund was the right one. What
    was already paid on the line stays paid from the old fund.

    Example: thcli measures recharge TH-2026-0042 2 --fund fenwick_hpg_2026_27
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done, old, amount = measures.recharge(db, ref, line, fund=fund, on=on, allow_overspend=allow_overspend, by=s.user)
    out(f"{ref.strip().upper()} line {done['line']} ({done['label']}) is now charged to {done['fund']}: "
        f"{format_money(amount)} released from {old} and committed to {done['fund']}.")


@app.command()
def where(
    ctx: typer.Context,
    ref: Ref,
    line: Line,
    text: Annotated[str, typer.Argument(metavar="WHERE", help="Where in the home it goes, e.g. \"back door\".")],
) -> None:
    """Say where in the home a measure goes (printed on the landlord's letter and the works order).

    Use it to reword a place a letter was refused for: no landlord, contractor
    or surveyor may read words about the abuse or the perpetrator's name.

    Example: thcli measures where TH-2026-0042 1 "back door"
    """
    from thcli import measures

    s = session(ctx)
    db = s.open()
    done, warnings = measures.set_location(db, ref, line, text, by=s.user)
    out(f"{ref.strip().upper()} line {done['line']} ({done['label']}) goes at: {done['location']}.")
    for message in warnings:
        warn(message)


def _status_after(db: Database, ref: str, moved_to: str | None = None) -> None:
    from thcli.cases import case_row

    case = case_row(db, ref)
    if moved_to:
        out(f"Every approved measure is fitted: {case['ref']} is now {case['status']}.")
    else:
        out(f"{case['ref']} is {case['status']}.")
    if case["next_due_on"]:
        out(next_due(case["next_due_what"], case["next_due_on"], case["next_due_at"]))
