"""The quick commands stay quick: what they do not import, and the shortcuts that spare it.

`thcli --help`, `referral list` and `due` are measured against a bare Typer
app (bench/run.py). They must not load what they do not use: pydantic (which
typer would load for its value converters), sqlite-utils, questionary, docx,
phonenumbers, holidays or keyring (only an encrypted database needs the
keychain). The shortcuts must give what the long way gives.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "sqlite_utils", "questionary", "docx", "docxtpl", "phonenumbers", "holidays", "keyring",
         # xml.sax.saxutils pulls in urllib.request, http.client and ssl (30 ms); sqlite-utils pulls in numpy
         "http", "ssl", "numpy")

# Runs the CLI in a fresh interpreter and reports which heavy packages it loaded.
PROBE = """
import json, sys
from thcli.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))), file=sys.stderr)
"""


def loaded_by(*args: str) -> list[str]:
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ["--help"],
    ["referral", "list", "--status", "new", "--limit", "50", "--format", "table"],
    ["referral", "list", "--search", "Example", "--format", "table"],
    ["due", "--format", "table"],
])
def test_quick_commands_load_nothing_heavy(db, args):
    assert loaded_by(*args) == []


def test_reading_a_case_and_the_funds_loads_nothing_heavy(db):
    """`referral show` reads the case's money with a WITH query, and its audit row is a plain INSERT: neither
    needs sqlite-utils, and its letters are listed without the letter-writing libraries."""
    from thcli import referrals

    ref = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high"), by="t").ref
    db.close()
    assert loaded_by("referral", "show", ref, "--format", "json") == []
    assert loaded_by("budget", "status", "--format", "table") == []


@pytest.mark.parametrize("args,message", [
    (["referral", "list", "--format", "yaml"],
     "Invalid value for '--format' / '-f': Value error, 'yaml' is not one of 'table', 'json', 'csv'."),
    (["referral", "list", "--limit", "2.5"], "Invalid value for '--limit': '2.5' is not a whole number"),
    (["due", "--within", "x"], "Invalid value for '--within': 'x' is not a whole number"),
])
def test_a_bad_option_value_still_gets_typers_message(db, cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_options_are_converted_as_typer_converts_them(db, cli):
    # A parser (--limit), a choice (--format) and plain text (--status, --search).
    assert cli.json("referral", "list", "--status", "new", "--limit", "5") == []
    assert cli.json("referral", "list", "--search", "Example") == []
    result = cli("due", "--within", "3", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ref,what,due_on")


def test_query_gives_what_sqlite_utils_gives(db):
    from sqlite_utils import Database

    utils = Database(db.conn)
    for sql, params in [
        ("SELECT code, label FROM codes WHERE list = ? ORDER BY position", ["district"]),
        ("SELECT 1 AS id, 2 AS id, 3 AS id_2", None),  # repeated names: sqlite-utils renames them
        ("  select key FROM settings ORDER BY key LIMIT 3", ()),
        ("WITH x AS (SELECT 1 AS n) SELECT n FROM x", None),
    ]:
        assert list(db.query(sql, params)) == list(utils.query(sql, params))
    with pytest.raises(ValueError):
        list(db.query("UPDATE settings SET value = value"))
