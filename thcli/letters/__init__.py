"""Letters: Word documents from the scheme's templates, safe by default (DESIGN.md §6).

A letter is made from a template (a .docx with docxtpl merge fields: the
defaults ship in ``thcli/templates/``, a scheme may replace any of them with
its own, kept in the ``letter_templates`` table), for one case and one
recipient, and written as ``REF-KIND-DATE.docx`` (mode 0600, through a
temporary file and a link, never over a file: a second letter of the same
name is ``REF-KIND-DATE-2.docx``; a name made from a stored reference that
would leave the folder is refused). Each letter is recorded in the
``letters`` table, on the case timeline and in the audit log with the file's
SHA-256, which is always the hash of the file at the recorded path.

A kind is made only at the points of a case where what it says is true
(:attr:`Kind.statuses`: an acknowledgement before the survey, a completion
after the fitting...), and the dates it promises are the case's own due
dates (targets.case_targets), never on or before the letter's date.

Six safety rules refuse a letter, each with a message that names it (safe
post, previous address, do not disclose, no perpetrator detail, no account of
the abuse, consent to share): they are written out in safety.py. Only safe
post can be overridden (``--override-safety REASON``, audited).

Letters to professionals (referrer, surveyor, landlord, contractor) carry the
protective marking (setting ``protective_marking``); the document's own
properties (author, title, subject, comments, last modified by) are set by
thcli.

Rendering compiles each template once (docxtpl's own clean-up of Word's split
runs, then Jinja, in templating.py's sandbox after its check) and keeps it in
memory, so that ``letter batch`` makes 500 letters in a few seconds.
python-docx, docxtpl and Jinja are imported only when a template is compiled.

The package, by what each module owns: kinds.py (the kinds, recipients and
rule names), data.py (what a letter is made from), context.py (the merge
data), safety.py (the safety rules), render.py (the .docx), templates.py
(thcli's templates and the scheme's own) and make.py (writing, recording,
batches). A new kind of letter is a Kind in kinds.py, its fields in
context.build_context, and its template in thcli/templates/.
"""

from thcli.letters.context import build_context, require_current_home, require_status, sample_contexts
from thcli.letters.data import CaseData, Scheme, load_case, recipients_for, sample_case
from thcli.letters.kinds import (
    COMMON_FIELDS,
    CONSENT,
    DO_NOT_DISCLOSE,
    FORBIDDEN_WORDS,
    KINDS,
    NO_ACCOUNT,
    NO_PERPETRATOR,
    PREVIOUS_ADDRESS,
    PROFESSIONALS,
    RECIPIENTS,
    SAFE_POST,
    Kind,
    LetterRefused,
    Recipient,
    kind_spec,
    with_article,
)
from thcli.letters.make import (
    BatchResult,
    Made,
    batch,
    case_letters,
    default_out_dir,
    file_name,
    make_for_case,
    make_letter,
    prepare_out_dir,
)
from thcli.letters.render import CompiledTemplate, compiled
from thcli.letters.safety import check_safety, check_written, free_text
from thcli.letters.templates import (
    default_template,
    export_template,
    reset_template,
    template_in_use,
    template_rows,
    use_template,
)

__all__ = [
    "COMMON_FIELDS", "CONSENT", "DO_NOT_DISCLOSE", "FORBIDDEN_WORDS", "KINDS", "NO_ACCOUNT", "NO_PERPETRATOR",
    "PREVIOUS_ADDRESS", "PROFESSIONALS", "RECIPIENTS", "SAFE_POST", "BatchResult", "CaseData", "CompiledTemplate",
    "Kind", "LetterRefused", "Made", "Recipient", "Scheme", "batch", "build_context", "case_letters",
    "check_safety", "check_written", "compiled", "default_out_dir", "default_template", "export_template",
    "file_name", "free_text", "kind_spec", "load_case", "make_for_case", "make_letter",
    "prepare_out_dir", "recipients_for", "require_current_home", "require_status", "reset_template",
    "sample_case", "sample_contexts", "template_in_use", "template_rows", "use_template", "with_article",
]
