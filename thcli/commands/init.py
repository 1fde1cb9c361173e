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
    encrypt: Annotated[
        bool,
        typer.Option("--encrypt", help="Encrypt the database (recommended; needs the encrypted extra: "
                                       "pip install 'thcli\\[encrypted]'). The passphrase "
                                       "comes from THCLI_KEY, or is asked twice in a terminal."),
    ] = False,
) -> None:
    """Create the database and seed the code lists with editable defaults.

    The database will hold survivors' addresses: --encrypt is recommended.

    Example: thcli init --encrypt --scheme "Boston Sanctuary Scheme" --prefix BSS --district boston:"Boston Borough"
    """
    import os

    from thcli import cipher
    from thcli import scheme as scheme_domain
    from thcli.dbfile import database_exists
    from thcli.errors import BadInput, NotAllowed

    s = session(ctx)
    try:
        districts = [scheme_domain.parse_district(d) for d in district or []]
    except BadInput as error:
        raise error.for_option("--district") from None
    scheme_domain.identity(name=scheme, code=code, prefix=prefix)  # a bad option says so before anything else
    if s.db_path.is_dir():
        raise BadInput(f"{s.db_path} is a folder: give the database a file name in it, e.g. "
                       f"--db {s.db_path / 'thcli.db'}", "--db")
    if database_exists(s.db_path):
        raise NotAllowed(
            f"there is already a database at {s.db_path}. Use it as it is, or choose another "
            "file with --db."
        )
    key = None
    if encrypt:
        cipher.sqlcipher()  # say so before asking for a passphrase when sqlcipher3 is missing
        key = s.new_key()
        cipher.require_strong(key)
    db = s.open(create=True, key=key)
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
    out(f"Created the database for {scheme} at {s.db_path}" + (" (encrypted)" if key else ""))
    out(f"Districts: {names}")
    if key:
        out("Keep the passphrase safe: without it the data cannot be recovered. thcli asks for it, "
            "or reads THCLI_KEY.")
    else:
        out("")
        out("This database is NOT encrypted. It will hold the addresses of people hiding from someone who may")
        out("want to hurt them, on a laptop that can be lost: encrypting it is strongly recommended:")
        out("  pip install 'thcli[encrypted]'   # once")
        out("  thcli db encrypt                 # asks for a passphrase (or reads THCLI_KEY)")
        if os.environ.get(cipher.KEY_VARIABLE):
            out("(THCLI_KEY is set, but --encrypt was not given, so it was not used.)")
        out("")
    out("Next steps:")
    out("  thcli settings show                 # check the scheme's settings and time targets")
    out("  thcli codes list                    # the code lists, measures catalogue included")
    out('  thcli referral add --help           # log the first referral')
