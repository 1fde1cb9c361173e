"""Looking after the database file: checks, backups, restores, migrations.

Backups go through SQLite's backup API into a new 0600 file and are checked
after writing (integrity, the number of cases); a backup of an encrypted
database is encrypted with the same key. A restore checks the backup first,
keeps the current database beside it, and moves a checked copy into place in
one step, so a failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thcli import audit, clock, crypto
from thcli.db import (
    busy_timeout_ms,
    connect,
    ensure_thcli_tables,
    is_database_error,
    key_of,
    network_share,
    refuse_network_share,
    translate,
    write,
)
from thcli.errors import DatabaseProblem, NotAllowed
from thcli.files import create_private_file, make_private

if TYPE_CHECKING:
    from sqlite_utils import Database

    from thcli.crypto import Key


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: passed, but worth acting on (an unencrypted database)
    warning: bool = False

    @property
    def state(self) -> str:
        return "FAIL" if not self.ok else ("warn" if self.warning else "ok")

    def as_dict(self) -> dict:
        return {"check": self.name, "state": self.state, "ok": self.ok, "detail": self.detail}


def _ledger_verifier():
    """budget.verify_chain, when the budget module is installed."""
    try:
        from thcli.budget import verify_chain
    except ImportError:
        return None
    return verify_chain


def _mode_check(name: str, file: Path) -> Check:
    mode = stat.S_IMODE(file.stat().st_mode)
    private = mode & 0o077 == 0
    return Check(name, private, f"{mode:o}" + ("" if private else f" (others can read it: run chmod 600 {file})"))


def check_database(db: Database, path: Path) -> list[Check]:
    """Integrity, foreign keys, the audit and ledger chains, encryption, location and file permissions."""
    results = []
    key = key_of(db)
    try:
        integrity = [r[0] for r in db.conn.execute("PRAGMA integrity_check")]
        if key is not None:
            integrity = [r[0] for r in db.conn.execute("PRAGMA cipher_integrity_check")] or integrity
        results.append(Check("integrity", integrity == ["ok"],
                             "ok" if integrity == ["ok"] else "; ".join(integrity[:5])))
        fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
        results.append(Check("foreign keys", not fk, "ok" if not fk else f"{len(fk)} rows point at missing records"))
        problems = audit.verify(db)
        results.append(Check("audit log", not problems,
                             "intact" if not problems else "; ".join(problems[:3])))
        verify_ledger = _ledger_verifier()
        if verify_ledger is not None:
            problems = verify_ledger(db)
            results.append(Check("ledger", not problems,
                                 "intact" if not problems else "; ".join(problems[:3])))
        letters = [r[0] for r in db.conn.execute("SELECT path FROM letters WHERE path IS NOT NULL")]
    except Exception as error:
        if is_database_error(error):
            raise translate(error, path) from None
        raise
    if key is not None:
        version = db.conn.execute("PRAGMA cipher_version").fetchone()
        results.append(Check("encryption", True, f"encrypted (SQLCipher {version[0] if version else ''})".strip()))
    else:
        results.append(Check("encryption", True, "not encrypted: anyone who has the file can read it; "
                                                 "encrypt it with `thcli db encrypt`", warning=True))
    where = network_share(path)
    results.append(Check("location", where is None,
                         "on this computer's own disk" if where is None
                         else f"on {where}: SQLite's locking is not safe there; move it to a local disk"))
    for file in [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]:
        if file.exists():
            results.append(_mode_check(f"permissions of {file.name}", file))
    results += _letter_files_check(path, letters)
    return results


def letter_file(db_path: Path, stored: str) -> Path:
    """A letter's file as stored in letters.path (relative paths are beside the database)."""
    file = Path(stored).expanduser()
    return file if file.is_absolute() else db_path.parent / file


def _letter_files_check(db_path: Path, stored: list[str]) -> list[Check]:
    files = [f for f in (letter_file(db_path, s) for s in stored) if f.is_file()]
    if not files:
        return []
    open_to_others = [f for f in files if stat.S_IMODE(f.stat().st_mode) & 0o077]
    if not open_to_others:
        return [Check("permissions of letters", True, f"{len(files)} letter files, all 600")]
    shown = ", ".join(str(f) for f in open_to_others[:3]) + (" ..." if len(open_to_others) > 3 else "")
    return [Check("permissions of letters", False,
                  f"{len(open_to_others)} of {len(files)} letter files can be read by others "
                  f"(run chmod 600 on them): {shown}")]


# --- copies ---------------------------------------------------------------------------------


