"""Build thcli's default letter templates (the .docx files beside this script).

The templates are ordinary Word documents with docxtpl (Jinja) merge fields:
``{{ client_name }}``, ``{%p if to_survivor %}`` ... ``{%p endif %}`` around
whole paragraphs, and ``{%tr for line in lines %}`` ... ``{%tr endfor %}`` around
table rows. The fields each kind may use are listed in thcli/letters.py
(``KINDS`` and ``COMMON_FIELDS``); ``thcli letter templates use`` rejects any
other.

Change the wording here and run, from the repository root::

    python -m thcli.templates.build_templates

then check every letter in LibreOffice (see the README) and commit the .docx
files. A test checks that the committed files are what this script makes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
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
        self._runs(p, "**{{ scheme_name }}**", size=Pt(16), color=ACCENT)
        p.paragraph_format.space_after = Pt(2)
        p = right.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._runs(p, "{{ scheme_address }}", size=Pt(8.5))
        p.paragraph_format.space_after = Pt(0)
        for text in ("{%p if scheme_phone %}", "Telephone {{ scheme_phone }}", "{%p endif %}",
                     "{%p if scheme_email %}", "{{ scheme_email }}", "{%p endif %}"):
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
            for cell in r.cells:
                cell.paragraphs[0].paragraph_format.space_after = Pt(1)
        _widths(table, widths)
        _cell_margins(table)
        self.para("", after=4)

    def signoff(self) -> None:
        self.para("Yours sincerely,", before=4, after=26, keep=True)
        self.para("**{{ coordinator }}**", after=0, keep=True)
        self.para("Sanctuary scheme coordinator, {{ scheme_name }}", after=0)

    def save(self) -> Path:
        _drop_unwanted_parts(self.doc)
        path = HERE / f"{self.kind}.docx"
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


# --- the letters ----------------------------------------------------------------


def acknowledgement() -> Letter:
    w = Letter("acknowledgement", "Acknowledgement of a referral")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("Thank you for contacting the {{ scheme_name }}. We received your request for help on "
           "{{ received_on }}. Your reference is **{{ ref }}**; please quote it whenever you contact us.")
    w.if_("contacted")
    w.para("Thank you for talking to us. With your agreement we are arranging a home security survey, which we "
           "aim to complete by {{ survey_by }}. The surveyor recommends the measures that would make your home "
           "safer, and we arrange for them to be fitted.")
    w.else_()
    w.para("We will contact you by {{ first_contact_by }}, using only the ways you told us are safe. With "
           "your agreement we will then arrange a home security survey, which we aim to complete by "
           "{{ survey_by }}. The surveyor recommends the measures that would make your home safer, and we "
           "arrange for them to be fitted.")
    w.endif()
    w.para("If it is no longer safe for us to contact you in the way we agreed, or there is a better time "
           "to reach you, please {{ contact_us }}.")
    w.else_()
    w.para("Thank you for your referral of {{ client_name }} to the {{ scheme_name }}, which we received on "
           "{{ received_on }}. Our reference is **{{ ref }}**; please quote it whenever you contact us about "
           "this referral.")
    w.if_("contacted")
    w.para("**What happens next.** We have been in touch with {{ client_name }}{% if first_contact_on %} "
           "(first on {{ first_contact_on }}){% endif %}. With their consent we are arranging a home security "
           "survey, which we aim to complete by {{ survey_by }}. The surveyor recommends the measures that "
           "would make the home safer, and we arrange for them to be fitted.")
    w.else_()
    w.para("**What happens next.** We will contact {{ client_name }} by {{ first_contact_by }}, using only "
           "the contact routes recorded as safe. With their consent we will ask for a home security survey, "
           "which we aim to complete by {{ survey_by }}. The surveyor recommends the measures that would make "
           "the home safer, and we arrange for them to be fitted.")
    w.endif()
    w.para("If the situation changes, or there is a safer way or time to reach {{ client_name }}, please let "
           "us know straight away: {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def decline() -> Letter:
    w = Letter("decline", "Referral not accepted")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("Thank you for contacting the {{ scheme_name }} on {{ received_on }} (your reference "
           "{{ ref }}). I am sorry to tell you that we are not able to help on this occasion.")
    w.else_()
    w.para("Thank you for referring {{ client_name }} to the {{ scheme_name }} on {{ received_on }} (our "
           "reference {{ ref }}). I am sorry to tell you that we are not able to help on this occasion.")
    w.endif()
    w.details([("Reason", "{{ decline_reason }}"), ("Decided on", "{{ declined_on }}")])
    w.if_("to_survivor")
    w.para("If your circumstances change, you are welcome to contact us again. If you would like to talk "
           "about this decision, or about other help that may be available to you, please {{ contact_us }}.")
    w.else_()
    w.para("If the circumstances change, you are welcome to refer {{ client_name }} again. If you would like "
           "to talk about this decision, or about other help that may be available, please {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def survey_request() -> Letter:
    w = Letter("survey-request", "Request for a home security survey")
    w.letterhead()
    w.addresses([("Survey by", "{{ survey_by }}")])
    w.opening()
    w.para("Please carry out a home security survey at the home below. The client has consented to our "
           "sharing these details with the police for this purpose. We aim to have the survey done by "
           "**{{ survey_by }}**.")
    w.if_("do_not_disclose")
    w.para("**This address must not be disclosed.** Do not write it on any other document, and do not share "
           "it with anyone outside your survey team.", color=RGBColor(0xA5, 0x00, 0x21))
    w.endif()
    w.details([
        ("Client", "{{ client_name }}"),
        ("Address", "{{ home_address }}"),
        ("Risk level", "{{ risk_level }}"),
        ("Household", "{{ household }}"),
        ("Tenure", "{{ tenure }}"),
        ("Visit needs", "{{ visit_needs }}"),
        ("Arranging access", "{{ access }}"),
    ])
    w.para("Please arrange the visit only through the contact route above, and leave no cards or messages at "
           "the property. Send your report and recommended measures to us, quoting {{ ref }}: "
           "{{ contact_us }}.")
    w.signoff()
    return w


def landlord_permission() -> Letter:
    w = Letter("landlord-permission", "Request for the landlord's permission")
    w.letterhead()
    w.addresses([("Reply by", "{{ reply_by }}")])
    w.opening()
    w.para("The {{ scheme_name }} helps residents to feel safer in their homes by improving home security. "
           "Your tenant, {{ client_name }}, has asked for our help, and a security survey has recommended the "
           "work below.")
    w.if_("property")
    w.details([("Property", "{{ property }}")])
    w.else_()
    w.para("For your tenant's privacy we do not give the address of the property in writing; please call us "
           "if you need to confirm it.")
    w.endif()
    w.items(["Measure", "Quantity", "Where"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.location }}"],
            [Cm(9), Cm(2.4), Cm(5.6)], loop="m in measures", right=(1,))
    w.para("We ask for your permission for this work. We arrange it through our contractor at no cost to "
           "you, and any fixings are made good. Equipment that can be removed remains the property of the "
           "scheme.")
    w.para("Please reply by **{{ reply_by }}**, quoting {{ ref }}: {{ contact_us }}. Please do not discuss "
           "this request with anyone other than your tenant.")
    w.signoff()
    return w


def works_order() -> Letter:
    w = Letter("works-order", "Works order")
    w.letterhead()
    w.addresses([("Order date", "{{ order_date }}"), ("Complete by", "{{ complete_by }}")])
    w.opening()
    w.para("Please carry out the work below for the {{ scheme_name }}. **{{ priority }}**")
    w.if_("do_not_disclose")
    w.para("**This address must not be disclosed.** Write it only on your job sheet for this order, and do "
           "not share it with anyone.", color=RGBColor(0xA5, 0x00, 0x21))
    w.endif()
    w.details([
        ("Resident", "{{ client_name }}"),
        ("Address", "{{ home_address }}"),
        ("Arranging access", "{{ access }}"),
    ])
    w.items(["Line", "Measure", "Qty", "Where", "Unit cost", "Cost"],
            ["{{ line.number }}", "{{ line.label }}", "{{ line.quantity }}", "{{ line.location }}",
             "{{ line.unit_cost }}", "{{ line.cost }}"],
            [Cm(1.1), Cm(6.2), Cm(1.1), Cm(4.2), Cm(2.2), Cm(2.2)], loop="line in lines",
            total=("Order total", "{{ total }}"), right=(0, 2, 4, 5))
    w.para("**Conditions.** Arrange access only through the contact route above; do not leave cards, notes "
           "or messages at the property. Hand every new key to the resident in person and keep no copies. "
           "Do not discuss the work with anyone else at or near the property. Invoice the {{ scheme_name }} "
           "quoting {{ ref }} and the line numbers above.", size=Pt(9.5))
    w.signoff()
    return w


def completion() -> Letter:
    w = Letter("completion", "Measures fitted")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("I am pleased to confirm that the security measures at your home were completed on "
           "{{ fitted_on }}:")
    w.else_()
    w.para("I am pleased to confirm that the security measures for {{ client_name }} (our reference "
           "{{ ref }}) were completed on {{ fitted_on }}:")
    w.endif()
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.if_("to_survivor")
    w.if_("followups")
    w.para("We will contact you {{ followups }}, using only the ways you told us are safe, to check that "
           "everything works and that you feel safer at home.")
    w.endif()
    w.para("If any equipment stops working, or your situation changes, please {{ contact_us }}.")
    w.else_()
    w.if_("followups")
    w.para("We will follow up with {{ client_name }} {{ followups }} to check that everything works and that "
           "they feel safer at home.")
    w.endif()
    w.para("If any equipment stops working, or the situation changes, please {{ contact_us }}.")
    w.endif()
    w.signoff()
    return w


def follow_up() -> Letter:
    w = Letter("follow-up", "Follow-up after fitting")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("It is now {{ months_since }} since the security measures at your home were fitted, on "
           "{{ fitted_on }}. We would like to check that everything is still working and that you feel safer "
           "at home.")
    w.else_()
    w.para("It is now {{ months_since }} since the security measures for {{ client_name }} (our reference "
           "{{ ref }}) were fitted, on {{ fitted_on }}. We would be grateful to hear whether everything is "
           "still working, and whether {{ client_name }} feels safer at home.")
    w.endif()
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.if_("to_survivor")
    w.para("Please {{ contact_us }} to tell us how things are, or if anything needs repairing or replacing. "
           "If you have moved, or plan to move, please let us know too, so that we can collect any equipment "
           "lent to you.")
    w.else_()
    w.para("Please {{ contact_us }} if there are any concerns, if anything needs repairing or replacing, or "
           "if {{ client_name }} has moved or plans to move.")
    w.endif()
    w.signoff()
    return w


def bedroom_tax_evidence() -> Letter:
    w = Letter("bedroom-tax-evidence", "Evidence of sanctuary scheme measures")
    w.letterhead()
    w.addresses()
    w.opening()
    w.para("This letter confirms that the home of {{ client_name }}{{ home_address_phrase }} is protected by "
           "the {{ scheme_name }}, a sanctuary scheme for people at risk of domestic abuse. The home is a "
           "social tenancy ({{ tenure }}), and these security measures were fitted under the scheme:")
    w.items(["Measure", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in fitted", right=(1,))
    w.para("Since October 2021, social tenants whose home has sanctuary scheme measures fitted are exempt "
           "from the reduction for under-occupancy (the \u201cbedroom tax\u201d) in Housing Benefit and the "
           "housing element of Universal Credit.")
    w.para("Please give a copy of this letter to your Housing Benefit office, or add it to your Universal "
           "Credit journal, as evidence. If they need to confirm it, they can contact us quoting {{ ref }}: "
           "{{ contact_us }}.")
    w.signoff()
    return w


def equipment_removal() -> Letter:
    w = Letter("equipment-removal", "Collection of lent equipment")
    w.letterhead()
    w.addresses()
    w.opening()
    w.if_("to_survivor")
    w.para("Some of the security equipment fitted at your home under the {{ scheme_name }} was lent to you "
           "and remains the property of the scheme. We would now like to arrange to collect it:")
    w.else_()
    w.para("Some of the security equipment fitted for {{ client_name }} (our reference {{ ref }}) was lent "
           "and remains the property of the scheme. We would now like to arrange to collect it:")
    w.endif()
    w.items(["Equipment", "Quantity", "Fitted"], ["{{ m.label }}", "{{ m.quantity }}", "{{ m.fitted_on }}"],
            [Cm(10), Cm(2.4), Cm(4.6)], loop="m in equipment", right=(1,))
    w.if_("to_survivor")
    w.para("We will contact you to agree a safe time, using only the ways you told us are safe. If you still "
           "need any of this equipment, please {{ contact_us }} before we collect it: we can leave it with "
           "you.")
    w.else_()
    w.para("Could you help us agree a safe time with {{ client_name }}? If they still need any of this "
           "equipment, please {{ contact_us }}: we can leave it with them.")
    w.endif()
    w.signoff()
    return w


LETTERS = [acknowledgement, decline, survey_request, landlord_permission, works_order, completion, follow_up,
           bedroom_tax_evidence, equipment_removal]


def build_all() -> list[Path]:
    """Write every default template; returns their paths."""
    return [make().save() for make in LETTERS]


if __name__ == "__main__":
    for written in build_all():
        sys.stdout.write(f"wrote {written.name}\n")
