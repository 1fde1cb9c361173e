"""`thcli demo`: a realistic made-up scheme to try thcli on.

Every name, address and number here is invented on purpose: people are called
things like "Alex Example", streets are "Sample Road", postcodes use the
non-existent ZZ area, and phone numbers are Ofcom's drama numbers.

The demo tells a story for each case (received, first contact, survey,
approval, works, fitted, follow-ups, closed, or an early exit) with dates
consistent with the time targets, then writes all rows in bulk so that
``--cases 100000`` builds in well under a minute. Each part of the story has
its module here: the stories (stories.py), the cases (cases.py), the money
(money.py), the equipment in stock (equipment.py) and a letter of each kind
(letters.py). The demo may import any part of thcli; no part imports it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import random
from pathlib import Path
from typing import Any

from thcli import audit, clock, codes, scheme, settings, targets
from thcli.db import Database, open_db, write
from thcli.dbfile import database_exists
from thcli.demo.cases import write_cases
from thcli.demo.equipment import demo_equipment
from thcli.demo.letters import demo_letters
from thcli.demo.money import demo_money
from thcli.demo.stories import DemoContext, Story, make_stories
from thcli.errors import DatabaseProblem, NotAllowed

__all__ = ["DemoContext", "Story", "build_demo", "clear_earlier_demo", "has_real_cases", "is_demo_database",
           "summary"]

SCHEME: dict[str, Any] = {
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


def clear_earlier_demo(path: Path) -> None:
    """Delete an earlier demo database at ``path`` so a new one can be built there.

    The demo never touches real data: a file that is not a demo database, or
    that holds cases someone logged, is refused (NotAllowed) and left as it is.
    """
    if not database_exists(path):
        return
    existing = open_db(path)
    try:
        if has_real_cases(existing) or not is_demo_database(existing):
            raise NotAllowed(
                f"{path} is not a demo database: the demo never touches real data. Choose a new file "
                "with --db, or leave --db and THCLI_DB out to use demo/demo.db in the app folder."
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


def build_demo(db: Database, *, cases: int = 150, seed: int = 2026, today: dt.date | None = None,
               by: str = "demo", letters_dir: Path | None = None, profile: dict | None = None) -> DemoContext:
    """Fill a new database with a made-up scheme of ``cases`` cases over 18 months.

    ``profile`` (the county demo's district schemes) is a scheme like
    :data:`SCHEME` (name, code, prefix, districts among its four).
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
            # East Lindsey asks some landlords to contribute: their letter says how to pay.
            "landlord_payment": "by bank transfer to Example Vale Council, sort code 00-00-00, account 00000000",
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
    if "fenwick" in districts:
        # A district council that writes on its own paper (codes edit district ... --letterhead).
        codes.edit(db, "district", "fenwick", letterhead="Fenwick District Council",
                   address="Council Offices, 5 Example Parade, Fenwick, ZZ2 1FD", phone="020 7946 0200",
                   email="sanctuary@fenwick.example.org", by=by)
    with _no_garbage_collection():
        context = DemoContext(db, rng, today, make_stories(rng, cases, today, districts), by, letters_dir)
        # Money and stock are written in bulk while the indexes are down...
        with _bulk_load(db):
            write_cases(context)
            demo_money(context)
            demo_equipment(context)
    # ... then letters, made by thcli's own letter code, which looks each case up and so
    # needs the indexes (without them, every look-up reads whole tables).
    demo_letters(context)
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
