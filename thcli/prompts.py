"""The interactive referral wizard (``thcli referral new``): every questionary call of thcli.

Imported only when the wizard runs: questionary and prompt_toolkit take about
130 ms to load, and every other command must start fast.

The wizard asks, in the order a coordinator hears it on the phone, for what
``thcli referral add`` takes as options, and saves with the same domain
function (:func:`thcli.referrals.add_referral`), so one path holds every rule:

- each typed answer goes through the parser of its option (parse.py) and the
  referral's own checks (:func:`thcli.referrals.check`); a bad answer shows why
  under the question and is asked again, and no earlier answer is lost;
- choices come from the scheme's code lists;
- branches: a rented home asks for the landlord; a phone asks whether it is
  safe to call, text and leave a voicemail (each defaulting to no); the time
  the referral came in defaults to now for a referral received today (hour
  targets count from it); each of the scheme's eligibility rules (route,
  MARAC, risk, tenure, staying at home: eligibility.py) offers, when it
  fails, to save the referral as declined with a reason, or to go on;
- name, date of birth or postcode matching an earlier client shows the earlier
  cases at once;
- a summary comes before saving, with save / change an answer / cancel.

Ctrl-C, Ctrl-D or "cancel" at any point saves nothing and says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import questionary
from questionary import Choice

from thcli import clock, codes, parse, referrals, workflow
from thcli.cases import is_rented
from thcli.db import Database
from thcli.errors import BadInput, NotAllowed

#: The value of a "not known" choice (questionary turns a None value into the title).
NOT_KNOWN = "__not_known__"
NOTHING_SAVED = "Nothing was saved."

SAVE, CHANGE, GO_ON, CANCEL, BACK = "save", "change", "go_on", "cancel", "back"
DECLINE = "decline"

CONSENT_TITLES = {
    "police": "Police (needed for a police Crime Reduction Officer's survey)",
    "contractor": "Contractor (needed to order works, and for a contractor's surveyor)",
    "landlord": "Landlord",
    "county": "County partnership (pseudonymised figures)",
}

#: Printed when a section starts: what the coordinator should know before its questions.
SECTION_NOTES = {
    "Safe contact": "Every channel is unsafe unless marked safe.",
    "Perpetrator": ("Perpetrator details are optional. They are kept apart from the client's record "
                    "and never appear in a letter or an export."),
}

_FIELDS = {f.name for f in dataclasses.fields(referrals.ReferralInput)}
_OPTION_PREFIX = re.compile(r"^--[a-z-]+(?:, --[a-z-]+)*: ")

Answers = dict[str, Any]


@dataclass
class Step:
    """One question of the wizard.

    ``key`` is a field of ReferralInput, or one of the wizard's own answers
    (``perpetrator``: whether to record one; ``same_client``: the opposite of
    ``--new-client``). ``kind`` is text, select (from ``code_list``), yes_no,
    tri (yes, no, not known) or consent.
    """

    key: str
    section: str
    question: str
    kind: str = "text"
    parse: Callable[[str], Any] | None = None
    required: bool = False
    code_list: str | None = None
    default: Any = None
    when: Callable[[Answers], bool] | None = None
    #: the decline reason offered when this answer fails an eligibility test
    decline_code: str | None = None
    #: shown as the question's hint for optional text
    hint: str = "Enter to skip"

    def applies(self, answers: Answers) -> bool:
        return self.when is None or bool(self.when(answers))

    def default_for(self, answers: Answers) -> Any:
        """The answer offered before anything is typed (a default may depend on the answers so far)."""
        return self.default(answers) if callable(self.default) else self.default

    def parse_answer(self, text: str) -> Any:
        """A typed answer through the step's parser (every text step is declared with one)."""
        if self.parse is None:  # pragma: no cover - a programming error in build_steps
            raise ValueError(f"the {self.key} step has no parser")
        return self.parse(text)

    @property
    def list_name(self) -> str:
        """The code list a select step chooses from (every select step is declared with one)."""
        if self.code_list is None:  # pragma: no cover - a programming error in build_steps
            raise ValueError(f"the {self.key} step has no code list")
        return self.code_list


def _date(text: str):
    return parse.date(text, today=clock.today())


def _count(text: str) -> int:
    return parse.whole_number(text, minimum=0, maximum=1_000_000)


