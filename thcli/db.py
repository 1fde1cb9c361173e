"""The one place a database connection is made.

Every connection gets the same protections (DESIGN.md §8): the file is created
readable by its owner only before SQLite opens it, WAL journal,
``synchronous=FULL``, foreign keys on, a busy timeout, ``secure_delete`` and
``trusted_schema=OFF``. Writes that read then write run inside
:func:`write`, a ``BEGIN IMMEDIATE`` transaction, so two coordinators' processes
never interleave a read and a write (``atomic()`` in sqlite-utils begins a
deferred transaction, which fails with "database is locked" under contention).

A plain database is opened by the standard library's sqlite3; an encrypted
one (its header is not ``SQLite format 3``) through SQLCipher with its key
(cipher.py), and never without it. One process never opens the same file with
both: the two SQLite libraries' POSIX locks cannot see each other (``db
encrypt`` opens the plain file through sqlcipher3 only, with no other
connection to it in the process). A database on a network file system is
refused unless the coordinator overrides it (``--allow-network-share``):
SQLite's locking is not safe there.

Three more guards keep a file whole (README, "What survives"):

- every open takes a shared lock on a small lock file beside the database
  (``thcli.db-lock``, dbfile.py); ``db encrypt``, ``db rekey`` and ``db
  restore`` take it exclusively for their whole run (dbfile.exclusive), so no
  other thcli has the file open while it is copied and replaced;
- a file that is not a complete thcli database is never made into one: only
  ``create`` (``init``, ``demo``) starts a new database;
- a database carrying migrations this thcli does not know (a newer thcli's)
  is opened read-only, and a database found damaged (by ``db check`` or by
  SQLite itself) is marked with a file beside it (``thcli.db-damaged``,
  dbfile.py): :func:`write` refuses both, so nothing is written until thcli
  is upgraded or the latest backup is restored.
"""

from __future__ import annotations

import contextlib
import itertools
import ntpath
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from thcli import cipher, migrations
from thcli.cipher import Key
from thcli.dbfile import (  # noqa: F401 - damage_marker, exclusive and translate are also known as db's
    busy_timeout_ms,
    damage_marker,
    damage_note,
    damaged_message,
    database_exists,
    exclusive,
    hold_shared,
    is_damage,
    is_database_error,
    mark_damaged,
    translate,
    translated,
)
from thcli.errors import DatabaseProblem, NotAllowed, NotFound
from thcli.files import create_private_file, os_problem, printable

if TYPE_CHECKING:
    import sqlite_utils

# --- network shares --------------------------------------------------------------------

#: File systems where SQLite's locking cannot be trusted (Linux /proc/mounts names).
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "sshfs", "fuse.sshfs", "afs", "ncpfs",
    "9p", "ceph", "fuse.ceph", "glusterfs", "fuse.glusterfs", "davfs", "fuse.davfs2", "fuse.rclone",
    "fuse.s3fs", "fuse.gvfsd-fuse", "lustre", "gpfs", "beegfs", "fuse.smbnetfs", "coda", "orangefs",
})
DRIVE_REMOTE = 4  # GetDriveTypeW's answer for a mapped network drive
#: Where Linux lists its mounts and their file system types.
MOUNTS_FILE = "/proc/mounts"


