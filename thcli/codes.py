"""Code lists: districts, routes, risk levels, reasons, measures, contractors...

Each scheme edits its own lists (``thcli codes add|retire``). A retired code
stays valid on the cases that already use it but is no longer accepted for new
entries. ``county_code`` maps a scheme's own code onto the county export's
codes (COUNTY_EXPORT.md).
"""

from __future__ import annotations

from thcli import audit, parse
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed, NotFound

#: The lists thcli knows, and what each is for (shown by `thcli codes list`).
LISTS: dict[str, str] = {
    "district": "districts the scheme covers",
    "route": "how a referral came in",
    "risk": "risk levels (from the DASH assessment)",
    "tenure": "tenure of the home",
    "gender": "gender of the client",
    "ethnicity": "ethnic group of the client (ONS top-level groups)",
    "relationship": "the perpetrator's relationship to the client",
    "whereabouts": "where the perpetrator is",
    "decline_reason": "why a referral was declined",
    "withdrawal_reason": "why a client withdrew",
    "no_contact_reason": "why the client could not be contacted",
    "outcome_reason": "how a case ended when closed",
    "fund_source": "where a fund's money comes from",
    "measure": "the measures catalogue",
    "contractor": "contractors (external, or the council's in-house team)",
    "stock_holder": "who holds a stock of equipment",
    "followup_outcome": "what a follow-up found",
}

#: Lists whose codes the county export knows: a scheme's own code maps to one
#: of these (or to `unknown`).
COUNTY_CODES: dict[str, list[str]] = {
    "route": ["self", "marac", "police", "idva", "court", "housing", "social_care", "health",
              "other_professional"],
    "risk": ["standard", "medium", "high"],
    "tenure": ["owner", "private_rented", "council", "housing_association", "temporary", "other"],
    "gender": ["woman", "man", "trans_woman", "trans_man", "non_binary", "not_stated"],
    "ethnicity": ["white", "mixed", "asian", "black", "other", "not_stated"],
}

#: The list holding the reason a case ends with, by the status it ends in (workflow.py asks for one on
#: each move there; the setting moved_reasons takes codes of these lists).
REASON_LISTS = {
    "declined": "decline_reason",
    "withdrawn": "withdrawal_reason",
    "no_contact": "no_contact_reason",
    "closed": "outcome_reason",
}

#: Tenures (by county code) where the landlord's permission is needed for works.
RENTED_TENURES = {"private_rented", "council", "housing_association", "temporary"}

DEFAULT_DISTRICTS = [
    ("boston", "Boston Borough"),
    ("east_lindsey", "East Lindsey"),
    ("lincoln", "City of Lincoln"),
    ("north_kesteven", "North Kesteven"),
    ("south_holland", "South Holland"),
    ("south_kesteven", "South Kesteven"),
    ("west_lindsey", "West Lindsey"),
]

DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "route": [
        ("self", "Self-referral"),
        ("marac", "MARAC"),
        ("police", "Police"),
        ("idva", "IDVA"),
        ("court", "Court"),
        ("housing", "Housing options"),
        ("social_care", "Social care"),
        ("health", "Health"),
        ("other_professional", "Other professional"),
    ],
    "risk": [("standard", "Standard"), ("medium", "Medium"), ("high", "High")],
    "tenure": [
        ("owner", "Owner occupier"),
        ("private_rented", "Private rented"),
        ("council", "Council tenancy"),
        ("housing_association", "Housing association"),
        ("temporary", "Temporary accommodation"),
        ("other", "Other"),
    ],
    "gender": [
        ("woman", "Woman"),
        ("man", "Man"),
        ("trans_woman", "Trans woman"),
        ("trans_man", "Trans man"),
        ("non_binary", "Non-binary"),
        ("not_stated", "Not stated"),
    ],
    "ethnicity": [
        ("white", "White"),
        ("mixed", "Mixed or multiple ethnic groups"),
        ("asian", "Asian or Asian British"),
        ("black", "Black, Black British, Caribbean or African"),
        ("other", "Other ethnic group"),
        ("not_stated", "Not stated"),
    ],
    "relationship": [
        ("partner", "Current partner"),
        ("ex_partner", "Former partner"),
        ("parent", "Parent"),
        ("child", "Son or daughter"),
        ("sibling", "Brother or sister"),
        ("other_family", "Other family member"),
        ("other", "Other"),
    ],
    "whereabouts": [
        ("custody", "In custody"),
        ("bail_conditions", "On bail with conditions"),
        ("known_address", "At a known address"),
        ("unknown", "Unknown"),
    ],
    "decline_reason": [
        ("risk_not_eligible", "The risk level is not one the scheme can help with"),
        ("out_of_area", "The home is outside the scheme's area"),
        ("perpetrator_in_home", "The perpetrator lives at the home"),
        ("perpetrator_right_to_enter", "The perpetrator has a right to enter the home"),
        ("not_staying", "The client does not wish to stay in the home"),
        ("risk_too_high", "The risk is too high for the client to stay at home safely"),
        ("documents_missing", "The referral form or DASH assessment was not provided"),
        ("no_funding", "No funding is available"),
        ("landlord_refused", "The landlord did not give permission"),
        ("other", "Other reason"),
    ],
    "withdrawal_reason": [
        ("client_withdrew", "The client no longer wants the measures"),
        ("moved_away", "The client has moved away"),
        ("reconciled", "The client is back in the relationship"),
        ("rehoused", "The client has been rehoused"),
        ("other", "Other reason"),
    ],
    "no_contact_reason": [
        ("no_answer", "No answer after repeated attempts"),
        ("unsafe_to_contact", "No safe way to contact the client"),
        ("details_wrong", "The contact details were wrong"),
    ],
    "outcome_reason": [
        ("completed", "Measures fitted and follow-ups done"),
        ("completed_partly", "Some measures fitted"),
        ("moved_on", "The client has moved on"),
        ("no_longer_needed", "Measures no longer needed"),
        ("other", "Other outcome"),
    ],
    "fund_source": [
        ("opcc", "Office of the Police and Crime Commissioner"),
        ("hpg", "Homelessness Prevention Grant"),
        ("safe_accommodation", "Safe Accommodation grant (MHCLG)"),
        ("district_budget", "District council budget"),
        ("donations", "Donations"),
        ("fundraising", "Fundraising"),
        ("other", "Other"),
    ],
    "contractor": [
        ("in_house", "In-house repairs team"),
    ],
    "stock_holder": [
        ("office", "Scheme office"),
        ("idva", "IDVA service"),
        ("police_da_officer", "Police domestic abuse officer"),
    ],
    "followup_outcome": [
        ("feels_safer", "Feels safer at home"),
        ("no_further_incidents", "No further incidents"),
        ("further_incident", "A further incident was reported"),
        ("equipment_faulty", "Equipment faulty"),
        ("moved", "Has moved"),
        ("no_contact", "Could not be contacted"),
        ("other", "Other"),
    ],
}

#: The measures catalogue: code, label, category, kind, removable, unit cost (pence).
MEASURES: list[tuple[str, str, str, str, bool, int]] = [
    ("lock_change_door", "Change of door locks (per door)", "locks", "works", False, 8500),
    ("window_locks", "Window locks (per window)", "locks", "works", False, 2500),
    ("additional_bolts", "Additional bolts", "doors", "works", False, 3000),
    ("door_chain", "Door chain", "doors", "works", False, 2000),
    ("door_jammer", "Door jammer", "doors", "equipment", True, 2500),
    ("door_viewer", "Door viewer (spy hole)", "doors", "works", False, 3500),
    ("door_reinforcement", "Door frame reinforcement", "doors", "works", False, 12000),
    ("reinforced_door", "Replacement reinforced door", "doors", "works", False, 95000),
    ("door_alarm", "Door alarm", "alarms", "equipment", True, 1500),
    ("window_alarm", "Window alarm", "alarms", "equipment", True, 800),
    ("personal_alarm", "Personal alarm", "alarms", "equipment", True, 1200),
    ("police_linked_alarm", "Alarm linked to the police", "alarms", "equipment", True, 25000),
    ("cctv", "CCTV camera system", "cameras", "works", True, 45000),
    ("video_doorbell", "Video doorbell", "cameras", "equipment", True, 9000),
    ("dummy_camera", "Dummy camera", "cameras", "equipment", True, 1500),
    ("pir_light", "Security light with PIR sensor", "lighting", "works", False, 6500),
    ("response_light", "Response light", "lighting", "equipment", True, 4000),
    ("timer_switch", "24-hour timer switch", "lighting", "equipment", True, 1000),
    ("fireproof_letterbox", "Fire-proof letterbox", "fire safety", "works", False, 8000),
    ("external_letterbox", "External letterbox", "fire safety", "works", False, 6000),
    ("fire_extinguisher", "Fire extinguisher", "fire safety", "equipment", True, 3000),
    ("fire_blanket", "Fire blanket", "fire safety", "equipment", True, 1000),
    ("smoke_alarm", "Smoke alarm", "fire safety", "equipment", True, 1500),
    ("window_film", "Anti-shatter window film", "windows", "works", False, 5000),
    ("sanctuary_room", "Sanctuary room", "sanctuary", "works", False, 250000),
]


