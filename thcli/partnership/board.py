"""The board report: a short Word document a partnership board would accept.

One document for a scheme (``thcli report board``, from its own database)
and for the county (``thcli county combine ... --report``, from the
districts' files), made from the same suppressed figures (figures.Totals):

title and period; a summary in a few sentences and a table per district;
then referrals (a chart per month, tables by district, route, risk and
tenure), time to survey and to fit (a chart against target, a table per
district and per risk level), money (a chart per fund source, tables),
outcomes, repeat referrals and survivors referred in more than one
district, and a last section on what the figures are and are not.

Suppressed cells stay suppressed everywhere: ``<5`` for a small count,
``hidden`` for a cell hidden so that a small one cannot be worked out from
the total, in tables, sentences and charts alike. Charts need matplotlib
(charts.py); without it the report has every table and says how to add the
charts. The protective marking is in the header and footer of every page,
and the document's own metadata (title, author, comments, category) is set
by thcli rather than left at python-docx's defaults. python-docx is
imported only here, when a report is made.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from thcli import clock, code_defaults, dates
from thcli.county import Cell, Period
from thcli.errors import BadInput, NotAllowed
from thcli.files import check_writable, may_replace, printable, write_atomically
from thcli.partnership import charts
from thcli.partnership.figures import MORE_THAN_ONE, figure_text, lookup

#: The document's category (docProps/core.xml): how an earlier board report is recognised for --force.
CATEGORY = "Board report"
HIDDEN = "hidden"
_ACRONYMS = {"marac": "MARAC", "idva": "IDVA", "opcc": "OPCC", "hpg": "HPG", "cctv": "CCTV", "pir": "PIR",
             "nrpf": "NRPF"}


@dataclass
class Coverage:
    """How many of a scheme's referrals its extract holds (from its summary, when it sent one)."""

    scheme: str
    in_extract: int
    in_summary: str | None


@dataclass
class Board:
    """Everything the report says."""

    name: str                     # the partnership's or the scheme's name
    period: Period
    cells: list[Cell]
    threshold: int
    marking: str
    by: str
    county: bool                  # the county's report (from files) or a scheme's (from its database)
    made_from: str                # "6 files from 3 district schemes", "the scheme's database"
    round_to: int | None = None
    county_schemes: list[str] = field(default_factory=list)
    other_schemes: list[str] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    target_days: int | None = None
    district_labels: dict[str, str] = field(default_factory=dict)
    today: dt.date | None = None


# --- words ---------------------------------------------------------------------------------------------


def _default_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for list_name in ("route", "risk", "tenure", "fund_source", "outcome_reason", "decline_reason",
                      "withdrawal_reason", "no_contact_reason"):
        for code, label in code_defaults.DEFAULTS.get(list_name, []):
            labels.setdefault(code, label)
    for code, label, *_ in code_defaults.MEASURES:
        labels.setdefault(code, label)
    labels.update({"other": "Other", "unknown": "Not known", MORE_THAN_ONE: "More than one source",
                   "open": "Still open", "completed": "Completed", "declined": "Declined", "withdrawn": "Withdrawn",
                   "no_contact": "No contact", "all": "All"})
    return labels


