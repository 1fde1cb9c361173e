"""SQLCipher keys and connections: what the database layer needs to open an encrypted file.

A thcli database holds the addresses of people hiding from someone who may
want to hurt them, on a laptop that can be lost. With ``thcli init --encrypt``
or ``thcli db encrypt`` every page of the file (and of its WAL) is encrypted
with a key derived from a passphrase. The passphrase comes from ``THCLI_KEY``
or a prompt in a terminal, never from the command line (where it would sit in
the shell history and the process list), and it never reaches a log, the
audit or an error message: it travels inside a :class:`Key`, whose ``repr``
hides it, and reaches SQLCipher through ``sqlite3_key`` (``set_key``) or a
bound parameter, never pasted into SQL.

Whether a file is encrypted is read from its first 16 bytes: a plain SQLite
file starts with ``SQLite format 3\\0``, an encrypted one with random salt.
So a plain database is opened by the standard library's sqlite3 as before,
and sqlcipher3 is imported only when a key is needed; and an encrypted
database is never opened without its key.

Converting a database (``db encrypt``, ``db rekey``) is crypto.py's, above
the database layer; this module is below it and imports no other thcli
module but errors.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from thcli.errors import BadInput, NotAllowed
from thcli.files import SQLITE_HEADER

#: Where the key comes from (never a command-line option).
KEY_VARIABLE = "THCLI_KEY"
#: The new key for ``thcli db rekey`` when it is not typed at a prompt.
NEW_KEY_VARIABLE = "THCLI_NEW_KEY"
INSTALL_HINT = "install it with: pip install 'thcli[encrypted]'"
MIN_PASSPHRASE = 8


class Key:
    """A database key (a passphrase) that never shows itself.

    ``repr`` and ``str`` hide the value, so a key cannot leak into a message,
    a log line or a traceback's locals by accident; :meth:`reveal` hands it
    to SQLCipher.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not isinstance(value, str) or value == "":
            raise BadInput("the passphrase is empty: give the database's passphrase")
        if "\x00" in value:
            raise BadInput("the passphrase contains a NUL character, which SQLCipher cannot take")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Key(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Key", self._value))


def header(path: Path) -> bytes:
    """The first 16 bytes of a file (fewer for a shorter file)."""
    with open(path, "rb") as handle:
        return handle.read(16)


def is_encrypted(path: Path) -> bool:
    """Whether an existing, non-empty file is not a plain SQLite database.

    That is an encrypted database, or a file that is no database at all: both
    need a key to go further, and a wrong key or a stray file give the same
    message ("wrong key or not a thcli database").
    """
    try:
        return path.stat().st_size > 0 and header(path) != SQLITE_HEADER
    except OSError:
        return False


def key_from_environment(variable: str = KEY_VARIABLE) -> Key | None:
    value = os.environ.get(variable)
    return Key(value) if value else None


_quietened = False


def sqlcipher() -> Any:
    """The sqlcipher3 DB-API module, quietened; NotAllowed when it is not installed."""
    global _quietened
    try:
        import sqlcipher3.dbapi2 as module
    except ImportError:
        raise NotAllowed(f"encryption needs the sqlcipher3 package: {INSTALL_HINT}") from None
    if not _quietened:
        # SQLCipher logs a wrong key's failed HMAC check to stderr; the user gets
        # thcli's one-line message instead. The log level is process-wide.
        probe = module.connect(":memory:")
        try:
            probe.execute("PRAGMA cipher_log_level = NONE")
        finally:
            probe.close()
        _quietened = True
    return module


def open_keyed(path: Path | str, key: Key, *, timeout: float, uri: bool = False) -> Any:
    """A sqlcipher3 connection to ``path`` (a ``file:`` URI with ``uri``) with ``key`` set (not yet proved right)."""
    module = sqlcipher()
    conn = module.connect(str(path), timeout=timeout, uri=uri)
    try:
        conn.set_key(key.reveal())
    except BaseException:
        conn.close()
        raise
    return conn


#: SQLCipher's raw key: x'...' around 64 hex digits (a 256-bit key), or 96 (the key and its salt).
_RAW_KEY = re.compile(r"x'(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{96})'")


def require_strong(key: Key) -> None:
    """A new passphrase long enough to resist guessing, counted as typed.

    Only a whole raw key (x'...' around 64 or 96 hex digits) is taken as it
    is: ``x''`` is a three-character passphrase, and too short.
    """
    value = key.reveal()
    if _RAW_KEY.fullmatch(value):
        return
    if len(value) < MIN_PASSPHRASE:
        raise BadInput(
            f"the passphrase is too short: use at least {MIN_PASSPHRASE} characters "
            "(a few unrelated words are easy to remember and hard to guess)"
        )