def check_list(name: str) -> str:
    if name not in LISTS:
        raise BadInput(f"{name!r} is not a code list: use one of {', '.join(LISTS)}")
    return name


def seed_defaults(db: Database, districts: list[tuple[str, str]] | None = None) -> None:
    """Fill every code list with the default codes (inside the caller's transaction)."""
    rows = []
    for list_name, entries in {"district": districts or DEFAULT_DISTRICTS, **DEFAULTS}.items():
        for position, (code, label) in enumerate(entries):
            county = code if code in COUNTY_CODES.get(list_name, []) else None
            rows.append((list_name, code, label, position, county))
    for position, (code, label, *_rest) in enumerate(MEASURES):
        rows.append(("measure", code, label, position, None))
    db.conn.executemany(
        "INSERT OR IGNORE INTO codes (list, code, label, position, county_code) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO measure_catalogue (code, category, kind, removable, unit_cost_pence) "
        "VALUES (?, ?, ?, ?, ?)",
        [(code, category, kind, int(removable), cost) for code, _, category, kind, removable, cost in MEASURES],
    )
    db.conn.execute(
        "INSERT OR IGNORE INTO contractor_details (code, in_house) VALUES ('in_house', 1)"
    )


def list_codes(db: Database, list_name: str, *, include_retired: bool = True) -> list[dict]:
    """The codes of one list, in order; measures and contractors with their details."""
    check_list(list_name)
    where = "" if include_retired else "AND c.retired = 0"
    if list_name == "measure":
        sql = f"""SELECT c.code, c.label, c.retired, m.category, m.kind, m.removable, m.unit_cost_pence
                  FROM codes c JOIN measure_catalogue m ON m.code = c.code
                  WHERE c.list = 'measure' {where} ORDER BY c.position, c.code"""
    elif list_name == "contractor":
        sql = f"""SELECT c.code, c.label, c.retired, coalesce(d.in_house, 0) AS in_house,
                         d.address, d.email, d.phone
                  FROM codes c LEFT JOIN contractor_details d ON d.code = c.code
                  WHERE c.list = 'contractor' {where} ORDER BY c.position, c.code"""
    else:
        sql = f"""SELECT c.code, c.label, c.retired, c.county_code FROM codes c
                  WHERE c.list = ? {where} ORDER BY c.position, c.code"""
    params = [] if list_name in ("measure", "contractor") else [list_name]
    out = []
    for row in db.query(sql, params):
        row["retired"] = bool(row["retired"])
        if "removable" in row:
            row["removable"] = bool(row["removable"])
        if "in_house" in row:
            row["in_house"] = bool(row["in_house"])
        if list_name in COUNTY_CODES:
            row["county_code"] = row["county_code"] or "unknown"
        elif "county_code" in row:
            del row["county_code"]
        out.append(row)
    return out


def get(db: Database, list_name: str, code: str) -> dict | None:
    row = db.conn.execute(
        "SELECT code, label, retired, county_code FROM codes WHERE list = ? AND code = ?",
        [list_name, code],
    ).fetchone()
    if row is None:
        return None
    return {"code": row[0], "label": row[1], "retired": bool(row[2]), "county_code": row[3]}


def label(db: Database, list_name: str, code: str | None) -> str:
    """The label of a code, or the code itself when it is not in the list."""
    if code is None:
        return ""
    row = get(db, list_name, code)
    return row["label"] if row else code


def require(db: Database, list_name: str, code: str, *, allow_retired: bool = False) -> str:
    """A code that exists in the list (and is not retired): BadInput otherwise."""
    row = get(db, list_name, code)
    if row is None or (row["retired"] and not allow_retired):
        choices = [c["code"] for c in list_codes(db, list_name, include_retired=False)]
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        what = "retired" if row else "unknown"
        raise BadInput(
            f"{what} {list_name.replace('_', ' ')} {code!r}: use one of {shown} "
            f"(see `thcli codes list {list_name}`)"
        )
    return code


#: What ``codes add contractor --kind`` takes: an outside firm, or the council's own repairs team.
CONTRACTOR_KINDS = ("external", "in_house")


