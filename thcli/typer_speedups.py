"""Typer made quick to start, in one place, for the typer versions it was written for.

thcli answers ``referral list`` or ``due`` in a few milliseconds of its own,
but typer, left alone, spends far more before the command runs:

- it converts every parameter, given or not, through a pydantic TypeAdapter
  (importing pydantic and making the first adapter: 150 ms or more);
- to run one command of a group it builds every command of the group
  (``referral add`` and ``edit`` have sixty options each: about 40 ms).

:func:`quick_conversion` and :func:`build_group` replace those two steps.
They reach into typer's private API (``typer._coercion``,
``typer._param_types``, a parameter's ``_runtime_param`` and
``type_descriptor``), so pyproject pins typer to the releases they were
written for (``TYPER_WRITTEN_FOR``), and tests/test_typer_speedups.py fails
loudly, naming what moved, when a typer release changes under them. Where
typer's internals are not as expected at run time, both step aside and typer
does its own work: slower, never wrong.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import typer

#: The typer releases these speed-ups were written and tested for (pyproject pins the same).
TYPER_WRITTEN_FOR = ("0.29",)


#: What _QuickConversion.convert returns when it leaves a value to typer.
_TO_TYPER = object()


class _QuickConversion:
    """Typer's conversion of one parameter's value, without pydantic where the result is plain.

    Typer converts every parameter, given or not, through a pydantic TypeAdapter:
    importing pydantic and making the first one cost 150 ms or more (each further
    one about a millisecond), when ``referral list`` or ``due`` answer in a few
    milliseconds. The adapters of thcli's parameters only pass the value
    through: to thcli's own parser (``parser=``), to typer's choice matching
    (``--format``), or to ``str``. This does the same without them, and hands
    anything else to typer's own converter, built on first need: a value that
    fails (so the message is typer's, word for word), a list, a path, a number,
    a flag.
    """

    def __init__(self, descriptor: Any):
        self.descriptor = descriptor
        self.typer_converter: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # an option left out: typer passes None (or () for many) through
            return () if param.multiple or param.nargs == -1 else None
        _refuse_blank(value, param)
        if not param.multiple and param.nargs == 1:
            converted = self.convert(value, ctx)
            if converted is not _TO_TYPER:
                return converted
        if self.typer_converter is None:
            from typer._coercion import build_runtime_param

            self.typer_converter = build_runtime_param(self.descriptor)
        return self.typer_converter.coerce(value, param=param, ctx=ctx)

    def convert(self, value: Any, ctx: Any) -> Any:
        """What typer's adapter would return for ``value``, or _TO_TYPER to let typer do it."""
        parser = self.descriptor.parameter_info.parser
        # pydantic turns these two into typer's "Invalid value" message; anything else passes through it.
        failures = (ValueError, AssertionError)
        if parser is not None:
            try:
                return parser(value)
            except failures:
                return _TO_TYPER
        choices = self.descriptor.choices
        if choices is not None:
            from typer._param_types import coerce_cli_choice

            try:
                return coerce_cli_choice(value, choices=choices, case_sensitive=self.descriptor.case_sensitive,
                                         ctx=ctx)
            except failures:
                return _TO_TYPER
        if self.descriptor.annotation is str and type(value) is str:
            return value
        return _TO_TYPER


def _refuse_blank(value: Any, param: Any) -> None:
    """An option given an empty value is a mistake, never the same as leaving it out (``--fund ""``).

    So is an empty file or folder argument: ``Path("")`` would be the current folder.
    """
    if getattr(param, "param_type_name", "") != "option":
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        if annotation is not Path:
            return
    values = value if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(v, str) and not v.strip() for v in values):
        raise typer.BadParameter("it was given an empty value: give one, or leave the option out", param=param)


def quick_conversion(command: Any, ctx: Any) -> None:
    """Give each parameter of ``command`` and of its subcommands a :class:`_QuickConversion`.

    Their ``--help`` options too, which typer makes on first use: made here, from
    the root's context, whose help option names every subcommand's context inherits.
    """
    get_help_option = getattr(command, "get_help_option", None)
    help_option = get_help_option(ctx) if get_help_option is not None and ctx is not None else None
    for param in [*getattr(command, "params", ()), *([help_option] if help_option is not None else [])]:
        # Only where typer's internals are as this was written for (a converter not built
        # yet, and its description): with any other typer, typer converts as it always does.
        if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
            param._runtime_param = _QuickConversion(param.type_descriptor)
    for subcommand in getattr(command, "commands", {}).values():
        quick_conversion(subcommand, ctx)


def build_group(app: typer.Typer, subcommand: str | None) -> Any:
    """The click command of a group module's ``app``, built with only ``subcommand`` when it names one.

    To run one command of a group, typer builds them all, reading every option
    of every one: ``referral`` has ten, ``add`` and ``edit`` sixty options each,
    about 40 ms of a ``referral list``. When the next word on the command line
    names one of the group's own commands, the group is built with that command
    alone; for anything else (its help, a typo, a subgroup) it is built whole.
    """
    commands = app.registered_commands
    chosen = [info for info in commands if info.callback is not None and subcommand is not None
              and (info.name or typer.main.get_command_name(info.callback.__name__)) == subcommand]
    if len(commands) > 1 and len(chosen) == 1 and not app.registered_groups and not getattr(
            app, "_add_completion", True):
        lean = copy.copy(app)
        lean.registered_commands = chosen
        return typer.main.get_group(lean)
    return typer.main.get_command(app)
