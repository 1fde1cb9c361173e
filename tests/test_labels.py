"""Labels, blank values and the small gaps of issue 12, item 12 (and item 8's odd bytes from a real shell)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import referral_args
from thcli.db import write

ESC = "\x1b[2J"


# --- labels: one line of plain text, at most 120 characters ----------------------------------------------------


@pytest.mark.parametrize("name,message", [
    (f"Example {ESC}Fund", "contains control characters or line breaks: type it as one line of plain text"),
    ("Example\nFund", "contains control characters or line breaks: type it as one line of plain text"),
    ("F" * 100_000, "is longer than 120 characters: shorten it"),
])
def test_a_fund_name_with_control_characters_or_100_kb_is_refused(cli, db, name, message):
    result = cli("budget", "fund", "add", name, "--year", "2026/27", "--source", "opcc", "--amount", "100")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: NAME: ") and result.stderr.rstrip().endswith(message)
    assert "\x1b" not in result.stderr and result.stderr.count("\n") == 1
    assert db.conn.execute("SELECT count(*) FROM funds").fetchone()[0] == 0


@pytest.mark.parametrize("args,option", [
    (["codes", "add", "route", "walk_in", f"Walk-in {ESC}"], "LABEL"),
    (["init", "--scheme", f"Example {ESC}Scheme"], "--scheme"),
])
def test_other_labels_refuse_control_characters_too(cli, args, option):
    if args[0] == "codes":
        assert cli("init").exit_code == 0
    result = cli(*args)
    assert result.exit_code == 2
    assert option in result.stderr and "control characters" in result.stderr and "\x1b" not in result.stderr


def test_csv_output_neutralises_control_characters_already_stored(cli, db):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    with write(db):  # as a damaged or foreign database might hold it
        db.conn.execute("UPDATE clients SET name = ?", [f"Alex {ESC}Example\x07"])
    result = cli("referral", "list", "--format", "csv")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Alex \\x1b[2JExample\\x07" in result.stdout


# --- blank values are a mistake, not "left out" -------------------------------------------------------------------


@pytest.mark.parametrize("args,option", [
    (["budget", "ledger", "--fund", ""], "--fund"),
    (["referral", "add", *referral_args(), "--consent", ""], "--consent"),
    (["referral", "list", "--search", "  "], "--search"),
    (["export", "cases", "--year", ""], "--year"),
])
def test_a_blank_option_is_a_clear_error_not_the_option_left_out(cli, db, args, option):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Invalid value for '{option}")
    assert "it was given an empty value: give one, or leave the option out" in result.stderr
    assert db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_a_blank_file_argument_is_not_the_current_folder(cli, db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("db", "backup", "")
    assert result.exit_code == 2 and "it was given an empty value" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("thcli-backup")]


# --- codes add contractor --kind --------------------------------------------------------------------------------


def test_codes_add_contractor_honours_kind(cli, db):
    assert cli("codes", "add", "contractor", "council_team", "Council Repairs", "--kind", "in_house").exit_code == 0
    assert cli("codes", "add", "contractor", "acme", "Acme Locks", "--kind", "external").exit_code == 0
    rows = {r["code"]: r["in_house"] for r in cli.json("codes", "list", "contractor")}
    assert rows["council_team"] is True and rows["acme"] is False
    wrong = cli("codes", "add", "contractor", "bolt", "Bolt Ltd", "--kind", "works")
    assert (wrong.exit_code, wrong.stderr) == (2, "Error: --kind: 'works' is not a kind of contractor: use external or "
                                                  "in_house\n")
    ignored = cli("codes", "add", "route", "walk_in", "Walk-in", "--kind", "works")
    assert ignored.exit_code == 2
    assert ignored.stderr.startswith("Error: --kind: it applies only to the measure list")
    cost = cli("codes", "add", "route", "walk_in", "Walk-in", "--cost", "10")
    assert (cost.exit_code, cost.stderr) == (2, "Error: --cost: it applies only to the measure list, not to route\n")


# --- referral show --format csv, init on a folder ------------------------------------------------------------------


def test_referral_show_refuses_csv_clearly_and_shows_nothing(cli, db):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    result = cli("referral", "show", "TH-2026-0001", "--format", "csv")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: --format: a case is not a table: use --format json (or table); `thcli referral "
                             "list --format csv` gives cases as rows\n")
    assert "referral.show" not in [a["action"] for a in cli.json("audit")]


def test_init_on_a_folder_says_it_is_a_folder(cli, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    result = cli("--db", folder, "init")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --db: {folder} is a folder: give the database a file name in it, e.g. --db "
                             f"{folder / 'thcli.db'}\n")


# --- leftovers of a killed restore ---------------------------------------------------------------------------------


def test_a_killed_restore_leaves_work_files_that_the_next_restore_removes(cli, db, db_path, tmp_path):
    backup = tmp_path / "b.db"
    assert cli("db", "backup", backup).exit_code == 0
    db.close()
    leftovers = [db_path.with_name(f".{db_path.name}.restoring-99999{side}") for side in ("", "-wal", "-journal")]
    for leftover in leftovers:
        leftover.write_bytes(b"half a restored copy")
    unrelated = db_path.with_name(".thcli.db.notes")
    unrelated.write_text("not thcli's")
    assert cli("db", "restore", backup, "--yes").exit_code == 0
    assert [p.exists() for p in leftovers] == [False, False, False]
    assert unrelated.exists()


# --- item 8: odd bytes from a real shell ---------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX command lines carry bytes")
def test_bytes_that_are_not_utf8_in_an_argument_or_thcli_user_give_one_line_and_exit_2(db, db_path):
    env = {**os.environ, "THCLI_DB": str(db_path)}
    root = Path(__file__).parent.parent
    shown = subprocess.run([sys.executable, "-m", "thcli", "referral", "show", b"EV-\xff"], env=env,
                           capture_output=True, cwd=root, timeout=60)
    assert shown.returncode == 2 and shown.stdout == b""
    assert shown.stderr == (b"Error: argument 3 (EV-\\xff) has bytes that are not UTF-8 text: retype it (or rename "
                            b"the file it names)\n")
    env_bytes = {**env, "THCLI_USER": os.fsdecode(b"Jo \xe9xample")}
    user = subprocess.run([sys.executable, "-m", "thcli", "referral", "list"], env=env_bytes, capture_output=True,
                          cwd=root, timeout=60)
    assert user.returncode == 2
    assert user.stderr == b"Error: THCLI_USER has bytes that are not UTF-8 text: set it again\n"
