"""The audit log: every change, view of a case, letter and export.

Rows say when, who, what action and which case, never a personal value (no
names, addresses or notes): the audit outlives the cases it describes. The
table refuses UPDATE and DELETE (triggers in schema.sql), and each row carries a
SHA-256 hash over the previous row's hash and its own fields (chains.py), so a row
removed or altered behind thcli's back breaks the chain (:func:`verify`).
"""

from __future__ import annotations

from thcli import clock
from thcli.chains import GENESIS, chain_hash
from thcli.db import Database, write


def record(db: Database, *, by: str, action: str, ref: str | None = None, detail: str = "") -> None:
    """Append one audit row (inside the caller's write transaction)."""
    at = clock.now_iso()
    last = db.conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = last[0] if last else GENESIS
    digest = chain_hash(prev_hash, [at, by, action, ref, detail])
    db.conn.execute(
        "INSERT INTO audit (at, by, action, ref, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [at, by, action, ref, detail, prev_hash, digest],
    )


def record_view(db: Database, *, by: str, action: str, filters: dict[str, object], cases: int,
                shown_as: str | None = None) -> None:
    """Audit a view of many cases at once (a list, ``due``, the ledger), in its own write.

    The row says which filter was used and how many cases were shown, never a
    personal value: a search is recorded as made, not its words (they are a
    name or a postcode).
    """
    parts = []
    for name, value in filters.items():
        if value is None or value is False or value == "":
            continue
        if name == "search":
            parts.append("search (words not recorded)")
        elif value is True:
            parts.append(name)
        else:
            parts.append(f"{name}={value}")
    detail = (", ".join(parts) or "no filter") + f"; {cases} case{'' if cases == 1 else 's'} shown"
    if shown_as:
        detail += f" as {shown_as}"
    with write(db):
        record(db, by=by, action=action, detail=detail)


def entries(
    db: Database, *, ref: str | None = None, since: str | None = None, limit: int | None = None
) -> list[dict]:
    """Audit rows, newest first, optionally for one case or since a date."""
    where, params = [], []
    if ref:
        where.append("ref = ?")
        params.append(ref)
    if since:
        where.append("at >= ?")
        params.append(since)
    sql = "SELECT id, at, by, action, ref, detail FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return list(db.query(sql, params))


def verify(db: Database) -> list[str]:
    """Walk the hash chain; return a list of problems (empty when intact)."""
    problems = []
    prev = GENESIS
    for row in db.conn.execute(
        "SELECT id, at, by, action, ref, detail, prev_hash, hash FROM audit ORDER BY id"
    ):
        row_id, at, by, action, ref, detail, prev_hash, digest = row
        if prev_hash != prev:
            problems.append(f"audit row {row_id}: the row before it was removed or changed")
        if chain_hash(prev_hash, [at, by, action, ref, detail]) != digest:
            problems.append(f"audit row {row_id}: its contents were changed")
        prev = digest
    return problems
