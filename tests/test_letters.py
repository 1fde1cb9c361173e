"""Letters: the content of each kind, the safety rules, the records, templates and batches (domain level).

Every letter is made into a temporary folder and read back with python-docx
(paragraphs, tables, headers and footers), so each test checks what a
recipient would actually read. The helpers at the top (set_up, new_case,
letter_text, make) are shared with test_letters_cli.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import re
import stat
import zipfile
from pathlib import Path

import pytest
from freezegun import freeze_time

from thcli import case_files, letters, referrals, settings
from thcli.db import write
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.referrals import ReferralInput

TODAY = "2026-11-20"  # a Friday
SCHEME_ADDRESS = "Test Council, Civic Offices, 1 Sample Square, Northmoor, ZZ9 1AA"
SURVEYOR_ADDRESS = "Crime Reduction Officers, Example Constabulary, Police Station, Southvale, ZZ9 2BB"
PERPETRATOR = "Jordan Perpetratorexample"
HOME = "12 Sample Road"
OLD_HOME = "3 Old Lane"
ABUSE_WORDS = re.compile(r"abuse|domestic|perpetrator|victim", re.IGNORECASE)


def set_up(db) -> None:
    """The scheme's letterhead settings and a second (external) contractor."""
    with write(db):
        for key, value in {"scheme_address": SCHEME_ADDRESS, "scheme_phone": "020 7946 0000",
                           "scheme_email": "sanctuary@example.org", "surveyor_address": SURVEYOR_ADDRESS}.items():
            settings.put(db, key, settings.parse_value(db, key, value))
        db.conn.execute("UPDATE contractor_details SET address = ?, email = ? WHERE code = 'in_house'",
                        ["Council Repairs, Depot Lane, Northmoor, ZZ9 3CC", "repairs@example.org"])
        db.conn.execute("INSERT INTO codes (list, code, label, position) VALUES "
                        "('contractor', 'secure_homes', 'Secure Homes Example Ltd', 1)")
        db.conn.execute("INSERT INTO contractor_details (code, in_house, address, email) VALUES "
                        "('secure_homes', 0, 'Unit 4, Sample Estate, Southvale, ZZ9 7QQ', 'orders@example.org')")


def new_case(db, *, status: str = "new", lines=(), reason: str | None = None, fitted_on: str | None = None,
             closed_on: str | None = None, **overrides) -> str:
    """A high-risk council tenant referred by an IDVA on 16/11/2026, with a perpetrator recorded.

    ``lines`` are (code, quantity, status, contractor, location) and become
    measure lines of a survey requested on 17/11/2026; the case is then put at
    ``status`` directly (the lifecycle is tested elsewhere).
    """
    values = dict(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
        received_on=dt.date(2026, 11, 16), dob=dt.date(1990, 5, 1), address=f"{HOME}, Northmoor",
        referrer_name="Pat Idvaexample", referrer_org="Example IDVA Service", referrer_role="IDVA",
        referrer_email="pat@example.org", phone="020 7946 0123", safe_call=True, safe_times="Weekdays 9am to 3pm",
        email="alex@example.org", tenure="council", landlord_name="Example Homes Trust",
        landlord_email="lettings@example.org", perpetrator_name=PERPETRATOR,
        perpetrator_notes="Known to be good at DIY", consent=["police", "contractor", "landlord"], adults=1,
        children=2,
    )
    values.update(overrides)
    ref = referrals.add_referral(db, ReferralInput(**values), by="t").ref
    with write(db):
        case = referrals.case_row(db, ref)
        db.conn.execute("UPDATE cases SET status = ?, reason = ?, fitted_on = ?, closed_on = ? WHERE id = ?",
                        [status, reason, fitted_on, closed_on, case["id"]])
        survey_id = db["surveys"].insert({"case_id": case["id"], "surveyor": "PC Sam Surveyexample",
                                          "requested_on": "2026-11-17", "created_at": "2026-11-17T09:00:00Z"}).last_pk
        for number, (code, qty, line_status, contractor, location) in enumerate(lines, start=1):
            item = db.conn.execute("SELECT kind, removable, unit_cost_pence FROM measure_catalogue WHERE code = ?",
                                   [code]).fetchone()
            db["measure_lines"].insert({
                "case_id": case["id"], "line": number, "survey_id": survey_id, "code": code, "quantity": qty,
                "unit_cost_pence": item[2], "estimated_cost_pence": item[2] * qty, "kind": item[0],
                "removable": item[1], "location": location, "status": line_status, "contractor": contractor,
                "ordered_on": "2026-11-18" if line_status in ("ordered", "fitted") else None,
                "fitted_on": (fitted_on or "2026-11-19") if line_status == "fitted" else None,
            })
    return ref


LINES_ORDERED = (("lock_change_door", 2, "ordered", "secure_homes", "Front and back doors"),
                 ("fireproof_letterbox", 1, "ordered", "secure_homes", None))
LINES_FITTED = (("lock_change_door", 2, "fitted", "secure_homes", "Front and back doors"),
                ("window_alarm", 3, "fitted", None, "Ground floor"),
                ("door_jammer", 1, "fitted", None, None))
