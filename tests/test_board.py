"""The board report (issue 17): read back with python-docx, it holds the figures and no suppressed value.

Made for the county (`county combine --report`) from hand-built files whose
small figures are known, and for a scheme (`report board`) from its database;
with matplotlib (three charts) and without it (simulated by making its import
fail: the report keeps its tables and says how to add the charts).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import docx
import pytest
from freezegun import freeze_time

from tests.test_county import add_case, add_fund, add_line, add_money, set_setting
from tests.test_partnership import extract_row, write_extract, write_summary
from thcli.partnership import charts


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


@pytest.fixture
def county_files(tmp_path):
    """Scheme "small" has two cases, one with a distinctive spend (£1,234.56) that must never show;
    "mid" has eight, fifty pounds each; "large" twenty, a hundred pounds each. Small's figures are below
    the threshold, so mid's (the next smallest) are hidden too: else the total would give small's away."""
    small = write_extract(tmp_path / "small-cases.csv", [
        extract_row("small", client="ann", cost_total="1234.56", funds="opcc", days_to_fit="3", within_target="yes"),
        extract_row("small", client="bea")])
    large = write_extract(tmp_path / "large-cases.csv", [
        extract_row("large", client=f"c{n}", cost_total="100.00", funds="hpg", days_to_fit=str(5 + n % 4),
                    within_target="yes" if n % 2 else "no", referral_month=f"2026-{4 + n % 6:02d}")
        for n in range(20)])
    mid = write_extract(tmp_path / "mid-cases.csv", [
        extract_row("mid", client=f"m{n}", cost_total="50.00", funds="hpg", days_to_fit="9", within_target="no")
        for n in range(8)])
    return [small, mid, large, write_summary(tmp_path / "small-summary.csv", "small", referrals="<5"),
            write_summary(tmp_path / "large-summary.csv", "large", referrals="25")]


def text_of(path) -> tuple[str, list[list[list[str]]], docx.document.Document]:
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    everything = "\n".join(paragraphs + [cell for table in tables for row in table for cell in row])
    return everything, tables, document


def row_of(tables, first: str, header: str) -> list[str]:
    for table in tables:
        if table[0][0] == header:
            for row in table[1:]:
                if row[0] == first:
                    return row
    raise AssertionError(f"no row {first!r} under {header!r}")


def combine_report(cli, tmp_path, files, name="board.docx", *extra):
    report = tmp_path / name
    result = cli("county", "combine", *files, "--out", tmp_path / "figures", "--report", report,
                 "--partnership", "Example County DA Partnership", *extra)
    assert result.exit_code == 0, result.stderr
    return report


def test_the_county_report_holds_the_figures_and_no_suppressed_value(cli, tmp_path, county_files):
    report = combine_report(cli, tmp_path, county_files)
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    text, tables, document = text_of(report)
    assert "Example County DA Partnership: report to the partnership board" in text
    assert "Period: 2026/27 (01/04/2026 to 31/03/2027)." in text
    assert "30 households were referred in the period" in text
    assert row_of(tables, "Large", "District") == ["Large", "20", "20", "6.5", "50%", "£2,000"]
    assert row_of(tables, "Mid", "District") == ["Mid", "hidden", "hidden", "9", "0%", "hidden"]
    assert row_of(tables, "Small", "District") == ["Small", "<5", "<5", "hidden", "hidden", "hidden"]
    assert row_of(tables, "All", "District") == ["All", "30", "29", "7", "38%", "£3,635"]
    for secret in ("1,234", "1234", "1,235", "1235", "£400", "£1,635", "£1,634"):  # small's or mid's spend
        assert secret not in text, secret
    assert "<5 stands for a number from 1 to 4" in text
    assert len(document.inline_shapes) == 3  # referrals per month, time to fit, spend per fund source
    assert charts.INSTALL_HINT not in text
    header = document.sections[0].header.paragraphs[0].text
    footer = document.sections[0].footer.paragraphs[0].text
    assert header == "OFFICIAL-SENSITIVE" and footer.startswith("OFFICIAL-SENSITIVE")
    properties = document.core_properties
    assert (properties.category, properties.author, properties.last_modified_by, properties.keywords) == (
        "Board report", "Example County DA Partnership", "test.coordinator", "OFFICIAL-SENSITIVE")
    assert properties.title == "Target hardening and sanctuary schemes: 2026/27"
    assert "python-docx" not in " ".join(str(v) for v in (properties.comments, properties.author,
                                                          properties.last_modified_by, properties.title))


def test_without_matplotlib_the_report_has_its_tables_and_says_how_to_add_charts(cli, tmp_path, county_files,
                                                                                monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    assert charts.available() is False
    report = combine_report(cli, tmp_path, county_files, "plain.docx", "--marking", "OFFICIAL")
    text, tables, document = text_of(report)
    assert len(document.inline_shapes) == 0
    assert charts.INSTALL_HINT in text
    assert row_of(tables, "Large", "District")[1] == "20" and row_of(tables, "Small", "District")[1] == "<5"
    assert document.sections[0].header.paragraphs[0].text == "OFFICIAL"


def test_a_report_is_replaced_only_with_force_and_only_a_board_report(cli, tmp_path, county_files):
    report = combine_report(cli, tmp_path, county_files)
    result = cli("county", "combine", *county_files, "--out", tmp_path / "again", "--report", report)
    assert (result.exit_code, result.stderr) == (1, f"Error: {report} already exists: choose another name, or add "
                                                    "--force to replace it (only an earlier board report is "
                                                    "replaced)\n")
    assert not (tmp_path / "again").exists()  # nothing is written when a destination is refused
    letter = tmp_path / "letter.docx"
    docx.Document().save(str(letter))
    result = cli("county", "combine", *county_files, "--out", tmp_path / "again", "--report", letter, "--force")
    assert (result.exit_code, result.stderr) == (1, f"Error: {letter} is not an earlier board report (it is "
                                                    "something else), so it is not replaced, even with --force: "
                                                    "choose another name\n")
    result = cli("county", "combine", *county_files, "--out", tmp_path / "again", "--report", tmp_path / "r.pdf")
    assert (result.exit_code, result.stderr) == (2, f"Error: --report: {tmp_path / 'r.pdf'}: a board report is a "
                                                    "Word file: give a name ending in .docx\n")


def test_a_report_that_cannot_be_written_leaves_the_figures_unwritten(cli, tmp_path, county_files, monkeypatch):
    import errno
    import tempfile

    long_name = tmp_path / ("b" * 300 + ".docx")
    result = cli("county", "combine", *county_files, "--out", tmp_path / "figures", "--report", long_name)
    assert result.exit_code == 2 and result.stderr.startswith("Error: --report: ")  # the long name is shortened
    assert result.stderr.endswith(": the name is too long for this disk: choose a shorter name or folder\n")
    assert not (tmp_path / "figures").exists()
    # With --force, the earlier figures are not replaced either (a read-only folder, as root cannot make one).
    combine_report(cli, tmp_path, county_files)
    before = {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()}
    locked = tmp_path / "ro"
    locked.mkdir()
    real = tempfile.mkstemp

    def refuse_in_ro(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse_in_ro)
    result = cli("county", "combine", *county_files[:2], "--out", tmp_path / "figures", "--report",
                 locked / "b.docx", "--force")
    assert (result.exit_code, result.stderr) == (2, f"Error: --report: cannot write {locked / 'b.docx'}: "
                                                    "permission denied. Choose a folder you can write to\n")
    assert {p.name: p.read_bytes() for p in (tmp_path / "figures").iterdir()} == before
    assert list(locked.iterdir()) == []


# --- a scheme's own board report -------------------------------------------------------------------------


def test_report_board_for_a_scheme_counts_every_case_and_is_audited(cli, db, tmp_path):
    set_setting(db, "scheme_name", "Test Sanctuary Scheme")
    fund = add_fund(db, "opcc")
    for number in range(7):  # northmoor: seven cases, one without county consent (the report counts it)
        case = add_case(db, received=f"2026-0{4 + number % 5}-0{1 + number}", county_consent=number != 0,
                        fitted_on=f"2026-0{4 + number % 5}-2{number}")
        add_line(db, case, fitted_on=f"2026-0{4 + number % 5}-2{number}", fund_id=fund)
        add_money(db, "payment", -10000, fund_id=fund, case_id=case)
    lone = add_case(db, received="2026-05-05", district="southvale")
    add_money(db, "payment", -98765, fund_id=fund, case_id=lone)
    out = tmp_path / "board.docx"
    result = cli("report", "board", "--year", "2026/27", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Wrote the board report for 2026/27 (01/04/2026 to 31/03/2027) to {out}.\n"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    text, tables, document = text_of(out)
    assert "Test Sanctuary Scheme: report to the partnership board" in text
    assert "8 households were referred in the period." in text
    # Southvale's one case is below the threshold, so Northmoor's seven are hidden too (8 - 7 would tell).
    assert row_of(tables, "Northmoor", "District")[:2] == ["Northmoor", "hidden"]
    assert row_of(tables, "Southvale", "District")[1] == "<5"
    assert row_of(tables, "All", "District")[:3] == ["All", "8", "7"]
    assert "987" not in text and "988" not in text  # the lone household's spend
    assert len(document.inline_shapes) == 3
    audit = db.conn.execute("SELECT action, detail FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert audit == ("report.board", f"period 2026/27 (2026-04-01 to 2027-03-31); 8 cases; to {out}")
    again = cli("report", "board", "--year", "2026/27", "--out", out)
    assert again.exit_code == 1 and "add --force to replace it (only an earlier board report is replaced)" in \
        again.stderr
    assert cli("report", "board", "--year", "2026/27", "--out", out, "--force").exit_code == 0
