"""Money (DESIGN.md §5): funds, contributions, commitments, payments and the ledger.

A **fund** is a pot for one financial year (1 April to 31 March), county-wide
or for one district. Every movement of money is one row of the append-only
``ledger`` table, signed by its effect on the fund's remaining balance (the
signs are in ledger.py, and above the table in schema.sql), so that a fund's
remaining balance is one SQL aggregate,
``SUM(amount_pence) WHERE pledged = 0``, never a column that can drift. The
other figures (allocated, received, committed, paid) are the same sum split by
kind, a correction counting as the kind of the entry it corrects.

The rules, each with a message saying how to put it right, are written out in
rules.py: nothing takes a fund below zero without an ``--allow-overspend``
reason; a fund's year and district must fit the case; the household cap and
the contribution rule (East Lindsey's "up to £200 towards works") need an
``--over-cap-reason``. A payment needs an invoice number (or is in-house
work), is never past the line's cost without ``--allow-over``, and releases
the line's open commitment as it goes (invoices.py), so money is never
counted twice.

Every ledger row carries a SHA-256 hash over the previous row's hash and its
own fields (:func:`verify_chain`), as the audit log does. A row's free text
(invoice number, memo) enters the chain through a digest of its own
(``details_sha256``), so that retention can remove the text (:func:`redact`,
which sets ``redacted_on``) while the chain still proves every figure; that is
the only change the ledger accepts.

The package, by what each module owns: ledger.py (the rows, their signs and
figures, the chain), funds.py (funds and their balance), rules.py (the rules
above, and the money side of approving, declining, fitting and recharging a
measure), invoices.py (``budget pay``: an invoice on one or more lines),
payments.py (contributions, refunds, corrections, and the money of stock),
status.py
(``budget status``) and reading.py (``budget ledger``, a case's money).
"""

from thcli.budget.funds import (
    Recorded,
    add_fund,
    allocate,
    find_fund,
    fund_code,
    list_funds,
    remaining,
    require_year,
    year_span,
    years,
)
from thcli.budget.invoices import IN_HOUSE, LinePaid, Paid, approved_cost, paid_on, pay, pay_invoice, what_to_pay
from thcli.budget.ledger import (
    CONTRIBUTORS,
    CORRECTABLE,
    COUNTS_AS,
    INSERT_INTO,
    KINDS,
    PAYABLE,
    SPENT,
    Chain,
    entry_row,
    redact,
)
from thcli.budget.payments import add_contribution, charge_stock, contribution_fund, correct, pay_for_stock, refund
from thcli.budget.reading import (
    LedgerFilters,
    case_money,
    contributions_from,
    ledger_entries,
    open_pledges,
    outstanding,
)
from thcli.budget.rules import commit_line, over_cap, recharge_line, release_line, settle_fitted
from thcli.budget.status import status
from thcli.chains import verify_ledger as verify_chain

__all__ = [
    "CONTRIBUTORS", "CORRECTABLE", "COUNTS_AS", "Chain", "INSERT_INTO", "IN_HOUSE", "KINDS", "LedgerFilters",
    "LinePaid", "PAYABLE", "Paid", "Recorded", "SPENT", "add_contribution", "add_fund", "allocate", "approved_cost",
    "case_money", "charge_stock", "commit_line", "contribution_fund", "contributions_from", "correct", "entry_row",
    "find_fund", "fund_code", "ledger_entries", "list_funds", "open_pledges", "outstanding", "over_cap", "paid_on",
    "pay", "pay_for_stock", "pay_invoice", "recharge_line", "redact", "refund", "release_line", "remaining",
    "require_year", "settle_fitted", "status", "verify_chain", "what_to_pay", "year_span", "years",
]