def _now_if_today(answers: Answers) -> Any:
    """A referral received today came in now, unless told otherwise; an earlier one's time is not known."""
    return clock.now().time() if answers.get("received_on") in (None, clock.today()) else None


def _given(key: str) -> Callable[[Answers], bool]:
    return lambda answers: answers.get(key) not in (None, False, 0, "")


def build_steps(db: Database) -> list[Step]:
    """The wizard's questions, in the order a coordinator hears them."""

    def rented(answers: Answers) -> bool:
        return is_rented(db, answers.get("tenure"))

    def has_referrer(answers: Answers) -> bool:
        route = answers.get("route")
        row = codes.get(db, "route", route) if route else None
        return not (route == "self" or (row and row["county_code"] == "self"))

    def same_client_question(answers: Answers) -> bool:
        return bool(_strict_matches(db, answers))

    districts = codes.list_codes(db, "district", include_retired=False)
    one_district = districts[0]["code"] if len(districts) == 1 else None
    referral, risk, client, address = "Referral", "Risk and MARAC", "Client", "Address"
    contact, household, tenure, staying = "Safe contact", "Household", "Tenure and landlord", "Staying at home"
    perp, consent = "Perpetrator", "Consent"
    perp_given = _given("perpetrator")
    return [
        Step("received_on", referral, "Date the referral was received", parse=_date, required=True,
             default=lambda answers: clock.today()),
        Step("received_time", referral, "Time the referral came in", parse=parse.time_of_day,
             default=_now_if_today, hint="e.g. 16:30; Enter if not known"),
        Step("route", referral, "How did the referral come in?", "select", code_list="route", required=True,
             decline_code="route_not_accepted"),
        Step("referrer_name", referral, "Referrer's name", parse=parse.name, when=has_referrer),
        Step("referrer_org", referral, "Referrer's organisation", parse=parse.name, when=has_referrer),
        Step("referrer_role", referral, "Referrer's role", parse=parse.name, when=has_referrer),
        Step("referrer_phone", referral, "Referrer's phone", parse=parse.phone, when=has_referrer),
        Step("referrer_email", referral, "Referrer's email", parse=parse.email, when=has_referrer),
        Step("support_worker", referral, "IDVA or support worker", parse=parse.name),
        Step("referral_form", referral, "Has the scheme's referral form been received?", "yes_no", default=False),
        Step("risk_level", risk, "Risk level from the DASH", "select", code_list="risk", required=True,
             decline_code="risk_not_eligible"),
        Step("dash_date", risk, "Date of the DASH risk assessment", parse=_date),
        Step("dash_score", risk, "DASH score (0 to 27)", parse=_count),
        Step("marac", risk, "Heard at MARAC?", "yes_no", default=False, decline_code="not_marac"),
        Step("marac_date", risk, "Date of the MARAC", parse=_date, when=_given("marac")),
        Step("emergency", risk, "Emergency (e.g. a same-day lock change)?", "yes_no", default=False),
        Step("crime_ref", risk, "Police crime reference", parse=parse.text),
        Step("name", client, "Client's full name", parse=parse.name, required=True),
        Step("dob", client, "Client's date of birth", parse=_date, hint="Enter if not known"),
        Step("gender", client, "Gender", "select", code_list="gender"),
        Step("ethnicity", client, "Ethnic group", "select", code_list="ethnicity"),
        Step("disabled", client, "Disabled?", "tri"),
        Step("access_needs", client, "Disability and access needs", parse=parse.text, when=_given("disabled")),
        Step("language", client, "Preferred language, if not English", parse=parse.name),
        Step("interpreter", client, "Needs an interpreter?", "yes_no", default=False, when=_given("language")),
        Step("nrpf", client, "No recourse to public funds?", "tri"),
        Step("lgbt", client, "Lesbian, gay, bisexual or trans?", "tri"),
        Step("mental_health_needs", client, "Mental health needs?", "tri"),
        Step("substance_use_needs", client, "Drug or alcohol needs?", "tri"),
        Step("address", address, "The home's address", parse=parse.text,
             hint="lines separated by commas, no postcode; Enter to skip"),
        Step("postcode", address, "The home's postcode", parse=parse.postcode, required=True),
        Step("district", address, "District", "select", code_list="district", required=True,
             default=one_district),
        Step("do_not_disclose", address, "Must the address never be disclosed?", "yes_no", default=False),
        Step("same_client", address, "Same person as the earlier client (link this referral to them)?",
             "yes_no", default=True, when=same_client_question),
        Step("phone", contact, "Client's phone", parse=parse.phone),
        Step("safe_call", contact, "Safe to call that phone?", "yes_no", default=False, when=_given("phone")),
        Step("safe_text", contact, "Safe to text that phone?", "yes_no", default=False, when=_given("phone")),
        Step("safe_voicemail", contact, "Safe to leave a voicemail on that phone?", "yes_no", default=False,
             when=_given("phone")),
        Step("email", contact, "Client's email", parse=parse.email),
        Step("safe_email", contact, "Safe to email the client?", "yes_no", default=False, when=_given("email")),
        Step("safe_post", contact, "Safe to post letters to the home?", "yes_no", default=False,
             when=_given("address")),
        Step("safe_times", contact, "When is it safe to make contact?", parse=parse.text),
        Step("third_party_name", contact, "A safe third party to contact (name)", parse=parse.name),
        Step("third_party_phone", contact, "The safe third party's phone", parse=parse.phone,
             when=_given("third_party_name")),
        Step("adults", household, "Adults in the household, the client included", parse=_count),
        Step("children", household, "Children in the household", parse=_count),
        Step("children_ages", household, "Children's ages (e.g. 3, 7)", parse=parse.text, when=_given("children")),
        Step("pregnant", household, "Pregnancy in the household?", "tri"),
        Step("tenure", tenure, "Tenure of the home", "select", code_list="tenure", decline_code="tenure_not_eligible"),
        Step("landlord_name", tenure, "Landlord's name", parse=parse.name, when=rented),
        Step("landlord_phone", tenure, "Landlord's phone", parse=parse.phone, when=rented),
        Step("landlord_email", tenure, "Landlord's email", parse=parse.email, when=rented),
        Step("chooses_to_stay", staying, "Does the client choose to stay in the home?", "tri",
             decline_code="not_staying"),
        Step("perpetrator_lives_there", staying, "Does the perpetrator live at the home?", "tri",
             decline_code="perpetrator_in_home"),
        Step("perpetrator_can_enter", staying, "Does the perpetrator have a right to enter the home?", "tri",
             decline_code="perpetrator_right_to_enter"),
        Step("perpetrator", perp, "Record details of the perpetrator now?", "yes_no", default=False),
        Step("perpetrator_name", perp, "Perpetrator's name", parse=parse.name, when=perp_given),
        Step("perpetrator_relationship", perp, "Relationship to the client", "select", code_list="relationship",
             when=perp_given),
        Step("perpetrator_whereabouts", perp, "Where the perpetrator is", "select", code_list="whereabouts",
             when=perp_given),
        Step("perpetrator_court_orders", perp, "Court orders in place", parse=parse.text, when=perp_given),
        Step("perpetrator_notes", perp, "Notes useful to the surveyor (e.g. DIY skills)", parse=parse.text,
             when=perp_given),
        Step("consent", consent, "Consent the client has given to share", "consent", default=[]),
        Step("note", consent, "A first note for the timeline", parse=parse.text),
    ]


