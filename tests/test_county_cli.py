"""`thcli export cases|summary` through the command line: bytes, files, modes, audit, exit codes."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time
from test_county import add_case, add_client, mac, set_secret

from thcli import county

BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


@pytest.fixture
def cases(db):
    set_secret(db)
    add_case(db, client_id=add_client(db, dob="1980-01-01"), received="2026-05-05")
    add_case(db, received="2026-08-10", district="southvale", route="marac", risk_level="high")
    add_case(db, received="2025-12-01")
    return db


def audit_rows(db):
    return db.conn.execute("SELECT by, action, ref, detail FROM audit WHERE action LIKE 'export.%' "
                           "ORDER BY id").fetchall()


@pytest.fixture
def folder(tmp_path):
    """Where the exports go (apart from the database and its side files)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


def test_export_cases_writes_excel_ready_csv_to_a_private_file_and_audits_it(cases, cli, folder):
    out = folder / "cases.csv"
    result = cli("export", "cases", "--year", "2026/27", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Wrote 2 cases referred in 2026/27 (01/04/2026 to 31/03/2027) to {out}.\n"
    data = out.read_bytes()
    assert data.startswith(BOM + b"spec_version,scheme_code,district,case_pseudonym,")
    assert data.count(b"\r\n") == 3 and b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b",\r\n")  # closed_month of an open case is empty
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert [r[3] for r in rows[1:]] == [mac("TH-2026-0001"), mac("TH-2026-0002")]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert audit_rows(cases) == [(
        "test.coordinator", "export.cases", None,
        f"period 2026/27 (2026-04-01 to 2027-03-31); 2 rows; to {out}")]
    assert [p.name for p in folder.iterdir()] == ["cases.csv"]  # no temporary file left behind


def test_an_earlier_export_is_replaced_with_force_and_made_private(cases, cli, tmp_path):
    # Issue 12: an existing file used to be replaced whatever it was; now only an earlier export of the
    # same kind, and only with --force.
    out = tmp_path / "cases.csv"
    assert cli("export", "cases", "--quarter", "2026Q2", "--out", out).exit_code == 0
    os.chmod(out, 0o644)
    again = cli("export", "cases", "--quarter", "2026Q2", "--out", out)
    assert again.exit_code == 1
    assert again.stderr == (f"Error: {out} already exists: choose another name, or add --force to replace it "
                            "(only an earlier county case extract is replaced)\n")
    assert cli("export", "cases", "--quarter", "2026Q2", "--out", out, "--force").exit_code == 0
    assert out.read_bytes().startswith(BOM + b"spec_version")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_no_bom_leaves_out_the_byte_order_mark(cases, cli, tmp_path):
    out = tmp_path / "cases.csv"
    assert cli("export", "cases", "--year", "2026/27", "--out", out, "--no-bom").exit_code == 0
    assert out.read_bytes().startswith(b"spec_version,")
    summary = tmp_path / "summary.csv"
    assert cli("export", "summary", "--year", "2026/27", "--out", summary, "--no-bom").exit_code == 0
    assert summary.read_bytes().startswith(b"spec_version,scheme_code,period,measure,breakdown,category,value\r\n")


def test_without_out_the_csv_goes_to_standard_output_and_is_audited(cases, cli):
    result = cli("export", "cases", "--quarter", "2026Q3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(BOM + b"spec_version,")
    lines = result.stdout_bytes.split(b"\r\n")
    assert len(lines) == 3 and lines[-1] == b""
    assert lines[1].startswith(b"thcli-county-2,test,southvale," + mac("TH-2026-0002").encode())
    assert audit_rows(cases)[-1][3] == "period 2026Q3 (2026-07-01 to 2026-09-30); 1 rows; to standard output"


def test_export_summary_writes_the_return_and_audits_rounding(cases, cli, tmp_path):
    out = tmp_path / "summary.csv"
    result = cli("export", "summary", "--from", "2026-04-01", "--to", "30/09/2026", "--round", "5", "--out", out)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_bytes()[3:].decode("utf-8"), newline="")))
    assert rows[0] == list(county.SUMMARY_COLUMNS)
    assert rows[1] == ["thcli-county-2", "test", "2026-04-01/2026-09-30", "referrals", "all", "all", "<5"]
    assert len(rows) - 1 == int(result.stdout.split("(")[2].split()[0])
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert audit_rows(cases)[-1][1:] == (
        "export.summary", None,
        f"period 2026-04-01/2026-09-30 (2026-04-01 to 2026-09-30); {len(rows) - 1} rows, rounded to 5; to {out}")


