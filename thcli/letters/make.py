"""Making letters: one for a case (``letter make``), or a batch (``letter batch``), written and recorded.

A letter is written as ``REF-KIND-DATE.docx`` (mode 0600, through a temporary
file and a link, never over a file: a second letter of the same name is
``REF-KIND-DATE-2.docx``; a name made from a stored reference that would
leave the folder is refused), and recorded in the ``letters`` table, on the
case timeline and in the audit log with the file's SHA-256, which is always
the hash of the file at the recorded path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from thcli import audit, case_files, clock, dates, parse, screening, workflow
from thcli.cases import case_row, event
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.files import inside, printable, private_folder, publish_new, sync_folder
from thcli.letters.context import build_context
from thcli.letters.data import (
    CaseData,
    Scheme,
    dnd,
    load_case,
    ordered_by_contractor,
    recipients_for,
    require_recipient,
)
from thcli.letters.kinds import RECIPIENTS, Kind, LetterRefused, Recipient, kind_spec
from thcli.letters.safety import check_safety, check_written
from thcli.letters.templates import template_for


@dataclass
class Made:
    """A letter written to disk and recorded."""

    ref: str
    kind: str
    recipient: str
    recipient_name: str
    path: Path
    sha256: str
    override_reason: str | None = None
    notes: list[str] = field(default_factory=list)


def file_name(spec: Kind, data: CaseData, recipient: Recipient, on: dt.date) -> str:
    """``REF-KIND-DATE.docx``, naming the recipient when the kind's first choice is not the one."""
    extra = ""
    if spec.name == "works-order":
        if len(ordered_by_contractor(data)) > 1 and recipient.contractor:
            extra = f"-{recipient.contractor.replace('_', '-')}"
    elif recipient.kind != spec.recipients[0]:
        extra = f"-{recipient.kind}"
    return f"{data.ref}-{spec.name}{extra}-{on.isoformat()}.docx"


def default_out_dir(db_path: Path) -> Path:
    """Where letters go by default: the database's own letters folder, beside it (case_files.letters_folder)."""
    return case_files.letters_folder(db_path)


def prepare_out_dir(out_dir: Path) -> Path:
    """The folder letters go into, created owner-only if new."""
    return private_folder(out_dir, option="--out")


def _make(db: Database, spec: Kind, data: CaseData, recipient: Recipient, *, by: str, out_dir: Path,
          on: dt.date, scheme: Scheme, override_reason: str | None,
          cache: dict, sync: bool = True) -> Made:
    """Build, check, render, write and record one letter (inside the caller's write transaction)."""
    ctx = build_context(spec, data, recipient, scheme, on=on, by=by)
    template = template_for(db, spec, cache)
    screen = screening.Screen(data.perpetrator_names, scheme.screened_words)
    overridden = check_safety(spec, data, recipient, ctx, override_reason=override_reason, screen=screen)
    title = f"{spec.title}: {data.ref}"
    document, text = template.render_with_text(ctx, {
        "title": title, "subject": ctx["subject"], "author": scheme.name, "last_modified_by": by,
        "comments": f"Made by thcli from the scheme's {spec.name} template on {dates.format_long_date(on)}.",
    })
    check_written(spec, data, recipient, text, screen, ctx)
    digest = hashlib.sha256(document).hexdigest()
    # The name comes from stored data: it must stay inside the folder, and never replace a letter made before.
    folder = prepare_out_dir(out_dir)
    try:
        path = inside(folder, file_name(spec, data, recipient, on))
    except NotAllowed:
        raise NotAllowed(f"{data.ref!r} is not a case reference thcli makes (PREFIX-YYYY-NNNN), and as a file name "
                         f"it would leave {printable(folder)}: nothing was written. Check where this database "
                         f"came from") from None
    path = publish_new(path, document, sync=sync, option="--out")
    try:
        _record(db, spec, data, recipient, path, digest, by=by, override=override_reason if overridden else None,
                overridden=overridden)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    notes = []
    if recipient.kind == "survivor" and dnd(data):
        notes.append("the client's address is do-not-disclose, so it is not printed on the letter: address the "
                     "envelope by hand")
    if override_reason is not None and not overridden:
        notes.append("--override-safety was not needed for this letter, so none was recorded")
    return Made(data.ref, spec.name, recipient.kind, ctx["recipient_name"], path, digest,
                override_reason if overridden else None, notes)


