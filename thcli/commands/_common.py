"""What every command module shares: the session, option types and parsers.

Kept light (typer and the standard library only) so that building the command
tree costs little; domain modules are imported inside command bodies.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from thcli.cipher import Key
    from thcli.db import Database

APP_NAME = "thcli"


def default_db_path() -> Path:
    """``THCLI_DB``, else thcli.db in the user's application folder.

    On Windows that is the local one (``%LOCALAPPDATA%\\thcli``): a council's roaming profile is often
    copied to a network share, where SQLite's locking is not safe.
    """
    env = os.environ.get("THCLI_DB")
    if env:
        return Path(env).expanduser()
    return Path(typer.get_app_dir(APP_NAME, roaming=False)) / "thcli.db"


def default_user() -> str:
    env = os.environ.get("THCLI_USER")
    if env and env.strip():
        return env.strip()
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container: still record something
        return "unknown"


@dataclass
class Session:
    """The global options of one invocation (``--db``, ``--as``, ``--allow-network-share``)."""

    db_path: Path
    user: str
    db_given: bool = False
    allow_network_share: bool = False
    #: the passphrase, once read from THCLI_KEY, the keychain or asked (at most once per invocation)
    _key: Key | None = field(default=None, repr=False)
    #: where it came from: "THCLI_KEY", "keychain" or "asked"
    key_source: str | None = None
    #: databases opened by this invocation, closed when it ends (see :func:`session`)
    _opened: list = field(default_factory=list, repr=False)

    def key(self) -> Key | None:
        """The database passphrase: THCLI_KEY, else the keychain's (``db unlock``), else asked once in a terminal.

        None when none of them gives one. THCLI_KEY comes first so that a script
        or a one-off command can give another passphrase than the one stored.
        """
        if self._key is None:
            from thcli import cipher, keychain

            self._key, self.key_source = cipher.key_from_environment(), cipher.KEY_VARIABLE
            if self._key is None:
                self._key, self.key_source = keychain.stored_key(self.db_path), "keychain"
            if self._key is None and stdin_is_terminal():
                self._key = cipher.Key(_ask_passphrase(f"Passphrase for {self.db_path}: "))
                self.key_source = "asked"
        return self._key

    def ask_key(self) -> Key:
        """The passphrase, typed in the terminal (and kept for this invocation)."""
        from thcli import cipher

        self._key, self.key_source = cipher.Key(_ask_passphrase(f"Passphrase for {self.db_path}: ")), "asked"
        return self._key

    def key_for(self, path: Path | None = None) -> Key | None:
        """The key to open ``path`` (default: the database) with: None when it is a plain file."""
        from thcli import cipher

        return self.key() if cipher.is_encrypted(path or self.db_path) else None

    def new_key(self, variable: str = "THCLI_KEY") -> Key:
        """A new passphrase: from ``variable``, else typed twice in a terminal; never an option."""
        from thcli import cipher
        from thcli.errors import BadInput

        key = cipher.key_from_environment(variable)
        if key is None:
            if not stdin_is_terminal():
                raise BadInput(f"set {variable} to the new passphrase (thcli never takes a passphrase "
                               "on the command line), or run this in a terminal to be asked for it")
            key = cipher.Key(_ask_passphrase("New passphrase: "))
            cipher.require_strong(key)
            if cipher.Key(_ask_passphrase("The same passphrase again: ")) != key:
                raise BadInput("the two passphrases differ: nothing was changed")
        return key

    #: whether this invocation opened its database (an error from SQLite is then about it)
    opened_any: bool = False

    def open(self, *, create: bool = False, key: Key | None = None) -> Database:
        from thcli.db import open_db
        from thcli.errors import DatabaseProblem

        self.opened_any = True
        given = key or self.key_for()
        try:
            db = open_db(self.db_path, create=create, key=given, allow_network_share=self.allow_network_share)
        except DatabaseProblem as error:
            if given is not None and key is None and self.key_source == "keychain" and "wrong key" in error.message:
                raise DatabaseProblem(
                    f"{self.db_path}: the passphrase the keychain holds for this database does not open it (was "
                    "it changed on another computer, or the file replaced?): store the right one with `thcli db "
                    "unlock`, or remove it with `thcli db lock`") from None
            raise
        self._opened.append(db)
        return db

    def close(self) -> None:
        """Close every database this invocation opened (so none lingers in a long-lived process)."""
        while self._opened:
            self._opened.pop().close()


def _ask_passphrase(prompt: str) -> str:
    """Read a passphrase from the terminal without showing it."""
    import getpass

    from thcli.errors import BadInput

    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise BadInput("no passphrase was given") from None


def session(ctx: typer.Context) -> Session:
    """The Session set by the root callback (or a default one)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session(default_db_path(), default_user())
    if not root.meta.get("thcli.closes_session"):
        root.call_on_close(root.obj.close)
        root.meta["thcli.closes_session"] = True
    return root.obj


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="table, json or csv (default: table on a terminal, else json)."),
]


def _wrap(parser):
    """A typer parser from a parse.py function: its BadInput becomes exit 2."""

    def convert(value: Any):
        from thcli.errors import BadInput

        if value is None or not isinstance(value, str):
            return value
        try:
            return parser(value)
        except BadInput as error:
            raise typer.BadParameter(error.message) from None

    convert.__name__ = getattr(parser, "__name__", "convert")
    return convert


