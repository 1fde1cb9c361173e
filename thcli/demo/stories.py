"""The demo's made-up cases: one story per case, from referral to its end (or to today).

Each :class:`Story` has dates consistent with the time targets (about one in
ten runs late somewhere, so that ``due`` has something to show), the consents
a client gives, the measures a survey recommends and how far each got. The
draws come from one seeded ``random.Random`` in a fixed order, so the same
seed always tells the same stories.
"""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

from thcli import calendar, codes, workflow
from thcli.db import Database

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
    #: the statuses the case goes through, each with the day it enters it
    path: list[tuple[str, dt.date]] = field(default_factory=list)
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
    story.path = path
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


def make_stories(rng: random.Random, count: int, today: dt.date, districts: list[str] = DISTRICTS) -> list[Story]:
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


def client_row(rng: random.Random, key: int, today: dt.date) -> dict:
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