@pytest.mark.parametrize("args, message", [
    ([], "Error: say which period to export: --year 2026/27, --quarter 2026Q3, or --from 2026-04-01 "
         "--to 2026-06-30\n"),
    (["--year", "2026"], "Error: --year: '2026' is not a financial year: write it like 2026/27\n"),
    (["--quarter", "Q3"], "Error: --quarter: 'Q3' is not a quarter: write it like 2026Q3 (calendar quarters Q1 to "
                          "Q4)\n"),
    (["--year", "2026/27", "--quarter", "2026Q3"],
     "Error: give one period, not --quarter and --year: --year 2026/27, --quarter 2026Q3, or --from 2026-04-01 "
     "--to 2026-06-30\n"),
    (["--from", "2026-06-01"], "Error: --to: the period needs its last day too, e.g. --from 2026-06-01 "
                               "--to 2026-06-30\n"),
    (["--from", "2026-06-01", "--to", "2026-05-01"],
     "Error: --to: the period ends (01/05/2026) before it starts (01/06/2026): swap --from and --to\n"),
])
@pytest.mark.parametrize("command", ["cases", "summary"])
def test_a_bad_period_exits_2_with_one_line_saying_what_to_write(cases, cli, command, args, message):
    result = cli("export", command, *args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")
    assert audit_rows(cases) == []


def test_a_bad_date_or_rounding_is_refused_by_the_option(cases, cli):
    result = cli("export", "cases", "--from", "31/02/2026", "--to", "2026-03-31")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid value for '--from': '31/02/2026' is not a real date")
    result = cli("export", "summary", "--year", "2026/27", "--round", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--round'" in result.stderr


def test_a_missing_folder_or_a_folder_as_out_is_refused(cases, cli, tmp_path):
    result = cli("export", "cases", "--year", "2026/27", "--out", tmp_path / "nowhere" / "cases.csv")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --out: the folder {tmp_path / 'nowhere'} does not exist: create it first or choose another\n")
    result = cli("export", "cases", "--year", "2026/27", "--out", tmp_path)
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --out: {tmp_path} is a folder: give a file name, e.g. {tmp_path / 'county.csv'}\n")
    assert audit_rows(cases) == []


def test_an_out_path_that_cannot_be_written_is_refused_as_every_out_is(cases, cli, tmp_path, monkeypatch):
    import errno
    import tempfile

    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    result = cli("export", "summary", "--year", "2026/27", "--out", afile / "s.csv")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --out: {afile / 's.csv'}: part of this path is a file, not a folder. Choose another path\n")
    locked = tmp_path / "ro"
    locked.mkdir()
    real = tempfile.mkstemp

    def refuse_in_ro(*args, dir=None, **kwargs):  # a read-only folder (root, running the tests, can write anywhere)
        if dir is not None and Path(dir) == locked:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse_in_ro)
    result = cli("export", "cases", "--year", "2026/27", "--out", locked / "c.csv")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --out: cannot write {locked / 'c.csv'}: permission denied. Choose a folder you can write to\n")
    assert audit_rows(cases) == []


def test_replacing_an_export_open_in_excel_says_so(cases, cli, folder, monkeypatch):
    out = folder / "s.csv"
    assert cli("export", "summary", "--year", "2026/27", "--out", out).exit_code == 0
    before, last = audit_rows(cases), out.read_bytes()

    def in_use(*args, **kwargs):
        error = PermissionError(13, "Access is denied")
        error.winerror = 32  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(os, "replace", in_use)
    result = cli("export", "summary", "--year", "2026/27", "--out", out, "--force")
    assert (result.exit_code, result.stderr) == (
        1, f"Error: cannot write {out}: another program has it open (Word, Excel, or a preview): close it there and "
           "try again\n")
    assert out.read_bytes() == last and [p.name for p in folder.iterdir()] == ["s.csv"]
    assert audit_rows(cases) == before


def test_a_failed_export_leaves_the_old_file_no_temporary_file_and_no_audit(cases, cli, folder, monkeypatch):
    out = folder / "cases.csv"
    assert cli("export", "cases", "--year", "2026/27", "--out", out).exit_code == 0  # last quarter's file
    last = out.read_bytes()

    def broken(*args, **kwargs):
        yield ["thcli-county-2", "half", "a", "row"]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(county, "case_rows", broken)
    before = audit_rows(cases)
    result = cli("export", "cases", "--year", "2026/27", "--out", out, "--force")  # issue 12: --force to replace
    assert (result.exit_code, result.stderr) == (
        1, f"Error: cannot write {out}: the disk is full. Free some space and try again\n")
    assert out.read_bytes() == last
    assert [p.name for p in folder.iterdir()] == ["cases.csv"]
    assert audit_rows(cases) == before


def test_without_a_database_the_export_says_how_to_make_one(cli, tmp_path):
    result = cli("export", "cases", "--year", "2026/27")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no thcli database at ")


def test_help_has_an_example(cli):
    for command in ("cases", "summary"):
        result = cli("export", command, "--help")
        assert result.exit_code == 0
        assert "Example: thcli export " + command in result.stdout
