"""The templates a letter is made from: thcli's own (``thcli/templates/``), or the scheme's own, kept in the
``letter_templates`` table after a check (``letter templates use``)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from importlib import resources
from pathlib import Path

from thcli import audit, clock, screening
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed
from thcli.files import is_docx, may_replace, os_problem, printable, write_atomically
from thcli.letters.context import sample_contexts
from thcli.letters.data import Scheme
from thcli.letters.kinds import KINDS, RECIPIENTS, Kind, kind_spec, with_article
from thcli.letters.render import CompiledTemplate, compiled


def default_template(kind: str) -> bytes:
    """The default .docx of a kind, shipped in thcli/templates/."""
    return resources.files("thcli.templates").joinpath(f"{kind_spec(kind).name}.docx").read_bytes()


def template_in_use(db: Database, kind: str) -> tuple[str, bytes, str]:
    """(``default`` or ``custom``, the .docx bytes, their SHA-256) for a kind."""
    spec = kind_spec(kind)
    row = db.conn.execute("SELECT content, sha256 FROM letter_templates WHERE kind = ?", [spec.name]).fetchone()
    if row:
        return "custom", bytes(row[0]), row[1]
    content = default_template(spec.name)
    return "default", content, hashlib.sha256(content).hexdigest()


def template_for(db: Database, spec: Kind, cache: dict[str, CompiledTemplate]) -> CompiledTemplate:
    """The compiled template of a kind (checked by templating.check as it compiles, whoever stored it)."""
    if spec.name not in cache:
        source, content, sha = template_in_use(db, spec.name)
        try:
            template = compiled(content, sha)
        except NotAllowed as error:
            raise NotAllowed(f"the scheme's {spec.name} template cannot be used: {error.message}. Go back to "
                             f"thcli's own with `thcli letter templates reset {spec.name}`") from None
        unknown = sorted(template.variables - set(spec.all_fields))
        if unknown:
            raise NotAllowed(f"the scheme's {spec.name} template uses {', '.join(unknown)}, which "
                             f"{with_article(spec.name)} letter does not have. Go back to thcli's own with "
                             f"`thcli letter templates reset {spec.name}`")
        cache[spec.name] = template
    return cache[spec.name]


def template_rows(db: Database) -> list[dict]:
    """``letter templates list``: each kind, who it goes to, and whether the scheme's own template is used."""
    custom = {row[0]: row for row in db.conn.execute(
        "SELECT kind, filename, sha256, set_at, set_by FROM letter_templates")}
    rows = []
    for spec in KINDS.values():
        row = custom.get(spec.name)
        rows.append({
            "kind": spec.name, "title": spec.title, "recipients": list(spec.recipients),
            "template": "custom" if row else "default",
            "filename": row[1] if row else f"{spec.name}.docx",
            "sha256": row[2] if row else hashlib.sha256(default_template(spec.name)).hexdigest(),
            "set_at": row[3] if row else None, "set_by": row[4] if row else None,
        })
    return rows


def export_template(db: Database, kind: str, dest: Path, *, force: bool = False) -> dict:
    """``letter templates export``: the template in use, as a .docx to edit in Word (mode 0600)."""
    spec = kind_spec(kind)
    source, content, _ = template_in_use(db, spec.name)
    dest = Path(dest).expanduser()
    try:  # a name too long for the disk raises here, not only when writing
        if dest.is_dir():
            dest = dest / f"{spec.name}.docx"
        folder_exists = dest.parent.is_dir()
    except OSError as error:
        raise os_problem(error, dest, option="FILE") from None
    if dest.suffix.lower() != ".docx":
        raise BadInput(f"{dest.name}: give a file name ending in .docx, so that Word opens it")
    if not folder_exists:
        raise BadInput(f"{printable(dest.parent)} is not a folder")
    # Only an earlier Word file is replaced, and only with --force; never the database (files.may_replace).
    replacing = may_replace(dest, what="Word document", is_earlier=is_docx, force=force,
                            database=getattr(db, "path", None), option="FILE")
    write_atomically(dest, content, replace=replacing, option="FILE")
    return {"kind": spec.name, "template": source, "path": str(dest), "fields": list(spec.all_fields)}


