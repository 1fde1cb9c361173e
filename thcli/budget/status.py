"""``budget status``: every fund of a year with its figures and a forecast to the year end, totals per district
and for the scheme, and warnings for a fund overspent or heading that way."""

from __future__ import annotations

import datetime as dt

from thcli import clock, dates
from thcli.budget.funds import fund_figures, fund_label, require_year, year_span
from thcli.budget.reading import open_pledges
from thcli.db import Database
from thcli.parse import format_money

FIGURE_KEYS = ("allocated_pence", "contributions_pence", "pledged_pence", "committed_pence", "paid_pence",
               "remaining_pence", "forecast_pence")


def _forecast(spend: int, year: str, today: dt.date) -> tuple[int, float]:
    """Year-end spend at the rate so far, and the months of the year elapsed."""
    start, end = year_span(year)
    total_days = (end - start).days + 1
    if today < start:
        return spend, 0.0
    elapsed = min((today - start).days + 1, total_days)
    forecast = (spend * total_days + elapsed // 2) // elapsed
    return max(forecast, spend), round(elapsed / total_days * 12, 1)


def status(db: Database, *, year: str | None = None, today: dt.date | None = None) -> dict:
    """Every fund of a year with its figures and forecast, totals per district and for the scheme, and the
    pledges to the year's funds not yet received.

    ``year`` defaults to the current financial year; a year without funds is
    BadInput (exit 2) when asked for.
    """
    today = today or clock.today()
    label = require_year(db, year) if year else dates.financial_year_of(today)
    funds = []
    warnings = []
    for row in fund_figures(db, year=label):
        spend = row["committed_pence"] + row["paid_pence"]
        forecast, months = _forecast(spend, row["year"], today)
        total = row["allocated_pence"] + row["contributions_pence"]
        fund = {
            "fund": row["code"], "id": row["id"], "name": row["name"], "year": row["year"],
            "source": row["source"], "district": row["district"],
            "allocated_pence": row["allocated_pence"], "contributions_pence": row["contributions_pence"],
            "pledged_pence": row["pledged_pence"], "committed_pence": row["committed_pence"],
            "paid_pence": row["paid_pence"], "remaining_pence": row["remaining_pence"],
            "forecast_pence": forecast, "months_elapsed": months,
            "forecast_passes_fund": forecast > total,
        }
        funds.append(fund)
        if row["remaining_pence"] < 0:
            warnings.append(f"{fund_label(row)} is overspent by {format_money(-row['remaining_pence'])}")
        elif forecast > total:
            warnings.append(f"{fund_label(row)}: at the rate so far ({format_money(spend)} in {months:g} months) "
                            f"{label} will need {format_money(forecast)}, more than the fund's {format_money(total)}")
    districts: dict[str | None, dict] = {}
    for fund in funds:
        group = districts.setdefault(fund["district"], {"district": fund["district"], "funds": 0,
                                                         **{k: 0 for k in FIGURE_KEYS}})
        group["funds"] += 1
        for key in FIGURE_KEYS:
            group[key] += fund[key]
    scheme = {"district": None, "funds": len(funds), **{k: sum(f[k] for f in funds) for k in FIGURE_KEYS}}
    return {"year": label, "today": today.isoformat(), "funds": funds, "pledges": open_pledges(db, year=label),
            "districts": sorted(districts.values(), key=lambda d: (d["district"] is not None, d["district"] or "")),
            "scheme": scheme, "warnings": warnings}
