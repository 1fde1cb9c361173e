"""`thcli audit`: who did what, and when."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from thcli.commands._common import CaseOption, FormatOption, out, parse_count, parse_date, session

app = typer.Typer(add_completion=False)


@app.command()
def audit(
    ctx: typer.Context,
    ref: CaseOption = None,
    since: Annotated[dt.date | None, typer.Option("--since", parser=parse_date, metavar="DATE",
                                                   help="Only from this date.")] = None,
    limit: Annotated[int, typer.Option("--limit", parser=parse_count, metavar="N",
                                       help="At most N entries (0 for all).")] = 100,
    verify: Annotated[bool, typer.Option("--verify", help="Check that no entry was changed or removed.")] = False,
    fmt: FormatOption = None,
) -> None:
    """The audit log, newest first: when, who, what, which case (no personal details).

    Example: thcli audit --ref TH-2026-0042
    """
    from thcli import audit as audit_domain
    from thcli import render
    from thcli.errors import NotAllowed

    s = session(ctx)
    db = s.open()
    if verify:
        problems = audit_domain.verify(db)
        if problems:
            raise NotAllowed("the audit log has been tampered with: " + "; ".join(problems[:5]))
        count = db.conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        out(f"The audit log is intact ({count} entries).")
        return
    rows = audit_domain.entries(db, ref=ref.strip().upper() if ref else None,
                                since=since.isoformat() if since else None, limit=limit or None)

    def when(value, row):
        return render.uk_date(value[:10]) + " " + value[11:16]

    # When, what and which case stay; at 80 columns who did it goes first, then the detail (after wrapping).
    render.emit(rows, fmt, [render.Column("at", "When", when, kind="whole", drop=0),
                            render.Column("by", "Who", kind="text", drop=1),
                            render.Column("action", "Action", style="bold", kind="code", drop=0),
                            render.Column("ref", "Case", kind="ref", drop=0),
                            render.Column("detail", "Detail", kind="text", drop=2)],
                csv_columns=["id", "at", "by", "action", "ref", "detail"], title="Audit log",
                empty="No audit entries match.")
