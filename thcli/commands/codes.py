"""`thcli codes ...`: the scheme's code lists."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import (
    FormatOption,
    out,
    parse_code,
    parse_email,
    parse_label,
    parse_money,
    parse_name,
    parse_phone,
    parse_text,
    session,
)

app = typer.Typer(help="Code lists: districts, routes, reasons, measures, contractors...", no_args_is_help=True,
                  add_completion=False)

ListArg = Annotated[str, typer.Argument(help="The code list, e.g. district, route, measure.", metavar="LIST")]


@app.command("list")
def list_(
    ctx: typer.Context,
    list_name: Annotated[str | None, typer.Argument(help="The code list (leave out to see the lists).",
                                                     metavar="LIST")] = None,
    include_retired: Annotated[bool, typer.Option("--retired/--no-retired",
                                                  help="Include retired codes.")] = True,
    fmt: FormatOption = None,
) -> None:
    """Show the code lists, or the codes of one list.

    Example: thcli codes list measure --format json
    """
    from thcli import codes, render

    s = session(ctx)
    db = s.open()
    if list_name is None:
        rows = [{"list": name, "about": about, "codes": len(codes.list_codes(db, name, include_retired=False))}
                for name, about in codes.LISTS.items()]
        render.emit(rows, fmt, [render.Column("list", "List", style="bold", kind="code", drop=0),
                                render.Column("codes", "Codes", kind="number", drop=0),
                                render.Column("about", "What it is", kind="text", drop=0)], title="Code lists")
        return
    rows = codes.list_codes(db, codes.check_list(list_name), include_retired=include_retired)
    # The code (to copy) and its label stay; at 80 columns the other columns go in the order of their `drop`.
    columns = [render.Column("code", "Code", style="bold", kind="code", drop=0),
               render.Column("label", "Label", kind="text", drop=0)]
    if list_name == "measure":
        columns += [render.Column("category", "Category", kind="code", drop=1),
                    render.Column("kind", "Kind", kind="code", drop=3),
                    render.Column("removable", "Removable", render.yes_no, kind="code", drop=2),
                    render.Column("unit_cost_pence", "Unit cost", render.money, kind="money", drop=5)]
    elif list_name == "contractor":
        columns += [render.Column("in_house", "In-house", render.yes_no, kind="code", drop=3),
                    render.Column("phone", "Phone", kind="whole", drop=2),
                    render.Column("email", "Email", kind="whole", drop=1)]
    elif list_name == "assessor":
        columns += [render.Column("kind", "Kind", kind="code", drop=3),
                    render.Column("phone", "Phone", kind="whole", drop=2),
                    render.Column("email", "Email", kind="whole", drop=1)]
    elif list_name == "district":
        columns += [render.Column("letterhead", "Letterhead", kind="text", drop=3),
                    render.Column("phone", "Phone", kind="whole", drop=2),
                    render.Column("email", "Email", kind="whole", drop=1)]
    elif list_name in codes.COUNTY_CODES:
        columns.append(render.Column("county_code", "County code", kind="code", drop=1))
    columns.append(render.Column("retired", "Retired", lambda v, r: "retired" if v else "", kind="code", drop=4))
    render.emit(rows, fmt, columns, title=f"{list_name}: {codes.LISTS[list_name]}")


# The details some lists have, declared once and shared by `add` and `edit` (codes.OPTIONS says which list
# takes which; the others refuse it with exit 2).
County = Annotated[str | None, typer.Option("--county", parser=parse_code, metavar="CODE",
                                           help="The county export code it counts as (routes, risks, tenures, "
                                                "genders, ethnicities).")]
Category = Annotated[str | None, typer.Option("--category", parser=parse_name, metavar="TEXT",
                                              help="Measures: category (locks, alarms...).")]
Kind = Annotated[str | None, typer.Option("--kind", metavar="KIND",
                                          help="Measures: equipment or works. Contractors: external or in_house "
                                               "(the council's own team). Assessors: police, scheme (the "
                                               "scheme's own) or contractor (a contractor's surveyor).")]
Removable = Annotated[bool | None, typer.Option("--removable/--permanent",
                                                help="Measures: removable equipment or permanent.")]
Cost = Annotated[int | None, typer.Option("--cost", parser=parse_money, metavar="MONEY",
                                          help="Measures: default unit cost, e.g. £45.00.")]
Address = Annotated[str | None, typer.Option("--address", parser=parse_text, metavar="TEXT",
                                             help="Contractors and assessors: postal address for works "
                                                  "orders and survey requests. Districts: the address their "
                                                  "letters are headed with.")]
Email = Annotated[str | None, typer.Option("--email", parser=parse_email, metavar="EMAIL",
                                           help="Contractors, assessors and districts (on their letters): "
                                                "email.")]
Phone = Annotated[str | None, typer.Option("--phone", parser=parse_phone, metavar="PHONE",
                                           help="Contractors, assessors and districts (on their letters): "
                                                "phone.")]
Letterhead = Annotated[str | None, typer.Option("--letterhead", parser=parse_label, metavar="NAME",
                                                help="Districts: the name their letters are headed with, e.g. "
                                                     "\"Example Borough Council\".")]
Code = Annotated[str, typer.Argument(help="Lower-case letters, digits and _.", parser=parse_code, metavar="CODE")]


@app.command()
def add(
    ctx: typer.Context,
    list_name: ListArg,
    code: Code,
    label: Annotated[str, typer.Argument(help="What people read.", parser=parse_label, metavar="LABEL")],
    county: County = None,
    category: Category = None,
    kind: Kind = None,
    removable: Removable = None,
    cost: Cost = None,
    in_house: Annotated[bool, typer.Option("--in-house", help="Contractors: the council's own team.")] = False,
    address: Address = None,
    email: Email = None,
    phone: Phone = None,
    letterhead: Letterhead = None,
) -> None:
    """Add a code to a list (a retired code comes back with the new label).

    Example: thcli codes add contractor secure_locks "Secure Locks Ltd" --phone "01205 555123"
    """
    from thcli import codes

    s = session(ctx)
    db = s.open()
    row = codes.add(db, codes.check_list(list_name), code, label, by=s.user, county_code=county,
                    category=category, kind=kind, removable=removable, unit_cost_pence=cost,
                    in_house=in_house, address=address, email=email, phone=phone, letterhead=letterhead)
    if row["restored"]:
        out(f"Restored {list_name} {row['code']} (it was retired): {row['label']}.")
    else:
        out(f"Added {list_name} {row['code']}: {row['label']}.")


def _detail_name(text: str) -> str:
    """--clear's FIELD as written, any case: codes.edit says which details may be cleared."""
    return text.strip().lower()


