"""Writing over an existing file (issue 12, item 2): --force, and only over an earlier file of the same kind.

One rule (files.may_replace) for every command that writes a file the
coordinator names: `export cases/summary --out`, `person export`, `letter
templates export` and `db backup`. The database and its side files are never
written over, --force or not, and neither is anything that is not an earlier
file of the same kind, recognised by its content.
"""

from __future__ import annotations

import pytest

from tests.conftest import referral_args


@pytest.fixture
def case(cli, db):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    return "TH-2026-0001"


def _refused(result, path, what: str, kind: str = "something else") -> None:
    assert result.exit_code == 1, result.stdout
    assert result.stderr == (f"Error: {path} is not an earlier {what} (it is {kind}), so it is not replaced, even "
                             "with --force: choose another name\n")


@pytest.mark.parametrize("side", ["", "-wal", "-shm", "-lock"])
@pytest.mark.parametrize("command", [["export", "cases", "--year", "2026/27"],
                                     ["export", "summary", "--year", "2026/27"]])
def test_an_export_never_writes_over_the_database_or_its_side_files(cli, case, db_path, command, side):
    target = db_path.with_name(db_path.name + side)
    if not target.exists():
        target.write_bytes(b"")
    before = target.read_bytes()
    result = cli(*command, "--out", target, "--force")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {target} is the thcli database (or one of its files): nothing is ever written "
                             "over it. Choose another name\n")
    assert target.read_bytes() == before
    assert cli("referral", "list", "--format", "json").exit_code == 0  # the database still works


def test_an_export_never_writes_over_a_backup_or_another_kind_of_export(cli, case, tmp_path):
    backup = tmp_path / "backup.db"
    assert cli("db", "backup", backup).exit_code == 0
    _refused(cli("export", "cases", "--year", "2026/27", "--out", backup, "--force"), backup, "county case extract",
             "a database or a backup")
    summary = tmp_path / "summary.csv"
    assert cli("export", "summary", "--year", "2026/27", "--out", summary).exit_code == 0
    _refused(cli("export", "cases", "--year", "2026/27", "--out", summary, "--force"), summary, "county case extract")
    notes = tmp_path / "notes.csv"
    notes.write_text("name,postcode\nAlex Example,ZZ1 2AB\n")
    _refused(cli("export", "summary", "--year", "2026/27", "--out", notes, "--force"), notes, "county summary")
    assert notes.read_text() == "name,postcode\nAlex Example,ZZ1 2AB\n"
    assert cli("export", "summary", "--year", "2026/27", "--out", summary, "--force").exit_code == 0


def test_templates_export_replaces_only_a_word_document_and_only_with_force(cli, db, tmp_path):
    dest = tmp_path / "ack.docx"
    assert cli("letter", "templates", "export", "acknowledgement", dest).exit_code == 0
    again = cli("letter", "templates", "export", "acknowledgement", dest)
    assert again.exit_code == 1
    assert again.stderr == (f"Error: {dest} already exists: choose another name, or add --force to replace it (only "
                            "an earlier Word document is replaced)\n")
    assert cli("letter", "templates", "export", "acknowledgement", dest, "--force").exit_code == 0
    fake = tmp_path / "fake.docx"
    fake.write_text("not a Word file at all")
    _refused(cli("letter", "templates", "export", "acknowledgement", fake, "--force"), fake, "Word document")


def test_db_backup_replaces_only_an_earlier_backup_never_the_database(cli, case, db_path, tmp_path):
    backup = tmp_path / "b.db"
    assert cli("db", "backup", backup).exit_code == 0
    assert cli("db", "backup", backup, "--force").exit_code == 0
    result = cli("db", "backup", db_path, "--force")
    assert result.exit_code == 1 and "is the thcli database (or one of its files)" in result.stderr
    other = tmp_path / "letter.docx"
    other.write_bytes(b"PK\x03\x04 a document")
    _refused(cli("db", "backup", other, "--force"), other, "thcli backup")
    assert other.read_bytes() == b"PK\x03\x04 a document"
    live = tmp_path / "other-scheme.db"  # another scheme's database, in use: a lock file beside it
    assert cli("--db", live, "init").exit_code == 0
    _refused(cli("db", "backup", live, "--force"), live, "thcli backup", "a database or a backup")
