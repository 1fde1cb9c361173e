"""`thcli demo`: a realistic made-up scheme to try thcli on.

Every name, address and number here is invented on purpose: people are called
things like "Alex Example", streets are "Sample Road", postcodes use the
non-existent ZZ area, and phone numbers are Ofcom's drama numbers.

The demo tells a story for each case (received, first contact, survey,
approval, works, fitted, follow-ups, closed, or an early exit) with dates
consistent with the time targets, then writes all rows in bulk so that
``--cases 100000`` builds in well under a minute. Other parts of thcli add
their share of the story through :data:`WRITERS` and :data:`FINISHERS`.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import datetime as dt
import gc
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from thcli import audit, budget, calendar, clock, codes, letters, parse, scheme, settings, stock, targets, workflow
from thcli.db import insert_many, write
from thcli.errors import DatabaseProblem, NotAllowed

if TYPE_CHECKING:
    from sqlite_utils import Database

SCHEME = {
    "name": "Example Vale Sanctuary Scheme",
    "code": "example_vale",
    "prefix": "EV",
    "districts": [
        ("millbrook", "Millbrook"),
        ("fenwick", "Fenwick District"),
        ("northgate", "Northgate Borough"),
        ("ashby_vale", "Ashby Vale"),
    ],
}
DISTRICT_OUTWARD = {"millbrook": "ZZ1", "fenwick": "ZZ2", "northgate": "ZZ3", "ashby_vale": "ZZ4"}
DISTRICT_TOWN = {"millbrook": "Millbrook", "fenwick": "Fenwick", "northgate": "Northgate", "ashby_vale": "Ashby"}

FIRST_NAMES = [
    "Alex", "Sam", "Jo", "Chris", "Robin", "Charlie", "Jamie", "Morgan", "Casey", "Riley", "Jordan", "Taylor",
    "Avery", "Frankie", "Kerry", "Lee", "Nicky", "Pat", "Ashley", "Dana", "Hayden", "Jess", "Kim", "Terry",
]
SURNAMES = [
    "Example", "Sample", "Placeholder", "Madeup", "Testperson", "Fakename", "Specimen", "Dummy", "Mockford",
    "Inventedson", "Notreal", "Pretendley", "Imaginary", "Fictional", "Templeton-Demo", "Trialby",
]
STREETS = ["Sample Road", "Example Street", "Placeholder Lane", "Fictional Avenue", "Imaginary Close",
           "Demo Terrace", "Madeup Way", "Pretend Gardens", "Specimen Row", "Notreal Crescent"]
REFERRERS = [
    ("Pat Idvaexample", "Example Vale IDVA Service", "IDVA"),
    ("Sergeant Lee Demo", "Example Constabulary", "Domestic abuse officer"),
    ("Robin Housingexample", "Example Vale Council Housing Options", "Housing options officer"),
    ("Dr Kim Madeup", "Example Health Centre", "GP"),
    ("Jess Socialexample", "Example County Children's Services", "Social worker"),
]
DRAMA_PREFIXES = ["020 7946 0", "0113 496 0", "0114 496 0", "0115 496 0", "0117 496 0", "0118 496 0",
                  "0121 496 0", "0161 496 0"]

ROUTE_WEIGHTS = {"self": 8, "marac": 20, "police": 18, "idva": 25, "court": 3, "housing": 12, "social_care": 6,
                 "health": 4, "other_professional": 4}
RISK_WEIGHTS = {"standard": 20, "medium": 35, "high": 45}
TENURE_WEIGHTS = {"owner": 22, "private_rented": 28, "council": 24, "housing_association": 18, "temporary": 4,
                  "other": 4}
GENDER_WEIGHTS = {"woman": 86, "man": 9, "trans_woman": 1, "trans_man": 1, "non_binary": 1, "not_stated": 2}
ETHNICITY_WEIGHTS = {"white": 80, "mixed": 4, "asian": 7, "black": 4, "other": 2, "not_stated": 3}
#: Measures a survey tends to recommend, with how often.
MEASURE_WEIGHTS = {
    "lock_change_door": 30, "window_alarm": 25, "door_alarm": 22, "door_chain": 14, "door_jammer": 16,
    "personal_alarm": 20, "video_doorbell": 15, "pir_light": 12, "fireproof_letterbox": 14, "smoke_alarm": 10,
    "fire_extinguisher": 6, "fire_blanket": 6, "door_viewer": 8, "window_locks": 10, "dummy_camera": 5,
    "timer_switch": 5, "response_light": 4, "additional_bolts": 8, "cctv": 3, "door_reinforcement": 3,
    "external_letterbox": 3, "police_linked_alarm": 2, "window_film": 2, "reinforced_door": 1,
    "sanctuary_room": 1,
}
# Made once: each story draws from them (lists, as random.sample and random.choice want).
DISTRICTS = list(DISTRICT_OUTWARD)
MEASURE_CODES = list(MEASURE_WEIGHTS)
MEASURE_POSITION = {code: position for position, code in enumerate(MEASURE_CODES)}


class Weights:
    """A weighted draw, exactly as ``rng.choices(list(weights), list(weights.values()))[0]`` makes it.

    The same one ``random()`` and the same bisection as the standard library, so
    the demo's data does not change; the lists and sums are made once instead of
    on each of the million or so draws of a 100,000-case demo (several times quicker).
    """

    def __init__(self, weights: dict):
        self.population = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1] + 0.0
        self.last = len(self.cumulative) - 1

    def index(self, rng: random.Random) -> int:
        return bisect.bisect(self.cumulative, rng.random() * self.total, 0, self.last)

    def pick(self, rng: random.Random):
        return self.population[self.index(rng)]


ROUTES, RISKS, TENURES = Weights(ROUTE_WEIGHTS), Weights(RISK_WEIGHTS), Weights(TENURE_WEIGHTS)
GENDERS, ETHNICITIES = Weights(GENDER_WEIGHTS), Weights(ETHNICITY_WEIGHTS)
#: Age bands (first and last age) and how often each comes.
AGE_BANDS = Weights({(16, 17): 1, (18, 24): 12, (25, 34): 30, (35, 44): 28, (45, 54): 16, (55, 64): 8, (65, 90): 5})
CLOSING_REASONS = Weights({"completed": 85, "completed_partly": 10, "moved_on": 5})
ADULTS = Weights({1: 75, 2: 20, 3: 5})
CHILDREN = Weights({0: 35, 1: 25, 2: 25, 3: 10, 4: 5})
DISABLED = Weights({0: 70, 1: 20, None: 10})
LGBT = Weights({0: 80, 1: 5, None: 15})
MENTAL_HEALTH_NEEDS = Weights({0: 60, 1: 30, None: 10})
SUBSTANCE_USE_NEEDS = Weights({0: 75, 1: 12, None: 13})


@dataclass
class Story:
    """One made-up case from referral to its end (or to today)."""

    index: int
    received: dt.date
    district: str
    route: str
    risk: str
    tenure: str
    emergency: bool
    client_key: int                      # index of the client (repeats share it)
    status: str = "new"
    reason: str | None = None
    status_before_hold: str | None = None
    dates: dict[str, dt.date] = field(default_factory=dict)
    landlord_permission: str | None = None
    landlord_permission_on: dt.date | None = None
    consents: list[str] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    followups: list[tuple[dt.date, str]] = field(default_factory=list)
    ref: str = ""
    case_id: int = 0


@dataclass
class DemoContext:
    db: Database
    rng: random.Random
    today: dt.date
    stories: list[Story]
    by: str
    letters_dir: Path | None = None


#: Functions that add a part of thcli's own story once the cases are written, each
#: taking a DemoContext: money and stock, written in bulk while the indexes are down...
WRITERS: list[Callable[[DemoContext], None]] = [budget.demo_money, stock.demo_equipment]
#: ... then letters, made by thcli's own letter code, which looks each case up and so
#: needs the indexes (without them, every look-up reads whole tables).
FINISHERS: list[Callable[[DemoContext], None]] = [letters.demo_letters]


def clear_earlier_demo(path: Path) -> None:
    """Delete an earlier demo database at ``path`` so a new one can be built there.

    The demo never touches real data: a file that is not a demo database, or
    that holds cases someone logged, is refused (NotAllowed) and left as it is.
    """
    from thcli.db import database_exists, open_db

    if not database_exists(path):
        return
    existing = open_db(path)
    try:
        if has_real_cases(existing) or not is_demo_database(existing):
            raise NotAllowed(
                f"{path} is not a demo database: the demo never touches real data. Choose a new file "
                "with --db, or leave --db and THCLI_DB out to use demo.db in the app folder."
            )
    finally:
        existing.close()
    for side in ("", "-wal", "-shm"):
        path.with_name(path.name + side).unlink(missing_ok=True)


def is_demo_database(db: Database) -> bool:
    return bool(settings.get(db, "demo"))


def has_real_cases(db: Database) -> bool:
    if not scheme.is_initialised(db):
        return db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] > 0
    return not is_demo_database(db) and db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] > 0


def _working(rng: random.Random, start: dt.date, low: int, high: int) -> dt.date:
    return calendar.add_working_days(start, rng.randint(low, high))


def _story(rng: random.Random, index: int, received: dt.date, today: dt.date, client_key: int,
           force: dict | None = None, districts: list[str] = DISTRICTS) -> Story:
    force = force or {}
    risk = force.get("risk") or RISKS.pick(rng)
    story = Story(
        index=index, received=received,
        district=force.get("district") or rng.choice(districts),
        route=force.get("route") or ROUTES.pick(rng),
        risk=risk,
        tenure=force.get("tenure") or TENURES.pick(rng),
        emergency=risk == "high" and rng.random() < 0.15,
        client_key=client_key,
    )
    rented = story.tenure in codes.RENTED_TENURES
    d = story.dates
    # Roughly one in ten cases runs late at some stage, so `due` has something to show.
    slow = 1 if rng.random() > 0.1 else 4
    d["contact"] = _working(rng, received, 0, 1 * slow)
    if force.get("fresh"):  # just arrived: nobody has called the client yet
        d["contact"] = _working(rng, today, 1, 2)
    d["survey_requested"] = _working(rng, d["contact"], 0, 2 * slow)
    d["surveyed"] = _working(rng, d["survey_requested"], 1, 4 * slow)
    d["approved"] = _working(rng, d["surveyed"], 0, 3 * slow)
    d["ordered"] = _working(rng, d["approved"], 0, 2 * slow)
    if rented:
        story.landlord_permission = "requested"
        story.landlord_permission_on = d["surveyed"]
        d["landlord"] = _working(rng, d["surveyed"], 1, 4 * slow)
        d["approved"] = max(d["approved"], d["landlord"])
        d["ordered"] = max(d["ordered"], d["landlord"])
    else:
        story.landlord_permission = "not_needed"
    # Fitted after the order (which waits for the landlord's permission in a rented home).
    d["fitted"] = _working(rng, d["ordered"], 1, 5 * slow)
    d["followup_3"] = calendar.add_months(d["fitted"], 3) + dt.timedelta(days=rng.randint(0, 10))
    d["followup_6"] = calendar.add_months(d["fitted"], 6) + dt.timedelta(days=rng.randint(0, 10))
    d["closed"] = d["followup_6"] + dt.timedelta(days=rng.randint(0, 7))

    if force.get("stage"):
        _hold_at_stage(rng, d, force["stage"], today)

    path = [("new", received), ("triage", d["contact"]), ("survey", d["survey_requested"]),
            ("approval", d["surveyed"]), ("works", d["ordered"]), ("fitted", d["fitted"]),
            ("follow_up", d["followup_3"]), ("closed", d["closed"])]
    exit_roll = rng.random()
    exit_status = force.get("exit")
    if exit_status is None:
        if exit_roll < 0.08:
            exit_status = "declined"
        elif exit_roll < 0.14:
            exit_status = "withdrawn"
        elif exit_roll < 0.18:
            exit_status = "no_contact"
        elif rented and exit_roll < 0.20:
            exit_status = "landlord_refused"
    if exit_status == "landlord_refused" and not rented:
        exit_status = "declined"
    reached = [stage for stage in path if stage[1] <= today]
    story.status = reached[-1][0]
    if exit_status == "no_contact":
        end = _working(rng, received, 3, 8)
        path = [("new", received), ("no_contact", end)]
    elif exit_status == "declined":
        end = _working(rng, d["contact"], 0, 2)
        path = [("new", received), ("triage", d["contact"]), ("declined", end)]
    elif exit_status == "landlord_refused":
        path = path[:4] + [("declined", d["landlord"])]
    elif exit_status == "withdrawn":
        cut = rng.randint(2, 5)
        end = path[cut - 1][1] + dt.timedelta(days=rng.randint(1, 10))
        path = path[:cut] + [("withdrawn", end)]
    reached = [stage for stage in path if stage[1] <= today]
    story.status = reached[-1][0]
    story.dates["path"] = path  # type: ignore[assignment]
    if story.status == "declined":
        story.reason = "landlord_refused" if exit_status == "landlord_refused" else rng.choice(
            ["risk_not_eligible", "out_of_area", "not_staying", "perpetrator_in_home", "no_funding"])
    elif story.status == "withdrawn":
        story.reason = rng.choice(["client_withdrew", "moved_away", "reconciled", "rehoused"])
    elif story.status == "no_contact":
        story.reason = rng.choice(["no_answer", "unsafe_to_contact", "details_wrong"])
    elif story.status == "closed":
        story.reason = CLOSING_REASONS.pick(rng)
    elif story.status not in ("new",) and rng.random() < 0.025:
        story.status_before_hold = story.status
        story.status = "on_hold"
    if rented:
        if exit_status == "landlord_refused" and d["landlord"] <= today:
            story.landlord_permission, story.landlord_permission_on = "refused", d["landlord"]
        elif d["landlord"] <= today and story.status not in ("new", "triage", "survey"):
            story.landlord_permission, story.landlord_permission_on = "granted", d["landlord"]
        elif d["surveyed"] > today:
            story.landlord_permission, story.landlord_permission_on = None, None
    stages = [s for s, _ in reached]
    if "triage" in stages:
        story.consents = ["police", "contractor"] + (["landlord"] if rented else []) + (
            ["county"] if rng.random() < 0.8 else [])
    _measures(rng, story, stages, today)
    if "follow_up" in stages:
        story.followups.append((d["followup_3"], rng.choice(["feels_safer", "no_further_incidents", "feels_safer"])))
    if "closed" in stages:
        story.followups.append((d["followup_6"], rng.choice(["feels_safer", "no_further_incidents",
                                                               "equipment_faulty"])))
    return story


def _measures(rng: random.Random, story: Story, stages: list[str], today: dt.date) -> None:
    """The survey's recommended measures and how far each got."""
    if "approval" not in stages:
        return
    d = story.dates
    chosen = rng.sample(MEASURE_CODES, k=rng.randint(2, 5))
    chosen = sorted(set(chosen), key=MEASURE_POSITION.__getitem__)
    for code in chosen:
        qty = rng.randint(2, 4) if code in ("window_alarm", "window_locks", "smoke_alarm") else 1
        story.measures.append({"code": code, "quantity": qty, "status": "recommended"})
    status = story.status if story.status != "on_hold" else story.status_before_hold
    if status in ("approval",) and d["approved"] > today:
        return
    declined_one = len(story.measures) > 2 and rng.random() < 0.2
    for i, m in enumerate(story.measures):
        if declined_one and i == len(story.measures) - 1:
            m["status"] = "declined"
            continue
        if status == "approval" or (status == "declined"):
            m["status"] = "approved" if status == "approval" else "recommended"
        elif status == "works":
            m["status"] = "ordered" if rng.random() < 0.8 else "fitted"
        elif status in ("fitted", "follow_up", "closed", "withdrawn"):
            m["status"] = "fitted" if status != "withdrawn" else "approved"
        if m["status"] == "fitted" and status != "works":
            m["fitted_on"] = d["fitted"]
        elif m["status"] == "fitted":
            m["fitted_on"] = min(today, _working(rng, d["ordered"], 1, 3))
    if status == "works" and all(m["status"] in ("fitted", "declined") for m in story.measures):
        story.measures[0]["status"] = "ordered"
        story.measures[0].pop("fitted_on", None)


