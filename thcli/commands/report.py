"""`thcli report`: the scheme's operational figures, with terminal charts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from thcli import dates
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

    from thcli import render

    show = render.show
    render.console.print(Text.assemble((data["scheme"], "bold"), f": {chosen.describe()}"), soft_wrap=True)
    referrals = data["referrals"]

    months = Table(title="Referrals per month", title_justify="left", show_header=False, box=None, padding=(0, 1))
    months.add_column("Month", no_wrap=True)
    months.add_column("", width=40, no_wrap=True)
    months.add_column("Count", justify="right")
    most = max([m["count"] for m in referrals["per_month"]] + [1])
    for month in referrals["per_month"]:
        year, number = month["month"].split("-")
        label = f"{dates.MONTHS[int(number) - 1][:3]} {year}"
        months.add_row(label, Bar(most, 0, month["count"], width=40, color="cyan"), _count(month["count"]))
    months.add_row(Text("Total", style="bold"), "", Text(_count(referrals["total"]), style="bold"))
    show(months)
    show("")

    def by(title: str, rows: list[dict]) -> Any:
        return render.table(rows or [{"label": "none", "count": 0}], [
            render.Column("label", "", kind="text", drop=0, name=title),
            render.Column("count", "Referrals", lambda v, r: _count(v), kind="number", drop=0),
        ], title=title, width=38)

    show(Columns([by("By route", referrals["by_route"]), by("By district", referrals["by_district"]),
                  by("By risk", referrals["by_risk"])], padding=(0, 2)))
    show("")

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
    show(progress)
    show("")

    spend = data["spend"]
    fund_rows = [{**fund, "label": f"{fund['name']} ({fund['fund']})"} for fund in spend["by_fund"]]
    fund_rows.append({"label": Text("Total", style="bold"), "source": "", "spend_pence": spend["total_pence"]})
    funds = render.table(fund_rows, [
        render.Column("label", "Fund", kind="text", drop=0),
        render.Column("source", "Source", kind="code", drop=1),
        render.Column("spend_pence", "Spend", render.money, kind="money", drop=0),
    ], title="Spend (payments in the period, net of refunds)")
    show(funds)
    left_out = list(funds.left_out)
    household = spend["per_household"]
    if household["households"]:
        render.console.print(
            f"Per household: mean {render.money(household['mean_pence'])}, from "
            f"{render.money(household['min_pence'])} to {render.money(household['max_pence'])} "
            f"({_count(household['households'])} household{'s' if household['households'] != 1 else ''})",
            soft_wrap=True)
    show("")
    pledges = data["pledges"]
    if pledges["cases"]:
        waiting = render.table([{**p, "contributor": p["contributor"].replace("_", " ")} for p in pledges["cases"]], [
            render.Column("ref", "Case", kind="ref", drop=0),
            render.Column("contributor", "From", kind="code", drop=2),
            render.Column("fund", "Fund", kind="code", drop=1),
            render.Column("pledged_on", "Pledged", render.uk_date, kind="date", drop=3),
            render.Column("outstanding_pence", "Outstanding", render.money, kind="money", drop=0),
        ], title=f"Pledged in the period, not yet received ({render.money(pledges['outstanding_pence'])})")
        show(waiting)
        left_out += waiting.left_out
        show("")

    outcome_rows = [{**row, "status": row["status"].replace("_", " ")} for row in data["outcomes"]]
    outcomes = render.table(outcome_rows or [{"status": "none", "label": "", "count": 0}], [
        render.Column("status", "Status", kind="code", drop=0),
        render.Column("label", "Reason", kind="text", drop=0),
        render.Column("count", "Cases", lambda v, r: _count(v), kind="number", drop=0),
    ], title="Outcomes (cases ended in the period)")
    render.show(outcomes, left_out=left_out)
