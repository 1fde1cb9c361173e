"""Issue 11, holes 2 and 5 to 8: what letters guarantee besides the sandbox and the screening.

2. the wording check of landlord and contractor letters reads the whole letter as written;
5. each kind is made only at the point of a case where it is true, and never to a home the client has left;
6. the dates a letter promises come from the case's due dates and are always after the letter's date;
7. a letter is never written over: the second of a name is numbered, and each record is true to a file;
8. a stored reference can never put a letter outside its folder; folders made are owner-only.

Each at the domain level and through the command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.test_letters import (
    LINES_FITTED,
    LINES_ORDERED,
    LINES_PROPOSED,
    TODAY,
    docx_with,
    letter_text,
    make,
    new_case,
    set_up,
)
from thcli import letters, referrals, settings, targets, workflow
from thcli.db import open_db, write
from thcli.errors import NotAllowed


def store_template(db, kind: str, *paragraphs: str) -> None:
    """A template put straight into the database, as an older thcli (or a hand edit) could leave it."""
    content = docx_with(*paragraphs)  # its true hash: compiled templates are cached by it
    with write(db):
        db.conn.execute("INSERT INTO letter_templates (kind, filename, content, sha256, set_at, set_by) "
                        "VALUES (?, 'ours.docx', ?, ?, '2026-01-01', 't')",
                        [kind, content, hashlib.sha256(content).hexdigest()])


def nothing_written(folder: Path) -> bool:
    return not folder.exists() or not list(folder.iterdir())


# --- 2. the whole letter is checked -----------------------------------------------------------------------

VICTIM = "{{ 'Your tenant is a victim of domestic abuse' }}"


def test_an_expression_that_prints_an_account_of_the_abuse_is_refused_at_use(db, tmp_path):
    template = tmp_path / "landlord.docx"
    template.write_bytes(docx_with("Dear {{ recipient_name }},", VICTIM))
    with pytest.raises(NotAllowed) as refused:
        letters.use_template(db, "landlord-permission", template, by="t")
    assert refused.value.message == (
        "landlord.docx: a test landlord-permission letter to the landlord says 'victim': a landlord-permission "
        "letter gives no account of the abuse. Reword the template and try again")
    assert db.conn.execute("SELECT count(*) FROM letter_templates").fetchone()[0] == 0


def test_a_word_the_scheme_screens_is_refused_at_use_not_at_every_make(db, tmp_path, cli):
    assert cli("settings", "set", "screened_words", "gang").exit_code == 0
    template = tmp_path / "works.docx"
    template.write_bytes(docx_with("Dear {{ recipient_name }},", "Please remove the gang tag."))
    with pytest.raises(NotAllowed) as refused:
        letters.use_template(db, "works-order", template, by="t")
    assert refused.value.message == ("works.docx says 'gang': a works-order letter gives no account of the abuse. "
                                     "Reword the template and try again")
    template.write_bytes(docx_with("Dear {{ recipient_name }},", "{{ 'gang' }} tag."))
    result = cli("letter", "templates", "use", "works-order", template)
    assert result.exit_code == 1
    assert result.stderr == ("Error: works.docx: a test works-order letter to the contractor says 'gang': a "
                             "works-order letter gives no account of the abuse. Reword the template and try again\n")
    assert db.conn.execute("SELECT count(*) FROM letter_templates").fetchone()[0] == 0


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def with_part(content: bytes, part: str, rel_type: str, content_type: str, text: str) -> bytes:
    """A .docx with one more part (footnotes, endnotes, comments) holding ``text``, as Word writes it."""
    import io
    import zipfile

    root = part.removesuffix(".xml")
    tag = {"footnotes": "footnote", "endnotes": "endnote", "comments": "comment"}[root]
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{root} xmlns:w="{W_NS}">'
           f'<w:{tag} w:id="-1" w:type="separator"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>'
           f'<w:{tag} w:id="1"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:{tag}></w:{root}>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            data = old.read(name).decode("utf-8") if name.endswith((".xml", ".rels")) else old.read(name)
            if name == "[Content_Types].xml":
                data = data.replace("</Types>", f'<Override PartName="/word/{part}" ContentType="{content_type}"/>'
                                                "</Types>")
            elif name == "word/_rels/document.xml.rels":
                data = data.replace("</Relationships>", f'<Relationship Id="rId99" Type="{rel_type}" '
                                                        f'Target="{part}"/></Relationships>')
            new.writestr(name, data)
        new.writestr(f"word/{part}", xml)
    return out.getvalue()


OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."


@pytest.mark.parametrize("part, what", [("footnotes.xml", "footnotes"), ("endnotes.xml", "endnotes"),
                                        ("comments.xml", "comments")])
def test_text_in_footnotes_endnotes_or_comments_is_refused_at_use(db, tmp_path, cli, part, what):
    root = part.removesuffix(".xml")
    template = tmp_path / "works.docx"
    content = docx_with("Dear {{ recipient_name }},")
    template.write_bytes(with_part(content, part, OFFICE + root, WML + f"{root}+xml", "Not when the ex is in"))
    with pytest.raises(NotAllowed) as refused:
        letters.use_template(db, "works-order", template, by="t")
    assert refused.value.message.startswith(f"works.docx: the template has text in its {what}, which would go "
                                            "into every letter without being checked: in Word, ")
    result = cli("letter", "templates", "use", "works-order", template)
    assert result.exit_code == 1
    assert result.stderr == "Error: " + refused.value.message + "\n"
    assert db.conn.execute("SELECT count(*) FROM letter_templates").fetchone()[0] == 0
    # the empty separators Word always writes are no text
    template.write_bytes(with_part(content, part, OFFICE + root, WML + f"{root}+xml", " "))
    assert letters.use_template(db, "works-order", template, by="t")["kind"] == "works-order"


@pytest.mark.parametrize("kind, setup, paragraph", [
    ("landlord-permission", dict(status="approval", lines=LINES_PROPOSED), VICTIM),
    ("works-order", dict(status="works", lines=LINES_ORDERED), "{{ 'ex-' ~ 'partner' }} {{ subject }}"),
    ("works-order", dict(status="works", lines=LINES_ORDERED), "{{ subject }} {% if ref %}MARAC case{% endif %}"),
])
@freeze_time(TODAY)
def test_the_letter_as_written_is_checked_not_only_the_templates_fixed_text(db, tmp_path, kind, setup, paragraph):
    set_up(db)
    ref = new_case(db, **setup)
    store_template(db, kind, "Dear {{ recipient_name }},", paragraph)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, kind, tmp_path)
    assert refused.value.rule == letters.NO_ACCOUNT
    assert refused.value.why.startswith("the letter as it would be written says ")
    assert refused.value.message.endswith(f"Change the template (`thcli letter templates export {kind} FILE`, "
                                          f"edit, then `use`), or go back to thcli's own with `thcli letter "
                                          f"templates reset {kind}`.")
    assert nothing_written(tmp_path / "letters")


@freeze_time(TODAY)
def test_a_template_cannot_write_the_perpetrators_name_or_a_do_not_disclose_address_either(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19", do_not_disclose=True)
    store_template(db, "completion", "{{ subject }} for {{ client_name }} at 12 {{ 'Sample Road' }}")
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "completion", tmp_path)
    assert refused.value.rule == letters.DO_NOT_DISCLOSE
    assert refused.value.why.startswith("the letter as it would be written contains the client's do-not-disclose")


@freeze_time(TODAY)
def test_through_the_cli_the_written_check_refuses_with_exit_1(cli, db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    template = tmp_path / "landlord.docx"
    template.write_bytes(docx_with(VICTIM))
    result = cli("letter", "templates", "use", "landlord-permission", template)
    assert result.exit_code == 1
    assert result.stderr == ("Error: landlord.docx: a test landlord-permission letter to the landlord says 'victim': "
                             "a landlord-permission letter gives no account of the abuse. Reword the template and "
                             "try again\n")
    store_template(db, "landlord-permission", VICTIM)
    result = cli("letter", "make", ref, "landlord-permission", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith(f'Error: {ref}: the landlord-permission letter is refused by the safety rule '
                                     f"\"no account of the abuse\": the letter as it would be written says 'victim', "
                                     "and a landlord letter gives no account of the abuse.")
    assert nothing_written(tmp_path / "out")


# --- 5. the right point of the case, and never a home the client has left ------------------------------------

@pytest.mark.parametrize("kind, setup, allowed", [
    ("acknowledgement", dict(status="closed", reason="completed"), "new, triage or survey"),
    ("acknowledgement", dict(status="approval", lines=LINES_PROPOSED), "new, triage or survey"),
    ("survey-request", dict(status="approval"), "triage or survey"),
    ("landlord-permission", dict(status="fitted", lines=LINES_PROPOSED), "approval or works"),
    ("works-order", dict(status="closed", reason="completed", lines=LINES_ORDERED), "works"),
    ("completion", dict(status="works", lines=LINES_FITTED), "fitted or follow_up"),
    ("completion", dict(status="closed", reason="moved_on", lines=LINES_FITTED, safe_post=True),
     "fitted or follow_up"),
    ("follow-up", dict(status="withdrawn", reason="rehoused", lines=LINES_FITTED, safe_post=True),
     "fitted or follow_up"),
    ("bedroom-tax-evidence", dict(status="works", lines=LINES_FITTED, safe_post=True),
     "fitted, follow_up or closed"),
    ("equipment-removal", dict(status="works", lines=LINES_FITTED, safe_post=True),
     "fitted, follow_up, closed or withdrawn"),
])
@freeze_time(TODAY)
def test_a_kind_is_made_only_at_the_points_of_a_case_where_it_is_true(db, tmp_path, kind, setup, allowed):
    set_up(db)
    ref = new_case(db, **setup)
    with pytest.raises(NotAllowed) as refused:
        make(db, ref, kind, tmp_path)
    status = setup["status"]
    article = "an" if kind[0] in "aeiou" else "a"
    assert refused.value.message == (f"{ref} is {status}: {article} {kind} letter is only made for a case that is "
                                     f"{allowed}")
    assert nothing_written(tmp_path / "letters")


@freeze_time(TODAY)
def test_a_batch_of_acknowledgements_for_closed_cases_lists_every_refusal_and_makes_none(db, tmp_path, cli):
    set_up(db)
    closed = [new_case(db, name=f"Client Example{'x' * i}", perpetrator_name=None, status="closed",
                       reason="completed", received_on=dt.date(2025, 6, 2 + i)) for i in range(3)]
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", status="closed")
    assert result.made == []
    assert result.refused == [{"ref": ref, "rule": None, "reason": (
        "is closed: an acknowledgement letter is only made for a case that is new, triage or survey")}
        for ref in closed]
    result = cli("letter", "batch", "acknowledgement", "--status", "closed", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stdout == (
        f"Made 0 acknowledgement letters in {tmp_path / 'out'}; refused 3.\n"
        "Refused:\n" + "".join(f"  {ref}  is closed: an acknowledgement letter is only made for a case that is new, "
                               "triage or survey\n" for ref in closed))
    assert nothing_written(tmp_path / "out")


@freeze_time(TODAY)
def test_a_batch_for_open_cases_takes_only_those_the_kind_is_made_for(db, tmp_path, cli):
    set_up(db)
    new = new_case(db, perpetrator_name=None)
    new_case(db, name="Jo Specimen", perpetrator_name=None, status="works", lines=LINES_ORDERED)
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "out", status="open")
    assert [m.ref for m in result.made] == [new] and result.refused == []
    assert result.statuses == ["new", "triage", "survey"]
    result = cli("letter", "batch", "acknowledgement", "--status", "open", "--again", "--out", tmp_path / "out")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1] == ("Open cases that are new, triage or survey were taken: an "
                                             "acknowledgement letter is only made for those.")


def end_as_moved(db, *, status="follow_up", to="closed", reason="moved_on", **setup) -> str:
    ref = new_case(db, status=status, lines=LINES_FITTED, fitted_on="2026-08-14", safe_post=True, **setup)
    workflow.move(db, ref, to, reason=reason, by="Jo Coordinator")
    return ref


@pytest.mark.parametrize("to, reason", [("closed", "moved_on"), ("withdrawn", "rehoused"),
                                        ("withdrawn", "moved_away")])
@freeze_time(TODAY)
def test_ending_a_case_because_the_client_moved_ends_the_address(db, tmp_path, to, reason):
    set_up(db)
    ref = end_as_moved(db, to=to, reason=reason)
    case = referrals.case_row(db, ref)
    address = db.conn.execute("SELECT current, ended_at FROM addresses WHERE id = ?", [case["address_id"]]).fetchone()
    assert address == (0, "2026-11-20T00:00:00Z")
    details = [row[0] for row in db.conn.execute("SELECT detail FROM events WHERE case_id = ? AND kind = 'address'",
                                                 [case["id"]])]
    assert details == ["the client has moved: this address is no longer current, and no letter goes to it"]
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'referral.address_ended' AND ref = ?",
                           [ref]).fetchone()[0] == 1


@freeze_time(TODAY)
def test_no_letter_goes_to_the_home_of_a_client_who_moved(db, tmp_path):
    set_up(db)
    closed = end_as_moved(db, reason="moved_on", tenure="council")
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, closed, "equipment-removal", tmp_path, to="survivor", override_reason="sure")
    assert refused.value.rule == letters.PREVIOUS_ADDRESS and not refused.value.overridable
    assert refused.value.why == ("the case's address is no longer the client's current address, and no letter goes "
                                 "to or is about a home the client has left")
    with pytest.raises(letters.LetterRefused, match='safety rule "previous address"'):
        make(db, closed, "bedroom-tax-evidence", tmp_path)
    # The referrer can still be asked to help collect lent equipment: that letter goes to them, not the home.
    text = letter_text(make(db, closed, "equipment-removal", tmp_path, to="referrer").path)
    assert "12 Sample Road" not in text and "Window alarm" in text


@freeze_time(TODAY)
def test_a_client_who_moved_and_came_back_gets_letters_once_the_new_address_is_recorded(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED, safe_post=True)
    workflow.move(db, ref, "withdrawn", reason="rehoused", by="t")
    workflow.move(db, ref, "triage", by="t")  # the client came back, in the scheme's area
    with pytest.raises(letters.LetterRefused, match="no longer the client's current address"):
        make(db, ref, "acknowledgement", tmp_path, to="survivor")
    referrals.edit_referral(db, ref, {"address": "40 Newhome Close, Northmoor", "postcode": "ZZ1 7XY"}, by="t")
    assert "40 Newhome Close" in letter_text(make(db, ref, "acknowledgement", tmp_path, to="survivor").path)


@freeze_time(TODAY)
def test_the_reasons_that_mean_a_move_are_a_setting(db, tmp_path, cli):
    set_up(db)
    assert settings.get(db, "moved_reasons") == ["moved_away", "rehoused", "moved_on"]
    result = cli("settings", "set", "moved_reasons", "moved_on,not_a_reason")
    assert result.exit_code == 2
    assert "'not_a_reason' is not a reason for ending a case" in result.stderr
    assert cli("settings", "set", "moved_reasons", "moved_on").exit_code == 0
    ref = end_as_moved(db, to="withdrawn", reason="rehoused")
    assert db.conn.execute("SELECT current FROM addresses WHERE id = ?",
                           [referrals.case_row(db, ref)["address_id"]]).fetchone()[0] == 1


@freeze_time(TODAY)
def test_through_the_cli_a_move_ends_the_address_and_the_letter_home_is_refused(cli, db, tmp_path):
    set_up(db)
    ref = new_case(db, status="follow_up", lines=LINES_FITTED, fitted_on="2026-08-14", safe_post=True)
    result = cli("referral", "move", ref, "closed", "--reason", "moved_on")
    assert result.exit_code == 0, result.stderr
    result = cli("letter", "make", ref, "follow-up", "--to", "survivor", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {ref} is closed: a follow-up letter is only made for a case that is fitted or follow_up\n")
    result = cli("letter", "make", ref, "equipment-removal", "--to", "survivor", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr == (
        f'Error: {ref}: the equipment-removal letter is refused by the safety rule "previous address": the case\'s '
        "address is no longer the client's current address, and no letter goes to or is about a home the client "
        f"has left. {ref} has ended (closed), so it takes no new address: reach the client another safe way "
        f"(`thcli referral show {ref}` lists the safe contact routes) and note it with `thcli referral note {ref} "
        "TEXT`.\n")
    assert nothing_written(tmp_path / "out")


def test_the_migration_ends_the_addresses_of_cases_that_ended_with_a_move(tmp_path):
    from thcli import scheme

    path = tmp_path / "old.db"
    db = open_db(path, create=True)
    scheme.init_scheme(db, by="t", name="Old Scheme", code="old", prefix="TH", districts=[("northmoor", "Northmoor")])
    with freeze_time(TODAY):
        set_up(db)
        moved = new_case(db, status="closed", reason="moved_on", closed_on="2026-06-01")
        back = new_case(db, name="Jo Specimen", status="withdrawn", reason="rehoused", closed_on="2026-03-01",
                        perpetrator_name=None)
        again = new_case(db, name="Jo Specimen", received_on=dt.date(2026, 4, 1), perpetrator_name=None)
        stayed = new_case(db, name="Kim Notreal", status="closed", reason="completed", closed_on="2026-06-01",
                          perpetrator_name=None)
    # As a database from before this release: every address still current, the migration not yet run.
    db.conn.execute("UPDATE addresses SET current = 1, ended_at = NULL")
    db.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_end_moved_addresses'")
    db.conn.commit()
    db.close()
    db = open_db(path)  # migrates
    current = {ref: db.conn.execute("SELECT a.current FROM cases c JOIN addresses a ON a.id = c.address_id "
                                    "WHERE c.ref = ?", [ref]).fetchone()[0] for ref in (moved, back, again, stayed)}
    assert current == {moved: 0, back: 1, again: 1, stayed: 1}  # back: the client was referred again from there
    assert db.conn.execute("SELECT a.ended_at FROM cases c JOIN addresses a ON a.id = c.address_id WHERE c.ref = ?",
                           [moved]).fetchone()[0] == "2026-06-01T00:00:00Z"
    db.close()


# --- 6. the dates a letter promises -------------------------------------------------------------------------


@freeze_time("2026-12-01")
def test_a_landlord_asked_on_the_17th_is_not_asked_to_reply_by_the_letters_own_date(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED)
    with write(db):
        db.conn.execute("UPDATE cases SET landlord_permission = 'requested', landlord_permission_on = '2026-11-17' "
                        "WHERE ref = ?", [ref])
    text = letter_text(make(db, ref, "landlord-permission", tmp_path).path)
    assert "Reply by: 2 December 2026" in text and "Please reply by 2 December 2026" in text
    assert "by 1 December 2026" not in text


@freeze_time("2026-12-01")
def test_an_acknowledgement_never_promises_contact_by_its_own_date(db, tmp_path):
    set_up(db)
    ref = new_case(db, received_on=dt.date(2026, 11, 30))  # first contact due 1 December: today
    text = letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    assert "We will contact Alex Example by 2 December 2026" in text
    assert "complete by 7 December 2026" in text  # the survey target, not yet passed


@freeze_time("2026-12-01")
def test_an_acknowledgement_after_first_contact_does_not_promise_it(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="triage", received_on=dt.date(2026, 11, 30))
    with write(db):
        db.conn.execute("UPDATE cases SET first_contact_on = '2026-11-30' WHERE ref = ?", [ref])
    text = letter_text(make(db, ref, "acknowledgement", tmp_path).path)
    assert "We have been in touch with Alex Example (first on 30 November 2026)" in text
    assert "We will contact" not in text


@freeze_time("2026-12-01")
def test_a_works_order_for_a_high_risk_case_13_days_old_claims_no_48_hour_target(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED, received_on=dt.date(2026, 11, 18))  # due 20 November
    text = letter_text(make(db, ref, "works-order", tmp_path).path)
    assert "Complete by: 2 December 2026" in text
    assert "Urgent: please complete the work as soon as possible, and by 2 December 2026 at the latest." in text
    assert "48 hours" not in text and "3 December" not in text


@pytest.mark.parametrize("risk, received, sentence, complete_by", [
    ("high", dt.date(2026, 11, 30), "Urgent: the work must be complete by 2 December 2026, within 48 hours of the "
                                    "referral.", "2 December 2026"),
    ("medium", dt.date(2026, 11, 30), "Standard priority: please complete the work by 14 December 2026, within 10 "
                                      "working days of the referral.", "14 December 2026"),
    ("medium", dt.date(2026, 11, 2), "Please complete the work as soon as possible, and by 2 December 2026 at the "
                                     "latest.", "2 December 2026"),
])
@freeze_time("2026-12-01")
def test_the_works_order_sentence_is_true_to_the_cases_own_target(db, tmp_path, risk, received, sentence,
                                                                  complete_by):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED, received_on=received, risk_level=risk)
    targets.refresh_due(db, referrals.case_row(db, ref)["id"])
    db.conn.commit()
    text = letter_text(make(db, ref, "works-order", tmp_path).path)
    assert sentence in text
    assert f"Complete by: {complete_by}" in text
    case = referrals.case_row(db, ref)
    if "within" in sentence:  # the date printed is the case's own due date, as `thcli due` shows it
        assert case["next_due_on"] == dt.datetime.strptime(complete_by, "%d %B %Y").date().isoformat()


def test_no_date_a_letter_promises_is_on_or_before_its_own(db, tmp_path):
    set_up(db)
    promised = {"acknowledgement": ("first_contact_by", "survey_by"), "survey-request": ("survey_by",),
                "landlord-permission": ("reply_by",), "works-order": ("complete_by",)}
    setups = {"acknowledgement": dict(status="new"), "survey-request": dict(status="survey"),
              "landlord-permission": dict(status="approval", lines=LINES_PROPOSED),
              "works-order": dict(status="works", lines=LINES_ORDERED)}
    refs = {kind: new_case(db, name=f"Client {kind.replace('-', '')}", perpetrator_name=None, **setup)
            for kind, setup in setups.items()}
    scheme = letters.Scheme.load(db)
    for day in range(40):  # from the day of the referral until well after every target
        on = dt.date(2026, 11, 16) + dt.timedelta(days=day)
        for kind, fields in promised.items():
            spec = letters.kind_spec(kind)
            data = letters.load_case(db, refs[kind])
            recipient = letters.recipients_for(spec, data, None)[0]
            ctx = letters.build_context(spec, data, recipient, scheme, on=on, by="t")
            for name in fields:
                promised_on = dt.datetime.strptime(ctx[name], "%d %B %Y").date()
                assert promised_on > on, (kind, name, on)


@freeze_time("2026-11-20")
def test_a_completion_letter_announces_only_the_follow_ups_still_to_come(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="follow_up", lines=LINES_FITTED, fitted_on="2026-08-14")
    with write(db):
        db.conn.execute("INSERT INTO followups (case_id, done_on, outcome, by, at) SELECT id, '2026-11-14', "
                        "'feels_safer', 't', '2026-11-14T10:00:00Z' FROM cases WHERE ref = ?", [ref])
    text = letter_text(make(db, ref, "completion", tmp_path).path)
    assert "We will follow up with Alex Example in February 2027 to check" in text
    assert "in November 2026" not in text and "May 2027" not in text


@freeze_time("2026-12-01")
def test_through_the_cli_the_works_order_dates_are_true(cli, db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=LINES_ORDERED, received_on=dt.date(2026, 11, 18))
    result = cli("letter", "make", ref, "works-order", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    text = letter_text(tmp_path / f"{ref}-works-order-2026-12-01.docx")
    assert "Urgent: please complete the work as soon as possible, and by 2 December 2026 at the latest." in text


# --- 7. never overwrite a letter ----------------------------------------------------------------------------


@freeze_time(TODAY)
def test_making_a_letter_twice_through_the_cli_numbers_the_second(cli, db, tmp_path):
    set_up(db)
    ref = new_case(db)
    first = cli("letter", "make", ref, "acknowledgement", "--out", tmp_path)
    second = cli("letter", "make", ref, "acknowledgement", "--out", tmp_path)
    assert first.exit_code == second.exit_code == 0
    assert second.stdout == (f"Made the acknowledgement letter for {ref} to the referrer (Pat Idvaexample): "
                             f"{tmp_path.resolve() / f'{ref}-acknowledgement-2026-11-20-2.docx'}\n")
    again = cli("letter", "batch", "acknowledgement", "--again", "--out", tmp_path)
    assert again.exit_code == 0
    assert sorted(p.name for p in tmp_path.glob("*.docx")) == [
        f"{ref}-acknowledgement-2026-11-20-2.docx", f"{ref}-acknowledgement-2026-11-20-3.docx",
        f"{ref}-acknowledgement-2026-11-20.docx"]
    for path, sha in db.conn.execute("SELECT path, sha256 FROM letters"):
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha


# --- 8. a stored reference cannot leave the folder --------------------------------------------------------


def corrupt(db, ref: str, to: str) -> str:
    with write(db):
        db.conn.execute("UPDATE cases SET ref = ? WHERE ref = ?", [to, ref])
    return to


@pytest.mark.parametrize("bad", ["../../ESCAPED", "EV-../../../X", "../X", "A/B"])
@freeze_time(TODAY)
def test_a_reference_that_climbs_out_writes_nothing_anywhere(db, tmp_path, bad):
    set_up(db)
    ref = corrupt(db, new_case(db), bad)
    out = tmp_path / "deep" / "letters"
    with pytest.raises(NotAllowed) as refused:
        letters.make_letter(db, ref, "acknowledgement", by="t", out_dir=out)
    assert refused.value.message == (
        f"{bad!r} is not a case reference thcli makes (PREFIX-YYYY-NNNN), and as a file name it would leave "
        f"{out}: nothing was written. Check where this database came from")
    assert list(tmp_path.rglob("*.docx")) == []
    assert db.conn.execute("SELECT count(*) FROM letters").fetchone()[0] == 0


@freeze_time(TODAY)
def test_a_batch_lists_such_a_case_and_makes_the_others(db, tmp_path):
    set_up(db)
    bad = corrupt(db, new_case(db), "../../ESCAPED")
    good = new_case(db, name="Jo Specimen", perpetrator_name=None)
    result = letters.batch(db, "acknowledgement", by="t", out_dir=tmp_path / "a" / "b")
    assert [m.ref for m in result.made] == [good]
    assert [(r["ref"], r["reason"][:52]) for r in result.refused] == [
        (bad, "'../../ESCAPED' is not a case reference thcli makes ")]
    assert [p.name for p in tmp_path.rglob("*.docx")] == [f"{good}-acknowledgement-2026-11-20.docx"]


@freeze_time(TODAY)
def test_through_the_cli_a_climbing_reference_is_one_line_and_exit_1(cli, db, tmp_path):
    set_up(db)
    for bad in ("../../ESCAPED", "EV-../../../X"):
        ref = corrupt(db, new_case(db, name=f"Client {len(bad)}example", perpetrator_name=None), bad)
        out = tmp_path / "one" / "two" / "letters"
        result = cli("letter", "make", ref, "acknowledgement", "--out", out)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == (f"Error: {bad!r} is not a case reference thcli makes (PREFIX-YYYY-NNNN), and as a "
                                 f"file name it would leave {out}: nothing was written. Check where this database "
                                 "came from\n")
    assert list(tmp_path.rglob("*ESCAPED*")) == [] and list(tmp_path.rglob("X-*")) == []
    result = cli("letter", "batch", "acknowledgement", "--out", tmp_path / "batch")
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr
    assert "  ../../ESCAPED  '../../ESCAPED' is not a case reference thcli makes" in result.stdout


@freeze_time(TODAY)
def test_every_folder_thcli_creates_for_letters_is_owner_only(cli, db, tmp_path):
    set_up(db)
    ref = new_case(db)
    result = cli("letter", "make", ref, "acknowledgement", "--out", tmp_path / "a" / "b" / "c")
    assert result.exit_code == 0, result.stderr
    for level in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    made = next((tmp_path / "a" / "b" / "c").iterdir())
    assert stat.S_IMODE(made.stat().st_mode) == 0o600


@freeze_time(TODAY)
def test_the_subject_access_export_stays_inside_its_folder_too(db, tmp_path):
    from thcli import person

    set_up(db)
    ref = corrupt(db, new_case(db), "../../ESCAPED")
    with pytest.raises(NotAllowed) as refused:
        person.export(db, ref, tmp_path / "sar", by="t")
    assert refused.value.message == (
        f"subject-access-../../ESCAPED-2026-11-20.docx cannot be used as a file name inside {tmp_path / 'sar'}: it "
        "names another folder, so nothing was written. thcli never makes such a name: check where this database "
        "came from")
    assert list(tmp_path.rglob("subject-access-*")) == []
