"""The county's side (issue 17): the county key, combining the districts' files, the figures and their suppression.

Files are built here row by row (:func:`write_extract`, :func:`write_summary`)
so that every expected figure is known exactly; the CLI tests are in
test_county_combine_cli.py, the board report's in test_board.py.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import itertools
import os
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.test_county import add_case, add_client, set_secret
from thcli import county
from thcli.errors import BadInput, NotAllowed
from thcli.partnership import combine, figures, key
from thcli.partnership.figures import Totals


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


YEAR = county.period(year="2026/27")

# --- building district files -----------------------------------------------------------------------


def pseudonym(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_CASES = itertools.count()


def extract_row(scheme: str = "alpha", **cells) -> dict:
    row = {column: "" for column in county.CASE_COLUMNS}
    row.update({
        "spec_version": "thcli-county-2", "scheme_code": scheme, "district": scheme,
        "case_pseudonym": pseudonym(f"case {cells.get('client', '')} {next(_CASES)}"),  # each row a case of its own
        "client_pseudonym": pseudonym(cells.pop("client", "someone")), "pseudonym_scope": "county",
        "referral_month": "2026-05", "referral_route": "idva", "risk_level": "medium", "marac": "no",
        "emergency": "no", "repeat_referral": "no", "tenure": "owner", "adults": "1", "children": "0",
        "age_band": "25-34", "gender": "woman", "ethnicity": "white", "status": "open", "within_target": "pending",
        "cost_total": "0.00", "contributions_total": "0.00",
    })
    for column in ("disabled", "lgbt", "mental_health_needs", "substance_use_needs", "nrpf", "interpreter_needed"):
        row[column] = "no"
    row.update(cells)
    return row


def write_extract(path: Path, rows: list[dict], *, version: int = 2, bom: bool = True) -> Path:
    header = county.CASE_COLUMNS if version == 2 else county.CASE_COLUMNS_V1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        values = dict(row)
        if version == 1:
            values["spec_version"] = "thcli-county-1"
        writer.writerow([values[c] for c in header])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def write_summary(path: Path, scheme: str = "alpha", *, period: str = "2026/27", referrals: str = "12",
                  version: str = "thcli-county-2") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(county.SUMMARY_COLUMNS)
    writer.writerow([version, scheme, period, "referrals", "all", "all", referrals])
    writer.writerow([version, scheme, period, "referrals", "district", scheme, referrals])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return path


def figures_of(paths: list[Path], threshold: int = 1, **options) -> dict[tuple[str, str, str], str]:
    combined = combine.combine(paths, **options)
    return {(c.measure, c.breakdown, c.category): figures.figure_text(c)
            for c in combined.totals.figures(threshold=threshold)}


# --- the county key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed,expected", [
    ("Zoë Madeup", "zoë madeup"),
    ("ZOË  MADEUP", "zoë madeup"),
    ("Zoe\u0308 Madeup", "zoë madeup"),          # the diaeresis as a combining mark: NFKC composes it
    ("  zoë\tmadeup. ", "zoë madeup"),
    ("Seán O'Example", "seán oexample"),
    ("Anne-Marie Sample", "annemarie sample"),   # a hyphen is not a letter: removed, not a space
    ("Anne - Marie  Sample", "anne marie sample"),
    ("STRAẞE Fake", "strasse fake"),            # case-folded, not lower-cased
    ("Ｊｏ Ｄｕｍｍｙ", "jo dummy"),               # full-width letters: NFKC
    ("Jo Dummy 2nd", "jo dummy nd"),
])
def test_names_are_normalised_exactly_as_the_contract_says(typed, expected):
    assert county.person_key(typed, "1990-02-03") == f"{expected}|1990-02-03"


def test_key_file_round_trip_and_check_code(tmp_path):
    path = tmp_path / "county.key"
    code = key.new_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines[0] == "thcli-county-key-1" and len(lines[1]) == 64
    secret = key.read_key_file(path)
    assert len(secret) == 32 and secret.hex() == lines[1]
    assert code == key.check_code(secret) and code != key.check_code(bytes(32))
    assert lines[1] not in code.replace("-", "")


def test_the_extract_keys_clients_on_the_person_with_the_county_key(db, tmp_path):
    set_secret(db)
    first = add_client(db, name="Zoë Madeup", dob="1990-02-03")
    without_dob = add_client(db, name="Jo Dummy", dob=None)
    add_case(db, client_id=first, received="2026-05-05")
    add_case(db, client_id=without_dob, received="2026-05-06")
    add_case(db, client_id=first, received="2026-06-01")
    before = [(r[4], r[5]) for r in county.case_rows(db, YEAR)]
    assert [scope for _, scope in before] == ["scheme", "scheme", "scheme"]
    path = tmp_path / "county.key"
    key.new_key_file(path)
    used = key.use_key(db, path, by="tester")
    assert used.changed and used.replaced is None
    secret = key.read_key_file(path)
    expected = hmac.new(secret, "zoë madeup|1990-02-03".encode(), hashlib.sha256).hexdigest()[:16]
    rows = [(r[4], r[5]) for r in county.case_rows(db, YEAR)]
    assert rows == [(expected, "county"), (before[1][0], "scheme"), (expected, "county")]
    assert key.forget_key(db, by="tester") == used.check_code
    assert [(r[4], r[5]) for r in county.case_rows(db, YEAR)] == before


def test_using_another_key_needs_force_and_the_same_key_changes_nothing(db, tmp_path):
    one, two = tmp_path / "one.key", tmp_path / "two.key"
    key.new_key_file(one)
    key.new_key_file(two)
    first = key.use_key(db, one, by="tester")
    assert key.use_key(db, one, by="tester").changed is False
    with pytest.raises(NotAllowed, match="already holds another county key"):
        key.use_key(db, two, by="tester")
    second = key.use_key(db, two, by="tester", force=True)
    assert second.replaced == first.check_code
    assert key.state(db).check_code == second.check_code


@pytest.mark.parametrize("content,message", [
    (b"hello\n", "is not a thcli county key file"),
    (b"thcli-county-key-1\nnot hex\n", "whose key line is damaged"),
    (b"thcli-county-key-1\n" + b"ab" * 31 + b"\n", "whose key line is damaged"),
])
def test_a_file_that_is_not_a_key_is_refused(tmp_path, content, message):
    path = tmp_path / "county.key"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        key.read_key_file(path)


# --- combining: the hand-built county with known answers ---------------------------------------------


@pytest.fixture
def three_districts(tmp_path):
    """Alpha, Bravo and Charlie share the county key; Delta does not (and covers two districts).

    Survivors: ann in alpha and bravo; bea in alpha, bravo and charlie; cat twice in alpha; dot in
    charlie only; Delta's "ann" has a scheme pseudonym equal to the county one (must not match), and
    eve is referred in both Delta districts (same scheme key: matches).
    """
    alpha = write_extract(tmp_path / "alpha-cases.csv", [
        extract_row("alpha", client="ann", days_to_fit="4", within_target="yes", cost_total="100.00",
                    funds="opcc", measures_fitted="door_alarm"),
        extract_row("alpha", client="bea", days_to_fit="10", within_target="no", cost_total="300.00",
                    funds="hpg;opcc", referral_month="2026-06", status="completed", outcome_reason="completed",
                    measures_fitted="door_alarm;window_alarm"),
        extract_row("alpha", client="cat", repeat_referral="no", status="declined", outcome_reason="out_of_area"),
        extract_row("alpha", client="cat", repeat_referral="yes", days_to_survey="3"),
    ])
    bravo = write_extract(tmp_path / "bravo-cases.csv", [
        extract_row("bravo", client="ann", referral_month="2026-09", risk_level="high"),
        extract_row("bravo", client="bea", referral_month="2026-10", tenure="council", days_to_fit="2",
                    within_target="yes", cost_total="50.00", contributions_total="20.00", funds="hpg"),
    ])
    charlie = write_extract(tmp_path / "charlie-cases.csv", [
        extract_row("charlie", client="bea", referral_route="police"),
        extract_row("charlie", client="dot", referral_route="self"),
    ])
    delta = write_extract(tmp_path / "delta-cases.csv", [
        extract_row("delta", district="delta_north", client="ann", pseudonym_scope="scheme"),
        extract_row("delta", district="delta_north", client="eve", pseudonym_scope="scheme"),
        extract_row("delta", district="delta_south", client="eve", pseudonym_scope="scheme"),
    ], version=2)
    summaries = [write_summary(tmp_path / f"{name}-summary.csv", name, referrals=value)
                 for name, value in (("alpha", "4"), ("bravo", "<5"), ("charlie", "2"), ("delta", "3"))]
    return [alpha, bravo, charlie, delta, *summaries]


def test_survivors_referred_in_more_than_one_district_are_counted_where_the_keys_match(three_districts):
    found = figures_of(three_districts)
    assert found[("survivors_in_more_than_one_district", "all", "all")] == "3"  # ann, bea, eve
    assert {d: found[("survivors_in_more_than_one_district", "district", d)]
            for d in ("alpha", "bravo", "charlie", "delta_north", "delta_south")} == {
        "alpha": "2", "bravo": "2", "charlie": "1", "delta_north": "1", "delta_south": "1"}
    assert found[("survivors", "all", "all")] == "6"  # ann, bea, cat, dot, Delta's ann, eve
    assert found[("survivors_referred_again_in_district", "all", "all")] == "1"  # cat, twice in alpha
    assert found[("survivors_referred_again_in_district", "district", "alpha")] == "1"
    assert found[("repeat_referrals", "all", "all")] == "1"


def test_the_county_figures_from_the_fixture(three_districts):
    found = figures_of(three_districts)
    assert found[("referrals", "all", "all")] == "11"
    assert found[("referrals", "district", "alpha")] == "4"
    assert found[("referrals", "month", "2026-05")] == "8"
    assert found[("referrals", "month", "2026-11")] == "0"     # the period's months so far, zero or not
    assert ("referrals", "month", "2026-12") not in found      # after today (20 November): not yet
    assert found[("referrals", "referral_route", "police")] == "1"
    assert found[("referrals", "risk_level", "high")] == "1"
    assert found[("households_fitted", "all", "all")] == "3"
    assert found[("median_days_to_fit", "all", "all")] == "4"
    assert found[("p90_days_to_fit", "all", "all")] == "10"
    assert found[("median_days_to_fit", "district", "alpha")] == "7"
    assert found[("percent_within_target", "all", "all")] == "66.7"
    assert found[("spend", "all", "all")] == "450.00"
    assert found[("spend", "fund_source", "opcc")] == "100.00"
    assert found[("spend", "fund_source", "more_than_one")] == "300.00"
    assert found[("spend_per_household", "all", "all")] == "150.00"
    assert found[("contributions", "all", "all")] == "20.00"
    assert found[("cases", "status", "declined")] == "1"
    assert found[("households_unable_to_support", "outcome_reason", "out_of_area")] == "1"
    assert found[("households_support_ended", "outcome_reason", "completed")] == "1"
    assert found[("measures_fitted", "measure_code", "door_alarm")] == "2"


def test_medians_and_percentiles_from_histograms_agree_with_the_statistics_module():
    import statistics
    from collections import Counter

    from thcli.report import percentile

    for values in ([1], [1, 2], [3, 1, 2], [5, 5, 5, 9], list(range(1, 11)), [2, 40, 7, 7, 1, 0]):
        histogram = Counter(values)
        assert figures.median(histogram) == statistics.median(values)
        assert figures.percentile(histogram, 0.9) == percentile(values, 0.9)


def test_version_1_files_are_read_and_their_clients_are_scheme_keyed(tmp_path):
    old = write_extract(tmp_path / "old.csv", [extract_row("old", client="ann")], version=1)
    new = write_extract(tmp_path / "new.csv", [extract_row("new", client="ann")])
    summary = write_summary(tmp_path / "old-summary.csv", "old", version="thcli-county-1")
    found = figures_of([old, new, summary])
    assert found[("referrals", "all", "all")] == "2"
    assert found[("survivors_in_more_than_one_district", "all", "all")] == "0"


def test_a_period_is_needed_from_a_summary_or_the_command_line(tmp_path):
    extract = write_extract(tmp_path / "a.csv", [extract_row()])
    with pytest.raises(BadInput, match="no summary says which period"):
        combine.combine([extract])
    assert figures_of([extract], chosen=YEAR)[("referrals", "all", "all")] == "1"


def test_the_extract_is_streamed(tmp_path, monkeypatch):
    """Each row reaches the totals as soon as it is read: the reader never holds the file's rows."""
    path = write_extract(tmp_path / "a.csv", [extract_row(client=str(n)) for n in range(50)])
    read, added = [], []
    real_reader, real_add = csv.reader, Totals.add

    class reader:  # csv.reader, noting each row it hands out
        def __init__(self, *args, **kwargs):
            self.real = real_reader(*args, **kwargs)

        def __iter__(self):
            return self

        def __next__(self):
            row = next(self.real)
            read.append(row)
            return row

        @property
        def line_num(self):
            return self.real.line_num

    monkeypatch.setattr(combine.csv, "reader", reader)
    monkeypatch.setattr(Totals, "add", lambda self, row: added.append(len(read)) or real_add(self, row))
    combine.combine([path], chosen=YEAR)
    # (the first look at the file, open_file, reads its header and first row: 2 rows before the stream)
    assert added == list(range(2 + 2, 2 + 52))  # row n added when the header and n rows had been read, no more


