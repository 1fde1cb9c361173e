"""Looking after the database file: checks, backups, restores, migrations.

Backups go through SQLite's backup API into a private temporary file beside
the destination, are checked (integrity, the number of cases), and only then
renamed to their final name: a backup killed half-way leaves no file that
looks like a backup. A backup of an encrypted database is encrypted with the
same key. A restore holds the database's lock file exclusively (no other thcli
has the database open meanwhile), checks the backup, copies it beside the
database and checks the copy, keeps the current database beside it as it was
(its WAL folded in, damaged or not), and moves the checked copy into place in one step, so
a failure leaves the database as it was. A plain backup is not restored over
an encrypted database without a recorded reason (``--decrypt-ok``).

``db check`` marks a database whose integrity check fails as damaged
(db.mark_damaged): thcli then writes nothing to it until a backup is restored.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thcli import audit, case_files, cipher, clock, crypto, migrations
from thcli.chains import verify_ledger
from thcli.db import (
    Database,
    connect,
    ensure_thcli_tables,
    key_of,
    network_share,
    open_db,
    refuse_network_share,
    write,
)
from thcli.dbfile import busy_timeout_ms, clear_damaged, database_exists, exclusive, mark_damaged, translated
from thcli.errors import BadInput, DatabaseDamaged, DatabaseProblem, NotAllowed, ThcliError
from thcli.files import (
    SQLITE_HEADER,
    belongs_to_database,
    create_private_file,
    make_private,
    may_replace,
    os_problem,
    place,
    posix_modes,
    printable,
    remove_work_files,
    sqlite_side_files,
    sync_folder,
    work_file,
    write_atomically,
)

if TYPE_CHECKING:
    from thcli.cipher import Key


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


def _mode_check(name: str, file: Path) -> Check:
    mode = stat.S_IMODE(file.stat().st_mode)
    private = mode & 0o077 == 0
    return Check(name, private, f"{mode:o}" + ("" if private else f" (others can read it: run chmod 600 {file})"))


def check_database(db: Database, path: Path) -> list[Check]:
    """Integrity, foreign keys, the audit and ledger chains, encryption, location and file permissions."""
    results = []
    key = key_of(db)
    with translated(path, mark=path, note="db check"):
        integrity = [r[0] for r in db.conn.execute("PRAGMA integrity_check")]
        if key is not None:
            integrity = [r[0] for r in db.conn.execute("PRAGMA cipher_integrity_check")] or integrity
        results.append(Check("integrity", integrity == ["ok"],
                             "ok" if integrity == ["ok"] else "; ".join(integrity[:5])))
        _note_integrity(path, integrity)
        fk = db.conn.execute("PRAGMA foreign_key_check").fetchall()
        results.append(Check("foreign keys", not fk, "ok" if not fk else f"{len(fk)} rows point at missing records"))
        problems = audit.verify(db)
        results.append(Check("audit log", not problems,
                             "intact" if not problems else "; ".join(problems[:3])))
        problems = verify_ledger(db)
        results.append(Check("ledger", not problems, "intact" if not problems else "; ".join(problems[:3])))
        letters = [r[0] for r in db.conn.execute("SELECT path FROM letters WHERE path IS NOT NULL AND path <> ''")]
        missing_or_changed = case_files.letter_problems(db, path)
    if key is not None:
        version = db.conn.execute("PRAGMA cipher_version").fetchone()
        results.append(Check("encryption", True, f"encrypted (SQLCipher {version[0] if version else ''})".strip()))
        plain = plain_copies(path)
        if plain:
            results.append(Check("plain copies", True, f"{copies_named(plain)}: anyone who has them can read "
                                 "them; delete them once you have an encrypted backup", warning=True))
    else:
        results.append(Check("encryption", True, "not encrypted: anyone who has the file can read it; "
                                                 "encrypt it with `thcli db encrypt`", warning=True))
    where = network_share(path)
    results.append(Check("location", where is None,
                         "on this computer's own disk" if where is None
                         else f"on {where}: SQLite's locking is not safe there; move it to a local disk"))
    if posix_modes():
        for file in [path, *sqlite_side_files(path)]:
            if file.exists():
                results.append(_mode_check(f"permissions of {file.name}", file))
        results += _letter_files_check(path, letters)
    else:
        results.append(_profile_check(path))
    if missing_or_changed:
        results.append(Check("letter files", True, case_files.summary(missing_or_changed) + " (thcli recorded "
                             "each letter's hash when it wrote it)", warning=True))
    return results


def plain_copies(db_path: Path) -> list[Path]:
    """The unencrypted backups and kept databases thcli made beside the database, by name.

    After ``db encrypt`` they still hold the data in plain: a backup made
    before, or the database a restore kept (``NAME-before-restore-...``).
    """
    folder = db_path.parent
    found = set()
    for pattern in (f"{db_path.stem}-before-restore-*.db", "thcli-backup-*.db"):
        for file in folder.glob(pattern):
            try:
                if file.is_file() and cipher.header(file) == SQLITE_HEADER:
                    found.add(file)
            except OSError:
                continue
    return sorted(found)


def copies_named(copies: list[Path], shown: int = 3) -> str:
    """``2 unencrypted copies beside the database (a.db, b.db)``, at most ``shown`` names."""
    names = ", ".join(printable(c.name) for c in copies[:shown]) + (", ..." if len(copies) > shown else "")
    return f"{len(copies)} unencrypted cop{'y' if len(copies) == 1 else 'ies'} beside the database ({names})"


def _profile_check(path: Path) -> Check:
    """Windows: files have no owner-only mode, so what protects them is the folder: the user's own profile."""
    profile = os.environ.get("USERPROFILE", "")
    where = os.path.normcase(os.path.abspath(path))
    home = os.path.normcase(os.path.abspath(profile)) if profile else ""
    if home and where.startswith(home.rstrip("\\/") + os.sep):
        return Check("permissions", True, f"Windows has no owner-only files: the database and its letters are in "
                                          f"your user profile ({profile}), which only you and the administrators "
                                          "can open")
    return Check("permissions", True, f"{path} is outside your user profile, and Windows has no owner-only files: "
                                      "anyone who can open its folder can copy it. Move it into your profile (thcli's "
                                      "default is %LOCALAPPDATA%\\thcli), or check who can open the folder",
                 warning=True)


