"""The one place a database connection is made.

Every connection gets the same protections (DESIGN.md §8): the file is created
readable by its owner only before SQLite opens it, WAL journal,
``synchronous=FULL``, foreign keys on, a busy timeout, ``secure_delete`` and
``trusted_schema=OFF``. Writes that read then write run inside
:func:`write`, a ``BEGIN IMMEDIATE`` transaction, so two coordinators' processes
never interleave a read and a write (``atomic()`` in sqlite-utils begins a
deferred transaction, which fails with "database is locked" under contention).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from thcli.errors import DatabaseProblem, NotFound

if TYPE_CHECKING:  # sqlite_utils costs ~50 ms to import: only when a database is opened
    from sqlite_utils import Database

#: How long a write waits for another process's write to finish, in ms.
#: THCLI_BUSY_TIMEOUT_MS lowers it (tests of "lock held too long").
DEFAULT_BUSY_TIMEOUT_MS = 10_000

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def busy_timeout_ms() -> int:
    value = os.environ.get("THCLI_BUSY_TIMEOUT_MS", "")
    return int(value) if value.isascii() and value.isdigit() else DEFAULT_BUSY_TIMEOUT_MS


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (its folder too, if new)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    os.close(fd)


def make_private(path: Path) -> None:
    """Set an existing file to owner-only, as every file thcli writes must be."""
    os.chmod(path, PRIVATE_FILE_MODE)


def open_private_for_writing(path: Path, binary: bool = True):
    """Open ``path`` for writing, created 0600 (or truncated and set 0600)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""}))


def database_exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def connect(path: Path) -> sqlite3.Connection:
    """A raw connection with thcli's pragmas, or a clear error."""
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms() / 1000)
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
        # Reading the schema proves the file is a database before anything is written.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise DatabaseProblem(f"{path}: could not switch the database to WAL mode ({mode})")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as error:
        raise translate(error, path) from None
    return conn


def translate(error: sqlite3.Error, path: Path | str | None = None) -> DatabaseProblem:
    """A SQLite error as a message a coordinator can act on."""
    text = str(error)
    where = f"{path}: " if path else ""
    if "locked" in text or "busy" in text:
        return DatabaseProblem(
            f"{where}the database is busy: another thcli is writing to it. "
            "Try again in a moment."
        )
    if "not a database" in text or "encrypted" in text:
        return DatabaseProblem(f"{where}wrong key or not a thcli database.")
    if "malformed" in text or "corrupt" in text or "disk image" in text:
        return DatabaseProblem(
            f"{where}the database file is damaged. Restore the latest backup "
            "with `thcli db restore BACKUP`."
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseProblem(f"{where}the database cannot be written (read-only file or folder).")
    if "unable to open" in text:
        return DatabaseProblem(f"{where}the database cannot be opened (check the path and its folder).")
    return DatabaseProblem(f"{where}database error: {text}")


def open_db(path: Path | str, *, create: bool = False, migrate: bool = True) -> Database:
    """Open (or with ``create``, create) a thcli database and bring its schema up to date.

    Raises NotFound when there is no database and ``create`` is false, and
    DatabaseProblem when the file is not a thcli database.
    """
    from sqlite_utils import Database

    path = Path(path)
    if not database_exists(path):
        if not create:
            raise NotFound(
                f"no thcli database at {path}. Create one with `thcli init`, try "
                "`thcli demo`, or point --db (or THCLI_DB) at your database."
            )
        if not path.exists():
            create_private_file(path)
    elif not stat.S_ISREG(path.stat().st_mode):
        raise DatabaseProblem(f"{path} is not a file.")
    conn = connect(path)
    db = Database(conn, execute_plugins=False)
    if migrate:
        from thcli import migrations

        try:
            migrations.ensure_thcli_database(db, path)
            migrations.apply(db)
        except sqlite3.DatabaseError as error:
            conn.close()
            raise translate(error, path) from None
        except DatabaseProblem:
            conn.close()
            raise
    return db


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A ``BEGIN IMMEDIATE`` transaction: all of it is saved, or none of it.

    Nested calls join the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise translate(error) from None
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    try:
        conn.commit()
    except sqlite3.OperationalError as error:
        conn.rollback()
        raise translate(error) from None


def one(db: Database, sql: str, params=()) -> dict | None:
    """The first row of a query as a dict, or None."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row))


def scalar(db: Database, sql: str, params=()):
    """The first column of the first row, or None."""
    row = db.conn.execute(sql, params).fetchone()
    return None if row is None else row[0]
