"""The questions of the referral wizard (``thcli referral new``), in the order a coordinator hears them on the
phone: each with its section, its parser (the same as the option's of ``thcli referral add``), its choices
from a code list, its default and when it is asked.

Plain data and functions: the questions are read and tested without loading questionary, which prompts.py
drives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from thcli import clock, codes, dates, parse, referrals
from thcli.cases import is_rented
from thcli.db import Database

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
    return dates.date(text, today=clock.today())


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
        return bool(strict_matches(db, answers))

    districts = codes.list_codes(db, "district", include_retired=False)
    one_district = districts[0]["code"] if len(districts) == 1 else None
    referral, risk, client, address = "Referral", "Risk and MARAC", "Client", "Address"
    contact, household, tenure, staying = "Safe contact", "Household", "Tenure and landlord", "Staying at home"
    perp, consent = "Perpetrator", "Consent"
    perp_given = _given("perpetrator")
    return [
        Step("received_on", referral, "Date the referral was received", parse=_date, required=True,
             default=lambda answers: clock.today()),
        Step("received_time", referral, "Time the referral came in", parse=dates.time_of_day,
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


def strict_matches(db: Database, answers: Answers) -> list[dict]:
    """Earlier cases add_referral would link this client to (same name and date of birth or postcode)."""
    if not answers.get("name") or not (answers.get("dob") or answers.get("postcode")):
        return []
    return referrals.find_earlier(db, name=answers["name"], dob=answers.get("dob"),
                                  postcode=answers.get("postcode"))
