"""The case lifecycle (DESIGN.md §3): which moves are allowed, and their rules.

    new -> triage -> survey -> approval -> works -> fitted -> follow_up -> closed
    any open status -> declined | withdrawn | no_contact   (reason code required)
    any open status <-> on_hold                             (back to where it was)

Rules, each with a message that says how to put it right:
- a survey cannot be requested without consent to share with whoever does it
  (the police for a Crime Reduction Officer, the contractor for a contractor's
  surveyor, nobody new for the scheme's own assessor: :func:`require_survey_consent`),
  nor while one of the scheme's eligibility rules fails (eligibility.py), unless
  the rule is overridden with a reason;
- works cannot start without consent to share with the contractor, without
  landlord permission granted for a rented home, nor before a measure is
  approved (funding committed);
- declining, withdrawing, no contact and closing need a reason code;
- closing as ``completed`` needs every follow-up done (setting followup_months);
- a case whose survey recommended nothing, or whose every line was declined,
  closes from approval or works (no dead end), with an outcome that does not
  claim a fitting (``no_measures_needed``, ``no_measures_fitted``...);
- ending a case (closed, declined, withdrawn, no contact) with money still
  open on it (a commitment not yet paid, a pledge not yet received) lists
  what is open and needs ``--force REASON`` (recorded): :func:`require_money_settled`;
- ending a case with a reason that means the client has moved (setting
  ``moved_reasons``: moved_away, rehoused, moved_on) marks the case's address
  as no longer current, so that no letter goes to a home the client has left;
- the case moves to ``fitted`` by itself once every approved measure is fitted
  (or issued from stock) and none awaits a decision (measures.py);
- a closed or declined case is read-only except for notes, follow-ups and
  collecting lent equipment (``measures remove``).
"""

from __future__ import annotations

import datetime as dt

from thcli import audit, budget, clock, codes, eligibility, parse, settings, targets
from thcli.cases import case_row, consent_state, event, is_rented
from thcli.codes import REASON_LISTS
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed
from thcli.parse import format_money

STATUSES = (
    "new", "triage", "survey", "approval", "works", "fitted", "follow_up", "closed",
    "declined", "withdrawn", "no_contact", "on_hold",
)
OPEN = ("new", "triage", "survey", "approval", "works", "fitted", "follow_up", "on_hold")
ENDED = ("closed", "declined", "withdrawn", "no_contact")
READ_ONLY = ("closed", "declined")
EXITS = ("declined", "withdrawn", "no_contact")

#: The usual path, one step at a time.
FORWARD = {
    "new": ("triage",),
    "triage": ("survey",),
    "survey": ("approval",),
    # Closing from approval or works: nothing was fitted (nothing recommended, or every line declined).
    "approval": ("works", "closed"),
    "works": ("fitted", "closed"),
    "fitted": ("follow_up", "closed"),
    "follow_up": ("closed",),
    # A client who withdrew or could not be reached may come back.
    "withdrawn": ("triage",),
    "no_contact": ("triage",),
}

#: Which code list holds the reason for each status that needs one: codes.REASON_LISTS (settings check
#: moved_reasons against the same lists).


def allowed_moves(status: str, status_before_hold: str | None = None) -> list[str]:
    """Where a case in ``status`` may go next."""
    if status == "on_hold":
        return [status_before_hold or "new", *EXITS]
    moves = list(FORWARD.get(status, ()))
    if status in OPEN:
        moves += [*EXITS, "on_hold"]
    return moves


def eligibility_problems(db: Database, case: dict, *, documents: bool = True) -> list[str]:
    """The scheme's eligibility rules the case fails, in words (empty: eligible); see eligibility.problems for
    what ``case`` holds. A stored case (with an ``id``) leaves out the rules overridden on it."""
    if "id" in case:
        return [p.text for p in eligibility.outstanding(db, case)]
    return [p.text for p in eligibility.problems(db, case, documents=documents)]


#: The consent a survey needs, by the kind of assessor: to share with the party that does it.
ASSESSOR_CONSENT = {"police": "police", "contractor": "contractor", "scheme": None}


def assessor(db: Database, code: str | None = None, *, option: str = "--assessor") -> dict:
    """An assessor (code, label, kind, address, email, phone): ``code``, or the scheme's default_assessor.

    BadInput naming ``option`` for a code that is not in the list (or is retired).
    """
    chosen = code or settings.get(db, "default_assessor")
    try:
        codes.require(db, "assessor", chosen)
    except BadInput as error:
        raise (error.for_option(option) if code else error.for_option("setting default_assessor")) from None
    return next(row for row in codes.list_codes(db, "assessor") if row["code"] == chosen)


