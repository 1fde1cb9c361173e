"""`thcli init`: create the scheme's database."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import out, session

app = typer.Typer(add_completion=False)


@app.command()
def init(
    ctx: typer.Context,
    scheme: Annotated[str, typer.Option("--scheme", help="The scheme's name, as on letters.")] = "Sanctuary Scheme",
    code: Annotated[str, typer.Option("--code", help="The scheme's code in county exports.")] = "scheme",
    prefix: Annotated[str, typer.Option("--prefix", help="Case references are PREFIX-YYYY-NNNN.")] = "TH",
    district: Annotated[
        list[str] | None,
        typer.Option("--district", help="A district the scheme covers, as CODE:Name (repeat for each).",
                     metavar="CODE:NAME"),
    ] = None,
) -> None:
    """Create the database and seed the code lists with editable defaults.

    Example: thcli init --scheme "Boston Sanctuary Scheme" --code boston --prefix BSS --district boston:"Boston Borough"
    """
    from thcli import scheme as scheme_domain
    from thcli.db import database_exists
    from thcli.errors import BadInput, NotAllowed

    s = session(ctx)
    try:
        districts = [scheme_domain.parse_district(d) for d in district or []]
    except BadInput as error:
        raise error.for_option("--district") from None
    if database_exists(s.db_path):
        raise NotAllowed(
            f"there is already a database at {s.db_path}. Use it as it is, or choose another "
            "file with --db."
        )
    db = s.open(create=True)
    try:
        scheme_domain.init_scheme(db, by=s.user, name=scheme, code=code, prefix=prefix,
                                  districts=districts or None)
    except Exception:
        db.close()
        s.db_path.unlink(missing_ok=True)
        for side in ("-wal", "-shm"):
            s.db_path.with_name(s.db_path.name + side).unlink(missing_ok=True)
        raise
    from thcli import codes

    names = ", ".join(d["label"] for d in codes.list_codes(db, "district"))
    out(f"Created the database for {scheme} at {s.db_path}")
    out(f"Districts: {names}")
    out("Next steps:")
    out("  thcli settings show                 # check the scheme's settings and time targets")
    out("  thcli codes list                    # the code lists, measures catalogue included")
    out('  thcli referral add --help           # log the first referral')
