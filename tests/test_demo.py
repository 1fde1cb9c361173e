"""`thcli demo`: a made-up scheme built beside real data, never over it."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.conftest import TODAY
from thcli import demo, workflow
from thcli.db import open_db
from thcli.errors import NotAllowed


@freeze_time(TODAY)
def test_the_demo_builds_every_status_and_says_how_to_use_it(cli, db_path):
    result = cli("demo", "--cases", "60")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f'Built the demo scheme "Example Vale Sanctuary Scheme" with 60 made-up cases in {db_path}'
    assert f"  export THCLI_DB={db_path}" in lines
    db = open_db(db_path)
    try:
        statuses = {row[0] for row in db.conn.execute("SELECT DISTINCT status FROM cases")}
        assert statuses == set(workflow.STATUSES)
        assert demo.is_demo_database(db) and not demo.has_real_cases(db)
    finally:
        db.close()


@freeze_time(TODAY)
def test_a_second_demo_replaces_the_first(cli, db_path):
    assert cli("demo", "--cases", "20").exit_code == 0
    again = cli("demo", "--cases", "30")
    assert again.exit_code == 0, again.stderr
    db = open_db(db_path)
    try:
        assert db.conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 30
    finally:
        db.close()


@freeze_time(TODAY)
def test_the_demo_never_touches_a_real_database(cli, db, db_path):
    before = db_path.read_bytes()
    result = cli("demo", "--cases", "20")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {db_path} is not a demo database: the demo never touches real data. Choose a "
                             "new file with --db, or leave --db and THCLI_DB out to use demo/demo.db in the app "
                             "folder.\n")
    assert result.stdout == ""
    assert db_path.read_bytes() == before
    with pytest.raises(NotAllowed, match="is not a demo database"):
        demo.clear_earlier_demo(db_path)
    assert db_path.exists()


def test_the_default_demo_has_a_folder_of_its_own_so_its_letters_never_mix_with_real_ones(cli, monkeypatch,
                                                                                           tmp_path):
    import typer

    monkeypatch.delenv("THCLI_DB", raising=False)
    monkeypatch.setattr(typer, "get_app_dir", lambda name, roaming=True, force_posix=False: str(tmp_path))
    result = cli("demo", "--cases", "20")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "demo" / "demo.db").is_file()
    assert any((tmp_path / "demo" / "letters").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]   # a real thcli.db's letters/ stays its own
