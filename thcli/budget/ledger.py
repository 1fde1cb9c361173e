"""The ledger (DESIGN.md §5): every movement of money, one append-only, hash-chained row each.

Rows are signed by their effect on the fund's remaining balance (the
convention is written above the table in schema.sql):

    allocation +   contribution + (pledged ones count only once received)
    commitment -   release +      payment -      refund +
    correction = minus the entry it corrects
    stock      - on the case an item of stock went to, + on the fund's stock: a pair that adds up to
                 nothing, moving the cost of equipment bought earlier (a payment with no case) to the
                 case it was issued to

so that every figure is one SQL aggregate over the rows (:data:`FIGURES`),
never a column that can drift; a correction counts as the kind of the entry
it corrects (:func:`effective`, :data:`COUNTS_AS`). Each row is hashed over
the one before (:class:`Chain`, chains.py); retention may remove a row's free
text (:func:`redact`), the only change the ledger accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from thcli import clock, parse
from thcli.chains import GENESIS, INVOICE, LEDGER_FIELDS, MEMO, details_digest, ledger_row_hash
from thcli.db import Database, one
from thcli.errors import NotFound

KINDS = ("allocation", "contribution", "commitment", "release", "payment", "refund", "correction", "stock")
#: The kinds that are money spent (a case's cost, a fund's paid figure): payments net of refunds, and the cost
#: of equipment issued from stock (whose pair adds up to nothing on the fund). As SQL, for ``IN``.
SPENT = "('payment', 'refund', 'stock')"
CONTRIBUTORS = ("survivor", "landlord", "housing_association", "charity")
#: Measure line statuses that can take a payment (approved against a fund).
PAYABLE = ("approved", "ordered", "fitted", "removed")
#: Kinds a coordinator may correct with `budget correct`. Commitments and
#: releases follow the measure line (approve, decline, fitted), and the release
#: written with a payment is corrected together with that payment.
CORRECTABLE = ("allocation", "contribution", "payment", "refund")

#: The statement that inserts whole rows (the chain's fields, then the text's digest and the hashes).
INSERT_INTO = f"INSERT INTO ledger ({', '.join(LEDGER_FIELDS)}, details_sha256, prev_hash, hash)"


#: The kind a ledger row ``l`` counts as: a correction counts as the entry it corrects.
COUNTS_AS = ("CASE WHEN l.corrects_id IS NULL THEN l.kind "
              "ELSE (SELECT o.kind FROM ledger o WHERE o.id = l.corrects_id) END")


#: A ledger row with the kind that counts for the figures: a correction counts
#: as the kind of the entry it corrects.
_EFFECTIVE = """
    SELECT l.*, coalesce(o.kind, l.kind) AS counts_as
    FROM ledger l LEFT JOIN ledger o ON o.id = l.corrects_id
    WHERE {where}
"""


def effective(where: str = "1") -> str:
    """The effective rows, chosen by ``where`` over ledger ``l`` first (so that its indexes serve)."""
    return _EFFECTIVE.format(where=where)


#: One aggregate for every figure of a fund (or a case), from the ledger alone.
FIGURES = f"""
    coalesce(sum(CASE WHEN pledged = 0 THEN amount_pence END), 0) AS remaining_pence,
    coalesce(sum(CASE WHEN counts_as = 'allocation' THEN amount_pence END), 0) AS allocated_pence,
    coalesce(sum(CASE WHEN counts_as = 'contribution' AND pledged = 0 THEN amount_pence END), 0)
        AS contributions_pence,
    -coalesce(sum(CASE WHEN counts_as IN ('commitment', 'release') THEN amount_pence END), 0) AS committed_pence,
    -coalesce(sum(CASE WHEN counts_as IN {SPENT} THEN amount_pence END), 0) AS paid_pence
"""


#: Pledges not yet matched by money received, per fund, case and contributor.
PLEDGES = """
    SELECT fund_id, case_id, contributor,
           max(0, sum(CASE WHEN pledged = 1 THEN amount_pence ELSE 0 END)
                  - sum(CASE WHEN pledged = 0 THEN amount_pence ELSE 0 END)) AS outstanding
    FROM effective WHERE counts_as = 'contribution' {where}
    GROUP BY fund_id, case_id, contributor
