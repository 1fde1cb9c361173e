"""`thcli retention ...`: review and apply the retention schedule."""

from __future__ import annotations

from typing import Annotated

import typer

from thcli.commands._common import FormatOption, YesOption, out, session, stdin_is_terminal, warn

app = typer.Typer(help="Review and apply the retention schedule.", no_args_is_help=True, add_completion=False)


@app.command()
def review(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """List the ended cases past their retention (setting retention_case_years), oldest first.

    Cases on legal hold are listed too, marked: `retention apply` leaves them.

    Example: thcli retention review
    """
    from thcli import render, retention

    s = session(ctx)
    db = s.open()
    rows = [d.as_dict() for d in retention.review(db, db_path=s.db_path)]
    years = retention.case_years(db)
    render.emit(
        rows, fmt,
        [render.Column("ref", "Case", style="bold", kind="ref", drop=0),
         render.Column("status", "Status", kind="code", drop=3),
         render.Column("closed_on", "Ended", render.uk_date, kind="date", drop=0),
         render.Column("due_on", "Due", render.uk_date, kind="date", drop=0),
         render.Column("legal_hold", "Held", render.yes_no, kind="code", drop=0),
         render.Column("client_kept", "Later cases", render.yes_no, kind="code", drop=2),
         render.Column("letter_files", "Letters", kind="number", drop=1),
         render.Column("finance_kept_until", "Money kept until", render.uk_date, kind="date", drop=4)],
        title=f"Cases past their retention ({years} years after they ended)",
        empty=f"No case is past its retention ({years} years after it ended).",
    )


@app.command()
def apply(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done, and change nothing.")] = False,
    yes: YesOption = False,
) -> None:
    """Anonymise the cases past their retention (not those on legal hold).

    Names, addresses, contact details, the perpetrator, free text (ledger
    memos and invoice numbers too), letter files and subject access files go;
    codes, money, the county pseudonym and dates by month stay, so the county
    figures still add up. Only files this database wrote and that are
    unchanged are deleted; the others are listed. Ledger text past its own
    finance retention goes too. Then VACUUM and an emptied WAL remove the
    traces. Backups made before keep the old data: replace them.

    Example: thcli retention apply --dry-run
    """
    from thcli import retention
    from thcli.errors import BadInput

    s = session(ctx)
    db = s.open()
    plan = retention.apply(db, by=s.user, dry_run=True, db_path=s.db_path)
    if dry_run or not (plan.anonymised or plan.ledger_entries_cleaned):
        _report(plan)
        return
    if not yes:
        if not stdin_is_terminal():
            raise BadInput("anonymising cannot be undone: add --yes to confirm (or --dry-run to see what "
                           "would be done)")
        _report(plan)
        count = len(plan.anonymised)
        question = (f"Anonymise {count} case{'' if count == 1 else 's'}?" if count else
                    "Remove the ledger text past its finance retention?")
        if not typer.confirm(f"{question} This cannot be undone.", default=False):
            out("Nothing was changed.")
            return
    done = retention.apply(db, by=s.user, db_path=s.db_path)
    _report(done)
    if not done.wal_emptied:
        warn("another thcli has the database open, so its WAL file could not be emptied: close it and run "
             "`thcli retention apply` again")


def _report(outcome) -> None:
    verb = "Would anonymise" if outcome.dry_run else "Anonymised"
    to_be = "to be " if outcome.dry_run else ""
    if outcome.anonymised:
        count = len(outcome.anonymised)
        out(f"{verb} {count} case{'' if count == 1 else 's'}: {', '.join(outcome.anonymised)}")
        out(f"  client records {to_be}removed: {outcome.clients_removed}")
        out(f"  letter files {to_be}deleted: {outcome.letter_files_deleted}")
        if outcome.subject_access_files_deleted:
            out(f"  subject access files {to_be}deleted: {outcome.subject_access_files_deleted}")
    else:
        out("No case is due for anonymisation.")
    if outcome.ledger_entries_cleaned:
        out(f"  ledger entries whose memo or invoice number {'would be' if outcome.dry_run else 'was'} removed "
            f"(figures kept): {outcome.ledger_entries_cleaned}")
    if outcome.files_kept:
        out(f"Files {'that would be ' if outcome.dry_run else ''}kept, not thcli's to delete (check them and delete "
            "them by hand if they hold the case's data):")
        for line in outcome.files_kept:
            out(f"  {line}")
    if outcome.held:
        out(f"Kept on legal hold: {', '.join(outcome.held)}")
    if (outcome.anonymised or outcome.ledger_entries_cleaned) and not outcome.dry_run:
        out("Backups made before this run still hold the old data: make a new backup and delete the old ones.")
