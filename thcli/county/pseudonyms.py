"""Pseudonyms (COUNTY_EXPORT.md): cases and clients keyed by an HMAC under the scheme's own secret.

The secret (``secrets.county_hmac``) never leaves the database, so the county
can count a client's repeat referrals without ever learning who they are,
and nobody without the secret can go from a pseudonym back to a case.

Version 2 (issue 17): where the scheme holds the partnership's **county key**
(``thcli county key use``), a client with a date of birth is keyed on the
person instead (:class:`CountyPseudonymiser`: HMAC-SHA256 of the normalised
``NAME|DOB`` under the county key), so one survivor has one pseudonym in
every district's file; the extract's ``pseudonym_scope`` says which.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from thcli.db import Database
from thcli.errors import DatabaseProblem


class Pseudonymiser:
    """First 16 hex characters of HMAC-SHA256 under the scheme's county secret.

    The key is the stored secret's text (UTF-8). A case is keyed by its
    reference (``EV-2026-0042``), a client by ``client:`` and its client
    number, so the same client has the same pseudonym on every case.
    """

    def __init__(self, key: bytes):
        self._inner, self._outer = _hmac_pads(key)

    def __call__(self, text: str) -> str:
        # HMAC by hand from copied pad states: the same digest as hmac.new(key, text,
        # sha256), about three times quicker per row of a 100,000-case extract.
        inner = self._inner.copy()
        inner.update(text.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:16]

    def case(self, ref: str) -> str:
        return self(ref)

    def client(self, client_id: int) -> str:
        return self(f"client:{client_id}")


def pseudonymiser(db: Database) -> Pseudonymiser:
    """The scheme's pseudonymiser (DatabaseProblem when its secret is missing)."""
    row = db.conn.execute("SELECT value FROM secrets WHERE name = 'county_hmac'").fetchone()
    if row is None or not row[0]:
        raise DatabaseProblem(
            "the county pseudonym secret is missing from the database, so pseudonyms would not match "
            "earlier exports. Restore the latest backup with `thcli db restore BACKUP`."
        )
    return Pseudonymiser(row[0].encode("utf-8"))


def client_pseudonym(db: Database, client_id: int) -> str:
    """The county pseudonym of a client: store it in ``cases.client_pseudonym`` before the client is erased.

    The case extract uses the stored value once ``cases.client_id`` is NULL,
    so a client's repeat referrals still count as one person after anonymisation.
    """
    return pseudonymiser(db).client(client_id)


# --- the county key (COUNTY_EXPORT.md version 2; issue 17) ---------------------------------

#: The name of the county key in the ``secrets`` table (64 hex digits), set by ``thcli county key use``.
COUNTY_KEY_SECRET = "county_key"

_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def person_key(name: str, dob: str) -> str:
    """``NAME|DOB`` exactly as COUNTY_EXPORT.md v2 says every district must write it.

    NAME: the full name, Unicode NFKC, case-folded, every character that is
    not a letter removed but for single spaces between words. DOB: the date
    of birth as ``YYYY-MM-DD``.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch if unicodedata.category(ch).startswith("L") else " " if ch.isspace() else ""
                   for ch in folded)
    return " ".join(kept.split()) + "|" + dob


class CountyPseudonymiser(Pseudonymiser):
    """The client pseudonym under the partnership's county key: the same person, the same pseudonym everywhere."""

    def person(self, name: str | None, dob: str | None) -> str | None:
        """The pseudonym of ``NAME|DOB``; None without a full date of birth or a letter in the name."""
        if not name or not dob or not _FULL_DATE.fullmatch(dob):
            return None
        key = person_key(name, dob)
        return self(key) if not key.startswith("|") else None


def county_key(db: Database) -> bytes | None:
    """The county key the scheme holds (32 bytes), or None."""
    row = db.conn.execute("SELECT value FROM secrets WHERE name = ?", [COUNTY_KEY_SECRET]).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return bytes.fromhex(row[0])
    except ValueError:
        raise DatabaseProblem("the county key stored in the database is damaged: import the partnership's key "
                              "file again with `thcli county key use FILE --force`") from None


def _hmac_pads(key: bytes):
    """The inner and outer SHA-256 states of HMAC (RFC 2104) for a key, to be copied per message."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))
