"""The county key: one secret for the whole partnership, held by the districts and by nobody at the county.

``thcli county key new --out county.key`` makes it (32 random bytes, in a
small text file readable by its owner only); each district scheme imports it
with ``thcli county key use county.key``, which keeps it in the database's
``secrets`` table beside the scheme's own secret. From then on the case
extract keys each client with a date of birth on the person
(county.CountyPseudonymiser), so that a survivor referred in two districts
has one pseudonym. ``combine`` needs no key: the officer who made it hands it
to the districts and keeps no copy, so the county can match pseudonyms but
cannot test a name against them.

The key never appears in an export, a letter, the audit log or any output.
What is shown instead is its **check code** (:func:`check_code`): eight hex
digits of an HMAC under the key, the same for everyone who holds the same
key, which the coordinators read to each other to be sure they all imported
the same file. It tells nothing about the key.

The file (``thcli-county-key-1``): a first line naming the format, the key
as 64 hex digits on the second, and comment lines after them (``#``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from thcli import audit, county
from thcli.db import Database, write
from thcli.errors import BadInput, NotAllowed
from thcli.files import head, may_replace, os_problem, printable, readable_file, write_atomically

FORMAT = "thcli-county-key-1"
KEY_BYTES = 32
_HEX = re.compile(r"[0-9a-f]{64}")
#: A key file is a few lines; anything much larger is something else.
_MOST = 4096

_COMMENT = (
    "# The county domestic abuse partnership's key for thcli (county extract version 2).\n"
    "# SECRET. Give it to each district scheme's coordinator by a secure route (not plain email),\n"
    "# to import with: thcli county key use FILE. Then delete every other copy: combining the\n"
    "# districts' files needs no key, and without one nobody can test a name against the pseudonyms.\n"
)


def check_code(key: bytes) -> str:
    """Eight hex digits (``1a2b-3c4d``) that are the same for everyone holding the same key, and tell nothing of it."""
    digest = hmac.new(key, b"thcli county key check code", hashlib.sha256).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}"


def _key_text(key: bytes) -> str:
    return f"{FORMAT}\n{key.hex()}\n{_COMMENT}"


def is_key_file(path: Path) -> bool:
    """Whether a file is a thcli county key file (by its first line)."""
    return head(path, 64).split(b"\n", 1)[0].rstrip(b"\r") == FORMAT.encode()


def new_key_file(path: Path, *, force: bool = False) -> str:
    """Write a new county key to ``path`` (0600, in one step); returns its check code.

    An existing file is replaced only with ``force`` and only when it is an
    earlier key file (files.may_replace): the districts may hold that key.
    """
    path = Path(path).expanduser()
    replacing = may_replace(path, what="county key file", is_earlier=is_key_file, force=force, option="--out")
    key = secrets.token_bytes(KEY_BYTES)
    try:
        write_atomically(path, _key_text(key), replace=replacing, option="--out")
    except FileExistsError:
        raise NotAllowed(f"{printable(path)} appeared while the key was written: nothing was replaced; "
                         "choose another name") from None
    return check_code(key)


def read_key_file(path: Path) -> bytes:
    """The key in a county key file (BadInput, exit 2, naming what is wrong with it)."""
    path = Path(path).expanduser()
    where = printable(path)
    readable_file(path, folder="give the county key file (e.g. county.key)",
                  missing="give the file the partnership made with `thcli county key new`")
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MOST + 1)
    except OSError as error:
        raise os_problem(error, path, doing="read") from None
    lines = data.decode("utf-8", "replace").lstrip("\ufeff").splitlines()
    if len(data) > _MOST or not lines or lines[0].strip() != FORMAT:
        raise BadInput(f"{where} is not a thcli county key file: use the file `thcli county key new` made "
                       "(it starts with the line thcli-county-key-1)")
    if len(lines) < 2 or not _HEX.fullmatch(lines[1].strip().lower()):
        raise BadInput(f"{where} is a county key file whose key line is damaged (it must be 64 hex digits): "
                       "ask the partnership for the file again")
    return bytes.fromhex(lines[1].strip())


@dataclass(frozen=True)
class KeyState:
    """Whether the scheme holds a county key, its check code, and when and by whom it was set."""

    held: bool
    check_code: str | None = None
    set_at: str | None = None
    set_by: str | None = None


def state(db: Database) -> KeyState:
    """The scheme's county key, as a coordinator may see it (never the key itself)."""
    key = county.county_key(db)
    if key is None:
        return KeyState(False)
    row = db.conn.execute("SELECT at, by FROM audit WHERE action = 'county.key.use' ORDER BY id DESC LIMIT 1"
                          ).fetchone()
    return KeyState(True, check_code(key), row[0] if row else None, row[1] if row else None)


@dataclass(frozen=True)
class KeyUsed:
    check_code: str
    #: False when the scheme already held this very key
    changed: bool
    #: the check code of the key it replaced, if any
    replaced: str | None = None


def use_key(db: Database, path: Path, *, by: str, force: bool = False) -> KeyUsed:
    """Import the partnership's county key into the scheme's database (audited by its check code only).

    A different key already held is replaced only with ``force``: every
    client pseudonym of later extracts changes with it.
    """
    key = read_key_file(path)
    code = check_code(key)
    held = county.county_key(db)
    if held == key:
        return KeyUsed(code, changed=False)
    if held is not None and not force:
        raise NotAllowed(f"this scheme already holds another county key (check code {check_code(held)}); "
                         f"{printable(Path(path))} has check code {code}. Replacing it changes every client "
                         "pseudonym in later extracts, so the county can no longer match them with earlier ones: "
                         "if the partnership has issued a new key, add --force")
    with write(db):
        db.conn.execute("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) "
                        "DO UPDATE SET value = excluded.value", [county.COUNTY_KEY_SECRET, key.hex()])
        detail = f"county key check code {code}" + (f", replacing {check_code(held)}" if held is not None else "")
        audit.record(db, by=by, action="county.key.use", detail=detail)
    return KeyUsed(code, changed=True, replaced=check_code(held) if held is not None else None)


def forget_key(db: Database, *, by: str) -> str | None:
    """Remove the county key from the scheme (audited); returns the check code of the key removed, or None."""
    held = county.county_key(db)
    if held is None:
        return None
    code = check_code(held)
    with write(db):
        db.conn.execute("DELETE FROM secrets WHERE name = ?", [county.COUNTY_KEY_SECRET])
        audit.record(db, by=by, action="county.key.forget", detail=f"county key check code {code}")
    return code
