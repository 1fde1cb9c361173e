"""The database file: connections, network shares, `db check`, backups, restores, private files."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.conftest import referral_args
from thcli import db as thcli_db
from thcli.db import mount_type, network_share, open_db, translate, windows_network_share
from thcli.errors import BadInput, DatabaseProblem, NotAllowed


@pytest.fixture
def scheme(cli):
    result = cli("init", "--scheme", "Test Sanctuary Scheme", "--code", "test", "--prefix", "TH",
                 "--district", "northmoor:Northmoor")
    assert result.exit_code == 0, result.stderr
    return result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- connections ---------------------------------------------------------------------------------


def test_every_connection_gets_thcli_protections(db):
    pragma = {name: db.conn.execute(f"PRAGMA {name}").fetchone()[0]
              for name in ("journal_mode", "synchronous", "foreign_keys", "secure_delete", "trusted_schema",
                           "busy_timeout")}
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1,
                      "trusted_schema": 0, "busy_timeout": 10_000}


@pytest.mark.parametrize("value,expected", [("250", 250), ("", 10_000), ("ten", 10_000), ("-5", 10_000)])
def test_busy_timeout_can_be_shortened_by_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", value)
    assert thcli_db.busy_timeout_ms() == expected


@pytest.mark.parametrize("text,expected", [
    ("database is locked", "the database is busy: another thcli is writing to it. Try again in a moment."),
    ("file is not a database", "wrong key or not a thcli database."),
    ("database disk image is malformed", "the database file is damaged. Restore the latest backup with "
                                         "`thcli db restore BACKUP`."),
    ("attempt to write a readonly database", "the database cannot be written (read-only file or folder)."),
    ("unable to open database file", "the database cannot be opened (check the path and its folder)."),
    ("no such savepoint: x", "database error: no such savepoint: x"),
])
def test_sqlite_errors_become_messages_a_coordinator_can_act_on(text, expected):
    assert translate(sqlite3.OperationalError(text), "thcli.db").message == f"thcli.db: {expected}"


def test_a_file_that_is_not_a_thcli_database_is_refused_untouched(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(DatabaseProblem, match="wrong key or not a thcli database"):
        open_db(other)
    assert other.read_bytes()[:18] == before[:18]
    assert "cases" not in {r[0] for r in sqlite3.connect(str(other)).execute("SELECT name FROM sqlite_master")}


# --- network shares ---------------------------------------------------------------------------------

MOUNTS = """\
/dev/vda1 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
fileserver:/export/housing /mnt/housing nfs4 rw,vers=4.2 0 0
//council/shared /mnt/my\\040share cifs rw 0 0
coordinator@laptop:/home /mnt/ssh fuse.sshfs rw 0 0
/dev/vdb1 /mnt/housing-local ext4 rw 0 0
"""


@pytest.mark.parametrize("path,expected", [
    ("/home/coordinator/thcli.db", "ext4"),
    ("/mnt/housing/thcli.db", "nfs4"),
    ("/mnt/housing", "nfs4"),
    ("/mnt/housing-local/thcli.db", "ext4"),  # a longer name is not inside /mnt/housing
    ("/mnt/my share/data/thcli.db", "cifs"),  # /proc/mounts writes the space as \040
    ("/mnt/ssh/thcli.db", "fuse.sshfs"),
])
def test_the_mount_holding_a_path_is_found_by_its_longest_mount_point(path, expected):
    assert mount_type(path, MOUNTS) == expected


@pytest.mark.parametrize("path,drive_type,expected", [
    ("\\\\server\\share\\thcli.db", 3, "a network path (\\\\server\\share)"),
    ("//server/share/thcli.db", 3, "a network path (\\\\server\\share)"),
    ("\\\\?\\UNC\\server\\share\\thcli.db", 3, "a network path (\\\\server\\share)"),
    ("Z:\\Housing\\thcli.db", 4, "a mapped network drive (Z:)"),
    ("z:\\thcli.db", 4, "a mapped network drive (Z:)"),
    ("\\\\?\\Z:\\thcli.db", 4, "a mapped network drive (Z:)"),
    ("C:\\Users\\coordinator\\thcli.db", 3, None),
    ("\\\\?\\C:\\Users\\coordinator\\thcli.db", 3, None),
])
def test_windows_network_paths_and_mapped_drives_are_recognised(path, drive_type, expected):
    asked = []

    def get_drive_type(root):
        asked.append(root)
        return drive_type

    assert windows_network_share(path, get_drive_type) == expected
    if path[1:2] == ":" or path.startswith("\\\\?\\") and path[5:6] == ":" and "UNC" not in path:
        assert asked == [asked[0]] and asked[0].endswith(":\\")


@pytest.fixture
def on_nfs(tmp_path, monkeypatch):
    """Pretend the test's folder is an NFS mount."""
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda1 / ext4 rw 0 0\nfiler:/vol {os.path.realpath(tmp_path)} nfs4 rw 0 0\n")
    monkeypatch.setattr(thcli_db, "MOUNTS_FILE", str(mounts))
    return tmp_path