LINES_PROPOSED = (("lock_change_door", 2, "recommended", None, "Front and back doors"),
                  ("pir_light", 1, "approved", None, "Over the back door"))


def letter_text(path: Path) -> str:
    """Everything a reader sees: paragraphs, tables, headers and footers."""
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def make(db, ref, kind, tmp_path, **options) -> letters.Made:
    made = letters.make_letter(db, ref, kind, by="Jo Coordinator", out_dir=tmp_path / "letters", **options)
    assert len(made) == 1
    return made[0]


def move_client(db, ref: str) -> str:
    """Refer the same client again from a new home: the first case's address becomes a previous one."""
    new_ref = referrals.add_referral(db, ReferralInput(
        name="Alex Example", dob=dt.date(1990, 5, 1), postcode="ZZ1 7XY", address="40 Newhome Close, Northmoor",
        district="northmoor", route="idva", risk_level="high", received_on=dt.date(2026, 11, 19), safe_post=True,
        consent=["police", "contractor"]), by="t").ref
    assert referrals.case_row(db, new_ref)["client_id"] == referrals.case_row(db, ref)["client_id"]
    return new_ref


# --- every kind: required and forbidden content -------------------------------------------------------

#: kind -> (case set-up, recipient's name, text the letter must carry)
KIND_CASES = {
    "acknowledgement": (dict(status="new"), "Pat Idvaexample",
                        ["Referral received: Alex Example", "received on 16 November 2026",
                         "contact Alex Example by 23 November 2026", "complete by 23 November 2026",
                         "Example IDVA Service", "By email: pat@example.org"]),
    "decline": (dict(status="declined", reason="out_of_area", closed_on="2026-11-19"), "Pat Idvaexample",
                ["Referral of Alex Example: not accepted", "The home is outside the scheme's area",
                 "19 November 2026"]),
    "survey-request": (dict(status="survey"), "PC Sam Surveyexample",
                       ["Home security survey request", HOME, "ZZ1 2AB", "Telephone 020 7946 0123",
                        "do not leave a voicemail", "Safe times: Weekdays 9am to 3pm", "Police Station",
                        "ZZ9 2BB", "High", "1 adult and 2 children",
                        "Council tenancy", "23 November 2026"]),
    "landlord-permission": (dict(status="approval", lines=LINES_PROPOSED), "Example Homes Trust",
                            ["Permission for security improvements: Alex Example", HOME,
                             "Change of door locks (per door)", "Front and back doors",
                             "Security light with PIR sensor", "Over the back door", "By email: lettings@example.org"]),
    "works-order": (dict(status="works", lines=LINES_ORDERED), "Secure Homes Example Ltd",
                    ["Works order TH-2026-0001", HOME, "ZZ1 2AB", "Change of door locks (per door)",
                     "Front and back doors", "Fire-proof letterbox", "£85.00", "£170.00", "£80.00", "£250.00",
                     "Telephone 020 7946 0123", "Unit 4", "18 November 2026", "Urgent"]),
    "completion": (dict(status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19"), "Pat Idvaexample",
                   ["Security measures fitted: Alex Example", "Change of door locks (per door)", "Window alarm",
                    "Door jammer", "19 November 2026", "February 2027 and May 2027"]),
    "follow-up": (dict(status="follow_up", lines=LINES_FITTED, fitted_on="2026-08-14", safe_post=True),
                  "Alex Example",
                  ["Checking on your home security", "3 months", "14 August 2026", "Window alarm", HOME]),
    "bedroom-tax-evidence": (dict(status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19", safe_post=True),
                             "Alex Example",
                             ["Confirmation of sanctuary scheme measures", "Council tenancy",
                              "Change of door locks (per door)", "19 November 2026", "bedroom tax",
                              "Housing Benefit", f"at {HOME}"]),
    "equipment-removal": (dict(status="closed", lines=LINES_FITTED, fitted_on="2026-05-14", safe_post=True,
                               reason="completed", closed_on="2026-11-18"), "Alex Example",
                          ["Collecting lent security equipment", "Window alarm", "Door jammer", "14 May 2026"]),
}


@pytest.mark.parametrize("kind", list(letters.KINDS))
@freeze_time(TODAY)
def test_every_kind_says_what_its_recipient_needs_and_nothing_it_must_not(db, tmp_path, kind):
    set_up(db)
    setup, recipient_name, required = KIND_CASES[kind]
    ref = new_case(db, **setup)
    text = letter_text(make(db, ref, kind, tmp_path).path)
    for expected in ["Test Sanctuary Scheme", "Civic Offices", "1 Sample Square", "ZZ9 1AA", "020 7946 0000",
                     "sanctuary@example.org", "20 November 2026", ref, recipient_name, "Jo Coordinator",
                     *required]:
        assert expected in text, f"{kind}: {expected!r} missing"
    assert PERPETRATOR not in text and "Perpetratorexample" not in text
    assert "Known to be good at DIY" not in text
    assert "alex@example.org" not in text  # email not marked safe: never offered as a route
    assert "{{" not in text and "{%" not in text
    if kind in ("landlord-permission", "works-order"):
        assert not ABUSE_WORDS.search(text), ABUSE_WORDS.search(text)


@freeze_time(TODAY)
def test_letters_to_professionals_carry_the_protective_marking_and_letters_home_do_not(db, tmp_path):
    set_up(db)
    with write(db):
        settings.put(db, "protective_marking", "OFFICIAL-SENSITIVE PERSONAL")
    ref = new_case(db, status="follow_up", lines=LINES_FITTED, fitted_on="2026-08-14", safe_post=True)
    to_referrer = letter_text(make(db, ref, "follow-up", tmp_path, to="referrer").path)
    to_client = letter_text(make(db, ref, "follow-up", tmp_path, to="survivor").path)
    assert to_referrer.count("OFFICIAL-SENSITIVE PERSONAL") == 2  # header and footer
    assert "OFFICIAL-SENSITIVE" not in to_client


@pytest.mark.parametrize("kind", list(letters.KINDS))
@freeze_time(TODAY)
def test_a_do_not_disclose_address_is_only_on_the_works_order_and_survey_request(db, tmp_path, kind):
    set_up(db)
    setup, _, _ = KIND_CASES[kind]
    ref = new_case(db, **{**setup, "do_not_disclose": True})
    made = make(db, ref, kind, tmp_path)
    text = letter_text(made.path)
    if kind in ("works-order", "survey-request"):
        assert HOME in text and "ZZ1 2AB" in text
        assert "This address must not be disclosed" in text
    else:
        assert HOME not in text and "ZZ1 2AB" not in text
        assert "Alex Example" in text
    if made.recipient == "survivor":
        assert made.notes == ["the client's address is do-not-disclose, so it is not printed on the letter: "
                              "address the envelope by hand"]


@freeze_time(TODAY)
def test_the_survey_request_offers_only_the_safe_routes(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="survey", safe_call=False, safe_text=False, phone="020 7946 0999",
                   third_party_name="Sam Friendexample", third_party_phone="020 7946 0555")
    text = letter_text(make(db, ref, "survey-request", tmp_path).path)
    assert "020 7946 0999" not in text
    assert "Through Sam Friendexample on 020 7946 0555" in text


@freeze_time(TODAY)
def test_the_survey_request_without_any_safe_route_sends_the_surveyor_to_the_office(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="survey", safe_call=False, safe_times=None)
    text = letter_text(make(db, ref, "survey-request", tmp_path).path)
    assert "Only through the scheme office (020 7946 0000): do not contact the resident directly" in text
    assert "020 7946 0123" not in text


# --- the safety rules ---------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_letter_home_is_refused_unless_post_is_safe(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19")
    before = db.conn.execute("SELECT count(*) FROM letters").fetchone()[0]
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "completion", tmp_path, to="survivor")
    assert refused.value.rule == letters.SAFE_POST and refused.value.overridable
    assert refused.value.message == (
        f"{ref}: the completion letter is refused by the safety rule \"safe post\": post to the client's home is "
        f"not marked safe. Write to the referrer instead (--to referrer), or mark post safe with `thcli referral "
        f"edit {ref} --safe-post` once the client confirms it. If you are sure it is safe, add --override-safety "
        f"REASON (the override is audited).")
    assert db.conn.execute("SELECT count(*) FROM letters").fetchone()[0] == before
    assert not (tmp_path / "letters").exists()


@freeze_time(TODAY)
def test_the_safe_post_override_needs_a_reason_and_is_audited(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19")
    made = make(db, ref, "completion", tmp_path, to="survivor",
                override_reason="Client asked in person on 19/11 for a copy by post")
    assert made.override_reason == "Client asked in person on 19/11 for a copy by post"
    row = db.conn.execute("SELECT recipient, override_reason FROM letters").fetchone()
    assert row == ("survivor", "Client asked in person on 19/11 for a copy by post")
    actions = [r[0] for r in db.conn.execute("SELECT action || ' ' || detail FROM audit WHERE ref = ?", [ref])]
    assert "letter.override completion: safety rule safe post overridden (reason on the timeline)" in actions
    assert not any("Client asked" in a for a in actions)  # the free text stays out of the audit
    event = db.conn.execute("SELECT detail FROM events WHERE kind = 'letter'").fetchone()[0]
    assert event.endswith('(safety rule "safe post" overridden: Client asked in person on 19/11 for a copy by post)')
    with pytest.raises(BadInput, match="--override-safety"):
        make(db, ref, "completion", tmp_path, to="survivor", override_reason="   ")


@freeze_time(TODAY)
def test_an_override_that_is_not_needed_is_not_recorded(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="new")
    made = make(db, ref, "acknowledgement", tmp_path, override_reason="just in case")
    assert made.override_reason is None
    assert made.notes == ["--override-safety was not needed for this letter, so none was recorded"]
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'letter.override'").fetchone()[0] == 0


@freeze_time(TODAY)
def test_no_letter_goes_to_a_previous_address_even_with_an_override(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19", safe_post=True)
    move_client(db, ref)
    for kind, to in (("completion", "survivor"), ("bedroom-tax-evidence", None)):
        with pytest.raises(letters.LetterRefused) as refused:
            make(db, ref, kind, tmp_path, to=to, override_reason="sure")
        assert refused.value.rule == letters.PREVIOUS_ADDRESS and not refused.value.overridable
        assert "no longer the client's current address" in refused.value.message
    # The referrer can still be told, and the old address is not in what they read.
    text = letter_text(make(db, ref, "completion", tmp_path).path)
    assert HOME not in text


@freeze_time(TODAY)
def test_a_works_order_for_a_previous_address_is_refused(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED)
    move_client(db, ref)
    with pytest.raises(letters.LetterRefused, match='safety rule "previous address"'):
        make(db, ref, "works-order", tmp_path)


@freeze_time(TODAY)
def test_a_previous_address_mentioned_in_the_records_stops_the_letter(db, tmp_path):
    set_up(db)
    old = new_case(db, status="closed", reason="completed", closed_on="2026-11-18")
    new_ref = move_client(db, old)
    with write(db):
        case_id = referrals.case_row(db, new_ref)["id"]
        db.conn.execute("UPDATE cases SET status = 'works' WHERE id = ?", [case_id])
        db["measure_lines"].insert({"case_id": case_id, "line": 1, "code": "door_chain", "quantity": 1,
                                    "unit_cost_pence": 2000, "estimated_cost_pence": 2000, "kind": "works",
                                    "removable": 0, "status": "ordered", "contractor": "in_house",
                                    "location": f"Same chain as at {HOME}"})
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, new_ref, "works-order", tmp_path)
    assert refused.value.rule == letters.PREVIOUS_ADDRESS
    assert refused.value.why == "the location of item 1 of lines contains a previous address of the client"


@freeze_time(TODAY)
def test_the_perpetrators_name_in_the_records_stops_every_letter(db, tmp_path):
    set_up(db)
    lines = (("lock_change_door", 1, "ordered", "secure_homes", "Back door: jordan  PERPETRATOREXAMPLE has a key"),)
    ref = new_case(db, status="works", lines=lines)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "works-order", tmp_path)
    assert refused.value.rule == letters.NO_PERPETRATOR
    assert refused.value.why == ("the location of measure line 1 names 'jordan PERPETRATOREXAMPLE' (the "
                                 "perpetrator's name, or part of it), which no contractor may read")
    assert refused.value.message.endswith(f'Reword it with `thcli measures where {ref} 1 "TEXT"`.')
    assert not list((tmp_path / "letters").glob("*"))


@freeze_time(TODAY)
def test_a_decline_about_the_perpetrator_is_never_sent_home(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="declined", reason="perpetrator_in_home", closed_on="2026-11-19", safe_post=True)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "decline", tmp_path, to="survivor", override_reason="asked for it")
    assert refused.value.rule == letters.NO_PERPETRATOR and not refused.value.overridable
    text = letter_text(make(db, ref, "decline", tmp_path).path)  # the referrer is told why
    assert "The perpetrator lives at the home" in text


