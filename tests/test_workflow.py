"""Domain tests: the case lifecycle and its rules (DESIGN.md §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from thcli import referrals, scheme, workflow
from thcli.errors import BadInput, NotAllowed
from thcli.referrals import ReferralInput

TODAY = "2026-11-20"


def add(db, **overrides) -> str:
    values = dict(name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva",
                  risk_level="high", received_on=dt.date(2026, 11, 18))
    values.update(overrides)
    return referrals.add_referral(db, ReferralInput(**values), by="t").ref


def status(db, ref) -> str:
    return referrals.case_row(db, ref)["status"]


def add_survey(db, ref):
    case = referrals.case_row(db, ref)
    db.conn.execute("INSERT INTO surveys (case_id, surveyor, requested_on, surveyed_on, created_at) "
                    "VALUES (?, 'PC Example', '2026-11-19', '2026-11-19', 'x')", [case["id"]])


def add_line(db, ref, line_status="approved"):
    case = referrals.case_row(db, ref)
    db.conn.execute(
        "INSERT INTO measure_lines (case_id, line, code, quantity, unit_cost_pence, estimated_cost_pence, kind, "
        "removable, status) VALUES (?, 1, 'door_alarm', 1, 1500, 1500, 'equipment', 1, ?)",
        [case["id"], line_status])


def test_allowed_moves():
    assert workflow.allowed_moves("new") == ["triage", "declined", "withdrawn", "no_contact", "on_hold"]
    assert workflow.allowed_moves("fitted") == ["follow_up", "closed", "declined", "withdrawn", "no_contact",
                                                "on_hold"]
    assert workflow.allowed_moves("closed") == []
    assert workflow.allowed_moves("declined") == []
    assert workflow.allowed_moves("withdrawn") == ["triage"]
    assert workflow.allowed_moves("on_hold", "survey") == ["survey", "declined", "withdrawn", "no_contact"]


@freeze_time(TODAY)
def test_new_to_triage_records_first_contact(db):
    ref = add(db)
    case = workflow.move(db, ref, "triage", by="t")
    assert (case["status"], case["first_contact_on"]) == ("triage", TODAY)
    assert case["next_due_what"] == "measures fitted"  # high risk: 48 hours from the referral, before the survey


@freeze_time(TODAY)
def test_skipping_a_step_is_refused(db):
    ref = add(db)
    with pytest.raises(NotAllowed, match="cannot go from new to survey: from new it can go to triage, declined"):
        workflow.move(db, ref, "survey", by="t")
    assert status(db, ref) == "new"


@freeze_time(TODAY)
def test_survey_needs_police_consent(db):
    ref = add(db)
    workflow.move(db, ref, "triage", by="t")
    with pytest.raises(NotAllowed, match="no consent to share with the police"):
        workflow.move(db, ref, "survey", by="t")
    referrals.record_consent(db, ref, ["police"], by="t")
    assert workflow.move(db, ref, "survey", by="t")["status"] == "survey"


@freeze_time(TODAY)
def test_survey_refused_while_an_eligibility_test_fails(db):
    ref = add(db, perpetrator_can_enter=True, consent=["police"])
    workflow.move(db, ref, "triage", by="t")
    with pytest.raises(NotAllowed) as caught:
        workflow.move(db, ref, "survey", by="t")
    assert caught.value.message == (
        f'{ref}: the survey is refused by the eligibility rule "no right of entry": the perpetrator has a right to '
        f"enter the home. Record it with `thcli referral edit {ref} --perpetrator-cannot-enter` once that changes (an "
        f"occupation order), decline the case with `thcli referral move {ref} declined --reason "
        "perpetrator_right_to_enter`, or go ahead with --override REASON (recorded on the case and in the audit log).")


@freeze_time(TODAY)
def test_survey_refused_without_required_documents(db):
    scheme.set_from_text(db, "required_documents", "dash,referral_form", by="t")
    ref = add(db, consent=["police"])
    workflow.move(db, ref, "triage", by="t")
    with pytest.raises(NotAllowed, match='rule "required documents" \\(setting required_documents\\): the DASH risk '
                                         "assessment and the scheme's referral form have not been received"):
        workflow.move(db, ref, "survey", by="t")
    referrals.edit_referral(db, ref, {"dash_date": dt.date(2026, 11, 17), "referral_form": True}, by="t")
    assert workflow.move(db, ref, "survey", by="t")["status"] == "survey"


@freeze_time(TODAY)
def test_approval_needs_a_recorded_survey(db):
    ref = add(db, consent=["police"])
    workflow.move(db, ref, "triage", by="t")
    workflow.move(db, ref, "survey", by="t")
    with pytest.raises(NotAllowed, match="no survey has been recorded"):
        workflow.move(db, ref, "approval", by="t")
    add_survey(db, ref)
    assert workflow.move(db, ref, "approval", by="t")["status"] == "approval"


def _to_approval(db, **overrides):
    ref = add(db, consent=["police"], **overrides)
    workflow.move(db, ref, "triage", by="t")
    workflow.move(db, ref, "survey", by="t")
    add_survey(db, ref)
    workflow.move(db, ref, "approval", by="t")
    return ref


@freeze_time(TODAY)
def test_works_needs_contractor_consent_landlord_permission_and_approved_measures(db):
    ref = _to_approval(db, tenure="private_rented")
    with pytest.raises(NotAllowed, match="no consent to share with the contractor"):
        workflow.move(db, ref, "works", by="t")
    referrals.record_consent(db, ref, ["contractor"], by="t")
    with pytest.raises(NotAllowed, match="rented and the landlord's permission is not yet requested"):
        workflow.move(db, ref, "works", by="t")
    referrals.set_landlord_permission(db, ref, "refused", by="t")
    with pytest.raises(NotAllowed, match="permission is refused"):
        workflow.move(db, ref, "works", by="t")
    referrals.set_landlord_permission(db, ref, "granted", by="t")
    with pytest.raises(NotAllowed, match="no measure has been approved"):
        workflow.move(db, ref, "works", by="t")
    add_line(db, ref)
    assert workflow.move(db, ref, "works", by="t")["status"] == "works"


@freeze_time(TODAY)
def test_owner_occupier_needs_no_landlord(db):
    ref = _to_approval(db, tenure="owner")
    referrals.record_consent(db, ref, ["contractor"], by="t")
    add_line(db, ref)
    assert workflow.move(db, ref, "works", by="t")["status"] == "works"


@pytest.mark.parametrize("to,list_name", [("declined", "decline_reason"), ("withdrawn", "withdrawal_reason"),
                                          ("no_contact", "no_contact_reason")])
@freeze_time(TODAY)
def test_exits_need_a_reason_from_their_list(db, to, list_name):
    ref = add(db)
    with pytest.raises(BadInput, match=f"moving to {to} needs --reason"):
        workflow.move(db, ref, to, by="t")
    with pytest.raises(BadInput, match=f"unknown {list_name.replace('_', ' ')} 'made_up'"):
        workflow.move(db, ref, to, reason="made_up", by="t")
    from thcli import codes

    reason = codes.list_codes(db, list_name)[0]["code"]
    case = workflow.move(db, ref, to, reason=reason, by="t")
    assert (case["status"], case["reason"], case["closed_on"], case["next_due_on"]) == (to, reason, TODAY, None)


@freeze_time(TODAY)
def test_reason_on_an_ordinary_move_is_refused(db):
    ref = add(db)
    with pytest.raises(BadInput, match="--reason is only for"):
        workflow.move(db, ref, "triage", reason="other", by="t")


@freeze_time(TODAY)
def test_on_hold_returns_to_where_it_was(db):
    ref = add(db)
    workflow.move(db, ref, "triage", by="t")
    held = workflow.move(db, ref, "on_hold", by="t")
    assert (held["status"], held["status_before_hold"], held["next_due_on"]) == ("on_hold", "triage", None)
    with pytest.raises(NotAllowed, match="on hold: it returns to triage"):
        workflow.move(db, ref, "survey", by="t")
    back = workflow.move(db, ref, "triage", by="t")
    assert (back["status"], back["status_before_hold"]) == ("triage", None)


@freeze_time(TODAY)
def test_closed_and_declined_cases_are_read_only(db):
    ref = add(db)
    workflow.move(db, ref, "declined", reason="out_of_area", by="t")
    with pytest.raises(NotAllowed, match="is declined: a declined case is read-only"):
        workflow.move(db, ref, "triage", by="t")


@freeze_time(TODAY)
def test_withdrawn_case_can_be_reopened(db):
    ref = add(db)
    workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")
    case = workflow.move(db, ref, "triage", by="t")
    assert (case["status"], case["reason"], case["closed_on"]) == ("triage", None, None)


@freeze_time(TODAY)
def test_every_move_adds_a_timeline_event_and_an_audit_row(db):
    ref = add(db)
    workflow.move(db, ref, "triage", by="Jo Coordinator", note="Called the client")
    events = list(db.query("SELECT kind, detail, by FROM events WHERE case_id = "
                           "(SELECT id FROM cases WHERE ref = ?) ORDER BY id", [ref]))
    assert events[-2:] == [{"kind": "status", "detail": "new → triage", "by": "Jo Coordinator"},
                           {"kind": "note", "detail": "Called the client", "by": "Jo Coordinator"}]
    audit = db.conn.execute("SELECT by, action, detail FROM audit WHERE ref = ? ORDER BY id DESC LIMIT 1",
                            [ref]).fetchone()
    assert audit == ("Jo Coordinator", "referral.move", "new>triage")


@freeze_time(TODAY)
def test_unknown_status(db):
    ref = add(db)
    with pytest.raises(BadInput, match="'lost' is not a status"):
        workflow.move(db, ref, "lost", by="t")
