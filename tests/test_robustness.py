"""Robustness, kept in the suite: crashes, two writers, a lock held too long, damaged files.

The writers are forked processes running thcli's own domain functions (the
same code the commands call), so a hundred crashes cost seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from thcli import audit, budget, dates, referrals, scheme
from thcli.crypto import Key
from thcli.db import open_db, write
from thcli.referrals import ReferralInput

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the writers are forked processes")

RAW_KEY = "x'" + "5a" * 32 + "'"  # a raw SQLCipher key: no key derivation, so each open is quick


def _setup(path: Path) -> str:
    """An initialised scheme with a fund and a case whose approved line can be paid; returns its ref."""
    db = open_db(path, create=True)
    try:
        scheme.init_scheme(db, by="setup", name="Robust Scheme", code="robust", prefix="TH",
                           districts=[("northmoor", "Northmoor")])
        year = dates.financial_year_of(dt.date.today())
        fund = budget.add_fund(db, "Crash Fund", year=year, source="opcc", amount_pence=1_000_000_000, by="setup")
        ref = referrals.add_referral(db, _input("Payee Example"), by="setup").ref
        case = referrals.case_row(db, ref)
        with write(db):
            line_id = db["measure_lines"].insert({
                "case_id": case["id"], "line": 1, "code": "door_alarm", "quantity": 1, "unit_cost_pence": 100_000_000,
                "estimated_cost_pence": 100_000_000, "kind": "equipment", "removable": 1, "status": "recommended",
            }).last_pk
            line = db.conn.execute("SELECT * FROM measure_lines WHERE id = ?", [line_id])
            line = dict(zip([d[0] for d in line.description], line.fetchone(), strict=True))
            budget.commit_line(db, case, line, fund, by="setup", on=dt.date.today())
            db["measure_lines"].update(line_id, {"status": "approved", "approved_on": dt.date.today().isoformat()})
        return ref
    finally:
        db.close()


def _input(name: str) -> ReferralInput:
    return ReferralInput(name=name, postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
                         address="1 Example Street", phone="020 7946 0001", safe_call=True,
                         perpetrator_name="Pat Perpetrator-Example", note="made by a robustness test")


def _fork(work) -> tuple[int, int]:
    """Run ``work(write_line)`` in a child process; returns (pid, read end of its pipe)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)

            def line(text: str) -> None:
                os.write(write_end, (text + "\n").encode())

            work(line)
        except BaseException as error:  # noqa: BLE001 - reported to the parent through the pipe
            os.write(write_end, f"error {type(error).__name__}: {error}\n".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _read_line(fd: int) -> str:
    data = b""
    while not data.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.decode().rstrip("\n")


def _read_all(fd: int) -> list[str]:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode().splitlines()


def _crash_writer(path: Path, payee: str, seed: int):
    def work(line):
        db = open_db(path)
        for i in range(10_000):
            ref = referrals.add_referral(db, _input(f"Crash Example {seed}-{i}"), by="crash").ref
            line(f"ref {ref}")
            budget.add_contribution(db, ref, contributor="survivor", amount_pence=1000, by="crash")
            line(f"contribution {ref}")
            budget.pay(db, payee, 1, amount_pence=100, invoice=f"INV-{seed}-{i}", by="crash")
            line(f"paid INV-{seed}-{i}")
    return work


def _check_after_crash(path: Path, committed: list[str], seed: int) -> None:
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", seed
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], seed
        refs = {r[0] for r in conn.execute("SELECT ref FROM cases")}
        invoices = {r[0] for r in conn.execute("SELECT invoice FROM ledger WHERE kind = 'payment'")}
        for entry in committed:
            kind, _, rest = entry.partition(" ")
            if kind == "ref":
                assert rest in refs, f"seed {seed}: committed {rest} was lost"
            elif kind == "contribution":
                ref = rest.split()[0]
                assert conn.execute(
                    "SELECT count(*) FROM ledger l JOIN cases c ON c.id = l.case_id "
                    "WHERE c.ref = ? AND l.kind = 'contribution'", [ref]).fetchone()[0] == 1, seed
            elif kind == "paid":
                assert rest in invoices, f"seed {seed}: committed payment {rest} was lost"
            else:
                pytest.fail(f"seed {seed}: the writer failed: {entry}")
        # No half-written referral: each case has its client, address, safe contact, first event and audit row.
        half = conn.execute(
            """SELECT c.ref FROM cases c
               WHERE NOT EXISTS (SELECT 1 FROM clients cl WHERE cl.id = c.client_id)
                  OR NOT EXISTS (SELECT 1 FROM addresses a WHERE a.id = c.address_id)
                  OR NOT EXISTS (SELECT 1 FROM contacts k WHERE k.case_id = c.id)
                  OR NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND e.kind = 'received')
                  OR NOT EXISTS (SELECT 1 FROM audit a WHERE a.ref = c.ref AND a.action = 'referral.add')""").fetchall()
        assert half == [], f"seed {seed}: half-written referrals {half}"
        # No ledger row without its case, and every payment has its release and audit row.
        assert conn.execute("SELECT count(*) FROM ledger WHERE case_id IS NOT NULL "
                            "AND case_id NOT IN (SELECT id FROM cases)").fetchone()[0] == 0, seed
        payments = conn.execute("SELECT count(*) FROM ledger WHERE kind = 'payment'").fetchone()[0]
        audited = conn.execute("SELECT count(*) FROM audit WHERE action = 'budget.pay'").fetchone()[0]
        assert payments == audited, seed
    finally:
        conn.close()


