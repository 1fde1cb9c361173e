"""Golden files: a fixed demo scheme exports, byte for byte, the committed county CSVs.

The demo (fixed seed, frozen date, fixed pseudonym secret) is exported with
`thcli export cases` and `thcli export summary`; the bytes must equal
tests/golden/county_*.csv. When the demo or the export changes on purpose,
regenerate the files and review the diff before committing:

    THCLI_UPDATE_GOLDEN=1 python -m pytest tests/test_county_golden.py
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from freezegun import freeze_time

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("THCLI_UPDATE_GOLDEN") == "1"
EXPORTS = {
    "county_cases_2026-27.csv": ["export", "cases", "--year", "2026/27"],
    "county_summary_2026-27.csv": ["export", "summary", "--year", "2026/27"],
    "county_summary_2026Q3_rounded.csv": ["export", "summary", "--quarter", "2026Q3", "--round", "5"],
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The demo's exports, as bytes, built once for the module."""
    from typer.testing import CliRunner

    from thcli import demo
    from thcli.cli import app
    from thcli.db import open_db

    folder = tmp_path_factory.mktemp("golden")
    path = folder / "demo.db"
    with freeze_time("2026-11-20 10:00:00"):
        db = open_db(path, create=True)
        demo.build_demo(db, cases=200, seed=7, today=dt.date(2026, 11, 20))
        db.conn.execute("UPDATE secrets SET value = 'golden-file-secret' WHERE name = 'county_hmac'")
        db.conn.commit()
        db.close()
        files = {}
        for name, args in EXPORTS.items():
            out = folder / name
            result = CliRunner().invoke(app, ["--db", str(path), *args, "--out", str(out)])
            assert result.exit_code == 0, result.output
            files[name] = out.read_bytes()
    return files


@pytest.mark.parametrize("name", list(EXPORTS))
def test_the_demo_exports_the_golden_file_byte_for_byte(exported, name):
    golden = GOLDEN / name
    if UPDATE:
        golden.write_bytes(exported[name])
        return
    assert golden.exists(), (f"{golden} is missing: make it with THCLI_UPDATE_GOLDEN=1 python -m pytest "
                             f"tests/test_county_golden.py, check it, and commit it")
    expected = golden.read_bytes()
    if exported[name] != expected:
        got, want = exported[name].split(b"\r\n"), expected.split(b"\r\n")
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        pytest.fail(f"{name} differs from the golden file at line {first + 1}:\n"
                    f"  expected: {want[first] if first < len(want) else b'(end of file)'!r}\n"
                    f"  exported: {got[first] if first < len(got) else b'(end of file)'!r}\n"
                    "If the change is intended, regenerate with THCLI_UPDATE_GOLDEN=1 (see this file's docstring).")


def test_golden_files_are_what_the_county_expects():
    """The committed files themselves keep the contract: BOM, CRLF, spec_version first."""
    for name in EXPORTS:
        data = (GOLDEN / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbfspec_version,")
        lines = data[3:].split(b"\r\n")
        assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
        assert all(line.startswith(b"thcli-county-2,") for line in lines[1:-1])
