"""Subject access: `person export` gathers everything held about a client, perpetrator withheld."""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest
from freezegun import freeze_time

from thcli import audit, budget, person, referrals, retention, workflow
from thcli.db import write
from thcli.errors import NotAllowed, NotFound
from thcli.referrals import ReferralInput


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


def add(db, *, received: str, **fields) -> str:
    values = dict(name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
                  received_on=dt.date.fromisoformat(received))
    values.update(fields)
    return referrals.add_referral(db, ReferralInput(**values), by="tester").ref


@pytest.fixture
def client_cases(db):
    """One client, two referrals: the first with a perpetrator recorded, then a move and some money."""
    first = add(db, received="2025-03-03", address="1 Example Street", phone="020 7946 0001", safe_call=True,
                perpetrator_name="Pat Perpetrator-Example", perpetrator_relationship=None,
                referrer_name="Jo Referrer", note="Alex asked for a call after 5pm")
    with freeze_time("2025-04-01 10:00:00"):
        workflow.move(db, first, "withdrawn", reason=_code(db, "withdrawal_reason"), by="tester")
    second = add(db, received="2026-11-02", address="9 Sample Road", email="alex@example.org",
                 safe_email=True, dob=dt.date(1990, 2, 3))
    budget.add_fund(db, "Example OPCC", year="2026/27", source="opcc", amount_pence=100_000, by="tester")
    budget.add_contribution(db, second, contributor="survivor", amount_pence=2500, by="tester")
    with write(db):
        case_id = referrals.case_row(db, second)["id"]
        db["letters"].insert({"case_id": case_id, "kind": "acknowledgement", "recipient": "referrer",
                              "path": "/nowhere/x.docx", "sha256": "ab" * 32, "made_at": "2026-11-03T09:00:00Z",
                              "made_by": "tester"})
    return first, second


def _code(db, list_name):
    return db.conn.execute("SELECT code FROM codes WHERE list = ? AND retired = 0 ORDER BY position LIMIT 1",
                           [list_name]).fetchone()[0]


def test_gather_covers_every_case_of_the_client_and_withholds_the_perpetrator(db, client_cases):
    first, second = client_cases
    data = person.gather(db, second)
    assert data["asked_for_ref"] == second
    assert data["client"]["name"] == "Alex Example" and data["client"]["dob"] == "1990-02-03"
    assert [c["ref"] for c in data["cases"]] == [first, second]
    assert [(a["address"], a["postcode"], a["current"]) for a in data["addresses"]] == [
        ("1 Example Street", "ZZ1 2AB", False), ("9 Sample Road", "ZZ1 2AB", True)]
    one, two = data["cases"]
    assert one["perpetrator"] == person.WITHHELD and two["perpetrator"] is None
    assert data["withheld"] == [f"{first}: perpetrator details {person.WITHHELD}"]
    assert one["safe_contact"]["phone"] == "020 7946 0001" and one["safe_contact"]["safe_to_call"] is True
    assert one["referrer"]["name"] == "Jo Referrer"
    assert [e["kind"] for e in one["timeline"]] == ["received", "note", "status"]
    assert one["timeline"][1]["detail"] == "Alex asked for a call after 5pm"
    assert two["safe_contact"]["email"] == "alex@example.org"
    assert [(m["kind"], m["amount_pence"], m["contributor"]) for m in two["money_entries"]] == [
        ("contribution", 2500, "survivor")]
    assert two["letters"] == [{"kind": "acknowledgement", "recipient": "referrer",
                               "made_at": "2026-11-03T09:00:00Z", "made_by": "tester"}]
    assert "Pat Perpetrator-Example" not in json.dumps(data)
    assert person.gather(db, first)["cases"] == data["cases"]  # either case finds the same client


def test_export_writes_a_private_docx_and_json_and_audits_it(db, client_cases, tmp_path):
    first, second = client_cases
    out = tmp_path / "sar"
    done = person.export(db, first, out, by="dpo")
    assert (done.ref, done.cases) == (first, 2)
    assert done.docx == out / f"subject-access-{first}-2026-11-20.docx"
    assert done.json == out / f"subject-access-{first}-2026-11-20.json"
    for file in (done.docx, done.json):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert b"Pat Perpetrator" not in file.read_bytes()
    data = json.loads(done.json.read_text(encoding="utf-8"))
    assert data["format"] == "thcli-subject-access-1" and [c["ref"] for c in data["cases"]] == [first, second]

    import docx

    document = docx.Document(str(done.docx))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "Information we hold about you" in text
    assert "covers 2 referrals" in text
    for expected in ("Alex Example", "03/02/1990", "1 Example Street", "9 Sample Road", first, second,
                     "020 7946 0001", "Alex asked for a call after 5pm", "£25.00",
                     "withheld: details of another person"):
        assert expected in text, expected
    assert document.core_properties.author == "Test Sanctuary Scheme"
    assert document.core_properties.comments == ""
    assert document.sections[0].header.paragraphs[0].text == "OFFICIAL-SENSITIVE"

    (entry,) = audit.entries(db, limit=1)
    assert (entry["action"], entry["ref"], entry["by"]) == ("person.export", first, "dpo")
    assert entry["detail"] == f"2 cases; {done.docx.name}, {done.json.name}"


def test_an_anonymised_or_unknown_case_has_nothing_to_export(db, tmp_path):
    ref = add(db, received="2019-05-01")
    with freeze_time("2019-06-03 10:00:00"):
        workflow.move(db, ref, "declined", reason="out_of_area", by="tester")
    retention.apply(db, by="dpo")
    with pytest.raises(NotAllowed, match=f"{ref} was anonymised \\(20/11/2026\\): thcli holds no personal data"):
        person.export(db, ref, tmp_path, by="dpo")
    with pytest.raises(NotFound):
        person.export(db, "TH-2026-9999", tmp_path, by="dpo")
    assert list(tmp_path.glob("subject-access-*")) == []


def test_person_export_command(db, client_cases, cli, tmp_path):
    first, _ = client_cases
    out = tmp_path / "sar"
    result = cli("person", "export", first.lower(), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Wrote what is held about the client of {first} (2 cases):\n"
        f"  {out / f'subject-access-{first}-2026-11-20.docx'}\n"
        f"  {out / f'subject-access-{first}-2026-11-20.json'}\n"
        "Read the document before sending it: timeline notes can name other people.\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    bad = cli("person", "export", first, "--out", str(a_file))
    assert (bad.exit_code, bad.stderr) == (2, f"Error: --out: {a_file} is a file, not a folder\n")
