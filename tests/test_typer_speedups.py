"""The typer speed-ups hold only for the typer they were written for: fail loudly when it changes."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import typer

from thcli import typer_speedups
from thcli.cli import app

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_installed_typer_is_one_the_speed_ups_were_written_for():
    installed = version("typer")
    assert installed.startswith(tuple(f"{v}." for v in typer_speedups.TYPER_WRITTEN_FOR)), (
        f"typer {installed} is installed, but thcli/typer_speedups.py was written for "
        f"{', '.join(typer_speedups.TYPER_WRITTEN_FOR)}: read it against the new typer, then update "
        "TYPER_WRITTEN_FOR and the pin in pyproject.toml")


def test_pyproject_pins_typer_to_those_releases():
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    (typer_pin,) = [d for d in dependencies if re.match(r"typer\b", d)]
    for written_for in typer_speedups.TYPER_WRITTEN_FOR:
        major, minor = (int(part) for part in written_for.split("."))
        assert f"<{major}.{minor + 1}" in typer_pin, typer_pin


def test_the_private_typer_api_they_use_is_still_there():
    from typer._coercion import build_runtime_param
    from typer._param_types import coerce_cli_choice

    assert callable(build_runtime_param) and callable(coerce_cli_choice)


def test_a_command_built_by_the_root_gets_the_quick_conversion():
    root = typer.main.get_command(app)
    context = root.make_context("thcli", ["referral", "list"], resilient_parsing=True)
    root.resolve_command(context, ["referral", "list"])
    referral = root.get_command(context, "referral")
    listing = referral.commands["list"]
    # Only `list` was built: the group's sixty-option commands were not read.
    assert list(referral.commands) == ["list"]
    converted = [p.name for p in listing.params if isinstance(p._runtime_param, typer_speedups._QuickConversion)]
    assert converted == [p.name for p in listing.params] and "fmt" in converted
