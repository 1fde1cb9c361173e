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
from typing import Any

import questionary
from questionary import Choice

from thcli import codes, dates, referrals, workflow
from thcli.db import Database
from thcli.errors import BadInput, NotAllowed
from thcli.wizard_steps import Answers, Step, build_steps, strict_matches

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
            self.say(f"  {row['ref']}  received {dates.format_date(row['received_on'])}  {_outcome(row)}"
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
            return dates.format_time(value)
        if hasattr(value, "isoformat"):
            return dates.format_date(value)
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
        earlier = strict_matches(self.db, self.answers) if self.answers.get("same_client", True) else []
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

