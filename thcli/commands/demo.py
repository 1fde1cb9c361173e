"""`thcli demo`: build a made-up scheme to try thcli on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import APP_NAME, out, parse_count, parse_positive, session

app = typer.Typer(add_completion=False)


def demo_path(ctx: typer.Context) -> Path:
    """--db / THCLI_DB when given, else demo/demo.db in the app folder: a folder of its own, so that the demo's
    made-up letters never share the letters folder of a real database in the app folder (letters/ beside it)."""
    s = session(ctx)
    if s.db_given:
        return s.db_path
    return Path(typer.get_app_dir(APP_NAME, roaming=False)) / "demo" / "demo.db"


@app.command()
def demo(
    ctx: typer.Context,
    cases: Annotated[int, typer.Option("--cases", parser=parse_positive, metavar="N",
                                       help="How many made-up cases (spread over 18 months).")] = 150,
    seed: Annotated[int, typer.Option("--seed", parser=parse_count, metavar="S",
                                      help="Seed for the made-up data (same seed, same scheme).")] = 2026,
    county: Annotated[Path | None, typer.Option(
        "--county", metavar="DIR", show_default=False,
        help="Instead: three district demo schemes sharing a county key, and their files for the county, "
             "in DIR (--cases each).")] = None,
) -> None:
    """Build a realistic made-up scheme in a demo database and show where to start.

    Uses demo/demo.db in the app folder, or the --db/THCLI_DB file when it is new or
    already a demo; it never touches a database with real cases. Every name and
    address in it is invented. With --county DIR: three district schemes that
    share a county key, some survivors referred in two of them, and each
    district's case extract and summary, to try `thcli county combine` on.

    Example: thcli demo --cases 300
    """
    if county is not None:
        _county_demo(ctx, county, cases=cases, seed=seed)
        return
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


# --- issue 17: the county demo (thcli/demo/county.py) -----------------------------------------------


def _county_demo(ctx: typer.Context, folder: Path, *, cases: int, seed: int) -> None:
    from thcli.demo import county as demo_county

    s = session(ctx)
    made = demo_county.build_county_demo(folder, cases=cases, seed=seed, by=s.user)
    stem = made.period.label.replace("/", "-")
    where = made.folder
    out(f"Built three made-up district schemes in {where}, {cases} cases each, sharing the county key "
        f"{made.key_file.name} (check code {made.check_code}); {made.movers} survivors were referred in two of them.")
    out("")
    for database in made.databases:
        out(f"  {database.name:<14} the district's database (thcli --db {database} ...)")
    for file in made.files:
        out(f"  {file.name}")
    out("")
    out(f"Each district exported its case extract and summary for {made.period.describe()}. Now be the county:")
    out(f"  thcli county combine {where / ('*-cases-' + stem + '.csv')} {where / ('*-summary-' + stem + '.csv')} "
        f"--out {where / ('county-' + stem)} --report {where / ('board-' + stem + '.docx')}")
    out("Or be a district:")
    out(f"  thcli --db {made.databases[0]} county key show")
    out(f"  thcli --db {made.databases[0]} report board --year {made.period.label} "
        f"--out {where / ('millbrook-board-' + stem + '.docx')}")
