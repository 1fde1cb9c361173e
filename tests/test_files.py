"""files.py: private, atomic writes that stay where they were meant to go."""

from __future__ import annotations

import os
import stat

import pytest

from thcli import files
from thcli.errors import BadInput, NotAllowed, ThcliError


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_folder_makes_every_missing_level_owner_only(tmp_path):
    made = files.private_folder(tmp_path / "a" / "b" / "c")
    for level in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert mode(level) == 0o700


def test_private_folder_under_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(BadInput, match="--out: .*plain/letters: part of this path is a file, not a folder"):
        files.private_folder(tmp_path / "plain" / "letters", option="--out")


def test_write_atomically_is_private_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    files.write_atomically(target, b"a,b\r\n")
    assert target.read_bytes() == b"a,b\r\n"
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        files.write_atomically(target, broken)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_publish_new_numbers_rather_than_overwrites(tmp_path):
    first = files.publish_new(tmp_path / "EV-2026-0001-completion-2026-12-01.docx", b"one")
    second = files.publish_new(tmp_path / "EV-2026-0001-completion-2026-12-01.docx", b"two")
    third = files.publish_new(tmp_path / "EV-2026-0001-completion-2026-12-01.docx", b"three")
    assert [p.name for p in (first, second, third)] == [
        "EV-2026-0001-completion-2026-12-01.docx",
        "EV-2026-0001-completion-2026-12-01-2.docx",
        "EV-2026-0001-completion-2026-12-01-3.docx",
    ]
    assert [p.read_bytes() for p in (first, second, third)] == [b"one", b"two", b"three"]


@pytest.mark.parametrize("name", ["../../ESCAPED.docx", "..", "", "a/b.docx", "a\\b.docx", "x\x00.docx"])
def test_inside_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(NotAllowed):
        files.inside(tmp_path / "letters", name)


def test_inside_keeps_a_plain_name(tmp_path):
    assert files.inside(tmp_path, "EV-2026-0001.docx") == tmp_path.resolve() / "EV-2026-0001.docx"


def test_os_problem_names_the_path_and_the_fix(tmp_path):
    long_name = tmp_path / ("x" * 300)
    with pytest.raises(OSError) as caught:
        long_name.write_text("x")
    problem = files.os_problem(caught.value, long_name, option="--out")
    assert isinstance(problem, BadInput)
    assert problem.message.startswith("--out: ") and "too long" in problem.message
    full = files.os_problem(OSError(28, "No space left on device"), tmp_path / "a.csv", option="--out")
    assert type(full) is ThcliError and "disk is full" in full.message


def test_a_file_open_in_another_program_on_windows_says_so(tmp_path, monkeypatch):
    """Windows refuses to replace a file another program has open (a letter open in Word) with a sharing
    violation (winerror 32), reported as EACCES: the message says to close it, and it is no bad command line."""
    in_use = PermissionError(13, "The process cannot access the file because it is being used by another process")
    in_use.winerror = 32  # type: ignore[attr-defined]  # set by Windows itself there
    problem = files.os_problem(in_use, tmp_path / "EV-2026-0001-landlord.docx", option="--out")
    assert type(problem) is ThcliError
    assert problem.message == (f"cannot write {tmp_path / 'EV-2026-0001-landlord.docx'}: another program has it "
                               "open (Word, Excel, or a preview): close it there and try again")

    target = tmp_path / "summary.csv"
    target.write_text("old")

    def refuse(src, dst):
        raise in_use

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(ThcliError, match="another program has it open"):
        files.write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]  # no temporary file left behind


def test_printable_shows_odd_bytes_as_escapes():
    assert files.printable(os.fsdecode(b"EV-\xff")) == "EV-\\udcff"


def test_publish_new_names_the_option_for_a_path_that_cannot_be_written(tmp_path):
    with pytest.raises(BadInput) as caught:
        files.publish_new(tmp_path / ("x" * 300 + ".docx"), b"letter", option="--out")
    assert caught.value.message.startswith("--out: ") and "too long" in caught.value.message
    assert list(tmp_path.iterdir()) == []   # no temporary file left behind
