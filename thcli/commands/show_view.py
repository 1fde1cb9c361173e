"""How `thcli referral show` looks in a terminal (the JSON is the domain's dict).

Sections are functions taking the database and the case dict and returning a
Rich renderable (or None to leave the section out). Other parts of thcli add
their sections to SECTIONS (survey and measures, money) in the order a
coordinator reads a case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from thcli import dates, parse, render

if TYPE_CHECKING:
    from thcli.db import Database


def _yes(value: Any) -> str:
    if value is None:
        return "unknown"
    return "yes" if value else "no"


def _tick(value: bool) -> Text:
    return Text("safe", style="green") if value else Text("not safe", style="red")


def _pairs(rows: list[tuple[str, Any]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for key, value in rows:
        if value not in (None, "", []):
            t.add_row(key, value if isinstance(value, Text) else str(value))
    return t


def header(db: Database, case: dict) -> Any:
    status = case["status"] + (f" ({case['reason']})" if case["reason"] else "")
    if case["status"] == "on_hold":
        status += f", returns to {case['status_before_hold']}"
    due = ""
    if case["next_due_on"]:
        due = f"{case['next_due_what']} by {dates.format_date(case['next_due_on'])}"
        if case.get("next_due_at"):
            due += f" {dates.format_time(case['next_due_at'])}"
    received = dates.format_date(case["received_on"])
    if case.get("received_at"):
        received += f" {dates.format_time(case['received_at'])}"
    rows = [
        ("Status", status),
        ("Received", received),
        ("District", case["district"]),
        ("Route", case["route"]),
        ("Risk", case["risk_level"] + (" — EMERGENCY" if case["emergency"] else "")),
        ("MARAC", _yes(case["marac"]) + (f" ({dates.format_date(case['marac_date'])})" if case["marac_date"] else "")),
        ("DASH", " ".join(filter(None, [dates.format_date(case["dash_date"]) if case["dash_date"] else "",
                                        f"score {case['dash_score']}" if case["dash_score"] is not None else ""]))),
        ("Crime ref", case["crime_ref"]),
        ("Support worker", case["support_worker"]),
        ("Next due", due),
        ("Repeat of", ", ".join(case["repeat_of"])),
        ("Referred again", ", ".join(case["repeated_by"])),
        ("Legal hold", "yes" if case["legal_hold"] else None),
    ]
    return Panel(_pairs(rows), title=Text(case["ref"], style="bold"), title_align="left")


def client(db: Database, case: dict) -> Any:
    c = case["client"]
    address = c["address"] or ""
    where = Text(", ".join(filter(None, [address, c["postcode"]])))
    if c["do_not_disclose"]:
        where.append("  DO NOT DISCLOSE", style="bold red")
    if not c["address_is_current"]:
        where.append("  (previous address)", style="yellow")
    dob = dates.format_date(c["dob"]) if c["dob"] else "unknown"
    rows = [
        ("Name", c["name"]),
        ("Date of birth", dob),
        ("Address", where),
        ("Gender", c["gender"]),
        ("Ethnicity", c["ethnicity"]),
        ("Disabled", _yes(c["disabled"]) if c["disabled"] is not None else None),
        ("Access needs", c["access_needs"]),
        ("Language", c["language"]),
        ("Interpreter", "needed" if c["interpreter"] else None),
        ("NRPF", "yes" if c["nrpf"] else None),
    ]
    return Panel(_pairs(rows), title="Client", title_align="left")


def contact(db: Database, case: dict) -> Any:
    safe = case["safe_contact"]
    k = case["contact"]
    rows = [
        ("Phone", Text.assemble(k["phone"] or "(none)", "  call: ", _tick(safe["call"]), ", text: ",
                                _tick(safe["text"]), ", voicemail: ", _tick(safe["voicemail"]))),
        ("Email", Text.assemble(k["email"] or "(none)", "  ", _tick(safe["email"]))),
        ("Post", _tick(safe["post"])),
        ("Safe times", k["safe_times"]),
        ("Third party", " ".join(filter(None, [k["third_party_name"], k["third_party_phone"]]))),
    ]
    return Panel(_pairs(rows), title="Safe contact", title_align="left")


def referral(db: Database, case: dict) -> Any:
    r = case["referrer"]
    h = case["household"]
    l = case["landlord"]
    consent = ", ".join(scope for scope, given in case["consent"].items() if given) or "none recorded"
    landlord = ""
    if case["landlord_permission"]:
        landlord = case["landlord_permission"].replace("_", " ")
        if case["landlord_permission_on"]:
            landlord += f" ({dates.format_date(case['landlord_permission_on'])})"
    household = ", ".join(filter(None, [
        f"{h['adults']} adult(s)" if h["adults"] is not None else "",
        f"{h['children']} child(ren)" if h["children"] is not None else "",
        f"ages {h['children_ages']}" if h["children_ages"] else "",
        "pregnancy" if h["pregnant"] else "",
    ]))
    problems = case["eligibility"]["problems"]
    overrides = [f'"{o["name"]}" overridden {dates.format_date(o["at"][:10])} by {o["by"]}: {o["reason"]}'
                 for o in case["eligibility"].get("overridden", [])]
    rows = [
        ("Referrer", ", ".join(filter(None, [r["name"], r["role"], r["organisation"]]))),
        ("Referrer contact", " ".join(filter(None, [r["phone"], r["email"]]))),
        ("Household", household),
        ("Tenure", case["tenure"]),
        ("Landlord", ", ".join(filter(None, [l["name"], l["address"], l["postcode"], l["phone"], l["email"]]))),
        ("Landlord permission", landlord),
        ("Consent", consent),
        ("Eligibility", Text("; ".join(problems), style="red") if problems else "no problems found"),
        ("Overridden", Text("; ".join(overrides), style="yellow") if overrides else None),
    ]
    return Panel(_pairs(rows), title="Referral", title_align="left")


def perpetrator(db: Database, case: dict) -> Any:
    p = case.get("perpetrator")
    if p is None:
        return None
    rows = [("Name", p["name"] or "(not recorded)"), ("Relationship", p["relationship"]),
            ("Whereabouts", p["whereabouts"]), ("Court orders", p["court_orders"]), ("Notes", p["notes"])]
    return Panel(_pairs(rows), title=Text("Perpetrator (confidential, viewing is audited)", style="red"),
                 title_align="left", border_style="red")


def timeline(db: Database, case: dict) -> Any:
    rows = [{**e, "when": dates.format_date(e["at"][:10]) + " " + e["at"][11:16]} for e in case["timeline"]]
    return render.table(rows, [
        render.Column("when", "When", kind="whole", drop=0),
        render.Column("kind", "What", kind="code", drop=0),
        render.Column("detail", "Detail", kind="text", drop=0),
        render.Column("by", "By", kind="text", drop=1),
    ], title="Timeline")


def money(db: Database, case: dict) -> Any:
    m = case.get("money")
    if not m or not m["funds"]:
        return None
    figures = (f"committed {parse.format_money(m['committed_pence'])}, paid {parse.format_money(m['paid_pence'])}, "
               f"contributions {parse.format_money(m['contributions_pence'])}")
    if m["pledged_pence"]:
        figures += f" (and {parse.format_money(m['pledged_pence'])} pledged)"
    funds = "; ".join(f"{f['name']} ({f['fund']}, {f['year']})" for f in m["funds"])
    return Panel(_pairs([("Money", figures), ("Funds", funds)]), title="Money", title_align="left")


def line_status(m: dict) -> str:
    """A measure line's status with its date and who: ``ordered 20/11/2026 from in_house``."""
    when = {"approved": m["approved_on"], "ordered": m["ordered_on"], "fitted": m["fitted_on"],
            "removed": m["removed_on"]}.get(m["status"])
    text = m["status"] + (f" {dates.format_date(when)}" if when else "")
    if m["status"] == "declined" and m["declined_reason"]:
        text += f" ({m['declined_reason']})"
    elif m["status"] == "ordered" and m["contractor"]:
        text += f" from {m['contractor']}"
    elif m["status"] == "fitted" and m["stock_holder"]:
        text += f" from stock ({m['stock_holder']})"
    elif m["status"] == "fitted" and m["contractor"]:
        text += f" by {m['contractor']}"
    return text