def _record(db: Database, spec: Kind, data: CaseData, recipient: Recipient, path: Path, digest: str, *, by: str,
            override: str | None, overridden: list[str]) -> None:
    case = data.case
    who = recipient.kind + (f" ({recipient.contractor})" if recipient.contractor else "")
    # Relative to the database's letters folder, with the database that wrote it: retention
    # on a copy of the database then never deletes the original's letters (case_files.py).
    here = case_files.database_file(db)
    db.conn.execute(
        "INSERT INTO letters (case_id, kind, recipient, path, sha256, made_at, made_by, override_reason, made_in) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [case["id"], spec.name, recipient.kind, case_files.stored_path(here, path), digest, clock.now_iso(), by,
         override, str(here) if here else None])
    detail = f"{spec.name} letter to {RECIPIENTS[recipient.kind]} made: {path.name}"
    if override:
        detail += f" (safety rule \"{', '.join(overridden)}\" overridden: {override})"
    event(db, case["id"], "letter", detail, by=by)
    audit.record(db, by=by, action="letter.make", ref=case["ref"],
                 detail=f"{spec.name} to {who}; sha256 {digest}")
    if override:
        audit.record(db, by=by, action="letter.override", ref=case["ref"],
                     detail=f"{spec.name}: safety rule {', '.join(overridden)} overridden (reason on the timeline)")


def make_letter(db: Database, ref: str, kind: str, *, by: str, out_dir: Path, to: str | None = None,
                override_reason: str | None = None, on: dt.date | None = None) -> list[Made]:
    """``letter make``: one letter (or one per contractor for a works order) for a case.

    Refuses with LetterRefused (a safety rule) or NotAllowed (something the
    letter needs is missing), naming how to put it right.
    """
    spec = kind_spec(kind)
    if override_reason is not None:
        try:
            override_reason = parse.text(override_reason, max_len=500)
        except BadInput as error:
            raise error.for_option("--override-safety") from None
    to = to.strip().lower() if to else None
    on = on or clock.today()
    scheme = Scheme.load(db)
    cache: dict = {}
    with write(db):
        data = load_case(db, ref)
        chosen = recipients_for(spec, data, to)
        if len(chosen) > 1:
            names = ", ".join(r.contractor or "" for r in chosen)
            raise BadInput(f"{data.ref} has measures ordered from more than one contractor ({names}): make one "
                           f"works order at a time with --to CODE", "--to")
        made = [_make(db, spec, data, chosen[0], by=by, out_dir=out_dir, on=on, scheme=scheme,
                      override_reason=override_reason, cache=cache)]
    sync_folder(made[0].path.parent)
    return made


@dataclass
class BatchResult:
    kind: str
    status: str
    made: list[Made]
    refused: list[dict]
    already_made: int
    candidates: int
    #: the statuses whose cases were taken (``open`` takes only those the kind is made for)
    statuses: list[str] = field(default_factory=list)


#: What a case must have for a batch to take it (the rest have nothing for this letter to say).
_LINES = "EXISTS (SELECT 1 FROM measure_lines m WHERE m.case_id = c.id AND {})"


BATCH_FILTERS = {
    "landlord-permission": _LINES.format("m.status IN ('recommended', 'approved')"),
    "works-order": _LINES.format("m.status = 'ordered' AND m.contractor IS NOT NULL"),
    "completion": _LINES.format("m.status = 'fitted'"),
    "follow-up": _LINES.format("m.status = 'fitted'"),
    "bedroom-tax-evidence": _LINES.format("m.status = 'fitted'") + (
        " AND c.tenure IN (SELECT code FROM codes WHERE list = 'tenure' AND coalesce(county_code, code) IN "
        "('council', 'housing_association'))"),
    "equipment-removal": _LINES.format("m.status = 'fitted' AND m.removable = 1"),
}


#: How many letters a batch writes per transaction (the files themselves are each written atomically).
BATCH_CHUNK = 100