def require_survey_consent(db: Database, case: dict, who: dict) -> None:
    """The consent a survey by ``who`` needs: to share with the police for a police Crime Reduction Officer,
    with the contractor for a contractor's surveyor, none for the scheme's own assessor."""
    scope = ASSESSOR_CONSENT.get(who["kind"], "police")
    ref = case["ref"]
    if scope is None or consent_state(db, case["id"])[scope]:
        return
    if scope == "police":
        raise NotAllowed(
            f"{ref}: there is no consent to share with the police, so no survey can be "
            f"requested. Record it with `thcli referral consent {ref} --scope police`."
        )
    raise NotAllowed(
        f"{ref}: there is no consent to share with the contractor, and the survey is by {who['label']} "
        f"(a contractor's surveyor), so none can be requested. Record it with "
        f"`thcli referral consent {ref} --scope contractor`, or choose another assessor (--assessor CODE)."
    )


def require_police_consent(db: Database, case: dict) -> None:
    """A survey by the police needs consent to share with the police (require_survey_consent for any assessor)."""
    require_survey_consent(db, case, {"kind": "police", "label": "the police"})


def require_not_read_only(case: dict) -> None:
    """A closed or declined case is read-only except for notes (NotAllowed, naming the note command)."""
    if case["status"] in READ_ONLY:
        raise NotAllowed(
            f"{case['ref']} is {case['status']}: a {case['status']} case is read-only except for notes "
            "(`thcli referral note`)"
        )


def require_contractor_consent(db: Database, case: dict) -> None:
    """Anything ordered from a contractor (works or equipment) needs consent to share with them."""
    ref = case["ref"]
    if not consent_state(db, case["id"])["contractor"]:
        raise NotAllowed(
            f"{ref}: there is no consent to share with the contractor. Record it with "
            f"`thcli referral consent {ref} --scope contractor`."
        )


def require_works_allowed(db: Database, case: dict) -> None:
    """The rules for ordering works (DESIGN.md §3)."""

    ref = case["ref"]
    require_contractor_consent(db, case)
    if is_rented(db, case["tenure"]) and case["landlord_permission"] != "granted":
        state = (case["landlord_permission"] or "not yet requested").replace("_", " ")
        raise NotAllowed(
            f"{ref}: the home is rented and the landlord's permission is {state}. Record it with "
            f"`thcli referral landlord {ref} --permission granted` once granted."
        )


def require_money_settled(db: Database, case: dict, to: str, force: str | None) -> list[str]:
    """Refuse to end a case with money open on it, listing what is open and how to settle it, unless
    ``force`` gives a reason; returns what was open (for the record of a forced ending)."""
    ref = case["ref"]
    money = budget.outstanding(db, case["id"])
    owed = [f"{format_money(c['committed_pence'])} committed and not yet paid on line {c['line']} ({c['fund']})"
            for c in money["commitments"]]
    owed += [f"{format_money(p['outstanding_pence'])} pledged by the {p['contributor'].replace('_', ' ')} and not "
             f"yet received ({p['fund']})" for p in money["pledges"]]
    if not owed or (force or "").strip():
        return owed
    fixes = []
    if any(c["status"] in ("fitted", "removed") for c in money["commitments"]):
        fixes.append(f"pay the invoice (`thcli budget pay {ref} --fitted --invoice NO`)")
    waiting = [str(c["line"]) for c in money["commitments"] if c["status"] not in ("fitted", "removed")]
    if waiting:
        fixes.append(f"decline the lines that will not be fitted (`thcli measures decline {ref} {' '.join(waiting)} "
                     "--reason CODE`)")
    for p in money["pledges"]:
        fixes.append(f"record the {p['contributor'].replace('_', ' ')}'s money when it comes (`thcli budget "
                     f"contribution {ref} --from {p['contributor']} --amount {parse.pounds(p['outstanding_pence'])} "
                     f"--fund {p['fund']}`) or cancel the pledge (`thcli budget correct {p['entry']} --reason TEXT`)")
    raise NotAllowed(f"{ref} has money outstanding: {'; '.join(owed)}. Before it is {to}, "
                     + "; ".join(fixes) + ". Or end it anyway with --force REASON (recorded)")


def _require_move_rules(db: Database, case: dict, to: str, reason: str | None = None, *, by: str = "",
                        override: str | None = None, force: str | None = None) -> None:
    _require_step_rules(db, case, to, reason, by=by, override=override)
    if to in ENDED:
        require_money_settled(db, case, to, force)


