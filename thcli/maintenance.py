"""Looking after the database file: checks, backups, restores, migrations."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from thcli import audit, clock
from thcli.db import PRIVATE_FILE_MODE, connect, create_private_file, translate, write
from thcli.errors import DatabaseProblem, NotAllowed

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def check_database(db: Database, path: Path) -> list[Check]:
    """Integrity, foreign keys, the audit chain and the file's permissions."""
    results = []
    integrity = [r[0] for r in db.conn.execute("PRAGMA integrity_check")]
    results.append(Check("integrity", integrity == ["ok"], "ok" if integrity == ["ok"] else "; ".join(integrity[:5])))
    fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
    results.append(Check("foreign keys", not fk, "ok" if not fk else f"{len(fk)} rows point at missing records"))
    problems = audit.verify(db)
    results.append(Check("audit log", not problems, "intact" if not problems else "; ".join(problems[:3])))
    for file in [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]:
        if file.exists():
            mode = stat.S_IMODE(file.stat().st_mode)
            results.append(Check(f"permissions of {file.name}", mode & 0o077 == 0,
                                 f"{mode:o}" + ("" if mode & 0o077 == 0 else " (others can read it: run chmod 600)")))
    return results


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """Copy a live database through SQLite's backup API into a new 0600 file."""
    create_private_file(dest)
    target = sqlite3.connect(str(dest))
    try:
        source.backup(target)
    finally:
        target.close()
    os.chmod(dest, PRIVATE_FILE_MODE)


def _verify_copy(dest: Path, expected_cases: int) -> None:
    conn = connect(dest)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        conn.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.DatabaseError as error:
        raise translate(error, dest) from None
    finally:
        conn.close()
    if result != "ok" or cases != expected_cases:
        raise DatabaseProblem(f"{dest}: the backup did not check out ({result}, {cases} cases); it was not kept")


def backup_name(folder: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"thcli-backup-{stamp}.db"


def backup(db: Database, dest: Path, *, by: str) -> Path:
    """Write a checked backup of the database to ``dest`` (a new file, 0600)."""
    if dest.is_dir():
        dest = backup_name(dest)
    if dest.exists():
        raise NotAllowed(f"{dest} already exists: choose a new file name (backups never overwrite)")
    cases = db.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    try:
        _copy(db.conn, dest)
        _verify_copy(dest, cases)
    except BaseException:
        for leftover in (dest, dest.with_name(dest.name + "-wal"), dest.with_name(dest.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise
    with write(db):
        audit.record(db, by=by, action="db.backup", detail=dest.name)
    return dest


def restore(db_path: Path, source: Path, *, by: str) -> Path:
    """Replace the database with a backup; the current one is kept beside it first."""
    from thcli.db import open_db

    if not source.exists():
        raise NotAllowed(f"there is no backup at {source}")
    src = connect(source)
    try:
        ok = src.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        src.close()
        raise translate(error, source) from None
    if ok != "ok" or "cases" not in tables:
        src.close()
        raise DatabaseProblem(f"{source}: wrong key or not a thcli database (or it is damaged)")
    kept = None
    if db_path.exists():
        current = connect(db_path)
        kept = db_path.with_name(f"{db_path.stem}-before-restore-{clock.today().isoformat()}-"
                                 f"{dt.datetime.now().strftime('%H%M%S')}.db")
        try:
            _copy(current, kept)
        finally:
            current.close()
        target = sqlite3.connect(str(db_path))
    else:
        create_private_file(db_path)
        target = sqlite3.connect(str(db_path))
    try:
        src.backup(target)
    finally:
        target.close()
        src.close()
    db = open_db(db_path)
    with write(db):
        audit.record(db, by=by, action="db.restore", detail=source.name)
    db.close()
    return kept


def migrate(db: Database) -> list[str]:
    """Names of the migrations applied by open_db so far (all, in order)."""
    from thcli.migrations import migrations

    return [m.name for m in migrations.applied(db)]
