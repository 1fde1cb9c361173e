"""CSV cells as every county file writes them (COUNTY_EXPORT.md): the spec version first, the scheme's code,
text a spreadsheet will not run as a formula, quoting as RFC 4180 has it, and numbers as the county reads them."""

from __future__ import annotations

import csv
from typing import IO

from thcli import settings
from thcli.db import Database

#: The contract version both files say (COUNTY_EXPORT.md): version 2 added ``pseudonym_scope`` to the extract.
SPEC_VERSION = "thcli-county-2"
#: Every version a reader accepts (COUNTY_EXPORT.md: readers accept both).
SPEC_VERSIONS = ("thcli-county-1", "thcli-county-2")


def scheme_code(db: Database) -> str:
    """The scheme's code as stored (setting scheme_code), as the exports write it (defused, never refused).

    Read as text rather than through settings.get, which would refuse a value
    edited into the database by hand: an export writes it, defused, instead.
    """
    row = db.conn.execute("SELECT value FROM settings WHERE key = 'scheme_code'").fetchone()
    return row[0] if row else settings.SETTINGS["scheme_code"].default


#: What makes a spreadsheet treat a cell as a formula (after leading spaces).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def defuse(value: str | None) -> str:
    """A text cell a spreadsheet will not run: prefixed with ``'`` when it starts with a trigger.

    Only for text: numbers are written by thcli and never pass through here.
    """
    if not value:
        return ""
    if value.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_writer(stream: IO[str]):
    return csv.writer(stream, lineterminator="\r\n")


def csv_cell(text: str) -> str:
    """A text cell quoted as RFC 4180 (and Python's csv module) quote it: only when it must be."""
    if "," in text or '"' in text or "\r" in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def number_cell(value: float | int) -> str:
    """A number as the county reads it: 7, 7.5 (never 7.0)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)