def _unescape_mount(text: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash in octal.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(code, char)
    return text


def mount_type(path: Path | str, mounts: str) -> str | None:
    """The file system type of the mount holding ``path``, from the text of /proc/mounts."""
    target = os.path.realpath(str(path))
    best, best_type = "", None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = _unescape_mount(parts[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, parts[2]
    return best_type


def windows_network_share(path: str, drive_type: Callable[[str], int] | None = None) -> str | None:
    """Whether a Windows path is on the network: a \\\\server\\share path or a mapped network drive."""
    text = path.replace("/", "\\")
    if text.upper().startswith("\\\\?\\UNC\\"):
        return "a network path (\\\\server\\share)"
    if text.startswith(("\\\\?\\", "\\\\.\\")):
        text = text[4:]
    elif text.startswith("\\\\"):
        return "a network path (\\\\server\\share)"
    drive = ntpath.splitdrive(text)[0]
    if drive.startswith("\\\\"):
        return "a network path (\\\\server\\share)"
    if drive and drive_type is not None and drive_type(drive + "\\") == DRIVE_REMOTE:
        return f"a mapped network drive ({drive.upper()})"
    return None


def _windows_drive_type(root: str) -> int:
    if sys.platform != "win32":  # pragma: no cover - asked on Windows only (network_share)
        raise OSError(f"{root}: drive types are Windows's")
    import ctypes  # Windows only: its windll is not there elsewhere

    return int(ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root)))


def network_share(path: Path | str) -> str | None:
    """A description of the network file system ``path`` is on, or None when it is local (or unknown)."""
    if os.name == "nt":
        return windows_network_share(os.path.abspath(str(path)), _windows_drive_type)
    try:
        with open(MOUNTS_FILE, encoding="utf-8", errors="replace") as handle:
            mounts = handle.read()
    except OSError:  # not Linux: no cheap, reliable way to tell; assume local
        return None
    kind = mount_type(path, mounts)
    return f"a network share ({kind})" if kind in NETWORK_FILE_SYSTEMS else None


def refuse_network_share(path: Path) -> None:
    where = network_share(path)
    if where:
        raise NotAllowed(
            f"{path} is on {where}. SQLite's locking is not safe on a network file system, so two "
            "computers could damage the database: keep it on this computer's own disk (and back it up "
            "to the share with `thcli db backup`), or add --allow-network-share if only one computer "
            "ever uses it."
        )


# --- connections -----------------------------------------------------------------------


def _set_pragmas(conn: Any, path: Path, read_only: bool = False,
                 before_writing: Callable[[Any], None] | None = None) -> None:
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
    # Reading the schema proves the file is a database (and the key right) before anything is written.
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if before_writing is not None:
        before_writing(conn)
    if read_only:
        conn.execute("PRAGMA query_only = ON")
        return
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA trusted_schema = OFF")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise DatabaseProblem(f"{path}: could not switch the database to WAL mode ({mode})")
    conn.execute("PRAGMA synchronous = FULL")


def connect(path: Path, key: Key | None = None, *, read_only: bool = False,
            before_writing: Callable[[Any], None] | None = None) -> Any:
    """A raw connection with thcli's pragmas, or a clear error.

    A plain file is opened with sqlite3; a file that is not plain SQLite (or a
    new one, when ``key`` is given) through SQLCipher with ``key``. With
    ``read_only`` (a backup being restored, perhaps on a locked USB stick)
    the file is opened read-only and left exactly as it is. ``before_writing``
    is called with the connection before the first pragma that could change
    the file (switching it to WAL): it may refuse the file.
    """
    encrypted = cipher.is_encrypted(path) or (key is not None and not database_exists(path))
    if encrypted and key is None:
        raise DatabaseProblem(
            f"{path} is encrypted, or is not a thcli database: give its passphrase in THCLI_KEY "
            "(or run thcli in a terminal to be asked for it, or store it in the keychain with `thcli db unlock`)."
        )
    conn = None
    target = str(path)
    if read_only:
        target = Path(path).resolve().as_uri() + "?mode=ro"
    try:
        with translated(path):
            if encrypted and key is not None:  # (an encrypted file without a key was refused above)
                conn = cipher.open_keyed(target, key, timeout=busy_timeout_ms() / 1000, uri=read_only)
            else:
                conn = sqlite3.connect(target, timeout=busy_timeout_ms() / 1000, uri=read_only)
            _set_pragmas(conn, path, read_only, before_writing)
    except Exception:
        if conn is not None:
            conn.close()
        raise
    return conn


def ensure_thcli_tables(conn: Any, path: Path, *, complete: bool = False) -> None:
    """Refuse a SQLite file that holds something other than a thcli database.

    With ``complete``, an empty SQLite file is refused too (a backup killed
    half-way, another program's new file): only ``create`` starts a database.
    """
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and ("_sqlite_migrations" not in tables or "cases" not in tables):
        raise DatabaseProblem(f"{printable(path)}: wrong key or not a thcli database.")
    if complete and not tables:
        raise DatabaseProblem(
            f"{printable(path)} is not a complete thcli database (an empty SQLite file: perhaps a copy or "
            "backup that was cut short). It was left as it is: restore a backup with `thcli db restore "
            "BACKUP`, or point --db at your database.")


class Connected(Protocol):
    """Anything that holds a DB-API connection in ``conn``: thcli's Database, or sqlite-utils' own (which a
    migration is given)."""

    conn: Any


#: A statement that starts with a WITH clause and writes nothing: no INSERT, UPDATE, DELETE or REPLACE in it.
_READING_CTE = re.compile(r"\s*WITH\b(?!.*\b(?:INSERT|UPDATE|DELETE|REPLACE)\b)", re.IGNORECASE | re.DOTALL)


class Database:
    """An open thcli database: the connection, and sqlite-utils' Database over it once needed.

    Reading needs only the connection (``db.conn``, :meth:`query`), and
    sqlite-utils costs 60 to 90 ms to import: too much for ``referral list`` or
    ``due``, which answer in a few milliseconds. So its Database is built on
    first use (``db["cases"].insert(...)``, ``db.execute``, migrations...),
    over the same connection, and every attribute not defined here is its.
    """

    def __init__(self, conn: Any, key: Key | None = None, *, path: Path | None = None, guard: Any = None):
        self.conn = conn
        self.thcli_key = key
        #: the file, when known (open_db)
        self.path = path
        #: why nothing may be written (a newer thcli's database, or a damaged one), or None
        self.read_only: str | None = None
        self._guard = guard
        self._utils: sqlite_utils.Database | None = None
        # What sqlite-utils' Database does when it is made, so triggers behave the same before it is.
        conn.execute("PRAGMA recursive_triggers = ON")

    @property
    def utils(self) -> sqlite_utils.Database:
        """sqlite-utils' Database over this connection (imported and made on first use)."""
        if self._utils is None:
            from sqlite_utils import Database as UtilsDatabase

            self._utils = UtilsDatabase(self.conn, execute_plugins=False)
        return self._utils

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like: not sqlite-utils' business
            raise AttributeError(name)
        return getattr(self.utils, name)

    def __getitem__(self, name: str) -> Any:
        return self.utils[name]

    def query(self, sql: str, params: Any = None) -> Iterator[dict]:
        """The rows of a SELECT as dicts, as sqlite-utils' ``query`` gives them."""
        cursor = None
        # A SELECT, or a WITH ... SELECT (the money figures): read here, without loading sqlite-utils, which
        # costs a command that only reads 60 to 150 ms (it imports numpy where that is installed).
        if sql.lstrip()[:6].upper() == "SELECT" or _READING_CTE.match(sql):
            cursor = self.conn.execute(sql, params if params is not None else ())
            keys = [d[0] for d in cursor.description]
            if len(set(keys)) == len(keys):
                return (dict(zip(keys, row, strict=True)) for row in cursor)
        # Anything else (a write that returns rows, repeated column names, which sqlite-utils
        # renames): sqlite-utils' own query, with its guards.
        if cursor is not None:
            cursor.close()
        return self.utils.query(sql, params)

    def close(self) -> None:
        self.conn.close()
        if self._guard is not None:
            self._guard.close()
            self._guard = None


def key_of(db: Database) -> Key | None:
    """The key an open database was opened with (None: a plain database)."""
    return getattr(db, "thcli_key", None)


def open_db(
    path: Path | str,
    *,
    create: bool = False,
    migrate: bool = True,
    key: Key | None = None,
    allow_network_share: bool = False,
    guard: bool = True,
) -> Database:
    """Open (or with ``create``, create) a thcli database and bring its schema up to date.

    ``key`` opens an encrypted database (default: THCLI_KEY); with ``create``,
    a new database is encrypted when a key is given. Raises NotFound when
    there is no database and ``create`` is false, NotAllowed on a network
    share (unless allowed), and DatabaseProblem when the file is not a
    complete thcli database or the key is wrong. A database with migrations
    this thcli does not know is opened read-only (``db.read_only`` says why),
    and so is one marked damaged. ``guard=False`` is for the one caller that
    already holds the lock file exclusively (:func:`exclusive`).
    """
    path = Path(path)
    try:
        return _open_db(path, create=create, migrate=migrate, key=key, allow_network_share=allow_network_share,
                        guard=guard)
    except OSError as error:
        raise os_problem(error, path, option="--db", doing="open") from None
    except UnicodeError:  # text in the file that is not UTF-8: a damaged (or foreign) file
        raise DatabaseProblem(f"{printable(path)}: the file is damaged or is not a thcli database. Restore the "
                              "latest backup with `thcli db restore BACKUP`.") from None


def _open_db(path: Path, *, create: bool, migrate: bool, key: Key | None, allow_network_share: bool,
             guard: bool) -> Database:
    if not allow_network_share:
        refuse_network_share(path)
    if path.is_dir():
        raise DatabaseProblem(f"{printable(path)} is a folder, not a database: give a file name, e.g. "
                              f"{printable(path / 'thcli.db')}")
    if not database_exists(path) and not create:
        raise NotFound(
            f"no thcli database at {printable(path)}. Create one with `thcli init`, try "
            "`thcli demo`, or point --db (or THCLI_DB) at your database."
        )
    # The lock first, then the file: a db encrypt or restore never changes it under our feet.
    held = hold_shared(path) if guard and path.parent.is_dir() else None
    try:
        exists = database_exists(path)
        if not exists and not create:
            raise NotFound(f"no thcli database at {printable(path)} (it was just moved away?): try again")
        if exists and not stat.S_ISREG(path.stat().st_mode):
            raise DatabaseProblem(f"{printable(path)} is not a file.")
        if not exists and not path.exists():
            create_private_file(path)
        if exists and cipher.is_encrypted(path):
            key = key or cipher.key_from_environment()
        elif exists:
            key = None  # a plain database needs no key (THCLI_KEY may be set for another one)
        complete = not create

        def whole(conn: Any) -> None:
            ensure_thcli_tables(conn, path, complete=complete)

        conn = connect(path, key, before_writing=whole if migrate else None)
    except BaseException:
        if held is not None:
            held.close()
        raise
    db = Database(conn, key, path=path, guard=held)
    try:
        with translated(path):
            note = damage_note(path)
            if note is not None:
                db.read_only = damaged_message(path, note)
            if migrate:
                applied = migrations.applied_names(db)
                unknown = migrations.unknown_names(db, applied)
                if unknown:
                    db.read_only = newer_message(path, unknown)
                    conn.execute("PRAGMA query_only = ON")
                elif db.read_only is None:
                    migrations.apply(db, applied)
    except BaseException:
        db.close()
        raise
    return db


def newer_message(path: Path, unknown: Sequence[str]) -> str:
    names = ", ".join(unknown)
    return (f"{printable(path)} was changed by a newer thcli (it has {len(unknown)} change"
            f"{'s' if len(unknown) != 1 else ''} this version does not know: {names}), so it is open "
            "read-only and nothing was changed: upgrade thcli (pip install --upgrade thcli)")


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A ``BEGIN IMMEDIATE`` transaction: all of it is saved, or none of it.

    Nested calls join the outer transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    refusal = getattr(db, "read_only", None)
    if refusal:
        raise NotAllowed(refusal)
    path = getattr(db, "path", None)
    with translated(mark=path):  # a damaged database is marked so as SQLite says it
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException as error:
        conn.rollback()
        if path is not None and isinstance(error, Exception) and is_database_error(error) and is_damage(error):
            mark_damaged(path, f"SQLite reported: {error}")
        raise
    try:
        with translated(mark=path):
            conn.commit()
    except Exception:
        conn.rollback()
        raise


def insert_many(db: Database, into: str, rows: Sequence[Sequence]) -> None:
    """Insert ``rows`` with ``into`` (``INSERT INTO t (a, b)``), many rows to a statement, in order.

    For bulk loads (the demo's 100,000 cases), where it is about twice as quick
    as ``executemany``: SQLite builds the list of a ``CHECK (x IN (...))``
    constraint once per run of a statement, so one run per row pays for every
    list on every row.
    """
    if not rows:
        return
    width = len(rows[0])
    # As many rows as the driver's limit on ? placeholders allows (999 in old SQLite builds).
    getlimit = getattr(db.conn, "getlimit", None)
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    per = max(1, min(500, limit // width))
    one_row = "(" + ", ".join("?" * width) + ")"
    full_sql = f"{into} VALUES {', '.join([one_row] * per)}"
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        sql = full_sql if len(chunk) == per else f"{into} VALUES {', '.join([one_row] * len(chunk))}"
        db.conn.execute(sql, list(itertools.chain.from_iterable(chunk)))


def one(db: Database, sql: str, params=()) -> dict | None:
    """The first row of a query as a dict, or None."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def scalar(db: Database, sql: str, params=()):
    """The first column of the first row, or None."""
    row = db.conn.execute(sql, params).fetchone()
    return None if row is None else row[0]