@pytest.mark.parametrize("kind, setup", [
    ("works-order", dict(status="works", lines=(("door_chain", 1, "ordered", "in_house",
                                                 "Victim asked for it on the inner door"),))),
    ("landlord-permission", dict(status="approval", lines=(("door_chain", 1, "recommended", None,
                                                            "Domestic incident damaged the frame"),))),
])
@freeze_time(TODAY)
def test_landlord_and_contractor_letters_give_no_account_of_the_abuse(db, tmp_path, kind, setup):
    set_up(db)
    ref = new_case(db, **setup)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, kind, tmp_path)
    assert refused.value.rule == letters.NO_ACCOUNT
    word, who = ("Victim", "contractor") if kind == "works-order" else ("Domestic", "landlord")
    assert refused.value.why == (f"the location of measure line 1 says {word!r} (a word about abuse or violence), "
                                 f"which no {who} may read")
    assert refused.value.message.endswith(f'Reword it with `thcli measures where {ref} 1 "TEXT"`.')


@freeze_time(TODAY)
def test_a_scheme_name_about_abuse_keeps_landlord_letters_back_but_not_referrer_letters(db, tmp_path):
    set_up(db)
    with write(db):
        settings.put(db, "scheme_name", "Northmoor Domestic Abuse Sanctuary Scheme")
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "landlord-permission", tmp_path)
    assert refused.value.why == ("the scheme's name (setting scheme_name) says 'Domestic', and a landlord letter "
                                 "gives no account of the abuse")
    new_ref = new_case(db, name="Jo Specimen", perpetrator_name=None)  # an acknowledgement is for a new case
    assert "Domestic Abuse" in letter_text(make(db, new_ref, "acknowledgement", tmp_path).path)


