"""Home security surveys (DESIGN.md §3): requested from an assessor, then recorded.

Whoever assesses the home is an ``assessor`` code with a kind: a police
Crime Reduction Officer (``police``), the scheme's own assessor (``scheme``:
Lincoln's council officer, West Lindsey's DA coordinator) or a contractor's
surveyor (``contractor``: Cambridgeshire's provider). The setting
``default_assessor`` says who, when ``--assessor`` is not given.

``survey request`` asks the assessor for a survey: it needs consent to share
with that party (the police, the contractor; nobody new for the scheme's own
assessor: workflow.require_survey_consent) and a case the scheme's
eligibility rules accept (or an override: eligibility.py), and moves the case
to ``survey`` (through triage when it is still new: asking for a survey means
the survivor has been contacted).

``survey record`` records the visit and each measure it recommends (where
it goes is screened like all text a third party reads: screening.py), as
measure lines numbered on from the case's last line, costed from the
catalogue unless a unit cost is given, and moves the case to ``approval``.
A survey that recommends nothing is recorded with ``no_measures``; the case
then closes with an outcome such as ``no_measures_needed`` (workflow.py). A
scheme whose own officer assesses (Lincoln, West Lindsey) records a survey
straight from triage in the same way: the request is recorded with it, under
the same consent and eligibility rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from thcli import audit, clock, codes, dates, eligibility, parse, screening, targets, workflow
from thcli import measures as measure_lines  # `measures` is record_survey's parameter
from thcli.cases import case_row, event
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed

#: A measure as given on the command line: (code, quantity, unit cost in pence or None, where or None).
#: Three-item tuples (no place given) are accepted too.
MeasureSpec = tuple[str, int, int | None, str | None]


def parse_measure(db: Database | None, text: str) -> MeasureSpec:
    """``CODE[xQTY][@COST][:WHERE]`` as given to ``--measure`` (BadInput naming the option).

    WHERE says where in the home it goes (``door_viewer:front door``), as the
    surveyor wrote it; it is printed on the works order for the fitter.
    """
    where = None
    if ":" in str(text):
        text, place = str(text).split(":", 1)
        where = " ".join(place.split())
        if not where:
            raise BadInput(f"{text}: say where after the colon, e.g. {text.strip()}:front door, or leave the "
                           "colon out", "--measure")
        if len(where) > measure_lines.MAX_WHERE:
            raise BadInput(f"{text}: where it goes is at most {measure_lines.MAX_WHERE} characters", "--measure")
    try:
        spec = parse.measure_spec(text)
    except BadInput as error:
        quantity = re.fullmatch(r"\s*([a-z0-9_]+?)x([^@]*)(@.*)?\s*", str(text))
        if quantity and not re.fullmatch(r"[0-9]+", quantity.group(2).strip()) and (
                db is None or codes.get(db, "measure", quantity.group(1)) is not None):
            raise BadInput(f"{text!r}: the quantity {quantity.group(2)!r} is not a whole number above zero "
                           "(write e.g. window_alarmx3)", "--measure") from None
        raise error.for_option("--measure") from None
    return (*spec, where)


def _open_survey(db: Database, case_id: int) -> dict | None:
    return one(db, "SELECT * FROM surveys WHERE case_id = ? AND surveyed_on IS NULL ORDER BY id DESC LIMIT 1",
               [case_id])


def _check_date(on: dt.date, case: dict, option: str, what: str) -> None:
    dates.not_future(on, what, option)
    if on < dt.date.fromisoformat(case["received_on"]):
        raise BadInput(f"{dates.format_date(on)} is before the referral was received "
                       f"({dates.format_date(case['received_on'])})", option)


def request_survey(db: Database, ref: str, *, surveyor: str | None = None, by: str, on: dt.date | None = None,
                   assessor: str | None = None, override: str | None = None) -> dict:
    """Ask for a home security survey (``survey request``); returns the survey with its due date.

    ``assessor`` is a code of the assessor list (default: the setting
    default_assessor); ``surveyor`` the person's name (default: the assessor's
    label). ``override`` goes ahead past the scheme's eligibility rules, with
    the reason recorded.
    """
    who = workflow.assessor(db, assessor)
    surveyor = parse.name(surveyor) if surveyor else who["label"]
    on = on or clock.today()
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        _check_date(on, case, "--date", "record a request once it is made")
        if case["status"] == "survey":
            waiting = _open_survey(db, case["id"])
            if waiting:
                raise NotAllowed(f"{ref}: a survey was already requested from {waiting['surveyor']} on "
                                 f"{dates.format_date(waiting['requested_on'])}; record it with "
                                 f"`thcli survey record {ref} --surveyor NAME --date DATE --measure CODE`")
        if case["status"] not in ("new", "triage"):
            raise NotAllowed(f"{ref}'s status is {case['status']}: a survey is requested while a case is "
                             "new or in triage")
        workflow.require_survey_consent(db, case, who)
        eligibility.enforce(db, case, "survey", by=by, override=override)
        if case["status"] == "new":
            workflow.move(db, ref, "triage", by=by, on=on)
        # The survey's own rules (consent to share with the assessor, eligibility) were checked just above.
        workflow.move(db, ref, "survey", by=by, on=on, rules=False)
        survey_id = db["surveys"].insert({
            "case_id": case["id"], "surveyor": surveyor, "assessor": who["code"], "requested_on": on.isoformat(),
            "created_at": clock.now_iso(),
        }).last_pk
        event(db, case["id"], "survey", f"survey requested from {surveyor}" + _assessor_note(surveyor, who),
              by=by)
        audit.record(db, by=by, action="survey.request", ref=ref, detail="" if who["kind"] == "police" else
                     f"assessor {who['code']} ({who['kind']})")
        targets.refresh_due(db, case["id"])
        case = case_row(db, ref)
    return {"ref": ref, "survey_id": survey_id, "surveyor": surveyor, "requested_on": on.isoformat(),
            "assessor": who["code"], "assessor_kind": who["kind"],
            "status": case["status"], "due_on": case["next_due_on"], "due_what": case["next_due_what"]}


def _assessor_note(surveyor: str, who: dict) -> str:
    """`` (Police Crime Reduction Officer)`` after a surveyor's name, unless it is the assessor's label."""
    return "" if surveyor == who["label"] else f" ({who['label']})"


def record_survey(db: Database, ref: str, *, surveyor: str | None = None, on: dt.date,
                  measures: Sequence[MeasureSpec] = (), by: str, note: str | None = None,
                  no_measures: bool = False, assessor: str | None = None, override: str | None = None) -> dict:
    """Record the survey visit and its recommended measures (``survey record``); the case moves to approval.

    ``no_measures`` records a survey that recommends nothing (the case can
    then close, e.g. as no_measures_needed). ``assessor`` defaults to the one
    the survey was requested from (or, recorded straight from triage, the
    setting default_assessor); ``surveyor`` to the request's surveyor, or the
    assessor's label. ``override`` is as for :func:`request_survey`, for a
    survey recorded straight from triage.

    Returns the survey, its new lines (as ``measures list`` shows them) and
    warnings that did not stop it (works recommended where works are not offered).
    """
    note = parse.text(note) if note else None
    if no_measures and measures:
        raise BadInput("give the measures the survey recommends, or --no-measures when it recommends none, "
                       "not both", "--no-measures")
    if not measures and not no_measures:
        raise BadInput("give each measure the survey recommends: --measure CODE[xQTY][@COST][:WHERE], e.g. "
                       "--measure lock_change_doorx2 --measure \"window_alarmx3@12.50:ground-floor windows\" "
                       "(or --no-measures when it recommends none)", "--measure")
    measures = [(spec[0], spec[1], spec[2], spec[3] if len(spec) > 3 else None) for spec in measures]
    for code, quantity, cost, _where in measures:
        try:
            codes.require(db, "measure", code)
        except BadInput as error:
            raise error.for_option("--measure") from None
        if quantity < 1:
            raise BadInput(f"{code}: the quantity must be a whole number above zero", "--measure")
        if cost is not None and cost < 0:
            raise BadInput(f"{code}: the cost cannot be negative", "--measure")
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        _check_date(on, case, "--date", "record a survey once it is done")
        if case["status"] not in ("triage", "survey"):
            hint = (f"request it first with `thcli survey request {ref} --surveyor NAME`"
                    if case["status"] == "new" else "a survey is recorded while a case awaits its survey")
            raise NotAllowed(f"{ref}'s status is {case['status']}: {hint}")
        survey = _open_survey(db, case["id"]) if case["status"] == "survey" else None
        who = workflow.assessor(db, assessor or (survey["assessor"] if survey else None))
        surveyor = parse.name(surveyor) if surveyor else (survey["surveyor"] if survey else who["label"])
        if case["status"] == "triage":
            # No request went out (the scheme's own assessor, most often): the visit is recorded with one, under
            # the same rules as a request.
            workflow.require_survey_consent(db, case, who)
            eligibility.enforce(db, case, "survey", by=by, override=override)
            workflow.move(db, ref, "survey", by=by, on=on, rules=False)
        elif override is not None:
            raise BadInput("it is for a survey recorded straight from triage: this one was requested, past the "
                           "eligibility rules then", "--override")
        asked = survey["assessor"] if survey else workflow.assessor(db)["code"]
        if case["status"] == "survey" and who["code"] != asked:
            # Someone other than the assessor asked (or, moved to survey by hand, the default one) did it.
            workflow.require_survey_consent(db, case, who)
        if survey and on < dt.date.fromisoformat(survey["requested_on"]):
            raise BadInput(f"{dates.format_date(on)} is before the survey was requested "
                           f"({dates.format_date(survey['requested_on'])})", "--date")
        now = clock.now_iso()
        values = {"surveyor": surveyor, "assessor": who["code"], "surveyed_on": on.isoformat(), "notes": note}
        if survey:
            db["surveys"].update(survey["id"], values)
            survey_id = survey["id"]
        else:
            survey_id = db["surveys"].insert({"case_id": case["id"], "requested_on": on.isoformat(),
                                              "created_at": now, **values}).last_pk
        number = db.conn.execute("SELECT coalesce(max(line), 0) FROM measure_lines WHERE case_id = ?",
                                 [case["id"]]).fetchone()[0]
        first = number + 1
        works = []
        for code, quantity, cost, where in measures:
            item = measure_lines.catalogue_entry(db, code)
            unit = item["unit_cost_pence"] if cost is None else cost
            number += 1
            db["measure_lines"].insert({
                "case_id": case["id"], "line": number, "survey_id": survey_id, "code": code,
                "quantity": quantity, "unit_cost_pence": unit, "estimated_cost_pence": unit * quantity,
                "kind": item["kind"], "removable": item["removable"], "status": "recommended", "location": where,
            })
            if item["kind"] == "works":
                works.append(number)
        recommended = (f"{len(measures)} measure{'s' if len(measures) > 1 else ''} recommended" if measures
                       else "no measures recommended")
        event(db, case["id"], "survey", f"survey by {surveyor}{_assessor_note(surveyor, who)}: {recommended}",
              by=by)
        if note:
            event(db, case["id"], "note", note, by=by)
        audit.record(db, by=by, action="survey.record", ref=ref, detail=f"{len(measures)} measures")
        workflow.move(db, ref, "approval", by=by, on=on)
        lines = [row for row in measure_lines.case_lines(db, case["id"]) if row["line"] >= first]
        # Where each measure goes is printed for the landlord and the fitter: screened now, as a warning.
        warnings = screening.line_warnings(screening.for_client(db, case["client_id"]), ref,
                                           [(line["line"], line["location"]) for line in lines])
        problem = eligibility.works_problem(db, lines)
        if problem:
            shown = " ".join(str(n) for n in works)
            warnings.append(f"eligibility {problem.text}: decline {'them' if len(works) > 1 else 'it'} with "
                            f"`thcli measures decline {ref} {shown} --reason works_not_offered`")
        case = case_row(db, ref)
    return {"ref": ref, "survey_id": survey_id, "surveyor": surveyor, "surveyed_on": on.isoformat(),
            "assessor": who["code"], "assessor_kind": who["kind"],
            "status": case["status"], "lines": lines, "warnings": warnings}


def case_surveys(db: Database, case_id: int) -> list[dict]:
    """A case's surveys, oldest first (for ``referral show``), with the assessor's code, label and kind."""
    return list(db.query(
        """SELECT s.surveyor, s.assessor, coalesce(c.label, s.assessor) AS assessor_label,
                  coalesce(d.kind, CASE WHEN s.assessor IS NULL THEN NULL ELSE 'police' END) AS assessor_kind,
                  s.requested_on, s.surveyed_on, s.notes
           FROM surveys s LEFT JOIN codes c ON c.list = 'assessor' AND c.code = s.assessor
           LEFT JOIN assessor_details d ON d.code = s.assessor
           WHERE s.case_id = ? ORDER BY s.id""", [case_id]))