def _note_integrity(path: Path, integrity: list[str]) -> None:
    """Mark the database damaged when its integrity check fails, and unmark it when it passes again."""
    if integrity == ["ok"]:
        clear_damaged(path)
    else:
        mark_damaged(path, "db check: " + "; ".join(integrity[:3]))


def _letter_files_check(db_path: Path, stored: list[str]) -> list[Check]:
    files = [f for f in (case_files.located(db_path, s) for s in stored) if f.is_file()]
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
    """A connection to a new (or new and empty) 0600 file, encrypted with ``key`` when given."""
    if not dest.exists():
        create_private_file(dest)
    if key is not None:
        return cipher.open_keyed(dest, key, timeout=busy_timeout_ms() / 1000)
    return sqlite3.connect(str(dest))


def _copy(source: Any, dest: Path, key: Key | None) -> None:
    """Copy a live database through SQLite's backup API into a new 0600 file (encrypted with ``key``)."""
    target = _target(dest, key)
    try:
        with translated(dest):
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
    make_private(dest)


def _remove_with_side_files(path: Path) -> None:
    for leftover in (path, *sqlite_side_files(path)):
        leftover.unlink(missing_ok=True)


def _check_copy(dest: Path, key: Key | None, expected_cases: int | None = None, *, read_only: bool = False,
                backup: bool = False) -> None:
    """Open a copy and prove it whole (then leave it one file, without a WAL); DatabaseProblem otherwise.

    With ``backup``, ``dest`` is a backup about to be restored: a problem is said as the backup's, in one
    line (SQLite's own report of a damaged file runs to many).
    """
    damaged = (f"{printable(dest)}: the backup is damaged (SQLite found it so): nothing was changed; "
               "restore another backup" if backup else
               f"{printable(dest)}: the copy did not check out (SQLite found it damaged); it was not kept")
    try:
        conn = connect(dest, key, read_only=read_only)
        try:
            with translated(dest):
                if backup and not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone():
                    raise DatabaseProblem(f"{printable(dest)} is not a complete thcli backup (an empty SQLite file: "
                                          "perhaps a backup cut short): nothing was changed; restore another backup")
                ensure_thcli_tables(conn, dest, complete=True)
                result = conn.execute("PRAGMA integrity_check").fetchone()[0]
                cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
                if not read_only:
                    conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    except DatabaseDamaged:
        raise DatabaseProblem(damaged) from None
    if key is not None and cipher.header(dest) == SQLITE_HEADER:
        raise DatabaseProblem(f"{dest}: the copy of an encrypted database was not encrypted; it was not kept")
    if result != "ok":
        raise DatabaseProblem(damaged)
    if expected_cases is not None and cases != expected_cases:
        raise DatabaseProblem(f"{printable(dest)}: the copy did not check out ({cases} cases, not "
                              f"{expected_cases}); it was not kept")