@pytest.mark.parametrize("kind, scope, setup", [
    ("survey-request", "police", dict(status="survey")),
    ("landlord-permission", "landlord", dict(status="approval", lines=LINES_PROPOSED)),
    ("works-order", "contractor", dict(status="works", lines=LINES_ORDERED)),
])
@freeze_time(TODAY)
def test_sharing_with_a_professional_needs_consent(db, tmp_path, kind, scope, setup):
    set_up(db)
    ref = new_case(db, consent=[s for s in ("police", "contractor", "landlord") if s != scope], **setup)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, kind, tmp_path)
    assert refused.value.rule == letters.CONSENT
    assert refused.value.message.endswith(f"Record it with `thcli referral consent {ref} --scope {scope}` once given.")


# --- what a letter needs ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, setup, message", [
    ("decline", dict(status="triage"), "TH-2026-0001 is triage, not declined: decline it first with "
                                       "`thcli referral move TH-2026-0001 declined --reason CODE`"),
    ("works-order", dict(status="works"), "TH-2026-0001 has no measures ordered from a contractor: order them "
                                          "with `thcli measures order TH-2026-0001 --contractor CODE`"),
    ("completion", dict(status="fitted"), "TH-2026-0001 has no measures fitted yet: record them with "
                                          "`thcli measures fitted TH-2026-0001 --date DATE`"),
    ("landlord-permission", dict(status="approval", tenure="owner", lines=LINES_PROPOSED),
     "TH-2026-0001: the home is not rented (tenure owner occupier), so there is no landlord to write to"),
    ("bedroom-tax-evidence", dict(status="fitted", lines=LINES_FITTED, tenure="private_rented", safe_post=True),
     "TH-2026-0001: the under-occupancy deduction applies only to council and housing association tenants, and "
     "this home's tenure is private rented. Correct the tenure with `thcli referral edit TH-2026-0001 --tenure "
     "CODE` if it is wrong"),
    ("survey-request", dict(status="closed", reason="completed"),
     "TH-2026-0001 is closed: a survey-request letter is only made for a case that is triage or survey"),
])
@freeze_time(TODAY)
def test_a_letter_the_case_cannot_have_is_refused_with_the_way_forward(db, tmp_path, kind, setup, message):
    set_up(db)
    ref = new_case(db, **setup)
    with pytest.raises(NotAllowed) as refused:
        make(db, ref, kind, tmp_path)
    assert refused.value.message == message
    assert not isinstance(refused.value, letters.LetterRefused)


