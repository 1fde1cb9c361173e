"""Named errors of the domain, turned into messages and exit codes in cli.py only.

Every error carries a message written for a coordinator: what was wrong and how
to put it right. ``exit_code`` follows CLI.md: 1 when a rule or a record says
no, 2 when the command line itself was wrong.
"""


class ThcliError(Exception):
    """Base of every error thcli reports to the user."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(ThcliError):
    """A value given on the command line (or to a prompt) cannot be understood."""

    exit_code = 2

    def __init__(self, message: str, option: str | None = None):
        super().__init__(f"{option}: {message}" if option else message)
        self.option = option
        self.bare_message = message

    def for_option(self, option: str) -> "BadInput":
        """The same error, naming the option it came from."""
        return BadInput(self.bare_message, option=option)


class NotFound(ThcliError):
    """A case, code, fund or other record does not exist."""


class NotAllowed(ThcliError):
    """A rule of the scheme or of the case lifecycle says no."""


class WouldOverspend(NotAllowed):
    """Approving or paying would take a fund below zero."""


class DatabaseProblem(ThcliError):
    """The database cannot be opened or used (locked, damaged, wrong key...)."""


class DatabaseDamaged(DatabaseProblem):
    """SQLite found the database file damaged (a malformed page, a failed integrity check).

    ``path`` is the file it was found in (None: the database the command opened).
    """

    def __init__(self, message: str, path: object = None):
        super().__init__(message)
        self.path = path