def _target(dest: Path, key: Key | None) -> Any:
    """A connection to a new, empty 0600 file, encrypted with ``key`` when given."""
    create_private_file(dest)
    if key is not None:
        return crypto.open_keyed(dest, key, timeout=busy_timeout_ms() / 1000)
    return sqlite3.connect(str(dest))


def _copy(source: Any, dest: Path, key: Key | None) -> None:
    """Copy a live database through SQLite's backup API into a new 0600 file (encrypted with ``key``)."""
    target = _target(dest, key)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    except Exception as error:
        if is_database_error(error):
            raise translate(error, dest) from None
        raise
    finally:
        target.close()
    make_private(dest)


def _remove_with_side_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                     path.with_name(path.name + "-journal")):
        leftover.unlink(missing_ok=True)


def _check_copy(dest: Path, key: Key | None, expected_cases: int | None = None, *, read_only: bool = False) -> None:
    """Open a copy and prove it whole (then leave it one file, without a WAL); DatabaseProblem otherwise."""
    conn = connect(dest, key, read_only=read_only)
    try:
        ensure_thcli_tables(conn, dest)
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        if not read_only:
            conn.execute("PRAGMA journal_mode = DELETE")
    except Exception as error:
        if is_database_error(error):
            raise translate(error, dest) from None
        raise
    finally:
        conn.close()
    if key is not None and crypto.header(dest) == crypto.SQLITE_HEADER:
        raise DatabaseProblem(f"{dest}: the copy of an encrypted database was not encrypted; it was not kept")
    if result != "ok" or (expected_cases is not None and cases != expected_cases):
        raise DatabaseProblem(f"{dest}: the copy did not check out ({result}, {cases} cases); it was not kept")


def backup_name(folder: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"thcli-backup-{stamp}.db"


def backup(db: Database, dest: Path, *, by: str) -> Path:
    """Write a checked backup of the database to ``dest`` (a new file, 0600; encrypted like the database)."""
    if dest.is_dir():
        dest = backup_name(dest)
    if dest.exists():
        raise NotAllowed(f"{dest} already exists: choose a new file name (backups never overwrite)")
    key = key_of(db)
    cases = db.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    try:
        _copy(db.conn, dest, key)
        _check_copy(dest, key, cases)
    except BaseException:
        _remove_with_side_files(dest)
        raise
    with write(db):
        audit.record(db, by=by, action="db.backup", detail=dest.name)
    return dest


def _kept_name(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.stem}-before-restore-{clock.today().isoformat()}-"
                             f"{dt.datetime.now().strftime('%H%M%S')}.db")


def restore(db_path: Path, source: Path, *, by: str, key: Key | None = None,
            allow_network_share: bool = False) -> Path | None:
    """Replace the database with a backup; the current one is kept beside it first.

    ``key`` opens whichever of the two files is encrypted. Returns where the
    previous database was kept (None when there was none).
    """
    from thcli.db import database_exists, open_db

    if not allow_network_share:
        refuse_network_share(db_path)
    if not source.is_file():
        raise NotAllowed(f"there is no backup at {source}")
    source_key = key if crypto.is_encrypted(source) else None
    _check_copy(source, source_key, read_only=True)
    incoming = db_path.with_name(f".{db_path.name}.restoring-{os.getpid()}")
    _remove_with_side_files(incoming)
    src = connect(source, source_key, read_only=True)
    try:
        _copy(src, incoming, source_key)
    finally:
        src.close()
    kept = None
    try:
        _check_copy(incoming, source_key)
        if database_exists(db_path):
            current = connect(db_path, key if crypto.is_encrypted(db_path) else None)
            try:
                kept = _kept_name(db_path)
                _copy(current, kept, key_of_connection(current, key))
                _check_copy(kept, key_of_connection(current, key))
                crypto.take_exclusive(current, db_path)
                os.replace(incoming, db_path)
            finally:
                current.close()
        else:
            os.replace(incoming, db_path)
    finally:
        _remove_with_side_files(incoming)
    db = open_db(db_path, key=source_key, allow_network_share=True)
    try:
        with write(db):
            audit.record(db, by=by, action="db.restore", detail=source.name)
    finally:
        db.close()
    return kept


def key_of_connection(conn: Any, key: Key | None) -> Key | None:
    """The key a raw connection was opened with: ``key`` for a SQLCipher one, else None."""
    return key if crypto.is_cipher_connection(conn) else None


def migrate(db: Database) -> list[str]:
    """Names of the migrations applied by open_db so far (all, in order)."""
    from thcli.migrations import migrations

    return [m.name for m in migrations.applied(db)]