def backup_name(folder: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"thcli-backup-{stamp}.db"


def is_backup(path: Path, key: Key | None) -> bool:
    """Whether a file is a complete thcli database that no thcli is using (an earlier backup)."""
    if any(path.with_name(path.name + side).exists() for side in ("-lock", "-wal")):
        return False  # a database in use, not a backup
    try:
        conn = connect(path, key if cipher.is_encrypted(path) else None, read_only=True)
    except (ThcliError, OSError, sqlite3.Error):
        return False
    try:
        ensure_thcli_tables(conn, path, complete=True)
        return True
    except (ThcliError, sqlite3.Error):
        return False
    finally:
        conn.close()


def backup(db: Database, dest: Path, *, by: str, force: bool = False) -> Path:
    """Write a checked backup of the database to ``dest`` (0600; encrypted like the database).

    Written to a temporary name beside ``dest`` and renamed only once it
    checks out. An existing file is replaced only with ``force`` and only when
    it is an earlier thcli backup (never the database itself).
    """
    try:
        if dest.is_dir():
            dest = backup_name(dest)
    except OSError as error:  # a name too long for the disk, say
        raise os_problem(error, dest, option="DEST") from None
    key = key_of(db)
    replacing = may_replace(dest, what="thcli backup", is_earlier=lambda p: is_backup(p, key), force=force,
                            database=getattr(db, "path", None), option="DEST")
    if db.read_only:
        raise NotAllowed(db.read_only)
    cases = db.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    try:
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:80]}.", suffix=".part")
    except OSError as error:
        raise os_problem(error, dest, option="DEST") from None
    os.close(fd)
    temp = Path(name)
    try:
        make_private(temp)
        _copy(db.conn, temp, key)
        _check_copy(temp, key, cases)
        with write(db):
            audit.record(db, by=by, action="db.backup", detail=dest.name)
            place(temp, dest, replace=replacing)
    except FileExistsError:
        raise NotAllowed(f"{printable(dest)} appeared while the backup was written: nothing was replaced; "
                         "choose another name") from None
    except OSError as error:
        raise os_problem(error, dest, option="DEST") from None
    finally:
        _remove_with_side_files(temp)
    sync_folder(dest.parent)
    return dest


def _kept_name(db_path: Path) -> Path:
    """A new name beside the database for the one a restore replaces; numbered after the first in a second."""
    stem = (f"{db_path.stem}-before-restore-{clock.today().isoformat()}-"
            f"{dt.datetime.now().strftime('%H%M%S')}")
    kept, number = db_path.with_name(f"{stem}.db"), 1
    while os.path.lexists(kept) or os.path.lexists(kept.with_name(kept.name + "-wal")):
        number += 1
        kept = db_path.with_name(f"{stem}-{number}.db")
    return kept


def _copy_file(source: Path, dest: Path) -> None:
    """A byte-for-byte private copy of ``source`` at ``dest`` (never over a file)."""
    with open(source, "rb") as handle:
        write_atomically(dest, lambda out: shutil.copyfileobj(handle, out), replace=False)


