"""The root of the command line: global options, the command groups, and errors.

Groups live one per module in ``thcli/commands/`` and are imported only when
used (``thcli referral list`` never builds the budget or letter commands), so
the tool starts fast. Domain errors become one line on stderr and an exit code
here, and only here: 1 when a rule or record says no, 2 when the command line
was wrong (CLI.md).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from thcli import __version__
from thcli.commands._common import Session, default_db_path, default_user
from thcli.typer_speedups import build_group, quick_conversion

#: name -> (module, one-line help), in the order a coordinator meets them.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("thcli.commands.init", "Create the scheme's database with editable defaults."),
    "demo": ("thcli.commands.demo", "Build a made-up demo scheme to try thcli on."),
    "referral": ("thcli.commands.referral", "Log, find, read and move referrals (cases)."),
    "survey": ("thcli.commands.survey", "Request and record home security surveys."),
    "measures": ("thcli.commands.measures", "Approve, order and record fitted measures."),
    "stock": ("thcli.commands.stock", "Equipment held in stock by IDVAs and officers."),
    "followup": ("thcli.commands.followup", "Record follow-ups after fitting."),
    "due": ("thcli.commands.due", "What needs doing, most urgent first."),
    "budget": ("thcli.commands.budget", "Funds, contributions, commitments and payments."),
    "letter": ("thcli.commands.letter", "Word letters from the scheme's templates."),
    "report": ("thcli.commands.report", "Operational figures at a glance, and the board report."),
    "export": ("thcli.commands.export", "County partnership exports (CSV)."),
    "county": ("thcli.commands.county", "The county partnership's side: county key, combine districts."),
    "person": ("thcli.commands.person", "Subject access: everything held about a client."),
    "retention": ("thcli.commands.retention", "Review and apply the retention schedule."),
    "audit": ("thcli.commands.audit", "Who did what, and when."),
    "codes": ("thcli.commands.codes", "Code lists: districts, routes, reasons, measures..."),
    "settings": ("thcli.commands.settings", "The scheme's settings."),
    "db": ("thcli.commands.db", "Where the database is; check, back up, restore."),
}


@functools.cache
def available_commands() -> dict[str, tuple[str, str]]:
    """The command modules that exist in this installation."""
    from importlib.util import find_spec

    return {name: spec for name, spec in COMMANDS.items() if find_spec(spec[0]) is not None}


class _Listed(typer.core.TyperCommand):
    """A stand-in that carries a group's one-line help for ``thcli --help``."""


class RootGroup(TyperGroup):
    """Loads command modules on demand and reports errors in one line."""

    _listing = False
    #: The invocation's Session, set by the root callback (for the error handling in main).
    thcli_session: Session | None = None
    #: The word after the group's name on the command line (see typer_speedups.build_group).
    _subcommand: str | None = None

    def list_commands(self, ctx) -> list[str]:
        return list(available_commands())

    def get_command(self, ctx, cmd_name: str):
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        spec = available_commands().get(cmd_name)
        if spec is None:
            return None
        if self._listing:
            # Root help lists groups by their one-line help: no need to build them.
            return _Listed(name=cmd_name, help=spec[1], callback=lambda: None)
        module = importlib.import_module(spec[0])
        command = build_group(module.app, self._subcommand)
        command.name = cmd_name
        quick_conversion(command, ctx)
        self.commands[cmd_name] = command
        return command

    def parse_args(self, ctx, args):
        quick_conversion(self, ctx)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        self._subcommand = args[1] if len(args) > 1 else None
        return super().resolve_command(ctx, args)

    def format_help(self, ctx, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        from typer import _click

        from thcli.errors import ThcliError

        utf8_output()
        try:
            _refuse_undecodable(sys.argv[1:] if args is None else args)
            result = super().main(
                args=args, prog_name=prog_name or "thcli", complete_var=complete_var,
                standalone_mode=False, windows_expand_args=windows_expand_args, **extra,
            )
        except ThcliError as error:
            self._note_damage(error)
            _fail(error.message, error.exit_code)
        except _click.exceptions.NoArgsIsHelpError as error:
            _click.echo(error.ctx.get_help(), err=False)
            sys.exit(0)
        except _click.exceptions.UsageError as error:
            hint = ""
            if error.ctx is not None:
                hint = f" (see `{error.ctx.command_path} --help`)"
            _fail(error.format_message() + hint, error.exit_code)
        except _click.exceptions.ClickException as error:
            _fail(error.format_message(), error.exit_code)
        except typer.Abort:  # typer 0.29 vendors click without its Abort; typer has its own
            _fail("Cancelled: nothing was saved.", 1)
        except KeyboardInterrupt:
            _fail("Cancelled: nothing was saved.", 130)
        except BrokenPipeError:
            sys.exit(1)
        except Exception as error:  # noqa: BLE001 - never a traceback (THCLI_DEBUG=1 shows one)
            from thcli.dbfile import is_database_error, translate

            if is_database_error(error):
                self._note_damage(error)
                _fail(translate(error).message, 1)
            if os.environ.get("THCLI_DEBUG"):
                raise
            session = self.thcli_session
            hint = (" If it happens again, check the database with `thcli db check`."
                    if session is not None and session.opened_any else "")
            _fail(_unexpected(error) + hint, 1)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result


    def _note_damage(self, error: BaseException) -> None:
        """Mark the command's database damaged when SQLite said so while using it (db.mark_damaged)."""
        from thcli.dbfile import damage_note, is_damage, mark_damaged
        from thcli.errors import DatabaseDamaged

        session = self.thcli_session
        if session is None or not session.opened_any:
            return
        if isinstance(error, DatabaseDamaged):
            if error.path is not None and Path(str(error.path)) != session.db_path:
                return  # a backup or another file, not the database
            # Already said in thcli's words: keep the note of where it was found (dbfile.translated's), or say
            # it plainly, never the translated message inside the next one.
            if damage_note(session.db_path) is None:
                mark_damaged(session.db_path, "SQLite reported the file damaged")
            return
        if not is_damage(error):
            return
        mark_damaged(session.db_path, f"SQLite reported: {error}")


def utf8_output(streams: Sequence[Any] | None = None) -> None:
    """Write stdout and stderr as UTF-8, whatever the platform's default for a file or a pipe.

    On Windows, output to a file or a pipe is in the ANSI code page (cp1252 and
    the like), which has no room for the tables' lines or for many names: a
    `--format json > cases.json` would fail half-way. JSON and CSV are UTF-8
    (CLI.md), so the streams are made so.
    """
    for stream in (sys.stdout, sys.stderr) if streams is None else streams:
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding in ("utf8", "utf8sig") or not hasattr(stream, "reconfigure"):
            continue
        try:
            stream.reconfigure(encoding="utf-8")
        except (ValueError, OSError):  # a stream that has been written to in another encoding: leave it
            pass


#: Bytes on the command line that are not UTF-8 come to Python as lone surrogates.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: What must not reach a terminal raw in a message: control characters, and lone surrogates.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: Environment variables thcli reads as text.
TEXT_VARIABLES = ("THCLI_USER", "THCLI_DB", "THCLI_KEY", "THCLI_NEW_KEY")


def _refuse_undecodable(args: Any) -> None:
    """Exit 2 when an argument or a variable thcli reads is not UTF-8 text (it could not be stored or printed)."""
    from thcli.errors import BadInput

    for position, arg in enumerate(args or [], start=1):
        if isinstance(arg, str) and _SURROGATE.search(arg):
            raise BadInput(f"argument {position} ({shown(arg)}) has bytes that are not UTF-8 text: retype it "
                           "(or rename the file it names)")
    for name in TEXT_VARIABLES:
        if _SURROGATE.search(os.environ.get(name, "")):
            raise BadInput(f"{name} has bytes that are not UTF-8 text: set it again")


def shown(text: str, limit: int = 60) -> str:
    """Text as quoted in a message: shortened, with control characters and odd bytes escaped."""
    text = text if len(text) <= limit else text[:limit - 3] + "..."
    return _printable(text)


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape", "backslashreplace").decode("ascii")
                            if not _SURROGATE.match(m.group(0)) else f"\\x{ord(m.group(0)) - 0xDC00:02x}", text)


