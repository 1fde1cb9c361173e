"""Schema migrations, through sqlite-utils' ``Migrations``.

m001 runs ``schema.sql`` (the whole schema as it stood at the first release);
every later change is a function ``m0NN_verb_noun`` with a comment saying why,
listed in MIGRATIONS. Each migration runs in a transaction with the record of
it being applied.

A migration is history: it says what the change did when it was made, in its
own SQL, and never calls today's domain code (which may change after it). It
uses only modules below the database's users: case_files.py (where a letter's
path is stored) and chains.py (the ledger's hashes).

Every command opens the database and so asks whether a migration is pending:
that is one plain query (:func:`pending_names`), and sqlite-utils (60 to 90 ms
to import) is loaded only when one is.
"""

from __future__ import annotations

import secrets
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from thcli import case_files
from thcli.chains import reseal_ledger, verify_ledger

if TYPE_CHECKING:
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    from thcli.db import Connected, Database

#: sqlite-utils' name for this set of migrations, and its table of those applied.
MIGRATION_SET = "thcli"
MIGRATIONS_TABLE = "_sqlite_migrations"


def schema_sql() -> str:
    """The text of schema.sql, shipped inside the package."""
    return resources.files("thcli").joinpath("schema.sql").read_text(encoding="utf-8")


def m001_create_schema(db: sqlite_utils.Database) -> None:
    db.executescript(schema_sql())


def m002_add_county_secret(db: sqlite_utils.Database) -> None:
    # The county export's pseudonyms are HMACs keyed by a secret of the scheme's
    # own, which never leaves the database (COUNTY_EXPORT.md). Databases made
    # before the export existed get theirs here.
    db.execute(
        "INSERT OR IGNORE INTO secrets (name, value) VALUES ('county_hmac', ?)",
        [secrets.token_hex(32)],
    )


def m003_end_moved_addresses(db: sqlite_utils.Database) -> None:
    # Issue 11: ending a case because the client moved (moved_away, rehoused, moved_on) now marks its
    # address as no longer current, so that no letter goes to a home the client has left. Cases that
    # ended that way before this release get the same here, unless the address is still in use: another
    # case at it is open, or was referred on or after the day the moved case ended (the client came back).
    # The reasons are the setting moved_reasons as this release stored it (codes separated by commas),
    # or its default then.
    row = db.execute("SELECT value FROM settings WHERE key = 'moved_reasons'").fetchone()
    reasons = [code.strip() for code in (row[0] if row else "moved_away,rehoused,moved_on").split(",")
               if code.strip()]
    if not reasons:
        return
    marks = ", ".join("?" * len(reasons))
    db.execute(
        f"""UPDATE addresses SET current = 0,
                   ended_at = coalesce(ended_at, (SELECT max(c.closed_on) FROM cases c WHERE c.address_id = addresses.id
                                                  AND c.reason IN ({marks})) || 'T00:00:00Z')
            WHERE current = 1 AND id IN (
                SELECT c.address_id FROM cases c
                WHERE c.status IN ('closed', 'declined', 'withdrawn', 'no_contact') AND c.reason IN ({marks})
                  AND c.address_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM cases o WHERE o.address_id = c.address_id AND o.id != c.id AND
                                  (o.status NOT IN ('closed', 'declined', 'withdrawn', 'no_contact')
                                   OR o.received_on >= coalesce(c.closed_on, c.received_on))))""",
        [*reasons, *reasons])


