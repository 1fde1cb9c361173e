"""`thcli budget ...`: funds, contributions, payments, refunds, corrections, status and the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from thcli.commands._common import (
    CaseOption,
    FormatOption,
    Line,
    OverspendOption,
    Ref,
    out,
    parse_code,
    parse_date,
    parse_invoice,
    parse_line_amount,
    parse_positive,
    parse_positive_money,
    parse_text,
    parse_year,
    session,
    warn,
)
from thcli.parse import format_money

app = typer.Typer(help="Funds, contributions, commitments and payments.", no_args_is_help=True,
                  add_completion=False)
fund_app = typer.Typer(help="The scheme's funds: one pot per financial year.", no_args_is_help=True,
                       add_completion=False)
app.add_typer(fund_app, name="fund")

Year = Annotated[str | None, typer.Option("--year", parser=parse_year, metavar="YYYY/YY",
                                          help="Financial year, e.g. 2026/27 (1 April to 31 March).")]
Amount = Annotated[int, typer.Option("--amount", parser=parse_positive_money, metavar="MONEY",
                                     help="Amount, e.g. £1,234.50 or 85.")]
#: Money's own --date: when it moved (the other commands' --date is _common.OnDate).
MovedOn = Annotated[dt.date | None, typer.Option("--date", parser=parse_date, metavar="DATE",
                                                 help="When the money moved (default today).")]
Memo = Annotated[str | None, typer.Option("--memo", parser=parse_text, metavar="TEXT",
                                          help="A note on the ledger entry.")]
FundOption = Annotated[str | None, typer.Option("--fund", metavar="FUND",
                                                help="A fund code or number (see `thcli budget fund list`).")]


def _emit(rows: list[dict], fmt, columns, *, csv_columns: list[str], title: str, empty: str) -> None:
    from thcli import render

    render.emit(rows, fmt, columns, csv_columns=csv_columns, title=title, empty=empty)


def _report(recorded, what: str) -> None:
    fund = recorded.fund
    numbers = ", ".join(str(e["id"]) for e in recorded.entries)
    out(f"{what} (ledger entr{'y' if len(recorded.entries) == 1 else 'ies'} {numbers}). "
        f"{fund['code']} has {format_money(recorded.remaining_pence)} left.")
    if recorded.remaining_pence < 0:
        warn(f"{fund['code']} is overspent by {format_money(-recorded.remaining_pence)}.")


# --- funds ----------------------------------------------------------------------------


@fund_app.command("add")
def fund_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The fund's name, e.g. \"Example OPCC\".")],
    year: Annotated[str, typer.Option("--year", parser=parse_year, metavar="YYYY/YY",
                                      help="Financial year, e.g. 2026/27 (1 April to 31 March).")],
    source: Annotated[str, typer.Option("--source", parser=parse_code, metavar="CODE",
                                        help="Where the money comes from (`thcli codes list fund_source`).")],
    amount: Amount,
    district: Annotated[str | None, typer.Option("--district", parser=parse_code, metavar="CODE",
                                                 help="Only for this district's cases (default: every district).")]
    = None,
    code: Annotated[str | None, typer.Option("--code", metavar="CODE",
                                             help="The fund's code (default: from its name and year).")] = None,
) -> None:
    """Add a fund for a financial year with its allocation.

    Example: thcli budget fund add "Example OPCC" --year 2026/27 --source opcc --amount 15000
    """
    from thcli import budget

    s = session(ctx)
    db = s.open()
    fund = budget.add_fund(db, name, year=year, source=source, amount_pence=amount, district=district, code=code,
                           by=s.user)
    where = f"for {fund['district']}" if fund["district"] else "for every district"
    out(f"Added fund {fund['code']}: {fund['name']}, {fund['year']}, {fund['source']}, {where}, "
        f"{format_money(amount)} allocated. Use it with --fund {fund['code']}.")


@fund_app.command("allocate")
def fund_allocate(
    ctx: typer.Context,
    fund: Annotated[str, typer.Argument(metavar="FUND", help="A fund code or number.")],
    amount: Amount,
    on: MovedOn = None,
    memo: Memo = None,
) -> None:
    """Add money to a fund during its year (a grant top-up, donations received).

    Example: thcli budget fund allocate donations_2026_27 --amount 250 --memo "Summer fair"
    """
    from thcli import budget

    s = session(ctx)
    db = s.open()
    recorded = budget.allocate(db, fund, amount, by=s.user, on=on, memo=memo)
    _report(recorded, f"Allocated {format_money(amount)} to {recorded.fund['code']}")


@fund_app.command("list")
def fund_list(ctx: typer.Context, year: Year = None, fmt: FormatOption = None) -> None:
    """The funds (all years, or one) with what is allocated and what is left.

    Example: thcli budget fund list --year 2026/27
    """
    from thcli import budget, render

    s = session(ctx)
    db = s.open()
    rows = budget.list_funds(db, year=year)
    # At 80 columns: the source goes first, then the district, the year and the allocation.
    columns = [
        render.Column("fund", "Code", style="bold", kind="code", drop=0),
        render.Column("name", "Name", kind="text", drop=0),
        render.Column("year", "Year", kind="code", drop=3),
        render.Column("source", "Source", kind="code", drop=1),
        render.Column("district", "District", lambda v, r: v or "all", kind="code", drop=2),
        render.Column("allocated_pence", "Allocated", render.money, kind="money", drop=4),
        render.Column("remaining_pence", "Remaining", lambda v, r: format_money(v), kind="money", drop=0),
    ]
    _emit(rows, fmt, columns, title="Funds",
                csv_columns=["fund", "id", "name", "year", "source", "district", "allocated_pence",
                             "contributions_pence", "pledged_pence", "committed_pence", "paid_pence",
                             "remaining_pence"],
                empty="No funds yet: add one with `thcli budget fund add NAME --year YYYY/YY --source CODE "
                      "--amount MONEY`.")


# --- money in and out -----------------------------------------------------------------


@app.command()
def contribution(
    ctx: typer.Context,
    ref: Ref,
    contributor: Annotated[str, typer.Option("--from", parser=parse_code, metavar="WHO",
                                             help="survivor, landlord, housing_association or charity.")],
    amount: Amount,
    pledged: Annotated[bool, typer.Option("--pledged", help="Promised, not yet received.")] = False,
    fund: FundOption = None,
    on: MovedOn = None,
    memo: Memo = None,
) -> None:
    """Record a contribution towards a case's measures, received or pledged.

    It goes to --fund, else to the fund the case's approved measures are
    charged to, else to the year's only fund. Money received from the same
    contributor meets their pledge.

    Example: thcli budget contribution TH-2026-0042 --from landlord --amount 150
    """
    from thcli import budget

    s = session(ctx)
    db = s.open()
    recorded = budget.add_contribution(db, ref, contributor=contributor, amount_pence=amount, pledged=pledged,
                                       fund_text=fund, on=on, memo=memo, by=s.user)
    entry = recorded.entries[0]
    what = "pledged by" if pledged else "received from"
    _report(recorded, f"{format_money(amount)} {what} the {contributor.replace('_', ' ')} for {entry['ref']}, "
                      f"credited to {recorded.fund['code']}")


@app.command()
def pay(
    ctx: typer.Context,
    ref: Ref,
    line: Annotated[int | None, typer.Argument(parser=parse_positive, metavar="[LINE]", show_default=False,
                                               help="One measure line (with --amount).")] = None,
    amount: Annotated[int | None, typer.Option("--amount", parser=parse_positive_money, metavar="MONEY",
                                               help="What the invoice pays on LINE, e.g. 85.")] = None,
    lines: Annotated[list[str] | None, typer.Option(
        "--line", parser=parse_line_amount, metavar="N:MONEY", show_default=False,
        help="A line the invoice pays and how much, e.g. 2:40; repeat it for each line.")] = None,
    fitted: Annotated[bool, typer.Option("--fitted", help="Every fitted line not yet paid in full, at what is "
                                                          "left of its actual cost.")] = False,
    invoice: Annotated[str | None, typer.Option("--invoice", parser=parse_invoice, metavar="NO",
                                                help="The contractor's invoice number.")] = None,
    internal: Annotated[bool, typer.Option("--internal", help="Work by the in-house team: no invoice number, "
                                                              "still paid from the fund.")] = False,
    on: MovedOn = None,
    allow_over: Annotated[str | None, typer.Option(
        "--allow-over", parser=parse_text, metavar="REASON",
        help="Go ahead although a line is paid past its approved cost, or twice (recorded).")] = None,
    allow_overspend: OverspendOption = None,
    final: Annotated[bool, typer.Option("--final", help="The last payment on these fitted lines (the invoice came "
                                                        "in below their cost): what is left committed is "
                                                        "released.")] = False,
) -> None:
    """Record a contractor's invoice paid: one line, several, or every fitted line, in one go.

    Each line gets a payment sharing the invoice number, which releases as
    much of the line's commitment as it pays. An invoice is entered once per
    contractor and once per case; paying a line past its approved cost needs
    --allow-over. In-house work is paid with --internal instead of --invoice.
    An invoice below a fitted line's cost, with nothing more to come, is
    paid with --final: the rest of the commitment is released.

    One line: thcli budget pay TH-2026-0042 2 --amount 85 --invoice INV-1001;
    every fitted line, in-house: thcli budget pay TH-2026-0042 --fitted --internal.

    Example: thcli budget pay TH-2026-0042 --line 1:85 --line 2:40 --invoice ZZ-1001
    """
    from thcli import budget

    payments = budget.what_to_pay(line, amount, [tuple(x) for x in lines or []], fitted)  # type: ignore[misc]
    s = session(ctx)
    db = s.open()
    paid = budget.pay_invoice(db, ref, payments, invoice=invoice, internal=internal, on=on, allow_over=allow_over,
                              allow_overspend=allow_overspend, final=final, by=s.user)
    said = f"invoice {paid.invoice}" if paid.invoice else budget.IN_HOUSE
    numbers = ", ".join(str(e["id"]) for e in paid.entries)
    entries = f"ledger entr{'y' if len(paid.entries) == 1 else 'ies'} {numbers}"
    left = [f"{code} has {format_money(pence)} left." for code, pence in paid.remaining.items()]
    if len(paid.lines) == 1:
        one = paid.lines[0]
        extra = f"; {format_money(one.released_pence)} of its commitment released" if one.released_pence else ""
        out(f"Paid {format_money(one.amount_pence)} on {paid.ref} line {one.line} ({said}) from {one.fund}{extra} "
            f"({entries}). " + " ".join(left))
    else:
        out(f"Paid {format_money(paid.total_pence)} on {paid.ref} ({said}), {len(paid.lines)} lines ({entries}):")
        width = max(len(one.label) for one in paid.lines)
        for one in paid.lines:
            released = f"; {format_money(one.released_pence)} of its commitment released" if one.released_pence else ""
            out(f"  line {one.line:<2} {one.label:<{width}}  {format_money(one.amount_pence):>9} from "
                f"{one.fund}{released}")
        out(" ".join(left))
    for code, pence in paid.remaining.items():
        if pence < 0:
            warn(f"{code} is overspent by {format_money(-pence)}.")


@app.command()
def refund(
    ctx: typer.Context,
    ref: Ref,
    line: Line,
    amount: Amount,
    invoice: Annotated[str | None, typer.Option("--invoice", parser=parse_invoice, metavar="NO",
                                                help="The credit note or invoice number.")] = None,
    on: MovedOn = None,
    memo: Memo = None,
) -> None:
    """Record money paid back on a measure line (a contractor's credit note).

    Example: thcli budget refund TH-2026-0042 2 --amount 10 --invoice CN-77
    """
    from thcli import budget

    s = session(ctx)
    db = s.open()
    recorded = budget.refund(db, ref, line, amount_pence=amount, invoice=invoice, on=on, memo=memo, by=s.user)
    entry = recorded.entries[0]
    _report(recorded, f"Refund of {format_money(amount)} on {entry['ref']} line {entry['line']} credited to "
                      f"{recorded.fund['code']}")


@app.command()
def correct(
    ctx: typer.Context,
    entry: Annotated[int, typer.Argument(parser=parse_positive, metavar="ENTRY",
                                         help="The ledger entry number (see `thcli budget ledger`).")],
    reason: Annotated[str, typer.Option("--reason", parser=parse_text, metavar="TEXT",
                                        help="Why the entry is wrong (recorded).")],
    allow_overspend: OverspendOption = None,
) -> None:
    """Reverse a wrong ledger entry with a correcting entry (entries are never changed).

    Example: thcli budget correct 42 --reason "Typed £850 for £85"
    """
    from thcli import budget

    s = session(ctx)
    db = s.open()
    recorded = budget.correct(db, entry, reason=reason, allow_overspend=allow_overspend, by=s.user)
    change = sum(e["amount_pence"] for e in recorded.entries if not e["pledged"])
    effect = f": {'+' if change > 0 else ''}{format_money(change)} on {recorded.fund['code']}" if change else ""
    _report(recorded, f"Entry {entry} corrected{effect}")


# --- where the money stands --------------------------------------------------------


STATUS_COLUMNS = ["fund", "name", "year", "source", "district", "allocated_pence", "contributions_pence",
                  "pledged_pence", "committed_pence", "paid_pence", "remaining_pence", "forecast_pence",
                  "months_elapsed", "forecast_passes_fund"]
BAR_WIDTH = 30


def _bar(row: dict):
    """Paid (█), committed (▓) and remaining (░) as one bar, scaled to the fund (or its spend, if more)."""
    from rich.text import Text

    paid, committed = max(row["paid_pence"], 0), max(row["committed_pence"], 0)
    left = max(row["remaining_pence"], 0)
    whole = max(paid + committed + left, 1)
    cells = [round(paid * BAR_WIDTH / whole), round((paid + committed) * BAR_WIDTH / whole)]
    text = Text()
    text.append("█" * cells[0], style="blue")
    text.append("▓" * (cells[1] - cells[0]), style="yellow")
    text.append("░" * (BAR_WIDTH - cells[1]), style="green")
    return text


def _left(value: int, row: dict):
    """What is left as a share of the fund, in red when overspent or forecast to be."""
    from rich.text import Text

    total = row["allocated_pence"] + row["contributions_pence"]
    if value < 0:
        return Text("overspent", style="bold red")
    share = f"{value * 100 // total}%" if total else "-"
    if row["forecast_passes_fund"]:
        return Text(f"{share} (forecast over)", style="bold red")
    return Text(share)


def _figure_columns(render, first):
    """The money columns of `budget status`: at 80 columns the forecast goes first, then what was received."""
    def signed(value, row):
        return format_money(value)

    return [
        *first,
        render.Column("allocated_pence", "Allocated", signed, kind="money", drop=3),
        render.Column("contributions_pence", "Received", signed, kind="money", drop=2),
        render.Column("committed_pence", "Committed", signed, kind="money", drop=4),
        render.Column("paid_pence", "Paid", signed, kind="money", drop=0),
        render.Column("remaining_pence", "Remaining", signed, style="bold", kind="money", drop=0),
        render.Column("forecast_pence", "Forecast", signed, kind="money", drop=1),
    ]


@app.command()
def status(ctx: typer.Context, year: Year = None, fmt: FormatOption = None) -> None:
    """What is left in each fund of a year, with a year-end forecast at the rate so far.

    Per fund: allocated, contributions received, committed, paid, remaining and
    the forecast; totals per district and for the scheme. A warning where the
    forecast passes the fund.

    Example: thcli budget status --year 2026/27
    """
    from thcli import budget, render

    s = session(ctx)
    db = s.open()
    report = budget.status(db, year=year)
    chosen = render.resolve_format(fmt)
    if chosen == "json":
        render.print_json([{k: f[k] for k in STATUS_COLUMNS} for f in report["funds"]])
    elif chosen == "csv":
        render.print_csv(report["funds"], STATUS_COLUMNS)
    else:
        _print_status(report)
    for text in report["warnings"]:
        warn(text)


def _print_status(report: dict) -> None:
    from thcli import render

    if not report["funds"]:
        render.console.print(f"No funds for {report['year']}: add one with `thcli budget fund add NAME "
                             f"--year {report['year']} --source CODE --amount MONEY`.")
        return
    months = report["funds"][0]["months_elapsed"]
    funds = render.table(report["funds"], _figure_columns(render, [
        render.Column("fund", "Fund", style="bold", kind="code", drop=0),
        render.Column("district", "Area", lambda v, r: v or "all", kind="code", drop=5),
    ]), title=f"Funds {report['year']} ({months:g} of 12 months elapsed)",
        caption="Forecast: the year-end spend at the rate so far.")
    bars = render.table(report["funds"], [
        render.Column("fund", "Fund", style="bold", kind="code", drop=0),
        render.Column("bar", "█ paid  ▓ committed  ░ remaining", lambda v, r: _bar(r), kind="whole", drop=0),
        render.Column("remaining_pence", "Left", _left, justify="right", kind="whole", drop=0),
    ])
    rows = [{**d, "district": d["district"] or "county-wide"} for d in report["districts"]]
    rows.append({**report["scheme"], "district": "whole scheme"})
    totals = render.table(rows, _figure_columns(render, [
        render.Column("district", "Totals", style="bold", kind="code", drop=0)]))
    parts: list = [funds, "", bars, "", totals]
    left_out = funds.left_out + totals.left_out
    if report["pledges"]:
        waiting = sum(p["outstanding_pence"] for p in report["pledges"])
        pledges = render.table(report["pledges"], [
            render.Column("ref", "Case", style="bold", kind="ref", drop=0),
            render.Column("contributor", "From", lambda v, r: v.replace("_", " "), kind="code", drop=2),
            render.Column("fund", "Fund", kind="code", drop=1),
            render.Column("pledged_on", "Since", render.uk_date, kind="date", drop=3),
            render.Column("outstanding_pence", "Amount", lambda v, r: format_money(v), kind="money", drop=0),
        ], title="Pledged, not yet received", caption=f"{format_money(waiting)} pledged and not yet received: "
                   "record it with `thcli budget contribution REF --from WHO --amount MONEY` when it comes.")
        parts += ["", pledges]
        left_out += pledges.left_out
    render.show(*parts, left_out=left_out)


@app.command()
def ledger(
    ctx: typer.Context,
    year: Year = None,
    fund: FundOption = None,
    ref: CaseOption = None,
    kind: Annotated[str | None, typer.Option("--kind", metavar="KIND",
                                             help="allocation, contribution, commitment, release, payment, "
                                                  "refund or correction.")] = None,
    fmt: FormatOption = None,
) -> None:
    """Every movement of money, oldest first: the ledger is never edited.

    The table leaves out who recorded each entry; JSON and CSV have it. The
    view is audited.

    Example: thcli budget ledger --year 2026/27 --kind payment --format csv
    """
    from thcli import audit, budget, render

    s = session(ctx)
    db = s.open()
    rows = budget.ledger_entries(db, budget.LedgerFilters(year=year, fund=fund, ref=ref, kind=kind))
    audit.record_view(db, by=s.user, action="budget.ledger", cases=len({r["ref"] for r in rows if r["ref"]}),
                      shown_as=render.resolve_format(fmt),
                      filters={"year": year, "fund": budget.find_fund(db, fund)["code"] if fund else None,
                               "ref": ref, "kind": kind, "entries": len(rows)})

    def kind_shown(value, row):
        return "pledge" if row["pledged"] and value == "contribution" else value

    def case_line(value, row):
        return f"{value} line {row['line']}" if row["line"] else (value or "")

    # The entry number, date, amount and case stay (`budget correct ENTRY` needs the number); at 80 columns
    # the invoice goes first, then the memo, the fund and the kind.
    columns = [
        render.Column("id", "#", kind="number", drop=0),
        render.Column("on_date", "Date", render.uk_date, kind="date", drop=0),
        render.Column("kind", "Kind", kind_shown, kind="code", drop=4),
        render.Column("amount_pence", "Amount", lambda v, r: format_money(v), kind="money", drop=0),
        render.Column("fund", "Fund", kind="code", drop=3),
        render.Column("ref", "Case", case_line, kind="ref", drop=0),
        render.Column("invoice", "Invoice", kind="code", drop=1),
        render.Column("memo", "Memo", kind="text", drop=2),
    ]
    _emit(rows, fmt, columns, title="Ledger",
                csv_columns=["id", "at", "on_date", "kind", "amount_pence", "fund", "ref", "line", "invoice",
                             "contributor", "pledged", "corrects", "memo", "by"],
                empty="No ledger entries match.")
