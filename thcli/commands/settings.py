"""`thcli settings ...`: what makes this scheme different."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import FormatOption, out, session

app = typer.Typer(help="The scheme's settings.", no_args_is_help=True, add_completion=False)


@app.command()
def show(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Show every setting with its value and what it does.

    Example: thcli settings show
    """
    from thcli import render, settings

    s = session(ctx)
    db = s.open()
    rows = settings.all_settings(db)
    render.emit(
        rows, fmt,
        [render.Column("key", "Setting", style="bold", kind="code", drop=0),
         render.Column("display", "Value", kind="text", drop=0),
         render.Column("help", "What it does", kind="text", drop=1)],
        csv_columns=["key", "value", "help"], title="Settings",
    )


@app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The setting (see `thcli settings show`).", metavar="KEY")],
    value: Annotated[str, typer.Argument(help="The new value.", metavar="VALUE")],
) -> None:
    """Change one setting.

    Example: thcli settings set eligible_risks high
    """
    from thcli import scheme, settings

    s = session(ctx)
    db = s.open()
    typed = scheme.set_from_text(db, key.strip(), value, by=s.user)
    out(f"{key.strip()} = {settings.display(settings.setting(key.strip()), typed)}")
