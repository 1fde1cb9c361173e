"""Encrypting, re-keying and restoring hold the database for themselves (issue 12, item 1).

Writers are forked processes adding referrals through thcli's own domain
functions, opening the database afresh for each one as separate commands do,
while the parent encrypts or re-keys the same file. Every referral a writer
reported saved must be in the database afterwards, and the file must pass
SQLite's (and SQLCipher's) integrity checks.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from thcli import crypto, referrals, scheme
from thcli.crypto import Key
from thcli.db import exclusive, open_db
from thcli.referrals import ReferralInput

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the writers are forked processes")

RAW = "x'" + "3c" * 32 + "'"
NEW_RAW = "x'" + "4d" * 32 + "'"


def _input(name: str) -> ReferralInput:
    return ReferralInput(name=name, postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high")


def _setup(path: Path) -> None:
    db = open_db(path, create=True)
    try:
        scheme.init_scheme(db, by="setup", name="Lock Scheme", code="lock", prefix="TH",
                           districts=[("northmoor", "Northmoor")])
    finally:
        db.close()


def _writer(path: Path, tag: str, key: str, until: float) -> tuple[int, int]:
    """A child adding referrals until ``until``; it writes "saved REF" or "error ..." per try to a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_end)
            os.environ["THCLI_KEY"] = key
            os.environ["THCLI_BUSY_TIMEOUT_MS"] = "5000"
            i = 0
            while time.monotonic() < until:
                i += 1
                try:
                    db = open_db(path)
                    try:
                        ref = referrals.add_referral(db, _input(f"Lock Example {tag}-{i}"), by=tag).ref
                    finally:
                        db.close()
                    os.write(write_end, f"saved {ref}\n".encode())
                except Exception as error:  # noqa: BLE001 - a clear refusal is allowed, a loss is not
                    os.write(write_end, f"error {type(error).__name__}: {error}\n".encode())
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _lines(fd: int) -> list[str]:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode().splitlines()


def _refs(path: Path, key: str) -> set[str]:
    conn = crypto.open_keyed(path, Key(key), timeout=5)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == []
        return {r[0] for r in conn.execute("SELECT ref FROM cases")}
    finally:
        conn.close()


@pytest.mark.parametrize("run", range(3))
def test_encrypting_and_rekeying_while_others_write_loses_nothing_they_saved(tmp_path, monkeypatch, run):
    path = tmp_path / "thcli.db"
    _setup(path)
    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", "5000")
    until = time.monotonic() + 1.2
    writers = [_writer(path, f"w{n}", RAW, until) for n in range(3)]
    time.sleep(0.15 + 0.1 * run)
    crypto.encrypt_database(path, Key(RAW), by="tester")
    time.sleep(0.2)
    crypto.rekey_database(path, Key(RAW), Key(NEW_RAW), by="tester")
    outputs = []
    for pid, fd in writers:
        outputs += _lines(fd)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    saved = {line.split()[1] for line in outputs if line.startswith("saved ")}
    errors = [line for line in outputs if line.startswith("error ")]
    # Writers that opened the file after the rekey began have the old key: a clear refusal, never a loss.
    assert all("wrong key" in e or "busy" in e for e in errors), errors[:3]
    assert len(saved) > 5
    found = _refs(path, NEW_RAW)
    assert saved <= found, sorted(saved - found)
    assert len(found) == len(saved)  # nothing else appeared either
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".thcli")] == []


def test_a_command_started_while_the_database_is_held_waits_then_says_busy(tmp_path, monkeypatch, cli):
    path = tmp_path / "thcli.db"
    _setup(path)
    monkeypatch.setenv("THCLI_DB", str(path))
    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", "200")
    with exclusive(path):
        started = time.monotonic()
        result = cli("referral", "list", "--format", "json")
        waited = time.monotonic() - started
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}: the database is busy: another thcli is encrypting, re-keying or "
                             "restoring it. Try again in a moment.\n")
    assert 0.15 < waited < 5
    assert cli("referral", "list", "--format", "json").exit_code == 0


def test_encrypt_waits_for_a_command_that_has_the_database_open_then_says_so(tmp_path, monkeypatch):
    path = tmp_path / "thcli.db"
    _setup(path)
    monkeypatch.setenv("THCLI_BUSY_TIMEOUT_MS", "200")
    reader = open_db(path)
    try:
        with pytest.raises(Exception, match="another thcli has the database open: wait for it to finish"):
            crypto.encrypt_database(path, Key(RAW), by="tester")
    finally:
        reader.close()
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_a_killed_encrypt_leaves_work_files_that_the_next_run_removes(tmp_path, cli, monkeypatch):
    path = tmp_path / "thcli.db"
    _setup(path)
    monkeypatch.setenv("THCLI_DB", str(path))
    pid = os.fork()
    if pid == 0:  # a run killed while it writes its work file
        try:
            os.environ["THCLI_KEY"] = RAW
            original = crypto._export

            def stalled(*args, **kwargs):
                leftover = path.with_name(f".{path.name}.encrypting-{os.getpid()}")
                leftover.write_bytes(b"half an encrypted copy")
                time.sleep(30)
                return original(*args, **kwargs)

            crypto._export = stalled
            crypto.encrypt_database(path, Key(RAW), by="killed")
        finally:
            os._exit(1)
    deadline = time.monotonic() + 10
    leftover = path.with_name(f".{path.name}.encrypting-{pid}")
    while not leftover.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert leftover.exists()
    monkeypatch.setenv("THCLI_KEY", RAW)
    result = cli("db", "encrypt")
    assert result.exit_code == 0, result.stderr
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".thcli", "thcli"))) == [
        "thcli.db", "thcli.db-lock"]
