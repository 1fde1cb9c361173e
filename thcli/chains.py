"""The hash chains that make the audit log and the ledger tamper-evident.

Each row of ``audit`` and of ``ledger`` carries a SHA-256 over the previous
row's hash and its own fields (:func:`chain_hash`), so a row removed or
altered behind thcli's back breaks the chain. A ledger row's free text
(invoice number, memo) enters its hash through a digest of its own
(``details_sha256``, :func:`details_digest`), so that retention can remove
the text while the chain still proves every figure (migration m011).

These are primitives below the database's users: the audit log (audit.py),
the ledger (budget/ledger.py), ``db check`` (maintenance.py) and migration
m011 all build on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thcli.db import Connected

#: The hash before the first row.
GENESIS = "0" * 64

#: The fields of a ledger row covered by its hash, in order.
LEDGER_FIELDS = ("id", "at", "on_date", "kind", "amount_pence", "fund_id", "case_id", "line_id", "invoice",
                 "contributor", "pledged", "corrects_id", "memo", "by")
INVOICE, MEMO = LEDGER_FIELDS.index("invoice"), LEDGER_FIELDS.index("memo")


def chain_hash(prev_hash: str, fields: Sequence) -> str:
    """The hash of a row: SHA-256 over the previous hash and the row's fields."""
    # A list, not a generator: twice as quick, which counts for the demo's 800,000 ledger rows.
    text = "\x1f".join([prev_hash, *["" if f is None else str(f) for f in fields]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def details_digest(invoice: str | None, memo: str | None) -> str:
    """The digest of a ledger row's free text, which the chain covers in its place."""
    return chain_hash("ledger-text", [invoice, memo])


def ledger_row_hash(prev_hash: str, values: Sequence, details: str) -> str:
    """A ledger row's hash: the previous hash, the row's fields (LEDGER_FIELDS) with the free text as its digest."""
    fields = [v for i, v in enumerate(values) if i not in (INVOICE, MEMO)]
    return chain_hash(prev_hash, [*fields, details])


def _has_details(db: Connected) -> bool:
    return any(r[1] == "details_sha256" for r in db.conn.execute("PRAGMA table_info(ledger)"))


def verify_ledger(db: Connected) -> list[str]:
    """Walk the ledger's hash chain; a list of problems (empty when intact).

    A row sealed before m011 (no ``details_sha256``) is hashed over all its
    fields; a later one over its fields with the free text as its digest. A
    row whose text retention removed (``redacted_on``) is proved by the digest
    it kept.
    """
    problems = []
    prev = GENESIS
    extra = "details_sha256, redacted_on" if _has_details(db) else "NULL, NULL"
    cursor = db.conn.execute(f"SELECT {', '.join(LEDGER_FIELDS)}, {extra}, prev_hash, hash FROM ledger ORDER BY id")
    for row in cursor:
        values, details, redacted, prev_hash, digest = list(row[:-4]), row[-4], row[-3], row[-2], row[-1]
        if prev_hash != prev:
            problems.append(f"ledger entry {values[0]}: the entry before it was removed or changed")
        if details is None:
            expected = chain_hash(prev_hash, values)
        else:
            text = (values[INVOICE], values[MEMO])
            redacted_wrongly = redacted is not None and text != (None, None)
            if redacted_wrongly or (redacted is None and details_digest(*text) != details):
                problems.append(f"ledger entry {values[0]}: its contents were changed")
            expected = ledger_row_hash(prev_hash, values, details)
        if expected != digest:
            problems.append(f"ledger entry {values[0]}: its contents were changed")
        prev = digest
    return list(dict.fromkeys(problems))


def reseal_ledger(db: Connected) -> int:
    """Re-hash an intact ledger with the free text sealed apart (migration m011); returns the rows."""
    prev = GENESIS
    rows = db.conn.execute(f"SELECT {', '.join(LEDGER_FIELDS)} FROM ledger ORDER BY id").fetchall()
    for values in rows:
        details = details_digest(values[INVOICE], values[MEMO])
        digest = ledger_row_hash(prev, values, details)
        db.conn.execute("UPDATE ledger SET details_sha256 = ?, prev_hash = ?, hash = ? WHERE id = ?",
                        [details, prev, digest, values[0]])
        prev = digest
    return len(rows)
