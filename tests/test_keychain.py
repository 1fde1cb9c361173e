"""The encrypted database's passphrase in the operating system's keychain: db unlock, db lock (issue 16, part 3).

Every test sets keyring to a small in-memory backend of its own (the conftest
sets keyring's "no keychain" backend for all the others, so no test reaches
this machine's real keychain). The passphrase is looked up in the order
THCLI_KEY, the keychain, a prompt; the keychain's entry is the database's
resolved path; backends that would keep it in a plain file, or keep nothing,
are refused.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import referral_args
from thcli import keychain

keyring = pytest.importorskip("keyring")
pytest.importorskip("sqlcipher3")
from keyring.backend import KeyringBackend  # noqa: E402
from keyring.backends import chainer, fail  # noqa: E402
from keyring.errors import PasswordDeleteError  # noqa: E402

RAW = "x'" + "5e" * 32 + "'"  # a raw key: no key derivation, so the tests stay quick
OTHER = "x'" + "a7" * 32 + "'"


class MemoryKeyring(KeyringBackend):
    """A keychain in memory: what Windows Credential Manager or the macOS Keychain does, for the tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


MemoryKeyring.__module__ = "tests.memory"  # as the messages name it, however pytest imported this file


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring (passwords in a readable file)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def memory(monkeypatch):
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def encrypted(cli, db, db_path, monkeypatch):
    """The test database with a case, encrypted with RAW; THCLI_KEY unset afterwards."""
    assert cli("referral", "add", *referral_args()).exit_code == 0
    db.close()
    monkeypatch.setenv("THCLI_KEY", RAW)
    assert cli("db", "encrypt").exit_code == 0
    monkeypatch.delenv("THCLI_KEY")
    return db_path


def test_unlock_checks_the_passphrase_then_every_command_uses_it(cli, encrypted, memory, monkeypatch):
    refused = cli("referral", "list", "--format", "json")
    assert refused.exit_code == 1 and "store it in the keychain with `thcli db unlock`" in refused.stderr
    monkeypatch.setenv("THCLI_KEY", RAW)
    result = cli("db", "unlock")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Stored the passphrase of {encrypted} in the MemoryKeyring keychain (tests.memory): thcli opens this "
        "database without asking while you are logged in. Remove it with `thcli db lock` (before someone else uses "
        "this login, for one).\n")
    assert memory.entries == {("thcli", keychain.entry_name(encrypted)): RAW}
    monkeypatch.delenv("THCLI_KEY")
    assert cli.json("referral", "list")[0]["ref"] == "TH-2026-0001"
    assert cli("db", "check").exit_code == 0


def test_a_wrong_passphrase_is_not_stored(cli, encrypted, memory, monkeypatch):
    monkeypatch.setenv("THCLI_KEY", OTHER)
    result = cli("db", "unlock")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {encrypted}: wrong key or not a thcli database.\n"
    assert memory.entries == {}


def test_lock_removes_it_and_thcli_asks_again(cli, encrypted, memory, monkeypatch):
    memory.set_password("thcli", keychain.entry_name(encrypted), RAW)
    result = cli("db", "lock")
    assert result.exit_code == 0
    assert result.stdout == (f"Removed the passphrase of {encrypted} from the MemoryKeyring keychain "
                             "(tests.memory): thcli asks for it again (or reads THCLI_KEY).\n")
    assert memory.entries == {}
    assert cli("referral", "list", "--format", "json").exit_code == 1
    again = cli("db", "lock")
    assert again.exit_code == 0 and again.stdout == (f"The keychain holds no passphrase for {encrypted}: nothing to "
                                                     "remove.\n")


def test_thcli_key_comes_before_the_keychain(cli, encrypted, memory, monkeypatch):
    memory.set_password("thcli", keychain.entry_name(encrypted), OTHER)  # stale: the wrong passphrase
    monkeypatch.setenv("THCLI_KEY", RAW)
    assert cli.json("referral", "list")[0]["ref"] == "TH-2026-0001"


def test_a_stored_passphrase_that_no_longer_opens_the_database_says_what_to_do(cli, encrypted, memory):
    memory.set_password("thcli", keychain.entry_name(encrypted), OTHER)
    result = cli("referral", "list", "--format", "json")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {encrypted}: the passphrase the keychain holds for this database does not open it (was it changed "
        "on another computer, or the file replaced?): store the right one with `thcli db unlock`, or remove it with "
        "`thcli db lock`\n")


def test_rekey_keeps_the_keychain_in_step(cli, encrypted, memory, monkeypatch):
    memory.set_password("thcli", keychain.entry_name(encrypted), RAW)
    monkeypatch.setenv("THCLI_NEW_KEY", OTHER)
    result = cli("db", "rekey")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ("The MemoryKeyring keychain (tests.memory) now holds the new "
                                              "passphrase.")
    assert memory.entries == {("thcli", keychain.entry_name(encrypted)): OTHER}
    assert cli.json("referral", "list")[0]["ref"] == "TH-2026-0001"


