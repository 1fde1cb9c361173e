"""Who a scheme helps (DESIGN.md §2–3): its eligibility rules, checked when a referral arrives and enforced at
every later step, with a recorded override.

The rules a scheme sets (settings):

    eligible routes        eligible_routes      South Kesteven takes IDVA, police and council referrals
    MARAC required         marac_required       South Holland and South Kesteven: MARAC cases only
    eligible risk levels   eligible_risks       high only, for a MARAC-only scheme
    eligible tenures       eligible_tenures     all, or some tenures
    required documents     required_documents   the DASH risk assessment, the scheme's referral form
    works offered          works_offered        no: equipment only (West Lindsey)

and the tests every scheme makes of the home (DESIGN.md §3, triage): the
client chooses to stay, the perpetrator does not live there and has no right
to enter it.

A referral that fails a rule is saved with a warning naming it
(referrals.add_referral); ``referral show`` lists what fails. Asking for a
survey, approving, ordering and issuing from stock are refused (NotAllowed,
exit 1) naming each rule, unless the coordinator goes ahead with
``--override REASON``: the override is kept per rule (a rule overridden on a
case stays overridden for it, so the next step does not ask again), with the
reason on the case's timeline, and the audit log records which rule was
overridden (not the reason's words, which may name someone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from thcli import audit, clock, parse, settings
from thcli.cases import event
from thcli.db import Database
from thcli.errors import BadInput, NotAllowed

#: What each step is called in a refusal, and in the record of an override.
STEPS = {"survey": "the survey", "approve": "approving measures", "order": "ordering measures",
         "issue": "issuing equipment from stock"}


@dataclass(frozen=True)
class Rule:
    """One eligibility rule: its name in messages, the setting it comes from, and how a failing case is put
    right (a command, with REF for the case) or declined (a decline reason)."""

    key: str
    name: str
    setting: str | None
    fix: str
    decline_reason: str


RULES: dict[str, Rule] = {r.key: r for r in [
    Rule("eligible_routes", "eligible routes", "eligible_routes",
         "correct the route with `thcli referral edit REF --route CODE`", "route_not_accepted"),
    Rule("marac_required", "MARAC required", "marac_required",
         "record the MARAC once heard with `thcli referral edit REF --marac --marac-date DATE`", "not_marac"),
    Rule("eligible_risks", "eligible risk levels", "eligible_risks",
         "correct the risk level with `thcli referral edit REF --risk LEVEL`", "risk_not_eligible"),
    Rule("eligible_tenures", "eligible tenures", "eligible_tenures",
         "correct the tenure with `thcli referral edit REF --tenure CODE`", "tenure_not_eligible"),
    Rule("required_documents", "required documents", "required_documents",
         "record them once received with `thcli referral edit REF --dash-date DATE --referral-form`",
         "documents_missing"),
    Rule("chooses_to_stay", "client chooses to stay", None,
         "record it with `thcli referral edit REF --chooses-to-stay` if that changes", "not_staying"),
    Rule("perpetrator_lives_there", "perpetrator lives elsewhere", None,
         "record it with `thcli referral edit REF --perpetrator-lives-elsewhere` if that changes",
         "perpetrator_in_home"),
    Rule("perpetrator_can_enter", "no right of entry", None,
         "record it with `thcli referral edit REF --perpetrator-cannot-enter` once that changes (an occupation "
         "order)", "perpetrator_right_to_enter"),
    Rule("works_offered", "works offered", "works_offered",
         "decline the works lines with `thcli measures decline REF LINE... --reason works_not_offered`",
         "works_not_offered"),
]}


@dataclass(frozen=True)
class Problem:
    """A rule a case fails, and why, in words."""

    rule: Rule
    why: str
    #: how to put it right, when it says more than the rule's own fix (with REF for the case)
    fix: str | None = None

    @property
    def named(self) -> str:
        """``"MARAC required" (setting marac_required): the case has not been heard at MARAC``."""
        setting = f" (setting {self.rule.setting})" if self.rule.setting else ""
        return f'"{self.rule.name}"{setting}: {self.why}'

    @property
    def text(self) -> str:
        """``rule "MARAC required" (setting marac_required): the case has not been heard at MARAC``."""
        return f"rule {self.named}"

    def as_dict(self) -> dict:
        return {"rule": self.rule.key, "name": self.rule.name, "setting": self.rule.setting, "why": self.why}


def _shown(codes_: Sequence[str]) -> str:
    return ", ".join(codes_)


def problems(db: Database, case: dict, *, documents: bool = True) -> list[Problem]:
    """The rules ``case`` fails, in the order of RULES (empty: eligible).

    ``case`` holds what is known of the referral: route, marac, risk_level,
    tenure, dash_date, referral_form, chooses_to_stay,
    perpetrator_lives_there, perpetrator_can_enter. A key that is not there
    has not been asked yet (the wizard, part way) and its rule is not tested;
    a key there with None is not known, which fails a rule that needs it
    (MARAC required, eligible tenures) and passes one that needs a "no"
    (the perpetrator's right to enter). ``documents=False`` leaves the
    documents out.
    """
    found = []

    def fails(key: str, why: str) -> None:
        found.append(Problem(RULES[key], why))

    routes = settings.get(db, "eligible_routes")
    if "route" in case and routes is not None and case["route"] not in routes:
        fails("eligible_routes", f"the referral came by route {case['route']}, which this scheme does not take "
                                 f"(it takes {_shown(routes)})")
    if "marac" in case and settings.get(db, "marac_required") and not case["marac"]:
        fails("marac_required", "the case has not been heard at MARAC" if case["marac"] is not None else
              "the case is not recorded as heard at MARAC")
    risks = settings.get(db, "eligible_risks")
    if "risk_level" in case and case["risk_level"] is not None and risks and case["risk_level"] not in risks:
        fails("eligible_risks", f"risk level {case['risk_level']} is not one this scheme helps "
                                f"(it helps {_shown(risks)})")
    tenures = settings.get(db, "eligible_tenures")
    if "tenure" in case and tenures is not None and case["tenure"] not in tenures:
        fails("eligible_tenures", f"the home's tenure ({case['tenure']}) is not one this scheme helps (it helps "
                                  f"{_shown(tenures)})" if case["tenure"] else
              f"the home's tenure is not recorded (the scheme helps {_shown(tenures)})")
    if documents:
        missing = []
        required = settings.get(db, "required_documents")
        if "dash" in required and "dash_date" in case and not case["dash_date"]:
            missing.append(settings.DOCUMENTS["dash"])
        if "referral_form" in required and "referral_form" in case and not case["referral_form"]:
            missing.append(settings.DOCUMENTS["referral_form"])
        if missing:
            fails("required_documents", f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} not "
                                        "been received")
    if case.get("chooses_to_stay") in (0, False):
        fails("chooses_to_stay", "the client does not choose to stay in the home")
    if case.get("perpetrator_lives_there") in (1, True):
        fails("perpetrator_lives_there", "the perpetrator lives at the home")
    if case.get("perpetrator_can_enter") in (1, True):
        fails("perpetrator_can_enter", "the perpetrator has a right to enter the home")
    return found


def works_problem(db: Database, lines: Sequence[dict]) -> Problem | None:
    """The rule "works offered" for the measure lines about to be approved or ordered (None when it passes)."""
    works = [line for line in lines if line["kind"] == "works"]
    if not works or settings.get(db, "works_offered"):
        return None
    which = ", ".join(f"line {line['line']} ({line['code']})" for line in works)
    verb = "is a works measure" if len(works) == 1 else "are works measures"
    numbers = " ".join(str(line["line"]) for line in works)
    return Problem(RULES["works_offered"], f"this scheme offers equipment only, and {which} {verb}",
                   fix=f"decline {'it' if len(works) == 1 else 'them'} with `thcli measures decline REF {numbers} "
                       "--reason works_not_offered`")


def overridden(db: Database, case_id: int) -> list[dict]:
    """The rules overridden on a case, oldest first: rule, name, step, reason, at, by."""
    rows = db.query("SELECT rule, step, reason, at, by FROM eligibility_overrides WHERE case_id = ? ORDER BY id",
                    [case_id])
    return [{**row, "name": RULES[row["rule"]].name if row["rule"] in RULES else row["rule"]} for row in rows]


def _overridden_keys(db: Database, case_id: int) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT rule FROM eligibility_overrides WHERE case_id = ?",
                                               [case_id])}


def outstanding(db: Database, case: dict, *, extra: Sequence[Problem] = ()) -> list[Problem]:
    """The rules a stored case fails that have not been overridden on it."""
    done = _overridden_keys(db, case["id"])
    return [p for p in [*problems(db, case), *extra] if p.rule.key not in done]


def enforce(db: Database, case: dict, step: str, *, by: str, override: str | None = None,
            extra: Sequence[Problem] = ()) -> list[Problem]:
    """Refuse ``step`` on a case that fails a rule not yet overridden (NotAllowed naming each rule), or, with
    ``override``, record the override of each and go on. Runs inside the caller's write. Returns the rules
    overridden now.

    ``extra`` adds rules of the step itself (works offered, for the lines being approved or ordered).
    """
    if override is not None and not override.strip():
        raise BadInput("give the reason for going ahead past the scheme's eligibility rules", "--override")
    failing = outstanding(db, case, extra=extra)
    if not failing:
        return []
    ref = case["ref"]
    try:
        reason = parse.text(override, max_len=500).strip() if override is not None else ""
    except BadInput as error:
        raise error.for_option("--override") from None
    if not reason:
        rules = "; ".join(p.named for p in failing)
        if len(failing) == 1:
            fix = (failing[0].fix or failing[0].rule.fix).replace("REF", ref)
            decline = failing[0].rule.decline_reason
            fix = fix[0].upper() + fix[1:]
        else:
            fix, decline = f"Put it right with `thcli referral edit {ref}`", "CODE"
        ending = (f"{fix}, decline the case with `thcli referral move {ref} declined --reason {decline}`, or go "
                  "ahead with --override REASON (recorded on the case and in the audit log).")
        if failing[0].rule.key == "works_offered" and len(failing) == 1:
            ending = (f"{fix}, approve or order the equipment lines by number, or go ahead with --override REASON "
                      "(recorded on the case and in the audit log).")
        raise NotAllowed(f"{ref}: {STEPS[step]} is refused by the eligibility rule{'s' if len(failing) > 1 else ''} "
                         f"{rules}. {ending}")
    at = clock.now_iso()
    for problem in failing:
        db.conn.execute("INSERT INTO eligibility_overrides (case_id, rule, step, reason, at, by) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [case["id"], problem.rule.key, step, reason, at, by])
        event(db, case["id"], "override", f'eligibility {problem.text} overridden for {STEPS[step]}: {reason}',
              by=by)
        audit.record(db, by=by, action="eligibility.override", ref=ref, detail=f"{problem.rule.key} ({step})")
    return failing
