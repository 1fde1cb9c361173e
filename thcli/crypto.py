"""Encryption at rest: turning a plain database into an encrypted one, and changing its key.

The keys, and opening an encrypted file, are cipher.py's (below the database
layer); this module converts whole databases. Converting (``db encrypt``) and
changing the key (``db rekey``) hold the database's lock file exclusively for
the whole run (no other thcli has the file open meanwhile: one started then
waits, or says "busy, try again"), write a new file with ``sqlcipher_export``,
check it (integrity, every table's row count, the header), and only then move
it over the old one, so a failure at any point leaves the database as it was.
A killed run's work file is removed by the next one.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from thcli import audit, migrations
from thcli.cipher import (
    Key,
    header,
    is_encrypted,
    open_keyed,
    require_strong,
    sqlcipher,
)
from thcli.db import connect, ensure_thcli_tables, newer_message, open_db, refuse_network_share, write
from thcli.dbfile import (
    busy_timeout_ms,
    damage_note,
    damaged_message,
    database_exists,
    exclusive,
    is_busy,
    is_database_error,
    translate,
    translated,
)
from thcli.errors import BadInput, DatabaseProblem, NotAllowed, NotFound
from thcli.files import SQLITE_HEADER, create_private_file, remove_work_files, sqlite_side_files, work_file

# --- converting and re-keying -------------------------------------------------------------


def _table_counts(conn: Any, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: conn.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0] for name in names}


def _temporary_beside(path: Path, what: str) -> Path:
    temp = work_file(path, what)
    for leftover in [temp, *sqlite_side_files(temp)]:
        leftover.unlink(missing_ok=True)
    create_private_file(temp)
    return temp


def take_exclusive(conn: Any, path: Path) -> None:
    """Fold the WAL into the file and leave WAL mode, which only the one user of a file may do.

    Afterwards the file is complete on its own (nothing waits in a -wal file)
    and closing this connection deletes nothing by name.
    """

    in_use = DatabaseProblem(f"{path}: another thcli (or another program) has the database open: close it "
                             "and try again")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except Exception as error:
        if not is_database_error(error):
            raise
        raise (in_use if is_busy(error) else translate(error, path)) from None
    if str(mode).lower() != "delete":
        raise in_use


def _export(path: Path, source_key: Key | None, target_key: Key, what: str) -> Path:
    """Write ``path``'s database, encrypted with ``target_key``, to a checked new file; return it."""

    module = sqlcipher()
    timeout = busy_timeout_ms() / 1000
    if source_key is None:
        source = module.connect(str(path), timeout=timeout)
    else:
        source = open_keyed(path, source_key, timeout=timeout)
    temp = None
    try:
        with translated(path):
            source.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        ensure_thcli_tables(source, path, complete=True)
        refuse_newer(source, path)
        take_exclusive(source, path)
        temp = _temporary_beside(path, what)
        with translated(path):
            # The key and the file name are bound parameters, never pasted into SQL.
            source.execute("ATTACH DATABASE ? AS converted KEY ?", [str(temp), target_key.reveal()])
            source.execute("SELECT sqlcipher_export('converted')").fetchall()
            expected = _table_counts(source, "main")
            source.execute("DETACH DATABASE converted")
        check = connect(temp, target_key)
        try:
            with translated(temp):
                result = [r[0] for r in check.execute("PRAGMA integrity_check")]
                found = _table_counts(check)
                check.execute("PRAGMA journal_mode = DELETE")
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
            for leftover in [temp, *sqlite_side_files(temp)]:
                leftover.unlink(missing_ok=True)


def refuse_newer(conn: Any, path: Path) -> None:
    """NotAllowed when a newer thcli has changed the database on ``conn`` (it is left for that thcli to convert
    or restore)."""
    unknown = migrations.unknown_names(SimpleNamespace(conn=conn))
    if unknown:
        raise NotAllowed(newer_message(path, unknown))


def _refuse_damaged(path: Path) -> None:
    note = damage_note(path)
    if note is not None:
        raise NotAllowed(damaged_message(path, note))


def require_plain(path: Path) -> None:
    """NotFound without a database, NotAllowed when it is already encrypted."""

    if not database_exists(path):
        raise NotFound(f"there is no database at {path} to encrypt")
    if is_encrypted(path):
        raise NotAllowed(
            f"{path} is already encrypted (or is not a thcli database): change its passphrase "
            "with `thcli db rekey`"
        )


def require_encrypted(path: Path) -> None:
    """NotFound without a database, NotAllowed when it is not encrypted."""

    if not database_exists(path):
        raise NotFound(f"there is no database at {path}")
    if not is_encrypted(path):
        raise NotAllowed(f"{path} is not encrypted: encrypt it with `thcli db encrypt`")


def encrypt_database(path: Path, key: Key, *, by: str, allow_network_share: bool = False) -> None:
    """Turn a plain thcli database into an encrypted one with ``key`` (audited)."""

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
    db = open_db(path, key=key, allow_network_share=True, guard=False)  # the caller holds the lock
    try:
        with write(db):
            audit.record(db, by=by, action=action)
    finally:
        db.close()