def _keep_current(db_path: Path, kept: Path, key: Key | None) -> None:
    """Keep the current database at ``kept`` exactly as it is (damaged or not), its WAL folded in if possible."""
    try:
        current = connect(db_path, key if cipher.is_encrypted(db_path) else None)
    except (ThcliError, OSError):
        current = None
    if current is not None:
        try:
            crypto.take_exclusive(current, db_path)  # the WAL folded into the file, which now stands alone
        except ThcliError:
            pass
        finally:
            current.close()
    _copy_file(db_path, kept)
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        _copy_file(wal, kept.with_name(kept.name + "-wal"))  # SQLite reads it with the kept file


@dataclass
class Restored:
    """What ``db restore`` did."""

    kept: Path | None
    #: letter files the restored database recorded that are missing or changed
    letter_problems: list = field(default_factory=list)


def restore(db_path: Path, source: Path, *, by: str, key: Key | None = None, allow_network_share: bool = False,
            decrypt_ok: str | None = None) -> Restored:
    """Replace the database with a backup; the current one is kept beside it first.

    ``key`` opens whichever of the two files is encrypted. A plain backup over
    an encrypted database needs ``decrypt_ok`` (a reason, recorded in the
    audit). Returns where the previous database was kept and the letter files
    the restored database cannot find as it wrote them.
    """
    if not allow_network_share:
        refuse_network_share(db_path)
    try:
        found = source.is_file()
    except OSError as error:  # a name too long for the disk, say
        raise os_problem(error, source, option="SRC", doing="read") from None
    if not found:
        raise NotAllowed(f"there is no backup at {printable(source)}")
    if belongs_to_database(source, db_path):
        raise NotAllowed(f"{printable(source)} is the database itself, not a backup of it")
    source_key = key if cipher.is_encrypted(source) else None
    was_encrypted = database_exists(db_path) and cipher.is_encrypted(db_path)
    if decrypt_ok and not (was_encrypted and source_key is None):
        # Accepted and ignored, it would be a reason recorded for nothing, and a sign of a mistaken restore.
        why = (f"{printable(source)} is encrypted" if was_encrypted else f"{printable(db_path)} is not encrypted")
        raise BadInput(f"{why}, so nothing is decrypted: leave it out (it is only for restoring a backup that is "
                       "not encrypted over an encrypted database)", "--decrypt-ok")
    if was_encrypted and source_key is None and not decrypt_ok:
        raise NotAllowed(
            f"{printable(source)} is not encrypted, but {printable(db_path)} is: restoring it would leave the "
            "scheme's data unencrypted. Restore an encrypted backup, or add --decrypt-ok REASON (recorded in the "
            "audit log) and then run `thcli db encrypt`")
    _check_copy(source, source_key, read_only=True, backup=True)
    src = connect(source, source_key, read_only=True)
    try:
        with translated(source):
            crypto.refuse_newer(src, source)  # a newer thcli's backup: never swapped in, then refused
    finally:
        src.close()
    with exclusive(db_path):
        remove_work_files(db_path)
        incoming = work_file(db_path, "restoring")
        _remove_with_side_files(incoming)
        kept = None
        try:
            src = connect(source, source_key, read_only=True)
            try:
                _copy(src, incoming, source_key)
            finally:
                src.close()
            _check_copy(incoming, source_key)
            if database_exists(db_path):
                kept = _kept_name(db_path)
                _keep_current(db_path, kept, key)
            for side in sqlite_side_files(db_path):  # the old file's: never the new one's
                side.unlink(missing_ok=True)
            os.replace(incoming, db_path)
            sync_folder(db_path.parent)
        except OSError as error:
            raise os_problem(error, db_path, doing="restore") from None
        finally:
            _remove_with_side_files(incoming)
        clear_damaged(db_path)
        db = open_db(db_path, key=source_key, allow_network_share=True, guard=False)  # the lock is ours
        try:
            detail = source.name[:200] + (f"; restored unencrypted over an encrypted database: {decrypt_ok}"
                                          if was_encrypted and source_key is None else "")
            with write(db):
                audit.record(db, by=by, action="db.restore", detail=detail)
            problems = case_files.letter_problems(db, db_path)
        finally:
            db.close()
    return Restored(kept, problems)


def migrate(db: Database) -> list[str]:
    """Names of the migrations applied by open_db so far (all, in order)."""
    return migrations.applied_names(db)
