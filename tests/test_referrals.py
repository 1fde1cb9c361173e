"""Domain tests: logging, finding, reading and editing referrals."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from thcli import case_list, case_view, referrals
from thcli.case_list import ListFilters
from thcli.errors import BadInput, NotAllowed, NotFound
from thcli.referrals import ReferralInput

TODAY = "2026-11-20"


def make(**overrides) -> ReferralInput:
    values = dict(name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva",
                  risk_level="high", received_on=dt.date(2026, 11, 18))
    values.update(overrides)
    return ReferralInput(**values)


@freeze_time(TODAY)
def test_reference_counts_up_within_the_year_of_referral(db):
    first = referrals.add_referral(db, make(), by="tester")
    second = referrals.add_referral(db, make(name="Sam Sample", postcode="ZZ1 3CD"), by="tester")
    older = referrals.add_referral(db, make(name="Jo Placeholder", postcode="ZZ1 4EF",
                                            received_on=dt.date(2025, 12, 31)), by="tester")
    assert (first.ref, second.ref, older.ref) == ("TH-2026-0001", "TH-2026-0002", "TH-2025-0001")


@freeze_time(TODAY)
def test_reference_prefix_comes_from_settings(db):
    from thcli import scheme

    scheme.set_from_text(db, "ref_prefix", "BSS", by="tester")
    assert referrals.add_referral(db, make(), by="tester").ref == "BSS-2026-0001"


@freeze_time(TODAY)
def test_new_referral_is_new_with_first_contact_due_next_working_day(db):
    result = referrals.add_referral(db, make(), by="tester")
    case = referrals.case_row(db, result.ref)
    assert case["status"] == "new"
    # received Wednesday 18 November 2026: first contact within 1 working day.
    assert (case["next_due_on"], case["next_due_what"]) == ("2026-11-19", "first contact")


@freeze_time(TODAY)
def test_contact_channels_are_unsafe_unless_marked_safe(db):
    ref = referrals.add_referral(db, make(phone="020 7946 0123", safe_text=True), by="tester").ref
    case = case_view.show_case(db, ref, by="tester")
    assert case["safe_contact"] == {"call": False, "text": True, "voicemail": False, "email": False,
                                    "post": False}


@freeze_time(TODAY)
def test_safe_channel_without_its_detail_is_refused_and_nothing_saved(db):
    with pytest.raises(BadInput, match="--safe-post needs --address"):
        referrals.add_referral(db, make(safe_post=True), by="tester")
    assert db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 0


@freeze_time(TODAY)
def test_unknown_or_retired_code_is_refused_naming_the_option(db):
    from thcli import codes

    with pytest.raises(BadInput, match=r"^--district: unknown district 'atlantis'"):
        referrals.add_referral(db, make(district="atlantis"), by="tester")
    codes.retire(db, "route", "court", by="tester")
    with pytest.raises(BadInput, match=r"^--route: retired route 'court'"):
        referrals.add_referral(db, make(route="court"), by="tester")


@freeze_time(TODAY)
def test_retiring_a_code_keeps_old_cases_valid(db):
    from thcli import codes

    ref = referrals.add_referral(db, make(route="court"), by="tester").ref
    codes.retire(db, "route", "court", by="tester")
    assert case_view.show_case(db, ref, by="tester")["route"] == "court"
    referrals.edit_referral(db, ref, {"safe_times": "Mornings"}, by="tester")


@freeze_time(TODAY)
def test_future_dates_are_refused(db):
    with pytest.raises(BadInput, match="--received"):
        referrals.add_referral(db, make(received_on=dt.date(2026, 11, 21)), by="tester")
    with pytest.raises(BadInput, match="--dob"):
        referrals.add_referral(db, make(dob=dt.date(2027, 1, 1)), by="tester")


@freeze_time(TODAY)
def test_repeat_referral_by_name_and_dob_links_the_client_and_warns(db):
    first = referrals.add_referral(db, make(dob=dt.date(1990, 5, 1)), by="tester")
    again = referrals.add_referral(
        db, make(postcode="ZZ1 9XY", dob=dt.date(1990, 5, 1), name="alex  EXAMPLE"), by="tester")
    assert again.repeat_of == [first.ref]
    assert again.warnings[0] == f"repeat referral: earlier case {first.ref} (new)"
    one, two = (referrals.case_row(db, r) for r in (first.ref, again.ref))
    assert one["client_id"] == two["client_id"]
    assert case_view.show_case(db, again.ref, by="tester")["repeat_of"] == [first.ref]


@freeze_time(TODAY)
def test_repeat_referral_by_name_and_postcode(db):
    first = referrals.add_referral(db, make(postcode="ZZ1 2AB"), by="tester")
    again = referrals.add_referral(db, make(postcode="zz12ab"[:3] + " 2AB"), by="tester")
    assert again.repeat_of == [first.ref]


@freeze_time(TODAY)
def test_same_name_elsewhere_is_not_a_repeat(db):
    referrals.add_referral(db, make(dob=dt.date(1990, 5, 1)), by="tester")
    other = referrals.add_referral(db, make(postcode="ZZ3 1AA", dob=dt.date(1970, 1, 1)), by="tester")
    assert other.repeat_of == []
    assert other.warnings == []


@freeze_time(TODAY)
def test_new_address_on_repeat_makes_the_old_one_previous(db):
    first = referrals.add_referral(db, make(address="1 Sample Road"), by="tester")
    referrals.add_referral(db, make(address="9 Example Street", postcode="ZZ1 2AB"), by="tester")
    shown = case_view.show_case(db, first.ref, by="tester")
    assert shown["client"]["address"] == "1 Sample Road"
    assert shown["client"]["address_is_current"] is False


@freeze_time(TODAY)
def test_eligibility_problems_are_warned_at_add(db):
    from thcli import scheme

    scheme.set_from_text(db, "eligible_risks", "high", by="tester")
    result = referrals.add_referral(db, make(risk_level="medium", perpetrator_lives_there=True), by="tester")
    assert result.warnings == [
        'eligibility rule "eligible risk levels" (setting eligible_risks): risk level medium is not one this scheme '
        "helps (it helps high)",
        'eligibility rule "perpetrator lives elsewhere": the perpetrator lives at the home',
    ]


@freeze_time(TODAY)
def test_add_and_decline_at_once(db):
    result = referrals.add_referral(db, make(chooses_to_stay=False), by="tester", decline_reason="not_staying")
    case = referrals.case_row(db, result.ref)
    assert (case["status"], case["reason"], case["next_due_on"]) == ("declined", "not_staying", None)


@freeze_time(TODAY)
def test_perpetrator_is_stored_apart_and_shown_only_when_asked_and_audited(db):
    ref = referrals.add_referral(db, make(perpetrator_name="Lee Perpetratorexample",
                                          perpetrator_relationship="ex_partner"), by="tester").ref
    plain = case_view.show_case(db, ref, by="tester")
    assert "perpetrator" not in plain
    assert "Perpetratorexample" not in str(plain)
    shown = case_view.show_case(db, ref, by="tester", with_perpetrator=True)
    assert shown["perpetrator"]["name"] == "Lee Perpetratorexample"
    actions = [r[0] for r in db.conn.execute("SELECT action FROM audit WHERE ref = ? ORDER BY id", [ref])]
    assert actions == ["referral.add", "referral.show", "referral.show", "referral.show_perpetrator"]


@freeze_time(TODAY)
def test_audit_rows_hold_no_personal_values(db):
    ref = referrals.add_referral(db, make(name="Zebedee Uniquename", address="77 Secretplace Road",
                                          phone="020 7946 0777", note="Uniquenote"), by="tester").ref
    referrals.edit_referral(db, ref, {"safe_times": "Uniquetimes"}, by="tester")
    # Every column but the chain's hex digests, where "0777" turns up by chance now and then.
    text = " ".join(str(v) for row in db.conn.execute("SELECT at, by, action, ref, detail FROM audit") for v in row)
    for secret in ("Zebedee", "Secretplace", "0777", "Uniquenote", "Uniquetimes", "ZZ1"):
        assert secret not in text


@freeze_time(TODAY)
def test_list_filters_and_search(db):
    a = referrals.add_referral(db, make(), by="t").ref
    b = referrals.add_referral(db, make(name="Sam Sample", postcode="ZZ2 5GH", district="southvale",
                                        risk_level="medium", route="police"), by="t").ref
    def refs(**kw):
        return [r["ref"] for r in case_list.list_cases(db, ListFilters(**kw))[0]]
    assert refs() == [b, a]
    assert refs(district="southvale") == [b]
    assert refs(risk="high") == [a]
    assert refs(route="police") == [b]
    assert refs(search="sam") == [b]
    assert refs(search="SAMPLE") == [b]
    assert refs(search="zz25gh") == [b]
    assert refs(search="ZZ2 5GH") == [b]
    assert refs(search=a.lower()) == [a]
    assert refs(search="nobody") == []
    assert refs(status="open") == [b, a]
    assert refs(status="closed") == []


@freeze_time(TODAY)
def test_list_search_treats_like_wildcards_literally(db):
    referrals.add_referral(db, make(), by="t")
    assert case_list.list_cases(db, ListFilters(search="%"))[0] == []
    assert case_list.list_cases(db, ListFilters(search="_"))[0] == []


@freeze_time(TODAY)
def test_list_unknown_status_or_district_is_bad_input(db):
    with pytest.raises(BadInput, match="--status"):
        case_list.list_cases(db, ListFilters(status="lost"))
    with pytest.raises(BadInput, match="--district"):
        case_list.list_cases(db, ListFilters(district="atlantis"))


@freeze_time(TODAY)
def test_overdue_filter(db):
    old = referrals.add_referral(db, make(received_on=dt.date(2026, 11, 2)), by="t").ref
    referrals.add_referral(db, make(name="Sam Sample", postcode="ZZ2 5GH", received_on=dt.date(2026, 11, 20)),
                           by="t")
    assert [r["ref"] for r in case_list.list_cases(db, ListFilters(overdue=True))[0]] == [old]


@freeze_time(TODAY)
def test_edit_changes_only_given_fields_and_records_the_event(db):
    ref = referrals.add_referral(db, make(tenure="owner"), by="t").ref
    changed = referrals.edit_referral(db, ref, {"tenure": "private_rented", "landlord_name": "Example Lettings"},
                                      by="t")
    assert changed == ["landlord_name", "tenure"]
    shown = case_view.show_case(db, ref, by="t")
    assert shown["tenure"] == "private_rented"
    assert shown["landlord_permission"] is None  # now needed, not yet asked
    assert shown["timeline"][-1]["detail"] == "changed: landlord_name, tenure"


@freeze_time(TODAY)
def test_edit_is_checked_like_add(db):
    ref = referrals.add_referral(db, make(), by="t").ref
    with pytest.raises(BadInput, match="--safe-post needs --address"):
        referrals.edit_referral(db, ref, {"safe_post": True}, by="t")


def test_unknown_case_is_not_found(db):
    with pytest.raises(NotFound, match="there is no case 'TH-2026-9999'"):
        referrals.case_row(db, "TH-2026-9999")


@freeze_time(TODAY)
def test_consent_and_withdrawal(db):
    ref = referrals.add_referral(db, make(), by="t").ref
    assert referrals.record_consent(db, ref, ["police", "county"], by="t") == {
        "police": True, "contractor": False, "landlord": False, "county": True}
    state = referrals.record_consent(db, ref, ["police"], withdraw=True, by="t")
    assert state["police"] is False
    with pytest.raises(NotAllowed, match="no police consent to withdraw"):
        referrals.record_consent(db, ref, ["police"], withdraw=True, by="t")
    with pytest.raises(BadInput, match="'neighbours' is not a consent scope"):
        referrals.record_consent(db, ref, ["neighbours"], by="t")


@freeze_time(TODAY)
def test_landlord_permission_only_for_rented_homes(db):
    owner = referrals.add_referral(db, make(tenure="owner"), by="t").ref
    with pytest.raises(NotAllowed, match="not rented"):
        referrals.set_landlord_permission(db, owner, "granted", by="t")
    rented = referrals.add_referral(db, make(name="Sam Sample", postcode="ZZ2 5GH", tenure="council"), by="t").ref
    referrals.set_landlord_permission(db, rented, "granted", by="t")
    assert referrals.case_row(db, rented)["landlord_permission"] == "granted"


@freeze_time(TODAY)
def test_notes_are_allowed_on_closed_cases_but_edits_are_not(db):
    from thcli import workflow

    ref = referrals.add_referral(db, make(), by="t").ref
    workflow.move(db, ref, "declined", reason="out_of_area", by="t")
    referrals.add_note(db, ref, "Referrer told by phone", by="t")
    with pytest.raises(NotAllowed, match="read-only"):
        referrals.edit_referral(db, ref, {"safe_times": "Evenings"}, by="t")
    with pytest.raises(NotAllowed, match="read-only"):
        referrals.record_consent(db, ref, ["police"], by="t")
