"""Every command a message tells the coordinator to run is one that runs: the hint is parsed out of the message
and run through the CLI (these named an option that does not exist, or the wrong one, or a step already done)."""

from __future__ import annotations

import datetime as dt
import re
import shlex

import pytest
from freezegun import freeze_time

from tests.test_due import fitted_case
from tests.test_eligibility import set_
from tests.test_invoices import D20, job
from tests.test_stock_costs import _lent
from tests.test_surveys import add_fund, new_case
from thcli import budget, followups, measures, stock
from thcli.errors import BadInput

TODAY = "2026-11-20"
#: What a coordinator would put for each placeholder in a hint.
FILLED = {"ITEM": "personal_alarm", "QTY": "1", "H": "idva", "MONEY": "10", "FUND": "example_opcc_2026_27",
          "NO": "ZZ-HINT-1", "TEXT": "Entered by mistake"}


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def hints(message: str) -> list[list[str]]:
    """The commands in a message, as arguments after ``thcli``, placeholders filled in."""
    return [[FILLED.get(word, word) for word in shlex.split(command)]
            for command in re.findall(r"`thcli ([^`]*)`", message)]


def run_hints(cli, message: str) -> int:
    commands = hints(message)
    assert commands, message
    for args in commands:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return len(commands)


def test_paid_in_full_points_at_the_cases_ledger(db, cli):
    ref = job(db, fitted=False)
    measures.fitted(db, ref, [1], on=D20, by="t")
    budget.pay_invoice(db, ref, None, invoice="ZZ-1001", by="t")
    refused = cli("budget", "pay", ref, "--fitted", "--invoice", "ZZ-1002")
    assert refused.exit_code == 1
    assert "`thcli budget ledger --ref TH-2026-0001`" in refused.stderr
    assert run_hints(cli, refused.stderr) == 1


def test_recharging_a_paid_line_points_at_its_payments(db, cli):
    ref = job(db)
    budget.pay_invoice(db, ref, [(1, 8_500)], invoice="ZZ-1001", by="t")
    budget.add_fund(db, "Second", year="2026/27", source="opcc", amount_pence=10_000, by="t",
                    on=dt.date(2026, 4, 1))
    refused = cli("measures", "recharge", ref, "1", "--fund", "second_2026_27")
    assert refused.exit_code == 1, refused.stderr
    assert "`thcli budget ledger --ref TH-2026-0001 --kind payment`" in refused.stderr
    ledger = hints(refused.stderr)[0]
    assert cli(*ledger).exit_code == 0


def test_collecting_into_an_unknown_holder_names_to_stock(db, cli):
    ref, _fund = _lent(db)
    result = cli("measures", "remove", ref, "1", "--date", "20/11/2026", "--to-stock", "nobody")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --to-stock: unknown stock holder 'nobody'")


def test_paying_a_donated_stock_line_says_stock_is_paid_when_bought(db, cli):
    add_fund(db)
    stock.add_stock(db, "personal_alarm", 1, holder="idva", by="t")
    ref = new_case(db)
    stock.issue(db, ref, "personal_alarm", by="t")
    refused = cli("budget", "pay", ref, "1", "--amount", "10", "--invoice", "ZZ-1")
    assert refused.exit_code == 1
    assert "measures approve" not in refused.stderr
    assert "was issued from idva's stock, which no fund bought" in refused.stderr
    assert run_hints(cli, refused.stderr) == 1


def test_an_over_long_early_reason_names_its_option(db, cli):
    ref = fitted_case(db)
    result = cli("followup", "record", ref, "--date", "20/11/2026", "--outcome", "feels_safer", "--early", "x" * 600)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --early: ")
    with pytest.raises(BadInput, match="^--note: "):
        followups.record_followup(db, ref, on=dt.date(2026, 11, 20), outcome="feels_safer", note="x" * 2_001,
                                  early="Moving abroad", by="t")


def test_an_over_long_override_names_its_option(db, cli):
    set_(db, marac_required="yes")
    ref = new_case(db, marac=False)
    stock.add_stock(db, "window_alarm", 3, holder="idva", by="t")
    result = cli("stock", "issue", ref, "window_alarm", "--override", "x" * 600)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --override: ")
