"""`thcli demo`: build a made-up scheme to try thcli on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import APP_NAME, out, parse_count, parse_positive, session

app = typer.Typer(add_completion=False)


def demo_path(ctx: typer.Context) -> Path:
    """--db / THCLI_DB when given, else demo.db in the app folder."""
    s = session(ctx)
    if s.db_given:
        return s.db_path
    return Path(typer.get_app_dir(APP_NAME)) / "demo.db"


@app.command()
def demo(
    ctx: typer.Context,
    cases: Annotated[int, typer.Option("--cases", parser=parse_positive, metavar="N",
                                       help="How many made-up cases (spread over 18 months).")] = 150,
    seed: Annotated[int, typer.Option("--seed", parser=parse_count, metavar="S",
                                      help="Seed for the made-up data (same seed, same scheme).")] = 2026,
) -> None:
    """Build a realistic made-up scheme in a demo database and show where to start.

    Uses demo.db in the app folder, or the --db/THCLI_DB file when it is new or
    already a demo; it never touches a database with real cases. Every name and
    address in it is invented.

    Example: thcli demo --cases 300
    """
    from thcli import demo as demo_domain
    from thcli.db import open_db

    s = session(ctx)
    path = demo_path(ctx)
    demo_domain.clear_earlier_demo(path)
    db = open_db(path, create=True)
    letters = path.parent / "letters"
    try:
        context = demo_domain.build_demo(db, cases=cases, seed=seed, by=s.user, letters_dir=letters)
    except BaseException:
        db.close()
        for side in ("", "-wal", "-shm"):
            path.with_name(path.name + side).unlink(missing_ok=True)
        raise
    summary = demo_domain.summary(db, context)
    out(f"Built the demo scheme \"{demo_domain.SCHEME['name']}\" with {cases} made-up cases in {path}")
    out("")
    for line in summary:
        out(line)
    out("")
    out("Point thcli at the demo database for this terminal session:")
    out(f"  export THCLI_DB={path}")
    out("or add --db to each command:")
    out(f"  thcli --db {path} referral list --status open")
    out("")
    out("Then try:")
    out("  thcli due                          # what needs doing, most urgent first")
    out("  thcli referral list --overdue      # cases past their target")
    out(f"  thcli referral show {summary_ref(context)}")
    out("  thcli budget status                # what is left in each fund")


def summary_ref(context) -> str:
    open_stories = [s for s in context.stories if s.status in ("approval", "works")]
    return (open_stories[-1] if open_stories else context.stories[-1]).ref
