"""The referral wizard (`thcli referral new`), driven key by key through prompt_toolkit pipe input.

Each test types what a coordinator would type. The keys follow the wizard's
question order, so a question asked out of turn (or a branch not taken) puts
every later answer in the wrong place and the test fails.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from freezegun import freeze_time
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tests.conftest import referral_args
from thcli import case_view, prompts, referrals, settings, wizard_steps
from thcli.db import write

ENTER = "\r"
DOWN = "\x1b[B"
CLEAR = "\x15"  # Ctrl-U: empties a text answer (a default, or a refused answer)
CTRL_C = "\x03"
YES, NO = "y" + ENTER, "n" + ENTER
#: the shortcuts of a yes / no / not known question
TRI = {True: "1" + ENTER, False: "2" + ENTER, None: "3" + ENTER}


@pytest.fixture(autouse=True)
def frozen():
    # real_asyncio: prompt_toolkit's event loop needs a clock that moves.
    with freeze_time("2026-11-20 10:00:00", real_asyncio=True):
        yield


def text(value: str) -> str:
    return CLEAR + value + ENTER


def pick(typed: str) -> str:
    """Choose from a code list by typing part of its label or code."""
    return typed + ENTER


def section_referral(route: str = "idva", received: str | None = None) -> list[str]:
    keys = [text(received) if received else ENTER, ENTER, pick(route)]  # the time: now, or not known
    if route != "self":
        keys += [text("Jo Referrer"), text("Northmoor IDVA Service"), text("IDVA"), text("0113 496 0123"),
                 text("jo.referrer@example.org")]
    return keys + [ENTER, YES]  # no support worker; referral form received


def section_risk(level: str = "high", marac: bool = False) -> list[str]:
    keys = [pick(level), text("18/11/2026"), text("16")]
    keys += [YES, text("19/11/2026")] if marac else [NO]
    return keys + [ENTER, ENTER]  # not an emergency; no crime reference


def section_client(name: str = "Alex Example", dob: str | None = None) -> list[str]:
    keys = [text(name), text(dob) if dob else ENTER]
    keys += [pick("woman"), ENTER]  # gender; ethnic group not known
    keys += [TRI[None], ENTER]  # disabled not known; no language
    return keys + [TRI[None]] * 4  # nrpf, lgbt, mental health, drugs or alcohol


def section_address(postcode: str = "ZZ1 2AB", street: str | None = "1 Example Street, Northmoor") -> list[str]:
    return [text(street) if street else ENTER, text(postcode), ENTER, NO]  # district: the first; may disclose


def section_contact(phone: str | None = None, safe: tuple[str, str, str] = (ENTER, ENTER, ENTER),
                    street: bool = True) -> list[str]:
    keys = [text(phone), *safe] if phone else [ENTER]
    keys += [ENTER]  # no email
    if street:
        keys += [ENTER]  # post: not safe (the default)
    return keys + [ENTER, ENTER]  # no safe times, no third party


def section_household() -> list[str]:
    return [text("1"), text("2"), text("4, 9"), TRI[False]]


def section_tenure(tenure: str | None = "owner", landlord: list[str] | None = None) -> list[str]:
    keys = [pick(tenure) if tenure else ENTER]
    return keys + (landlord or [])


def section_staying(stays=True, lives=False, enter=False) -> list[str]:
    return [TRI[stays], TRI[lives], TRI[enter]]


def section_consent(police: bool = True, contractor: bool = True) -> list[str]:
    keys = (" " if police else "") + DOWN + (" " if contractor else "") + ENTER
    return [keys, ENTER]  # no note


def happy_path(**changes) -> list[str]:
    return [
        *section_referral(), *section_risk(), *section_client(), *section_address(),
        *section_contact(phone="07700 900123", safe=(YES, NO, ENTER)),
        *section_household(), *section_tenure(), *section_staying(),
        NO,  # no perpetrator details
        *section_consent(),
    ]


#: Answers as the wizard's questions return them, for tests that start part-way.
KNOWN = {
    "received_on": dt.date(2026, 11, 20), "route": "idva", "referrer_name": "Jo Referrer", "referral_form": True,
    "risk_level": "high", "marac": False, "emergency": False, "name": "Alex Example", "gender": "woman",
    "address": "1 Example Street, Northmoor", "postcode": "ZZ1 2AB", "district": "northmoor",
    "do_not_disclose": False, "safe_post": False, "adults": 1, "tenure": "owner", "chooses_to_stay": True,
    "perpetrator_lives_there": False, "perpetrator_can_enter": False, "perpetrator": False,
    "consent": ["police", "contractor"],
}


def known(db, *, ask: tuple[str, ...] = (), **changes) -> dict:
    """Every answer given (KNOWN, else empty / no / not known), except those in ``ask``."""
    values = {**KNOWN, **changes}
    empty = {"yes_no": False, "consent": []}
    return {step.key: values.get(step.key, empty.get(step.kind)) for step in wizard_steps.build_steps(db)
            if step.key not in ask}


def run_wizard(db, keys: list[str], answers: dict | None = None):
    """Type the keys into the wizard; the input then ends (as Ctrl-D would), so a test never hangs."""
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("".join(keys))
        inp.close()
        return prompts.referral_wizard(db, by="test.coordinator", answers=answers)


def count_cases(db) -> int:
    return db.execute("SELECT count(*) FROM cases").fetchone()[0]


# --- the happy path -------------------------------------------------------------------------------


def test_the_wizard_saves_what_referral_add_would_save_from_the_same_answers(db, cli, capsys):
    result = run_wizard(db, [*happy_path(), ENTER])  # Enter on the summary: save

    assert (result.ref, result.status, result.warnings, result.repeat_of) == ("TH-2026-0001", "new", [], [])
    printed = capsys.readouterr().out
    for heading in ("Referral", "Risk and MARAC", "Client", "Address", "Safe contact", "Household",
                    "Tenure and landlord", "Staying at home", "Perpetrator", "Consent", "Summary"):
        assert f"— {heading} —" in printed
    assert "Every channel is unsafe unless marked safe." in printed
    assert "kept apart from the client's record and never appear in a letter or an export" in printed

    typed = cli("referral", "add", *referral_args(**{
        "--received": "20/11/2026", "--referrer": "Jo Referrer", "--referrer-org": "Northmoor IDVA Service",
        "--referrer-role": "IDVA", "--referrer-phone": "0113 496 0123",
        "--referrer-email": "jo.referrer@example.org", "--referral-form": True, "--dash-date": "18/11/2026",
        "--dash-score": "16", "--no-marac": True, "--name": "Alex Example", "--gender": "woman",
        "--address": "1 Example Street, Northmoor", "--phone": "07700 900123", "--safe-to-call": True,
        "--adults": "1", "--children": "2", "--children-ages": "4, 9", "--not-pregnant": True,
        "--tenure": "owner", "--chooses-to-stay": True, "--perpetrator-lives-elsewhere": True,
        "--perpetrator-cannot-enter": True, "--consent": "police,contractor", "--new-client": True,
    }))
    assert typed.exit_code == 0, typed.stderr
    by_wizard = case_view.show_case(db, "TH-2026-0001", by="test.coordinator")
    by_options = case_view.show_case(db, "TH-2026-0002", by="test.coordinator")
    assert by_wizard.pop("ref") == "TH-2026-0001" and by_options.pop("ref") == "TH-2026-0002"
    assert by_wizard == by_options
    assert by_wizard["client"]["name"] == "Alex Example"
    assert by_wizard["safe_contact"] == {"call": True, "text": False, "voicemail": False, "email": False,
                                         "post": False}
    assert by_wizard["consent"] == {"police": True, "contractor": True, "landlord": False, "county": False}
    assert (by_wizard["received_on"], by_wizard["route"], by_wizard["risk_level"], by_wizard["district"],
            by_wizard["tenure"], by_wizard["landlord_permission"]) == (
        "2026-11-20", "idva", "high", "northmoor", "owner", "not_needed")


def test_the_command_prints_the_new_reference_and_the_next_steps_to_copy(db, cli, monkeypatch):
    monkeypatch.setattr("thcli.commands.referral.stdin_is_terminal", lambda: True)
    keys = [*section_referral(), *section_risk(), *section_client(), *section_address(), *section_contact(),
            *section_household(), *section_tenure(), *section_staying(), NO,
            *section_consent(police=False, contractor=False), ENTER]
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("".join(keys))
        inp.close()
        result = cli("referral", "new")
    assert result.exit_code == 0, result.stderr
    tail = result.stdout[result.stdout.index("Saved"):]
    assert tail == (
        "Saved TH-2026-0001 (new).\n"
        "Next steps (commands to copy):\n"
        "  thcli referral consent TH-2026-0001 --scope police,contractor   # once the client agrees\n"
        '  thcli survey request TH-2026-0001 --surveyor "NAME"             # the police Crime Reduction Officer\n'
        "  thcli letter make TH-2026-0001 acknowledgement                  # to the referrer\n"
    )
    assert result.stderr == ""


def test_without_a_terminal_the_wizard_does_not_start(db, cli):
    result = cli("referral", "new")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: the wizard needs a terminal: from a script, log the referral with the options of "
        "`thcli referral add`, at least --name, --postcode, --district, --route and --risk "
        "(see `thcli referral add --help`)\n"
    )
    assert count_cases(db) == 0


def test_questionary_is_imported_only_when_the_wizard_runs():
    code = ("import sys, thcli.cli, thcli.commands.referral, thcli.referrals; "
            "print('questionary' in sys.modules, 'thcli.prompts' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown == "False False\n"


# --- branches -----------------------------------------------------------------------------------------


def test_a_rented_home_asks_for_the_landlord(db):
    landlord = [text("Example Lettings"), text("020 7946 0123"), text("lettings@example.org")]
    result = run_wizard(db, [pick("private"), *landlord, ENTER],
                        known(db, ask=("tenure", "landlord_name", "landlord_phone", "landlord_email")))
    case = referrals.case_row(db, result.ref)
    assert (case["tenure"], case["landlord_name"], case["landlord_phone"], case["landlord_email"]) == (
        "private_rented", "Example Lettings", "020 7946 0123", "lettings@example.org")
    assert case["landlord_permission"] is None  # to be asked for: works need it


def test_a_home_that_is_not_rented_asks_nothing_about_a_landlord(db):
    result = run_wizard(db, [pick("owner"), ENTER],
                        known(db, ask=("tenure", "landlord_name", "landlord_phone", "landlord_email")))
    case = referrals.case_row(db, result.ref)
    assert (case["tenure"], case["landlord_name"], case["landlord_permission"]) == ("owner", None, "not_needed")


@pytest.mark.parametrize(("typed", "saved"), [
    ((ENTER, ENTER, ENTER), (0, 0, 0)),
    ((ENTER, YES, ENTER), (0, 1, 0)),
    ((YES, NO, YES), (1, 0, 1)),
])
def test_a_phone_asks_each_safe_channel_separately_each_defaulting_to_no(db, typed, saved):
    ask = ("phone", "safe_call", "safe_text", "safe_voicemail")
    result = run_wizard(db, [text("07700 900456"), *typed, ENTER], known(db, ask=ask))
    contact = db.execute("SELECT phone, safe_call, safe_text, safe_voicemail FROM contacts WHERE case_id = ?",
                         [result.case_id]).fetchone()
    assert contact == ("07700 900456", *saved)


def test_no_phone_asks_nothing_about_calls(db):
    ask = ("phone", "safe_call", "safe_text", "safe_voicemail", "email")
    result = run_wizard(db, [ENTER, text("alex@example.org"), ENTER], known(db, ask=ask))
    contact = db.execute("SELECT phone, email, safe_call, safe_email FROM contacts WHERE case_id = ?",
                         [result.case_id]).fetchone()
    assert contact == (None, "alex@example.org", 0, 0)


def test_a_self_referral_asks_for_no_referrer(db):
    ask = ("route", "referrer_name", "referrer_org", "referrer_role", "referrer_phone", "referrer_email",
           "support_worker")
    result = run_wizard(db, [pick("self"), text("Sam Supportworker"), ENTER], known(db, ask=ask))
    case = referrals.case_row(db, result.ref)
    assert (case["route"], case["referrer_name"], case["support_worker"]) == ("self", None, "Sam Supportworker")


def test_perpetrator_details_are_optional_and_kept_apart(db, capsys):
    ask = ("perpetrator", "perpetrator_name", "perpetrator_relationship", "perpetrator_whereabouts",
           "perpetrator_court_orders", "perpetrator_notes")
    keys = [YES, text("Pat Example"), pick("former"), pick("bail"), text("Non-molestation order"),
            text("Good with tools"), ENTER]
    result = run_wizard(db, keys, known(db, ask=ask))
    assert ("Perpetrator details are optional. They are kept apart from the client's record and never "
            "appear in a letter or an export.") in capsys.readouterr().out
    row = db.execute("SELECT name, relationship, whereabouts, court_orders, notes FROM perpetrators "
                     "WHERE case_id = ?", [result.case_id]).fetchone()
    assert row == ("Pat Example", "ex_partner", "bail_conditions", "Non-molestation order", "Good with tools")
    assert "Pat Example" not in json.dumps(case_view.show_case(db, result.ref, by="test.coordinator"))


def test_no_perpetrator_details_saves_no_perpetrator(db):
    result = run_wizard(db, [ENTER, ENTER], known(db, ask=("perpetrator",)))  # the default: no
    assert db.execute("SELECT count(*) FROM perpetrators WHERE case_id = ?", [result.case_id]).fetchone()[0] == 0


# --- eligibility -----------------------------------------------------------------------------------


def test_a_failed_risk_rule_can_be_saved_as_declined_asking_only_what_the_case_needs(db, capsys):
    with write(db):
        settings.put(db, "eligible_risks", ["high"])
    keys = [*section_referral(),
            pick("standard"),
            "2" + ENTER,  # save it as declined
            ENTER,  # the reason offered: risk_not_eligible
            # only the client's name, the postcode and the district are still needed
            text("Alex Example"), text("ZZ1 2AB"), pick("southvale"),
            ENTER]  # save
    result = run_wizard(db, keys)
    assert (result.status, result.warnings) == ("declined", [])
    case = referrals.case_row(db, result.ref)
    assert (case["status"], case["reason"], case["district"], case["dash_date"]) == (
        "declined", "risk_not_eligible", "southvale", None)
    printed = capsys.readouterr().out
    assert ('Not eligible: rule "eligible risk levels" (setting eligible_risks): risk level standard is not one this '
            "scheme helps (it helps high).\n" in printed)
    assert "It will be saved as declined: The risk level is not one the scheme can help with.\n" in printed
    assert referrals.next_steps(db, result) == [f"thcli letter make {result.ref} decline   # tell the referrer why"]


@pytest.mark.parametrize(("keys", "problem", "reason"), [
    ([TRI[False]], 'rule "client chooses to stay": the client does not choose to stay in the home', "not_staying"),
    ([TRI[True], TRI[True]], 'rule "perpetrator lives elsewhere": the perpetrator lives at the home',
     "perpetrator_in_home"),
    ([TRI[True], TRI[False], TRI[True]], 'rule "no right of entry": the perpetrator has a right to enter the home',
     "perpetrator_right_to_enter"),
])
def test_a_failed_eligibility_test_names_it_and_offers_its_own_reason(db, capsys, keys, problem, reason):
    ask = ("chooses_to_stay", "perpetrator_lives_there", "perpetrator_can_enter", "perpetrator", "consent")
    # declined with the reason offered; nothing more is asked before the summary (save)
    result = run_wizard(db, [*keys, "2" + ENTER, ENTER, ENTER], known(db, ask=ask))
    case = referrals.case_row(db, result.ref)
    assert (case["status"], case["reason"]) == ("declined", reason)
    assert f"Not eligible: {problem}.\n" in capsys.readouterr().out


def test_going_on_after_a_failed_test_saves_the_referral_with_the_warning(db):
    ask = ("chooses_to_stay", "perpetrator_lives_there", "perpetrator_can_enter")
    keys = [TRI[False], "1" + ENTER,  # does not choose to stay; go on
            TRI[False], TRI[False], ENTER]
    result = run_wizard(db, keys, known(db, ask=ask))
    assert (result.status, result.warnings) == (
        "new", ['eligibility rule "client chooses to stay": the client does not choose to stay in the home'])


def test_a_declined_referral_can_go_on_after_all_from_the_summary(db, capsys):
    with write(db):
        settings.put(db, "eligible_risks", ["high"])
    ask = ("risk_level", "dash_date", "dash_score", "chooses_to_stay", "name", "note")
    keys = [pick("medium"), "2" + ENTER, ENTER,
            text("Alex Example"),  # the only question still needed to save it declined
            "3" + ENTER,  # the summary: do not decline, go on with the referral
            # the questions left out are asked now, in order
            text("18/11/2026"), text("16"), TRI[True], text("Referred by the IDVA on the phone"),
            ENTER]
    result = run_wizard(db, keys, known(db, ask=ask))
    assert result.status == "new"
    assert result.warnings == [
        'eligibility rule "eligible risk levels" (setting eligible_risks): risk level medium is not one this scheme '
        "helps (it helps high)"]
    case = referrals.case_row(db, result.ref)
    assert (case["dash_date"], case["dash_score"], case["chooses_to_stay"]) == ("2026-11-18", 16, 1)
    assert ('Not eligible: rule "eligible risk levels" (setting eligible_risks): risk level medium is not one this '
            "scheme helps (it helps high) (you chose to go on).\n" in capsys.readouterr().out)


# --- repeat referrals ------------------------------------------------------------------------------


def _earlier(db, name: str = "Alex Example", decline_reason: str | None = None):
    data = referrals.ReferralInput(name=name, postcode="ZZ1 2AB", district="northmoor", route="police",
                                   risk_level="high")
    return referrals.add_referral(db, data, by="test.coordinator", decline_reason=decline_reason)


def test_an_earlier_client_is_shown_as_soon_as_the_name_matches(db, capsys):
    with freeze_time("2025-03-02 10:00:00", real_asyncio=True):
        _earlier(db)
    _earlier(db, decline_reason="out_of_area")
    assert run_wizard(db, [text("Alex Example"), CTRL_C], known(db, ask=("name", "dob", "postcode"))) is None
    assert capsys.readouterr().out.endswith(
        "Possible repeat referral: earlier cases match.\n"
        "  TH-2025-0001  received 02/03/2025  new  (same name)\n"
        "  TH-2026-0001  received 20/11/2026  declined: out_of_area  (same name)\n"
        "Nothing was saved.\n"
    )


def test_a_repeat_referral_is_linked_to_the_earlier_client_when_confirmed(db, capsys):
    _earlier(db)
    keys = [text("Alex Example"), text("02/02/1990"), text("ZZ1 2AB"),
            ENTER,  # the same person as before: yes (the default)
            ENTER]
    result = run_wizard(db, keys, known(db, ask=("name", "dob", "postcode", "same_client")))
    assert (result.ref, result.repeat_of) == ("TH-2026-0002", ["TH-2026-0001"])
    printed = capsys.readouterr().out
    assert "  TH-2026-0001  received 20/11/2026  new  (same name)\n" in printed
    assert printed.count("TH-2026-0001  received") == 1  # the postcode matches the same case: not shown again
    assert "Repeat referral of TH-2026-0001 (new)\n" in printed  # in the summary
    assert result.warnings == ["repeat referral: earlier case TH-2026-0001 (new)"]


def test_a_matching_date_of_birth_or_postcode_alone_is_shown_but_not_linked(db, capsys):
    with freeze_time("2026-11-01 10:00:00", real_asyncio=True):
        referrals.add_referral(db, referrals.ReferralInput(
            name="Sam Example", dob=dt.date(1990, 2, 2), postcode="ZZ9 9ZZ", district="northmoor",
            route="police", risk_level="high"), by="test.coordinator")
        _earlier(db, "Jo Example")
    keys = [text("Alex Example"), text("02/02/1990"), text("ZZ1 2AB"), ENTER]  # no same-person question
    result = run_wizard(db, keys, known(db, ask=("name", "dob", "postcode", "same_client")))
    assert result.repeat_of == []
    assert (
        "— Client —\n"
        "Possible repeat referral: earlier cases match.\n"
        "  TH-2026-0001  received 01/11/2026  new  (same date of birth)\n"
        "\n— Address —\n"
        "Possible repeat referral: earlier cases match.\n"
        "  TH-2026-0001  received 01/11/2026  new  (same date of birth)\n"
        "  TH-2026-0002  received 01/11/2026  new  (same postcode)\n"
        "\n— Summary —\n"
    ) in capsys.readouterr().out


def test_a_different_person_with_the_same_name_and_postcode_is_kept_apart(db):
    _earlier(db)
    result = run_wizard(db, [NO, ENTER], known(db, ask=("same_client",)))
    assert result.repeat_of == []
    assert db.execute("SELECT count(*) FROM clients").fetchone()[0] == 2


# --- bad answers ---------------------------------------------------------------------------------------


def test_bad_answers_are_asked_again_and_earlier_answers_kept(db):
    keys = [text("31/02/2026"), text("21/11/2026"), text("11/19/2026"), text("19/11/2026"),  # received
            text("25:00"), text("4.30pm"),  # the time it came in
            pick("idva"), text("Jo Referrer"), ENTER, ENTER, text("12"), text("0113 496 0123"),
            text("jo@example"), text("jo@example.org"), ENTER, NO,
            pick("high"), text("yesterday"), text("30"), text("27"), NO, ENTER, ENTER,
            text("   "), text("Alex Example"), text("01/01/2027"), text("1990-05-04"), *section_client()[2:],
            text("1 Example Street"), text("SW1A"), text("zz12ab"), ENTER, NO,
            *section_contact(), text("0"), text("1"), text("0"), TRI[None], *section_tenure(), *section_staying(),
            NO, *section_consent(), ENTER]
    result = run_wizard(db, keys)
    assert result is not None
    case = referrals.case_row(db, result.ref)
    assert (case["received_on"], case["received_at"], case["referrer_phone"], case["referrer_email"],
            case["dash_date"], case["dash_score"], case["adults"], case["children"]) == (
        "2026-11-19", "2026-11-19T16:30", "0113 496 0123", "jo@example.org", "2026-11-19", 27, 1, 0)
    assert db.execute("SELECT name, dob FROM clients").fetchone() == ("Alex Example", "1990-05-04")
    assert db.execute("SELECT postcode FROM addresses").fetchone() == ("ZZ1 2AB",)


@pytest.mark.parametrize(("key", "typed", "message"), [
    ("received_on", "31/02/2026",
     "'31/02/2026' is not a real date: use DD/MM/YYYY (day first), 22 November 2026 or YYYY-MM-DD"),
    ("received_on", "11/19/2026", "'11/19/2026' looks like US order (month first): write 19/11/2026"),
    ("received_on", "21/11/2026", "21/11/2026 is in the future: a referral is logged once received"),
    ("received_on", "", "an answer is needed: date the referral was received"),
    ("dash_score", "30", "30 is not a DASH score: use 0 to 27"),
    ("dash_score", "ten", "'ten' is not a whole number: use digits 0-9, from 0 to 1000000"),
    ("dob", "01/01/2027", "01/01/2027 is in the future"),
    ("postcode", "SW1A", "'SW1A' is not a UK postcode: write it like PE21 6AB"),
    ("phone", "12", "'12' has too few digits for a phone number: write it like 01205 318539 or +44 1205 318539"),
    ("referrer_email", "jo@example", "'jo@example' is not an email address: write it like name@example.org"),
    ("adults", "0", "a household has at least one adult (the client)"),
    ("name", " ", "an answer is needed: client's full name"),
])
def test_a_bad_answer_says_why(db, key, typed, message):
    wizard = prompts.ReferralWizard(db, by="test.coordinator")
    step = next(s for s in wizard.steps if s.key == key)
    assert wizard.validate(step, typed) == message


def test_an_answer_is_checked_against_the_answers_before_it(db):
    wizard = prompts.ReferralWizard(db, by="test.coordinator", answers={"received_on": dt.date(2026, 11, 1)})
    dob = next(s for s in wizard.steps if s.key == "dob")
    assert wizard.validate(dob, "02/11/2026") == "the date of birth is after the referral date"
    assert wizard.validate(dob, "31/10/2026") is True
    assert wizard.validate(dob, "") is True  # optional


# --- the summary: change an answer, or cancel -----------------------------------------------------------


def test_going_back_to_change_an_answer_keeps_the_others(db):
    keys = [DOWN + ENTER,  # the summary: change an answer
            pick("postcode"), text("ZZ9 9ZZ"),
            ENTER]  # save
    result = run_wizard(db, keys, known(db, phone="07700 900123", safe_call=True))
    shown = case_view.show_case(db, result.ref, by="test.coordinator")
    assert (shown["client"]["postcode"], shown["client"]["name"], shown["safe_contact"]["call"]) == (
        "ZZ9 9ZZ", "Alex Example", True)


def test_changing_an_answer_asks_the_questions_it_opens_and_drops_those_it_closes(db):
    keys = [DOWN + ENTER, pick("tenure"), pick("council"),  # now rented: the landlord is asked
            text("Northmoor District Council"), ENTER, ENTER,
            DOWN + ENTER, pick("client's phone"), CLEAR + ENTER,  # no phone: its safe channels go
            ENTER]
    result = run_wizard(db, keys, known(db, phone="07700 900123", safe_call=True))
    case = referrals.case_row(db, result.ref)
    assert (case["tenure"], case["landlord_name"]) == ("council", "Northmoor District Council")
    contact = db.execute("SELECT phone, safe_call FROM contacts WHERE case_id = ?", [result.case_id]).fetchone()
    assert contact == (None, 0)


def test_back_to_the_summary_changes_nothing(db):
    result = run_wizard(db, [DOWN + ENTER, pick("back to the summary"), ENTER], known(db))
    assert referrals.case_row(db, result.ref)["tenure"] == "owner"


def test_cancel_on_the_summary_saves_nothing(db, capsys):
    assert run_wizard(db, ["3" + ENTER], known(db)) is None
    assert capsys.readouterr().out.endswith("Nothing was saved.\n")
    assert count_cases(db) == 0
    assert db.execute("SELECT count(*) FROM clients").fetchone()[0] == 0


@pytest.mark.parametrize("stop", [CTRL_C, ""], ids=["ctrl-c", "end of input"])
def test_stopping_part_way_saves_nothing(db, capsys, stop):
    assert run_wizard(db, [*section_referral(), pick("high"), stop]) is None
    assert capsys.readouterr().out.endswith("Nothing was saved.\n")
    assert count_cases(db) == 0


@pytest.mark.parametrize("command", ["new", "add"])
def test_cancelling_the_command_exits_1(db, cli, monkeypatch, command):
    """`referral add` with no options in a terminal is the wizard too."""
    monkeypatch.setattr("thcli.commands.referral.stdin_is_terminal", lambda: True)
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text(ENTER + CTRL_C)
        inp.close()
        result = cli("referral", command)
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        "New referral. Ctrl-C at any point cancels and saves nothing.\n\n— Referral —\nNothing was saved.\n")
    assert count_cases(db) == 0