def test_a_database_on_a_network_share_is_refused_unless_allowed(cli, scheme, db_path, on_nfs):
    assert network_share(db_path) == "a network share (nfs4)"
    result = cli("referral", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {db_path} is on a network share (nfs4). SQLite's locking is not safe on a network file system, "
        "so two computers could damage the database: keep it on this computer's own disk (and back it up to "
        "the share with `thcli db backup`), or add --allow-network-share if only one computer ever uses it.\n")
    allowed = cli("--allow-network-share", "referral", "list", "--format", "json")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout.strip() == "[]"
    check = cli("--allow-network-share", "db", "check")
    assert check.exit_code == 1
    assert ("FAIL  location: on a network share (nfs4): SQLite's locking is not safe there; move it to a local disk"
            in check.stdout.splitlines())


def test_init_on_a_network_share_is_refused_and_leaves_no_file(cli, db_path, on_nfs):
    result = cli("init")
    assert result.exit_code == 1
    assert "is on a network share (nfs4)" in result.stderr
    assert not db_path.exists()


def test_a_local_path_is_not_a_network_share(tmp_path):
    assert network_share(tmp_path / "thcli.db") is None


# --- db check ----------------------------------------------------------------------------------------


def test_db_check_reports_every_check(cli, scheme, db_path):
    result = cli("db", "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ok    integrity: ok",
        "ok    foreign keys: ok",
        "ok    audit log: intact",
        "ok    ledger: intact",
        "warn  encryption: not encrypted: anyone who has the file can read it; encrypt it with `thcli db encrypt`",
        "ok    location: on this computer's own disk",
        "ok    permissions of thcli.db: 600",
        "ok    permissions of thcli.db-wal: 600",
        "ok    permissions of thcli.db-shm: 600",
    ]
    rows = cli.json("db", "check")
    assert rows[0] == {"check": "integrity", "state": "ok", "ok": True, "detail": "ok"}


def test_db_check_fails_a_file_others_can_read(cli, scheme, db_path):
    os.chmod(db_path, 0o644)
    result = cli("db", "check")
    assert result.exit_code == 1
    assert f"FAIL  permissions of thcli.db: 644 (others can read it: run chmod 600 {db_path})" in result.stdout
    # SQLite gives the -wal and -shm files the database's own mode: they fail too.
    assert result.stderr == ("Error: the database failed: permissions of thcli.db, permissions of thcli.db-wal, "
                             "permissions of thcli.db-shm (see the FAIL lines)\n")


@pytest.mark.parametrize("table,trigger,change,message", [
    ("audit", "audit_no_update", "UPDATE audit SET by = 'someone else' WHERE id = 1",
     "FAIL  audit log: audit row 1: its contents were changed"),
    ("ledger", "ledger_no_delete", "DELETE FROM ledger WHERE id = 1",
     "FAIL  ledger: ledger entry 2: the entry before it was removed or changed"),
])
def test_db_check_finds_a_row_changed_behind_thclis_back(cli, scheme, db_path, table, trigger, change, message):
    for name in ("One", "Two"):
        assert cli("budget", "fund", "add", f"Example {name}", "--year", "2026/27", "--source", "opcc",
                   "--amount", "1000").exit_code == 0
    conn = sqlite3.connect(str(db_path))
    conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute(change)
    conn.commit()
    conn.close()
    result = cli("db", "check")
    assert result.exit_code == 1
    assert message in result.stdout.splitlines()
    assert result.stderr.endswith("Restore the latest backup with `thcli db restore BACKUP`\n")


