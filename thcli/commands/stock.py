"""`thcli stock ...`: equipment held in stock by IDVAs, officers and the scheme office."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import (
    FormatOption,
    OnDate,
    OverrideOption,
    OverspendOption,
    Ref,
    out,
    parse_code,
    parse_invoice,
    parse_positive,
    parse_positive_money,
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
    cost: Annotated[int | None, typer.Option("--cost", parser=parse_positive_money, metavar="MONEY",
                                             help="What one item cost, when bought (with --fund and --invoice).")]
    = None,
    fund: Annotated[str | None, typer.Option("--fund", metavar="FUND",
                                             help="The fund that pays for them (`thcli budget fund list`).")] = None,
    invoice: Annotated[str | None, typer.Option("--invoice", parser=parse_invoice, metavar="NO",
                                                help="The supplier's invoice number.")] = None,
    allow_overspend: OverspendOption = None,
    on: OnDate = None,
) -> None:
    """Record equipment received into a holder's stock, paid from a fund when bought.

    With --cost (what one item cost), --fund pays for the delivery on
    --invoice; each item's cost is recorded against the case it is issued to.
    Without --cost (donated stock) the items cost nothing.

    Example: thcli stock add personal_alarm 10 --holder idva --cost 12.50 --fund opcc_2026_27 --invoice ZZ-S-0042
    """
    from thcli import stock
    from thcli.parse import format_money

    s = session(ctx)
    db = s.open()
    done = stock.receive_stock(db, item, quantity, holder=holder, unit_cost_pence=cost, fund=fund, invoice=invoice,
                               allow_overspend=allow_overspend, on=on, by=s.user)
    out(f"Added {quantity} {item} to {holder}'s stock: {holder} now holds {done.held}.")
    if done.fund is not None and done.remaining_pence is not None:
        out(f"Paid {format_money(done.cost_pence)} ({quantity} at {format_money(cost or 0)}) from {done.fund} on "
            f"invoice {invoice} (ledger entry {done.entry}). {done.fund} has {format_money(done.remaining_pence)} "
            "left.")
        if done.remaining_pence < 0:
            warn(f"{done.fund} is overspent by {format_money(-done.remaining_pence)}.")


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
    from thcli.parse import format_money

    s = session(ctx)
    db = s.open()
    result = stock.issue(db, ref, item, holder=holder, quantity=quantity, on=on, override=override, by=s.user)
    line = result["line"]
    cost = f" ({format_money(result['cost_pence'])} recorded against the case)" if result["cost_pence"] else ""
    out(f"Issued {line['quantity']} {item} to {result['ref']} (line {line['line']}) from {result['holder']}'s "
        f"stock{cost}: {result['left']} left.")
    if result["moved_to_fitted"]:
        out(f"Every approved measure is fitted: {result['ref']} is now fitted.")
    if result["reorder"]:
        warn(f"{result['holder']} has {result['left']} {item} left: time to reorder (setting reorder_level).")
