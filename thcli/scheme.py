"""The scheme's own set-up: `thcli init` (identity and default code lists) and `thcli settings set`.

settings.py declares each setting and reads it; changing one is done here,
above the nouns that work from the settings: a changed time target moves the
next due date of every case (targets.refresh_all).
"""

from __future__ import annotations

from typing import Any

from thcli import audit, code_defaults, parse, settings, targets
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed


def parse_district(text: str) -> tuple[str, str]:
    """``CODE:Name`` as given to ``init --district``."""
    code, sep, name = text.partition(":")
    if not sep or not name.strip():
        raise BadInput(f"{text!r} is not a district: write CODE:Name, e.g. boston:Boston Borough")
    return parse.code(code.strip()), parse.name(name)


def identity(*, name: str, code: str, prefix: str) -> dict:
    """The scheme's name, code and reference prefix, checked (BadInput naming the option)."""
    values = {}
    for key, option, text in (
        ("scheme_name", "--scheme", name), ("scheme_code", "--code", code), ("ref_prefix", "--prefix", prefix)
    ):
        try:
            values[key] = parse.label(text) if key == "scheme_name" else settings.parse_value(None, key, text)
        except BadInput as error:
            raise error.for_option(option) from None
    return values


def is_initialised(db: Database) -> bool:
    return db.conn.execute("SELECT count(*) FROM codes").fetchone()[0] > 0


def init_scheme(
    db: Database,
    *,
    by: str,
    name: str = "Sanctuary Scheme",
    code: str = "scheme",
    prefix: str = "TH",
    districts: list[tuple[str, str]] | None = None,
    demo: bool = False,
) -> None:
    """Store the scheme's identity and seed every code list with defaults."""
    values = identity(name=name, code=code, prefix=prefix)
    if districts and len({d[0] for d in districts}) != len(districts):
        raise BadInput("--district: the same district code is given twice")
    with write(db):
        if is_initialised(db):
            raise NotAllowed("this database is already set up: change it with `thcli settings set`")
        for key, value in values.items():
            settings.put(db, key, value)
        if demo:
            settings.put(db, "demo", True)
        code_defaults.seed_defaults(db, districts)
        audit.record(db, by=by, action="init", detail=values["scheme_code"])


def set_from_text(db: Database, key: str, text: str, *, by: str) -> Any:
    """``thcli settings set``: parse, store and audit one setting."""
    value = settings.parse_value(db, key, text)
    with write(db):
        settings.put(db, key, value)
        if key in targets.DUE_SETTINGS:  # every open case's next due date follows the new target
            targets.refresh_all(db)
        audit.record(db, by=by, action="settings.set", detail=key)
    return value
