"""`thcli demo --county DIR`: three made-up district schemes, a county key, and their files for the county.

Built on the scheme demo (thcli.demo.build_demo), one database per district, so
that a new county officer can run the whole county flow in a minute:

1. a county key is made (``county.key``, as ``thcli county key new`` makes it)
   and every district imports it (``thcli county key use``);
2. some survivors are referred in two districts in the current financial
   year: the same made-up person (name and date of birth) in both, typed
   differently in each (case, spaces, accents keyed as combining marks), as
   two coordinators would, so that the county key's normalisation is seen
   to match them;
3. each district exports its case extract and its summary for the year,
   with thcli's own export code, into DIR.

Everything in it is invented. It never touches real data: a database in DIR
that is not a demo is refused (thcli.demo.clear_earlier_demo), and only files of
the same names made by an earlier county demo are replaced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from thcli import clock, county, dates
from thcli.cases import consent_stands_sql
from thcli.db import open_db, write
from thcli.demo import build_demo, clear_earlier_demo
from thcli.files import private_folder
from thcli.partnership import key as county_key

#: The district schemes: each the demo scheme cut down to one of its districts.
SCHEMES = [
    {"name": "Millbrook Sanctuary Scheme", "code": "millbrook", "prefix": "MB",
     "districts": [("millbrook", "Millbrook")]},
    {"name": "Fenwick Safe at Home", "code": "fenwick", "prefix": "FW",
     "districts": [("fenwick", "Fenwick District")]},
    {"name": "Northgate Sanctuary Scheme", "code": "northgate", "prefix": "NG",
     "districts": [("northgate", "Northgate Borough")]},
]

#: Survivors referred in two districts: (first scheme, second scheme, name there, name as typed here).
#: Each pair normalises the same under COUNTY_EXPORT.md v2 (case, spaces, punctuation, composed accents).
MOVERS = [
    (0, 1, "Zoë Madeup", "ZOË  MADEUP"),
    (0, 1, "Seán O'Example", "Sea\u0301n OExample"),  # the accent typed as a combining mark, no apostrophe
    (0, 1, "Renée Placeholder", "renée placeholder"),
    (0, 1, "José Testperson", "JOSÉ TESTPERSON"),
    (0, 1, "Chloë Fictional", "Chloë  Fictional."),
    (0, 1, "Aoife Notreal", "AOIFE NOTREAL"),
    (1, 2, "Marta Sampleska", "marta sampleska"),
    (1, 2, "Ioana Specimenu", "IOANA SPECIMENU"),
    (1, 2, "Dana Dummyson", "Dana  Dummyson"),
    (0, 2, "Kerry Mockford-Vale", "KERRY MOCKFORD-VALE"),
    (0, 2, "Pat Imaginary", "pat imaginary"),
]


@dataclass
class CountyDemo:
    folder: Path
    period: county.Period
    key_file: Path
    check_code: str
    databases: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    movers: int = 0


def build_county_demo(folder: Path, *, cases: int = 150, seed: int = 2026, by: str = "demo",
                      today: dt.date | None = None) -> CountyDemo:
    """Three district demo schemes sharing a county key, with survivors referred in two, and their files."""
    today = today or clock.today()
    folder = private_folder(folder, option="--county")
    label, first, last = dates.financial_year(dates.financial_year_of(today))
    chosen = county.Period(label, first, last)
    key_file = folder / "county.key"
    code = county_key.new_key_file(key_file, force=True)  # an earlier demo's key file only (files.may_replace)
    made = CountyDemo(folder, chosen, key_file, code)
    databases = []
    for number, profile in enumerate(SCHEMES):
        path = folder / f"{profile['code']}.db"
        clear_earlier_demo(path)
        db = open_db(path, create=True)
        try:
            build_demo(db, cases=cases, seed=seed + number, today=today, by=by, profile=profile)
            county_key.use_key(db, key_file, by=by)
        except BaseException:
            db.close()
            for side in ("", "-wal", "-shm"):
                path.with_name(path.name + side).unlink(missing_ok=True)
            raise
        databases.append(db)
        made.databases.append(path)
    try:
        made.movers = _movers(databases, chosen, today)
        stem = label.replace("/", "-")
        for profile, db in zip(SCHEMES, databases, strict=True):
            extract = folder / f"{profile['code']}-cases-{stem}.csv"
            summary = folder / f"{profile['code']}-summary-{stem}.csv"
            county.export_cases(db, chosen, by=by, out=extract, today=today, force=True)
            county.export_summary(db, chosen, by=by, out=summary, today=today, force=True)
            made.files += [extract, summary]
    finally:
        for db in databases:
            db.close()
    return made


def _movers(databases: list, chosen: county.Period, today: dt.date) -> int:
    """Make the MOVERS the same person in two districts: one client each, referred in the period, renamed."""
    taken: list[set[int]] = [set() for _ in databases]
    count = 0
    for number, (here, there, name, typed) in enumerate(MOVERS):
        first = _client_in_period(databases[here], chosen, today, taken[here])
        second = _client_in_period(databases[there], chosen, today, taken[there])
        if first is None or second is None:
            continue
        dob = (dt.date(1975, 1, 1) + dt.timedelta(days=397 * number + 53)).isoformat()
        for db, client, written in ((databases[here], first, name), (databases[there], second, typed)):
            with write(db):
                db.conn.execute("UPDATE clients SET name = ?, name_key = ?, dob = ? WHERE id = ?",
                                [written, written.lower(), dob, client])
        count += 1
    return count


def _client_in_period(db, chosen: county.Period, today: dt.date, taken: set[int]) -> int | None:
    """A client with one case, referred in the period, whose county consent stands (so it is in the extract)."""
    rows = db.conn.execute(
        f"""SELECT c.client_id FROM cases c
            WHERE c.received_on BETWEEN :start AND :end AND c.client_id IS NOT NULL
              AND {consent_stands_sql('county', on=':today')}
              AND (SELECT count(*) FROM cases o WHERE o.client_id = c.client_id) = 1
            ORDER BY c.received_on, c.id""", {**chosen.params(), "today": today.isoformat()}).fetchall()
    for (client,) in rows:
        if client not in taken:
            taken.add(client)
            return client
    return None