def _require_step_rules(db: Database, case: dict, to: str, reason: str | None, *, by: str,
                        override: str | None) -> None:
    ref = case["ref"]
    if to == "survey":
        require_survey_consent(db, case, assessor(db))
        eligibility.enforce(db, case, "survey", by=by, override=override)
    elif to == "approval":
        surveyed = db.conn.execute(
            "SELECT count(*) FROM surveys WHERE case_id = ? AND surveyed_on IS NOT NULL", [case["id"]]
        ).fetchone()[0]
        if not surveyed:
            raise NotAllowed(f"{ref}: no survey has been recorded. Record it with `thcli survey record {ref}`.")
    elif to == "works":
        require_works_allowed(db, case)
        approved = db.conn.execute(
            "SELECT count(*) FROM measure_lines WHERE case_id = ? AND status IN ('approved', 'ordered')",
            [case["id"]],
        ).fetchone()[0]
        if not approved:
            raise NotAllowed(
                f"{ref}: no measure has been approved against a fund yet. Approve measures with "
                f"`thcli measures approve {ref} --fund FUND`."
            )
    elif to == "closed" and case["status"] in ("approval", "works"):
        require_nothing_to_fit(db, case, reason)
    elif to == "closed" and reason == "completed":
        months = settings.get(db, "followup_months")
        done = db.conn.execute("SELECT count(*) FROM followups WHERE case_id = ?", [case["id"]]).fetchone()[0]
        if done < len(months):
            due = f"{months[done]}-month follow-up"
            raise NotAllowed(
                f"{ref}: {done} of {len(months)} follow-ups done, so it cannot be closed as completed yet. "
                f"Record the {due} (`thcli followup record {ref} --date DATE --outcome CODE`), or close "
                "it with another outcome (`thcli codes list outcome_reason`)."
            )
    elif to == "fitted":
        waiting = db.conn.execute(
            "SELECT count(*) FROM measure_lines WHERE case_id = ? AND status IN ('approved', 'ordered')",
            [case["id"]],
        ).fetchone()[0]
        fitted = db.conn.execute(
            "SELECT count(*) FROM measure_lines WHERE case_id = ? AND status IN ('fitted', 'removed')",
            [case["id"]],
        ).fetchone()[0]
        if waiting or not fitted:
            raise NotAllowed(
                f"{ref}: {waiting} approved measure(s) are not fitted yet. Record them with "
                f"`thcli measures fitted {ref} --date DATE`."
                if waiting else f"{ref}: no measure has been fitted."
            )


#: Outcomes that say measures were fitted: not for a case closed with nothing fitted.
FITTED_OUTCOMES = ("completed", "completed_partly")


def require_nothing_to_fit(db: Database, case: dict, reason: str | None) -> None:
    """A case closes from approval or works only once nothing is left to fit (nothing recommended, or every
    line declined), and with an outcome that does not say measures were fitted."""
    ref = case["ref"]
    waiting = [row[0] for row in db.conn.execute(
        "SELECT line FROM measure_lines WHERE case_id = ? AND status IN ('recommended', 'approved', 'ordered') "
        "ORDER BY line", [case["id"]])]
    if waiting:
        lines = ", ".join(str(n) for n in waiting)
        raise NotAllowed(
            f"{ref}: line{'s' if len(waiting) > 1 else ''} {lines} still "
            f"{'await' if len(waiting) > 1 else 'awaits'} a decision, so it cannot be closed yet: fit "
            f"{'them' if len(waiting) > 1 else 'it'}, or decline {'them' if len(waiting) > 1 else 'it'} with "
            f"`thcli measures decline {ref} {' '.join(str(n) for n in waiting)} --reason CODE`."
        )
    if reason in FITTED_OUTCOMES:
        raise NotAllowed(
            f"{ref}: no measure was fitted, so it cannot be closed as {reason}: close it as no_measures_fitted "
            "(every recommendation declined), no_measures_needed (the survey recommended none) or another "
            "outcome (`thcli codes list outcome_reason`)."
        )


def end_address(db: Database, case: dict, *, by: str) -> bool:
    """Mark the case's address as no longer the client's (they have moved); returns whether it was current.

    The address stays on record as a previous one: no letter goes to it, or mentions it (letters.py).
    """

    gone = db.conn.execute("UPDATE addresses SET current = 0, ended_at = ? WHERE id = ? AND current = 1",
                           [clock.now_iso(), case["address_id"]]).rowcount
    if gone:
        event(db, case["id"], "address", "the client has moved: this address is no longer current, "
                        "and no letter goes to it", by=by)
        audit.record(db, by=by, action="referral.address_ended", ref=case["ref"])
    return bool(gone)