def m010_record_where_files_are(db: sqlite_utils.Database) -> None:
    # Letter paths were stored absolute, so retention on a copy of the database deleted the
    # original's letters. From now on a path inside the database's letters folder is stored
    # relative to it, and each file records the database that wrote it (made_in): retention
    # deletes only its own, unchanged files (case_files.py). Subject access files are recorded
    # too, once per case whose data they hold, so that they follow those cases at retention.
    db.execute("ALTER TABLE letters ADD COLUMN made_in TEXT")
    db.execute("""CREATE TABLE subject_access_files (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL REFERENCES cases (id),
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        made_in  TEXT,
        made_at  TEXT NOT NULL,
        made_by  TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX subject_access_files_case ON subject_access_files (case_id)")
    here = case_files.database_file(db)
    if here is None:
        return
    for letter_id, stored in db.execute("SELECT id, path FROM letters WHERE path IS NOT NULL").fetchall():
        if Path(stored).is_absolute():
            relative = case_files.stored_path(here, Path(stored))
            if relative != stored and not Path(relative).is_absolute():
                db.execute("UPDATE letters SET path = ? WHERE id = ?", [relative, letter_id])


def m011_seal_ledger_text_apart(db: sqlite_utils.Database) -> None:
    # Retention must remove names typed into ledger memos and invoice numbers, but the ledger
    # is hash-chained and append-only. From now on a row's free text is hashed on its own
    # (details_sha256) and the chain covers that digest, so the text can be removed
    # (redacted_on) while the chain still proves every figure. The only change the ledger
    # now accepts is exactly that. An intact chain is re-sealed this way; a broken one is
    # left as found (db check goes on reporting it).
    db.execute("ALTER TABLE ledger ADD COLUMN details_sha256 TEXT")
    db.execute("ALTER TABLE ledger ADD COLUMN redacted_on TEXT")
    db.execute("DROP TRIGGER ledger_no_update")
    if not verify_ledger(db):
        reseal_ledger(db)
    db.execute(LEDGER_UPDATE_TRIGGER)


#: The one change a ledger row accepts from m011 on: its free text removed under the retention schedule.
LEDGER_UPDATE_TRIGGER = """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
WHEN NOT (old.redacted_on IS NULL AND new.redacted_on IS NOT NULL AND old.details_sha256 IS NOT NULL
          AND new.invoice IS NULL AND new.memo IS NULL
          AND new.id IS old.id AND new.at IS old.at AND new.on_date IS old.on_date AND new.kind IS old.kind
          AND new.amount_pence IS old.amount_pence AND new.fund_id IS old.fund_id
          AND new.case_id IS old.case_id AND new.line_id IS old.line_id AND new.contributor IS old.contributor
          AND new.pledged IS old.pledged AND new.corrects_id IS old.corrects_id AND new.by IS old.by
          AND new.details_sha256 IS old.details_sha256 AND new.prev_hash IS old.prev_hash
          AND new.hash IS old.hash)
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never changed: add a correction');
END"""


def _initialised(db: sqlite_utils.Database) -> bool:
    """Whether the scheme has been set up (`thcli init` seeds the code lists): a migration that adds codes
    adds them only then, since init seeds a new scheme's codes itself."""
    return db.execute("SELECT count(*) FROM codes").fetchone()[0] > 0


def _add_codes(db: sqlite_utils.Database, list_name: str, entries: list[tuple[str, str]]) -> None:
    """Codes added to a list at its end, unless the scheme already has them (its own, or retired)."""
    for code, label in entries:
        position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM codes WHERE list = ?",
                              [list_name]).fetchone()[0]
        db.execute("INSERT OR IGNORE INTO codes (list, code, label, position) VALUES (?, ?, ?, ?)",
                   [list_name, code, label, position])


def m020_add_assessors(db: sqlite_utils.Database) -> None:
    # Issue 14: whoever does the home security assessment is a code list with a kind: a police Crime
    # Reduction Officer, the scheme's own assessor (Lincoln, West Lindsey), or a contractor's surveyor
    # (Cambridgeshire's provider). The consent a survey needs is to share with that party. Every survey so
    # far was asked of the police (the only rule then), so each is recorded as the police CRO's.
    db.execute("""CREATE TABLE assessor_details (
        list    TEXT NOT NULL DEFAULT 'assessor' CHECK (list = 'assessor'),
        code    TEXT NOT NULL PRIMARY KEY,
        kind    TEXT NOT NULL CHECK (kind IN ('police', 'scheme', 'contractor')),
        address TEXT,
        email   TEXT,
        phone   TEXT,
        FOREIGN KEY (list, code) REFERENCES codes (list, code)
    )""")
    db.execute("ALTER TABLE surveys ADD COLUMN assessor TEXT")
    if not _initialised(db):
        return
    _add_codes(db, "assessor", [("police_cro", "Police Crime Reduction Officer"),
                                ("scheme_officer", "The scheme's own assessor")])
    db.execute("INSERT OR IGNORE INTO assessor_details (code, kind) VALUES ('police_cro', 'police'), "
               "('scheme_officer', 'scheme')")
    db.execute("UPDATE surveys SET assessor = 'police_cro' WHERE assessor IS NULL")