def _unexpected(error: BaseException) -> str:
    """The one line for an error thcli has no message for (a bug): what it was, and that nothing more was saved."""
    if isinstance(error, OSError):
        from thcli.files import os_problem

        return os_problem(error, error.filename if error.filename is not None else "a file", doing="use").message
    if isinstance(error, UnicodeError):
        return ("some text could not be read or written as UTF-8 (a damaged database, or odd bytes in a file "
                "or setting): nothing more was saved")
    if isinstance(error, (MemoryError, RecursionError)):
        return "thcli ran out of memory on this: try a smaller value or a smaller batch; nothing more was saved"
    return (f"an unexpected problem ({type(error).__name__}: {error}); nothing more was saved. Please report it "
            "(run it again with THCLI_DEBUG=1 to see the details)")


#: A run of characters longer than this in a message (a huge value, a very long path) is shortened.
_LONG_WORD = re.compile(r"\S{161,}")


def _fail(message: str, code: int) -> None:
    text = _printable(message)  # always one printable line, whatever was typed or stored
    text = _LONG_WORD.sub(lambda m: f"{m.group(0)[:80]}...{m.group(0)[-40:]}", text)
    sys.stderr.write(f"Error: {text}\n")
    sys.stderr.flush()
    sys.exit(code)


app = typer.Typer(
    cls=RootGroup,
    name="thcli",
    help=(
        "thcli: the sanctuary scheme (target hardening) coordinator's tool.\n\n"
        "Log referrals, record surveys and measures, track the money, print letters "
        "and send the county its figures, from one local database.\n\n"
        "Example: thcli referral list --status open"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"thcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="The database file (default: THCLI_DB, else thcli.db in the app folder).",
                     metavar="PATH", show_default=False),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Your name, for the audit log and letters (default: THCLI_USER, else your login).",
                     metavar="NAME", show_default=False),
    ] = None,
    allow_network_share: Annotated[
        bool,
        typer.Option("--allow-network-share",
                     help="Open a database on a network file system (NFS, SMB, sshfs...), where SQLite's "
                          "locking is not safe: only if one computer alone ever uses it."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    ctx.obj = Session(
        db_path=db.expanduser() if db else default_db_path(),
        user=_user(as_user),
        db_given=db is not None or bool(os.environ.get("THCLI_DB")),
        allow_network_share=allow_network_share,
    )
    root_command = ctx.find_root().command
    if isinstance(root_command, RootGroup):
        root_command.thcli_session = ctx.obj  # read by _note_damage


def _user(as_user: str | None) -> str:
    """``--as``, else THCLI_USER, else the login: a name as the audit log keeps it (exit 2 otherwise)."""
    from thcli import parse
    from thcli.errors import BadInput

    if as_user is not None:
        try:
            return parse.name(as_user)
        except BadInput as error:
            raise error.for_option("--as") from None
    user = default_user()
    try:
        return parse.name(user)
    except BadInput as error:
        raise BadInput(error.bare_message, "THCLI_USER" if os.environ.get("THCLI_USER", "").strip() else "user name") \
            from None
