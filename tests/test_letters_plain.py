"""Letters as a scheme writes them (issue 15): the landlord's address and contribution, a district's own
letterhead, plain English to the client, long tables across pages, and no circular advice. Domain, then CLI."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from freezegun import freeze_time

from tests.test_letters import LINES_ORDERED, LINES_PROPOSED, letter_text, make, new_case, set_up
from thcli import budget, codes, letters, referrals, settings
from thcli.db import write
from thcli.errors import NotAllowed
from thcli.letters.context import is_organisation, to_you
from thcli.referrals import ReferralInput

TODAY = "2026-11-20"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def fund(db) -> str:
    return budget.add_fund(db, "Example OPCC", year="2026/27", source="opcc", amount_pence=500_000, by="t",
                           on=dt.date(2026, 4, 1))["code"]


# --- the landlord's letter ------------------------------------------------------------------------------


def test_the_landlords_letter_has_their_address_and_opens_sir_or_madam_to_an_organisation(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    referrals.set_landlord(db, ref, address="Lettings Office, 2 Sample Street, Northmoor", postcode="ZZ9 4LL",
                           by="t")
    text = letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    assert "Example Homes Trust\nLettings Office\n2 Sample Street\nNorthmoor\nZZ9 4LL\nBy email: lettings@example.org" \
        in text
    assert "Dear Sir or Madam," in text
    assert "Yours faithfully," in text and "Yours sincerely" not in text


def test_a_landlord_who_is_a_person_is_written_to_by_name(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED, landlord_name="Pat Landlordexample")
    text = letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    assert "Dear Pat Landlordexample," in text and "Yours sincerely," in text


@pytest.mark.parametrize("name, organisation", [
    ("Example Homes Trust", True), ("Sample Lettings Ltd", True), ("Smith & Sons", True),
    ("Example Housing Association", True), ("Pat Landlordexample", False), ("Mr P Examplelord", False),
])
def test_an_organisation_is_told_from_a_person(name, organisation):
    assert is_organisation(name) is organisation


def test_at_no_cost_to_you_only_when_nothing_is_asked(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    assert "at no cost to you" in letter_text(make(db, ref, "landlord-permission", tmp_path).path)


def test_the_landlords_contribution_says_how_much_and_how_to_pay(db, tmp_path):
    set_up(db)
    with write(db):
        settings.put(db, "landlord_payment", "by bank transfer to Example District Council, sort code 00-00-00, "
                                             "account 00000000")
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    fund(db)
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=15_000, pledged=True, by="t")
    text = letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    assert ("We ask for your permission for this work, which we arrange through our contractor, and for a "
            "contribution of £150.00 towards its cost. Please pay £150.00 by bank transfer to Example District "
            "Council, sort code 00-00-00, account 00000000, quoting TH-2026-0001.") in text
    assert "no cost to you" not in text
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=5_000, by="t")
    assert "Please pay £100.00 by bank transfer" in letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=10_000, by="t")
    text = letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    assert "a contribution of £150.00 towards its cost. We have received it: thank you." in text


def test_a_contribution_asked_without_how_to_pay_is_refused_saying_how_to_set_it(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    fund(db)
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=15_000, pledged=True, by="t")
    with pytest.raises(NotAllowed) as caught:
        make(db, ref, "landlord-permission", tmp_path)
    assert caught.value.message == (
        "TH-2026-0001: the landlord is asked to contribute £150.00, and their letter must say how to pay: set it "
        "once with `thcli settings set landlord_payment \"by bank transfer to ..., quoting the case reference\"`")


def test_the_contribution_fields_are_offered_to_the_schemes_own_templates():
    fields = letters.KINDS["landlord-permission"].all_fields
    assert {"landlord_contribution", "landlord_contribution_due", "how_to_pay"} <= set(fields)
    assert {"letterhead", "letterhead_address", "letterhead_phone", "letterhead_email", "valediction"} <= set(
        letters.COMMON_FIELDS)


# --- a district's letterhead --------------------------------------------------------------------------------


def test_a_letter_uses_its_districts_letterhead_where_set_and_the_schemes_otherwise(db, tmp_path):
    set_up(db)
    codes.edit(db, "district", "northmoor", letterhead="Northmoor Borough Council",
               address="Municipal Offices, Promenade, Northmoor, ZZ50 1PP", phone="01632 960123", by="t")
    ref = new_case(db, status="new")
    text = letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    # The letterhead (a table): no district email, so the scheme's.
    assert ("Northmoor Borough Council\nMunicipal Offices\nPromenade\nNorthmoor\nZZ50 1PP\nTelephone 01632 960123\n"
            "sanctuary@example.org") in text
    assert "Civic Offices" not in text
    assert "call us on 01632 960123 or email sanctuary@example.org" in text
    assert "Test Sanctuary Scheme · reference TH-2026-0001" in text  # the scheme still signs it
    other = new_case(db, status="new", district="southvale", name="Sam Sample", postcode="ZZ1 3CD")
    text = letter_text(make(db, other, "acknowledgement", tmp_path).path)
    assert "Test Sanctuary Scheme\nTest Council\nCivic Offices\n1 Sample Square" in text
    assert "Northmoor Borough Council" not in text


def test_cli_codes_edit_district_letterhead(db, cli):
    result = cli("codes", "edit", "district", "northmoor", "--letterhead", "Northmoor Borough Council",
                 "--address", "Municipal Offices, Promenade, Northmoor, ZZ50 1PP", "--phone", "01632 960123",
                 "--email", "sanctuary@northmoor.example.org")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Changed district northmoor: address (none) → Municipal Offices, Promenade, Northmoor, ZZ50 1PP; email "
        "(none) → sanctuary@northmoor.example.org; phone (none) → 01632 960123; letterhead (none) → Northmoor "
        "Borough Council.\n")
    assert cli.json("codes", "list", "district")[0] == {
        "code": "northmoor", "label": "Northmoor", "retired": False, "letterhead": "Northmoor Borough Council",
        "address": "Municipal Offices, Promenade, Northmoor, ZZ50 1PP", "email": "sanctuary@northmoor.example.org",
        "phone": "01632 960123"}
    result = cli("codes", "edit", "route", "police", "--letterhead", "Example")
    assert (result.exit_code, result.stderr) == (2, "Error: --letterhead: it applies only to the district list, "
                                                    "not to route\n")


# --- plain English -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, said", [
    ("The client does not wish to stay in the home", "You do not wish to stay in your home"),
    ("The risk is too high for the client to stay at home safely",
     "The risk is too high for you to stay at home safely"),
    ("The home is outside the scheme's area", "Your home is outside the scheme's area"),
    ("No funding is available", "No funding is available"),
])
def test_a_reason_about_the_client_is_said_to_them(label, said):
    assert to_you(label) == said


def test_a_decline_to_the_client_says_you(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="declined", reason="not_staying", closed_on="2026-11-18", safe_post=True)
    text = letter_text(make(db, ref, "decline", tmp_path, to="survivor").path)
    assert "You do not wish to stay in your home" in text
    assert "the client" not in text.lower()
    assert ("On 16 November 2026 we received a referral for you from Example IDVA Service, asking the Test "
            "Sanctuary Scheme to help make your home safer") in text
    assert "Thank you for contacting" not in text


def test_a_marac_referral_is_not_thanked_for_contacting_us(db, tmp_path):
    set_up(db)
    ref = new_case(db, route="marac", referrer_name=None, referrer_org=None, referrer_role=None,
                   referrer_email=None, safe_post=True, marac=True)
    text = letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    assert "Thank you for contacting" not in text
    assert "We received a referral for you from a professional who is supporting you on 16 November 2026" in text
    self_ref = new_case(db, route="self", referrer_name=None, referrer_org=None, referrer_role=None,
                        referrer_email=None, safe_post=True, name="Sam Sample", postcode="ZZ1 3CD")
    assert "Thank you for contacting the Test Sanctuary Scheme" in letter_text(
        make(db, self_ref, "acknowledgement", tmp_path).path)


@pytest.mark.parametrize("adults, children, ages, said", [
    (1, 0, None, "1 adult and no children"), (2, 1, "4", "2 adults and 1 child (age 4)"),
    (1, 2, "4, 7", "1 adult and 2 children (ages 4, 7)"), (1, None, None, "1 adult"),
])
def test_a_household_reads_naturally(db, tmp_path, adults, children, ages, said):
    set_up(db)
    ref = new_case(db, status="survey", adults=adults, children=children, children_ages=ages)
    text = letter_text(make(db, ref, "survey-request", tmp_path).path)
    assert f"Household\n{said}\n" in text


def test_a_works_order_to_sir_or_madam_ends_yours_faithfully(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED)
    text = letter_text(make(db, ref, "works-order", tmp_path).path)
    assert "Dear Sir or Madam," in text and "Yours faithfully," in text and "Yours sincerely" not in text


def test_a_works_order_of_18_measures_repeats_its_header_and_never_splits_a_row(db, tmp_path):
    set_up(db)
    lines = tuple(("window_alarm", 1, "ordered", "secure_homes", f"Window {n}") for n in range(1, 19))
    ref = new_case(db, status="works", lines=lines)
    path = make(db, ref, "works-order", tmp_path).path
    from docx import Document

    table = next(t for t in Document(str(path)).tables if t.rows[0].cells[0].text == "Line")
    assert len(table.rows) == 1 + 18 + 1  # the header, 18 lines, the total
    first = table.rows[0]._tr.trPr
    assert first is not None and first.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") \
        is not None
    for row in table.rows:
        assert row._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cantSplit") \
            is not None
    # Word reads the flags only in order: cantSplit before tblHeader.
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert '<w:trPr><w:cantSplit w:val="true"/><w:tblHeader w:val="true"/></w:trPr>' in xml


# --- no circular advice ------------------------------------------------------------------------------------


def test_a_self_referral_with_post_not_safe_is_told_plainly_what_can_be_done(db, tmp_path):
    set_up(db)
    ref = new_case(db, route="self", referrer_name=None, referrer_org=None, referrer_role=None,
                   referrer_email=None)
    with pytest.raises(letters.LetterRefused) as caught:
        make(db, ref, "acknowledgement", tmp_path)
    assert caught.value.overridable
    assert caught.value.message == (
        "TH-2026-0001: the acknowledgement letter is refused by the safety rule \"safe post\": there is no safe "
        "postal route to the client: post to their home is not marked safe, and there is no referrer to write to "
        "instead. Give it to the client another safe way: through a safe third party (record one with `thcli "
        "referral edit TH-2026-0001 --third-party NAME --third-party-phone PHONE`), or by hand when you next see "
        "them: make it with --override-safety \"to be handed over in person\" (audited) and do not post it. If "
        "the client tells you post is safe after all, mark it with `thcli referral edit TH-2026-0001 --safe-post`.")
    assert "--to referrer" not in caught.value.message
    made = make(db, ref, "acknowledgement", tmp_path, override_reason="to be handed over in person")
    assert made.override_reason == "to be handed over in person"


def test_the_next_steps_after_referral_add_never_suggest_a_refused_command(db):
    with write(db):
        settings.put(db, "required_documents", ["dash"])
    result = referrals.add_referral(db, ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="self", risk_level="high",
        received_on=dt.date(2026, 11, 18), consent=["police", "contractor"]), by="t")
    steps = referrals.next_steps(db, result)
    assert steps == [f"thcli referral edit {result.ref} --dash-date DATE   # the DASH assessment, needed before a "
                     "survey"]
    with write(db):
        settings.put(db, "required_documents", [])
    steps = referrals.next_steps(db, result)
    assert steps == [f'thcli survey request {result.ref} --surveyor "NAME"   # the police Crime Reduction Officer']


def test_cli_referral_add_next_steps_for_a_self_referral_with_no_safe_post(cli, db):
    result = cli("referral", "add", "--name", "Alex Example", "--postcode", "ZZ1 2AB", "--district", "northmoor",
                 "--route", "self", "--risk", "high", "--received", "2026-11-18")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Saved TH-2026-0001 (new).\n"
        "Next steps (commands to copy):\n"
        "  thcli referral consent TH-2026-0001 --scope police,contractor   # once the client agrees\n"
        "  thcli survey request TH-2026-0001 --surveyor \"NAME\"             # the police Crime Reduction Officer\n")


def test_the_next_steps_of_a_case_the_scheme_cannot_help_point_at_declining_it(db):
    with write(db):
        settings.put(db, "eligible_risks", ["high"])
        settings.put(db, "required_documents", ["referral_form"])
    result = referrals.add_referral(db, ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="standard",
        received_on=dt.date(2026, 11, 18), consent=["police", "contractor"], referrer_name="Pat Idvaexample",
        safe_post=False), by="t")
    assert referrals.next_steps(db, result) == [
        f"thcli referral edit {result.ref} --referral-form          # once the referral form arrives (needed "
        "before a survey)",
        f"thcli referral move {result.ref} declined --reason CODE   # not eligible: risk level standard is not one "
        "this scheme helps (it helps high)",
        f"thcli letter make {result.ref} acknowledgement            # to the referrer"]
