"""The referral wizard end to end, in a real pseudo-terminal: `thcli referral new` as a coordinator runs it."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

#: (text of the question, what the coordinator types), in the wizard's order.
#: "\r" is the Enter key; a select list is answered by typing part of a choice.
CONVERSATION = [
    ("Date the referral was received", "\r"),  # today, the default
    ("Time the referral came in", "\r"),  # now, the default
    ("How did the referral come in", "idva\r"),
    ("Referrer's name", "Jo Referrer\r"),
    ("Referrer's organisation", "Northmoor IDVA Service\r"),
    ("Referrer's role", "IDVA\r"),
    ("Referrer's phone", "0113 496 0123\r"),
    ("Referrer's email", "jo.referrer@example.org\r"),
    ("IDVA or support worker", "\r"),
    ("referral form been received", "y\r"),
    ("Risk level from the DASH", "high\r"),
    ("Date of the DASH risk assessment", "\r"),
    ("DASH score", "16\r"),
    ("Heard at MARAC", "n\r"),
    ("Emergency", "\r"),
    ("Police crime reference", "\r"),
    ("Client's full name", "Alex Example\r"),
    ("Client's date of birth", "14/02/1990\r"),
    ("Gender", "woman\r"),
    ("Ethnic group", "\r"),
    ("Disabled", "2\r"),  # no
    ("Preferred language", "\r"),
    ("No recourse to public funds", "\r"),
    ("Lesbian, gay, bisexual or trans", "\r"),
    ("Mental health needs", "\r"),
    ("Drug or alcohol needs", "\r"),
    ("The home's address", "1 Example Street, Northmoor\r"),
    ("The home's postcode", "zz1 2ab\r"),
    ("District", "south\r"),
    ("never be disclosed", "y\r"),
    ("Client's phone", "07700 900123\r"),
    ("Safe to call that phone", "y\r"),
    ("Safe to text that phone", "n\r"),
    ("Safe to leave a voicemail", "\r"),
    ("Client's email", "\r"),
    ("Safe to post letters", "\r"),
    ("When is it safe to make contact", "Weekday mornings\r"),
    ("A safe third party", "\r"),
    ("Adults in the household", "1\r"),
    ("Children in the household", "2\r"),
    ("Children's ages", "4, 9\r"),
    ("Pregnancy in the household", "\r"),
    ("Tenure of the home", "private\r"),
    ("Landlord's name", "Example Lettings\r"),
    ("Landlord's phone", "\r"),
    ("Landlord's email", "\r"),
    ("choose to stay in the home", "1\r"),
    ("perpetrator live at the home", "2\r"),
    ("right to enter the home", "2\r"),
    ("Record details of the perpetrator", "\r"),
    ("Consent the client has given", " \r"),  # tick the first: police
    ("A first note for the timeline", "\r"),
    ("What now", "\r"),  # save
]


def thcli_command() -> list[str]:
    script = Path(sys.executable).with_name("thcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "thcli"]


def test_the_wizard_in_a_terminal_saves_the_case(db, db_path, cli):
    # pexpect is not a terminal emulator: it never answers prompt_toolkit's cursor position requests, which
    # prompt_toolkit would wait for (about a second a question) without PROMPT_TOOLKIT_NO_CPR.
    env = {**os.environ, "THCLI_DB": str(db_path), "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1",
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = thcli_command()
    child = pexpect.spawn(command[0], [*command[1:], "referral", "new"], env=env, encoding="utf-8",
                          dimensions=(40, 120), timeout=20)
    try:
        for question, keys in CONVERSATION:
            child.expect_exact(question)
            child.send(keys)
        child.expect(r"Saved (TH-\d{4}-\d{4}) \(new\)\.")
        ref = child.match.group(1)
        child.expect_exact("Next steps (commands to copy):")
        child.expect_exact(f'thcli survey request {ref} --surveyor "NAME"')
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0

    case = cli.json("referral", "show", ref)
    today = dt.date.today().isoformat()
    assert case["received_at"].startswith(today + "T")
    assert (case["received_on"], case["route"], case["risk_level"], case["district"], case["tenure"],
            case["status"], case["dash_score"], case["marac"], case["emergency"], case["referral_form"]) == (
        today, "idva", "high", "southvale", "private_rented", "new", 16, False, False, True)
    assert case["referrer"] == {"name": "Jo Referrer", "organisation": "Northmoor IDVA Service", "role": "IDVA",
                                "phone": "0113 496 0123", "email": "jo.referrer@example.org"}
    client = case["client"]
    assert (client["name"], client["dob"], client["gender"], client["disabled"], client["address"],
            client["postcode"], client["do_not_disclose"]) == (
        "Alex Example", "1990-02-14", "woman", False, "1 Example Street, Northmoor", "ZZ1 2AB", True)
    assert case["safe_contact"] == {"call": True, "text": False, "voicemail": False, "email": False, "post": False}
    assert (case["contact"]["phone"], case["contact"]["safe_times"]) == ("07700 900123", "Weekday mornings")
    assert case["household"] == {"adults": 1, "children": 2, "children_ages": "4, 9", "pregnant": None}
    assert case["landlord"] == {"name": "Example Lettings", "email": None, "phone": None, "address": None,
                                "postcode": None}
    assert case["landlord_permission"] is None
    assert (case["eligibility"]["chooses_to_stay"], case["eligibility"]["perpetrator_lives_there"],
            case["eligibility"]["perpetrator_can_enter"]) == (True, False, False)
    assert case["consent"] == {"police": True, "contractor": False, "landlord": False, "county": False}
    assert [e["kind"] for e in case["timeline"]] == ["received", "consent"]
    assert re.fullmatch(r"TH-\d{4}-0001", case["ref"])
