"""`thcli db ...`: where the database is, checks, backups and restores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import out, session, stdin_is_terminal

app = typer.Typer(help="Where the database is; check, back up, restore.", no_args_is_help=True,
                  add_completion=False)


@app.command()
def path(ctx: typer.Context) -> None:
    """Print where the database is (set it with --db or THCLI_DB).

    Example: thcli db path
    """
    out(str(session(ctx).db_path))


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the database: integrity, foreign keys, audit chain, file permissions.

    Exit code 1 when anything is wrong.

    Example: thcli db check
    """
    from thcli import maintenance
    from thcli.errors import NotAllowed

    s = session(ctx)
    db = s.open()
    results = maintenance.check_database(db, s.db_path)
    for r in results:
        out(f"{'ok  ' if r.ok else 'FAIL'}  {r.name}: {r.detail}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        raise NotAllowed(f"the database failed: {', '.join(failed)}")


@app.command()
def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="A new file, or a folder to put a dated backup in.",
                                         metavar="DEST")],
) -> None:
    """Back up the database through SQLite's backup API, checked after writing (0600).

    Example: thcli db backup /media/usb/
    """
    from thcli import maintenance

    s = session(ctx)
    db = s.open()
    written = maintenance.backup(db, dest.expanduser(), by=s.user)
    out(f"Backed up to {written} (checked).")


@app.command()
def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="The backup file to restore.", metavar="SRC")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup (the current one is kept beside it).

    Example: thcli db restore /media/usb/thcli-backup-20261122-093000.db --yes
    """
    from thcli import maintenance
    from thcli.errors import BadInput

    s = session(ctx)
    if not yes:
        if not stdin_is_terminal():
            raise BadInput("restoring replaces the database: add --yes to confirm")
        if not typer.confirm(f"Replace {s.db_path} with {src}?", default=False):
            out("Nothing was changed.")
            return
    kept = maintenance.restore(s.db_path, src.expanduser(), by=s.user)
    out(f"Restored {s.db_path} from {src}." + (f" The previous database is kept as {kept}." if kept else ""))


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Bring the database's schema up to date (thcli also does this on every open).

    Example: thcli db migrate
    """
    from thcli import maintenance

    s = session(ctx)
    db = s.open()
    names = maintenance.migrate(db)
    out(f"The schema is up to date ({len(names)} migrations applied: {', '.join(names)}).")