# --- county-level suppression (the district summary's rules and code) --------------------------------

row_strategy = st.fixed_dictionaries({
    "district": st.sampled_from(["alpha", "bravo", "charlie"]),
    "route": st.sampled_from(["self", "marac", "police", "idva"]),
    "risk": st.sampled_from(["standard", "medium", "high"]),
    "tenure": st.sampled_from(["owner", "council", "unknown"]),
    "month": st.sampled_from(["2026-04", "2026-05", "2026-06"]),
    "fitted": st.one_of(st.none(), st.integers(0, 30)),
    "cost": st.integers(0, 3000),
    "fund": st.sampled_from(["opcc", "hpg", "opcc;hpg"]),
    "client": st.integers(0, 15),
})


@hsettings(max_examples=60, deadline=None)
@given(rows=st.lists(row_strategy, max_size=40), threshold=st.integers(2, 6))
def test_no_small_county_count_is_shown_and_no_hidden_cell_follows_from_its_total(rows, threshold):
    totals = Totals(YEAR)
    for r in rows:
        totals.add(extract_row(r["district"], referral_route=r["route"], risk_level=r["risk"], tenure=r["tenure"],
                               referral_month=r["month"], client=str(r["client"]),
                               days_to_fit="" if r["fitted"] is None else str(r["fitted"]),
                               within_target="pending" if r["fitted"] is None else "yes",
                               cost_total=f"{r['cost']}.00", funds=r["fund"] if r["cost"] else ""))
    cells = totals.figures(threshold=threshold)
    groups: dict = {}
    totals_of = {c.measure: c for c in cells if c.breakdown == "all"}
    for c in cells:
        if c.kind == "count" and c.hidden is None:
            assert not 1 <= c.value < threshold, c
        if c.hidden is None and c.kind != "count":
            assert c.cases == 0 or c.cases >= threshold, c  # money, medians, percentages of few households
        if c.breakdown != "all" and c.additive:
            groups.setdefault((c.measure, c.breakdown), []).append(c)
    for (measure, _), group in groups.items():
        total = totals_of[measure]
        if total.hidden is None:
            hidden = [c for c in group if c.hidden]
            assert len(hidden) != 1, (measure, group)
            if measure in ("referrals", "spend", "households_fitted"):  # breakdowns that add up to the total
                assert total.value - sum(c.value for c in group if not c.hidden) == sum(c.value for c in hidden)


def test_county_suppression_uses_the_district_summary_code(monkeypatch, three_districts):
    calls = []
    real = county.protect
    monkeypatch.setattr(figures, "protect", lambda cells, threshold: calls.append(threshold) or real(cells, threshold))
    found = figures_of(three_districts, threshold=5)
    assert calls == [5]
    assert found[("referrals", "all", "all")] == "11"
    assert found[("referrals", "district", "alpha")] == "<5"
    assert found[("spend", "all", "all")] == "suppressed"  # 3 households' spend