def humanise(code: str) -> str:
    """``private_rented`` as ``Private rented``, ``marac`` as ``MARAC``."""
    words = [_ACRONYMS.get(word, word) for word in code.replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


class Words:
    """How the report names codes and writes figures."""

    def __init__(self, board: Board):
        self.board = board
        self.labels = _default_labels()
        self.cells = lookup(board.cells)

    def label(self, breakdown: str, code: str) -> str:
        if breakdown == "district":
            return self.board.district_labels.get(code) or " ".join(w.capitalize() for w in code.split("_"))
        if breakdown == "month":
            year, month = code.split("-")
            return f"{dates.MONTHS[int(month) - 1][:3]} {year}"
        return self.labels.get(code) or humanise(code)

    def cell(self, measure: str, breakdown: str = "all", category: str = "all") -> Cell | None:
        return self.cells.get((measure, breakdown, category))

    def text(self, cell: Cell | None) -> str:
        """A figure as the report writes it."""
        if cell is None:
            return "n/a"
        if cell.hidden is not None:
            return HIDDEN if cell.hidden == "suppressed" else cell.hidden
        if cell.value is None:
            return "n/a"
        if cell.kind in ("money", "mean_money"):  # whole pounds: a board reads £12,108, not £12,108.00
            return f"{'-' if cell.value < 0 else ''}£{round(abs(cell.value) / 100):,}"
        if cell.kind == "percent":
            return f"{cell.value:.0f}%"
        if cell.kind == "count":
            return f"{int(figure_text(cell, self.board.round_to)):,}"
        return figure_text(cell)

    def of(self, measure: str, breakdown: str = "all", category: str = "all") -> str:
        return self.text(self.cell(measure, breakdown, category))

    def value(self, cell: Cell | None) -> float | None:
        """The number a chart draws (None when hidden or missing)."""
        if cell is None or cell.hidden is not None or cell.value is None:
            return None
        return float(cell.value)

    def categories(self, measure: str, breakdown: str, *, drop_zero: bool = False) -> list[str]:
        found = [c.category for c in self.board.cells if c.measure == measure and c.breakdown == breakdown]
        if drop_zero:
            found = [c for c in found if self.cells[(measure, breakdown, c)].hidden is not None
                     or self.cells[(measure, breakdown, c)].value]
        return found


# --- the document --------------------------------------------------------------------------------------


def document(board: Board) -> bytes:
    """The report as the bytes of a .docx file."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    words = Words(board)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.0)
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    _marking(section, board.marking)
    _properties(doc, board)

    today = board.today or clock.today()
    doc.add_heading("Target hardening and sanctuary schemes", level=0)
    subtitle = doc.add_paragraph()
    subtitle.add_run(f"{board.name}: report to the partnership board").bold = True
    doc.add_paragraph(f"Period: {board.period.describe()}. Made by thcli on {dates.format_long_date(today)} "
                      f"by {board.by}, from {board.made_from}.")
    drawing = charts.available()

    doc.add_heading("1. Summary", level=1)
    for sentence in _summary(words, board):
        doc.add_paragraph(sentence, style="List Bullet")
    if not drawing:
        doc.add_paragraph(charts.INSTALL_HINT).runs[0].italic = True
    _table(doc, words, ["District", "Referrals", "Fitted", "Median days to fit", "Within target", "Spend"],
           [[words.label("district", d), words.of("referrals", "district", d),
             words.of("households_fitted", "district", d), words.of("median_days_to_fit", "district", d),
             words.of("percent_within_target", "district", d), words.of("spend", "district", d)]
            for d in words.categories("referrals", "district")],
           total=["All", words.of("referrals"), words.of("households_fitted"), words.of("median_days_to_fit"),
                  words.of("percent_within_target"), words.of("spend")])

    doc.add_heading("2. Referrals", level=1)
    doc.add_paragraph("Every case referred in the period, by the month it came in, its district, the route it "
                      "came by, the risk level from the DASH assessment, and the survivor's tenure.")
    if drawing:
        bars = [charts.Bar(words.label("month", m)[:4] + words.label("month", m)[-2:],
                           words.value(words.cell("referrals", "month", m)), words.of("referrals", "month", m))
                for m in words.categories("referrals", "month")]
        _picture(doc, charts.referrals_per_month(bars), "Referrals per month")
    for breakdown, title in (("district", "District"), ("referral_route", "Route"), ("risk_level", "Risk level"),
                             ("tenure", "Tenure")):
        _by(doc, words, "referrals", breakdown, title, "Referrals", drop_zero=breakdown == "tenure")

    doc.add_heading("3. Time to survey and to fit", level=1)
    doc.add_paragraph("Working days (Monday to Friday, less bank holidays in England) from the referral to the "
                      "home security survey and to every measure fitted, for the households referred in the period "
                      "that have reached that step. The 90th percentile is the wait that nine households in ten did "
                      "not exceed. Within target: of the households fitted or past their target, the share fitted "
                      "by their own scheme's target (shorter for high-risk and emergency cases).")
    if drawing:
        groups = [(words.label("district", d),
                   charts.Bar("median", words.value(words.cell("median_days_to_fit", "district", d)),
                              words.of("median_days_to_fit", "district", d)),
                   charts.Bar("p90", words.value(words.cell("p90_days_to_fit", "district", d)),
                              words.of("p90_days_to_fit", "district", d)),
                   words.of("percent_within_target", "district", d))
                  for d in words.categories("referrals", "district")]
        groups.insert(0, ("All", charts.Bar("median", words.value(words.cell("median_days_to_fit")),
                                            words.of("median_days_to_fit")),
                          charts.Bar("p90", words.value(words.cell("p90_days_to_fit")), words.of("p90_days_to_fit")),
                          words.of("percent_within_target")))
        _picture(doc, charts.time_to_fit(groups, board.target_days), "Time to fit against target")
    for breakdown, title in (("district", "District"), ("risk_level", "Risk level")):
        categories = ["all", *words.categories("households_fitted", breakdown)]
        _table(doc, words, [title, "Surveyed", "Median days to survey", "Fitted", "Median days to fit",
                            "90th percentile", "Within target"],
               [[words.label(breakdown, c) if c != "all" else "All"] + [
                   words.of(m, breakdown if c != "all" else "all", c)
                   for m in ("households_surveyed", "median_days_to_survey", "households_fitted",
                             "median_days_to_fit", "p90_days_to_fit", "percent_within_target")]
                for c in categories[1:]],
               total=["All"] + [words.of(m) for m in ("households_surveyed", "median_days_to_survey",
                                                      "households_fitted", "median_days_to_fit", "p90_days_to_fit",
                                                      "percent_within_target")])

    doc.add_heading("4. Money", level=1)
    doc.add_paragraph("Payments for the households referred in the period, net of refunds, and the contributions "
                      "received towards them (from survivors, landlords and others). Spend per household is the "
                      "mean over the households with any spend. A household whose measures were charged to more "
                      "than one fund source is shown under \"More than one source\".")
    if drawing:
        sources = words.categories("spend", "fund_source", drop_zero=True)
        if sources:
            bars = [charts.Bar(words.label("fund_source", s), _pounds(words.value(words.cell("spend", "fund_source",
                                                                                             s))),
                               words.of("spend", "fund_source", s)) for s in sources]
            _picture(doc, charts.spend_by_source(bars), "Spend per fund source")
    _table(doc, words, ["District", "Spend", "Households", "Per household", "Contributions"],
           [[words.label("district", d), words.of("spend", "district", d),
             words.of("households_with_spend", "district", d), words.of("spend_per_household", "district", d),
             words.of("contributions", "district", d)] for d in words.categories("spend", "district")],
           total=["All", words.of("spend"), words.of("households_with_spend"), words.of("spend_per_household"),
                  words.of("contributions")])
    _by(doc, words, "spend", "fund_source", "Fund source", "Spend", drop_zero=True)

    doc.add_heading("5. Outcomes", level=1)
    doc.add_paragraph("Where the households referred in the period stood on the day the figures were taken, and "
                      "why a case ended.")
    _by(doc, words, "cases", "status", "Status", "Cases")
    _by(doc, words, "households_unable_to_support", "outcome_reason", "Not able to help: reason", "Households",
        drop_zero=True)
    _by(doc, words, "households_support_ended", "outcome_reason", "Support ended: reason", "Households",
        drop_zero=True)
    _by(doc, words, "measures_fitted", "measure_code", "Measure fitted", "Households", drop_zero=True, total=False)

    doc.add_heading("6. Repeat referrals and survivors who move", level=1)
    doc.add_paragraph(_repeat_words(board))
    _table(doc, words, ["District", "Survivors", "Flagged as repeat referrals", "Referred again in the district",
                        "Also referred in another district"],
           [[words.label("district", d), words.of("survivors", "district", d),
             words.of("repeat_referrals", "district", d),
             words.of("survivors_referred_again_in_district", "district", d),
             words.of("survivors_in_more_than_one_district", "district", d)]
            for d in words.categories("survivors", "district")],
           total=["All", words.of("survivors"), words.of("repeat_referrals"),
                  words.of("survivors_referred_again_in_district"), words.of("survivors_in_more_than_one_district")])

    doc.add_heading("7. About these figures", level=1)
    for sentence in _about(board):
        doc.add_paragraph(sentence, style="List Bullet")

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _pounds(pence: float | None) -> float | None:
    return None if pence is None else pence / 100


def _summary(words: Words, board: Board) -> list[str]:
    of = words.of
    lines = [f"{of('referrals')} households were referred in the period"
             + (f" ({_coverage_words(board)})." if board.coverage else ".")]
    lines.append(f"{of('households_fitted')} of them have had their security measures fitted, a median of "
                 f"{of('median_days_to_fit')} working days after referral (nine in ten within "
                 f"{of('p90_days_to_fit')}); {of('percent_within_target')} were fitted within their scheme's target.")
    lines.append(f"{of('spend')} has been spent on their homes: {of('spend_per_household')} per household on "
                 f"average, over {of('households_with_spend')} households; contributions towards it came to "
                 f"{of('contributions')}.")
    lines.append(f"{of('survivors_in_more_than_one_district')} survivors were referred in more than one district "
                 f"in the period, and {of('survivors_referred_again_in_district')} more than once in the same "
                 "district" + (" (see section 6 for which districts can be compared)." if board.county else "."))
    return lines


def _coverage_words(board: Board) -> str:
    parts = []
    for item in board.coverage:
        if item.in_summary is None:
            parts.append(f"{item.scheme}: no summary was sent, so its share is not known")
        else:
            parts.append(f"{item.scheme}: {item.in_extract:,} in the extract of {item.in_summary} in its summary")
    return "counted from the case extracts, which hold only the cases whose client agreed to share with the " \
           "county; " + "; ".join(parts)


def _repeat_words(board: Board) -> str:
    text = ("Survivors are told apart by their pseudonyms, never by name. \"Flagged as repeat referrals\" are the "
            "cases each scheme linked to an earlier referral of the same survivor, in any year. \"Referred again "
            "in the district\" counts the survivors with more than one referral in the same district in the period. ")
    if not board.county:
        return text + ("\"Also referred in another district\" counts the survivors referred in more than one of "
                       "the scheme's districts in the period.")
    if board.county_schemes:
        text += (f"\"Also referred in another district\" counts the survivors referred in more than one district in "
                 f"the period. The files of {_listed(board.county_schemes)} key survivors on the partnership's county "
                 "key, so a survivor referred in two of them is counted once, as one person")
        text += (f"; {_listed(board.other_schemes)} "
                 f"{'do' if len(board.other_schemes) > 1 else 'does'} not hold the county key yet, so "
                 "its survivors can be matched within its own districts only." if board.other_schemes else ".")
    else:
        text += ("No district's file uses the county key, so survivors can be matched only within each scheme's own "
                 "districts: a survivor who moved to another scheme's district is counted twice. The partnership can "
                 "make a county key (thcli county key new) and give it to every district (thcli county key use).")
    return text


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _about(board: Board) -> list[str]:
    small = f"<{board.threshold}"
    lines = [
        f"Small numbers are not shown: {small} stands for a number from 1 to {board.threshold - 1}, and money, "
        f"medians and percentages of fewer than {board.threshold} households are hidden. Where one figure of a "
        "table is hidden and its total is shown, another is hidden too (\"hidden\"), so that no small number can "
        "be worked out by subtraction. These are the rules of the districts' own returns, applied again here.",
        "Every figure is about the households referred in the period, as they stood when the figures were taken; "
        "cases still open will add to the times, spend and outcomes in later reports.",
    ]
    if board.round_to and board.round_to > 1:
        lines.append(f"Counts are rounded to the nearest {board.round_to}.")
    if board.county:
        lines.append("The figures come from the districts' pseudonymised case extracts (thcli county export "
                     "version 1 or 2), which hold no names, addresses or dates of birth. Each extract holds only the "
                     "cases whose client agreed to share with the county partnership; each district's own summary "
                     "counts every case.")
    else:
        lines.append("The figures come from the scheme's own records and count every case referred in the period.")
    if not charts.available():
        lines.append(charts.INSTALL_HINT)
    return lines


def _by(doc, words: Words, measure: str, breakdown: str, title: str, heading: str, *, drop_zero: bool = False,
        total: bool = True) -> None:
    categories = words.categories(measure, breakdown, drop_zero=drop_zero)
    if not categories:
        return
    rows = [[words.label(breakdown, c), words.of(measure, breakdown, c)] for c in categories]
    _table(doc, words, [title, heading], rows, total=["All", words.of(measure)] if total else None)


def _table(doc, words: Words, header: list[str], rows: list[list[str]], *, total: list[str] | None = None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light List Accent 1"
    table.autofit = False
    first = 8.0 if len(header) == 2 else 3.2 if len(header) > 6 else 4.2 if len(header) > 5 else 5.0
    others = 3.0 if len(header) == 2 else (16.6 - first) / (len(header) - 1)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    body = [*rows, total] if total else rows
    for number, values in enumerate(body):
        cells = table.add_row().cells
        for position, (cell, text) in enumerate(zip(cells, values, strict=True)):
            cell.text = text
            if total and number == len(body) - 1:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            if position:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for position, column in enumerate(table.columns):
        column.width = Cm(first if position == 0 else others)  # the grid, which LibreOffice reads
    last = len(table.rows) - 1
    for number, row in enumerate(table.rows):
        for position, cell in enumerate(row.cells):
            cell.width = Cm(first if position == 0 else others)  # each cell, which Word reads
            if number < last:  # a short table stays on one page
                cell.paragraphs[0].paragraph_format.keep_with_next = True
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(9)
            if position and number == 0:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def _picture(doc, png: bytes, caption: str) -> None:
    from docx.shared import Cm

    doc.paragraphs[-1].paragraph_format.keep_with_next = True  # the words that introduce a chart stay with it
    doc.add_picture(io.BytesIO(png), width=Cm(16))
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    doc.add_paragraph(caption, style="Caption")


def _marking(section, marking: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    head = section.header.paragraphs[0]
    head.text = marking
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    head.runs[0].bold = True
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    foot.add_run(f"{marking}    Page ").bold = True
    field_run = foot.add_run()
    field_run.bold = True
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        field_run._r.append(element)


def _properties(doc, board: Board) -> None:
    """The document's own metadata, set by thcli (python-docx's defaults name python-docx and 2013)."""
    now = dt.datetime.fromisoformat(clock.now_iso().replace("Z", "+00:00")).replace(tzinfo=None)
    properties = doc.core_properties
    properties.title = f"Target hardening and sanctuary schemes: {board.period.label}"
    properties.subject = f"{board.name}: report to the partnership board, {board.period.describe()}"
    properties.author = board.name
    properties.last_modified_by = board.by
    properties.comments = (f"Made by thcli from {board.made_from}. Protective marking: {board.marking}. "
                           "Small numbers suppressed.")
    properties.category = CATEGORY
    properties.keywords = board.marking
    properties.language = "en-GB"
    properties.revision = 1
    properties.created = now
    properties.modified = now
    properties.last_printed = now


def is_board_report(path: Path) -> bool:
    """Whether a file is an earlier board report made by thcli (a .docx whose category says so)."""
    try:
        with zipfile.ZipFile(path) as package:
            core = package.read("docProps/core.xml")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return False
    return f"<cp:category>{CATEGORY}</cp:category>".encode() in core


def check_report_path(path: Path, *, force: bool, option: str, database: Path | None = None) -> tuple[Path, bool]:
    """Where the report may go (before any work is done), and whether it replaces an earlier one."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".docx":
        raise BadInput(f"{printable(path)}: a board report is a Word file: give a name ending in .docx", option)
    replacing = may_replace(path, what="board report", is_earlier=is_board_report, force=force, option=option,
                            database=database)
    if not path.parent.is_dir():
        raise BadInput(f"the folder {printable(path.parent)} does not exist: create it first or choose another",
                       option)
    check_writable(path, option=option)  # a folder not writable, or a name too long, is found before any work
    return path, replacing


def write_report(path: Path, content: bytes, *, replace: bool, option: str) -> Path:
    """Write the report's bytes (:func:`document`'s; 0600, in one step)."""
    try:
        write_atomically(path, content, replace=replace, option=option)
    except FileExistsError:
        raise NotAllowed(f"{printable(path)} appeared while the report was made: nothing was replaced; "
                         "choose another name") from None
    return path

