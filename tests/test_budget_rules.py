"""The money rules under random sequences of steps, and under two processes at once."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.test_budget import add_line, approve, decline, fit, new_case
from thcli import budget, scheme
from thcli.db import open_db
from thcli.errors import NotAllowed, WouldOverspend

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 20)

amounts = st.integers(min_value=1, max_value=30_000)
picks = st.integers(min_value=0, max_value=10_000)


_TEMPLATE: list[Path] = []


def fresh_database(folder: str):
    """A copy of one initialised scheme with two cases (building a schema per example is slow)."""
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="thcli-money-template-")) / "template.db"
        db = open_db(path, create=True)
        scheme.init_scheme(db, by="tester", name="Model", code="model", prefix="TH",
                           districts=[("northmoor", "Northmoor")])
        new_case(db)
        new_case(db, name="Sam Sample", postcode="ZZ1 3CD")
        db.close()
        _TEMPLATE.append(path)
        atexit.register(shutil.rmtree, path.parent, True)
    copy = Path(folder) / "money.db"
    shutil.copyfile(_TEMPLATE[0], copy)
    return open_db(copy)


class MoneyMachine(RuleBasedStateMachine):
    """Funds, approvals, declines, fittings, payments, refunds, corrections and contributions,
    checked after every step against a model that knows only the sign convention."""

    def __init__(self):
        super().__init__()
        self.clock = freeze_time("2026-11-20 10:00:00", ignore=["hypothesis"])
        self.clock.start()
        self.folder = tempfile.mkdtemp(prefix="thcli-money-")
        self.db = fresh_database(self.folder)
        self.cases = list(self.db.query("SELECT * FROM cases ORDER BY id"))
        self.remaining: dict[int, int] = {}       # fund id -> remaining, by the model
        self.overridden: set[int] = set()         # funds taken below zero with a reason
        self.lines: dict[int, dict] = {}          # line id -> what the model knows of it
        self.correctable: list[dict] = []         # entries not yet corrected
        self.invoice = 0

    def teardown(self):
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.clock.stop()

    def entries(self) -> int:
        return self.db.conn.execute("SELECT count(*) FROM ledger").fetchone()[0]

    def last_id(self) -> int:
        return self.db.conn.execute("SELECT max(id) FROM ledger").fetchone()[0]

    def spend(self, fund_id: int, effect: int, override: bool) -> bool:
        """Whether the model lets ``effect`` happen to the fund (the overspend rule)."""
        after = self.remaining[fund_id] + effect
        if effect < 0 and after < 0:
            if not override:
                return False
            self.overridden.add(fund_id)
        self.remaining[fund_id] = after
        return True

    def refused(self, call, error) -> None:
        before = self.entries()
        with pytest.raises(error):
            call()
        assert self.entries() == before

    @initialize(amount=amounts)
    def first_fund(self, amount):
        self.add_fund(amount)

    @rule(amount=amounts)
    def add_fund(self, amount):
        f = budget.add_fund(self.db, f"Fund {len(self.remaining) + 1}", year="2026/27", source="opcc",
                            amount_pence=amount, by="tester")
        self.remaining[f["id"]] = amount
        self.correctable.append({"id": self.last_id(), "kind": "allocation", "fund": f["id"], "amount": amount})

    @rule(fund=picks, case=picks, estimate=st.integers(min_value=0, max_value=30_000), override=st.booleans())
    def approve(self, fund, case, estimate, override):
        fund_id = sorted(self.remaining)[fund % len(self.remaining)]
        f = budget.find_fund(self.db, str(fund_id))
        c = self.cases[case % len(self.cases)]
        line = add_line(self.db, c, estimate)
        reason = "agreed by the manager" if override else None
        before = self.remaining[fund_id]
        if self.spend(fund_id, -estimate, override):
            approve(self.db, c, line, f, allow_overspend=reason)
            self.lines[line["id"]] = {"fund": fund_id, "case": c, "open": estimate, "paid": 0, "status": "approved",
                                      "row": line}
        else:
            self.refused(lambda: approve(self.db, c, line, f, allow_overspend=reason), WouldOverspend)
            assert self.remaining[fund_id] == before

    def pick_line(self, index, statuses):
        ids = sorted(i for i, line in self.lines.items() if line["status"] in statuses)
        return (ids[index % len(ids)], self.lines[ids[index % len(ids)]]) if ids else (None, None)

    @precondition(lambda self: any(x["status"] == "approved" and not x["paid"] for x in self.lines.values()))
    @rule(index=picks)
    def decline(self, index):
        ids = sorted(i for i, x in self.lines.items() if x["status"] == "approved" and not x["paid"])
        line = self.lines[ids[index % len(ids)]]
        decline(self.db, line["row"])
        self.remaining[line["fund"]] += line["open"]
        line.update(open=0, status="declined")

    @precondition(lambda self: any(x["status"] == "approved" for x in self.lines.values()))
    @rule(index=picks, cost=st.integers(min_value=0, max_value=30_000), override=st.booleans())
    def fitted(self, index, cost, override):
        _id, line = self.pick_line(index, ("approved",))
        charged = line["open"] + line["paid"]
        reason = "agreed" if override else None
        if cost < charged:
            released = min(charged - cost, line["open"])
            fit(self.db, line["case"], line["row"], cost)
            self.remaining[line["fund"]] += released
            line.update(open=line["open"] - released, status="fitted")
        elif self.spend(line["fund"], charged - cost, override):
            fit(self.db, line["case"], line["row"], cost, allow_overspend=reason)
            line.update(open=line["open"] + cost - charged, status="fitted")
        else:
            self.refused(lambda: fit(self.db, line["case"], line["row"], cost), WouldOverspend)

    @precondition(lambda self: bool(self.lines))
    @rule(index=picks, amount=amounts, override=st.booleans())
    def pay(self, index, amount, override):
        line_id, line = self.pick_line(index, ("approved", "fitted", "declined"))
        self.invoice += 1
        reason = "agreed" if override else None
        number = line["row"]["line"]

        def call():
            return budget.pay(self.db, line["case"]["ref"], number, amount_pence=amount, invoice=f"INV-{self.invoice}",
                              by="tester", allow_overspend=reason)

        if line["status"] == "declined":
            self.refused(call, NotAllowed)
            return
        release = line["open"] if line["status"] == "fitted" else min(line["open"], amount)
        if self.spend(line["fund"], release - amount, override):
            recorded = call()
            line.update(open=line["open"] - release, paid=line["paid"] + amount)
            self.correctable.append({"id": recorded.entries[0]["id"], "kind": "payment", "fund": line["fund"],
                                     "amount": amount, "release": release, "line": line_id})
        else:
            self.refused(call, WouldOverspend)

    @precondition(lambda self: any(x["paid"] > 0 for x in self.lines.values()))
    @rule(index=picks, amount=amounts)
    def refund(self, index, amount):
        ids = sorted(i for i, x in self.lines.items() if x["paid"] > 0)
        line_id = ids[index % len(ids)]
        line = self.lines[line_id]

        def call():
            return budget.refund(self.db, line["case"]["ref"], line["row"]["line"], amount_pence=amount, by="tester")

        if amount > line["paid"]:
            self.refused(call, NotAllowed)
            return
        recorded = call()
        self.remaining[line["fund"]] += amount
        line["paid"] -= amount
        self.correctable.append({"id": recorded.entries[0]["id"], "kind": "refund", "fund": line["fund"],
                                 "amount": amount, "line": line_id})

    @rule(fund=picks, case=picks, amount=amounts, pledged=st.booleans())
    def contribution(self, fund, case, amount, pledged):
        fund_id = sorted(self.remaining)[fund % len(self.remaining)]
        c = self.cases[case % len(self.cases)]
        recorded = budget.add_contribution(self.db, c["ref"], contributor="landlord", amount_pence=amount,
                                           pledged=pledged, fund_text=str(fund_id), by="tester")
        if not pledged:
            self.remaining[fund_id] += amount
        self.correctable.append({"id": recorded.entries[0]["id"], "kind": "contribution", "fund": fund_id,
                                 "amount": 0 if pledged else amount})

    @precondition(lambda self: bool(self.correctable))
    @rule(index=picks, override=st.booleans())
    def correct(self, index, override):
        entry = self.correctable[index % len(self.correctable)]
        reason = "agreed" if override else None

        def call():
            return budget.correct(self.db, entry["id"], reason="wrong entry", by="tester", allow_overspend=reason)

        if entry["kind"] == "payment":
            line = self.lines[entry["line"]]
            if line["paid"] < entry["amount"]:
                self.refused(call, NotAllowed)  # refunds on the line are more than what would be left
                return
            effect = entry["amount"] - entry["release"]
        elif entry["kind"] == "refund":
            effect = -entry["amount"]
        else:
            effect = -entry["amount"]
        if not self.spend(entry["fund"], effect, override):
            self.refused(call, WouldOverspend)
            return
        call()
        self.correctable.remove(entry)
        if entry["kind"] == "payment":
            line.update(open=line["open"] + entry["release"], paid=line["paid"] - entry["amount"])
        elif entry["kind"] == "refund":
            self.lines[entry["line"]]["paid"] += entry["amount"]

    @invariant()
    def every_fund_matches_the_model(self):
        if not self.remaining:
            return
        rows = {f["id"]: f for f in budget.list_funds(self.db)}
        for fund_id, expected in self.remaining.items():
            assert budget.remaining(self.db, fund_id) == expected
            row = rows[fund_id]
            assert row["remaining_pence"] == expected
            assert row["committed_pence"] == sum(x["open"] for x in self.lines.values() if x["fund"] == fund_id)
            assert row["paid_pence"] == sum(x["paid"] for x in self.lines.values() if x["fund"] == fund_id)
            assert row["remaining_pence"] == (row["allocated_pence"] + row["contributions_pence"]
                                              - row["committed_pence"] - row["paid_pence"])
            if fund_id not in self.overridden:
                assert expected >= 0, "a fund went below zero without --allow-overspend"

    @invariant()
    def the_ledger_chain_is_intact(self):
        assert budget.verify_chain(self.db) == []


MoneyMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=20, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestMoneyRules = MoneyMachine.TestCase


# --- two processes at once ----------------------------------------------------------------

APPROVER = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from thcli import budget
    from thcli.db import open_db, one, write
    from thcli.errors import WouldOverspend

    db_path, line_id, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    db = open_db(db_path)
    Path(f"{go}.ready.{line_id}").touch()
    while not go.exists():
        time.sleep(0.005)
    try:
        with write(db):
            line = one(db, "SELECT * FROM measure_lines WHERE id = ?", [line_id])
            case = one(db, "SELECT * FROM cases WHERE id = ?", [line["case_id"]])
            fund = budget.find_fund(db, "example_opcc_2026_27")
            budget.commit_line(db, case, line, fund, by=f"process {line_id}", on=dt.date(2026, 11, 20))
            time.sleep(0.05)  # hold the write a moment, as a slow laptop would
            db["measure_lines"].update(line_id, {"status": "approved"})
        print("approved")
    except WouldOverspend:
        print("refused")
""")


@freeze_time("2026-11-20 10:00:00")
def test_processes_approving_at_once_never_overspend_a_nearly_empty_fund(db, db_path, tmp_path):
    f = budget.add_fund(db, "Example OPCC", year="2026/27", source="opcc", amount_pence=10_000, by="tester")
    case = new_case(db)
    lines = [add_line(db, case, 4_000)["id"] for _ in range(3)]
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", APPROVER, str(db_path), str(i), str(go)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in lines]
    for _ in range(1000):
        if all((tmp_path / f"go.ready.{i}").exists() for i in lines) or any(p.poll() for p in processes):
            break
        time.sleep(0.01)
    go.touch()
    outcomes = []
    for p in processes:
        stdout, stderr = p.communicate(timeout=60)
        assert p.returncode == 0, stderr
        outcomes.append(stdout.strip())
    # £100.00 pays for two £40.00 lines, not three: one process is refused, whoever comes last.
    assert sorted(outcomes) == ["approved", "approved", "refused"]
    assert budget.remaining(db, f["id"]) == 2_000
    assert db.conn.execute("SELECT count(*) FROM ledger WHERE kind = 'commitment'").fetchone()[0] == 2
    assert budget.verify_chain(db) == []