def m021_record_received_time(db: sqlite_utils.Database) -> None:
    # Issue 14: a referral records when it came in (a time as well as a date), so that targets in hours
    # (Cambridgeshire's 48-hour visit, a same-day lock change) count from that moment; the next item due
    # keeps its moment too (next_due_at) when its target is in hours. Cases received before this release
    # have no time (NULL: counted from the start of their day). Their stored due dates were worked out by
    # the old rules (a high-risk case showed no fitting target before its survey), so they are marked to
    # be worked out again, once, by the next command that lists what is due (targets.catch_up).
    db.execute("ALTER TABLE cases ADD COLUMN received_at TEXT")
    db.execute("ALTER TABLE cases ADD COLUMN next_due_at TEXT")
    if db.execute("SELECT count(*) FROM cases").fetchone()[0]:
        db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('due_dates_stale', 'yes')")


def m022_record_overrides(db: sqlite_utils.Database) -> None:
    # Issue 14: a scheme's eligibility rules are enforced at every step of a case, and a coordinator who
    # goes ahead anyway gives a reason (--override), kept here per rule (a rule overridden on a case stays
    # overridden for it) as well as on the timeline. A follow-up recorded before its window opens keeps
    # its reason (--early) in the same way.
    db.execute("""CREATE TABLE eligibility_overrides (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        rule    TEXT NOT NULL,
        step    TEXT NOT NULL,
        reason  TEXT,
        at      TEXT NOT NULL,
        by      TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX eligibility_overrides_case ON eligibility_overrides (case_id, rule)")
    db.execute("ALTER TABLE followups ADD COLUMN early_reason TEXT")


def m023_add_reasons(db: sqlite_utils.Database) -> None:
    # Issue 14: a case whose survey recommended nothing, or whose every recommendation was declined, can
    # close without a dead end; a referral the scheme's own eligibility rules exclude can be declined for
    # that reason. Schemes set up before get the new codes at the end of their lists.
    if not _initialised(db):
        return
    _add_codes(db, "outcome_reason", [("no_measures_needed", "The survey found no measures were needed"),
                                      ("no_measures_fitted", "No measures were fitted")])
    _add_codes(db, "decline_reason", [("route_not_accepted", "The scheme does not take referrals by this route"),
                                      ("not_marac", "The scheme helps only cases heard at MARAC"),
                                      ("tenure_not_eligible", "The scheme does not help homes of this tenure"),
                                      ("works_not_offered", "The scheme provides equipment, not works")])
def m030_cost_stock(db: sqlite_utils.Database) -> None:
    # Issue 15: equipment bought for stock is paid from a fund when it is bought, and its cost
    # follows each item to the case it is issued to. A stock delivery records what one item cost
    # and the fund that paid (stock_movements.unit_cost_pence, fund_id); an issue records the
    # cost it took (cost_pence). On the ledger the cost moves from the fund's stock to the case
    # as a pair of 'stock' entries that add up to nothing, so a fund's figures are unchanged
    # and the case's spend includes its equipment. SQLite cannot change a CHECK constraint, so
    # the ledger is copied into a table that allows the new kind: the rows, their ids and their
    # hashes are copied as they are, so the chain still holds.
    db.execute("ALTER TABLE stock_movements ADD COLUMN unit_cost_pence INTEGER CHECK (unit_cost_pence >= 0)")
    db.execute("ALTER TABLE stock_movements ADD COLUMN fund_id INTEGER REFERENCES funds (id)")
    db.execute("ALTER TABLE stock_movements ADD COLUMN cost_pence INTEGER CHECK (cost_pence >= 0)")
    db.execute("DROP TRIGGER ledger_no_update")
    db.execute("DROP TRIGGER ledger_no_delete")
    db.execute("""CREATE TABLE ledger_m030 (
    id                INTEGER PRIMARY KEY,
    at                TEXT NOT NULL,
    on_date           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN (
                          'allocation', 'contribution', 'commitment', 'release',
                          'payment', 'refund', 'correction', 'stock')),
    amount_pence      INTEGER NOT NULL,
    fund_id           INTEGER NOT NULL REFERENCES funds (id),
    case_id           INTEGER REFERENCES cases (id),
    line_id           INTEGER REFERENCES measure_lines (id),
    invoice           TEXT,
    contributor       TEXT CHECK (contributor IN (
                          'survivor', 'landlord', 'housing_association', 'charity')),
    pledged           INTEGER NOT NULL DEFAULT 0 CHECK (pledged IN (0, 1)),
    corrects_id       INTEGER REFERENCES ledger (id),
    memo              TEXT,
    by                TEXT NOT NULL,
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL,
    details_sha256    TEXT,
    redacted_on       TEXT
)""")
    columns = ("id, at, on_date, kind, amount_pence, fund_id, case_id, line_id, invoice, contributor, pledged, "
               "corrects_id, memo, by, prev_hash, hash, details_sha256, redacted_on")
    db.execute(f"INSERT INTO ledger_m030 ({columns}) SELECT {columns} FROM ledger ORDER BY id")
    db.execute("DROP TABLE ledger")
    db.execute("ALTER TABLE ledger_m030 RENAME TO ledger")
    db.execute("CREATE INDEX ledger_fund ON ledger (fund_id, kind)")
    db.execute("CREATE INDEX ledger_case ON ledger (case_id)")
    db.execute("CREATE INDEX ledger_line ON ledger (line_id)")
    db.execute(LEDGER_UPDATE_TRIGGER)
    db.execute("""CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are never deleted: add a correction');
