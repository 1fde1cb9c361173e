"""Subject access: everything thcli holds about a client, for the client (UK GDPR Article 15).

``thcli person export REF`` finds the client of a case and gathers what is
held about them across all their cases: their details and addresses, safe
contact, each case's details, consent, timeline, surveys, measures, the list
of letters, follow-ups and money. It writes two files, readable by their owner
only: a Word document a person can read, and the same as JSON.

Details of the perpetrator are left out and marked as withheld: they are
another person's data, and disclosing them could put the client at risk
(UK GDPR Article 15(4); Data Protection Act 2018, Schedule 2, paragraph 16).
The coordinator should still read the document before sending it, since
notes typed into the timeline can name other people. Each export is audited
(who, when, which case, how many cases: never a personal value).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thcli import (
    audit,
    budget,
    case_files,
    clock,
    codes,
    dates,
    eligibility,
    followups,
    measures,
    parse,
    settings,
    surveys,
)
from thcli.cases import case_row, client_details, consent_state, flag, household, landlord, referrer
from thcli.db import Database, one, write
from thcli.errors import NotAllowed
from thcli.files import head, inside, is_docx, may_replace, printable, private_folder, write_atomically

WITHHELD = ("withheld: details of another person (the perpetrator), left out under UK GDPR Article 15(4) "
            "and the Data Protection Act 2018, Schedule 2, paragraph 16")
FORMAT_VERSION = "thcli-subject-access-1"


@dataclass
class Exported:
    ref: str
    cases: int
    docx: Path
    json: Path


def _rows(db: Database, sql: str, params: list) -> list[dict]:
    return list(db.query(sql, params))


def _perpetrator_held(db: Database, case: dict) -> bool:
    row = one(db, "SELECT * FROM perpetrators WHERE case_id = ?", [case["id"]])
    recorded = row is not None and any(v is not None for k, v in row.items() if k != "case_id")
    flags = (case["perpetrator_lives_there"], case["perpetrator_can_enter"])
    return recorded or any(f is not None for f in flags)


def _case_record(db: Database, case: dict) -> dict:
    address = one(db, "SELECT address, postcode, do_not_disclose FROM addresses WHERE id = ?",
                  [case["address_id"]]) or {}
    contact = one(db, "SELECT * FROM contacts WHERE case_id = ?", [case["id"]]) or {}
    record = {
        "ref": case["ref"],
        "status": case["status"],
        "reason": case["reason"],
        "received_on": case["received_on"],
        "received_at": case["received_at"],
        "district": case["district"],
        "district_name": codes.label(db, "district", case["district"]),
        "route": case["route"],
        "risk_level": case["risk_level"],
        "emergency": bool(case["emergency"]),
        "marac": flag(case["marac"]),
        "marac_date": case["marac_date"],
        "dash_date": case["dash_date"],
        "dash_score": case["dash_score"],
        "crime_ref": case["crime_ref"],
        "referrer": referrer(case),
        "support_worker": case["support_worker"],
        "household": household(case),
        "tenure": case["tenure"],
        "landlord": landlord(case),
        "landlord_permission": case["landlord_permission"],
        "chooses_to_stay": flag(case["chooses_to_stay"]),
        "address": {"address": address.get("address"), "postcode": address.get("postcode"),
                    "do_not_disclose": flag(address.get("do_not_disclose"))},
        "safe_contact": {
            "phone": contact.get("phone"), "safe_to_call": bool(contact.get("safe_call")),
            "safe_to_text": bool(contact.get("safe_text")), "safe_voicemail": bool(contact.get("safe_voicemail")),
            "email": contact.get("email"), "safe_email": bool(contact.get("safe_email")),
            "safe_post": bool(contact.get("safe_post")), "safe_times": contact.get("safe_times"),
            "third_party_name": contact.get("third_party_name"),
            "third_party_phone": contact.get("third_party_phone"),
        },
        "consent": _rows(db, "SELECT scope, given_on, given_by, withdrawn_on, withdrawn_by FROM consents "
                             "WHERE case_id = ? ORDER BY id", [case["id"]]),
        "consent_now": consent_state(db, case["id"]),
        "first_contact_on": case["first_contact_on"],
        "fitted_on": case["fitted_on"],
        "closed_on": case["closed_on"],
        "timeline": _rows(db, "SELECT at, kind, detail, by FROM events WHERE case_id = ? ORDER BY id", [case["id"]]),
        "surveys": surveys.case_surveys(db, case["id"]),
        "measures": measures.case_lines(db, case["id"]),
        "followups": followups.case_followups(db, case["id"]),
        "eligibility_overrides": eligibility.overridden(db, case["id"]),
        "letters": _rows(db, "SELECT kind, recipient, made_at, made_by FROM letters WHERE case_id = ? ORDER BY id",
                         [case["id"]]),
        "money": budget.case_money(db, case["id"]),
        # The memo and invoice number too: a coordinator may have typed the client's name in them.
        "money_entries": _rows(db, "SELECT l.on_date, l.kind, l.amount_pence, f.code AS fund, l.contributor, "
                                   "l.pledged, l.invoice, l.memo FROM ledger l JOIN funds f ON f.id = l.fund_id "
                                   "WHERE l.case_id = ? ORDER BY l.id", [case["id"]]),
        "perpetrator": WITHHELD if _perpetrator_held(db, case) else None,
    }
    return record


def gather(db: Database, ref: str) -> dict:
    """Everything held about the client of case ``ref``, across all their cases (perpetrator withheld)."""

    case = case_row(db, ref)
    if case["client_id"] is None:
        when = dates.format_date(case["anonymised_on"]) if case["anonymised_on"] else "earlier"
        raise NotAllowed(f"{case['ref']} was anonymised ({when}): thcli holds no personal data about its client")
    client = one(db, "SELECT * FROM clients WHERE id = ?", [case["client_id"]]) or {}
    cases = _rows(db, "SELECT * FROM cases WHERE client_id = ? ORDER BY received_on, id", [case["client_id"]])
    addresses = _rows(db, "SELECT address, postcode, do_not_disclose, current, recorded_at, ended_at "
                          "FROM addresses WHERE client_id = ? ORDER BY recorded_at, id", [case["client_id"]])
    records = [_case_record(db, c) for c in cases]
    withheld = [r["ref"] for r in records if r["perpetrator"]]
    return {
        "format": FORMAT_VERSION,
        "generated_at": clock.now_iso(),
        "scheme": settings.get(db, "scheme_name"),
        "asked_for_ref": case["ref"],
        "client": {
            **client_details(client),
            "first_recorded_at": client.get("created_at"),
        },
        "addresses": [{**a, "do_not_disclose": bool(a["do_not_disclose"]), "current": bool(a["current"])}
                      for a in addresses],
        "cases": records,
        "withheld": [f"{ref}: perpetrator details {WITHHELD}" for ref in withheld],
    }


def file_stem(ref: str, on: dt.date) -> str:
    return f"subject-access-{ref}-{on.isoformat()}"


def is_subject_access_json(path: Path) -> bool:
    """Whether a file is a subject access JSON thcli wrote (its format line comes first)."""
    return f'"format": "{FORMAT_VERSION}"' in head(path, 200).decode("utf-8", "replace")


def export(db: Database, ref: str, out_dir: Path, *, by: str, today: dt.date | None = None,
           force: bool = False) -> Exported:
    """Write the subject access files (.docx and .json, 0600) for the client of ``ref``; audited.

    Each file is recorded against every case whose data it holds, so that
    retention deletes it with the first of them (case_files.py). Files of the
    same name are replaced only with ``force``, and only when they are an
    earlier subject access export.
    """
    today = today or clock.today()
    data = gather(db, ref)
    stem = file_stem(data["asked_for_ref"], today)
    # The names come from a stored reference: they must stay inside the folder chosen.
    docx_path, json_path = inside(out_dir, f"{stem}.docx"), inside(out_dir, f"{stem}.json")
    database = getattr(db, "path", None)
    replace_json = may_replace(json_path, what="subject access export", is_earlier=is_subject_access_json,
                               force=force, database=database, option="--out")
    replace_docx = may_replace(docx_path, what="subject access export", is_earlier=is_docx, force=force,
                               database=database, option="--out")
    document = render_docx(db, data, today)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    private_folder(out_dir, option="--out")
    here = case_files.database_file(db)
    written: list[Path] = []
    try:
        with write(db):
            for path, content, replace in ((json_path, text.encode("utf-8"), replace_json),
                                           (docx_path, document, replace_docx)):
                write_atomically(path, content, replace=replace, option="--out")
                written.append(path)
                digest = hashlib.sha256(content).hexdigest()
                # A replaced export's records go with it: they would hold the old file's hash.
                db.conn.execute("DELETE FROM subject_access_files WHERE path = ?", [str(path.resolve())])
                for case in data["cases"]:
                    case_id = db.conn.execute("SELECT id FROM cases WHERE ref = ?", [case["ref"]]).fetchone()[0]
                    db.conn.execute(
                        "INSERT INTO subject_access_files (case_id, path, sha256, made_in, made_at, made_by) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [case_id, str(path.resolve()), digest, str(here) if here else None, clock.now_iso(), by])
            audit.record(db, by=by, action="person.export", ref=data["asked_for_ref"],
                         detail=f"{len(data['cases'])} case{'' if len(data['cases']) == 1 else 's'}; "
                                f"{docx_path.name}, {json_path.name}")
    except FileExistsError:
        for path in written:
            path.unlink(missing_ok=True)
        raise NotAllowed(f"{printable(out_dir)}: a file of the same name appeared meanwhile: nothing was "
                         "written; run the export again") from None
    except BaseException:
        # Not audited, so not kept: no copy of someone's data leaves thcli unrecorded.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return Exported(data["asked_for_ref"], len(data["cases"]), docx_path, json_path)


# --- the readable document ---------------------------------------------------------------------


def _date(value: str | None) -> str:
    if not value:
        return ""
    return dates.format_date(value[:10]) + (f" {value[11:16]}" if len(value) > 10 else "")


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def render_docx(db: Database, data: dict, today: dt.date) -> bytes:
    """The subject access document, as .docx bytes."""
    import docx  # ~90 ms: only when a document is written

    scheme = data["scheme"]
    document = docx.Document()
    props = document.core_properties
    props.author = scheme
    props.last_modified_by = scheme
    props.title = f"Subject access: {data['asked_for_ref']}"
    props.subject = "Information held about you"
    props.comments = ""
    props.keywords = ""
    props.category = ""
    marking = settings.get(db, "protective_marking")
    if marking:
        document.sections[0].header.paragraphs[0].text = marking

    def table(rows: list[tuple[str, str]]) -> None:
        t = document.add_table(rows=0, cols=2)
        t.style = "Table Grid"
        for label, value in rows:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = label, value

    def grid(headers: list[str], rows: list[list[str]], empty: str) -> None:
        if not rows:
            document.add_paragraph(empty)
            return
        t = document.add_table(rows=1, cols=len(headers))
        t.style = "Table Grid"
        for cell, header in zip(t.rows[0].cells, headers, strict=True):
            cell.text = header
        for row in rows:
            for cell, value in zip(t.add_row().cells, row, strict=True):
                cell.text = value

    client = data["client"]
    document.add_heading("Information we hold about you", level=0)
    document.add_paragraph(
        f"This is a copy of the personal information {scheme} holds about {client['name']}, made on "
        f"{dates.format_long_date(today)} in answer to a subject access request. It covers "
        f"{len(data['cases'])} referral{'s' if len(data['cases']) != 1 else ''}.")
    if data["withheld"]:
        document.add_paragraph(
            "Some information about another person (the person you were protected from) has been left out, "
            "as the law allows, to keep you and others safe. Where this was done it says \"withheld\".")

    document.add_heading("Your details", level=1)
    table([
        ("Name", _text(client["name"])), ("Date of birth", _date(client["dob"]) or "not recorded"),
        ("Gender", codes.label(db, "gender", client["gender"]) or "not recorded"),
        ("Ethnicity", codes.label(db, "ethnicity", client["ethnicity"]) or "not recorded"),
        ("Disabled", _yes_no(client["disabled"])), ("Access needs", _text(client["access_needs"])),
        ("Language", _text(client["language"])), ("Interpreter needed", _yes_no(client["interpreter"])),
        ("No recourse to public funds", _yes_no(client["nrpf"])), ("LGBT+", _yes_no(client["lgbt"])),
        ("Mental health needs", _yes_no(client["mental_health_needs"])),
        ("Substance use needs", _yes_no(client["substance_use_needs"])),
    ])
    document.add_heading("Your addresses", level=1)
    grid(["Address", "Postcode", "Kept private", "Current", "Recorded", "Ended"],
         [[_text(a["address"]), _text(a["postcode"]), _yes_no(a["do_not_disclose"]), _yes_no(a["current"]),
           _date(a["recorded_at"]), _date(a["ended_at"])] for a in data["addresses"]],
         "No address is recorded.")

    for case in data["cases"]:
        document.add_heading(f"Referral {case['ref']}", level=1)
        referrer = case["referrer"]
        landlord = case["landlord"]
        household = case["household"]
        table([
            ("Received", _date(case["received_on"])), ("Status", case["status"].replace("_", " ")),
            ("Reason or outcome", _text(case["reason"])), ("District", _text(case["district_name"])),
            ("How it came to us", codes.label(db, "route", case["route"])),
            ("Risk level", _text(case["risk_level"])), ("Emergency", _yes_no(case["emergency"])),
            ("Heard at MARAC", _yes_no(case["marac"]) + (f" ({_date(case['marac_date'])})"
                                                          if case["marac_date"] else "")),
            ("DASH risk assessment", " ".join(x for x in (_date(case["dash_date"]),
                                                          f"score {case['dash_score']}"
                                                          if case["dash_score"] is not None else "") if x)),
            ("Police crime reference", _text(case["crime_ref"])),
            ("Referred by", ", ".join(_text(v) for v in referrer.values() if v)),
            ("Support worker", _text(case["support_worker"])),
            ("Household", f"adults: {_text(household['adults'])}; children: {_text(household['children'])}"
                          + (f" (ages {household['children_ages']})" if household["children_ages"] else "")),
            ("Pregnant", _yes_no(household["pregnant"])),
            ("Tenure", codes.label(db, "tenure", case["tenure"])),
            ("Landlord", ", ".join(_text(v) for v in landlord.values() if v)),
            ("Landlord's permission", _text(case["landlord_permission"]).replace("_", " ")),
            ("Address for this referral", ", ".join(x for x in (case["address"]["address"],
                                                                case["address"]["postcode"]) if x)),
            ("First contact", _date(case["first_contact_on"])), ("Measures fitted", _date(case["fitted_on"])),
            ("Ended", _date(case["closed_on"])),
            ("Perpetrator", case["perpetrator"] or "none recorded"),
        ])
        contact = case["safe_contact"]
        document.add_heading("How we may contact you safely", level=2)
        table([
            ("Phone", _text(contact["phone"])), ("Safe to call", _yes_no(contact["safe_to_call"])),
            ("Safe to text", _yes_no(contact["safe_to_text"])),
            ("Safe to leave a voicemail", _yes_no(contact["safe_voicemail"])),
            ("Email", _text(contact["email"])), ("Safe to email", _yes_no(contact["safe_email"])),
            ("Safe to post letters", _yes_no(contact["safe_post"])), ("Safe times", _text(contact["safe_times"])),
            ("Safe third party", " ".join(_text(v) for v in (contact["third_party_name"],
                                                             contact["third_party_phone"]) if v)),
        ])
        document.add_heading("Your consent to share", level=2)
        grid(["With", "Given", "Recorded by", "Withdrawn"],
             [[c["scope"], _date(c["given_on"]), _text(c["given_by"]), _date(c["withdrawn_on"])]
              for c in case["consent"]], "No consent is recorded.")
        document.add_heading("What happened, and when", level=2)
        grid(["When", "What", "Detail", "By"],
             [[_date(e["at"]), e["kind"].replace("_", " "), _text(e["detail"]), _text(e["by"])]
              for e in case["timeline"]], "Nothing is recorded.")
        document.add_heading("Home security surveys", level=2)
        grid(["Surveyor", "Requested", "Surveyed", "Notes"],
             [[_text(s["surveyor"]), _date(s["requested_on"]), _date(s["surveyed_on"]), _text(s["notes"])]
              for s in case["surveys"]], "No survey is recorded.")
        document.add_heading("Security measures", level=2)
        grid(["Measure", "Quantity", "Status", "Fitted", "Cost", "Note"],
             [[_text(m["label"]), str(m["quantity"]), m["status"], _date(m["fitted_on"]),
               parse.format_money(m["actual_cost_pence"] if m["actual_cost_pence"] is not None
                                  else m["estimated_cost_pence"]),
               "; ".join(_text(v) for v in (m.get("location"), m.get("over_cap_reason")) if v)]
              for m in case["measures"]], "No measure is recorded.")
        document.add_heading("Follow-ups", level=2)
        grid(["Date", "Outcome", "Note"],
             [[_date(f["done_on"]), _text(f["outcome"]), _text(f["note"])] for f in case["followups"]],
             "No follow-up is recorded.")
        document.add_heading("Letters", level=2)
        grid(["Letter", "To", "Made", "By"],
             [[lt["kind"].replace("-", " "), lt["recipient"], _date(lt["made_at"]), _text(lt["made_by"])]
              for lt in case["letters"]], "No letter is recorded.")
        document.add_heading("Money", level=2)
        grid(["Date", "What", "Amount", "Fund", "From", "Invoice", "Note"],
             [[_date(m["on_date"]), m["kind"], parse.format_money(abs(m["amount_pence"])), _text(m["fund"]),
               _text(m["contributor"]).replace("_", " "), _text(m["invoice"]), _text(m["memo"])]
              for m in case["money_entries"]],
             "No money is recorded.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
