"""`thcli person ...`: subject access."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import Ref, out, session

app = typer.Typer(help="Subject access: everything held about a client.", no_args_is_help=True,
                  add_completion=False)


@app.callback()
def person() -> None:
    """Subject access: everything held about a client.

    Example: thcli person export TH-2026-0042
    """


@app.command()
def export(
    ctx: typer.Context,
    ref: Ref,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Folder for the two files (default: the current folder).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace files of the same name if they are an earlier subject access export.")] = False,
) -> None:
    """Write everything held about the client of a case, across all their cases, as .docx and JSON (0600).

    Perpetrator details are left out and marked as withheld. Read the document
    before sending it: notes can name other people. The export is audited, and
    the files are deleted with the case at retention (if unchanged).

    Example: thcli person export TH-2026-0042 --out ~/Documents/sar
    """
    from thcli import person

    s = session(ctx)
    db = s.open()
    folder = (out_dir or Path.cwd()).expanduser()
    done = person.export(db, ref, folder, by=s.user, force=force)
    out(f"Wrote what is held about the client of {done.ref} ({done.cases} case{'s' if done.cases != 1 else ''}):")
    out(f"  {done.docx}")
    out(f"  {done.json}")
    out("Read the document before sending it: timeline notes can name other people.")