def test_db_check_fails_letter_files_others_can_read(cli, scheme, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    letter = tmp_path / "letters" / "TH-2026-0001-acknowledgement-2026-11-20.docx"
    letter.parent.mkdir()
    letter.write_bytes(b"PK")
    os.chmod(letter, 0o644)
    conn = sqlite3.connect(str(db_path))
    conn.execute("INSERT INTO letters (case_id, kind, recipient, path, sha256, made_at, made_by) "
                 "VALUES (1, 'acknowledgement', 'referrer', ?, 'x', '2026-11-20T10:00:00Z', 'test')", [str(letter)])
    conn.commit()
    conn.close()
    result = cli("db", "check")
    assert result.exit_code == 1
    assert (f"FAIL  permissions of letters: 1 of 1 letter files can be read by others (run chmod 600 on them): "
            f"{letter}") in result.stdout.splitlines()
    os.chmod(letter, 0o600)
    assert "ok    permissions of letters: 1 letter files, all 600" in cli("db", "check").stdout.splitlines()


# --- backups and restores -----------------------------------------------------------------------------


def refs(cli) -> list[str]:
    return [r["ref"] for r in cli.json("referral", "list")]


@freeze_time("2026-11-20 10:00:00")
def test_a_backup_is_a_checked_private_file_and_a_restore_brings_it_back(cli, scheme, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    folder = tmp_path / "usb"
    folder.mkdir()
    result = cli("db", "backup", str(folder))
    assert result.exit_code == 0, result.stderr
    backup = folder / "thcli-backup-20261120-100000.db"
    assert result.stdout == f"Backed up to {backup} (checked).\n"
    assert mode(backup) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [backup.name]  # one file: no -wal beside it
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"

    again = cli("db", "backup", str(backup))
    assert again.exit_code == 1
    # Issue 12: an earlier backup is replaced with --force (and only a backup): the message says so.
    assert again.stderr == (f"Error: {backup} already exists: choose another name, or add --force to replace it "
                            "(only an earlier thcli backup is replaced)\n")

    assert cli("referral", "add", *referral_args(**{"--name": "Sam Example"})).exit_code == 0
    assert refs(cli) == ["TH-2026-0002", "TH-2026-0001"]
    refused = cli("db", "restore", str(backup))
    assert refused.exit_code == 2
    assert refused.stderr == "Error: restoring replaces the database: add --yes to confirm\n"

    untouched = backup.read_bytes()
    os.chmod(backup, 0o400)  # a backup on a write-protected stick: read, never written
    restored = cli("db", "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.stderr
    assert backup.read_bytes() == untouched
    assert sorted(p.name for p in folder.iterdir()) == [backup.name]
    kept = db_path.with_name("thcli-before-restore-2026-11-20-100000.db")
    assert restored.stdout == (f"Restored {db_path} from {backup}. The previous database is kept as {kept}.\n")
    assert refs(cli) == ["TH-2026-0001"]
    assert mode(db_path) == 0o600 and mode(kept) == 0o600
    db = open_db(kept)
    assert db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 2
    db.close()
    actions = [a["action"] for a in cli.json("audit")]
    assert actions[:2] == ["referral.list", "db.restore"]  # lists are audited (issue 12)
    assert cli("db", "check").exit_code == 0


@freeze_time("2026-11-20 10:00:00")
def test_two_restores_in_the_same_second_keep_both_previous_databases(cli, scheme, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    backup = tmp_path / "usb.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    first = cli("db", "restore", str(backup), "--yes")
    second = cli("db", "restore", str(backup), "--yes")
    assert (first.exit_code, second.exit_code) == (0, 0), second.stderr
    kept = db_path.with_name("thcli-before-restore-2026-11-20-100000.db")
    assert second.stdout == (f"Restored {db_path} from {backup}. The previous database is kept as "
                             f"{kept.with_name('thcli-before-restore-2026-11-20-100000-2.db')}.\n")
    assert kept.exists()


def test_a_backup_or_restore_path_that_cannot_be_used_is_a_bad_command_line_naming_it(cli, scheme, db, tmp_path):
    from thcli import maintenance

    long_name = tmp_path / "bk" / ("b" * 300 + ".db")
    long_name.parent.mkdir()
    with pytest.raises(BadInput, match="^DEST: .* the name is too long for this disk"):
        maintenance.backup(db, long_name, by="tester")
    too_long = cli("db", "backup", str(long_name))
    assert too_long.exit_code == 2
    assert too_long.stderr.startswith(f"Error: DEST: {tmp_path}")  # the name shortened to fit one line
    assert too_long.stderr.endswith(".db: the name is too long for this disk: choose a shorter name or folder\n")
    assert too_long.stderr.count("\n") == 1
    nowhere = tmp_path / "no-such-folder" / "backup.db"
    missing = cli("db", "backup", str(nowhere))
    assert missing.exit_code == 2
    assert missing.stderr == (f"Error: DEST: {nowhere}: the folder does not exist. Create it first or choose "
                              "another\n")
    restore = cli("db", "restore", str(long_name), "--yes")
    assert restore.exit_code == 2
    assert restore.stderr.startswith(f"Error: SRC: {tmp_path}")  # the name shortened to fit one line
    assert restore.stderr.endswith(".db: the name is too long for this disk: choose a shorter name or folder\n")
    assert restore.stderr.count("\n") == 1
    assert list((tmp_path / "bk").iterdir()) == []


def test_decrypt_ok_is_refused_when_the_database_is_not_encrypted(cli, scheme, db_path, tmp_path):
    from thcli import maintenance

    assert cli("referral", "add", *referral_args()).exit_code == 0
    backup = tmp_path / "backup.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    before = db_path.read_bytes()
    with pytest.raises(BadInput, match="^--decrypt-ok: "):
        maintenance.restore(db_path, backup, by="tester", decrypt_ok="no reason")
    result = cli("db", "restore", str(backup), "--yes", "--decrypt-ok", "no reason")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --decrypt-ok: {db_path} is not encrypted, so nothing is decrypted: leave it out (it is only "
           "for restoring a backup that is not encrypted over an encrypted database)\n")
    assert db_path.read_bytes() == before
    assert list(db_path.parent.glob("thcli-before-restore-*")) == []


def test_a_damaged_backup_is_refused_and_the_database_left_as_it_was(cli, scheme, db_path, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    before = refs(cli)
    result = cli("db", "restore", str(bad), "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert refs(cli) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".thcli")) == []
    missing = cli("db", "restore", str(tmp_path / "nowhere.db"), "--yes")
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: there is no backup at {tmp_path / 'nowhere.db'}\n"


def test_backup_refused_when_the_destination_exists_leaves_it_alone(db, tmp_path):
    from thcli import maintenance

    dest = tmp_path / "keep.db"
    dest.write_bytes(b"precious")
    with pytest.raises(NotAllowed):
        maintenance.backup(db, dest, by="tester")
    assert dest.read_bytes() == b"precious"


# --- every file thcli writes is private ---------------------------------------------------------------------


def test_every_file_thcli_writes_is_private_under_the_default_umask(cli, scheme, db_path, tmp_path, monkeypatch):
    assert os.umask(0o022) == 0o022  # the conftest's default
    assert cli("referral", "add", *referral_args(**{"--address": "1 Example Street"})).exit_code == 0
    (tmp_path / "backups").mkdir(mode=0o700)
    assert cli("db", "backup", str(tmp_path / "backups")).exit_code == 0
    backup = next((tmp_path / "backups").iterdir())
    assert cli("db", "restore", str(backup), "--yes").exit_code == 0
    assert cli("person", "export", "TH-2026-0001", "--out", str(tmp_path / "sar")).exit_code == 0
    assert cli("export", "cases", "--year", "2026/27", "--out", str(tmp_path / "county.csv")).exit_code == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name not in ("config", "home")]
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert sorted(re.sub(r"-[0-9][0-9-]*", "", n) for n in names) == [
        "backups/thcli-backup.db", "county.csv", "sar/subject-access-TH.docx", "sar/subject-access-TH.json",
        "thcli-before-restore.db", "thcli.db", "thcli.db-lock"]
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in written if mode(p) != 0o600} == {}
    folders = [tmp_path / "backups", tmp_path / "sar"]
    assert [oct(mode(f)) for f in folders] == ["0o700", "0o700"]