def measures(db: Database, case: dict) -> Any:
    """The surveys, every measure line with its status, and the follow-ups."""
    surveys, lines, followups = case.get("surveys") or [], case.get("measures") or [], case.get("followups") or []
    if not (surveys or lines or followups):
        return None
    parts: list[Any] = []
    for s in surveys:
        done = (Text(f"surveyed {dates.format_date(s['surveyed_on'])}") if s["surveyed_on"]
                else Text("not yet surveyed", style="yellow"))
        asked = f"requested {dates.format_date(s['requested_on'])}, " if s["requested_on"] else ""
        who = s["surveyor"]
        if s.get("assessor_label") and s["assessor_label"] != s["surveyor"]:
            who += f" ({s['assessor_label']})"
        parts.append(Text.assemble(("Survey", "bold"), f" by {who}: {asked}", done))
        if s["notes"]:
            parts.append(Text(f"  {s['notes']}"))
    if lines:
        # Inside the panel: its border and padding take four columns.
        parts.append(render.table(lines, [
            render.Column("line", "Line", kind="number", drop=0),
            render.Column("label", "Measure", lambda v, m: v + (" (removable)" if m["removable"] else "") + (
                f"\nat: {m['location']}" if m.get("location") else ""), kind="text", drop=0),
            render.Column("quantity", "Qty", kind="number", drop=3),
            render.Column("estimated_cost_pence", "Estimate", render.money, kind="money", drop=0),
            render.Column("status", "Status", lambda v, m: line_status(m), kind="text", drop=0),
            render.Column("fund", "Fund", kind="code", drop=2),
            render.Column("actual_cost_pence", "Actual", render.money, kind="money", drop=1),
        ], width=render.output_width() - PANEL_EDGES))
    for f in followups:
        parts.append(Text(f"Follow-up {dates.format_date(f['done_on'])}: {f['outcome']}"
                          + (f" — {f['note']}" if f["note"] else "")
                          + (f" (early: {f['early_reason']})" if f.get("early_reason") else "")))
    return Panel(Group(*parts), title="Survey and measures", title_align="left")


