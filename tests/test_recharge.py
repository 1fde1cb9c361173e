"""Moving an approved line to another fund (``measures recharge``), and approving several lines over a cap:
domain, then CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import add_fund, counts, surveyed_case
from thcli import budget, measures, settings
from thcli.db import write
from thcli.errors import BadInput, NotAllowed, WouldOverspend

TODAY = "2026-11-20"
D19 = dt.date(2026, 11, 19)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def district_fund(db, amount: int = 10_000, district: str = "northmoor", name: str = "Northmoor HPG") -> str:
    return budget.add_fund(db, name, year="2026/27", source="hpg", amount_pence=amount, district=district,
                           by="t", on=dt.date(2026, 4, 1))["code"]


def approved(db, **overrides) -> str:
    ref = surveyed_case(db, **overrides)
    measures.approve(db, ref, [], fund=add_fund(db), on=D19, by="t")
    return ref


def figures(db) -> dict[str, tuple[int, int, int]]:
    return {f["fund"]: (f["committed_pence"], f["paid_pence"], f["remaining_pence"]) for f in budget.list_funds(db)}


def test_recharge_releases_in_the_old_fund_and_commits_in_the_new_in_one_go(db):
    ref = approved(db)
    new = district_fund(db)
    line, old, amount = measures.recharge(db, ref, 1, fund=new, by="Jo Coordinator")
    assert (line["line"], line["fund"], old, amount) == (1, "northmoor_hpg_2026_27", "example_opcc_2026_27", 8_500)
    assert figures(db) == {"example_opcc_2026_27": (2_400, 0, 497_600), "northmoor_hpg_2026_27": (8_500, 0, 1_500)}
    assert db.conn.execute("SELECT kind, amount_pence, memo FROM ledger ORDER BY id DESC LIMIT 2").fetchall() == [
        ("commitment", -8_500, "recharged from example_opcc_2026_27"),
        ("release", 8_500, "recharged to northmoor_hpg_2026_27")]
    assert db.conn.execute("SELECT detail FROM events ORDER BY id DESC").fetchone()[0] == (
        "line 1 moved from example_opcc_2026_27 to northmoor_hpg_2026_27 (£85.00 committed)")
    assert budget.verify_chain(db) == []
    # The line is paid from its new fund from now on.
    measures.order(db, ref, [1], contractor="in_house", on=D19, by="t")
    budget.pay(db, ref, 1, amount_pence=8_500, internal=True, by="t")
    assert figures(db)["northmoor_hpg_2026_27"] == (0, 8_500, 1_500)


def test_recharge_refuses_an_overspend_there_like_any_approval(db):
    ref = approved(db)
    small = district_fund(db, amount=5_000)
    before = counts(db)
    with pytest.raises(WouldOverspend) as caught:
        measures.recharge(db, ref, 1, fund=small, by="t")
    assert caught.value.message == (
        "moving £85.00 for TH-2026-0001 line 1 to northmoor_hpg_2026_27 would take Northmoor HPG "
        "(northmoor_hpg_2026_27) below zero by £35.00: it has £50.00 left. Choose another fund, add money to it "
        "(`thcli budget fund allocate`), or go ahead with --allow-overspend REASON (recorded)")
    assert counts(db) == before
    measures.recharge(db, ref, 1, fund=small, allow_overspend="The district pays; top-up agreed", by="t")
    assert figures(db)["northmoor_hpg_2026_27"] == (8_500, 0, -3_500)
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'budget.overspend'").fetchone()[0] == 1


def test_recharge_refuses_another_districts_fund_the_same_fund_and_a_line_with_nothing_committed(db):
    ref = approved(db)
    with pytest.raises(NotAllowed, match=r"Southvale HPG \(southvale_hpg_2026_27\) is for cases in southvale, and "
                                         r"TH-2026-0001 is in northmoor"):
        measures.recharge(db, ref, 1, fund=district_fund(db, district="southvale", name="Southvale HPG"), by="t")
    with pytest.raises(NotAllowed, match=r"TH-2026-0001 line 1 is already charged to Example OPCC"):
        measures.recharge(db, ref, 1, fund="example_opcc_2026_27", by="t")
    new = district_fund(db)
    measures.order(db, ref, [1], contractor="in_house", on=D19, by="t")
    budget.pay(db, ref, 1, amount_pence=8_500, internal=True, by="t")
    with pytest.raises(NotAllowed) as caught:
        measures.recharge(db, ref, 1, fund=new, by="t")
    assert caught.value.message == (
        "TH-2026-0001 line 1 has nothing committed to move: £85.00 was paid on it from example_opcc_2026_27. To "
        "charge that to northmoor_hpg_2026_27 instead, correct the payment (`thcli budget ledger --ref "
        "TH-2026-0001 --kind payment`, then `thcli budget correct ENTRY --reason TEXT`), recharge the line and pay "
        "it again")
    with pytest.raises(BadInput, match="--fund: there is no fund 'nowhere'"):
        measures.recharge(db, ref, 2, fund="nowhere", by="t")


def test_recharge_of_a_line_not_approved_says_so(db):
    ref = surveyed_case(db)
    add_fund(db)
    with pytest.raises(NotAllowed, match=r"line 1 \(lock_change_door\) is recommended, so it cannot be recharged: "
                                         r"only a line approved against a fund can be charged to another"):
        measures.recharge(db, ref, 1, fund="example_opcc_2026_27", by="t")


def test_cli_recharge(db, cli):
    ref = approved(db)
    district_fund(db)
    result = cli("measures", "recharge", ref, "2", "--fund", "northmoor_hpg_2026_27")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("TH-2026-0001 line 2 (Window alarm) is now charged to northmoor_hpg_2026_27: £24.00 "
                             "released from example_opcc_2026_27 and committed to northmoor_hpg_2026_27.\n")
    result = cli("measures", "recharge", ref, "2", "--fund", "northmoor_hpg_2026_27")
    assert (result.exit_code, result.stderr) == (1, "Error: TH-2026-0001 line 2 is already charged to Northmoor HPG "
                                                    "(northmoor_hpg_2026_27)\n")
    result = cli("measures", "recharge", ref, "2")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Missing option '--fund'.")


# --- the caps, for several lines at once -------------------------------------------------------------


def test_the_contribution_cap_gives_the_whole_shortfall_once_and_its_command_works(db, cli):
    with write(db):
        settings.put(db, "contribution_cap", 20_000)
    ref = surveyed_case(db, measures=[("lock_change_door", 2, None), ("door_viewer", 1, None),
                                      ("sanctuary_room", 1, 25_000)], tenure="private_rented")
    add_fund(db)
    district_fund(db, amount=100_000)  # a second fund: a contribution without --fund would not know where to go
    before = counts(db)
    result = cli("measures", "approve", ref, "--fund", "example_opcc_2026_27")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: TH-2026-0001: the scheme pays at most £200.00 towards a household's works (setting "
        "contribution_cap), and approving lines 1, 2, 3 (£455.00 of works) would bring its share of TH-2026-0001's "
        "works to £455.00, after contributions from others. To approve them within the cap, £255.00 must come from "
        "others: record the landlord's contribution first (`thcli budget contribution TH-2026-0001 --from landlord "
        "--amount 255.00 --pledged --fund example_opcc_2026_27`), then approve again. Or approve with "
        "--over-cap-reason REASON (recorded), or leave lines out\n")
    assert counts(db) == before
    command = result.stderr.split("(`thcli ")[1].split("`)")[0].split()
    done = cli(*command)
    assert done.exit_code == 0, done.stderr
    approved_now = cli("measures", "approve", ref, "--fund", "example_opcc_2026_27")
    assert approved_now.exit_code == 0, approved_now.stderr
    assert approved_now.stdout == "TH-2026-0001: approved lines 1, 2, 3 against example_opcc_2026_27.\n"


def test_both_caps_ask_for_the_larger_shortfall(db):
    with write(db):
        settings.put(db, "contribution_cap", 10_000)
        settings.put(db, "household_cap", 15_000)
    ref = surveyed_case(db, measures=[("lock_change_door", 1, None), ("cctv", 1, 12_000)])
    fund = add_fund(db)
    with pytest.raises(NotAllowed) as caught:
        measures.approve(db, ref, [], fund=fund, by="t")
    assert "the household cap is £150.00 (setting household_cap), and approving lines 1, 2 (£205.00)" in \
        caught.value.message
    assert "To approve them within the caps, £105.00 must come from others" in caught.value.message
    budget.add_contribution(db, ref, contributor="survivor", amount_pence=10_500, pledged=True, fund_text=fund,
                            by="t")
    assert [line["status"] for line in measures.approve(db, ref, [], fund=fund, by="t")] == ["approved", "approved"]
