"""The layout of thcli's default letters: a Word document with the letterhead, addresses, body and sign-off
that every kind shares, and the few things python-docx has no API for. build_templates.py writes the
letters' wording with it."""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

FONT = "Arial"
BODY_SIZE = Pt(10.5)
ACCENT = RGBColor(0x1F, 0x4E, 0x79)
SHADE = "DCE6F0"
TEXT_WIDTH = Cm(17)

#: Word parts a plain python-docx document carries that a letter does not need
#: (a thumbnail of an empty page, a second copy of the styles, sample custom XML).
UNWANTED_PARTS = ("thumbnail", "stylesWithEffects", "customXml")

APP_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Template>Normal.dotm</Template><Application>thcli</Application><DocSecurity>0</DocSecurity>"
    "</Properties>"
)


class Letter:
    """A letter being laid out: letterhead, addresses, body and sign-off."""

    def __init__(self, kind: str, title: str):
        self.kind = kind
        self.doc = Document()
        self._page_setup()
        self._styles()
        self._header_footer()
        props = self.doc.core_properties
        props.author = "thcli"
        props.last_modified_by = "thcli"
        props.title = f"{title} (thcli default template)"
        props.subject = title
        props.comments = f"Default template for the {kind} letter. Merge fields: see `thcli letter templates`."
        props.keywords = ""
        props.category = "Letter template"
        props.revision = 1

    # --- page, styles, header and footer ------------------------------------

    def _page_setup(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(1.4), Cm(1.4)
        section.left_margin, section.right_margin = Cm(2), Cm(2)
        section.header_distance, section.footer_distance = Cm(0.6), Cm(0.6)

    def _styles(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = BODY_SIZE
        fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "en-GB")
        normal.element.get_or_add_rPr().append(lang)
        fmt = normal.paragraph_format
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(6)
        fmt.line_spacing = 1.08
        for name in ("Header", "Footer"):
            style = self.doc.styles[name]
            style.font.size = Pt(8.5)
            style.paragraph_format.space_after = Pt(0)

    def _header_footer(self) -> None:
        section = self.doc.sections[0]
        head = section.header.paragraphs[0]
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = head.add_run("{{ marking }}")
        run.bold = True
        run.font.size = Pt(9)
        foot = section.footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = foot.add_run("{{ marking }}")
        run.bold = True
        run.font.size = Pt(9)
        line = section.footer.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = line.add_run("{{ scheme_name }} · reference {{ ref }}")
        run.font.size = Pt(7.5)
        run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    # --- building blocks ----------------------------------------------------

    def para(self, text: str = "", *, size=None, after=None, before=None, align=None, keep=False,
             color=None):
        """A paragraph; **bold** marks bold runs."""
        p = self.doc.add_paragraph()
        self._runs(p, text, size=size, color=color)
        fmt = p.paragraph_format
        if after is not None:
            fmt.space_after = Pt(after)
        if before is not None:
            fmt.space_before = Pt(before)
        if align == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif align == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if keep:
            fmt.keep_with_next = True
        return p

    @staticmethod
    def _runs(p, text: str, *, size=None, color=None) -> None:
        for i, piece in enumerate(re.split(r"\*\*", text)):
            if not piece:
                continue
            run = p.add_run(piece)
            run.bold = i % 2 == 1
            if size is not None:
                run.font.size = size
            if color is not None:
                run.font.color.rgb = color

    def tag(self, jinja: str) -> None:
        """A paragraph holding only a docxtpl paragraph tag: {%p if ... %}, {%p endif %}."""
        p = self.doc.add_paragraph(jinja)
        p.paragraph_format.space_after = Pt(0)

    def if_(self, condition: str) -> None:
        self.tag(f"{{%p if {condition} %}}")

    def else_(self) -> None:
        self.tag("{%p else %}")

    def endif(self) -> None:
        self.tag("{%p endif %}")

    def letterhead(self) -> None:
        table = self.doc.add_table(rows=1, cols=2)
        _widths(table, [Cm(9.5), Cm(7.5)])
        left, right = table.rows[0].cells
        p = left.paragraphs[0]
        self._runs(p, "**{{ letterhead }}**", size=Pt(16), color=ACCENT)
        p.paragraph_format.space_after = Pt(2)
        p = right.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._runs(p, "{{ letterhead_address }}", size=Pt(8.5))
        p.paragraph_format.space_after = Pt(0)
        for text in ("{%p if letterhead_phone %}", "Telephone {{ letterhead_phone }}", "{%p endif %}",
                     "{%p if letterhead_email %}", "{{ letterhead_email }}", "{%p endif %}"):
            p = right.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.space_after = Pt(0)
            self._runs(p, text, size=Pt(8.5))
        rule = self.para("", after=10)
        _bottom_border(rule)

    def addresses(self, reference_rows: list[tuple[str, str]] | None = None) -> None:
        """The recipient (left) and our reference and date (right)."""
        table = self.doc.add_table(rows=1, cols=2)
        _widths(table, [Cm(10), Cm(7)])
        left, right = table.rows[0].cells
        p = left.paragraphs[0]
        self._runs(p, "**{{ recipient_name }}**")
        p.paragraph_format.space_after = Pt(0)
        p = left.add_paragraph()
        self._runs(p, "{{ recipient_address }}")
        rows = [("Our reference", "{{ ref }}"), ("Date", "{{ date }}"), ("Contact", "{{ coordinator }}")]
        rows += reference_rows or []
        first = True
        for label, value in rows:
            p = right.paragraphs[0] if first else right.add_paragraph()
            first = False
            p.paragraph_format.space_after = Pt(1)
            self._runs(p, f"**{label}:** {value}", size=Pt(9.5))
        self.para("", after=6)

    def opening(self) -> None:
        self.para("{{ salutation }},", after=8)
        self.para("**{{ subject }}**", after=8, color=ACCENT)

    def details(self, rows: list[tuple[str, str]], widths=(Cm(4.2), Cm(12.8))) -> None:
        """A two-column table of labels and values, lightly ruled."""
        table = self.doc.add_table(rows=0, cols=2)
        table.style = self.doc.styles["Table Grid"]
        for label, value in rows:
            if label.startswith("{%"):
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(label)
                continue
            cells = table.add_row().cells
            self._runs(cells[0].paragraphs[0], f"**{label}**", size=Pt(9.5))
            _shade(cells[0], SHADE)
            self._runs(cells[1].paragraphs[0], value, size=Pt(9.5))
            for cell in cells:
                cell.paragraphs[0].paragraph_format.space_after = Pt(1)
        _widths(table, list(widths))
        _cell_margins(table)
        self.para("", after=4)

    def items(self, headings: list[str], cells: list[str], widths: list, *, loop: str,
              total: tuple[str, str] | None = None, right: tuple[int, ...] = ()) -> None:
        """A table with a heading row and one row per item (a docxtpl row loop)."""
        table = self.doc.add_table(rows=1, cols=len(headings))
        table.style = self.doc.styles["Table Grid"]
        _repeat_as_header(table.rows[0])
        for i, heading in enumerate(headings):
            cell = table.rows[0].cells[i]
            self._runs(cell.paragraphs[0], f"**{heading}**", size=Pt(9.5))
            _shade(cell, SHADE)
            if i in right:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        table.add_row().cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
        row = table.add_row().cells
        for i, text in enumerate(cells):
            self._runs(row[i].paragraphs[0], text, size=Pt(9.5))
            if i in right:
                row[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        table.add_row().cells[0].paragraphs[0].add_run("{%tr endfor %}")
        if total is not None:
            row = table.add_row().cells
            merged = row[0].merge(row[len(headings) - 2])
            self._runs(merged.paragraphs[0], f"**{total[0]}**", size=Pt(9.5))
            merged.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            self._runs(row[-1].paragraphs[0], f"**{total[1]}**", size=Pt(9.5))
            row[-1].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for r in table.rows:
            _never_split(r)
            for cell in r.cells:
                cell.paragraphs[0].paragraph_format.space_after = Pt(1)
        _widths(table, widths)
        _cell_margins(table)
        self.para("", after=4)

    def signoff(self) -> None:
        self.para("{{ valediction }},", before=4, after=26, keep=True)
        self.para("**{{ coordinator }}**", after=0, keep=True)
        self.para("Sanctuary scheme coordinator, {{ scheme_name }}", after=0)

    def save(self, folder: Path) -> Path:
        """Write the letter as KIND.docx in ``folder``."""
        _drop_unwanted_parts(self.doc)
        path = folder / f"{self.kind}.docx"
        self.doc.save(str(path))
        return path


# --- low-level helpers (python-docx has no API for these) ----------------------


def _widths(table, widths: list) -> None:
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width
    for col, width in zip(table.columns, widths, strict=False):
        col.width = width


def _repeat_as_header(row) -> None:
    """The row is repeated at the top of each page the table runs onto (w:tblHeader)."""
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _never_split(row) -> None:
    """The row is never split across pages (w:cantSplit, which comes before w:tblHeader in w:trPr)."""
    flag = OxmlElement("w:cantSplit")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().insert(0, flag)


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _cell_margins(table) -> None:
    tbl_pr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side, width in (("top", 40), ("left", 90), ("bottom", 40), ("right", 90)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(width))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)


def _bottom_border(paragraph) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "8")
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), "1F4E79")
    borders.append(bottom)
    p_pr.append(borders)
    paragraph.paragraph_format.space_after = Pt(10)
    run = paragraph.add_run("")
    run.font.size = Pt(2)


def _drop_unwanted_parts(doc) -> None:
    """Leave out the parts of python-docx's own template that a letter does not need."""
    package = doc.part.package
    for owner in (package, doc.part):
        for r_id, rel in list(owner.rels.items()):
            if any(word in rel.reltype or word in str(getattr(rel.target_part, "partname", ""))
                   for word in UNWANTED_PARTS):
                del owner.rels[r_id]
    for rel in package.rels.values():
        if rel.reltype.endswith("/extended-properties"):
            rel.target_part._blob = APP_XML.encode("utf-8")