def test_killed_at_random_points_a_hundred_times_loses_nothing_committed_and_half_writes_nothing(db_path):
    payee = _setup(db_path)
    rng = random.Random(20261120)
    killed_mid_work = 0
    for seed in range(100):
        pid, fd = _fork(_crash_writer(db_path, payee, seed))
        first = []
        if seed % 2:  # every other run: once it has committed something, so the kill lands mid-stream
            first.append(_read_line(fd))
        time.sleep(rng.uniform(0.0, 0.04))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        killed_mid_work += os.WIFSIGNALED(status)
        _check_after_crash(db_path, first + _read_all(fd), seed)
    assert killed_mid_work == 100  # the writer was still writing when it was killed
    db = open_db(db_path)
    try:
        assert audit.verify(db) == []
        assert budget.verify_chain(db) == []
        cases = db.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        assert cases > 50  # the children got real work done between the kills
    finally:
        db.close()


def test_two_processes_adding_two_hundred_referrals_each_make_four_hundred_cases(db_path):
    _setup(db_path)

    def writer(tag):
        def work(line):
            db = open_db(db_path)
            for i in range(200):
                line(referrals.add_referral(db, _input(f"Writer Example {tag}-{i}"), by=f"writer-{tag}").ref)
        return work

    children = [_fork(writer(tag)) for tag in ("a", "b")]
    outputs = []
    for pid, fd in children:
        outputs.append(_read_all(fd))
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, outputs[-1][-1:]
    made = [ref for lines in outputs for ref in lines]
    assert not [line for line in made if line.startswith("error")]
    assert len(made) == 400 and len(set(made)) == 400
    conn = sqlite3.connect(str(db_path))
    try:
        assert conn.execute("SELECT count(*) FROM cases WHERE ref <> ?", [f"TH-{dt.date.today().year}-0001"]
                            ).fetchone()[0] == 400
        assert conn.execute("SELECT count(DISTINCT ref) FROM cases").fetchone()[0] == 401
    finally:
        conn.close()


def test_a_lock_held_too_long_gives_a_clear_message_and_exit_1(db, db_path, cli, monkeypatch):
    from tests.conftest import referral_args

    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", "150")
    holder = sqlite3.connect(str(db_path))
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        result = cli("referral", "add", *referral_args())
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("Error: the database is busy: another thcli is writing to it. "
                             "Try again in a moment.\n")
    assert 0.1 < waited < 5
    assert cli("referral", "list", "--format", "json").stdout.strip() == "[]"  # nothing half-saved