def add(
    db: Database,
    list_name: str,
    code: str,
    label: str,
    *,
    by: str,
    county_code: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    removable: bool | None = None,
    unit_cost_pence: int | None = None,
    in_house: bool = False,
    address: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> dict:
    """Add a code to a list (or bring a retired one back with a new label)."""
    check_list(list_name)
    parse.code(code)
    label = parse.label(label)
    # An option that does not apply to the list is refused, never silently ignored.
    for option, value, applies in (
            ("--category", category, "measure"), ("--removable", removable, "measure"),
            ("--cost", unit_cost_pence, "measure"), ("--in-house", in_house or None, "contractor"),
            ("--address", address, "contractor"), ("--email", email, "contractor"), ("--phone", phone, "contractor")):
        if value is not None and list_name != applies:
            raise BadInput(f"it applies only to the {applies} list, not to {list_name}", option)
    if kind is not None:
        if list_name == "contractor":
            chosen = kind.strip().lower().replace("-", "_")
            if chosen not in CONTRACTOR_KINDS:
                raise BadInput(f"{parse.shown(kind)} is not a kind of contractor: use external or in_house", "--kind")
            if chosen == "external" and in_house:
                raise BadInput("--kind external and --in-house say different things: give one of them", "--kind")
            in_house = chosen == "in_house"
        elif list_name != "measure":
            raise BadInput(f"it applies only to the measure list (equipment or works) and the contractor list "
                           f"(external or in_house), not to {list_name}", "--kind")
    if county_code is not None:
        if list_name not in COUNTY_CODES:
            raise BadInput(f"--county applies only to the lists {', '.join(COUNTY_CODES)}")
        if county_code not in COUNTY_CODES[list_name] + ["unknown"]:
            raise BadInput(
                f"{county_code!r} is not a county {list_name} code: use one of "
                f"{', '.join(COUNTY_CODES[list_name])}"
            )
        if county_code == "unknown":
            county_code = None
    elif list_name in COUNTY_CODES and code in COUNTY_CODES[list_name]:
        county_code = code
    if list_name == "measure":
        missing = [
            name
            for name, value in (("--category", category), ("--kind", kind), ("--cost", unit_cost_pence))
            if value is None
        ]
        existing = get(db, list_name, code)
        if missing and existing is None:
            raise BadInput(f"a new measure needs {', '.join(missing)}")
        if kind is not None and kind not in ("equipment", "works"):
            raise BadInput(f"{parse.shown(kind)} is not a kind of measure: use equipment or works", "--kind")
    with write(db):
        existing = get(db, list_name, code)
        if existing and not existing["retired"]:
            raise NotAllowed(
                f"{list_name} {code!r} already exists ({existing['label']}); "
                "retire it first or choose another code"
            )
        position = db.conn.execute(
            "SELECT coalesce(max(position), -1) + 1 FROM codes WHERE list = ?", [list_name]
        ).fetchone()[0]
        db.conn.execute(
            "INSERT INTO codes (list, code, label, position, county_code) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (list, code) DO UPDATE SET label = excluded.label, retired = 0, "
            "county_code = coalesce(excluded.county_code, codes.county_code)",
            [list_name, code, label, position, county_code],
        )
        if list_name == "measure":
            db.conn.execute(
                "INSERT INTO measure_catalogue (code, category, kind, removable, unit_cost_pence) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                "category = coalesce(excluded.category, category), kind = coalesce(excluded.kind, kind), "
                "removable = coalesce(excluded.removable, removable), "
                "unit_cost_pence = coalesce(excluded.unit_cost_pence, unit_cost_pence)",
                [code, category, kind, int(bool(removable)) if removable is not None else 0, unit_cost_pence],
            )
        if list_name == "contractor":
            db.conn.execute(
                "INSERT INTO contractor_details (code, in_house, address, email, phone) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET in_house = excluded.in_house, "
                "address = coalesce(excluded.address, address), email = coalesce(excluded.email, email), "
                "phone = coalesce(excluded.phone, phone)",
                [code, int(in_house), address, email, phone],
            )
        audit.record(db, by=by, action="codes.add", detail=f"{list_name}:{code}")
    return next(c for c in list_codes(db, list_name) if c["code"] == code)


def retire(db: Database, list_name: str, code: str, *, by: str) -> None:
    """Retire a code: old cases keep it, new entries may not use it."""
    check_list(list_name)
    with write(db):
        row = get(db, list_name, code)
        if row is None:
            raise NotFound(f"there is no {list_name} code {code!r} (see `thcli codes list {list_name}`)")
        if row["retired"]:
            raise NotAllowed(f"{list_name} {code!r} is already retired")
        active = db.conn.execute(
            "SELECT count(*) FROM codes WHERE list = ? AND retired = 0", [list_name]
        ).fetchone()[0]
        if active <= 1:
            raise NotAllowed(f"{code!r} is the last {list_name} code in use: add another before retiring it")
        db.conn.execute("UPDATE codes SET retired = 1 WHERE list = ? AND code = ?", [list_name, code])
        audit.record(db, by=by, action="codes.retire", detail=f"{list_name}:{code}")
