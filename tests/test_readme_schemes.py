"""README, "Setting up your scheme": every command in it runs, and prints what the README shows.

Each ``### `` part of the section is one scheme of the seeds, on a database of
its own (its first block says ``export THCLI_DB=~/...``), set up and taken
through a case from referral to closed, with the rule that scheme should
refuse something by. The part's ``console`` blocks run in order: a line
``$ thcli ...`` is a command (run through CliRunner, as in a terminal: tables,
not JSON), and the lines after it, up to the next command, are its output,
stdout and stderr as a terminal shows them (without the spaces that pad a
table's lines). In an output, a line ``...``
stands for any lines. ``$ echo $?`` prints the last command's exit code, and
``$ export NAME=VALUE`` sets a variable (``~`` is the test's home folder).

Before a block, ``<!-- on 2026-12-01 09:00 -->`` sets the day and time the
block runs at (frozen), so that a follow-up three months on can be shown.

After an intended change, regenerate the outputs with
``THCLI_UPDATE_README=1 python -m pytest -n 0 tests/test_readme_schemes.py``
(an output with a ``...`` line is left as written) and read the diff.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from freezegun import freeze_time

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Setting up your scheme"
USER = "jo.coordinator"


@dataclass
class Command:
    line: int                 # the README line of the `$ ` command (0-based)
    text: str
    expected: list[str]
    at: str | None            # the moment the command runs at


@dataclass
class Scheme:
    title: str
    commands: list[Command] = field(default_factory=list)


def _section(lines: list[str]) -> tuple[int, int]:
    start = next(i for i, line in enumerate(lines) if line.strip() == SECTION)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def parse(text: str) -> list[Scheme]:
    """The schemes of the section, each with its commands, their expected output and when they run."""
    lines = text.split("\n")
    start, end = _section(lines)
    schemes: list[Scheme] = []
    at: str | None = None
    i = start
    while i < end:
        line = lines[i]
        if line.startswith("### "):
            schemes.append(Scheme(line[4:].strip()))
            at = None
        marker = re.fullmatch(r"<!-- on (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) -->", line.strip())
        if marker:
            at = marker.group(1)
        if line.strip() == "```console" and schemes:
            i += 1
            current: Command | None = None
            while lines[i].strip() != "```":
                if lines[i].startswith("$ "):
                    current = Command(i, lines[i][2:], [], at)
                    schemes[-1].commands.append(current)
                elif current is not None:
                    current.expected.append(lines[i])
                i += 1
        i += 1
    for scheme in schemes:
        for command in scheme.commands:
            while command.expected and not command.expected[-1].strip():
                command.expected.pop()
    return schemes


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the output is as the README shows it (``...`` standing for any lines)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


SCHEMES = parse(README.read_text(encoding="utf-8"))


def test_the_section_has_a_part_for_each_kind_of_scheme_in_the_seeds():
    titles = " ".join(s.title for s in SCHEMES)
    for name in ("South Holland", "South Kesteven", "West Lindsey", "City of Lincoln", "Boston", "East Lindsey",
                 "Cambridgeshire", "Gloucestershire"):
        assert name in titles, f"README {SECTION} has no part for {name}"
    for scheme in SCHEMES:
        texts = [c.text for c in scheme.commands]
        assert any("closed" in t for t in texts), f"{scheme.title}: no case is taken to closed"
        assert any(t == "echo $?" for t in texts), f"{scheme.title}: no refusal is shown with its exit code"


class Shell:
    """Runs the README's commands as a terminal would, one scheme at a time."""

    def __init__(self, cli, home: Path, monkeypatch):
        self.cli, self.home, self.monkeypatch = cli, home, monkeypatch
        self.last = 0

    def expand(self, word: str) -> str:
        return str(self.home) + word[1:] if word.startswith("~/") else word

    def run(self, text: str) -> list[str]:
        words = shlex.split(text, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            self.monkeypatch.setenv(name, self.expand(value))
            return []
        if words == ["echo", "$?"]:
            return [str(self.last)]
        assert words[0] == "thcli", f"the README runs only thcli here, not {words[0]!r}"
        result = self.cli(*[self.expand(w) for w in words[1:]])
        self.last = result.exit_code
        output = result.output.replace(str(self.home), "~")
        # Tables pad their lines to the width: the README keeps them without trailing spaces.
        return [line.rstrip() for line in output.rstrip("\n").split("\n")] if output.strip() else []


@pytest.fixture
def terminal(monkeypatch):
    """Output as in an 80-column terminal: tables, not JSON."""
    from thcli import render

    chosen = render.resolve_format
    monkeypatch.setattr(render, "resolve_format", lambda fmt: chosen(fmt) if fmt is not None else "table")
    # Rich reads COLUMNS when a console is made, so the width is set on the consoles themselves.
    monkeypatch.setattr(render.console, "_width", 80)
    monkeypatch.setattr(render.err_console, "_width", 80)
    monkeypatch.setenv("THCLI_USER", USER)


@pytest.mark.parametrize("scheme", SCHEMES, ids=[s.title.split(":")[0] for s in SCHEMES])
def test_the_readme_sets_up_the_scheme_and_runs_its_case(scheme, cli, isolated, terminal, monkeypatch):
    shell = Shell(cli, isolated / "home", monkeypatch)
    (isolated / "home").mkdir(exist_ok=True)
    update = os.environ.get("THCLI_UPDATE_README") == "1"
    actual_outputs: dict[int, list[str]] = {}
    for index, command in enumerate(scheme.commands):
        assert command.at, f"{scheme.title}: say when the block runs (<!-- on YYYY-MM-DD HH:MM -->)"
        with freeze_time(command.at):
            actual = shell.run(command.text)
        if update and "..." not in command.expected:
            actual_outputs[index] = actual
            continue
        assert matches(command.expected, actual), (
            f"{scheme.title}: `{command.text}` printed\n" + "\n".join(actual)
            + "\n\nwhere the README shows\n" + "\n".join(command.expected))
    if update:
        _rewrite(scheme.title, actual_outputs)


def _rewrite(title: str, outputs: dict[int, list[str]]) -> None:
    """Put the actual outputs in the README, in place of those shown (THCLI_UPDATE_README=1)."""
    text = README.read_text(encoding="utf-8")
    lines = text.split("\n")
    commands = next(s for s in parse(text) if s.title == title).commands
    for line, output in sorted(((commands[i].line, out) for i, out in outputs.items()), reverse=True):
        end = line + 1
        while not lines[end].startswith("$ ") and lines[end].strip() != "```":
            end += 1
        gap = [""] if lines[end].startswith("$ ") and output else []
        lines[line + 1:end] = output + gap
    README.write_text("\n".join(lines), encoding="utf-8")