@app.command()
def edit(
    ctx: typer.Context,
    list_name: ListArg,
    code: Code,
    label: Annotated[str | None, typer.Option("--label", parser=parse_label, metavar="TEXT",
                                              help="What people read.")] = None,
    county: County = None,
    category: Category = None,
    kind: Kind = None,
    removable: Removable = None,
    cost: Cost = None,
    address: Address = None,
    email: Email = None,
    phone: Phone = None,
    letterhead: Letterhead = None,
    clear: Annotated[list[str] | None, typer.Option(
        "--clear", metavar="FIELD", parser=_detail_name,
        help="Empty a detail: address, email, phone or letterhead (repeat for more).")] = None,
) -> None:
    """Change a code's label or details; the code itself stays, so cases and figures keep it.

    Each list takes its own options (a measure's --cost, a contractor's
    --address, a district's letterhead...); the others are refused. A
    measure's new cost applies to lines recorded from now on; a district's
    letterhead heads the letters of its cases.

    Example: thcli codes edit measure door_viewer --cost 40 --label "Door viewer (wide angle)"
    """
    from thcli import codes

    s = session(ctx)
    db = s.open()
    changed = codes.edit(db, codes.check_list(list_name), code, by=s.user, label=label, county_code=county,
                         category=category, kind=kind, removable=removable, unit_cost_pence=cost,
                         address=address, email=email, phone=phone, letterhead=letterhead, clear=clear or ())
    if not changed:
        out(f"Nothing changed: {list_name} {code} already has those details.")
        return
    out(f"Changed {list_name} {code}: {'; '.join(codes.describe_change(c) for c in changed)}.")
    if list_name == "measure" and any(c["field"] in ("unit_cost_pence", "kind", "removable") for c in changed):
        out("Lines recorded from now on take it; lines already recorded keep theirs.")


@app.command()
def retire(
    ctx: typer.Context,
    list_name: ListArg,
    code: Annotated[str, typer.Argument(help="The code to retire.", parser=parse_code, metavar="CODE")],
) -> None:
    """Retire a code: cases that use it keep it, new entries cannot (until it is restored).

    Example: thcli codes retire route court
    """
    from thcli import codes

    s = session(ctx)
    db = s.open()
    codes.retire(db, codes.check_list(list_name), code, by=s.user)
    out(f"Retired {list_name} {code}.")


@app.command()
def restore(
    ctx: typer.Context,
    list_name: ListArg,
    code: Annotated[str, typer.Argument(help="The retired code.", parser=parse_code, metavar="CODE")],
) -> None:
    """Bring back a retired code as it was, so that new entries can use it again.

    Example: thcli codes restore route court
    """
    from thcli import codes

    s = session(ctx)
    db = s.open()
    row = codes.restore(db, codes.check_list(list_name), code, by=s.user)
    out(f"Restored {list_name} {row['code']}: {row['label']}.")
