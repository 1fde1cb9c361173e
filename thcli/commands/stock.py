"""`thcli stock ...`: equipment held in stock by IDVAs, officers and the scheme office."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import (
    FormatOption,
    OnDate,
    OverrideOption,
    Ref,
    out,
    parse_code,
    parse_positive,
    session,
    warn,
)

app = typer.Typer(help="Equipment held in stock by IDVAs and officers.", no_args_is_help=True, add_completion=False)

Item = Annotated[str, typer.Argument(parser=parse_code, metavar="ITEM",
                                     help="An equipment code from the measures catalogue, e.g. personal_alarm.")]


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """What each holder has of each item; at or below the reorder level (setting reorder_level) is flagged.

    Example: thcli stock list
    """
    from rich.text import Text

    from thcli import render, stock

    s = session(ctx)
    db = s.open()
    rows = stock.stock_list(db)

    def quantity(value, row):
        return Text(str(value), style="bold red" if row["reorder"] else "")

    def reorder(value, row):
        return Text("reorder", style="bold red") if value else ""

    columns = [
        render.Column("item", "Item", style="bold", kind="code", drop=0),
        render.Column("label", "Equipment", kind="text", drop=1),
        render.Column("holder_label", "Held by", kind="text", drop=0),
        render.Column("quantity", "Quantity", quantity, kind="number", drop=0),
        render.Column("reorder", "", reorder, kind="code", drop=0, name="reorder"),
    ]
    caption = f"Reorder at {rows[0]['reorder_level']} or fewer (setting reorder_level)." if rows else None
    render.emit(rows, fmt, columns, csv_columns=["item", "label", "holder", "holder_label", "quantity",
                                                 "reorder_level", "reorder"],
                title="Stock", caption=caption,
                empty="No stock recorded. Add some with `thcli stock add ITEM QTY --holder H`.")


@app.command()
def add(
    ctx: typer.Context,
    item: Item,
    quantity: Annotated[int, typer.Argument(parser=parse_positive, metavar="QTY", help="How many arrived.")],
    holder: Annotated[str, typer.Option("--holder", parser=parse_code, metavar="H",
                                        help="Who holds them (`thcli codes list stock_holder`).")],
    on: OnDate = None,
) -> None:
    """Record equipment received into a holder's stock.

    Example: thcli stock add personal_alarm 10 --holder idva
    """
    from thcli import stock

    s = session(ctx)
    db = s.open()
    now = stock.add_stock(db, item, quantity, holder=holder, on=on, by=s.user)
    out(f"Added {quantity} {item} to {holder}'s stock: {holder} now holds {now}.")


@app.command()
def issue(
    ctx: typer.Context,
    ref: Ref,
    item: Item,
    holder: Annotated[str | None, typer.Option("--holder", parser=parse_code, metavar="H",
                                               help="Whose stock (needed when more than one holder has it).")] = None,
    quantity: Annotated[int | None, typer.Option("--quantity", parser=parse_positive, metavar="N",
                                                 help="How many, when the case has no line for the item "
                                                      "(default 1).")] = None,
    on: OnDate = None,
    override: OverrideOption = None,
) -> None:
    """Issue equipment from stock to a case: that measure line counts as fitted.

    The case's recommended, approved or ordered line for the item is used;
    without one (equipment handed over before any survey) a line is added.
    The scheme's eligibility rules apply (unless overridden with a reason).

    Example: thcli stock issue TH-2026-0042 personal_alarm --holder idva
    """
    from thcli import stock

    s = session(ctx)
    db = s.open()
    result = stock.issue(db, ref, item, holder=holder, quantity=quantity, on=on, override=override, by=s.user)
    line = result["line"]
    out(f"Issued {line['quantity']} {item} to {result['ref']} (line {line['line']}) from {result['holder']}'s "
        f"stock: {result['left']} left.")
    if result["moved_to_fitted"]:
        out(f"Every approved measure is fitted: {result['ref']} is now fitted.")
    if result["reorder"]:
        warn(f"{result['holder']} has {result['left']} {item} left: time to reorder (setting reorder_level).")
