"""Home security surveys (DESIGN.md §3): requested from the police CRO, then recorded.

``survey request`` asks the Crime Reduction Officer (or the scheme's own
assessor) for a survey: it needs consent to share with the police and an
eligible case, and moves the case to ``survey`` (through triage when it is
still new: asking for a survey means the survivor has been contacted).

``survey record`` records the visit and each measure it recommends (where
it goes is screened like all text a third party reads: screening.py), as
measure lines numbered on from the case's last line, costed from the
catalogue unless a unit cost is given, and moves the case to ``approval``. A
scheme whose own officer assesses (Lincoln, West Lindsey) records a survey
straight from triage in the same way: the request is recorded with it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from thcli import audit, clock, codes, parse, screening, settings, targets, workflow
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
    parse.not_future(on, what, option)
    if on < dt.date.fromisoformat(case["received_on"]):
        raise BadInput(f"{parse.format_date(on)} is before the referral was received "
                       f"({parse.format_date(case['received_on'])})", option)


def request_survey(db: Database, ref: str, *, surveyor: str, by: str, on: dt.date | None = None) -> dict:
    """Ask for a home security survey (``survey request``); returns the survey with its due date."""

    surveyor = parse.name(surveyor)
    on = on or clock.today()
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        _check_date(on, case, "--date", "record a request once it is made")
        if case["status"] == "survey":
            waiting = _open_survey(db, case["id"])
            if waiting:
                raise NotAllowed(f"{ref}: a survey was already requested from {waiting['surveyor']} on "
                                 f"{parse.format_date(waiting['requested_on'])}; record it with "
                                 f"`thcli survey record {ref} --surveyor NAME --date DATE --measure CODE`")
        if case["status"] not in ("new", "triage"):
            raise NotAllowed(f"{ref}'s status is {case['status']}: a survey is requested while a case is "
                             "new or in triage")
        workflow.require_police_consent(db, case)
        if case["status"] == "new":
            workflow.move(db, ref, "triage", by=by, on=on)
        workflow.move(db, ref, "survey", by=by, on=on)
        survey_id = db["surveys"].insert({
            "case_id": case["id"], "surveyor": surveyor, "requested_on": on.isoformat(),
            "created_at": clock.now_iso(),
        }).last_pk
        event(db, case["id"], "survey", f"survey requested from {surveyor}", by=by)
        audit.record(db, by=by, action="survey.request", ref=ref)
        targets.refresh_due(db, case["id"])
        case = case_row(db, ref)
    return {"ref": ref, "survey_id": survey_id, "surveyor": surveyor, "requested_on": on.isoformat(),
            "status": case["status"], "due_on": case["next_due_on"], "due_what": case["next_due_what"]}


def record_survey(db: Database, ref: str, *, surveyor: str, on: dt.date, measures: Sequence[MeasureSpec], by: str,
                  note: str | None = None) -> dict:
    """Record the survey visit and its recommended measures (``survey record``); the case moves to approval.

    Returns the survey, its new lines (as ``measures list`` shows them) and
    warnings that did not stop it (works recommended where works are not offered).
    """
    surveyor = parse.name(surveyor)
    note = parse.text(note) if note else None
    if not measures:
        raise BadInput("give each measure the survey recommends: --measure CODE[xQTY][@COST][:WHERE], e.g. "
                       "--measure lock_change_doorx2 --measure \"window_alarmx3@12.50:ground-floor windows\"",
                       "--measure")
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
        survey = _open_survey(db, case["id"])
        if case["status"] == "triage":
            # The scheme's own assessor: no request went out, so it is recorded with the visit.
            workflow.move(db, ref, "survey", by=by, on=on)
            survey = None
        if survey and on < dt.date.fromisoformat(survey["requested_on"]):
            raise BadInput(f"{parse.format_date(on)} is before the survey was requested "
                           f"({parse.format_date(survey['requested_on'])})", "--date")
        now = clock.now_iso()
        values = {"surveyor": surveyor, "surveyed_on": on.isoformat(), "notes": note}
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
        event(db, case["id"], "survey",
                        f"survey by {surveyor}: {len(measures)} measure{'s' if len(measures) > 1 else ''} "
                        "recommended", by=by)
        if note:
            event(db, case["id"], "note", note, by=by)
        audit.record(db, by=by, action="survey.record", ref=ref, detail=f"{len(measures)} measures")
        workflow.move(db, ref, "approval", by=by, on=on)
        lines = [row for row in measure_lines.case_lines(db, case["id"]) if row["line"] >= first]
        # Where each measure goes is printed for the landlord and the fitter: screened now, as a warning.
        warnings = screening.line_warnings(screening.for_client(db, case["client_id"]), ref,
                                           [(line["line"], line["location"]) for line in lines])
        if works and not settings.get(db, "works_offered"):
            shown = ", ".join(str(n) for n in works)
            warnings.append(f"this scheme does not offer works (setting works_offered is no): line"
                            f"{'s' if len(works) > 1 else ''} {shown} can only be declined")
        case = case_row(db, ref)
    return {"ref": ref, "survey_id": survey_id, "surveyor": surveyor, "surveyed_on": on.isoformat(),
            "status": case["status"], "lines": lines, "warnings": warnings}


def case_surveys(db: Database, case_id: int) -> list[dict]:
    """A case's surveys, oldest first (for ``referral show``)."""
    return list(db.query(
        "SELECT surveyor, requested_on, surveyed_on, notes FROM surveys WHERE case_id = ? ORDER BY id",
        [case_id]))
