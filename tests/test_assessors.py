"""Whoever assesses the home (issue 14, item 1): assessors with a kind, and the consent a survey needs by it.

A police Crime Reduction Officer needs consent to share with the police, a
contractor's surveyor consent to share with the contractor, the scheme's own
assessor none; the survey request letter goes only to an outside assessor.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import case, counts, new_case
from thcli import codes, letters, scheme, surveys, workflow
from thcli.errors import BadInput, NotAllowed

TODAY = "2026-11-20"
D17, D18 = dt.date(2026, 11, 17), dt.date(2026, 11, 18)


def add_provider(db) -> None:
    codes.add(db, "assessor", "provider", "Example Target Hardening Ltd", kind="contractor",
              address="Unit 4, Example Park, ZZ3 9ZZ", by="t")


# --- the list -----------------------------------------------------------------------------------------------------


def test_a_new_scheme_has_a_police_cro_and_its_own_assessor(db):
    rows = codes.list_codes(db, "assessor")
    assert [(r["code"], r["kind"], r["retired"]) for r in rows] == [
        ("police_cro", "police", False), ("scheme_officer", "scheme", False)]
    assert workflow.assessor(db)["code"] == "police_cro"


def test_a_new_assessor_needs_a_kind_of_the_three(db):
    with pytest.raises(BadInput) as caught:
        codes.add(db, "assessor", "da_coordinator", "DA coordinator", by="t")
    assert caught.value.message == "a new assessor needs --kind"
    with pytest.raises(BadInput) as wrong:
        codes.add(db, "assessor", "da_coordinator", "DA coordinator", kind="volunteer", by="t")
    assert wrong.value.message == "--kind: 'volunteer' is not a kind of assessor: use police, scheme or contractor"
    row = codes.add(db, "assessor", "da_coordinator", "DA coordinator", kind="scheme", by="t")
    assert (row["kind"], row["address"]) == ("scheme", None)
    assert codes.edit(db, "assessor", "da_coordinator", kind="contractor", by="t") == [
        {"field": "kind", "before": "scheme", "after": "contractor"}]


def test_the_default_assessor_is_a_setting_of_the_list(db):
    with pytest.raises(BadInput) as caught:
        scheme.set_from_text(db, "default_assessor", "nobody", by="t")
    assert caught.value.message == ("default_assessor: unknown assessor 'nobody': use one of police_cro, "
                                    "scheme_officer (see `thcli codes list assessor`)")
    scheme.set_from_text(db, "default_assessor", "scheme_officer", by="t")
    assert workflow.assessor(db)["kind"] == "scheme"


# --- consent by kind --------------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_the_scheme_s_own_assessor_needs_no_consent(db):
    ref = new_case(db, consent=[])
    result = surveys.request_survey(db, ref, assessor="scheme_officer", surveyor="Jo Officer", on=D17, by="t")
    assert (result["assessor"], result["assessor_kind"], result["status"]) == ("scheme_officer", "scheme", "survey")
    assert db.conn.execute("SELECT surveyor, assessor FROM surveys").fetchall() == [("Jo Officer", "scheme_officer")]
    assert db.conn.execute("SELECT detail FROM audit WHERE action = 'survey.request'").fetchone()[0] == (
        "assessor scheme_officer (scheme)")


@freeze_time(TODAY)
def test_a_police_cro_needs_consent_to_share_with_the_police_only(db):
    ref = new_case(db, consent=["contractor"])
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        surveys.request_survey(db, ref, surveyor="PC Sam Example", by="t")
    assert caught.value.message == (
        f"{ref}: there is no consent to share with the police, so no survey can be requested. Record it with "
        f"`thcli referral consent {ref} --scope police`.")
    assert counts(db) == before
    just_police = new_case(db, consent=["police"], name="Sam Sample", postcode="ZZ9 9ZZ")
    assert surveys.request_survey(db, just_police, surveyor="PC Sam Example", by="t")["status"] == "survey"


@freeze_time(TODAY)
def test_a_contractor_s_surveyor_needs_consent_to_share_with_the_contractor_not_the_police(db):
    add_provider(db)
    ref = new_case(db, consent=["police"])
    with pytest.raises(NotAllowed) as caught:
        surveys.request_survey(db, ref, assessor="provider", by="t")
    assert caught.value.message == (
        f"{ref}: there is no consent to share with the contractor, and the survey is by Example Target Hardening "
        f"Ltd (a contractor's surveyor), so none can be requested. Record it with `thcli referral consent {ref} "
        "--scope contractor`, or choose another assessor (--assessor CODE).")
    contractor_only = new_case(db, consent=["contractor"], name="Sam Sample", postcode="ZZ9 9ZZ")
    result = surveys.request_survey(db, contractor_only, assessor="provider", by="t")
    assert result["surveyor"] == "Example Target Hardening Ltd"   # no name given: the assessor's


@freeze_time(TODAY)
def test_the_default_assessor_decides_the_consent_of_a_move_to_survey(db):
    scheme.set_from_text(db, "default_assessor", "scheme_officer", by="t")
    ref = new_case(db, consent=[])
    workflow.move(db, ref, "triage", by="t")
    assert workflow.move(db, ref, "survey", by="t")["status"] == "survey"


@freeze_time(TODAY)
def test_an_unknown_or_retired_assessor_is_refused_naming_the_option(db):
    ref = new_case(db)
    with pytest.raises(BadInput) as caught:
        surveys.request_survey(db, ref, assessor="nobody", by="t")
    assert caught.value.message.startswith("--assessor: unknown assessor 'nobody': use one of police_cro, ")
    codes.retire(db, "assessor", "scheme_officer", by="t")
    with pytest.raises(BadInput, match="--assessor: retired assessor 'scheme_officer'"):
        surveys.request_survey(db, ref, assessor="scheme_officer", by="t")


@freeze_time(TODAY)
def test_the_own_assessor_records_straight_from_triage_without_consent(db):
    ref = new_case(db, consent=[])
    workflow.move(db, ref, "triage", by="t")
    result = surveys.record_survey(db, ref, assessor="scheme_officer", surveyor="Jo Officer", on=D18,
                                   measures=[("door_viewer", 1, None)], by="t")
    assert (result["status"], result["assessor"]) == ("approval", "scheme_officer")
    assert db.conn.execute("SELECT requested_on, surveyed_on, assessor FROM surveys").fetchall() == [
        ("2026-11-18", "2026-11-18", "scheme_officer")]
    details = [r[0] for r in db.conn.execute("SELECT detail FROM events WHERE kind = 'survey'")]
    assert details == ["survey by Jo Officer (The scheme's own assessor): 1 measure recommended"]


@freeze_time(TODAY)
def test_recording_straight_from_triage_asks_the_police_consent_of_a_cro(db):
    ref = new_case(db, consent=[])
    workflow.move(db, ref, "triage", by="t")
    with pytest.raises(NotAllowed, match="there is no consent to share with the police"):
        surveys.record_survey(db, ref, surveyor="PC Sam Example", on=D18, measures=[("door_viewer", 1, None)], by="t")
    assert case(db, ref)["status"] == "triage"


@freeze_time(TODAY)
def test_a_survey_recorded_by_another_assessor_than_asked_needs_that_one_s_consent(db):
    add_provider(db)
    ref = new_case(db, consent=["police"])
    surveys.request_survey(db, ref, surveyor="PC Sam Example", on=D17, by="t")
    with pytest.raises(NotAllowed, match="no consent to share with the contractor"):
        surveys.record_survey(db, ref, assessor="provider", on=D18, measures=[("door_viewer", 1, None)], by="t")
    result = surveys.record_survey(db, ref, on=D18, measures=[("door_viewer", 1, None)], by="t")
    assert (result["surveyor"], result["assessor"]) == ("PC Sam Example", "police_cro")   # the request's


# --- letters ----------------------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_no_survey_request_letter_for_the_scheme_s_own_assessor(db, tmp_path):
    ref = new_case(db, consent=[])
    surveys.request_survey(db, ref, assessor="scheme_officer", surveyor="Jo Officer", on=D17, by="t")
    with pytest.raises(NotAllowed) as caught:
        letters.make_letter(db, ref, "survey-request", by="t", out_dir=tmp_path)
    assert caught.value.message == (
        f"{ref}: the survey is by the scheme's own assessor (The scheme's own assessor), so no survey request "
        f"letter goes out: they read the case with `thcli referral show {ref}` (the view is audited). For an outside "
        f"assessor, request the survey from them with `thcli survey request {ref} --assessor CODE`.")


@freeze_time(TODAY)
def test_a_contractor_s_surveyor_gets_the_request_at_its_address_with_the_contractor_s_consent(db, tmp_path):
    from tests.test_letters import letter_text

    add_provider(db)
    ref = new_case(db, consent=["contractor"], address="1 Example Street, Northmoor")
    surveys.request_survey(db, ref, assessor="provider", on=D17, by="t")
    made = letters.make_letter(db, ref, "survey-request", by="t", out_dir=tmp_path)[0]
    text = letter_text(made.path)
    assert "Unit 4" in text and "Example Park" in text
    assert "consented to our sharing these details with Example Target Hardening Ltd for this purpose" in text
    assert "with the police" not in text
    assert made.recipient == "cro"


@freeze_time(TODAY)
def test_a_contractor_s_surveyor_without_an_address_says_where_to_set_it(db, tmp_path):
    codes.add(db, "assessor", "provider", "Example Target Hardening Ltd", kind="contractor", by="t")
    ref = new_case(db, consent=["contractor"], address="1 Example Street, Northmoor")
    surveys.request_survey(db, ref, assessor="provider", on=D17, by="t")
    with pytest.raises(NotAllowed) as caught:
        letters.make_letter(db, ref, "survey-request", by="t", out_dir=tmp_path)
    assert caught.value.message == ("where survey requests to Example Target Hardening Ltd go is not set: set it with "
                                    "`thcli codes edit assessor provider --address \"..., POSTCODE\"`")


# --- the command line -------------------------------------------------------------------------------------------------


@freeze_time(TODAY)
def test_cli_survey_request_by_assessor(cli, db):
    add_provider(db)
    ref = new_case(db, consent=["police"])
    refused = cli("survey", "request", ref, "--assessor", "provider")
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"Error: {ref}: there is no consent to share with the contractor, and the survey is by Example Target "
        f"Hardening Ltd (a contractor's surveyor), so none can be requested. Record it with `thcli referral consent "
        f"{ref} --scope contractor`, or choose another assessor (--assessor CODE).\n")
    bad = cli("survey", "request", ref, "--assessor", "Nobody")
    assert bad.exit_code == 2 and "Invalid value for '--assessor'" in bad.stderr
    ok = cli("survey", "request", ref, "--assessor", "scheme_officer", "--surveyor", "Jo Officer", "--date",
             "17/11/2026")
    assert ok.stdout == (f"Survey of {ref} requested from Jo Officer on 17/11/2026. {ref} is now survey.\n"
                         "Next due: measures fitted by 18/11/2026.\n")
    shown = cli.json("referral", "show", ref)
    assert shown["surveys"][0] | {} == {"surveyor": "Jo Officer", "assessor": "scheme_officer",
                                        "assessor_label": "The scheme's own assessor", "assessor_kind": "scheme",
                                        "requested_on": "2026-11-17", "surveyed_on": None, "notes": None}


def test_cli_codes_list_assessor(cli, db):
    add_provider(db)
    rows = cli.json("codes", "list", "assessor")
    assert rows[-1] == {"code": "provider", "label": "Example Target Hardening Ltd", "retired": False,
                        "kind": "contractor", "address": "Unit 4, Example Park, ZZ3 9ZZ", "email": None, "phone": None}
    missing = cli("codes", "add", "assessor", "coordinator", "DA coordinator")
    assert (missing.exit_code, missing.stderr) == (2, "Error: a new assessor needs --kind\n")


@freeze_time(TODAY)
def test_next_steps_follow_the_default_assessor(db):
    from thcli import referrals

    scheme.set_from_text(db, "default_assessor", "scheme_officer", by="t")
    result = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high"), by="t")
    assert referrals.next_steps(db, result) == [
        f"thcli referral consent {result.ref} --scope contractor   # once the client agrees",
        f'thcli survey request {result.ref} --surveyor "NAME"      # the scheme\'s own assessor',
    ]
