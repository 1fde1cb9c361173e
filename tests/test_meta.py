"""Meta-tests: every command has help with an example; the README is true to the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from thcli.cli import app, available_commands

README = Path(__file__).parent.parent / "README.md"


def all_commands():
    """(path, click command) for every command of every group."""
    root = typer.main.get_command(app)
    found = []

    def walk(command, path):
        sub = getattr(command, "commands", None)
        if sub is not None and hasattr(command, "get_command"):
            found.append((path, command))
            for name in command.list_commands(None):
                walk(command.get_command(None, name), [*path, name])
        else:
            found.append((path, command))

    for name in root.list_commands(None):
        walk(root.get_command(None, name), [name])
    return found


COMMANDS = all_commands()


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path, command, cli):
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.stderr
    help_text = command.help or ""
    assert help_text.strip(), f"thcli {' '.join(path)} has no help"
    if not hasattr(command, "commands"):
        assert "Example: thcli " in help_text, f"thcli {' '.join(path)} help has no example"


def test_every_group_in_cli_md_exists():
    expected = {"init", "demo", "db", "settings", "codes", "referral", "audit"}
    assert expected <= set(available_commands())


def test_readme_mentions_every_command_group():
    text = README.read_text(encoding="utf-8")
    for name in available_commands():
        assert re.search(rf"thcli {name}\b", text), f"README does not show `thcli {name}`"


def test_readme_quick_start_is_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip() and not
                line.strip().startswith("#")]
    assert len(commands) == 2
    assert "thcli demo" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]
    # The same two for Windows (PowerShell).
    windows = [line for block in re.findall(r"```powershell\n(.*?)```", quick, re.S) for line in block.splitlines()
               if line.strip()]
    assert len(windows) == 2
    assert all(line.startswith("py -m venv .venv; .venv\\Scripts\\activate; pip install ") for line in windows)
    assert "thcli demo" in windows[0] and "pytest" in windows[1] and ".[test]" in windows[1]