def build_demo(db: Database, *, cases: int = 150, seed: int = 2026, today: dt.date | None = None,
               by: str = "demo", letters_dir: Path | None = None, profile: dict | None = None) -> DemoContext:
    """Fill a new database with a made-up scheme of ``cases`` cases over 18 months.

    ``profile`` (issue 17: the county demo's district schemes) is a scheme
    like :data:`SCHEME` (name, code, prefix, districts among its four).
    """
    profile = profile or SCHEME
    districts = [code for code, _ in profile["districts"]]
    if has_real_cases(db):
        raise NotAllowed("this database holds real cases: the demo never touches one. Use --db NEW_FILE.")
    today = today or clock.today()
    rng = random.Random(seed)
    # A demo is made to be thrown away: trade durability for speed while it is built.
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute("PRAGMA cache_size = -262144")
    scheme.init_scheme(db, by=by, name=profile["name"], code=profile["code"], prefix=profile["prefix"],
                       districts=profile["districts"], demo=True)
    with write(db):
        for key, value in {
            "scheme_address": "Example Vale Council, Civic Offices, 1 Sample Square, Millbrook, ZZ1 1AA",
            "scheme_phone": "020 7946 0000",
            "scheme_email": "sanctuary@example.org",
            "surveyor_address": "Crime Reduction Officers, Example Constabulary, Police Station, Fenwick, ZZ2 2BB",
        }.items():
            settings.put(db, key, settings.parse_value(db, key, value))
        db.conn.execute(
            "UPDATE contractor_details SET address = ?, phone = ?, email = ? WHERE code = 'in_house'",
            ["Example Vale Council Repairs, Depot Lane, Millbrook, ZZ1 9ZZ", "020 7946 0100",
             "repairs@example.org"])
        db.conn.execute("INSERT INTO codes (list, code, label, position) VALUES "
                        "('contractor', 'secure_homes', 'Secure Homes Example Ltd', 1)")
        db.conn.execute("INSERT INTO contractor_details (code, in_house, address, phone, email) VALUES "
                        "('secure_homes', 0, 'Unit 4, Sample Industrial Estate, Fenwick, ZZ2 7QQ', "
                        "'0113 496 0555', 'orders@secure-homes.example.org')")
    with _no_garbage_collection():
        stories = _stories(rng, cases, today, districts)
        context = DemoContext(db, rng, today, stories, by, letters_dir)
        with _bulk_load(db):
            _write_cases(context)
            for writer in WRITERS:
                writer(context)
    for finisher in FINISHERS:
        finisher(context)
    with write(db):
        _refresh_all_due(db, today)
    with write(db):
        audit.record(db, by=by, action="demo.build", detail=f"{cases} cases, seed {seed}")
    return context