def test_the_entry_is_the_databases_path_so_a_copy_elsewhere_still_asks(cli, encrypted, memory, tmp_path):
    memory.set_password("thcli", keychain.entry_name(encrypted), RAW)
    copy = tmp_path / "usb" / "copy.db"
    copy.parent.mkdir()
    shutil.copy(encrypted, copy)
    result = cli("--db", copy, "referral", "list", "--format", "json")
    assert result.exit_code == 1 and "give its passphrase in THCLI_KEY" in result.stderr
    # The same file named another way is the same entry.
    assert keychain.entry_name(tmp_path / "usb" / ".." / "thcli.db") == keychain.entry_name(encrypted)


def test_lock_works_for_a_database_that_has_gone(cli, memory, tmp_path):
    gone = tmp_path / "moved-away.db"
    memory.set_password("thcli", keychain.entry_name(gone), RAW)
    result = cli("--db", gone, "db", "lock")
    assert result.exit_code == 0, result.stderr
    assert memory.entries == {}


def test_without_a_keychain_unlock_says_so_and_thcli_works_as_before(cli, encrypted, monkeypatch):
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("THCLI_KEY", RAW)
    result = cli("db", "unlock")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: there is no keychain that thcli can use here (keyring found no keychain backend: on Linux, a Secret "
        "Service such as GNOME Keyring or KWallet), so the passphrase cannot be stored: thcli reads it from "
        "THCLI_KEY or asks for it, as before\n")
    assert cli.json("referral", "list")[0]["ref"] == "TH-2026-0001"  # THCLI_KEY, as before


def test_a_plain_file_keyring_is_refused(cli, encrypted, monkeypatch):
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    try:
        monkeypatch.setenv("THCLI_KEY", RAW)
        result = cli("db", "unlock")
        assert result.exit_code == 1
        assert ("keyring is set to PlaintextKeyring (keyrings.alt.file), which keeps passwords in a plain file"
                in result.stderr)
        assert plain.entries == {}
        plain.set_password("thcli", keychain.entry_name(encrypted), RAW)  # planted there by something else
        assert keychain.stored_key(encrypted) is None  # never read from it either
    finally:
        keyring.set_keyring(fail.Keyring())


def test_where_keyring_chains_backends_only_a_real_keychain_gets_it(cli, encrypted, monkeypatch):
    plain, safe = PlaintextKeyring(), MemoryKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain, safe])
    keyring.set_keyring(chainer.ChainerBackend())
    try:
        monkeypatch.setenv("THCLI_KEY", RAW)
        assert cli("db", "unlock").exit_code == 0
        assert plain.entries == {} and list(safe.entries.values()) == [RAW]
    finally:
        keyring.set_keyring(fail.Keyring())


def test_a_keychain_that_fails_to_answer_is_passed_over(cli, encrypted, memory, monkeypatch):
    def locked(service, username):
        raise keyring.errors.KeyringLocked("the keychain is locked")

    monkeypatch.setattr(memory, "get_password", locked)
    result = cli("referral", "list", "--format", "json")
    assert result.exit_code == 1 and "give its passphrase in THCLI_KEY" in result.stderr


def test_without_the_keyring_package_unlock_says_how_to_install_it(cli, encrypted, monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)
    monkeypatch.setenv("THCLI_KEY", RAW)
    result = cli("db", "unlock")
    assert result.exit_code == 1
    assert "the keyring package is not installed: install it with: pip install 'thcli[encrypted]'" in result.stderr


def test_unlock_needs_an_encrypted_database_and_a_passphrase(cli, db, db_path, memory, monkeypatch):
    result = cli("db", "unlock")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {db_path} is not encrypted: encrypt it with `thcli db encrypt`\n"


def test_unlock_in_a_script_without_thcli_key_names_it(cli, encrypted, memory):
    result = cli("db", "unlock")
    assert result.exit_code == 2
    assert "set THCLI_KEY to the database's passphrase" in result.stderr


def test_a_plain_database_never_imports_keyring(db):
    code = ("import sys\nfrom thcli.cli import app\ntry:\n    app(['referral', 'list', '--format', 'table'], "
            "standalone_mode=False)\nexcept SystemExit:\n    pass\nprint('keyring' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.stdout.strip().splitlines()[-1] == "False", shown.stderr


@pytest.mark.parametrize("module,name", [
    ("keyring.backends.Windows", "the Windows Credential Manager"),
    ("keyring.backends.macOS", "the macOS Keychain"),
    ("keyring.backends.SecretService", "the Secret Service keychain (GNOME Keyring, KWallet...)"),
])
def test_the_keychain_is_named_as_the_coordinator_knows_it(module, name):
    backend = type("Keyring", (MemoryKeyring,), {"__module__": module})()
    assert keychain.describe(backend) == name and keychain.refusal(backend) is None


@pytest.mark.parametrize("module,cls", [("keyrings.alt.file", "PlaintextKeyring"),
                                        ("keyrings.alt.pyfs", "PlaintextKeyring"),
                                        ("keyring.backends.null", "Keyring"), ("keyring.backends.fail", "Keyring")])
def test_backends_that_keep_a_plain_file_or_nothing_are_refused(module, cls):
    assert keychain.refusal(type(cls, (MemoryKeyring,), {"__module__": module})()) is not None