@freeze_time(TODAY)
def test_a_self_referral_is_acknowledged_to_the_client(db, tmp_path):
    set_up(db)
    ref = new_case(db, route="self", referrer_name=None, referrer_org=None, referrer_role=None,
                   referrer_email=None, safe_post=True)
    made = make(db, ref, "acknowledgement", tmp_path)
    assert made.recipient == "survivor"
    text = letter_text(made.path)
    assert "Your request for help with home security" in text and "Dear Alex Example" in text
    with pytest.raises(NotAllowed, match="has no referrer recorded"):
        make(db, ref, "acknowledgement", tmp_path, to="referrer")


@freeze_time(TODAY)
def test_unknown_kind_recipient_and_case(db, tmp_path):
    set_up(db)
    ref = new_case(db)
    with pytest.raises(BadInput, match="'thank-you' is not a kind of letter: use one of acknowledgement, decline"):
        make(db, ref, "thank-you", tmp_path)
    with pytest.raises(BadInput) as bad:
        make(db, ref, "acknowledgement", tmp_path, to="landlord")
    assert bad.value.message == "--to: an acknowledgement letter goes to referrer or survivor, not 'landlord'"
    with pytest.raises(NotFound, match="there is no case 'TH-2026-0999'"):
        make(db, "TH-2026-0999", "acknowledgement", tmp_path)


@freeze_time(TODAY)
def test_a_works_order_goes_to_one_contractor_at_a_time(db, tmp_path):
    set_up(db)
    lines = LINES_ORDERED + (("door_chain", 1, "ordered", "in_house", "Front door"),)
    ref = new_case(db, status="works", lines=lines)
    with pytest.raises(BadInput) as bad:
        make(db, ref, "works-order", tmp_path)
    assert bad.value.message == ("--to: TH-2026-0001 has measures ordered from more than one contractor (in_house, "
                                 "secure_homes): make one works order at a time with --to CODE")
    made = make(db, ref, "works-order", tmp_path, to="in_house")
    assert made.path.name == f"{ref}-works-order-in-house-2026-11-20.docx"
    text = letter_text(made.path)
    assert "Door chain" in text and "Council Repairs" in text
    assert "Fire-proof letterbox" not in text  # ordered from the other contractor


# --- the file and its records -------------------------------------------------------------------------


@freeze_time(TODAY)
def test_the_file_is_private_named_and_recorded_with_its_hash(db, tmp_path):
    set_up(db)
    ref = new_case(db)
    made = make(db, ref, "acknowledgement", tmp_path)
    assert made.path == (tmp_path / "letters" / f"{ref}-acknowledgement-2026-11-20.docx")
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in made.path.parent.iterdir()] == [made.path.name]  # no temporary file left
    digest = hashlib.sha256(made.path.read_bytes()).hexdigest()
    assert made.sha256 == digest
    row = db.conn.execute("SELECT kind, recipient, path, sha256, made_by, override_reason FROM letters").fetchone()
    # Issue 12: a letter in the database's letters folder is recorded relative to it.
    assert row == ("acknowledgement", "referrer", made.path.name, digest, "Jo Coordinator", None)
    event = db.conn.execute("SELECT kind, detail, by FROM events WHERE kind = 'letter'").fetchone()
    assert event == ("letter", f"acknowledgement letter to the referrer made: {made.path.name}", "Jo Coordinator")
    audit_row = db.conn.execute("SELECT by, action, ref, detail FROM audit WHERE action = 'letter.make'").fetchone()
    assert audit_row == ("Jo Coordinator", "letter.make", ref, f"acknowledgement to referrer; sha256 {digest}")


