"""Case primitives: what every noun needs about a case, and nothing that needs a noun.

Finding a case by its reference (:func:`case_row`), adding to its timeline
(:func:`event`), whether the client's consent to share stands (the one
reading of consent: :func:`consent_state`, and :func:`consent_stands_sql` for
queries over many cases), whether the home is rented (:func:`is_rented`),
how names are compared (:func:`name_key`), and the client's details as they
are shown. Referrals, workflow, surveys, measures, money, letters and the
county export all build on these; this module imports none of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from thcli import clock, codes
from thcli.db import Database, one
from thcli.errors import NotFound

#: Who the client may agree to their details being shared with.
CONSENT_SCOPES = ("police", "contractor", "landlord", "county")

#: SQL on a row ``k`` of consents: the consent stands on the day ``{on}`` (given by then, not withdrawn by
#: then). The one definition of "consent stands": consent_state and the county extract both use it.
CONSENT_STANDS = "k.given_on <= {on} AND (k.withdrawn_on IS NULL OR k.withdrawn_on > {on})"

#: The client's own fields, with the yes/no ones as booleans (None: not asked).
CLIENT_DETAILS = ("name", "dob", "gender", "ethnicity", "disabled", "access_needs", "language", "interpreter",
                  "nrpf", "lgbt", "mental_health_needs", "substance_use_needs")
CLIENT_FLAGS = {"disabled", "interpreter", "nrpf", "lgbt", "mental_health_needs", "substance_use_needs"}


def case_row(db: Database, ref: str) -> dict:
    """The case with this reference, or NotFound."""
    row = one(db, "SELECT * FROM cases WHERE ref = ?", [ref.strip().upper()])
    if row is None:
        raise NotFound(f"there is no case {ref!r}: check the reference with `thcli referral list --search`")
    return row


def event(db: Database, case_id: int, kind: str, detail: str, *, by: str) -> None:
    """Add one event to a case's timeline (inside the caller's transaction)."""
    db.conn.execute(
        "INSERT INTO events (case_id, at, kind, detail, by) VALUES (?, ?, ?, ?, ?)",
        [case_id, clock.now_iso(), kind, detail, by],
    )


def consent_stands_sql(scope: str, *, case: str = "c.id", on: str = ":on") -> str:
    """SQL true when the case's consent to share with ``scope`` stands on day ``on`` (a parameter)."""
    if scope not in CONSENT_SCOPES:  # pragma: no cover - a programming error
        raise ValueError(scope)
    return (f"EXISTS (SELECT 1 FROM consents k WHERE k.case_id = {case} AND k.scope = '{scope}' AND "
            + CONSENT_STANDS.format(on=on) + ")")


def consent_given_sql(scope: str, *, case: str = "c.id", on: str = ":on") -> str:
    """SQL true when the case's consent to share with ``scope`` was given by day ``on``, whether or not it has
    been withdrawn since (the county extract tells "never given" from "withdrawn" with it)."""
    if scope not in CONSENT_SCOPES:  # pragma: no cover - a programming error
        raise ValueError(scope)
    return f"EXISTS (SELECT 1 FROM consents k WHERE k.case_id = {case} AND k.scope = '{scope}' AND k.given_on <= {on})"


def consent_state(db: Database, case_id: int, *, on: dt.date | None = None) -> dict[str, bool]:
    """Scope -> whether the client's consent stands on ``on`` (default today): given, and not withdrawn since."""
    day = (on or clock.today()).isoformat()
    state = {scope: False for scope in CONSENT_SCOPES}
    for (scope,) in db.conn.execute(
        "SELECT DISTINCT k.scope FROM consents k WHERE k.case_id = ? AND " + CONSENT_STANDS.format(on="?"),
        [case_id, day, day],
    ):
        state[scope] = True
    return state


def is_rented(db: Database, tenure: str | None) -> bool:
    """Whether the landlord's permission is needed for works, by the tenure's county code."""
    if tenure is None:
        return False
    row = codes.get(db, "tenure", tenure)
    return bool(row and (row["county_code"] or tenure) in codes.RENTED_TENURES)


def name_key(name: str) -> str:
    """A name as compared for repeat referrals and search: lower case, single spaces."""
    return " ".join(name.lower().split())


def flag(value: Any) -> bool | None:
    """A yes/no column as True, False, or None when it was never asked."""
    return None if value is None else bool(value)


def referrer(case: dict) -> dict:
    """Who referred the case, as ``referral show`` and subject access give it."""
    return {"name": case["referrer_name"], "organisation": case["referrer_org"], "role": case["referrer_role"],
            "phone": case["referrer_phone"], "email": case["referrer_email"]}


def landlord(case: dict) -> dict:
    """The landlord recorded on the case."""
    return {"name": case["landlord_name"], "email": case["landlord_email"], "phone": case["landlord_phone"],
            "address": case.get("landlord_address"), "postcode": case.get("landlord_postcode")}


def household(case: dict) -> dict:
    """Who lives in the home (yes/no as True, False or None when never asked)."""
    return {"adults": case["adults"], "children": case["children"], "children_ages": case["children_ages"],
            "pregnant": flag(case["pregnant"])}


def client_details(client: dict) -> dict:
    """The client row's details as shown and exported (a removed client gives Nones)."""
    return {key: flag(client.get(key)) if key in CLIENT_FLAGS else client.get(key) for key in CLIENT_DETAILS}
