"""`thcli county`: the county partnership's side: the county key, and combining the districts' files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from thcli import dates
from thcli.commands._common import out, parse_positive, parse_text, session
from thcli.commands.export import FromOption, QuarterOption, ToOption, YearOption

app = typer.Typer(help="The county partnership's side: the county key, and combining the districts' files.",
                  no_args_is_help=True, add_completion=False)
key_app = typer.Typer(help="The partnership's county key: make it once, import it in every district scheme.",
                      no_args_is_help=True, add_completion=False)
app.add_typer(key_app, name="key")

ForceOption = Annotated[bool, typer.Option(
    "--force", help="Replace an earlier file of the same kind (nothing else is ever replaced).")]


@key_app.command("new")
def key_new(
    out_file: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="Where to write the key file.",
                                           show_default=False)],
    force: ForceOption = False,
) -> None:
    """Make a new county key for the partnership (a secret file, readable by you only).

    Give it to every district scheme's coordinator by a secure route, to
    import with `thcli county key use FILE`, then delete your copy:
    combining the districts' files needs no key. The check code it prints
    is the same wherever the same key is held, and tells nothing about it.
    Needs no database.

    Example: thcli county key new --out county.key
    """
    from thcli.partnership import key

    code = key.new_key_file(out_file, force=force)
    out(f"Wrote a new county key to {out_file} (check code {code}), readable by you only.")
    out("Give it to each district scheme's coordinator by a secure route (not plain email); each runs:")
    out(f"  thcli county key use {out_file.name}")
    out("and reads you back the check code. Then delete every other copy: `thcli county combine` needs no key, "
        "and without one nobody at the county can test a name against the pseudonyms.")


@key_app.command("use")
def key_use(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The county key file the partnership gave you.", metavar="FILE")],
    force: Annotated[bool, typer.Option("--force", help="Replace a different county key the scheme holds.")] = False,
) -> None:
    """Import the partnership's county key, so that the case extract keys clients on the person.

    With it, a client with a date of birth has the same pseudonym in every
    district's extract (pseudonym_scope county), so the county can count
    survivors referred in more than one district without a name. The key is
    kept in the database like the scheme's own secret: never exported,
    printed or audited (the audit log records its check code). Delete the
    file once imported.

    Example: thcli county key use county.key
    """
    from thcli.partnership import key

    s = session(ctx)
    db = s.open()
    used = key.use_key(db, file, by=s.user, force=force)
    if not used.changed:
        out(f"This scheme already holds this county key (check code {used.check_code}): nothing changed.")
        return
    replaced = f", replacing the key with check code {used.replaced}" if used.replaced else ""
    out(f"The scheme now holds the county key with check code {used.check_code}{replaced}.")
    out("From the next `thcli export cases`, clients with a date of birth are keyed on the county key "
        "(pseudonym_scope county). Check the code with the partnership, then delete the key file.")


@key_app.command("show")
def key_show(ctx: typer.Context) -> None:
    """Whether the scheme holds the county key, and its check code (never the key).

    Example: thcli county key show
    """
    from thcli.partnership import key

    held = key.state(session(ctx).open())
    if not held.held:
        out("This scheme holds no county key: the case extract keys clients with the scheme's own secret "
            "(pseudonym_scope scheme). Import the partnership's key with `thcli county key use FILE`.")
        return
    since = f", imported on {dates.format_date(held.set_at[:10])} by {held.set_by}" if held.set_at else ""
    out(f"This scheme holds the county key with check code {held.check_code}{since}.")
    out("The case extract keys clients with a date of birth on it (pseudonym_scope county); clients without "
        "one keep the scheme's own pseudonym.")


@key_app.command("forget")
def key_forget(ctx: typer.Context) -> None:
    """Remove the county key from the scheme: later extracts go back to the scheme's own pseudonyms.

    Example: thcli county key forget
    """
    from thcli.partnership import key

    s = session(ctx)
    code = key.forget_key(s.open(), by=s.user)
    if code is None:
        out("This scheme holds no county key: nothing to forget.")
    else:
        out(f"Removed the county key with check code {code}. Later case extracts key clients with the scheme's "
            "own secret (pseudonym_scope scheme).")


@app.command("combine")
def combine(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(
        help="The districts' case extracts and summaries (thcli export cases / export summary) for one period.",
        metavar="FILE...", show_default=False)],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                          help="The folder for the county figures (made, readable by you only, "
                                               "if new).")],
    report: Annotated[Path | None, typer.Option("--report", metavar="FILE.docx", show_default=False,
                                                help="Also write the board report (Word) to FILE.docx.")] = None,
    start: FromOption = None,
    end: ToOption = None,
    quarter: QuarterOption = None,
    year: YearOption = None,
    threshold: Annotated[int, typer.Option("--threshold", parser=parse_positive, metavar="N",
                                           help="Counts from 1 to N-1 are suppressed (2 at least; the districts' "
                                                "default).")] = 5,
    round_to: Annotated[int | None, typer.Option("--round", parser=parse_positive, metavar="N", show_default=False,
                                                 help="Round every count shown to the nearest N (e.g. 5).")] = None,
    partnership: Annotated[str, typer.Option("--partnership", parser=parse_text, metavar="NAME",
                                             help="The partnership's name, for the report.")] =
    "County domestic abuse partnership",
    marking: Annotated[str, typer.Option("--marking", parser=parse_text, metavar="TEXT",
                                         help="The report's protective marking.")] = "OFFICIAL-SENSITIVE",
    force: ForceOption = False,
) -> None:
    """Combine the districts' files into county figures (CSV), and a board report with --report.

    Checks every file first (version, header, scheme, period, UTF-8) and
    refuses a scheme sent twice, mixed periods and a summary without its
    case extract, naming the file; nothing is written until all are good.
    The figures count the cases in the extracts, suppressed again at county
    level by the districts' own rules. Survivors referred in more than one
    district are counted where the files share the county key. Needs no
    database and no key. The period is the summaries' (or give one).

    Example: thcli county combine *-cases.csv *-summary.csv --out county-2026-27 --report board.docx
    """
    from thcli import county
    from thcli.partnership import reports

    s = session(ctx)
    chosen = county.period(start=start, end=end, quarter=quarter, year=year, required=False) \
        if (start or end or quarter or year) else None
    given = "--year" if year else "--quarter" if quarter else "--from/--to" if chosen else None
    result = reports.combine_files(files, out_dir, by=s.user, report=report, chosen=chosen, period_given=given,
                                   threshold=threshold, round_to=round_to, force=force, partnership=partnership,
                                   marking=marking)
    _show(result)


def _show(result) -> None:
    from rich.text import Text  # codes from the districts' files: shown as text, never as markup

    from thcli import render
    from thcli.partnership.board import Board, Words

    combined = result.combined
    totals = combined.totals
    schemes = sorted({f.scheme for f in combined.files if f.scheme})
    out(f"Combined {len(combined.files)} file{'s' if len(combined.files) != 1 else ''} from {len(schemes)} "
        f"scheme{'s' if len(schemes) != 1 else ''} for {combined.period.describe()}: "
        f"{totals.rows:,} case{'s' if totals.rows != 1 else ''}.")
    words = Words(Board(name="", period=combined.period, cells=result.cells, threshold=result.threshold,
                        marking="", by="", county=True, made_from="", round_to=result.round_to))
    measures = ("referrals", "households_fitted", "median_days_to_fit", "percent_within_target", "spend",
                "survivors_in_more_than_one_district")
    headings = ("Referrals", "Fitted", "Days to fit", "In target", "Spend", "In 2+ districts")
    rows = []
    for district in [*words.categories("referrals", "district"), "all"]:
        breakdown = "all" if district == "all" else "district"
        rows.append({"district": Text("All" if district == "all" else district),
                     **{m: words.of(m, breakdown, district) for m in measures}})
    laid = render.table(rows, [render.Column("district", "District", kind="code", drop=0)] + [
        render.Column(m, heading, kind="number", drop=0) for m, heading in zip(measures, headings, strict=True)],
        title="Headline figures, suppressed as published (days to fit: median working days)",
        row_style=lambda r: "bold" if r["district"].plain == "All" else None)
    render.show(laid, left_out=laid.left_out)
    county_schemes, others = totals.schemes_by_scope()
    if county_schemes:
        out(f"Survivors in more than one district: {words.of('survivors_in_more_than_one_district')}, matched on "
            f"the county key across {', '.join(county_schemes)}"
            + (f"; {', '.join(others)} use their own pseudonyms, matched within each scheme only." if others else "."))
    else:
        out("No file uses the county key: survivors are matched within each scheme only "
            "(see `thcli county key new`).")
    summaries = combined.summaries()
    for extract in combined.extracts():
        summary = summaries.get(extract.scheme or "")
        if summary is None:
            out(f"{extract.scheme or extract.name}: no summary was sent, so the share of its referrals in the "
                "extract is not known.")
    out(f"Wrote {len(result.files)} files to {result.folder}" + (f" and the board report to {result.report}."
                                                                  if result.report else "."))