@freeze_time(TODAY)
def test_the_document_properties_are_set_by_thcli(db, tmp_path):
    from docx import Document

    set_up(db)
    ref = new_case(db)
    props = Document(str(make(db, ref, "acknowledgement", tmp_path).path)).core_properties
    assert props.author == "Test Sanctuary Scheme"
    assert props.title == f"Acknowledgement of a referral: {ref}"
    assert props.subject == "Referral received: Alex Example"
    assert props.comments == "Made by thcli from the scheme's acknowledgement template on 20 November 2026."
    assert props.last_modified_by == "Jo Coordinator"
    assert props.created == dt.datetime(2026, 11, 20, 0, 0, tzinfo=dt.UTC)
    assert props.revision == 1
    for value in (props.author, props.comments, props.title, props.last_modified_by, props.keywords):
        assert "python-docx" not in value


@freeze_time(TODAY)
def test_a_letter_made_again_the_same_day_is_numbered_never_written_over(db, tmp_path):
    # Issue 11, hole 7: the second letter used to replace the first while both stayed on the record.
    set_up(db)
    ref = new_case(db)
    first = make(db, ref, "acknowledgement", tmp_path)
    first_bytes = first.path.read_bytes()
    with write(db):
        settings.put(db, "scheme_phone", "020 7946 0999")  # the second letter differs from the first
    second = make(db, ref, "acknowledgement", tmp_path)
    third = make(db, ref, "acknowledgement", tmp_path)
    folder = tmp_path / "letters"
    assert [first.path, second.path, third.path] == [
        folder / f"{ref}-acknowledgement-2026-11-20.docx", folder / f"{ref}-acknowledgement-2026-11-20-2.docx",
        folder / f"{ref}-acknowledgement-2026-11-20-3.docx"]
    assert first.path.read_bytes() == first_bytes
    recorded = db.conn.execute("SELECT path, sha256 FROM letters ORDER BY id").fetchall()
    assert len(recorded) == 3 and len({sha for _, sha in recorded}) >= 2
    for path, sha in recorded:  # every recorded path and hash is true to a file
        file = case_files.located(case_files.database_file(db), path)
        assert hashlib.sha256(file.read_bytes()).hexdigest() == sha
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (first.path, second.path, third.path))


@freeze_time(TODAY)
def test_an_out_folder_that_is_a_file_is_bad_input(db, tmp_path):
    set_up(db)
    ref = new_case(db)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(BadInput, match="--out: .*a-file is a file, not a folder"):
        letters.make_letter(db, ref, "acknowledgement", by="t", out_dir=tmp_path / "a-file")


def test_the_default_folder_is_beside_the_database(tmp_path):
    assert letters.default_out_dir(tmp_path / "data" / "thcli.db") == (tmp_path / "data" / "letters").resolve()


@freeze_time(TODAY)
def test_case_letters_lists_what_was_made(db, tmp_path):
    set_up(db)
    ref = new_case(db)
    made = make(db, ref, "acknowledgement", tmp_path)
    assert letters.case_letters(db, ref) == [{
        "kind": "acknowledgement", "recipient": "referrer", "file": made.path.name, "sha256": made.sha256,
        "made_at": "2026-11-20T00:00:00Z", "made_by": "Jo Coordinator", "override": False}]


# --- templates ------------------------------------------------------------------------------------------


def docx_with(*paragraphs: str | list[str]) -> bytes:
    """A small .docx; a list makes one paragraph of several runs (as Word splits a field)."""
    from docx import Document

    doc = Document()
    for text in paragraphs:
        p = doc.add_paragraph()
        for run in ([text] if isinstance(text, str) else text):
            p.add_run(run)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@freeze_time(TODAY)
def test_a_custom_template_is_checked_stored_and_used(db, tmp_path):
    set_up(db)
    ref = new_case(db)
    custom = tmp_path / "our-ack.docx"
    # Word often splits a field across runs: "{{ client" + "_name }}" must still merge.
    custom.write_bytes(docx_with("Northmoor letterhead", ["Dear {{ recip", "ient_name }}, about {{ client", "_name }}"],
                                 "Reference {{ ref }} on {{ date }}"))
    result = letters.use_template(db, "acknowledgement", custom, by="Jo Coordinator")
    assert result["fields"] == ["client_name", "date", "recipient_name", "ref"]
    assert letters.template_rows(db)[0]["template"] == "custom"
    assert letters.template_rows(db)[0]["filename"] == "our-ack.docx"
    text = letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    assert "Dear Pat Idvaexample, about Alex Example" in text
    assert f"Reference {ref} on 20 November 2026" in text
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'letter.template.use'").fetchone()[0] == 1
    exported = letters.export_template(db, "acknowledgement", tmp_path / "back.docx")
    assert exported["template"] == "custom"
    assert (tmp_path / "back.docx").read_bytes() == custom.read_bytes()
    letters.reset_template(db, "acknowledgement", by="Jo Coordinator")
    assert letters.template_rows(db)[0]["template"] == "default"
    assert "What happens next" in letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    with pytest.raises(NotAllowed, match="already uses thcli's default template"):
        letters.reset_template(db, "acknowledgement", by="t")