def due(db: Database, case: dict) -> Any:
    items = case.get("due") or []
    if not items:
        return None
    rows = []
    for item in items:
        late = item["days_late"]
        when = Text(dates.format_date(item["due_on"]))
        if item.get("due_at"):
            when = Text(f"{dates.format_date(item['due_on'])} {dates.format_time(item['due_at'])}")
            hours = item["hours_late"]
            when.append(f" ({render.hours_text(hours)})")
            if hours >= 0:
                when.stylize("red")
            rows.append((item["what"], when))
            continue
        if late > 0:
            when.append(f" ({late} day{'s' if late != 1 else ''} late)")
            when.stylize("red")
        elif late == 0:
            when.append(" (today)")
            when.stylize("yellow")
        rows.append((item["what"], when))
    return Panel(_pairs(rows), title="Due", title_align="left")


def letters(db: Database, case: dict) -> Any:
    """The letters made for the case: what, to whom, when, by whom, and the file."""
    rows = case.get("letters") or []
    if not rows:
        return None
    shown = [{**row, "made_on": row["made_at"][:10], "to": Text.assemble(
        row["recipient"], (" (safety override)" if row["override"] else "", "red"))} for row in rows]
    return render.table(shown, [
        render.Column("made_on", "Made", render.uk_date, kind="date", drop=0),
        render.Column("kind", "Letter", kind="code", drop=0),
        render.Column("to", "To", kind="whole", drop=3),
        render.Column("made_by", "By", kind="text", drop=1),
        render.Column("file", "File", kind="whole", drop=2),
    ], title="Letters")


SECTIONS: list[Callable[[Any, dict], Any]] = [header, client, contact, referral, perpetrator, measures, due, money,
                                              letters, timeline]


def print_case(db: Database, case: dict) -> None:
    parts = [part for part in (section(db, case) for section in SECTIONS) if part is not None]
    render.show(Group(*parts), left_out=[name for part in parts for name in _left_out(part)])


#: What a panel's border and padding take from the width.
PANEL_EDGES = 4


def _left_out(part: Any) -> list[str]:
    """The columns the tables in a section had to leave out (see render.fit)."""
    if isinstance(part, render.Laid):
        return part.left_out
    if isinstance(part, Panel):
        return _left_out(part.renderable)
    if isinstance(part, Group):
        return [name for inner in part.renderables for name in _left_out(inner)]
    return []