def use_template(db: Database, kind: str, path: Path, *, by: str) -> dict:
    """``letter templates use``: check a scheme's own template and store it in the database.

    Refused when the file is not a .docx (BadInput); when an expression could
    reach outside the template (templating.check: internal attributes, calls,
    filters not offered...), when a merge field is unknown to this kind of
    letter, when a tag cannot be read or filled in, or when a landlord or
    contractor template gives an account of the abuse, in its own wording or
    in what it writes (NotAllowed, naming the expression or the word). A
    test letter of every recipient is rendered in the sandbox first, so a
    mistake shows now rather than in a coordinator's batch.
    """
    spec = kind_spec(kind)
    path = Path(path).expanduser()
    try:
        if not path.is_file():
            raise BadInput(f"{path}: there is no such file")
        content = path.read_bytes()
    except OSError as error:
        raise os_problem(error, path, option="FILE", doing="read") from None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            is_word = "word/document.xml" in package.namelist()
    except zipfile.BadZipFile:
        is_word = False
    if not is_word:
        raise BadInput(f"{path.name} is not a Word .docx file: save it from Word as a Word Document (.docx)")
    try:
        template = CompiledTemplate(content)
    except NotAllowed as error:  # a refused expression, an unreadable tag, text in footnotes...
        raise NotAllowed(f"{path.name}: {error.message}") from None
    unknown = sorted(template.variables - set(spec.all_fields))
    if unknown:
        raise NotAllowed(
            f"{path.name} uses {'merge fields' if len(unknown) > 1 else 'a merge field'} that "
            f"{with_article(spec.name)} letter does not have: {', '.join(unknown)} "
            f"({'they' if len(unknown) > 1 else 'it'} would print blank). The fields of "
            f"{with_article(spec.name)} letter are: {', '.join(spec.all_fields)}")
    scheme = Scheme.load(db)
    # The vocabulary and the scheme's own words, as `letter make` screens (there is no case, so no names).
    screen = screening.Screen((), scheme.screened_words)
    if all(r in ("landlord", "contractor") for r in spec.recipients):
        found = screen.search(template.static_text)
        if found:
            raise NotAllowed(f"{path.name} says {found.group(0)!r}: {with_article(spec.name)} letter gives no account "
                             f"of the abuse. Reword the template and try again")
    for ctx in sample_contexts(spec, scheme):
        to = RECIPIENTS[ctx["recipient"]]
        try:
            _, text = template.render_with_text(ctx, {"title": "", "subject": "", "author": "", "last_modified_by": "",
                                                      "comments": ""})
        except NotAllowed as error:
            raise NotAllowed(f"{path.name}: a test {spec.name} letter to {to} failed: {error.message}") from None
        found = screen.search(text) if ctx["recipient"] in ("landlord", "contractor") else None
        if found:
            raise NotAllowed(f"{path.name}: a test {spec.name} letter to {to} says {found.group(0)!r}: "
                             f"{with_article(spec.name)} letter gives no account of the abuse. Reword the template "
                             f"and try again")
    digest = hashlib.sha256(content).hexdigest()
    with write(db):
        db.conn.execute(
            "INSERT INTO letter_templates (kind, filename, content, sha256, set_at, set_by) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (kind) DO UPDATE SET filename = excluded.filename, content = excluded.content, "
            "sha256 = excluded.sha256, set_at = excluded.set_at, set_by = excluded.set_by",
            [spec.name, path.name, content, digest, clock.now_iso(), by])
        audit.record(db, by=by, action="letter.template.use", detail=f"{spec.name}; sha256 {digest}")
    return {"kind": spec.name, "filename": path.name, "sha256": digest, "fields": sorted(template.variables)}


def reset_template(db: Database, kind: str, *, by: str) -> None:
    """``letter templates reset``: go back to thcli's default template for a kind."""
    spec = kind_spec(kind)
    with write(db):
        gone = db.conn.execute("DELETE FROM letter_templates WHERE kind = ?", [spec.name]).rowcount
        if not gone:
            raise NotAllowed(f"the {spec.name} letter already uses thcli's default template")
        audit.record(db, by=by, action="letter.template.reset", detail=spec.name)
