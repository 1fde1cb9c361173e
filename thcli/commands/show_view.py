"""How `thcli referral show` looks in a terminal (the JSON is the domain's dict).

Sections are functions taking the database and the case dict and returning a
Rich renderable (or None to leave the section out). Other parts of thcli add
their sections to SECTIONS (survey and measures, money) in the order a
coordinator reads a case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from thcli import parse, render


def _yes(value: Any) -> str:
    if value is None:
        return "unknown"
    return "yes" if value else "no"


def _tick(value: bool) -> str:
    return "[green]safe[/green]" if value else "[red]not safe[/red]"


def _pairs(rows: list[tuple[str, Any]]) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    for key, value in rows:
        if value not in (None, "", []):
            t.add_row(key, value if isinstance(value, Text) else str(value))
    return t


def header(db, case: dict) -> Any:
    status = case["status"] + (f" ({case['reason']})" if case["reason"] else "")
    if case["status"] == "on_hold":
        status += f", returns to {case['status_before_hold']}"
    due = ""
    if case["next_due_on"]:
        due = f"{case['next_due_what']} by {parse.format_date(case['next_due_on'])}"
    rows = [
        ("Status", status),
        ("Received", parse.format_date(case["received_on"])),
        ("District", case["district"]),
        ("Route", case["route"]),
        ("Risk", case["risk_level"] + (" — EMERGENCY" if case["emergency"] else "")),
        ("MARAC", _yes(case["marac"]) + (f" ({parse.format_date(case['marac_date'])})" if case["marac_date"] else "")),
        ("DASH", " ".join(filter(None, [parse.format_date(case["dash_date"]) if case["dash_date"] else "",
                                        f"score {case['dash_score']}" if case["dash_score"] is not None else ""]))),
        ("Crime ref", case["crime_ref"]),
        ("Support worker", case["support_worker"]),
        ("Next due", due),
        ("Repeat of", ", ".join(case["repeat_of"])),
        ("Referred again", ", ".join(case["repeated_by"])),
        ("Legal hold", "yes" if case["legal_hold"] else None),
    ]
    return Panel(_pairs(rows), title=f"[bold]{case['ref']}[/bold]", title_align="left")


def client(db, case: dict) -> Any:
    c = case["client"]
    address = c["address"] or ""
    where = ", ".join(filter(None, [address, c["postcode"]]))
    if c["do_not_disclose"]:
        where += "  [bold red]DO NOT DISCLOSE[/bold red]"
    if not c["address_is_current"]:
        where += "  [yellow](previous address)[/yellow]"
    dob = parse.format_date(c["dob"]) if c["dob"] else "unknown"
    rows = [
        ("Name", c["name"]),
        ("Date of birth", dob),
        ("Address", Text.from_markup(where)),
        ("Gender", c["gender"]),
        ("Ethnicity", c["ethnicity"]),
        ("Disabled", _yes(c["disabled"]) if c["disabled"] is not None else None),
        ("Access needs", c["access_needs"]),
        ("Language", c["language"]),
        ("Interpreter", "needed" if c["interpreter"] else None),
        ("NRPF", "yes" if c["nrpf"] else None),
    ]
    return Panel(_pairs(rows), title="Client", title_align="left")


def contact(db, case: dict) -> Any:
    safe = case["safe_contact"]
    k = case["contact"]
    rows = [
        ("Phone", Text.from_markup(f"{k['phone'] or '(none)'}  call: {_tick(safe['call'])}, "
                                   f"text: {_tick(safe['text'])}, voicemail: {_tick(safe['voicemail'])}")),
        ("Email", Text.from_markup(f"{k['email'] or '(none)'}  {_tick(safe['email'])}")),
        ("Post", Text.from_markup(_tick(safe["post"]))),
        ("Safe times", k["safe_times"]),
        ("Third party", " ".join(filter(None, [k["third_party_name"], k["third_party_phone"]]))),
    ]
    return Panel(_pairs(rows), title="Safe contact", title_align="left")


def referral(db, case: dict) -> Any:
    r = case["referrer"]
    h = case["household"]
    l = case["landlord"]
    consent = ", ".join(scope for scope, given in case["consent"].items() if given) or "none recorded"
    landlord = ""
    if case["landlord_permission"]:
        landlord = case["landlord_permission"].replace("_", " ")
        if case["landlord_permission_on"]:
            landlord += f" ({parse.format_date(case['landlord_permission_on'])})"
    household = ", ".join(filter(None, [
        f"{h['adults']} adult(s)" if h["adults"] is not None else "",
        f"{h['children']} child(ren)" if h["children"] is not None else "",
        f"ages {h['children_ages']}" if h["children_ages"] else "",
        "pregnancy" if h["pregnant"] else "",
    ]))
    problems = case["eligibility"]["problems"]
    rows = [
        ("Referrer", ", ".join(filter(None, [r["name"], r["role"], r["organisation"]]))),
        ("Referrer contact", " ".join(filter(None, [r["phone"], r["email"]]))),
        ("Household", household),
        ("Tenure", case["tenure"]),
        ("Landlord", ", ".join(filter(None, [l["name"], l["phone"], l["email"]]))),
        ("Landlord permission", landlord),
        ("Consent", consent),
        ("Eligibility", Text.from_markup("[red]" + "; ".join(problems) + "[/red]") if problems else "no problems found"),
    ]
    return Panel(_pairs(rows), title="Referral", title_align="left")


def perpetrator(db, case: dict) -> Any:
    p = case.get("perpetrator")
    if p is None:
        return None
    rows = [("Name", p["name"] or "(not recorded)"), ("Relationship", p["relationship"]),
            ("Whereabouts", p["whereabouts"]), ("Court orders", p["court_orders"]), ("Notes", p["notes"])]
    return Panel(_pairs(rows), title="[red]Perpetrator (confidential, viewing is audited)[/red]",
                 title_align="left", border_style="red")


def timeline(db, case: dict) -> Any:
    t = Table(title="Timeline", title_justify="left", header_style="bold", expand=False)
    t.add_column("When")
    t.add_column("What")
    t.add_column("Detail", overflow="fold")
    t.add_column("By")
    for e in case["timeline"]:
        when = parse.format_date(e["at"][:10]) + " " + e["at"][11:16]
        t.add_row(when, e["kind"], e["detail"], e["by"])
    return t


SECTIONS: list[Callable[[Any, dict], Any]] = [header, client, contact, referral, perpetrator, timeline]


def print_case(db, case: dict) -> None:
    parts = [section(db, case) for section in SECTIONS]
    render.console.print(Group(*[p for p in parts if p is not None]))
