"""The demo's cases written in bulk: clients, addresses, cases, contacts, perpetrators, consents,
timelines, surveys, measure lines and follow-ups, numbered as thcli numbers them.

Rows go in with insert_many (many rows to a statement) while the indexes are
down (the package's _bulk_load), so that a 100,000-case demo builds in
well under a minute.
"""

from __future__ import annotations

import datetime as dt

from thcli import clock, codes, parse, settings
from thcli.db import insert_many, write
from thcli.demo.stories import (
    ADULTS,
    CHILDREN,
    DISTRICT_OUTWARD,
    DISTRICT_TOWN,
    DRAMA_PREFIXES,
    FIRST_NAMES,
    REFERRERS,
    STREETS,
    DemoContext,
    Story,
    client_row,
)

#: The demo's landlords: (name, postal address, postcode), printed on the landlord's letter.
DEMO_LANDLORDS = (
    ("Example Lettings Ltd", "Lettings Office, 2 Sample Street, Millbrook", "ZZ1 4LL"),
    ("Sample Homes Housing Association", "Sample House, 10 Example Way, Fenwick", "ZZ2 5HA"),
    ("Example Vale Council Housing", "Civic Offices, 1 Sample Square, Millbrook", "ZZ1 1AA"),
    ("Pat Landlordexample", "7 Sample Terrace, Northgate", "ZZ3 8PL"),
)