def move(
    db: Database, ref: str, to: str, *, by: str, reason: str | None = None,
    note: str | None = None, on: dt.date | None = None, rules: bool = True, override: str | None = None,
    force: str | None = None,
) -> dict:
    """Move a case to another status, enforcing the lifecycle and its rules.

    Runs inside the caller's write transaction if there is one, else its own.
    Returns the case row after the move. ``rules=False`` is for the moves that
    follow from something recorded (a measure ordered or issued from stock, the
    last line fitted, a follow-up): the domain function that recorded it has
    checked that action's own rules (measures.py, stock.py, followups.py), so
    the manual move's checks are not repeated; the path itself still applies.
    ``override`` goes ahead past the scheme's eligibility rules (moving to
    survey), recording the reason (eligibility.enforce).
    ``force`` is the reason to end a case with money still open on it (recorded).
    """
    if to not in STATUSES:
        raise BadInput(f"{to!r} is not a status: use one of {', '.join(STATUSES)}")
    on = on or clock.today()
    with write(db):
        case = case_row(db, ref)
        ref = case["ref"]
        current = case["status"]
        if current == to:
            raise NotAllowed(f"{ref} is already {to}")
        require_not_read_only(case)
        if case.get("anonymised_on"):
            raise NotAllowed(
                f"{ref} was anonymised under the retention schedule and cannot be reopened: "
                "log a new referral instead (`thcli referral add`)"
            )
        allowed = allowed_moves(current, case["status_before_hold"])
        if to not in allowed:
            if current == "on_hold":
                raise NotAllowed(
                    f"{ref} is on hold: it returns to {case['status_before_hold']} "
                    f"(`thcli referral move {ref} {case['status_before_hold']}`), or ends as "
                    "declined, withdrawn or no_contact"
                )
            raise NotAllowed(
                f"{ref} cannot go from {current} to {to}: from {current} it can go to "
                f"{', '.join(allowed) or 'nothing (it has ended)'}"
            )
        list_name = REASON_LISTS.get(to)
        if list_name:
            if not reason:
                raise BadInput(
                    f"moving to {to} needs --reason: one of "
                    + ", ".join(c["code"] for c in codes.list_codes(db, list_name, include_retired=False)),
                    "--reason",
                )
            try:
                codes.require(db, list_name, reason)
            except BadInput as error:
                raise error.for_option("--reason") from None
        elif reason:
            raise BadInput(f"--reason is only for {', '.join(REASON_LISTS)}", "--reason")
        if override is not None and to != "survey":
            raise BadInput("it is for moving a case to survey past one of the scheme's eligibility rules",
                           "--override")
        if force is not None and to not in ENDED:
            raise BadInput(f"it is for ending a case ({', '.join(ENDED)}) with money still open on it", "--force")
        if rules and (current != "on_hold" or to in EXITS):
            _require_move_rules(db, case, to, reason, by=by, override=override, force=force)
        changes: dict = {"status": to, "updated_at": clock.now_iso()}
        if to == "on_hold":
            changes["status_before_hold"] = current
        elif current == "on_hold":
            changes["status_before_hold"] = None
        if list_name:
            changes["reason"] = reason
        elif current in ("withdrawn", "no_contact"):
            changes["reason"] = None
        if to in ENDED:
            changes["closed_on"] = on.isoformat()
        elif current in ENDED:
            changes["closed_on"] = None
        if current == "new" and not case["first_contact_on"]:
            changes["first_contact_on"] = on.isoformat()
        if to == "fitted" and not case["fitted_on"]:
            changes["fitted_on"] = on.isoformat()
        db["cases"].update(case["id"], changes)
        detail = f"{current} → {to}" + (f" ({reason})" if reason else "")
        event(db, case["id"], "status", detail, by=by)
        if to in ENDED and reason and case["address_id"] and reason in settings.get(db, "moved_reasons"):
            end_address(db, case, by=by)
        if note:
            event(db, case["id"], "note", note, by=by)
        audit.record(db, by=by, action="referral.move", ref=ref, detail=f"{current}>{to}")
        owed = require_money_settled(db, case, to, force) if to in ENDED and (force or "").strip() else []
        if owed:
            event(db, case["id"], "money", f"{to} with money outstanding ({'; '.join(owed)}): "
                                           f"{(force or '').strip()}", by=by)
            audit.record(db, by=by, action="referral.force", ref=ref)
        targets.refresh_due(db, case["id"])
        return case_row(db, ref)
