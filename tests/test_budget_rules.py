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

from tests.test_budget import add_line, approve, decline, fit, line_row, new_case
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
    """Funds, approvals, declines, fittings, payments (one line or several on one invoice), refunds,
    recharges to another fund, corrections and contributions, checked after every step against a model that
    knows only the sign convention: the ledger adds up to the penny whatever the order."""

    def __init__(self):
        super().__init__()
        self.clock = freeze_time("2026-11-20 10:00:00", ignore=["hypothesis"])
        self.clock.start()
        self.folder = tempfile.mkdtemp(prefix="thcli-money-")
        self.db = fresh_database(self.folder)
        self.cases = list(self.db.query("SELECT * FROM cases ORDER BY id"))
        self.remaining: dict[int, int] = {}       # fund id -> remaining, by the model
        self.overridden: set[int] = set()         # funds taken below zero with a reason
        # line id -> what the model knows of it: its fund now, what is open and paid in each fund, its cost
        self.lines: dict[int, dict] = {}
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

    def row(self, line_id: int) -> dict:
        return line_row(self.db, line_id)

    def spend(self, fund_id: int, effect: int, override: bool, remaining: dict[int, int] | None = None) -> bool:
        """Whether the model lets ``effect`` happen to the fund (the overspend rule)."""
        remaining = self.remaining if remaining is None else remaining
        after = remaining[fund_id] + effect
        if effect < 0 and after < 0:
            if not override:
                return False
            self.overridden.add(fund_id)
        remaining[fund_id] = after
        return True

    def refused(self, call, error) -> None:
        before = self.entries()
        with pytest.raises(error):
            call()
        assert self.entries() == before

    @initialize(amount=amounts, second=amounts)
    def first_funds(self, amount, second):
        self.add_fund(amount)
        self.add_fund(second)  # a second pot to recharge lines to

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
            self.lines[line["id"]] = {"fund": fund_id, "case": c, "open": {fund_id: estimate}, "paid": {},
                                      "status": "approved", "cost": estimate, "number": line["line"]}
        else:
            self.refused(lambda: approve(self.db, c, line, f, allow_overspend=reason), WouldOverspend)
            assert self.remaining[fund_id] == before

    def pick_line(self, index, statuses):
        ids = sorted(i for i, line in self.lines.items() if line["status"] in statuses)
        return (ids[index % len(ids)], self.lines[ids[index % len(ids)]]) if ids else (None, None)

    @staticmethod
    def paid(line) -> int:
        return sum(line["paid"].values())

    @precondition(lambda self: any(x["status"] == "approved" and not any(x["paid"].values())
                                   for x in self.lines.values()))
    @rule(index=picks)
    def decline(self, index):
        ids = sorted(i for i, x in self.lines.items() if x["status"] == "approved" and not any(x["paid"].values()))
        line_id = ids[index % len(ids)]
        line = self.lines[line_id]
        decline(self.db, self.row(line_id))
        for fund_id, open_ in line["open"].items():
            if open_ > 0:
                self.remaining[fund_id] += open_
                line["open"][fund_id] = 0
        line["status"] = "declined"

    @precondition(lambda self: any(x["status"] == "approved" for x in self.lines.values()))
    @rule(index=picks, cost=st.integers(min_value=0, max_value=30_000), override=st.booleans())
    def fitted(self, index, cost, override):
        line_id, line = self.pick_line(index, ("approved",))
        fund = line["fund"]
        open_ = line["open"].get(fund, 0)
        charged = open_ + line["paid"].get(fund, 0)
        reason = "agreed" if override else None
        if cost < charged:
            released = min(charged - cost, open_) if open_ > 0 else 0
            fit(self.db, line["case"], self.row(line_id), cost)
            self.remaining[fund] += released
            line["open"][fund] = open_ - released
        elif self.spend(fund, charged - cost, override):
            fit(self.db, line["case"], self.row(line_id), cost, allow_overspend=reason)
            line["open"][fund] = open_ + cost - charged
        else:
            self.refused(lambda: fit(self.db, line["case"], self.row(line_id), cost), WouldOverspend)
            return
        line.update(status="fitted", cost=cost)

    def paying(self, chosen, over, override, remaining):
        """What paying ``chosen`` ((line id, amount), ...) on one invoice does, by the model: the error it is
        refused with, or None and the payments (line id, fund, amount, release) with ``remaining`` updated."""
        lines = [self.lines[line_id] for line_id, _ in chosen]
        if any(line["status"] == "declined" for line in lines):
            return NotAllowed, []
        if not over and any(self.paid(line) + amount > line["cost"]
                            for line, (_, amount) in zip(lines, chosen, strict=True)):
            return NotAllowed, []
        done = []
        for line, (line_id, amount) in zip(lines, chosen, strict=True):
            fund = line["fund"]
            open_ = max(line["open"].get(fund, 0), 0)
            release = min(open_, amount)  # only what is paid: a part payment on a fitted line leaves the rest open
            if not self.spend(fund, release - amount, override, remaining):
                return WouldOverspend, []
            done.append((line_id, fund, amount, release))
        return None, done

    def pay_by_model(self, call, error, remaining, done):
        """Make the payment ``call``: refused with ``error``, or written as the model (``remaining``, ``done``)
        says."""
        if error:
            self.refused(call, error)
            return
        self.remaining = remaining
        payments = [e for e in call().entries if e["kind"] == "payment"]
        for (line_id, fund, amount, release), entry in zip(done, payments, strict=True):
            line = self.lines[line_id]
            line["open"][fund] = line["open"].get(fund, 0) - release
            line["paid"][fund] = line["paid"].get(fund, 0) + amount
            self.correctable.append({"id": entry["id"], "kind": "payment", "fund": fund, "amount": amount,
                                     "release": release, "line": line_id})

    @precondition(lambda self: bool(self.lines))
    @rule(index=picks, amount=amounts, override=st.booleans(), over=st.booleans())
    def pay(self, index, amount, override, over):
        line_id, line = self.pick_line(index, ("approved", "fitted", "declined"))
        self.invoice += 1
        remaining = dict(self.remaining)
        error, done = self.paying([(line_id, amount)], over, override, remaining)

        def call():
            return budget.pay(self.db, line["case"]["ref"], line["number"], amount_pence=amount,
                              invoice=f"INV-{self.invoice}", by="tester",
                              allow_overspend="agreed" if override else None,
                              allow_over="the invoice is right" if over else None)

        self.pay_by_model(call, error, remaining, done)

    @precondition(lambda self: len({x["case"]["id"] for x in self.lines.values() if x["status"] != "declined"}) > 0)
    @rule(index=picks, amounts_=st.lists(amounts, min_size=2, max_size=3), override=st.booleans(),
          over=st.booleans())
    def pay_invoice(self, index, amounts_, override, over):
        """One invoice paying several lines of a case at once: all of them, or none."""
        cases = sorted({x["case"]["id"] for x in self.lines.values() if x["status"] != "declined"})
        case_id = cases[index % len(cases)]
        ids = sorted(i for i, x in self.lines.items() if x["case"]["id"] == case_id and x["status"] != "declined")
        chosen = list(zip(ids, amounts_, strict=False))  # as many lines as the case has, up to three
        self.invoice += 1
        remaining = dict(self.remaining)
        error, done = self.paying(chosen, over, override, remaining)
        case = self.lines[ids[0]]["case"]

        def call():
            return budget.pay_invoice(self.db, case["ref"], [(self.lines[i]["number"], a) for i, a in chosen],
                                      invoice=f"INV-{self.invoice}", by="tester",
                                      allow_overspend="agreed" if override else None,
                                      allow_over="the invoice is right" if over else None)

        self.pay_by_model(call, error, remaining, done)

    @precondition(lambda self: any(self.paid(x) > 0 for x in self.lines.values()))
    @rule(index=picks, amount=amounts)
    def refund(self, index, amount):
        ids = sorted(i for i, x in self.lines.items() if self.paid(x) > 0)
        line_id = ids[index % len(ids)]
        line = self.lines[line_id]

        def call():
            return budget.refund(self.db, line["case"]["ref"], line["number"], amount_pence=amount, by="tester")

        paid = {f: p for f, p in sorted(line["paid"].items()) if p > 0}
        fund = max(paid, key=lambda f: paid[f])
        if amount > sum(paid.values()) or paid[fund] < amount:
            self.refused(call, NotAllowed)
            return
        recorded = call()
        self.remaining[fund] += amount
        line["paid"][fund] -= amount
        self.correctable.append({"id": recorded.entries[0]["id"], "kind": "refund", "fund": fund,
                                 "amount": amount, "line": line_id})

    @precondition(lambda self: any(x["status"] in ("approved", "fitted") for x in self.lines.values()))
    @rule(index=picks, fund=picks, override=st.booleans())
    def recharge(self, index, fund, override):
        """Move a line to another fund: its open commitment is released in the old and made in the new."""
        line_id, line = self.pick_line(index, ("approved", "fitted"))
        old = line["fund"]
        others = [f for f in sorted(self.remaining) if f != old]
        new = others[fund % len(others)] if others and fund % 5 else old  # now and then the same fund, refused
        open_ = max(line["open"].get(old, 0), 0)
        new_fund = budget.find_fund(self.db, str(new))

        def call():
            return budget.recharge_line(self.db, line["case"], self.row(line_id), new_fund, by="tester", on=TODAY,
                                        allow_overspend="agreed" if override else None)

        if new == old or not open_:
            self.refused(call, NotAllowed)
            return
        if not self.spend(new, -open_, override):
            self.refused(call, WouldOverspend)
            return
        call()
        self.remaining[old] += open_
        line["open"][old] = line["open"].get(old, 0) - open_
        line["open"][new] = line["open"].get(new, 0) + open_
        line["fund"] = new

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
            if line["paid"].get(entry["fund"], 0) < entry["amount"]:
                self.refused(call, NotAllowed)  # refunds on the line are more than what would be left
                return
            effect = entry["amount"] - entry["release"]
        else:
            effect = -entry["amount"]
        if not self.spend(entry["fund"], effect, override):
            self.refused(call, WouldOverspend)
            return
        call()
        self.correctable.remove(entry)
        if entry["kind"] == "payment":
            fund = entry["fund"]
            line["open"][fund] = line["open"].get(fund, 0) + entry["release"]
            line["paid"][fund] -= entry["amount"]
        elif entry["kind"] == "refund":
            self.lines[entry["line"]]["paid"][entry["fund"]] += entry["amount"]

    @invariant()
    def every_fund_matches_the_model(self):
        if not self.remaining:
            return
        rows = {f["id"]: f for f in budget.list_funds(self.db)}
        for fund_id, expected in self.remaining.items():
            assert budget.remaining(self.db, fund_id) == expected
            row = rows[fund_id]
            assert row["remaining_pence"] == expected
            assert row["committed_pence"] == sum(x["open"].get(fund_id, 0) for x in self.lines.values())
            assert row["paid_pence"] == sum(x["paid"].get(fund_id, 0) for x in self.lines.values())
            assert row["remaining_pence"] == (row["allocated_pence"] + row["contributions_pence"]
                                              - row["committed_pence"] - row["paid_pence"])
            if fund_id not in self.overridden:
                assert expected >= 0, "a fund went below zero without --allow-overspend"

    @invariant()
    def every_line_is_charged_to_its_fund(self):
        for line_id, line in self.lines.items():
            if line["status"] != "declined":
                assert self.row(line_id)["fund_id"] == line["fund"]

    @invariant()
    def the_ledger_chain_is_intact(self):
        assert budget.verify_chain(self.db) == []


MoneyMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
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