def _date(text: str) -> dt.date:
    from thcli import dates

    return dates.date(text)


def _moment(text: str):
    from thcli import dates

    return dates.moment(text)


def _money(text: str) -> int:
    from thcli import parse

    return parse.money(text)


def _positive_money(text: str) -> int:
    from thcli import parse
    from thcli.errors import BadInput

    value = parse.money(text)
    if value <= 0:
        raise BadInput(f"{text!r}: the amount must be more than £0.00")
    return value


def _postcode(text: str) -> str:
    from thcli import parse

    return parse.postcode(text)


def _phone(text: str) -> str:
    from thcli import parse

    return parse.phone(text)


def _email(text: str) -> str:
    from thcli import parse

    return parse.email(text)


def _code(text: str) -> str:
    from thcli import parse

    return parse.code(text)


def _count(text: str) -> int:
    from thcli import parse

    return parse.whole_number(text, minimum=0, maximum=1_000_000)


def _positive(text: str) -> int:
    from thcli import parse

    return parse.whole_number(text, minimum=1, maximum=1_000_000)


def _name(text: str) -> str:
    from thcli import parse

    return parse.name(text)


def _text(text: str) -> str:
    from thcli import parse

    return parse.text(text)


def _invoice(text: str) -> str:
    from thcli import parse

    return parse.invoice(text)


def _label(text: str) -> str:
    from thcli import parse

    return parse.label(text)


def _search(text: str) -> str:
    from thcli import parse

    return parse.search(text)


def _reference(text: str) -> str:
    from thcli import parse

    return parse.reference(text)


def _line_amount(text: str) -> tuple[int, int]:
    from thcli import parse

    return parse.line_amount(text)


def _year(text: str) -> str:
    from thcli import dates

    return dates.financial_year(text)[0]


parse_date = _wrap(_date)
parse_moment = _wrap(_moment)
parse_money = _wrap(_money)
parse_positive_money = _wrap(_positive_money)
parse_postcode = _wrap(_postcode)
parse_phone = _wrap(_phone)
parse_email = _wrap(_email)
parse_code = _wrap(_code)
parse_count = _wrap(_count)
parse_positive = _wrap(_positive)
parse_name = _wrap(_name)
parse_text = _wrap(_text)
parse_label = _wrap(_label)
parse_invoice = _wrap(_invoice)
parse_search = _wrap(_search)
parse_reference = _wrap(_reference)
parse_year = _wrap(_year)
parse_line_amount = _wrap(_line_amount)

# Options and arguments more than one command takes, each declared once.
Ref = Annotated[str, typer.Argument(help="The case reference, e.g. TH-2026-0042.", metavar="REF")]
Line = Annotated[int, typer.Argument(parser=parse_positive, metavar="LINE",
                                     help="The measure line number (see `thcli measures list REF`).")]
OnDate = Annotated[dt.date | None, typer.Option("--date", parser=parse_date, metavar="DATE",
                                                help="When (default today).")]
NoteOption = Annotated[str | None, typer.Option("--note", parser=parse_text, metavar="TEXT",
                                                help="A note for the timeline.")]
CaseOption = Annotated[str | None, typer.Option("--ref", metavar="REF", parser=parse_reference,
                                                help="Only this case.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]
OverrideOption = Annotated[str | None, typer.Option(
    "--override", parser=parse_text, metavar="REASON",
    help="Go ahead although one of the scheme's eligibility rules says no (the reason is recorded on the case, "
         "and the audit log records which rule).")]
OverspendOption = Annotated[str | None, typer.Option("--allow-overspend", parser=parse_text, metavar="REASON",
                                                     help="Go ahead although the fund goes below zero (recorded).")]
# The period of `export` and `report summary`.
FromOption = Annotated[dt.date | None, typer.Option(
    "--from", parser=parse_date, metavar="DATE", help="First day of the period (with --to).", show_default=False)]
ToOption = Annotated[dt.date | None, typer.Option(
    "--to", parser=parse_date, metavar="DATE", help="Last day of the period (with --from).", show_default=False)]
QuarterOption = Annotated[str | None, typer.Option(
    "--quarter", metavar="YYYYQN", help="A calendar quarter: 2026Q3 is July to September 2026.", show_default=False)]
YearOption = Annotated[str | None, typer.Option(
    "--year", metavar="YYYY/YY", help="A financial year: 2026/27 is April 2026 to March 2027.", show_default=False)]


def next_due(what: str, on: str, at: str | None = None) -> str:
    """``Next due: survey by 04/12/2026.``, with the time when the target is in hours."""
    from thcli import dates

    when = dates.format_date(on) + (f" {dates.format_time(at)}" if at else "")
    return f"Next due: {what} by {when}."


def out(text: str = "") -> None:
    """Write a line to stdout."""
    typer.echo(text)


def warn(text: str) -> None:
    """A warning on stderr (the command still succeeds)."""
    typer.echo(f"Warning: {text}", err=True)


def note(text: str) -> None:
    """A line on stderr that is not a warning (used where stdout carries a file)."""
    typer.echo(text, err=True)
