"""Encryption at rest: SQLCipher through the optional ``sqlcipher3`` package.

A thcli database holds the addresses of people hiding from someone who may
want to hurt them, on a laptop that can be lost. With ``thcli init --encrypt``
or ``thcli db encrypt`` every page of the file (and of its WAL) is encrypted
with a key derived from a passphrase. The passphrase comes from ``THCLI_KEY``
or a prompt in a terminal, never from the command line (where it would sit in
the shell history and the process list), and it never reaches a log, the
audit or an error message: it travels inside a :class:`Key`, whose ``repr``
hides it, and reaches SQLCipher through ``sqlite3_key`` (``set_key``) or a
bound parameter, never pasted into SQL.

Whether a file is encrypted is read from its first 16 bytes: a plain SQLite
file starts with ``SQLite format 3\\0``, an encrypted one with random salt.
So a plain database is opened by the standard library's sqlite3 as before,
and sqlcipher3 is imported only when a key is needed; and an encrypted
database is never opened without its key.

Converting (``db encrypt``) and changing the key (``db rekey``) hold the
database's lock file exclusively for the whole run (no other thcli has the
file open meanwhile: one started then waits, or says "busy, try again"), write
a new file with ``sqlcipher_export``, check it (integrity, every table's row
count, the header), and only then move it over the old one, so a failure at
any point leaves the database as it was. A killed run's work file is removed
by the next one.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from thcli.errors import BadInput, DatabaseProblem, NotAllowed, NotFound

SQLITE_HEADER = b"SQLite format 3\x00"
#: Where the key comes from (never a command-line option).
KEY_VARIABLE = "THCLI_KEY"
#: The new key for ``thcli db rekey`` when it is not typed at a prompt.
NEW_KEY_VARIABLE = "THCLI_NEW_KEY"
INSTALL_HINT = "install it with: pip install 'thcli[encrypted]'"
MIN_PASSPHRASE = 8


class Key:
    """A database key (a passphrase) that never shows itself.

    ``repr`` and ``str`` hide the value, so a key cannot leak into a message,
    a log line or a traceback's locals by accident; :meth:`reveal` hands it
    to SQLCipher.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not isinstance(value, str) or value == "":
            raise BadInput("the passphrase is empty: give the database's passphrase")
        if "\x00" in value:
            raise BadInput("the passphrase contains a NUL character, which SQLCipher cannot take")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Key(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Key", self._value))


def header(path: Path) -> bytes:
    """The first 16 bytes of a file (fewer for a shorter file)."""
    with open(path, "rb") as handle:
        return handle.read(16)


def is_encrypted(path: Path) -> bool:
    """Whether an existing, non-empty file is not a plain SQLite database.

    That is an encrypted database, or a file that is no database at all: both
    need a key to go further, and a wrong key or a stray file give the same
    message ("wrong key or not a thcli database").
    """
    try:
        return path.stat().st_size > 0 and header(path) != SQLITE_HEADER
    except OSError:
        return False


def key_from_environment(variable: str = KEY_VARIABLE) -> Key | None:
    value = os.environ.get(variable)
    return Key(value) if value else None


_quietened = False


def sqlcipher() -> Any:
    """The sqlcipher3 DB-API module, quietened; NotAllowed when it is not installed."""
    global _quietened
    try:
        import sqlcipher3.dbapi2 as module
    except ImportError:
        raise NotAllowed(f"encryption needs the sqlcipher3 package: {INSTALL_HINT}") from None
    if not _quietened:
        # SQLCipher logs a wrong key's failed HMAC check to stderr; the user gets
        # thcli's one-line message instead. The log level is process-wide.
        probe = module.connect(":memory:")
        try:
            probe.execute("PRAGMA cipher_log_level = NONE")
        finally:
            probe.close()
        _quietened = True
    return module


def is_cipher_connection(conn: Any) -> bool:
    return not isinstance(conn, sqlite3.Connection)


def open_keyed(path: Path | str, key: Key, *, timeout: float, uri: bool = False) -> Any:
    """A sqlcipher3 connection to ``path`` (a ``file:`` URI with ``uri``) with ``key`` set (not yet proved right)."""
    module = sqlcipher()
    conn = module.connect(str(path), timeout=timeout, uri=uri)
    try:
        conn.set_key(key.reveal())
    except BaseException:
        conn.close()
        raise
    return conn


#: SQLCipher's raw key: x'...' around 64 hex digits (a 256-bit key), or 96 (the key and its salt).
_RAW_KEY = re.compile(r"x'(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{96})'")


def require_strong(key: Key) -> None:
    """A new passphrase long enough to resist guessing, counted as typed.

    Only a whole raw key (x'...' around 64 or 96 hex digits) is taken as it
    is: ``x''`` is a three-character passphrase, and too short.
    """
    value = key.reveal()
    if _RAW_KEY.fullmatch(value):
        return
    if len(value) < MIN_PASSPHRASE:
        raise BadInput(
            f"the passphrase is too short: use at least {MIN_PASSPHRASE} characters "
            "(a few unrelated words are easy to remember and hard to guess)"
        )


# --- converting and re-keying -------------------------------------------------------------


def _table_counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0] for name in names}


def _side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _temporary_beside(path: Path, what: str) -> Path:
    from thcli.files import create_private_file, work_file

    temp = work_file(path, what)
    for leftover in [temp, *_side_files(temp)]:
        leftover.unlink(missing_ok=True)
    create_private_file(temp)
    return temp