# --- damaged files -------------------------------------------------------------------------------


def _private_write(path: Path, data: bytes) -> None:
    for side in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + side).unlink(missing_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _base_database(path: Path, key: Key | None = None) -> bytes:
    """A small thcli database (every page in use, no WAL) as bytes."""
    db = open_db(path, create=True, key=key)
    scheme.init_scheme(db, by="setup", name="Damage Scheme", code="damage", prefix="TH",
                       districts=[("northmoor", "Northmoor")])
    for i in range(6):
        referrals.add_referral(db, _input(f"Damage Example {i}"), by="setup")
    budget.add_fund(db, "Damage Fund", year=dates.financial_year_of(dt.date.today()), source="opcc",
                    amount_pence=500_000, by="setup")
    db.conn.execute("VACUUM")
    db.conn.execute("PRAGMA journal_mode = DELETE")
    db.close()
    data = path.read_bytes()
    path.unlink()
    return data


#: Header bytes SQLite relies on (magic, page size, versions, reserved space, payload fractions,
#: first freelist page and count, schema cookie and format, text encoding); the rest of the
#: 100-byte header is counters and application fields that SQLite may ignore.
CRITICAL_HEADER_BYTES = [*range(0, 24), *range(32, 40), *range(52, 56), *range(64, 68), 47]


def _plain_variants(base: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    page = int.from_bytes(base[16:18], "big")
    pages = len(base) // page
    variants = []
    for size in sorted({0, 1, 15, 16, 50, 99, 100, 101, 512, page - 1, page, page + 1, 2 * page,
                        *(rng.randrange(1, len(base) - page) for _ in range(40))}):
        variants.append((f"truncated to {size} bytes", base[:size]))
    for number in range(1, pages + 1):  # the page-type byte of every b-tree page
        damaged = bytearray(base)
        damaged[100 if number == 1 else (number - 1) * page] ^= 0xFF
        variants.append((f"page {number} type byte flipped", bytes(damaged)))
    for offset in CRITICAL_HEADER_BYTES:
        damaged = bytearray(base)
        damaged[offset] ^= 1 << rng.randrange(8)
        variants.append((f"header byte {offset} flipped", bytes(damaged)))
    for needle in (b"referral.add", b"opening allocation"):  # a bit flipped in an audit row, a ledger row
        at = base.find(needle)
        assert at > 0, needle
        if at > 0:
            damaged = bytearray(base)
            damaged[at + 1] ^= 0x20
            variants.append((f"byte flipped in {needle.decode()!r}", bytes(damaged)))
    return variants


def _foreign_files(rng: random.Random, tmp: Path) -> list[tuple[str, bytes]]:
    variants = [
        ("a text file", b"name,postcode\nAlex Example,ZZ1 2AB\n"),
        ("a JSON file", b'{"cases": []}\n'),
        ("a Word document", b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(2000))),
        ("the SQLite magic then rubbish", b"SQLite format 3\x00" + bytes(rng.randrange(256) for _ in range(5000))),
        ("a NUL-filled file", b"\x00" * 8192),
    ]
    other = tmp / "other-app.db"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('not thcli')")
    conn.commit()
    conn.close()
    variants.append(("another program's SQLite database", other.read_bytes()))
    for i in range(24):
        size = rng.choice([1, 7, 100, 1000, 4096, 65536])
        variants.append((f"{size} random bytes ({i})", bytes(rng.randrange(256) for _ in range(size))))
    return variants


def test_two_hundred_damaged_files_each_give_one_clear_error_and_exit_1(tmp_path, cli, monkeypatch):
    rng = random.Random(8)
    base = _base_database(tmp_path / "base.db")
    encrypted = _base_database(tmp_path / "base-encrypted.db", key=Key(RAW_KEY))
    variants = [(name, data, None) for name, data in _plain_variants(base, rng)]
    variants += [(name, data, None) for name, data in _foreign_files(rng, tmp_path)]
    for i in range(30):  # wrong keys, raw and passphrases with quotes
        wrong = "x'" + "".join(rng.choice("0123456789abcdef") for _ in range(64)) + "'"
        variants.append((f"wrong raw key {i}", encrypted, wrong))
    for wrong in ("it's wrong", 'say "wrong"', "x'00'", "\\'; DROP TABLE cases; --"):
        variants.append((f"wrong passphrase {wrong!r}", encrypted, wrong))
    for i in range(20):  # any byte of an encrypted file changed: its page no longer authenticates
        damaged = bytearray(encrypted)
        damaged[rng.randrange(len(encrypted))] ^= 1 << rng.randrange(8)
        variants.append((f"encrypted file, byte flipped ({i})", bytes(damaged), RAW_KEY))
    variants.append(("encrypted file, no key given", encrypted, None))
    variants.append(("encrypted file truncated", encrypted[: len(encrypted) // 2], RAW_KEY))
    assert len(variants) >= 200

    db_path = Path(os.environ["THCLI_DB"])
    failures = []
    for name, data, key in variants:
        _private_write(db_path, data)
        if key is None:
            monkeypatch.delenv("THCLI_KEY", raising=False)
        else:
            monkeypatch.setenv("THCLI_KEY", key)
        result = cli("db", "check")
        stderr = result.stderr
        clear = (result.exit_code == 1 and stderr.startswith("Error: ") and stderr.count("\n") == 1
                 and "Traceback" not in stderr + result.stdout and (key is None or key not in stderr))
        if not clear:
            failures.append(f"{name}: exit {result.exit_code}, {stderr!r}")
    assert failures == []


def test_randomly_damaged_databases_give_one_line_and_exit_1_in_every_reading_command(tmp_path, cli, monkeypatch):
    """Issue 12, item 8: bytes changed anywhere past the header (text, schema, b-tree pages)."""
    rng = random.Random(25)
    base = _base_database(tmp_path / "base.db")
    db_path = Path(os.environ["THCLI_DB"])
    ref = f"TH-{dt.date.today().year}-0001"
    commands = (["referral", "list", "--format", "json"], ["referral", "show", ref, "--format", "json"],
                ["settings", "show", "--format", "json"], ["due", "--format", "json"], ["db", "check"])
    failures = []
    for i in range(40):
        damaged = bytearray(base)
        for _ in range(rng.choice([1, 4, 16, 64])):
            damaged[rng.randrange(100, len(damaged))] = rng.randrange(256)
        _private_write(db_path, bytes(damaged))
        db_path.with_name(db_path.name + "-damaged").unlink(missing_ok=True)
        for args in commands:
            result = cli(*args)
            output = result.stdout + result.stderr
            clear = "Traceback" not in output and (result.exit_code == 0 or (
                result.exit_code == 1 and result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1))
            if not clear:
                failures.append(f"{i} {args[:2]}: exit {result.exit_code}, {result.stderr[:200]!r}")
    assert failures == []


def test_a_wrong_key_says_so_in_one_line_with_nothing_from_sqlcipher_on_stderr(tmp_path):
    """In a real process: SQLCipher's own logging goes to file descriptor 2, which CliRunner cannot see."""
    import subprocess
    import sys

    path = tmp_path / "secret.db"
    _private_write(path, _base_database(tmp_path / "made.db", key=Key(RAW_KEY)))
    env = {**os.environ, "THCLI_DB": str(path), "THCLI_KEY": "it's the wrong \"one\""}
    result = subprocess.run([sys.executable, "-m", "thcli", "referral", "list"], env=env, capture_output=True,
                            text=True, cwd=Path(__file__).parent.parent, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {path}: wrong key or not a thcli database.\n"
