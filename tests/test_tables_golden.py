"""Every list and show command's table, at 80 and at 120 columns, against committed golden files (issue 16).

The database is the county golden test's hand-written scheme (thirteen cases
told through the domain functions) with a few more things a table shows: a
client with a long name, notes, a memo on the ledger, stock, a letter, a
contractor with a phone and an e-mail, a retired code and a case ended long
ago. Time is frozen. Each command runs with ``--format table`` (as in a
pipe) at ``COLUMNS=80`` and ``COLUMNS=120``, and its output must equal
``tests/golden/tables/NAME-WIDTH.txt``.

Besides the files, the rules the goldens show are checked on their own: no
line is wider than the window; every reference, date and amount of the
JSON output is in the table whole; and a column left out is named on the
last line.

When a table changes on purpose (a new column, a new command), regenerate the
files and read the diff before committing:

    THCLI_UPDATE_GOLDEN=1 python -m pytest -n 0 tests/test_tables_golden.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from tests.test_county_golden import BY, build_scheme
from thcli import dates
from thcli.cli import app

GOLDEN = Path(__file__).parent / "golden" / "tables"
UPDATE = os.environ.get("THCLI_UPDATE_GOLDEN") == "1"
TODAY = "2026-11-20 10:00:00"
WIDTHS = (80, 120)

#: name -> the command line (without --format). Every list and show command has one at least.
COMMANDS: dict[str, list[str]] = {
    "referral-list": ["referral", "list", "--limit", "0"],
    "referral-show": ["referral", "show", "GV-2026-0003"],
    "referral-show-letters": ["referral", "show", "GV-2026-0014"],
    "measures-list": ["measures", "list", "GV-2026-0002"],
    "due": ["due", "--within", "10"],
    "budget-status": ["budget", "status", "--year", "2026/27"],
    "budget-ledger": ["budget", "ledger", "--year", "2026/27"],
    "budget-fund-list": ["budget", "fund", "list"],
    "codes-list": ["codes", "list"],
    "codes-list-measure": ["codes", "list", "measure"],
    "codes-list-contractor": ["codes", "list", "contractor"],
    "codes-list-route": ["codes", "list", "route"],
    "settings-show": ["settings", "show"],
    "stock-list": ["stock", "list"],
    "audit": ["audit", "--ref", "GV-2026-0002"],
    "letter-templates-list": ["letter", "templates", "list"],
    "report-summary": ["report", "summary", "--year", "2026/27"],
    "retention-review": ["retention", "review"],
}


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_more(db, folder: Path) -> None:
    """What the county scheme lacks and a table shows."""
    from thcli import budget, codes, letters, referrals, stock, workflow
    from thcli.referrals import ReferralInput

    with freeze_time("2019-03-01 09:30:00"):  # ended long ago: past its retention
        old = referrals.add_referral(db, ReferralInput(
            name="Nat Goldenold", postcode="ZZ1 4JK", district="eastmoor", route="police", risk_level="standard",
            received_on=day("2019-03-01")), by=BY).ref
        workflow.move(db, old, "declined", reason="out_of_area", by=BY, on=day("2019-03-04"))
    long_name = referrals.add_referral(db, ReferralInput(
        name="Alexandra Featherstonehaugh-Goldenfourteen", postcode="ZZ2 7LM", district="westvale",
        route="idva", risk_level="high", emergency=True, received_on=day("2026-11-18"),
        referrer_name="Jo Idvagolden", referrer_org="Golden Vale IDVA Service",
        referrer_email="idva@example.org", safe_post=True, address="14 Example Street, Westvale",
        consent=["police", "contractor"]), by=BY).ref
    referrals.add_note(db, long_name, "Spoke to the IDVA: the client prefers a call on weekday mornings "
                                      "before ten, and would like the survey as soon as possible.", by=BY)
    letters.make_letter(db, long_name, "acknowledgement", by=BY, out_dir=folder / "letters")
    budget.allocate(db, "county_fund_2026_27", 250_000, by=BY, on=day("2026-10-01"),
                    memo="Top-up from the county's winter grant, agreed at the October board")
    codes.add(db, "contractor", "secure_golden_locks", "Secure Golden Locks Ltd", by=BY, phone="020 7946 0123",
              email="orders@secure-golden-locks.example.org")
    codes.retire(db, "route", "court", by=BY)
    stock.add_stock(db, "personal_alarm", 6, holder="idva", by=BY, on=day("2026-10-01"))
    stock.add_stock(db, "door_alarm", 2, holder="idva", by=BY, on=day("2026-10-01"))


@pytest.fixture(scope="module")
def scheme_bytes(tmp_path_factory) -> tuple[bytes, bytes]:
    """The database's bytes, and the letter's, built once for the module."""
    from thcli.db import open_db

    folder = tmp_path_factory.mktemp("tables")
    path = folder / "golden.db"
    with freeze_time(TODAY):
        db = open_db(path, create=True)
        build_scheme(db)
        build_more(db, folder)
        db.close()
    letter = next((folder / "letters").iterdir())
    return path.read_bytes(), letter.name.encode() + b"\0" + letter.read_bytes()


@pytest.fixture
def scheme(scheme_bytes, db_path) -> Path:
    data, letter = scheme_bytes
    db_path.write_bytes(data)
    name, content = letter.split(b"\0", 1)
    (db_path.parent / "letters").mkdir()
    (db_path.parent / "letters" / name.decode()).write_bytes(content)
    return db_path


def run(monkeypatch, args: list[str], width: int | None, fmt: str = "table") -> str:
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    with freeze_time(TODAY):
        result = CliRunner().invoke(app, [*args, "--format", fmt], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_is_the_golden_file(scheme, monkeypatch, name, width):
    shown = run(monkeypatch, COMMANDS[name], width)
    golden = GOLDEN / f"{name}-{width}.txt"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(shown, encoding="utf-8")
    assert golden.exists(), (f"{golden.name} is missing: make it with THCLI_UPDATE_GOLDEN=1 python -m pytest -n 0 "
                             "tests/test_tables_golden.py, read it, and commit it")
    expected = golden.read_text(encoding="utf-8")
    if shown != expected:
        got, want = shown.splitlines(), expected.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        pytest.fail(f"`thcli {' '.join(COMMANDS[name])}` at {width} columns differs from {golden.name} at line "
                    f"{first + 1}:\n  expected: {want[first] if first < len(want) else '(end)'!r}\n"
                    f"  shown:    {got[first] if first < len(got) else '(end)'!r}\n"
                    "If the change is intended, regenerate with THCLI_UPDATE_GOLDEN=1 (see this file's docstring).")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_line_is_wider_than_the_window(scheme, monkeypatch, name, width):
    from rich.cells import cell_len

    wide = [line for line in run(monkeypatch, COMMANDS[name], width).splitlines() if cell_len(line.rstrip()) > width]
    assert wide == []


def test_in_a_pipe_without_columns_a_table_is_80_wide(scheme, monkeypatch):
    assert run(monkeypatch, COMMANDS["referral-list"], None) == run(monkeypatch, COMMANDS["referral-list"], 80)


def test_in_a_pipe_the_default_is_still_json(scheme, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with freeze_time(TODAY):
        result = CliRunner().invoke(app, ["referral", "list"], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["ref"] == "GV-2026-0014"


def _values(rows: list[dict], keys: dict[str, str]) -> set[str]:
    from thcli import parse

    values = set()
    for row in rows:
        for key, kind in keys.items():
            value = row.get(key)
            if value in (None, ""):
                continue
            values.add(dates.format_date(value) if kind == "date" else
                       parse.format_money(value) if kind == "money" else str(value))
    return values


@pytest.mark.parametrize("args,keys", [
    (["referral", "list", "--limit", "0"], {"ref": "ref", "next_due_on": "date"}),
    (["budget", "ledger", "--year", "2026/27"], {"id": "number", "on_date": "date", "amount_pence": "money",
                                                  "ref": "ref"}),
    (["due", "--within", "10"], {"ref": "ref", "due_on": "date"}),
    (["budget", "fund", "list"], {"fund": "code", "remaining_pence": "money"}),
    (["codes", "list", "measure"], {"code": "code"}),
])
def test_what_stays_at_80_columns_is_never_cut(scheme, monkeypatch, args, keys):
    table = run(monkeypatch, args, 80)
    rows = json.loads(run(monkeypatch, args, 80, fmt="json"))
    words = set(re.split(r"\s{2,}|\n", table)) | set(table.split())
    missing = [value for value in _values(rows, keys) if value not in words and value not in table]
    assert rows and missing == []
    for value in _values(rows, keys):  # whole on one line, never folded
        assert any(value in line for line in table.splitlines()), value


def test_the_last_line_names_the_columns_left_out(scheme, monkeypatch):
    narrow = run(monkeypatch, COMMANDS["referral-list"], 80).splitlines()
    assert narrow[-2:] == ["Left out to fit 80 columns: Received, Postcode, District, For (--format json or",
                           "a wider window shows them)."]
    assert "Left out" not in run(monkeypatch, COMMANDS["referral-list"], 160)
