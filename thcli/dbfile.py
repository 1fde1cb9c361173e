"""The database file's guards: its busy timeout, SQLite's errors in a coordinator's words, the lock file held
while a file is replaced, and the mark of a damaged file.

Below db.py (which opens databases) and everything that copies or replaces
the file (maintenance.py, crypto.py): they all translate SQLite's errors
here, once (:func:`translated`).

- Every open takes a shared lock on a small lock file beside the database
  (``thcli.db-lock``, an empty SQLite file, so the lock works the same on
  Windows); ``db encrypt``, ``db rekey`` and ``db restore`` take it
  exclusively for their whole run (:func:`exclusive`), so no other thcli has
  the file open while it is copied and replaced, and a command started
  meanwhile waits up to the busy timeout, then says "busy, try again".
- A database found damaged (by ``db check`` or by SQLite itself) is marked
  with a file beside it (``thcli.db-damaged``): db.write refuses it, so
  nothing is written until the latest backup is restored.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from thcli.errors import DatabaseDamaged, DatabaseProblem, ThcliError
from thcli.files import create_private_file, os_problem, printable, write_atomically

#: How long a write waits for another process's write to finish, in ms.
#: THCLI_BUSY_TIMEOUT_MS lowers it (tests of "lock held too long").
DEFAULT_BUSY_TIMEOUT_MS = 10_000


def busy_timeout_ms() -> int:
    value = os.environ.get("THCLI_BUSY_TIMEOUT_MS", "")
    return int(value) if value.isascii() and value.isdigit() else DEFAULT_BUSY_TIMEOUT_MS


def database_exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


# --- errors --------------------------------------------------------------------------


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of the SQLite drivers in use (sqlcipher3's are its own)."""
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    return (sqlite3.Error, cipher.Error) if cipher is not None else (sqlite3.Error,)


def is_database_error(error: BaseException) -> bool:
    return isinstance(error, database_errors())


def is_busy(error: BaseException) -> bool:
    """Whether a SQLite error says another connection holds the database (locked, or busy past the timeout)."""
    text = str(error)
    return "locked" in text or "busy" in text


def is_damage(error: BaseException) -> bool:
    """Whether a SQLite error says the file itself is damaged."""
    text = str(error)
    return any(word in text for word in ("malformed", "corrupt", "disk image", "unsupported file format"))


def translate(error: BaseException, path: Path | str | None = None) -> DatabaseProblem:
    """A SQLite (or SQLCipher) error as a message a coordinator can act on."""
    text = str(error)
    where = f"{printable(path)}: " if path else ""
    if is_busy(error):
        return DatabaseProblem(
            f"{where}the database is busy: another thcli is writing to it. "
            "Try again in a moment."
        )
    if "not a database" in text or "encrypted" in text:
        return DatabaseProblem(f"{where}wrong key or not a thcli database.")
    if is_damage(error):
        return DatabaseDamaged(
            f"{where}the database file is damaged. Restore the latest backup "
            "with `thcli db restore BACKUP`.", path
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseProblem(f"{where}the database cannot be written (read-only file or folder).")
    if "unable to open" in text:
        return DatabaseProblem(f"{where}the database cannot be opened (check the path and its folder).")
    if "disk is full" in text or "disk I/O" in text:
        return DatabaseProblem(f"{where}the disk could not be written ({text}): free some space and try again.")
    return DatabaseProblem(f"{where}database error: {text}")


@contextlib.contextmanager
def translated(path: Path | str | None = None, *, mark: Path | None = None,
               note: str = "SQLite reported") -> Iterator[None]:
    """SQLite's (or SQLCipher's) errors raised in the block, as thcli's (:func:`translate`, naming ``path``).

    With ``mark``, a database SQLite says is damaged is first marked so
    (:func:`mark_damaged`, with ``note`` and what SQLite said). Other errors
    pass through as they are.
    """
    try:
        yield
    except Exception as error:
        if not is_database_error(error):
            raise
        if mark is not None and is_damage(error):
            mark_damaged(mark, f"{note}: {error}")
        raise translate(error, path) from None


# --- the lock file: one thcli at a time while a file is replaced ------------------------


def lock_file(path: Path) -> Path:
    """The lock file beside a database (``thcli.db-lock``)."""
    return path.with_name(path.name + "-lock")


def _lock_connection(path: Path) -> sqlite3.Connection:
    lock = lock_file(path)
    if not lock.exists():
        try:
            create_private_file(lock)
        except FileExistsError:  # made by another thcli since we looked
            pass
    # autocommit: the lock is a transaction opened and ended by hand.
    return sqlite3.connect(str(lock), timeout=busy_timeout_ms() / 1000, isolation_level=None)


BUSY_REPLACING = ("the database is busy: another thcli is encrypting, re-keying or restoring it. "
                  "Try again in a moment.")


def hold_shared(path: Path) -> sqlite3.Connection | None:
    """A connection holding a shared lock on the database's lock file, for as long as it stays open.

    None where no lock file can be made (a read-only folder: nothing can be
    replaced there either). DatabaseProblem ("busy") when an exclusive holder
    keeps it past the busy timeout.
    """
    try:
        conn = _lock_connection(path)
    except (OSError, ThcliError, sqlite3.Error):
        return None
    try:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        conn.close()
        if is_busy(error):
            raise DatabaseProblem(f"{printable(path)}: {BUSY_REPLACING}") from None
        return None  # a lock file someone overwrote: no worse than before the lock file existed
    return conn


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the database's lock file exclusively: no other thcli opens the database meanwhile.

    Waits up to the busy timeout for the commands that have it open to finish;
    then DatabaseProblem asking to close them and try again.
    """
    try:
        conn = _lock_connection(path)
    except OSError as error:
        raise os_problem(error, lock_file(path), doing="create the lock file") from None
    try:
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.Error as error:
        conn.close()
        if is_busy(error):
            raise DatabaseProblem(f"{printable(path)}: another thcli has the database open: wait for it to "
                                  "finish (or close it) and try again") from None
        raise translate(error, lock_file(path)) from None
    try:
        yield
    finally:
        try:
            conn.execute("ROLLBACK")
        finally:
            conn.close()


# --- damage -------------------------------------------------------------------------------


def damage_marker(path: Path) -> Path:
    """The file that marks a database found damaged (``thcli.db-damaged``)."""
    return path.with_name(path.name + "-damaged")


def damage_note(path: Path) -> str | None:
    """What was found, when the database is marked damaged (None: it is not)."""
    marker = damage_marker(path)
    try:
        return marker.read_text(encoding="utf-8", errors="replace").strip() or "damaged"
    except FileNotFoundError:
        return None
    except OSError:
        return "damaged" if marker.exists() else None


def mark_damaged(path: Path, what: str) -> None:
    """Mark the database damaged: from now on thcli writes nothing to it until a backup is restored."""
    try:
        write_atomically(damage_marker(path), (what.strip() or "damaged") + "\n")
    except (ThcliError, OSError):  # a folder that cannot be written cannot be written to either
        pass


def clear_damaged(path: Path) -> None:
    damage_marker(path).unlink(missing_ok=True)


def damaged_message(path: Path, what: str) -> str:
    return (f"{printable(path)} is damaged ({what}), so thcli writes nothing to it: restore the latest backup "
            "with `thcli db restore BACKUP`")
