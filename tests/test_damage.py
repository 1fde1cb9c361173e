"""Files that are not whole, a newer thcli's database, and a damaged one (issue 12, items 3, 6 and 7)."""

from __future__ import annotations

import sqlite3

import pytest
from freezegun import freeze_time

from tests.conftest import referral_args
from thcli import maintenance
from thcli.db import damage_marker, open_db, write
from thcli.errors import DatabaseProblem, NotAllowed


def _cases(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    finally:
        conn.close()


def _audit_rows(path) -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    finally:
        conn.close()


# --- item 3: a half-written file is never made into a database --------------------------------------------


def test_an_empty_sqlite_file_is_refused_and_never_made_into_a_database(cli, tmp_path):
    half = tmp_path / "half-backup.db"
    conn = sqlite3.connect(str(half))  # what a backup killed half-way leaves once SQLite rolls it back
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.commit()
    conn.close()
    before = half.read_bytes()
    for args in (["referral", "list", "--format", "json"], ["referral", "add", *referral_args()], ["db", "check"]):
        result = cli("--db", str(half), *args)
        assert result.exit_code == 1, args
        assert result.stderr == (
            f"Error: {half} is not a complete thcli database (an empty SQLite file: perhaps a copy or backup that "
            "was cut short). It was left as it is: restore a backup with `thcli db restore BACKUP`, or point --db at "
            "your database.\n")
    assert half.read_bytes() == before
    assert cli("--db", str(half), "demo", "--cases", "3").exit_code == 1  # the demo does not take it either
    assert half.read_bytes() == before


def test_an_empty_file_is_not_a_database_and_stays_empty(cli, tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = cli("--db", str(empty), "referral", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: no thcli database at {empty}. Create one with `thcli init`")
    assert empty.read_bytes() == b""


@freeze_time("2026-11-20 10:00:00")
def test_a_backup_appears_under_its_name_only_once_it_has_checked_out(db, tmp_path, monkeypatch):
    dest = tmp_path / "usb" / "backup.db"
    dest.parent.mkdir()
    seen = []
    real_check = maintenance._check_copy

    def check(path, *args, **kwargs):
        seen.append((path.name, dest.exists()))
        real_check(path, *args, **kwargs)
        raise KeyboardInterrupt  # killed right after the check

    monkeypatch.setattr(maintenance, "_check_copy", check)
    with pytest.raises(KeyboardInterrupt):
        maintenance.backup(db, dest, by="tester")
    assert seen and seen[0][0].startswith(".backup.db.") and seen[0][0].endswith(".part")
    assert seen[0][1] is False  # the final name was not there while the copy was checked
    assert list(dest.parent.iterdir()) == []  # and nothing is left behind
    monkeypatch.setattr(maintenance, "_check_copy", real_check)
    assert maintenance.backup(db, dest, by="tester") == dest
    assert sorted(p.name for p in dest.parent.iterdir()) == ["backup.db"]


# --- item 6: a newer thcli's database ----------------------------------------------------------------------


def test_a_database_from_a_newer_thcli_is_read_only_and_says_to_upgrade(cli, db, db_path):
    with write(db):
        db.conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES "
                        "('thcli', 'm099_add_a_future_table', '2030-01-01 00:00:00')")
    cases, rows = _cases(db_path), _audit_rows(db_path)
    message = (f"Error: {db_path} was changed by a newer thcli (it has 1 change this version does not know: "
               "m099_add_a_future_table), so it is open read-only and nothing was changed: upgrade thcli "
               "(pip install --upgrade thcli)\n")
    for args in (["referral", "add", *referral_args()], ["db", "migrate"], ["referral", "list"],
                 ["codes", "add", "route", "walk_in", "Walk-in"]):
        result = cli(*args)
        assert (result.exit_code, result.stderr) == (1, message), args
    assert (_cases(db_path), _audit_rows(db_path)) == (cases, rows)
    assert cli("settings", "show").exit_code == 0  # reading what needs no audit still works
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        newer = open_db(db_path)
        try:
            newer.conn.execute("DELETE FROM settings")
        finally:
            newer.close()


def test_a_backup_from_a_newer_thcli_is_refused_before_anything_is_replaced(cli, db, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    backup = tmp_path / "newer.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    conn = sqlite3.connect(str(backup))
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES "
                 "('thcli', 'm099_add_a_future_table', '2030-01-01 00:00:00')")
    conn.commit()
    conn.close()
    db.close()
    before = db_path.read_bytes()
    result = cli("db", "restore", str(backup), "--yes")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: {backup} was changed by a newer thcli (it has 1 change this version does not know: "
           "m099_add_a_future_table), so it is open read-only and nothing was changed: upgrade thcli "
           "(pip install --upgrade thcli)\n")
    assert db_path.read_bytes() == before
    assert list(db_path.parent.glob("thcli-before-restore-*")) == []


def test_an_empty_or_damaged_backup_is_refused_in_one_line_naming_it(cli, db, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    damaged = tmp_path / "damaged.db"
    assert cli("db", "backup", str(damaged)).exit_code == 0
    _damage_an_index(damaged)  # opens and reads, but SQLite's integrity check reports many lines
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(DatabaseProblem, match="is not a complete thcli backup"):
        maintenance.restore(db_path, empty, by="tester")
    for backup, message in (
            (empty, f"{empty} is not a complete thcli backup (an empty SQLite file: perhaps a backup cut short): "
                    "nothing was changed; restore another backup"),
            (damaged, f"{damaged}: the backup is damaged (SQLite found it so): nothing was changed; restore "
                      "another backup")):
        result = cli("db", "restore", str(backup), "--yes")
        assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert db_path.read_bytes() == before
    assert list(db_path.parent.glob("thcli-before-restore-*")) == []
    assert cli("db", "check").exit_code == 0  # the database was not marked damaged by the backup's damage


# --- item 7: a damaged database stops taking writes ---------------------------------------------------------


def _damage_an_index(path) -> None:
    """An index that no longer matches its table: the file opens and reads, but fails its integrity check."""
    conn = sqlite3.connect(str(path))
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX audit_ref ON audit (by)' WHERE name = 'audit_ref'")
    conn.execute(f"PRAGMA schema_version = {version + 1}")
    conn.commit()
    conn.close()


def test_once_db_check_finds_damage_nothing_more_is_written_until_a_backup_is_restored(cli, db, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    backup = tmp_path / "good.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    db.close()
    _damage_an_index(db_path)
    check = cli("db", "check")
    assert check.exit_code == 1
    assert "FAIL  integrity:" in check.stdout
    assert damage_marker(db_path).exists()
    cases = _cases(db_path)
    added = cli("referral", "add", *referral_args(**{"--name": "Sam Example"}))
    assert added.exit_code == 1
    assert added.stderr.startswith(f"Error: {db_path} is damaged (db check: ")
    assert added.stderr.endswith("so thcli writes nothing to it: restore the latest backup with "
                                 "`thcli db restore BACKUP`\n")
    assert _cases(db_path) == cases
    listed = cli("referral", "list", "--format", "json")  # a view that would be audited is refused too
    assert listed.exit_code == 1 and "restore the latest backup" in listed.stderr
    restored = cli("db", "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.stderr
    assert not damage_marker(db_path).exists()
    kept = next(db_path.parent.glob("thcli-before-restore-*.db"))  # kept as it was: still damaged
    conn = sqlite3.connect(str(kept))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == cases
    finally:
        conn.close()
    assert cli("referral", "add", *referral_args(**{"--name": "Sam Example"})).exit_code == 0
    assert cli("db", "check").exit_code == 0


def test_sqlite_reporting_damage_during_a_write_marks_the_database(db, db_path):
    class Broken(sqlite3.DatabaseError):
        pass

    with pytest.raises(sqlite3.DatabaseError, match="malformed"):  # the command line says it in one line
        with write(db):
            raise Broken("database disk image is malformed")
    assert "SQLite reported: database disk image is malformed" in damage_marker(db_path).read_text()
    again = open_db(db_path)
    try:
        with pytest.raises(NotAllowed, match="restore the latest backup"):
            with write(again):
                pass
    finally:
        again.close()


def test_the_mark_goes_when_db_check_passes_again(cli, db, db_path):
    damage_marker(db_path).write_text("db check: found by an earlier run")
    assert cli("referral", "add", *referral_args()).exit_code == 1
    assert cli("db", "check").exit_code == 0
    assert not damage_marker(db_path).exists()
    assert cli("referral", "add", *referral_args()).exit_code == 0


def test_a_damaged_file_is_marked_once_in_plain_words_not_with_the_last_message_inside(cli, db, db_path):
    for name in ("Alex Example", "Sam Example", "Jo Example", "Kim Example", "Lee Example", "Max Example"):
        assert cli("referral", "add", *referral_args(**{"--name": name})).exit_code == 0
    db.close()
    damaged = bytearray(db_path.read_bytes())
    for page in range(8192, len(damaged), 4096):
        for offset in range(100, 140):
            damaged[page + offset] ^= 0x5A
    db_path.write_bytes(bytes(damaged))
    result = cli("db", "check")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: {db_path}: the database file is damaged. Restore the latest backup with `thcli db restore "
           "BACKUP`.\n")
    note = damage_marker(db_path).read_text(encoding="utf-8")
    assert "Restore" not in note and note.strip()
    again = cli("referral", "add", *referral_args(**{"--name": "Ray Example"}))
    assert again.exit_code == 1
    assert again.stderr.count("\n") == 1 and again.stderr.count("the database file is damaged") <= 1, again.stderr
    assert again.stderr.count("Restore the latest backup") + again.stderr.count("restore the latest backup") == 1