END""")


def m031_record_landlord_address(db: sqlite_utils.Database) -> None:
    # Issue 15: the landlord's letter went out with a name and no address. The landlord's postal
    # address is recorded on the case (referral landlord --address --postcode) and printed on it.
    db.execute("ALTER TABLE cases ADD COLUMN landlord_address TEXT")
    db.execute("ALTER TABLE cases ADD COLUMN landlord_postcode TEXT")


def m032_add_district_letterheads(db: sqlite_utils.Database) -> None:
    # Issue 15: in a partnership such as Gloucestershire's each district council writes on its own
    # paper. A district can carry the name, address, phone and e-mail its letters are headed with
    # (codes edit district CODE --letterhead --address --phone --email); a letter uses its case's
    # district's where set, the scheme's otherwise.
    db.execute("""CREATE TABLE district_details (
    list       TEXT NOT NULL DEFAULT 'district' CHECK (list = 'district'),
    code       TEXT NOT NULL PRIMARY KEY,
    letterhead TEXT,
    address    TEXT,
    email      TEXT,
    phone      TEXT,
    FOREIGN KEY (list, code) REFERENCES codes (list, code)
)""")


#: Every migration, in the order they run.
MIGRATIONS = (m001_create_schema, m002_add_county_secret, m003_end_moved_addresses, m010_record_where_files_are,
              m011_seal_ledger_text_apart, m020_add_assessors, m021_record_received_time, m022_record_overrides,
              m023_add_reasons, m030_cost_stock, m031_record_landlord_address, m032_add_district_letterheads)


@cache
def _migration_set() -> Migrations:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for function in MIGRATIONS:
        migrations()(function)
    return migrations


def __getattr__(name: str):
    # ``from thcli.migrations import migrations``: sqlite-utils' Migrations, made on first use.
    if name == "migrations":
        return _migration_set()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def applied_names(db: Connected) -> list[str]:
    """The names of the migrations applied to the database, in the order they were, with plain SQL."""
    conn = db.conn
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                             [MIGRATIONS_TABLE]).fetchone()
    if not has_table:
        return []
    return [row[0] for row in conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET])]


def pending_names(db: Connected, applied: list[str] | None = None) -> list[str]:
    """The names of the migrations not yet applied, read with plain SQL."""
    done = set(applied_names(db) if applied is None else applied)
    return [function.__name__ for function in MIGRATIONS if function.__name__ not in done]


def unknown_names(db: Connected, applied: list[str] | None = None) -> list[str]:
    """Migrations applied to the database that this thcli does not have: a newer thcli's."""
    known = {function.__name__ for function in MIGRATIONS}
    return [name for name in (applied_names(db) if applied is None else applied) if name not in known]


def apply(db: Database, applied: list[str] | None = None) -> None:
    """Apply any pending migrations (a no-op on an up-to-date database), through sqlite-utils' Database."""
    if pending_names(db, applied):
        _migration_set().apply(db.utils)