def take_exclusive(conn: Any, path: Path) -> None:
    """Fold the WAL into the file and leave WAL mode, which only the one user of a file may do.

    Afterwards the file is complete on its own (nothing waits in a -wal file)
    and closing this connection deletes nothing by name.
    """
    from thcli.db import is_database_error

    in_use = DatabaseProblem(f"{path}: another thcli (or another program) has the database open: close it "
                             "and try again")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except Exception as error:
        if is_database_error(error) and ("locked" in str(error) or "busy" in str(error)):
            raise in_use from None
        raise _as_problem(error, path) from None
    if str(mode).lower() != "delete":
        raise in_use


def _as_problem(error: BaseException, path: Path) -> BaseException:
    from thcli.db import is_database_error, translate

    if is_database_error(error):
        return translate(error, path)
    return error


def _export(path: Path, source_key: Key | None, target_key: Key, what: str) -> Path:
    """Write ``path``'s database, encrypted with ``target_key``, to a checked new file; return it."""
    from thcli.db import busy_timeout_ms, connect, ensure_thcli_tables

    module = sqlcipher()
    timeout = busy_timeout_ms() / 1000
    if source_key is None:
        source = module.connect(str(path), timeout=timeout)
    else:
        source = open_keyed(path, source_key, timeout=timeout)
    temp = None
    try:
        try:
            source.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except Exception as error:
            raise _as_problem(error, path) from None
        ensure_thcli_tables(source, path, complete=True)
        _refuse_newer(source, path)
        take_exclusive(source, path)
        temp = _temporary_beside(path, what)
        try:
            # The key and the file name are bound parameters, never pasted into SQL.
            source.execute("ATTACH DATABASE ? AS converted KEY ?", [str(temp), target_key.reveal()])
            source.execute("SELECT sqlcipher_export('converted')").fetchall()
            expected = _table_counts(source, "main")
            source.execute("DETACH DATABASE converted")
        except Exception as error:
            raise _as_problem(error, path) from None
        check = connect(temp, target_key)
        try:
            result = [r[0] for r in check.execute("PRAGMA integrity_check")]
            found = _table_counts(check)
            check.execute("PRAGMA journal_mode = DELETE")
        except Exception as error:
            raise _as_problem(error, temp) from None
        finally:
            check.close()
        if result != ["ok"] or found != expected or header(temp) == SQLITE_HEADER:
            raise DatabaseProblem(
                f"{path}: the encrypted copy did not check out, so the database was left as it was"
            )
        # Closed before the file is replaced: Windows will not replace a file that is still open.
        # The lock file (db.exclusive) keeps every other thcli out meanwhile.
        source.close()
        os.replace(temp, path)
        temp = None
        return path
    finally:
        source.close()
        if temp is not None:
            for leftover in [temp, *_side_files(temp)]:
                leftover.unlink(missing_ok=True)


def _refuse_newer(conn: Any, path: Path) -> None:
    """NotAllowed when a newer thcli has changed the database (it is left for that thcli to convert)."""
    from thcli import migrations
    from thcli.db import newer_message

    class _Connection:
        def __init__(self, conn: Any):
            self.conn = conn

    unknown = migrations.unknown_names(_Connection(conn))  # type: ignore[arg-type]
    if unknown:
        raise NotAllowed(newer_message(path, unknown))


def _refuse_damaged(path: Path) -> None:
    from thcli.db import damage_note, damaged_message

    note = damage_note(path)
    if note is not None:
        raise NotAllowed(damaged_message(path, note))


def require_plain(path: Path) -> None:
    """NotFound without a database, NotAllowed when it is already encrypted."""
    from thcli.db import database_exists

    if not database_exists(path):
        raise NotFound(f"there is no database at {path} to encrypt")
    if is_encrypted(path):
        raise NotAllowed(
            f"{path} is already encrypted (or is not a thcli database): change its passphrase "
            "with `thcli db rekey`"
        )


def require_encrypted(path: Path) -> None:
    """NotFound without a database, NotAllowed when it is not encrypted."""
    from thcli.db import database_exists

    if not database_exists(path):
        raise NotFound(f"there is no database at {path}")
    if not is_encrypted(path):
        raise NotAllowed(f"{path} is not encrypted: encrypt it with `thcli db encrypt`")


def encrypt_database(path: Path, key: Key, *, by: str, allow_network_share: bool = False) -> None:
    """Turn a plain thcli database into an encrypted one with ``key`` (audited)."""
    from thcli.db import exclusive, refuse_network_share
    from thcli.files import remove_work_files

    if not allow_network_share:
        refuse_network_share(path)
    require_plain(path)
    require_strong(key)
    with exclusive(path):
        remove_work_files(path)
        require_plain(path)  # again, now that no other thcli can change it
        _refuse_damaged(path)
        _export(path, None, key, "encrypting")
        _audit(path, key, by=by, action="db.encrypt")


def rekey_database(path: Path, old: Key, new: Key, *, by: str, allow_network_share: bool = False) -> None:
    """Change an encrypted database's passphrase from ``old`` to ``new`` (audited)."""
    from thcli.db import exclusive, refuse_network_share
    from thcli.files import remove_work_files

    if not allow_network_share:
        refuse_network_share(path)
    require_encrypted(path)
    require_strong(new)
    if old == new:
        raise BadInput("the new passphrase is the same as the old one")
    with exclusive(path):
        remove_work_files(path)
        require_encrypted(path)
        _refuse_damaged(path)
        _export(path, old, new, "rekeying")
        _audit(path, new, by=by, action="db.rekey")


def _audit(path: Path, key: Key, *, by: str, action: str) -> None:
    from thcli import audit
    from thcli.db import open_db, write

    db = open_db(path, key=key, allow_network_share=True, guard=False)  # the caller holds the lock
    try:
        with write(db):
            audit.record(db, by=by, action=action)
    finally:
        db.close()
