"""The code lists a new scheme starts with (``thcli init``): districts, routes, reasons, the measures
catalogue with its default costs, the in-house team and the assessors.

A scheme edits its own lists afterwards (codes.py); a migration that adds codes to schemes already set
up adds them with migrations._add_codes.
"""

from __future__ import annotations

from thcli.codes import COUNTY_CODES
from thcli.db import Database

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
        ("route_not_accepted", "The scheme does not take referrals by this route"),
        ("not_marac", "The scheme helps only cases heard at MARAC"),
        ("tenure_not_eligible", "The scheme does not help homes of this tenure"),
        ("works_not_offered", "The scheme provides equipment, not works"),
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
        ("no_measures_needed", "The survey found no measures were needed"),
        ("no_measures_fitted", "No measures were fitted"),
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
    "assessor": [
        ("police_cro", "Police Crime Reduction Officer"),
        ("scheme_officer", "The scheme's own assessor"),
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

#: The kind of each default assessor.
DEFAULT_ASSESSOR_KINDS = [("police_cro", "police"), ("scheme_officer", "scheme")]

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
    db.conn.executemany("INSERT OR IGNORE INTO assessor_details (code, kind) VALUES (?, ?)", DEFAULT_ASSESSOR_KINDS)