def _strict_matches(db: Database, answers: Answers) -> list[dict]:
    """Earlier cases add_referral would link this client to (same name and date of birth or postcode)."""
    if not answers.get("name") or not (answers.get("dob") or answers.get("postcode")):
        return []
    return referrals.find_earlier(db, name=answers["name"], dob=answers.get("dob"),
                                  postcode=answers.get("postcode"))


def _plain(error: BadInput) -> str:
    """An error's message without the option name a prompt has no use for."""
    return _OPTION_PREFIX.sub("", error.bare_message if error.option else error.message)


def _outcome(case: dict) -> str:
    return case["status"] + (f": {case['reason']}" if case.get("reason") else "")


class Cancelled(Exception):
    """The coordinator chose to cancel."""

class ReferralWizard:
    """Asks the questions of :func:`build_steps`, then saves through referrals.add_referral."""

    def __init__(self, db: Database, *, by: str, answers: Answers | None = None, out=None):
        self.db = db
        self.by = by
        self.out = out
        self.steps = build_steps(db)
        #: step key -> answer (None: left empty or not known); a key not there is not asked yet
        self.answers: Answers = dict(answers or {})
        self.decline_reason: str | None = None
        #: eligibility problems already put to the coordinator (they chose to go on, or to decline)
        self.acknowledged: set[str] = set()
        self.shown_earlier: frozenset[str] = frozenset()
        self.section: str | None = None

    # --- talking -------------------------------------------------------------------

    def say(self, text: str = "", style: str | None = None) -> None:
        """A line between questions: styled on a terminal, plain text elsewhere."""
        out = self.out or sys.stdout
        if out.isatty():
            questionary.print(text, style=style, file=out)
        else:  # prompt_toolkit would end lines with \r\n
            print(text, file=out, flush=True)

    def _heading(self, section: str) -> None:
        if section != self.section:
            self.section = section
            self.say(f"\n— {section} —", style="bold")
            if section in SECTION_NOTES:
                self.say(SECTION_NOTES[section], style="italic")

    # --- the flow --------------------------------------------------------------------

    def run(self) -> referrals.AddResult | None:
        """Ask, show the summary, save: the new referral, or None when cancelled."""
        try:
            self.say("New referral. Ctrl-C at any point cancels and saves nothing.")
            while True:
                self._fill()
                self._check_eligibility()
                if self._missing():
                    continue
                choice = self._summary()
                if choice == SAVE:
                    try:
                        return referrals.add_referral(self.db, self.to_input(), by=self.by,
                                                      decline_reason=self.decline_reason)
                    except BadInput as error:
                        self.say(f"Not saved: {_plain(error)}. Change that answer and save again.",
                                 style="fg:ansired bold")
                elif choice == CHANGE:
                    self._change()
                elif choice == GO_ON:
                    self.decline_reason = None
                else:
                    raise Cancelled
        except (KeyboardInterrupt, EOFError, Cancelled):
            self.say(NOTHING_SAVED, style="bold")
            return None

    def _applicable(self) -> list[Step]:
        """The steps that apply to the answers so far; answers to the others are dropped."""
        steps = []
        for step in self.steps:
            if step.applies(self.answers):
                steps.append(step)
            else:
                self.answers.pop(step.key, None)
        return steps

    def _wanted(self, step: Step) -> bool:
        # Saving as declined needs only what a case cannot be saved without.
        return step.required or self.decline_reason is None

    def _missing(self) -> bool:
        return any(s.key not in self.answers and self._wanted(s) for s in self._applicable())

    def _fill(self) -> None:
        """Ask every question that applies and has no answer yet, in order."""
        for step in self.steps:
            if not step.applies(self.answers):
                self.answers.pop(step.key, None)
                continue
            if step.key in self.answers or not self._wanted(step):
                continue
            self._heading(step.section)
            self._answer(step)

    def _answer(self, step: Step) -> None:
        self.answers[step.key] = self.ask(step)
        if step.key in ("name", "dob", "postcode"):
            self._show_earlier()
        if step.decline_code:
            self._check_eligibility(only=step)

    # --- asking one question -----------------------------------------------------------

    def ask(self, step: Step) -> Any:
        current = self.answers.get(step.key)
        if current is None and step.key not in self.answers:
            current = step.default_for(self.answers)
        if step.kind == "text":
            return self._ask_text(step, current)
        if step.kind == "select":
            return self._ask_select(step, current)
        if step.kind == "yes_no":
            return questionary.confirm(step.question, default=bool(current), auto_enter=False).unsafe_ask()
        if step.kind == "tri":
            choices = [Choice("Yes", value=True), Choice("No", value=False), Choice("Not known", value=NOT_KNOWN)]
            answer = questionary.select(step.question, choices=choices,
                                        default=NOT_KNOWN if current is None else current,
                                        use_shortcuts=True).unsafe_ask()
            return None if answer == NOT_KNOWN else answer
        if step.kind == "consent":
            choices = [Choice(title, value=scope, checked=scope in (current or []))
                       for scope, title in CONSENT_TITLES.items()]
            return questionary.checkbox(step.question, choices=choices,
                                        instruction="(space to tick, Enter when done)").unsafe_ask()
        raise ValueError(f"unknown kind of question {step.kind!r}")

    def validate(self, step: Step, text: str) -> bool | str:
        """True, or why the typed answer cannot be taken (shown under the question, which is asked again).

        The answer goes through its option's parser, then through the referral's own
        rules (a date not in the future, a DASH score of 0 to 27...) with the answers so far.
        """
        if not text.strip():
            return f"an answer is needed: {step.question[0].lower()}{step.question[1:]}" if step.required else True
        try:
            referrals.check(self.db, self.to_input(**{step.key: step.parse_answer(text)}))
        except BadInput as error:
            return _plain(error)
        return True

    def _ask_text(self, step: Step, current: Any) -> Any:
        text = questionary.text(
            step.question, default=self._shown(step, current) if current is not None else "",
            validate=lambda typed: self.validate(step, typed), validate_while_typing=False,
            instruction=None if step.required else f"({step.hint})",
        ).unsafe_ask()
        return step.parse_answer(text) if text.strip() else None

    def _ask_select(self, step: Step, current: Any) -> Any:
        rows = codes.list_codes(self.db, step.list_name, include_retired=False)
        choices = [Choice(f"{row['label']} ({row['code']})", value=row["code"]) for row in rows]
        if not step.required:
            choices.append(Choice("Not known", value=NOT_KNOWN))
        if not choices:
            raise NotAllowed(f"the {step.list_name.replace('_', ' ')} list has no codes in use: add one with "
                             f"`thcli codes add {step.list_name} CODE LABEL`")
        values = [c.value for c in choices]
        default = current if current in values else (NOT_KNOWN if current is None and not step.required else None)
        answer = questionary.select(step.question, choices=choices, default=default, use_search_filter=True,
                                    use_jk_keys=False, instruction="(arrow keys, or type to filter)").unsafe_ask()
        return None if answer == NOT_KNOWN else answer

    # --- repeat referrals and eligibility ---------------------------------------------------

    def _show_earlier(self) -> None:
        """Earlier cases matching name, date of birth or postcode, as soon as one matches."""
        name, dob, postcode = (self.answers.get(k) for k in ("name", "dob", "postcode"))
        found = referrals.find_earlier(self.db, name=name, dob=dob, postcode=postcode, loose=True)
        refs = frozenset(row["ref"] for row in found)
        if not found or refs <= self.shown_earlier:
            return
        self.shown_earlier |= refs
        by = {
            "name": {r["id"] for r in referrals.find_earlier(self.db, name=name, loose=True)} if name else set(),
            "date of birth": ({r["id"] for r in referrals.find_earlier(self.db, name=None, dob=dob, loose=True)}
                              if dob else set()),
            "postcode": ({r["id"] for r in referrals.find_earlier(self.db, name=None, postcode=postcode, loose=True)}
                         if postcode else set()),
        }
        self.say("Possible repeat referral: earlier cases match.", style="fg:ansiyellow bold")
        for row in found:
            same = " and ".join(what for what, ids in by.items() if row["id"] in ids)
            self.say(f"  {row['ref']}  received {parse.format_date(row['received_on'])}  {_outcome(row)}"
                     f"  (same {same})", style="fg:ansiyellow")

    def _problems(self, **fields: Any) -> list[str]:
        """The rules the answers so far fail: the risk level's, and those of ``fields`` (a rule whose answer
        is not given is not tested)."""
        case = {"risk_level": self.answers.get("risk_level"), **fields}
        return workflow.eligibility_problems(self.db, case, documents=False)

    def _check_eligibility(self, only: Step | None = None) -> None:
        """Say which eligibility rule fails, and offer to save as declined or go on."""
        if self.decline_reason is not None:
            return
        risk = self._problems()
        for step in [only] if only else [s for s in self.steps if s.decline_code]:
            if step.key not in self.answers:
                continue
            found = risk if step.key == "risk_level" else [
                p for p in self._problems(**{step.key: self.answers[step.key]}) if p not in risk
            ]
            for problem in found:
                if problem in self.acknowledged:
                    continue
                self.acknowledged.add(problem)
                self.say(f"Not eligible: {problem}.", style="fg:ansired bold")
                choice = questionary.select(
                    "What now?",
                    choices=[Choice("Go on with the referral", value=GO_ON),
                             Choice("Save it as declined, with a reason", value=DECLINE)],
                    default=GO_ON, use_shortcuts=True,
                ).unsafe_ask()
                if choice == DECLINE:
                    self.decline_reason = self._ask_decline_reason(step.decline_code)
                    self.say("Only what is needed to save the case is asked now.", style="italic")
                    return

    def _ask_decline_reason(self, suggested: str | None) -> str:
        rows = codes.list_codes(self.db, "decline_reason", include_retired=False)
        if not rows:
            raise NotAllowed("the decline reason list has no codes in use: add one with "
                             "`thcli codes add decline_reason CODE LABEL`")
        choices = [Choice(f"{row['label']} ({row['code']})", value=row["code"]) for row in rows]
        default = suggested if suggested in [r["code"] for r in rows] else None
        return questionary.select("Reason for declining", choices=choices, default=default,
                                  use_search_filter=True, use_jk_keys=False,
                                  instruction="(arrow keys, or type to filter)").unsafe_ask()

    # --- summary and changes ---------------------------------------------------------------

    def _shown(self, step: Step, value: Any) -> str:
        """An answer as the coordinator reads it (and edits it, for text)."""
        if step.kind == "consent":
            return ", ".join(value) if value else "none yet"
        if value is None:
            return "not known" if step.kind in ("tri", "select") else "—"
        if step.kind in ("yes_no", "tri"):
            return "yes" if value else "no"
        if step.kind == "select":
            return codes.label(self.db, step.list_name, value)
        if isinstance(value, dt.time):
            return parse.format_time(value)
        if hasattr(value, "isoformat"):
            return parse.format_date(value)
        return str(value)

    def _summary(self) -> str:
        self.section = None
        self.say("\n— Summary —", style="bold")
        section = None
        for step in self._applicable():
            if step.key not in self.answers or (step.kind == "text" and self.answers[step.key] is None):
                continue  # not asked, or left empty
            if step.section != section:
                section = step.section
                self.say(f"{section}:", style="bold")
            shown = self._shown(step, self.answers[step.key])
            self.say(f"  {step.question.rstrip('?')}: {shown.replace(chr(10), ' / ')}")
        earlier = _strict_matches(self.db, self.answers) if self.answers.get("same_client", True) else []
        if earlier:
            self.say("Repeat referral of " + ", ".join(f"{r['ref']} ({_outcome(r)})" for r in earlier),
                     style="fg:ansiyellow")
        choices = [Choice("Save the referral", value=SAVE), Choice("Go back and change an answer", value=CHANGE)]
        if self.decline_reason is not None:
            label = codes.label(self.db, "decline_reason", self.decline_reason)
            self.say(f"It will be saved as declined: {label}.", style="fg:ansired bold")
            choices[0] = Choice("Save it as declined", value=SAVE)
            choices.append(Choice("Do not decline: go on with the referral", value=GO_ON))
        else:
            for problem in referrals.eligibility_warnings(self.db, self.to_input()):
                self.say(f"Not eligible: {problem} (you chose to go on).", style="fg:ansired")
        choices.append(Choice("Cancel: save nothing", value=CANCEL))
        return questionary.select("What now?", choices=choices, default=SAVE, use_shortcuts=True).unsafe_ask()

    def _change(self) -> None:
        steps = [s for s in self._applicable() if s.key in self.answers]
        choices = [Choice(f"{s.section}: {s.question.rstrip('?')} — "
                          f"{self._shown(s, self.answers[s.key]).replace(chr(10), ' / ')[:50]}", value=s.key)
                   for s in steps]
        choices.append(Choice("Back to the summary", value=BACK))
        key = questionary.select("Which answer?", choices=choices, use_search_filter=True, use_jk_keys=False,
                                 instruction="(arrow keys, or type to filter)").unsafe_ask()
        if key == BACK:
            return
        step = next(s for s in steps if s.key == key)
        self.section = step.section
        self._answer(step)

    # --- the result ---------------------------------------------------------------------

    def to_input(self, **override: Any) -> referrals.ReferralInput:
        """The answers as the ReferralInput that `referral add` would build from options."""
        answers = {**self.answers, **override}
        values = {k: v for k, v in answers.items() if k in _FIELDS and v is not None}
        for key in ("name", "postcode", "district", "route", "risk_level"):
            values.setdefault(key, None)
        values["consent"] = list(answers.get("consent") or [])
        values["new_client"] = answers.get("same_client") is False
        return referrals.ReferralInput(**values)


def referral_wizard(db: Database, *, by: str, answers: Answers | None = None) -> referrals.AddResult | None:
    """Ask for a referral in the terminal and save it: the result, or None when cancelled.

    ``answers`` (step key -> value, as the questions return them) are taken as
    given: they are not asked, and can still be changed from the summary.
    """
    return ReferralWizard(db, by=by, answers=answers).run()

