"""The benchmark's verdicts: a missed target is named, and --check turns it into a failing exit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("thcli_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_target_met_on_both_counts_is_not_missed(bench):
    table = bench.Table()
    table.add("thcli --help", 300, reference=250, ratio_limit=1.5, limit_ms=400, target="≤ 1.5x and < 400 ms")
    assert table.missed == []
    assert table.rows[0][-1] == "yes"


@pytest.mark.parametrize(("ms", "reference"), [(400, 250), (360, 300)], ids=["ratio 1.6x", "over 350 ms"])
def test_a_ratio_or_a_limit_missed_is_named(bench, ms, reference):
    table = bench.Table()
    table.add("thcli due", ms, reference=reference, ratio_limit=1.5, limit_ms=350, target="≤ 1.5x and < 350 ms")
    assert table.missed == ["thcli due (≤ 1.5x and < 350 ms)"]
    assert table.rows[0][-1] == "NO"


def test_a_row_without_a_target_is_never_missed(bench):
    table = bench.Table()
    table.add("bare Typer app --help", 10_000)
    assert table.missed == [] and table.rows[0][-1] == ""