def test_unknown_merge_fields_are_reported_not_printed_blank(db, tmp_path):
    custom = tmp_path / "ack.docx"
    custom.write_bytes(docx_with("Dear {{ recipient_name }}", "{{ client_phone }} {{ lines }} {{ ref }}"))
    with pytest.raises(NotAllowed) as refused:
        letters.use_template(db, "acknowledgement", custom, by="t")
    assert refused.value.message.startswith(
        "ack.docx uses merge fields that an acknowledgement letter does not have: client_phone, lines (they would "
        "print blank). The fields of an acknowledgement letter are: scheme_name, scheme_address,")
    assert db.conn.execute("SELECT count(*) FROM letter_templates").fetchone()[0] == 0


def test_a_misspelt_attribute_is_caught_by_the_test_letter(db, tmp_path):
    custom = tmp_path / "wo.docx"
    custom.write_bytes(docx_with("{% for line in lines %}{{ line.colour }}{% endfor %}"))
    with pytest.raises(NotAllowed, match="a test works-order letter to the contractor failed: the template uses a "
                                         "merge field this letter does not have: .*colour"):
        letters.use_template(db, "works-order", custom, by="t")


def test_a_broken_tag_and_a_file_that_is_not_a_docx(db, tmp_path):
    custom = tmp_path / "ack.docx"
    custom.write_bytes(docx_with("Dear {{ recipient_name }", "{% if to_survivor %}"))
    with pytest.raises(NotAllowed, match="the template has a merge field that cannot be read"):
        letters.use_template(db, "acknowledgement", custom, by="t")
    from docx import Document

    doc = Document()  # an "if" that starts in a paragraph and ends inside a table cell
    doc.add_paragraph("{% if to_survivor %}Dear client")
    doc.add_table(rows=1, cols=1).rows[0].cells[0].paragraphs[0].add_run("and more{% endif %}")
    doc.save(custom)
    with pytest.raises(NotAllowed, match="merge tags break the document's structure .*each {%p ...%} and "
                                         "{%tr ...%} tag stands in its own paragraph or row"):
        letters.use_template(db, "acknowledgement", custom, by="t")
    text = tmp_path / "notes.docx"
    text.write_text("not a document")
    with pytest.raises(BadInput, match="notes.docx is not a Word .docx file"):
        letters.use_template(db, "acknowledgement", text, by="t")
    with pytest.raises(BadInput, match="there is no such file"):
        letters.use_template(db, "acknowledgement", tmp_path / "missing.docx", by="t")


def test_a_landlord_template_that_mentions_abuse_is_refused(db, tmp_path):
    custom = tmp_path / "landlord.docx"
    custom.write_bytes(docx_with("Dear {{ recipient_name }}, your tenant is a victim of abuse."))
    with pytest.raises(NotAllowed, match="landlord.docx says 'victim': a landlord-permission letter gives no "
                                         "account of the abuse"):
        letters.use_template(db, "landlord-permission", custom, by="t")


def test_export_writes_the_default_privately_and_will_not_overwrite(db, tmp_path):
    result = letters.export_template(db, "works-order", tmp_path)
    path = tmp_path / "works-order.docx"
    assert result["path"] == str(path) and result["template"] == "default"
    assert path.read_bytes() == letters.default_template("works-order")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(NotAllowed, match="already exists: choose another name, or add --force"):
        letters.export_template(db, "works-order", path)
    letters.export_template(db, "works-order", path, force=True)
    with pytest.raises(BadInput, match="give a file name ending in .docx"):
        letters.export_template(db, "works-order", tmp_path / "order.txt")


@pytest.mark.parametrize("kind", list(letters.KINDS))
def test_each_default_template_uses_only_its_own_fields_and_renders_for_every_recipient(db, kind):
    content = letters.default_template(kind)
    template = letters.CompiledTemplate(content)
    spec = letters.kind_spec(kind)
    assert template.variables <= set(spec.all_fields)
    assert {"ref", "date", "recipient_name", "scheme_name", "subject", "marking"} <= template.variables
    if all(r in ("landlord", "contractor") for r in spec.recipients):
        assert not letters.FORBIDDEN_WORDS.search(template.static_text)
    for ctx in letters.sample_contexts(spec, letters.Scheme.load(db)):
        document = template.render(ctx, {"title": "t", "subject": "s", "author": "a", "last_modified_by": "b",
                                         "comments": "c"})
        assert zipfile.ZipFile(io.BytesIO(document)).testzip() is None