"""


class Chain:
    """Appends ledger rows with explicit ids, each hashed over the one before (thcli's own entries, and
    the demo's 800,000 written in bulk)."""

    def __init__(self, db: Database):
        self.db = db
        last = db.conn.execute("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1").fetchone()
        self.next_id = (last[0] + 1) if last else 1
        self.prev_hash = last[1] if last else GENESIS

    def row(self, *, kind: str, amount: int, fund_id: int, on: dt.date | str, by: str, at: str | None = None,
            case_id: int | None = None, line_id: int | None = None, invoice: str | None = None,
            contributor: str | None = None, pledged: bool = False, corrects_id: int | None = None,
            memo: str | None = None) -> tuple:
        on_date = on if isinstance(on, str) else on.isoformat()
        return self.append((at or clock.now_iso(), on_date, kind, int(amount), fund_id, case_id, line_id,
                            invoice, contributor, int(pledged), corrects_id, memo, by))

    def append(self, values: tuple) -> tuple:
        """The row of ``values`` (the fields of chains.LEDGER_FIELDS after ``id``, in order), numbered and hashed.

        Positional, for the demo's 800,000 entries, where keyword arguments cost a second or two.
        """
        values = (self.next_id, *values)
        details = details_digest(values[INVOICE], values[MEMO])
        digest = ledger_row_hash(self.prev_hash, values, details)
        full = (*values, details, self.prev_hash, digest)
        self.prev_hash = digest
        self.next_id += 1
        return full


_INSERT = f"{INSERT_INTO} VALUES ({', '.join('?' * (len(LEDGER_FIELDS) + 3))})"


def append(db: Database, **fields: Any) -> int:
    """Append one ledger row (inside the caller's write transaction); returns its id."""
    row = Chain(db).row(**fields)
    db.conn.execute(_INSERT, row)
    return row[0]


def redact(db: Database, where: str, params: Iterable, *, on: dt.date) -> int:
    """Remove the free text (invoice, memo) of the ledger rows ``where`` chooses, figures kept; returns how many.

    Inside the caller's write. Rows sealed before m011 on a ledger whose chain
    was already broken cannot be redacted, and are left (``db check`` reports
    that chain).
    """
    cursor = db.conn.execute(
        f"""UPDATE ledger SET invoice = NULL, memo = NULL, redacted_on = ?
            WHERE redacted_on IS NULL AND details_sha256 IS NOT NULL
              AND (invoice IS NOT NULL OR memo IS NOT NULL) AND ({where})""", [on.isoformat(), *params])
    return cursor.rowcount


ENTRY_SQL = """
    SELECT l.id, l.at, l.on_date, l.kind, l.amount_pence, f.code AS fund, c.ref, m.line, l.invoice,
           l.contributor, l.pledged, l.corrects_id AS corrects, l.memo, l.by
    FROM ledger l JOIN funds f ON f.id = l.fund_id
    LEFT JOIN cases c ON c.id = l.case_id LEFT JOIN measure_lines m ON m.id = l.line_id
"""


def shown_entry(row: dict) -> dict:
    """A ledger row as ``budget ledger`` shows it."""
    row["pledged"] = bool(row["pledged"])
    return row


def entry_row(db: Database, entry_id: int) -> dict:
    """One ledger entry as shown by ``budget ledger``."""
    row = one(db, ENTRY_SQL + " WHERE l.id = ?", [entry_id])
    if row is None:
        raise NotFound(f"there is no ledger entry {entry_id}: see `thcli budget ledger`")
    return shown_entry(row)


def same_invoice(db: Database) -> str:
    """The SQL condition that ``p.invoice`` is the invoice number given as the one parameter, compared as people
    read it (parse.invoice_key: NFKC, case folded), so 'Ａ-1' is not a second invoice beside 'A-1'."""
    db.conn.create_function("invoice_key", 1, parse.invoice_key, deterministic=True)
    return "invoice_key(p.invoice) = invoice_key(?)"