def write_cases(context: DemoContext) -> None:
    db, rng, today, by = context.db, context.rng, context.today, context.by
    now = clock.now_iso()
    prefix = settings.get(db, "ref_prefix")
    counters: dict[int, int] = {}
    client_rows: dict[int, dict] = {}
    client_ids: dict[int, int] = {}
    client_cases: dict[int, list[Story]] = {}
    with write(db):
        next_client = (db.conn.execute("SELECT coalesce(max(id), 0) FROM clients").fetchone()[0]) + 1
        next_address = (db.conn.execute("SELECT coalesce(max(id), 0) FROM addresses").fetchone()[0]) + 1
        next_case = (db.conn.execute("SELECT coalesce(max(id), 0) FROM cases").fetchone()[0]) + 1
        addresses: list[tuple] = []
        clients, cases, contacts, perps, consents, events, repeats = [], [], [], [], [], [], []
        surveys, lines, followups = [], [], []
        survey_id = 1
        line_id = 1
        catalogue = {r["code"]: r for r in codes.list_codes(db, "measure")}
        address_of: dict[int, tuple[int, str]] = {}
        address_index: dict[int, int] = {}
        for story in context.stories:
            year = story.received.year
            counters[year] = counters.get(year, 0) + 1
            story.ref = f"{prefix}-{year}-{counters[year]:04d}"
            story.case_id = next_case
            next_case += 1
            key = story.client_key
            earlier = client_cases.setdefault(key, [])
            if key not in client_ids:
                row = client_row(rng, key, today)
                client_rows[key] = row
                client_ids[key] = next_client
                clients.append((next_client, row["name"], row["name_key"], row["dob"], row["gender"],
                                row["ethnicity"], row["disabled"], row["language"], row["interpreter"],
                                row["nrpf"], row["lgbt"], row["mental_health_needs"], row["substance_use_needs"],
                                now))
                next_client += 1
            client_id = client_ids[key]
            moved = earlier and rng.random() < 0.3
            if key not in address_of or moved:
                outward = DISTRICT_OUTWARD[story.district]
                postcode = f"{outward} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXY')}" \
                           f"{rng.choice('ABDEFGHJLNPQRSTUWXY')}"
                address = f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {DISTRICT_TOWN[story.district]}"
                if key in address_of:  # the client moved: the old address becomes a previous one
                    old = address_index[address_of[key][0]]
                    addresses[old] = (*addresses[old][:6], 0, addresses[old][7], now)
                dnd = 1 if rng.random() < 0.12 else 0
                address_index[next_address] = len(addresses)
                addresses.append((next_address, client_id, address, postcode, parse.postcode_key(postcode), dnd, 1,
                                  now, None))
                address_of[key] = (next_address, postcode)
                next_address += 1
            address_id = address_of[key][0]
            referrer = rng.choice(REFERRERS) if story.route != "self" else (None, None, None)
            d = story.dates
            reached = [(s, on) for s, on in story.path if on <= today]
            fitted_on = d["fitted"] if any(s == "fitted" for s, _ in reached) else None
            closed_on = reached[-1][1] if story.status in ("closed", "declined", "withdrawn", "no_contact") else None
            if story.status == "on_hold":
                closed_on = None
            rented = story.tenure in codes.RENTED_TENURES
            landlord = rng.choice(DEMO_LANDLORDS) if rented else (None, None, None)
            marac = 1 if story.route == "marac" or (story.risk == "high" and rng.random() < 0.6) else 0
            dash_date = story.received - dt.timedelta(days=rng.randint(0, 6))
            cases.append({
                "id": story.case_id, "ref": story.ref, "client_id": client_id, "address_id": address_id,
                "status": story.status, "status_before_hold": story.status_before_hold,
                "received_on": story.received.isoformat(), "district": story.district, "route": story.route,
                "risk_level": story.risk, "emergency": int(story.emergency), "marac": marac,
                "marac_date": (story.received - dt.timedelta(days=rng.randint(1, 14))).isoformat() if marac else None,
                "dash_date": dash_date.isoformat(),
                "dash_score": {"standard": rng.randint(3, 9), "medium": rng.randint(10, 13),
                               "high": rng.randint(14, 24)}[story.risk],
                "referral_form": 1,
                "crime_ref": f"EX/{rng.randint(10000, 99999)}/{story.received.year % 100:02d}"
                if story.route in ("police", "marac") else None,
                "referrer_name": referrer[0], "referrer_org": referrer[1], "referrer_role": referrer[2],
                "referrer_phone": f"{rng.choice(DRAMA_PREFIXES)}{rng.randint(0, 999):03d}" if referrer[0] else None,
                "referrer_email": "referrals@example.org" if referrer[0] else None,
                "support_worker": "Pat Idvaexample" if story.route in ("idva", "marac") else None,
                "adults": ADULTS.pick(rng),
                "children": CHILDREN.pick(rng),
                "tenure": story.tenure,
                "landlord_name": landlord[0],
                "landlord_email": "lettings@example.org" if rented else None,
                "landlord_address": landlord[1], "landlord_postcode": landlord[2],
                "landlord_permission": story.landlord_permission,
                "landlord_permission_on": story.landlord_permission_on.isoformat()
                if story.landlord_permission_on else None,
                "chooses_to_stay": 1, "perpetrator_lives_there": 0, "perpetrator_can_enter": 0,
                "reason": story.reason,
                "first_contact_on": d["contact"].isoformat() if len(reached) > 1 else None,
                "fitted_on": fitted_on.isoformat() if fitted_on else None,
                "closed_on": closed_on.isoformat() if closed_on else None,
                "created_at": now, "updated_at": now,
            })
            for e in earlier:
                repeats.append((story.case_id, e.case_id))
            earlier.append(story)
            safe_phone = rng.random() < 0.7
            contacts.append((story.case_id, f"{rng.choice(DRAMA_PREFIXES)}{rng.randint(0, 999):03d}",
                             int(safe_phone and rng.random() < 0.8), int(safe_phone), int(rng.random() < 0.3),
                             "client@example.org" if rng.random() < 0.4 else None, 0, int(rng.random() < 0.35),
                             rng.choice([None, "Weekdays 9am to 3pm", "Mornings only", "After 6pm"])))
            if rng.random() < 0.85:
                perps.append((story.case_id, f"{rng.choice(FIRST_NAMES)} Perpetratorexample",
                              rng.choice(["partner", "ex_partner", "ex_partner", "other_family"]),
                              rng.choice(["custody", "bail_conditions", "known_address", "unknown"]),
                              rng.choice([None, "Non-molestation order", "Restraining order"]),
                              rng.choice([None, "Known to be good at DIY", "Has keys to the back door"])))
            for scope in story.consents:
                consents.append((story.case_id, scope, d["contact"].isoformat(), by))
            previous = None
            for stage, on in reached:
                at = f"{on.isoformat()}T{rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}:00Z"
                if previous is None:
                    events.append((story.case_id, at, "received", f"referral received ({story.route}, "
                                   f"{story.risk} risk)", by))
                else:
                    reason = f" ({story.reason})" if stage in ("closed", "declined", "withdrawn",
                                                                "no_contact") else ""
                    events.append((story.case_id, at, "status", f"{previous} → {stage}{reason}", by))
                previous = stage
            if story.status == "on_hold":
                events.append((story.case_id, f"{today.isoformat()}T09:00:00Z", "status",
                               f"{story.status_before_hold} → on_hold", by))
            stages = [s for s, _ in reached]
            if "survey" in stages:
                surveyed = d["surveyed"] if "approval" in stages else None
                surveys.append((survey_id, story.case_id, "PC Sam Surveyexample", "police_cro",
                                d["survey_requested"].isoformat(), surveyed.isoformat() if surveyed else None,
                                "Rear door weak; ground-floor windows need alarms." if surveyed else None, now))
                # One contractor does a household's works: one invoice pays them (budget pay --line/--fitted).
                contractor = rng.choice(["in_house", "secure_homes"])
                for number, m in enumerate(story.measures, start=1):
                    item = catalogue[m["code"]]
                    estimate = item["unit_cost_pence"] * m["quantity"]
                    fitted = m.get("fitted_on")
                    actual = estimate + rng.choice([0, 0, 0, -500, 1000]) if fitted else None
                    if actual is not None:
                        actual = max(actual, 0)
                    ordered = m["status"] in ("ordered", "fitted") and item["kind"] == "works"
                    lines.append((line_id, story.case_id, number, survey_id, m["code"], m["quantity"],
                                  item["unit_cost_pence"], estimate, item["kind"], int(item["removable"]),
                                  m["status"],
                                  d["approved"].isoformat() if m["status"] not in ("recommended", "declined") else None,
                                  "no_funding" if m["status"] == "declined" else None,
                                  contractor if ordered or m["status"] in ("ordered", "fitted") else None,
                                  d["ordered"].isoformat() if m["status"] in ("ordered", "fitted") else None,
                                  fitted.isoformat() if fitted else None, actual))
                    m["line_id"] = line_id
                    m["line"] = number
                    m["contractor"] = contractor if m["status"] in ("ordered", "fitted") else None
                    m["estimate"] = estimate
                    m["actual"] = actual
                    line_id += 1
                survey_id += 1
            for done_on, outcome in story.followups:
                if done_on <= today:
                    followups.append((story.case_id, done_on.isoformat(), outcome, by, now))
        insert_many(db, "INSERT INTO clients (id, name, name_key, dob, gender, ethnicity, disabled, language, "
                        "interpreter, nrpf, lgbt, mental_health_needs, substance_use_needs, created_at)", clients)
        insert_many(db, "INSERT INTO addresses (id, client_id, address, postcode, postcode_key, do_not_disclose, "
                        "current, recorded_at, ended_at)", addresses)
        columns = list(cases[0])
        insert_many(db, f"INSERT INTO cases ({', '.join(columns)})", [tuple(c.values()) for c in cases])
        insert_many(db, "INSERT INTO contacts (case_id, phone, safe_call, safe_text, safe_voicemail, email, "
                        "safe_email, safe_post, safe_times)", contacts)
        insert_many(db, "INSERT INTO perpetrators (case_id, name, relationship, whereabouts, court_orders, notes)",
                    perps)
        insert_many(db, "INSERT INTO consents (case_id, scope, given_on, given_by)", consents)
        insert_many(db, "INSERT INTO events (case_id, at, kind, detail, by)", events)
        insert_many(db, "INSERT INTO case_repeats (case_id, earlier_case_id)", repeats)
        insert_many(db, "INSERT INTO surveys (id, case_id, surveyor, assessor, requested_on, surveyed_on, notes, "
                        "created_at)", surveys)
        insert_many(db, "INSERT INTO measure_lines (id, case_id, line, survey_id, code, quantity, unit_cost_pence, "
                        "estimated_cost_pence, kind, removable, status, approved_on, declined_reason, contractor, "
                        "ordered_on, fitted_on, actual_cost_pence)", lines)
        insert_many(db, "INSERT INTO followups (case_id, done_on, outcome, by, at)", followups)
        db.conn.executemany(
            "INSERT INTO ref_counters (year, last) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last = excluded.last",
            list(counters.items()))
