"""Encryption at rest (SQLCipher): init --encrypt, db encrypt, db rekey, keys, backups."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import referral_args
from thcli import crypto, maintenance
from thcli.crypto import Key
from thcli.db import open_db
from thcli.errors import BadInput, DatabaseProblem

pytest.importorskip("sqlcipher3")

#: Passphrases that must survive SQL quoting: quotes, a backslash, a semicolon, non-ASCII.
PASSPHRASE = "it's a \"quoted\" pass\\phrase; DROP TABLE cases; -- £"
RAW = "x'" + "3c" * 32 + "'"  # a raw key: no key derivation, so tests that open often stay quick
OTHER_RAW = "x'" + "d1" * 32 + "'"

#: Unique made-up values planted in personal fields, then looked for in the files' bytes.
PLANTED = {
    "--name": "Zephyrina Quillfeather", "--address": "17 Marzipan Crescent", "--postcode": "ZZ9 8QX",
    "--phone": "020 7946 0738", "--email": "zephyrina.q@example.org", "--safe-times": "Tuesdays Xylophone",
    "--referrer": "Bartholomew Inkwright", "--referrer-email": "b.inkwright@example.org",
    "--landlord": "Ottoline Brackenbury", "--perpetrator-name": "Thaddeus Grimsworth",
    "--note": "Spoke to Zephyrina about the Velvetmoss garden gate",
}


def planted_words() -> list[bytes]:
    words = ["Zephyrina", "Quillfeather", "Marzipan", "ZZ9 8QX", "7946 0738", "zephyrina.q", "Xylophone",
             "Inkwright", "Brackenbury", "Grimsworth", "Velvetmoss"]
    return [w.encode() for w in words] + [w.encode("utf-16-le") for w in words]


def add_planted(cli) -> None:
    args = referral_args(**PLANTED)
    result = cli("referral", "add", *args, "--safe-to-call")
    assert result.exit_code == 0, result.stderr


def occurrences(files: list[Path]) -> dict[str, int]:
    found = {}
    for file in files:
        if file.exists():
            data = file.read_bytes()
            for word in planted_words():
                if word in data:
                    found[f"{file.name}: {word!r}"] = data.count(word)
    return found


def side_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("THCLI_KEY", RAW)
    return RAW


@pytest.fixture
def encrypted(cli, key, db_path):
    result = cli("init", "--encrypt", "--scheme", "Test Sanctuary Scheme", "--district", "northmoor:Northmoor")
    assert result.exit_code == 0, result.stderr
    return db_path


# --- keys -------------------------------------------------------------------------------------------


def test_a_key_never_shows_itself():
    key = Key(PASSPHRASE)
    assert repr(key) == str(key) == f"{key!r}" == "Key(<hidden>)"
    assert key.reveal() == PASSPHRASE
    assert key == Key(PASSPHRASE) and key != Key("another passphrase")


@pytest.mark.parametrize("value,message", [
    ("", "the passphrase is empty: give the database's passphrase"),
    ("nul\x00inside", "the passphrase contains a NUL character, which SQLCipher cannot take"),
])
def test_an_unusable_key_is_refused(value, message):
    with pytest.raises(BadInput, match=message):
        Key(value)


def test_a_new_passphrase_must_be_long_enough():
    with pytest.raises(BadInput, match="the passphrase is too short: use at least 8 characters"):
        crypto.require_strong(Key("short"))
    crypto.require_strong(Key("eight ch"))
    crypto.require_strong(Key(RAW))


@pytest.mark.parametrize("typed", ["x''", "x'ab'", "x'" + "a" * 63 + "'", "x'" + "g" * 64 + "'"])
def test_a_passphrase_is_measured_as_typed_only_a_whole_raw_key_is_exempt(typed):
    # Issue 12, item 9: "x''" was taken for a raw key and accepted; it is 3 characters.
    if len(typed) < 8:
        with pytest.raises(BadInput, match="the passphrase is too short"):
            crypto.require_strong(Key(typed))
    else:
        crypto.require_strong(Key(typed))  # long enough as typed: a passphrase like any other
    crypto.require_strong(Key("x'" + "AB" * 48 + "'"))  # a raw key with its salt


def test_db_encrypt_refuses_a_three_character_passphrase_that_looks_like_a_raw_key(cli, db_path, monkeypatch):
    assert cli("init").exit_code == 0
    monkeypatch.setenv("THCLI_KEY", "x''")
    result = cli("db", "encrypt")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the passphrase is too short: use at least 8 characters")
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_encrypted_is_read_from_the_header(tmp_path, db_path, db):
    assert crypto.is_encrypted(db_path) is False
    assert crypto.is_encrypted(tmp_path / "missing.db") is False
    empty = tmp_path / "empty.db"
    empty.touch()
    assert crypto.is_encrypted(empty) is False
    secret = tmp_path / "secret.db"
    open_db(secret, create=True, key=Key(RAW)).close()
    assert crypto.is_encrypted(secret) is True


# --- init --encrypt -------------------------------------------------------------------------------------


def test_init_encrypt_makes_a_database_only_its_passphrase_opens(cli, db_path, monkeypatch):
    monkeypatch.setenv("THCLI_KEY", PASSPHRASE)
    result = cli("init", "--encrypt", "--district", "northmoor:Northmoor")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Created the database for Sanctuary Scheme at {db_path} (encrypted)"
    assert "NOT encrypted" not in result.stdout
    assert db_path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert cli("referral", "add", *referral_args()).exit_code == 0
    assert [r["ref"] for r in cli.json("referral", "list")] == ["TH-2026-0001"]

    monkeypatch.setenv("THCLI_KEY", PASSPHRASE[:-1])
    wrong = cli("referral", "list")
    assert (wrong.exit_code, wrong.stdout) == (1, "")
    assert wrong.stderr == f"Error: {db_path}: wrong key or not a thcli database.\n"

    monkeypatch.delenv("THCLI_KEY")
    before = db_path.read_bytes()
    none = cli("referral", "list")
    assert none.exit_code == 1
    assert none.stderr == (f"Error: {db_path} is encrypted, or is not a thcli database: give its passphrase in "
                           "THCLI_KEY (or run thcli in a terminal to be asked for it, or store it in the keychain with "
                           "`thcli db unlock`).\n")
    again = cli("init")
    assert again.exit_code == 1 and "there is already a database" in again.stderr
    assert db_path.read_bytes() == before  # never opened without its key, never made plain


def test_init_without_encrypt_recommends_it(cli, db_path, monkeypatch):
    monkeypatch.setenv("THCLI_KEY", PASSPHRASE)
    result = cli("init")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2:9] == [
        "",
        "This database is NOT encrypted. It will hold the addresses of people hiding from someone who may",
        "want to hurt them, on a laptop that can be lost: encrypting it is strongly recommended:",
        "  pip install 'thcli[encrypted]'   # once",
        "  thcli db encrypt                 # asks for a passphrase (or reads THCLI_KEY)",
        "(THCLI_KEY is set, but --encrypt was not given, so it was not used.)",
        "",
    ]
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"


@pytest.mark.parametrize("value,code,message", [
    (None, 2, "Error: set THCLI_KEY to the new passphrase (thcli never takes a passphrase on the command line), "
              "or run this in a terminal to be asked for it\n"),
    ("short", 2, "Error: the passphrase is too short: use at least 8 characters (a few unrelated words are easy "
                 "to remember and hard to guess)\n"),
])
def test_init_encrypt_without_a_good_passphrase_is_refused_and_leaves_no_file(cli, db_path, monkeypatch,
                                                                                value, code, message):
    if value is not None:
        monkeypatch.setenv("THCLI_KEY", value)
    result = cli("init", "--encrypt")
    assert (result.exit_code, result.stderr) == (code, message)
    assert not db_path.exists()


def test_a_passphrase_is_never_an_option(cli):
    result = cli("init", "--encrypt", "--key", "secret passphrase")
    assert result.exit_code == 2
    assert "No such option: --key" in result.stderr


def test_without_sqlcipher3_encryption_says_how_to_install_it(cli, db_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlcipher3.dbapi2", None)
    monkeypatch.setenv("THCLI_KEY", PASSPHRASE)
    result = cli("init", "--encrypt")
    assert result.exit_code == 1
    assert result.stderr == ("Error: encryption needs the sqlcipher3 package: install it with: "
                             "pip install 'thcli[encrypted]'\n")
    assert not db_path.exists()


# --- db encrypt and db rekey -------------------------------------------------------------------------


def test_db_encrypt_turns_a_plain_database_into_an_encrypted_one_keeping_everything(cli, db_path, monkeypatch):
    assert cli("init", "--district", "northmoor:Northmoor").exit_code == 0
    add_planted(cli)
    assert occurrences([db_path, *side_files(db_path)[1:]])  # the plain file holds the names

    monkeypatch.setenv("THCLI_KEY", PASSPHRASE)
    result = cli("db", "encrypt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"Encrypted {db_path} (checked).")
    assert db_path.read_bytes()[:16] != b"SQLite format 3\x00"
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith((".thcli", "thcli.db"))) == [
        "thcli.db", "thcli.db-lock"]
    shown = cli.json("referral", "show", "TH-2026-0001")
    assert shown["client"]["name"] == "Zephyrina Quillfeather"
    assert occurrences(side_files(db_path)) == {}
    audit = cli.json("audit")
    assert [a["action"] for a in audit[:2]] == ["referral.show", "db.encrypt"]
    assert all(PASSPHRASE not in str(a) for a in audit)

    again = cli("db", "encrypt")
    assert again.exit_code == 1
    assert again.stderr == (f"Error: {db_path} is already encrypted (or is not a thcli database): change its "
                            "passphrase with `thcli db rekey`\n")
    check = cli("db", "check")
    assert check.exit_code == 0, check.stderr
    assert "ok    encryption: encrypted (SQLCipher" in check.stdout


def test_db_encrypt_and_db_check_name_the_plain_copies_left_beside_the_database(cli, db_path, monkeypatch):
    assert cli("init", "--district", "northmoor:Northmoor").exit_code == 0
    add_planted(cli)
    assert cli("db", "backup", str(db_path.parent)).exit_code == 0  # thcli-backup-<now>.db, plain
    (backup,) = db_path.parent.glob("thcli-backup-*.db")
    assert cli("db", "restore", str(backup), "--yes").exit_code == 0  # keeps thcli-before-restore-<now>.db
    (kept,) = db_path.parent.glob("thcli-before-restore-*.db")
    assert maintenance.plain_copies(db_path) == sorted([backup, kept])
    monkeypatch.setenv("THCLI_KEY", RAW)
    result = cli("db", "encrypt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ("Backups made before now are not encrypted: delete them and make a "
                                              "new one with `thcli db backup`.")
    first, second = sorted([backup.name, kept.name])
    copies = f"2 unencrypted copies beside the database ({first}, {second})"
    assert result.stderr == f"Warning: {copies}: delete them once you have an encrypted backup\n"
    check = cli("db", "check")
    assert check.exit_code == 0, check.stderr
    assert (f"warn  plain copies: {copies}: anyone who has them can read them; delete them once you have an "
            "encrypted backup") in check.stdout.splitlines()
    backup.unlink()
    kept.unlink()
    assert "plain copies" not in cli("db", "check").stdout
    assert maintenance.plain_copies(db_path) == []


def test_db_encrypt_needs_a_database(cli, key, db_path):
    result = cli("db", "encrypt")
    assert result.exit_code == 1
    assert result.stderr == f"Error: there is no database at {db_path} to encrypt\n"


def test_db_rekey_changes_the_passphrase(cli, encrypted, db_path, monkeypatch):
    add_planted(cli)
    monkeypatch.setenv("THCLI_NEW_KEY", PASSPHRASE)
    result = cli("db", "rekey")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"Changed the passphrase of {db_path} (checked). Backups made before still open "
                             "with the old one.\n")
    old = cli("referral", "list")
    assert old.exit_code == 1 and "wrong key or not a thcli database" in old.stderr
    monkeypatch.setenv("THCLI_KEY", PASSPHRASE)
    assert [r["client_name"] for r in cli.json("referral", "list")] == ["Zephyrina Quillfeather"]
    assert [a["action"] for a in cli.json("audit")][:2] == ["referral.list", "db.rekey"]  # lists are audited
    assert occurrences(side_files(db_path)) == {}


@pytest.mark.parametrize("new,code,message", [
    (None, 2, "Error: set THCLI_NEW_KEY to the new passphrase (thcli never takes a passphrase on the command "
              "line), or run this in a terminal to be asked for it\n"),
    (RAW, 2, "Error: the new passphrase is the same as the old one\n"),
])
def test_db_rekey_refuses_a_missing_or_unchanged_passphrase(cli, encrypted, db_path, monkeypatch, new, code, message):
    if new is not None:
        monkeypatch.setenv("THCLI_NEW_KEY", new)
    before = db_path.read_bytes()
    result = cli("db", "rekey")
    assert (result.exit_code, result.stderr) == (code, message)
    assert db_path.read_bytes() == before


def test_db_rekey_of_a_plain_database_or_with_the_wrong_key_is_refused(cli, db_path, monkeypatch):
    assert cli("init").exit_code == 0
    monkeypatch.setenv("THCLI_NEW_KEY", PASSPHRASE)
    plain = cli("db", "rekey")
    assert (plain.exit_code, plain.stderr) == (1, f"Error: {db_path} is not encrypted: encrypt it with "
                                                  "`thcli db encrypt`\n")
    monkeypatch.setenv("THCLI_KEY", RAW)
    assert cli("db", "encrypt").exit_code == 0
    monkeypatch.setenv("THCLI_KEY", OTHER_RAW)
    wrong = cli("db", "rekey")
    assert (wrong.exit_code, wrong.stderr) == (1, f"Error: {db_path}: wrong key or not a thcli database.\n")


# --- backups ------------------------------------------------------------------------------------------------


def test_planted_names_appear_nowhere_in_an_encrypted_database_or_its_backups(cli, encrypted, db_path, tmp_path):
    add_planted(cli)
    assert cli("referral", "note", "TH-2026-0001", "Velvetmoss again, with Zephyrina").exit_code == 0
    folder = tmp_path / "usb"
    folder.mkdir()
    result = cli("db", "backup", str(folder))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("(checked, encrypted).\n")
    backup = next(folder.iterdir())
    # While a connection is open the WAL holds the latest pages: scan it too.
    db = open_db(db_path, key=Key(RAW))
    try:
        files = [*side_files(db_path), backup]
        assert db_path.with_name("thcli.db-wal").exists()
        for file in (db_path, backup):
            assert file.read_bytes()[:16] != b"SQLite format 3\x00"
        assert occurrences(files) == {}
    finally:
        db.close()
    copy = open_db(backup, key=Key(RAW))
    assert copy.conn.execute("SELECT name FROM clients").fetchall() == [("Zephyrina Quillfeather",)]
    copy.close()
    with pytest.raises(DatabaseProblem, match="wrong key or not a thcli database"):
        open_db(backup, key=Key(OTHER_RAW))


def test_an_encrypted_backup_restores(cli, encrypted, db_path, tmp_path):
    add_planted(cli)
    backup = tmp_path / "backup.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    assert cli("referral", "add", *referral_args(**{"--name": "Sam Example"})).exit_code == 0
    result = cli("db", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    assert [r["client_name"] for r in cli.json("referral", "list")] == ["Zephyrina Quillfeather"]
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("thcli-before-restore")]
    assert len(kept) == 1 and kept[0].read_bytes()[:16] != b"SQLite format 3\x00"
    assert occurrences([*side_files(db_path), *kept]) == {}
    pointless = cli("db", "restore", str(backup), "--yes", "--decrypt-ok", "just in case")
    assert (pointless.exit_code, pointless.stderr) == (
        2, f"Error: --decrypt-ok: {backup} is encrypted, so nothing is decrypted: leave it out (it is only for "
           "restoring a backup that is not encrypted over an encrypted database)\n")


# --- in a terminal ---------------------------------------------------------------------------------------------


def test_in_a_terminal_the_passphrase_is_asked_twice_then_once_per_command(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if k != "THCLI_KEY"}
    env.update(THCLI_DB=str(tmp_path / "tty.db"), PYTHONPATH=str(Path(__file__).parent.parent))
    passphrase = "correct \"horse\" battery's staple"

    def run(*args: str, answers: list[str]) -> str:
        child = pexpect.spawn(sys.executable, ["-m", "thcli", *args], env=env, encoding="utf-8", timeout=30)
        prompts = ("Passphrase for|New passphrase", "The same passphrase again")
        for prompt, answer in zip(prompts, answers, strict=False):
            child.expect(prompt)
            child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        assert passphrase not in child.before  # never echoed
        return f"{child.exitstatus}:{child.before}"

    made = run("init", "--encrypt", answers=[passphrase, passphrase])
    assert made.startswith("0:") and "(encrypted)" in made
    listed = run("referral", "list", "--format", "json", answers=[passphrase])
    assert listed.startswith("0:") and "[]" in listed
    wrong = run("referral", "list", answers=["not the passphrase"])
    assert wrong.startswith("1:") and "wrong key or not a thcli database" in wrong


def test_db_encrypt_refuses_while_another_process_has_the_database_open(cli, db_path, key):
    import subprocess

    assert cli("init").exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM cases').fetchall(); print('open', flush=True); sys.stdin.read()",
         str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "open\n"
        before = db_path.read_bytes()
        result = cli("db", "encrypt")
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {db_path}: another thcli (or another program) has the database open: close it "
                             "and try again\n")
    assert db_path.read_bytes()[:16] == before[:16] == b"SQLite format 3\x00"
    assert [p.name for p in db_path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_plain_backup_is_not_restored_over_an_encrypted_database_without_a_recorded_reason(
        cli, db_path, tmp_path, monkeypatch):
    # Issue 12, item 11: this used to restore with a warning only; now it is refused without --decrypt-ok.
    assert cli("init").exit_code == 0
    backup = tmp_path / "plain-backup.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    monkeypatch.setenv("THCLI_KEY", RAW)
    assert cli("db", "encrypt").exit_code == 0
    encrypted = db_path.read_bytes()
    refused = cli("db", "restore", str(backup), "--yes")
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"Error: {backup} is not encrypted, but {db_path} is: restoring it would leave the scheme's data "
        "unencrypted. Restore an encrypted backup, or add --decrypt-ok REASON (recorded in the audit log) and "
        "then run `thcli db encrypt`\n")
    assert db_path.read_bytes() == encrypted
    result = cli("db", "restore", str(backup), "--yes", "--decrypt-ok", "passphrase lost, restoring last week's copy")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ("Warning: the backup was not encrypted, so the database is not encrypted now: run "
                             "`thcli db encrypt`\n")
    assert db_path.read_bytes()[:16] == b"SQLite format 3\x00"
    restored = cli.json("audit")[0]
    assert (restored["action"], restored["detail"]) == (
        "db.restore", "plain-backup.db; restored unencrypted over an encrypted database: passphrase lost, restoring "
                      "last week's copy")