def test_the_committed_templates_are_what_the_build_script_makes(tmp_path, monkeypatch):
    from thcli.templates import build_templates

    monkeypatch.setattr(build_templates, "HERE", tmp_path)
    build_templates.build_all()
    for kind in letters.KINDS:
        built = zipfile.ZipFile(tmp_path / f"{kind}.docx")
        shipped = zipfile.ZipFile(io.BytesIO(letters.default_template(kind)))
        assert sorted(built.namelist()) == sorted(shipped.namelist()), kind
        for name in built.namelist():
            if name != "docProps/core.xml":  # holds the time it was built
                assert built.read(name) == shipped.read(name), f"{kind}: {name} differs: rebuild the templates"


# --- batches ----------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_a_batch_makes_what_it_can_and_lists_what_a_rule_refused(db, tmp_path):
    set_up(db)
    first = new_case(db)
    self_referral = new_case(db, name="Sam Sample", route="self", referrer_name=None, referrer_org=None,
                             referrer_role=None, referrer_email=None, perpetrator_name=None)
    third = new_case(db, name="Jo Specimen", perpetrator_name=None)
    new_case(db, name="Kim Notreal", status="triage", perpetrator_name=None)
    calls = []
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out",
                           progress=lambda made, total: calls.append((made, total)))
    assert result.status == "new" and result.candidates == 3 and result.already_made == 0
    assert [m.ref for m in result.made] == [first, third]
    assert result.refused == [{"ref": self_referral, "rule": "safe post",
                               "reason": "there is no safe postal route to the client: post to their home is not "
                                         "marked safe, and there is no referrer to write to instead"}]
    assert calls == [(0, 3), (1, 3), (2, 3)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{first}-acknowledgement-2026-11-20.docx", f"{third}-acknowledgement-2026-11-20.docx"]
    again = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out")
    assert again.made == [] and again.already_made == 2 and len(again.refused) == 1
    assert len(letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", again=True).made) == 2


@freeze_time(TODAY)
def test_a_batch_limit_counts_letters_made(db, tmp_path):
    set_up(db)
    refs = [new_case(db, name=f"Client Example{'x' * i}", perpetrator_name=None) for i in range(4)]
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", limit=2)
    assert [m.ref for m in result.made] == refs[:2]
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", status="open")
    assert [m.ref for m in result.made] == refs[2:]


@freeze_time(TODAY)
def test_a_batch_of_works_orders_writes_one_per_contractor(db, tmp_path):
    set_up(db)
    lines = LINES_ORDERED + (("door_chain", 1, "ordered", "in_house", "Front door"),)
    ref = new_case(db, status="works", lines=lines)
    result = letters.batch(db, "works-order", by="t", out_dir=tmp_path / "out")
    assert sorted(m.path.name for m in result.made) == [f"{ref}-works-order-in-house-2026-11-20.docx",
                                                       f"{ref}-works-order-secure-homes-2026-11-20.docx"]


def test_a_batch_status_must_be_a_status(db, tmp_path):
    with pytest.raises(BadInput, match="--status: 'waiting' is not a status"):
        letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path, status="waiting")


# --- the demo ------------------------------------------------------------------------------------------------


def test_the_demo_writes_one_letter_of_each_kind(tmp_path):
    from thcli import demo
    from thcli.db import open_db

    db = open_db(tmp_path / "demo.db", create=True)
    try:
        with freeze_time(TODAY):
            demo.build_demo(db, cases=150, seed=2026, letters_dir=tmp_path / "letters")
        kinds = {row[0] for row in db.conn.execute("SELECT DISTINCT kind FROM letters")}
    finally:
        db.close()
    assert kinds == set(letters.KINDS)
    files = list((tmp_path / "letters").iterdir())
    assert {re.sub(r"^EV-\d{4}-\d{4}-|(-in-house|-secure-homes)?-2026-11-20\.docx$", "", f.name) for f in files} \
        == set(letters.KINDS)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_sample_case_is_a_made_up_case_for_every_kind():
    for spec in letters.KINDS.values():
        data = letters.sample_case(spec)
        assert dataclasses.is_dataclass(data) and data.client_name == "Alex Example"


@freeze_time(TODAY)
def test_a_batch_takes_only_cases_the_letter_has_something_to_say_about(db, tmp_path):
    set_up(db)
    lent = new_case(db, status="closed", lines=LINES_FITTED, fitted_on="2026-05-14", safe_post=True,
                    reason="completed", closed_on="2026-11-18")
    new_case(db, name="Jo Specimen", status="closed", lines=(("lock_change_door", 1, "fitted", "in_house", None),),
             safe_post=True, reason="completed", closed_on="2026-11-18", perpetrator_name=None)
    result = letters.batch(db, "equipment-removal", by="t", out_dir=tmp_path / "out")
    assert [m.ref for m in result.made] == [lent] and result.refused == [] and result.candidates == 1


@freeze_time(TODAY)
def test_a_batch_lists_a_case_that_lacks_what_the_letter_needs(db, tmp_path):
    set_up(db)
    ref = new_case(db, route="self", referrer_name=None, referrer_org=None, referrer_role=None,
                   referrer_email=None)
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", to="referrer")
    assert result.refused == [{"ref": ref, "rule": None, "reason": (
        f"has no referrer recorded: add one with `thcli referral edit {ref} --referrer NAME`, or write to the "
        "client with --to survivor")}]
