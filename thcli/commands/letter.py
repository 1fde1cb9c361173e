"""`thcli letter ...`: Word letters from the scheme's templates, safe by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli.commands._common import FormatOption, Ref, out, parse_positive, parse_text, session, warn

app = typer.Typer(help="Word letters from the scheme's templates.", no_args_is_help=True, add_completion=False)
templates_app = typer.Typer(help="The scheme's letter templates: list, export to edit in Word, use, reset.",
                            no_args_is_help=True, add_completion=False)
app.add_typer(templates_app, name="templates")

KINDS_HELP = ("acknowledgement, decline, survey-request, landlord-permission, works-order, completion, follow-up, "
              "bedroom-tax-evidence or equipment-removal")
Kind = Annotated[str, typer.Argument(help=f"The kind of letter: {KINDS_HELP}.", metavar="KIND")]
OutDir = Annotated[Path | None, typer.Option(
    "--out", metavar="DIR", help="The folder to write letters into (default: letters/ beside the database).",
    show_default=False)]
To = Annotated[str | None, typer.Option(
    "--to", metavar="RECIPIENT",
    help="Who the letter goes to, where a kind can go to more than one: referrer or survivor; for a works order "
         "ordered from several contractors, the contractor's code.", show_default=False)]


def _out_dir(ctx: typer.Context, given: Path | None) -> Path:
    from thcli import letters

    return given if given is not None else letters.default_out_dir(session(ctx).db_path)


@app.command()
def make(
    ctx: typer.Context,
    ref: Ref,
    kind: Kind,
    out_dir: OutDir = None,
    to: To = None,
    override_safety: Annotated[str | None, typer.Option(
        "--override-safety", metavar="REASON", parser=parse_text,
        help="Make a letter to the client's home although post is not marked safe; the reason is recorded on "
             "the timeline and the override in the audit log.", show_default=False)] = None,
) -> None:
    """Make a letter for a case as a Word file named REF-KIND-DATE.docx, readable by you only.

    A file already there is never replaced: the next is REF-KIND-DATE-2.docx.
    The letter is recorded on the case's timeline and in the audit log with
    the file's SHA-256. A kind is made only at the points of a case where it
    is true (an acknowledgement before the survey, a completion after the
    fitting...). The safety rules (safe post, no previous address or home the
    client has left, do-not-disclose, no perpetrator detail, no account of
    the abuse to landlords and contractors, consent to share) refuse a letter
    with exit 1 and say which rule, which field and how to put it right.

    Example: thcli letter make TH-2026-0042 acknowledgement
    """
    from thcli import letters

    s = session(ctx)
    db = s.open()
    for letter in letters.make_letter(db, ref, kind, by=s.user, out_dir=_out_dir(ctx, out_dir), to=to,
                                      override_reason=override_safety):
        out(f"Made the {letter.kind} letter for {letter.ref} to {letters.RECIPIENTS[letter.recipient]} "
            f"({letter.recipient_name}): {letter.path}")
        if letter.override_reason:
            warn(f"the safety rule \"{letters.SAFE_POST}\" was overridden ({letter.override_reason}); "
                 "this is in the audit log.")
        for note in letter.notes:
            out(f"Note: {note}.")


@app.command()
def batch(
    ctx: typer.Context,
    kind: Kind,
    status: Annotated[str | None, typer.Option(
        "--status", metavar="S", help="Cases of this status, or open (default: the status the kind is for, e.g. "
                                      "new for acknowledgement).", show_default=False)] = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", parser=parse_positive,
                                              help="Make at most N letters.", show_default=False)] = None,
    out_dir: OutDir = None,
    to: To = None,
    again: Annotated[bool, typer.Option("--again", help="Also cases that already have a letter of this kind.")]
    = False,
) -> None:
    """Make a letter of one kind for every case of a status, oldest referral first.

    Cases that already have a letter of this kind are left out unless
    --again. Cases a rule refuses are listed at the end with the reason; no
    safety rule is overridden in a batch. Exit 0 when letters were made.

    Example: thcli letter batch acknowledgement --status new --limit 50
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from thcli import letters, parse, render

    s = session(ctx)
    db = s.open()
    progress = Progress(TextColumn("Making {task.description} letters"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=render.err_console, transient=True,
                        disable=not render.err_console.is_terminal)
    task = progress.add_task(kind, total=None)

    def advance(made: int, total: int) -> None:
        progress.update(task, completed=made, total=total)

    with progress:
        result = letters.batch(db, kind, by=s.user, out_dir=_out_dir(ctx, out_dir), status=status, limit=limit,
                               to=to, again=again, progress=advance)
    made, refused = result.made, result.refused
    where = str(made[0].path.parent) if made else str(_out_dir(ctx, out_dir))
    out(f"Made {len(made)} {result.kind} letter{'s' if len(made) != 1 else ''} in {where}; refused "
        f"{len(refused)}.")
    if result.already_made:
        out(f"{result.already_made} {result.status} case{'s' if result.already_made != 1 else ''} already had "
            f"one (add --again to make {'them' if result.already_made != 1 else 'it'} again).")
    if result.status == "open":
        out(f"Open cases that are {parse.one_of(result.statuses)} were taken: {letters.with_article(result.kind)} "
            f"letter is only made for those.")
    if not made and not refused:
        out(f"No {result.status} case needs a {result.kind} letter.")
    if refused:
        out("Refused:")
        for item in refused:
            rule = f"safety rule \"{item['rule']}\": " if item["rule"] else ""
            out(f"  {item['ref']}  {rule}{item['reason']}")
        if any(item["rule"] == letters.SAFE_POST for item in refused):
            out("A letter refused for safe post can go to the referrer where the kind allows it (--to referrer), "
                "or be made one at a time with `thcli letter make REF KIND --override-safety REASON`.")
    if refused and not made:
        from thcli.errors import NotAllowed

        cases = f"{len(refused)} case{'s were' if len(refused) != 1 else ' was'}"
        raise NotAllowed(f"no {result.kind} letter was made: {cases} refused (listed above)")


@templates_app.command("list")
def templates_list(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Show each kind of letter, who it goes to, and whether it uses the default or the scheme's own template.

    Example: thcli letter templates list
    """
    from thcli import letters, render

    db = session(ctx).open()
    rows = letters.template_rows(db)
    render.emit(rows, fmt, [
        render.Column("kind", "Kind", style="bold", kind="code", drop=0),
        render.Column("recipients", "Goes to", lambda v, r: " or ".join(v), kind="text", drop=3),
        render.Column("template", "Template", kind="code", drop=0),
        render.Column("filename", "File", kind="whole", drop=2),
        render.Column("set_at", "Set", lambda v, r: f"{render.uk_date(v[:10])} by {r['set_by']}" if v else "",
                      kind="text", drop=1),
    ], csv_columns=["kind", "title", "recipients", "template", "filename", "sha256", "set_at", "set_by"],
        title="Letter templates")


@templates_app.command("export")
def templates_export(
    ctx: typer.Context,
    kind: Kind,
    dest: Annotated[Path, typer.Argument(help="The .docx file (or folder) to write.", metavar="FILE")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write the template a kind of letter uses to a .docx file, to edit in Word.

    Keep the merge fields in double braces, e.g. {{ client_name }}; the
    fields each kind may use are listed after the export.

    Example: thcli letter templates export acknowledgement acknowledgement.docx
    """
    from thcli import letters

    db = session(ctx).open()
    result = letters.export_template(db, kind, dest, force=force)
    out(f"Wrote the {result['template']} {result['kind']} template to {result['path']}.")
    out(f"Merge fields you can use: {', '.join(result['fields'])}.")
    out(f"When it is ready: thcli letter templates use {result['kind']} {result['path']}")


@templates_app.command("use")
def templates_use(
    ctx: typer.Context,
    kind: Kind,
    file: Annotated[Path, typer.Argument(help="The edited .docx template.", metavar="FILE")],
) -> None:
    """Make the scheme use its own template for a kind of letter, after checking it.

    Templates run in a sandbox: one that reaches for Python's internals (a
    name starting with _), calls anything, or uses a filter or tag letters do
    not offer is refused, naming the expression. Merge fields the kind does
    not have are reported as an error (they would print blank), and a test
    letter is made to each recipient first: a landlord or contractor letter
    that would give an account of the abuse is refused.

    Example: thcli letter templates use acknowledgement our-acknowledgement.docx
    """
    from thcli import letters

    s = session(ctx)
    db = s.open()
    result = letters.use_template(db, kind, file, by=s.user)
    out(f"The {result['kind']} letter now uses {result['filename']} (sha256 {result['sha256'][:12]}). "
        f"Merge fields in it: {', '.join(result['fields']) or 'none'}.")


@templates_app.command("reset")
def templates_reset(ctx: typer.Context, kind: Kind) -> None:
    """Go back to thcli's default template for a kind of letter.

    Example: thcli letter templates reset acknowledgement
    """
    from thcli import letters

    s = session(ctx)
    db = s.open()
    letters.reset_template(db, kind, by=s.user)
    out(f"The {letters.kind_spec(kind).name} letter uses thcli's default template again.")
