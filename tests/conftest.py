"""Every test runs on its own temporary database (THCLI_DB), never a real one."""

from __future__ import annotations

import datetime as dt
import json
import os

import freezegun
import pytest
from typer.testing import CliRunner

from thcli.cli import app

TODAY = dt.date(2026, 11, 20)  # a Friday: tests freeze time here unless they say otherwise

# freezegun replaces every module's reference to time.perf_counter, pytest's timer
# included, so `--durations` printed decades: leave pytest's clock alone.
freezegun.configure(extend_ignore_list=["_pytest.timing"])


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A fresh database path, user name and fixed terminal width for each test."""
    monkeypatch.setenv("THCLI_DB", str(tmp_path / "thcli.db"))
    monkeypatch.setenv("THCLI_USER", "test.coordinator")
    monkeypatch.setenv("COLUMNS", "200")
    # No test reaches this machine's keychain: keyring's "no keychain" backend, unless a test sets another
    # (tests/test_keychain.py).
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("THCLI_KEY", raising=False)
    monkeypatch.delenv("THCLI_NEW_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    os.umask(0o022)
    yield tmp_path


@pytest.fixture
def db_path(isolated):
    return isolated / "thcli.db"


@pytest.fixture(scope="session")
def initialised_scheme(tmp_path_factory) -> bytes:
    """The bytes of a freshly initialised scheme database, made once per test run.

    ``init`` seeds every code list and setting (about 170 ms); hundreds of tests
    start from the same scheme, so each gets a copy of this one instead.
    """
    from thcli import scheme
    from thcli.db import open_db

    path = tmp_path_factory.mktemp("template") / "thcli.db"
    database = open_db(path, create=True)
    scheme.init_scheme(database, by="test.coordinator", name="Test Sanctuary Scheme", code="test",
                       prefix="TH", districts=[("northmoor", "Northmoor"), ("southvale", "Southvale")])
    database.close()  # folds the WAL into the file, so the file alone is the whole database
    return path.read_bytes()


@pytest.fixture
def db(db_path, initialised_scheme):
    """An initialised scheme database (default code lists and settings), each test its own."""
    from thcli.db import open_db
    from thcli.files import write_atomically

    write_atomically(db_path, initialised_scheme)
    database = open_db(db_path)
    yield database
    database.close()


class Runner:
    """CliRunner with stdout and stderr apart, and a JSON helper."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    def json(self, *args: str):
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli():
    return Runner()


def referral_args(**overrides) -> list[str]:
    """Options for a valid `referral add`, with overrides (None drops an option)."""
    options = {
        "--name": "Alex Example",
        "--postcode": "ZZ1 2AB",
        "--district": "northmoor",
        "--route": "idva",
        "--risk": "high",
        "--received": "2026-11-18",
    }
    options.update(overrides)
    args = []
    for key, value in options.items():
        if value is None:
            continue
        if value is True:
            args.append(key)
        else:
            args += [key, value]
    return args


def insert_ledger_rows(conn, rows) -> None:
    """Ledger entries written straight into an old database, chained as thcli chains them: each row holds id,
    at, on_date, kind, amount_pence, fund_id, case_id, line_id, invoice, contributor, pledged, corrects_id, memo
    and by (the columns of the first release's ledger)."""
    from thcli.chains import GENESIS, chain_hash

    prev = GENESIS
    for values in rows:
        digest = chain_hash(prev, list(values))
        conn.execute("INSERT INTO ledger (id, at, on_date, kind, amount_pence, fund_id, case_id, line_id, invoice, "
                     "contributor, pledged, corrects_id, memo, by, prev_hash, hash) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*values, prev, digest])
        prev = digest


def database_made_by(path, *steps):
    """A database as an older thcli left it: only the migration functions ``steps`` applied, in order. Returns
    an open sqlite3 connection to it (the caller adds rows, commits and closes)."""
    import sqlite3

    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    from thcli.migrations import MIGRATION_SET

    old = Migrations(MIGRATION_SET)
    for step in steps:
        old()(step)
    conn = sqlite3.connect(str(path))
    old.apply(sqlite_utils.Database(conn))
    return conn

