"""Rendering a .docx template: compiled once (docxtpl's clean-up of Word's split runs, then Jinja in
templating.py's sandbox after its check) and kept in memory, so that ``letter batch`` makes 500 letters
in a few seconds. python-docx, docxtpl and Jinja are imported only when a template is compiled."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from html import escape as _html_escape
from typing import Any

from thcli import clock, templating
from thcli.errors import BadInput, NotAllowed

_MARK = "THCLI-BODY-GOES-HERE"


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped for XML text (as xml.sax.saxutils.escape, whose import pulls in urllib,
    http.client and ssl: 30 ms on every command that reads a case)."""
    return _html_escape(text, quote=False)


class CompiledTemplate:
    """A .docx template compiled once: docxtpl's clean-up of Word's XML, then Jinja.

    Rendering a letter renders the compiled Jinja templates of the body,
    headers and footers, lets docxtpl resolve line breaks and tables, and
    writes the package again from the parts kept in memory, with new document
    properties. Nothing is read from disk per letter.
    """

    def __init__(self, content: bytes):
        import jinja2
        from docxtpl import DocxTemplate
        from lxml import etree

        self._etree = etree
        try:
            tpl = DocxTemplate(io.BytesIO(content))
            tpl.render_init()
        except Exception as error:  # python-docx says why in its own words
            raise BadInput(f"this is not a Word .docx file that thcli can read ({error})") from None
        self._tpl = tpl
        env = templating.environment()  # the sandbox: see templating.py
        self.sources: dict[str, str] = {}
        doc = tpl.docx
        body_name = doc.part.partname.lstrip("/")
        self.sources[body_name] = tpl.patch_xml(tpl.get_xml())
        root = etree.fromstring(etree.tostring(doc.element))
        body = root.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}body")
        for child in list(body):
            body.remove(child)
        body.text = _MARK
        shell = etree.tostring(root, encoding="unicode")
        start = shell.index(_MARK)
        open_tag = shell.rfind("<", 0, start)
        end = shell.index(">", start) + 1
        self._shell = (shell[:open_tag], shell[end:])
        self._body_name = body_name
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                name = part.partname.lstrip("/")
                self.sources[name] = tpl.patch_xml(tpl.get_part_xml(part))
        _refuse_unchecked_text(content, set(self.sources) | {"docProps/core.xml"})
        try:
            split = {name: re.sub(r"<w:p([ >])", r"\n<w:p\1", src) for name, src in self.sources.items()}
            for src in split.values():  # before anything is compiled, let alone run
                templating.check(src, env)
            self._compiled = {name: env.from_string(src) for name, src in split.items()}
        except jinja2.TemplateSyntaxError as error:
            raise NotAllowed(f"the template has a merge field that cannot be read: {error.message} "
                             f"(near \"{_near(error)}\")") from None
        from docx.opc.constants import RELATIONSHIP_TYPE

        doc.core_properties  # noqa: B018  (makes sure the package has a core properties part)
        core_name = doc.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES).partname.lstrip("/")
        buffer = io.BytesIO()
        doc.save(buffer)
        with zipfile.ZipFile(buffer) as package:
            self._entries = [(info.filename, package.read(info.filename)) for info in package.infolist()]
        self._core_name = core_name
        # docxtpl's table fix-up is needed only where a {%tc %} loop changes a table's columns.
        self._column_loops = "{%tc" in self.sources[body_name]
        self.variables = self._variables(env)
        self.static_text = _static_text(self.sources.values())

    def _variables(self, env) -> set[str]:
        from jinja2 import meta

        names: set[str] = set()
        for src in self.sources.values():
            names |= meta.find_undeclared_variables(env.parse(src))
        return names

    def render(self, ctx: dict[str, Any], properties: dict[str, str]) -> bytes:
        """The finished .docx of a letter."""
        return self.render_with_text(ctx, properties)[0]

    def render_with_text(self, ctx: dict[str, Any], properties: dict[str, str]) -> tuple[bytes, str]:
        """The finished .docx of a letter, and its whole text (body, headers and footers) as a reader sees it."""
        import jinja2
        from jinja2.exceptions import SecurityError

        rendered: dict[str, bytes] = {}
        texts: list[str] = []
        try:
            for name, template in self._compiled.items():
                xml = self._finish(template.render(ctx))
                tree = self._etree.fromstring(xml.encode("utf-8"))  # proves the part is still well-formed XML
                if name == self._body_name:
                    if self._column_loops:
                        tree = self._tpl.fix_tables(xml)
                    body = self._etree.tostring(tree, encoding="unicode")
                    xml = self._shell[0] + body + self._shell[1]
                texts.append(_plain_text(tree))
                rendered[name] = _xml_declared(xml)
        except SecurityError as error:  # the sandbox said no (templating.check should have first)
            raise NotAllowed(f"the template tried something unsafe and was stopped: {error}") from None
        except jinja2.UndefinedError as error:
            raise NotAllowed(f"the template uses a merge field this letter does not have: {error.message}") from None
        except jinja2.TemplateError as error:
            raise NotAllowed(f"the template could not be filled in: {error}") from None
        except self._etree.XMLSyntaxError as error:
            raise NotAllowed(f"the template's merge tags break the document's structure ({error}); check that "
                             "each {%p ...%} and {%tr ...%} tag stands in its own paragraph or row") from None
        except (ValueError, TypeError, AssertionError, OverflowError, MemoryError, RecursionError) as error:
            # a filter given a value it cannot take ('x'|wordwrap(0), 'x'|truncate(-5)): the template's mistake
            raise NotAllowed(f"the template could not be filled in: a filter or an expression in the {_part(name)} "
                             f"was given a value it cannot use ({error or type(error).__name__})") from None
        rendered[self._core_name] = _core_xml(properties)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
            for name, data in self._entries:
                package.writestr(name, rendered.get(name, data))
        return out.getvalue(), "\n".join(texts)

    def _finish(self, xml: str) -> str:
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self._tpl.resolve_listing(xml)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: Parts of a Word file that a letter carries but no check reads, in Word's words, and how to empty them.
_UNCHECKED_PARTS = {
    "footnotes": ("footnotes", "delete each footnote (References > Show Notes)"),
    "endnotes": ("endnotes", "delete each endnote (References > Show Notes)"),
    "comments": ("comments", "delete them (Review > Delete > Delete All Comments in Document)"),
}
_TEXT_RUN = re.compile(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")


def _refuse_unchecked_text(content: bytes, checked: set[str]) -> None:
    """Refuse a template with text in a part other than the body, headers and footers (footnotes, endnotes,
    comments, Quick Parts...): it would reach every letter, and no screen or merge check reads it."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        for name in package.namelist():
            if name in checked or not name.endswith(".xml"):
                continue
            xml = package.read(name).decode("utf-8", "replace")
            if not any(text.strip() for text in _TEXT_RUN.findall(xml)):
                continue
            stem = name.rsplit("/", 1)[-1].removesuffix(".xml")
            what, fix = _UNCHECKED_PARTS.get(stem, (f"part {name}", "remove that text"))
            raise NotAllowed(f"the template has text in its {what}, which would go into every letter without "
                             f"being checked: in Word, {fix}, save, and try again")


def _plain_text(tree) -> str:
    """The text of a Word part as a reader sees it: one line per paragraph, runs joined."""
    lines = []
    for paragraph in tree.iter(_W + "p"):
        pieces = []
        for element in paragraph.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
            pieces.append((element.text or "") if element.tag == _W + "t" else
                          " " if element.tag == _W + "tab" else "\n")
        lines.append("".join(pieces))
    return "\n".join(lines)


def _part(name: str) -> str:
    """A part of a Word file in Word's words (``word/header1.xml``: a header)."""
    stem = name.rsplit("/", 1)[-1]
    return "header" if stem.startswith("header") else "footer" if stem.startswith("footer") else "body"


def _near(error) -> str:
    source = error.source or ""
    lines = source.splitlines()
    if error.lineno and 0 < error.lineno <= len(lines):
        return re.sub(r"<[^>]+>", "", lines[error.lineno - 1]).strip()[:80]
    return ""


def _static_text(sources: Iterable[str]) -> str:
    text = " ".join(re.sub(r"<[^>]+>", " ", src) for src in sources)
    return re.sub(r"\{[{%#].*?[}%#]\}", " ", text, flags=re.DOTALL)


def _xml_declared(xml: str) -> bytes:
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n" + xml).encode("utf-8")


def _core_xml(p: dict[str, str]) -> bytes:
    now = clock.now_iso()
    return _xml_declared(
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(p['title'])}</dc:title><dc:subject>{escape(p['subject'])}</dc:subject>"
        f"<dc:creator>{escape(p['author'])}</dc:creator><cp:keywords></cp:keywords>"
        f"<dc:description>{escape(p['comments'])}</dc:description>"
        f"<cp:lastModifiedBy>{escape(p['last_modified_by'])}</cp:lastModifiedBy><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "<cp:category>Letter</cp:category><dc:language>en-GB</dc:language>"
        "</cp:coreProperties>")


#: Compiled templates by their SHA-256, so a batch compiles each once.
_COMPILED: dict[str, CompiledTemplate] = {}


def compiled(content: bytes, sha256: str) -> CompiledTemplate:
    template = _COMPILED.get(sha256)
    if template is None:
        template = _COMPILED[sha256] = CompiledTemplate(content)
    return template
