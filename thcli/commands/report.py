"""`thcli report`: the scheme's operational figures, with terminal charts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from thcli.commands._common import FromOption, QuarterOption, ToOption, YearOption, session

app = typer.Typer(help="Operational figures at a glance.", no_args_is_help=True, add_completion=False)


class SummaryFormat(StrEnum):
    table = "table"
    json = "json"


SummaryFormatOption = Annotated[SummaryFormat | None, typer.Option(
    "--format", "-f", help="table or json (default: table on a terminal, else json). The county's CSV is "
                           "`thcli export summary`.", show_default=False)]


@app.callback()
def report() -> None:
    """Operational figures at a glance, and the board report (the county's CSV files are `thcli export`).

    Example: thcli report summary --year 2026/27
    """


# --- issue 17: the board report (thcli/partnership/) ------------------------------------------------


@app.command("board")
def board(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", "-o", metavar="FILE.docx", show_default=False,
                                           help="The Word file to write (readable by you only).")],
    start: FromOption = None,
    end: ToOption = None,
    quarter: QuarterOption = None,
    year: YearOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an earlier board report made by thcli.")] = False,
) -> None:
    """The board report for the period: a Word document with the figures, tables and charts.

    Counts every case referred in the period, with small numbers suppressed
    as in the county summary (setting suppression_threshold), the protective
    marking in the header and footer (setting protective_marking), and the
    same sections as the county's report. Charts need matplotlib (pip
    install 'thcli[reports]'); without it the report says how to add them.
    Without a period: the current financial year. Audited.

    Example: thcli report board --year 2026/27 --out board-2026-27.docx
    """
    from thcli import county
    from thcli.commands._common import out
    from thcli.partnership import charts, reports

    s = session(ctx)
    chosen = county.period(start=start, end=end, quarter=quarter, year=year, required=False)
    db = s.open()
    path, _ = reports.scheme_board(db, chosen, out_file, by=s.user, force=force)
    out(f"Wrote the board report for {chosen.describe()} to {path}.")
    if not charts.available():
        out("It has no charts: install the reports extra (pip install 'thcli[reports]') and make it again to add "
            "them.")


# --- end of issue 17 -------------------------------------------------------------------------------


@app.command("summary")
def summary(
    ctx: typer.Context,
    start: FromOption = None,
    end: ToOption = None,
    quarter: QuarterOption = None,
    year: YearOption = None,
    fmt: SummaryFormatOption = None,
) -> None:
    """The period at a glance: referrals per month, conversion, times, targets, spend and outcomes.

    Without a period: the current financial year. Referrals and conversion
    count the cases referred in the period; days to survey and to fit (working
    days, median and 90th percentile) the cases surveyed or fitted in it;
    spend the payments dated in it. --format json gives the numbers (money in
    pence).

    Example: thcli report summary --quarter 2026Q3
    """
    from thcli import periods, render, report

    chosen = periods.period(start=start, end=end, quarter=quarter, year=year, required=False)
    shown = render.resolve_format(fmt)
    db = session(ctx).open()
    data = report.summary(db, chosen)
    if shown == "json":
        render.print_json(data)
        return
    _show(data, chosen)


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _days(spread: dict, done: str) -> str:
    if not spread["cases"]:
        return f"no case {done} in the period"
    return (f"median {spread['median']}, 90th percentile {spread['p90']} "
            f"({_count(spread['cases'])} case{'s' if spread['cases'] != 1 else ''} {done} in the period)")


def _share(part: int, whole: int, percent: float | None) -> str:
    return f"{_count(part)} ({percent:.1f}%)" if percent is not None else _count(part)


def _show(data: dict[str, Any], chosen) -> None:
    from rich.bar import Bar
    from rich.columns import Columns
    from rich.table import Table
    from rich.text import Text

    from thcli import parse, render

    console = render.console
    console.print(Text.assemble((data["scheme"], "bold"), f": {chosen.describe()}"), soft_wrap=True)
    referrals = data["referrals"]

    months = Table(title="Referrals per month", title_justify="left", show_header=False, box=None, padding=(0, 1))
    months.add_column("Month", no_wrap=True)
    months.add_column("", width=40, no_wrap=True)
    months.add_column("Count", justify="right")
    most = max([m["count"] for m in referrals["per_month"]] + [1])
    for month in referrals["per_month"]:
        year, number = month["month"].split("-")
        label = f"{parse.MONTHS[int(number) - 1][:3]} {year}"
        months.add_row(label, Bar(most, 0, month["count"], width=40, color="cyan"), _count(month["count"]))
    months.add_row(Text("Total", style="bold"), "", Text(_count(referrals["total"]), style="bold"))
    console.print(months)
    console.print()

    def by(title: str, rows: list[dict]) -> Table:
        table = Table(title=title, title_justify="left", header_style="bold")
        table.add_column("")
        table.add_column("Referrals", justify="right")
        for row in rows:
            table.add_row(row["label"], _count(row["count"]))
        if not rows:
            table.add_row("none", "0")
        return table

    console.print(Columns([by("By route", referrals["by_route"]), by("By district", referrals["by_district"]),
                           by("By risk", referrals["by_risk"])], padding=(0, 2)))
    console.print()

    conversion, target = data["conversion"], data["within_target"]
    progress = Table(title="Progress", title_justify="left", show_header=False, header_style="bold")
    progress.add_column("", style="bold")
    progress.add_column("")
    referred = conversion["referred"]
    progress.add_row("Referred in the period", _count(referred))
    progress.add_row("  of whom surveyed", _share(conversion["surveyed"], referred,
                                                   100 * conversion["surveyed"] / referred if referred else None))
    progress.add_row("  of whom fitted", _share(conversion["fitted"], referred, conversion["percent_fitted"]))
    progress.add_row("Working days to survey", _days(data["days_to_survey"], "surveyed"))
    progress.add_row("Working days to fit", _days(data["days_to_fit"], "fitted"))
    if target["fitted"]:
        progress.add_row("Fitted within target",
                         f"{_count(target['within'])} of those {_count(target['fitted'])} ({target['percent']:.1f}%)")
    else:
        progress.add_row("Fitted within target", "nothing fitted in the period")
    console.print(progress)
    console.print()

    spend = data["spend"]
    funds = Table(title="Spend (payments in the period, net of refunds)", title_justify="left", header_style="bold")
    funds.add_column("Fund")
    funds.add_column("Source")
    funds.add_column("Spend", justify="right")
    for fund in spend["by_fund"]:
        funds.add_row(f"{fund['name']} ({fund['fund']})", fund["source"], render.money(fund["spend_pence"]))
    funds.add_row(Text("Total", style="bold"), "", Text(render.money(spend["total_pence"]), style="bold"))
    console.print(funds)
    household = spend["per_household"]
    if household["households"]:
        console.print(
            f"Per household: mean {render.money(household['mean_pence'])}, from "
            f"{render.money(household['min_pence'])} to {render.money(household['max_pence'])} "
            f"({_count(household['households'])} household{'s' if household['households'] != 1 else ''})",
            soft_wrap=True)
    console.print()
    pledges = data["pledges"]
    if pledges["cases"]:
        waiting = Table(title=f"Pledged in the period, not yet received ({render.money(pledges['outstanding_pence'])})",
                        title_justify="left", header_style="bold")
        for heading in ("Case", "From", "Fund", "Pledged"):
            waiting.add_column(heading)
        waiting.add_column("Outstanding", justify="right")
        for pledge in pledges["cases"]:
            waiting.add_row(pledge["ref"], pledge["contributor"].replace("_", " "), pledge["fund"],
                            parse.format_date(pledge["pledged_on"]), render.money(pledge["outstanding_pence"]))
        console.print(waiting)
        console.print()

    outcomes = Table(title="Outcomes (cases ended in the period)", title_justify="left", header_style="bold")
    outcomes.add_column("Status")
    outcomes.add_column("Reason")
    outcomes.add_column("Cases", justify="right")
    for row in data["outcomes"]:
        outcomes.add_row(row["status"].replace("_", " "), row["label"], _count(row["count"]))
    if not data["outcomes"]:
        outcomes.add_row("none", "", "0")
    console.print(outcomes)