def batch(db: Database, kind: str, *, by: str, out_dir: Path, status: str | None = None, limit: int | None = None,
          to: str | None = None, again: bool = False, on: dt.date | None = None,
          progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """``letter batch``: the letter for every case of a status, oldest referral first.

    Only cases the letter has something to say about are taken (a completion
    letter needs fitted measures, ...); those that already have a letter of
    this kind are left out unless ``again``. A letter a rule refuses is listed with its reason, never
    silently skipped; no safety rule is overridden in a batch. ``status`` open takes the open cases at a
    point the letter is made for (Kind.statuses); a status it is not made for is taken, and each of its
    cases listed as refused with the reason. ``limit`` caps
    the letters made. ``progress(made, total)`` is called as letters are made.
    """
    spec = kind_spec(kind)
    status = status or spec.batch_status
    if status != "open" and status not in workflow.STATUSES:
        raise BadInput(f"{status!r} is not a status: use open or one of {', '.join(workflow.STATUSES)}", "--status")
    to = to.strip().lower() if to else None
    require_recipient(db, spec, to)
    on = on or clock.today()
    out_dir = prepare_out_dir(out_dir)
    scheme = Scheme.load(db)
    statuses = [s for s in workflow.OPEN if s in spec.statuses] if status == "open" else [status]
    marks = ",".join("?" * len(statuses))
    relevant = BATCH_FILTERS.get(spec.name, "1")
    rows = db.conn.execute(
        f"""SELECT c.ref, EXISTS (SELECT 1 FROM letters l WHERE l.case_id = c.id AND l.kind = ?)
            FROM cases c WHERE c.status IN ({marks}) AND {relevant} ORDER BY c.received_on, c.id""",
        [spec.name, *statuses]).fetchall()
    refs = [ref for ref, done in rows if again or not done]
    already = len(rows) - len(refs)
    total = min(len(refs), limit) if limit else len(refs)
    made: list[Made] = []
    refused: list[dict] = []
    cache: dict = {}
    if progress:
        progress(0, total)
    position = 0
    stopped = False
    while position < len(refs) and not stopped:
        chunk = refs[position:position + BATCH_CHUNK]
        position += len(chunk)
        written: list[Path] = []
        try:
            with write(db):
                for ref in chunk:
                    if limit and len(made) >= limit:
                        stopped = True
                        break
                    try:
                        data = load_case(db, ref)
                        chosen = recipients_for(spec, data, to)
                        if limit and made and len(made) + len(chosen) > limit:
                            stopped = True  # this case's letters (one per contractor) would go past the limit
                            break
                        letters = [_make(db, spec, data, recipient, by=by, out_dir=out_dir, on=on, scheme=scheme,
                                         override_reason=None, cache=cache, sync=True) for recipient in chosen]
                    except LetterRefused as error:
                        refused.append({"ref": ref, "rule": error.rule, "reason": error.why})
                    except (NotAllowed, NotFound) as error:
                        refused.append({"ref": ref, "rule": None, "reason": _without_ref(error.message, ref)})
                    except BadInput as error:
                        refused.append({"ref": ref, "rule": None, "reason": _without_ref(error.message, ref)})
                    else:
                        written += [letter.path for letter in letters]
                        made += letters
                        if progress:
                            progress(len(made), total)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
    sync_folder(out_dir)
    return BatchResult(spec.name, status, made, refused, already, len(refs), statuses)


def _without_ref(message: str, ref: str) -> str:
    """A message without the reference it starts with (the batch listing shows it already)."""
    for start in (f"{ref}: ", f"{ref} "):
        if message.startswith(start):
            return message[len(start):]
    return message


def make_for_case(db: Database, spec: Kind, ref: str, *, by: str, out_dir: Path, on: dt.date, scheme: Scheme,
                   to: str | None, cache: dict, sync: bool) -> list[Made]:
    """Every letter of a kind a case needs (one per contractor for a works order), in the caller's transaction."""
    data = load_case(db, ref)
    return [_make(db, spec, data, recipient, by=by, out_dir=out_dir, on=on, scheme=scheme, override_reason=None,
                  cache=cache, sync=sync)
            for recipient in recipients_for(spec, data, to)]


def case_letters(db: Database, ref: str) -> list[dict]:
    """The letters made for a case, oldest first."""

    case = case_row(db, ref)
    return [
        {"kind": row[0], "recipient": row[1], "file": Path(row[2]).name if row[2] else None, "sha256": row[3],
         "made_at": row[4], "made_by": row[5], "override": row[6] is not None}
        for row in db.conn.execute(
            "SELECT kind, recipient, path, sha256, made_at, made_by, override_reason FROM letters "
            "WHERE case_id = ? ORDER BY id", [case["id"]])
    ]