@contextlib.contextmanager
def _no_garbage_collection():
    """Pause Python's cycle collector while the stories and rows are made.

    They are millions of objects that all live until the demo is written, and
    none is ever garbage: each pass of the collector over them is wasted, about
    4 s of a 100,000-case demo.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _bulk_load(db: Database):
    """Drop the indexes and the foreign key checks while rows pour in; build and check once at the end.

    Building an index over 100,000 finished rows is several times quicker than
    keeping it up to date row by row, and one ``foreign_key_check`` over the
    finished tables is quicker than looking up each row's parents as it goes
    (three look-ups for each of the ledger's 800,000 rows). The check still
    refuses a demo whose rows point nowhere.
    """
    indexes = db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    with write(db):
        for name, _ in indexes:
            db.conn.execute(f'DROP INDEX "{name}"')
    db.conn.execute("PRAGMA foreign_keys = OFF")  # outside a transaction, or SQLite ignores it
    try:
        yield
    finally:
        db.conn.execute("PRAGMA foreign_keys = ON")
        with write(db):
            for _, sql in indexes:
                db.conn.execute(sql)
    broken = db.conn.execute("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        raise DatabaseProblem(f"the demo wrote rows that point nowhere (table, row, parent): {broken}")


def _stories(rng: random.Random, count: int, today: dt.date, districts: list[str] = DISTRICTS) -> list[Story]:
    start = today - dt.timedelta(days=548)
    span = (today - start).days
    # The first stories cover every district, route, risk level and tenure.
    forced: list[dict] = []
    for i, route in enumerate(ROUTE_WEIGHTS):
        forced.append({"route": route, "district": districts[i % len(districts)],
                       "risk": list(RISK_WEIGHTS)[i % 3], "tenure": list(TENURE_WEIGHTS)[i % 6]})
    forced += [{"exit": "declined"}, {"exit": "withdrawn"}, {"exit": "no_contact"}]
    # Most referrals spread over eighteen months; a busier last month keeps every stage of the
    # pipeline in view, and the last few arrived so recently that nobody has called yet.
    recent = min(count, max(10, count // 12))
    fresh = min(recent, max(2, count // 150))
    days = sorted([rng.randint(0, span) for _ in range(count - recent)]
                  + [rng.randint(max(0, span - 30), span) for _ in range(recent)])
    stories: list[Story] = []
    clients = 0
    for index, offset in enumerate(days):
        received = start + dt.timedelta(days=offset)
        if received.weekday() >= 5:  # referrals mostly arrive on working days
            received = calendar.add_working_days(received, 1)
            if received > today:
                received = today
        force = forced[index % len(forced)] if index < len(forced) else None
        if index >= count - fresh:
            received = max(received, today - dt.timedelta(days=rng.randint(0, 3)))
            while not calendar.is_working_day(received) and received < today:
                received += dt.timedelta(days=1)
            force = {"fresh": True, "exit": "none"}
        if stories and rng.random() < 0.06:
            # A repeat referral of an earlier client. Choosing from a range draws what choosing
            # from the list would, without copying up to 100,000 stories each time.
            client_key = stories[rng.choice(range(max(1, len(stories) - 10)))].client_key
        else:
            client_key, clients = clients, clients + 1
        stories.append(_story(rng, index, received, today, client_key, force, districts))
    _cover_every_status(rng, stories, today, districts)
    return stories


# The date on which a case enters each open status, in the order a case moves through them.
STAGE_STARTS = (("triage", "contact"), ("survey", "survey_requested"), ("approval", "surveyed"),
                ("works", "ordered"), ("fitted", "fitted"), ("follow_up", "followup_3"), ("closed", "closed"))
DATE_ORDER = ("contact", "survey_requested", "surveyed", "landlord", "approved", "ordered", "fitted",
              "followup_3", "followup_6", "closed")


def _hold_at_stage(rng: random.Random, d: dict, stage: str, today: dt.date) -> None:
    """Move a story's dates so that today it sits in ``stage``: every step up to the
    stage has happened (on today at the latest) and the next one is a few working days off."""
    starts = dict(STAGE_STARTS)
    keys = [k for k in DATE_ORDER if k in d]
    entered = keys.index(starts[stage])
    following = [name for name, _ in STAGE_STARTS]
    next_key = starts[following[following.index(stage) + 1]]
    for key in keys[: entered + 1]:
        d[key] = min(d[key], today)
    shift = calendar.add_working_days(today, rng.randint(1, 3)) - d[next_key]
    for key in keys[keys.index(next_key):]:
        if key != "landlord" or d[key] > today:
            d[key] += shift if shift.days > 0 else dt.timedelta(0)


def _cover_every_status(rng: random.Random, stories: list[Story], today: dt.date,
                        districts: list[str] = DISTRICTS) -> None:
    """Make sure each status appears at least once (small demos too)."""
    # Recent open cases first; in a small demo, older ones (then ended ones) when those run out.
    later = [s for s in reversed(stories[13:]) if s.status != "new"]
    since = today - dt.timedelta(days=120)
    spare = ([s for s in later if s.status in workflow.OPEN and s.received >= since]
             + [s for s in later if s.status in workflow.OPEN and s.received < since]
             + [s for s in later if s.status not in workflow.OPEN])
    counts = collections.Counter(s.status for s in stories)
    for stage, _ in STAGE_STARTS[:-1]:
        # Never the only case of its status: that would only move the gap elsewhere.
        usable = [s for s in spare if counts[s.status] > 1]
        if counts[stage] == 0 and usable:
            old = usable[0]
            spare.remove(old)
            stories[old.index] = story = _story(rng, old.index, old.received, today, old.client_key,
                                                {"exit": "none", "stage": stage}, districts)
            counts[old.status] -= 1
            counts[story.status] += 1
    present = set(+counts)
    recent = [s for s in reversed(stories) if s.status in ("new", "triage", "survey") and s.index > 12]
    for status in ("on_hold",):
        if status not in present and recent:
            story = recent.pop(0)
            story.status_before_hold, story.status = story.status, "on_hold"


def _client_row(rng: random.Random, key: int, today: dt.date) -> dict:
    first = FIRST_NAMES[key % len(FIRST_NAMES)]
    surname = SURNAMES[(key // len(FIRST_NAMES)) % len(SURNAMES)]
    name = f"{first} {surname}" + (f"-{key // (len(FIRST_NAMES) * len(SURNAMES))}"
                                   if key >= len(FIRST_NAMES) * len(SURNAMES) else "")
    ages = [rng.randint(youngest, oldest) for youngest, oldest in AGE_BANDS.population]  # one in each band
    age = ages[AGE_BANDS.index(rng)]
    dob = None if rng.random() < 0.05 else today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    return {
        "name": name, "name_key": name.lower(), "dob": dob.isoformat() if dob else None,
        "gender": GENDERS.pick(rng), "ethnicity": ETHNICITIES.pick(rng),
        "disabled": DISABLED.pick(rng),
        "interpreter": 1 if rng.random() < 0.05 else 0,
        "language": rng.choice(["Polish", "Lithuanian", "Urdu"]) if rng.random() < 0.06 else None,
        "nrpf": 1 if rng.random() < 0.02 else 0,
        "lgbt": LGBT.pick(rng),
        "mental_health_needs": MENTAL_HEALTH_NEEDS.pick(rng),
        "substance_use_needs": SUBSTANCE_USE_NEEDS.pick(rng),
    }


def _write_cases(context: DemoContext) -> None:
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
        clients, addresses, cases, contacts, perps, consents, events, repeats = [], [], [], [], [], [], [], []
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
                row = _client_row(rng, key, today)
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
            path = d["path"]  # type: ignore[index]
            reached = [(s, on) for s, on in path if on <= today]
            fitted_on = d["fitted"] if any(s == "fitted" for s, _ in reached) else None
            closed_on = reached[-1][1] if story.status in ("closed", "declined", "withdrawn", "no_contact") else None
            if story.status == "on_hold":
                closed_on = None
            rented = story.tenure in codes.RENTED_TENURES
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
                "landlord_name": rng.choice(["Example Lettings Ltd", "Sample Homes Housing Association",
                                             "Example Vale Council Housing"]) if rented else None,
                "landlord_email": "lettings@example.org" if rented else None,
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
                surveys.append((survey_id, story.case_id, "PC Sam Surveyexample", d["survey_requested"].isoformat(),
                                surveyed.isoformat() if surveyed else None,
                                "Rear door weak; ground-floor windows need alarms." if surveyed else None, now))
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
                                  rng.choice(["in_house", "secure_homes"]) if ordered or (
                                      m["status"] in ("ordered", "fitted")) else None,
                                  d["ordered"].isoformat() if m["status"] in ("ordered", "fitted") else None,
                                  fitted.isoformat() if fitted else None, actual))
                    m["line_id"] = line_id
                    m["line"] = number
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
        insert_many(db, "INSERT INTO surveys (id, case_id, surveyor, requested_on, surveyed_on, notes, created_at)",
                    surveys)
        insert_many(db, "INSERT INTO measure_lines (id, case_id, line, survey_id, code, quantity, unit_cost_pence, "
                        "estimated_cost_pence, kind, removable, status, approved_on, declined_reason, contractor, "
                        "ordered_on, fitted_on, actual_cost_pence)", lines)
        insert_many(db, "INSERT INTO followups (case_id, done_on, outcome, by, at)", followups)
        db.conn.executemany(
            "INSERT INTO ref_counters (year, last) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last = excluded.last",
            list(counters.items()))


def _refresh_all_due(db: Database, today: dt.date) -> None:
    """Next due dates for every case, computed once and written in bulk.

    Every case, not only open ones: a closed case with lent equipment still in
    the home has its equipment review due (targets.py).
    """
    targets.refresh_all(db)


def summary(db: Database, context: DemoContext) -> list[str]:
    """What a coordinator would look at first, in a few lines."""
    today = context.today.isoformat()
    by_status = dict(db.conn.execute("SELECT status, count(*) FROM cases GROUP BY status").fetchall())
    open_count = sum(by_status.get(s, 0) for s in ("new", "triage", "survey", "approval", "works", "fitted",
                                                   "follow_up", "on_hold"))
    overdue = db.conn.execute("SELECT count(*) FROM cases WHERE next_due_on < ?", [today]).fetchone()[0]
    new = by_status.get("new", 0)
    return [
        f"Open cases: {open_count}  (new: {new}, awaiting survey: {by_status.get('survey', 0)}, "
        f"awaiting approval: {by_status.get('approval', 0)}, works ordered: {by_status.get('works', 0)})",
        f"Overdue against their targets: {overdue}",
        f"Closed: {by_status.get('closed', 0)}; declined, withdrawn or no contact: "
        f"{by_status.get('declined', 0) + by_status.get('withdrawn', 0) + by_status.get('no_contact', 0)}",
    ]
