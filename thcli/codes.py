"""Code lists: districts, routes, risk levels, reasons, measures, contractors...

Each scheme edits its own lists (``thcli codes add|edit|retire|restore``). A
retired code stays valid on the cases that already use it but is no longer
accepted for new entries, until it is restored. ``county_code`` maps a scheme's
own code onto the county export's codes (COUNTY_EXPORT.md). Some lists have
details of their own (a measure's cost, a contractor's address), each set by an
option of ``codes add`` and ``codes edit`` that only those lists take (OPTIONS).
"""

from __future__ import annotations

from collections.abc import Sequence

from thcli import audit, parse
from thcli.db import Database, one, write
from thcli.errors import BadInput, NotAllowed, NotFound

#: The lists thcli knows, and what each is for (shown by `thcli codes list`).
LISTS: dict[str, str] = {
    "district": "districts the scheme covers",
    "route": "how a referral came in",
    "risk": "risk levels (from the DASH assessment)",
    "tenure": "tenure of the home",
    "gender": "gender of the client",
    "ethnicity": "ethnic group of the client (ONS top-level groups)",
    "relationship": "the perpetrator's relationship to the client",
    "whereabouts": "where the perpetrator is",
    "decline_reason": "why a referral was declined",
    "withdrawal_reason": "why a client withdrew",
    "no_contact_reason": "why the client could not be contacted",
    "outcome_reason": "how a case ended when closed",
    "fund_source": "where a fund's money comes from",
    "measure": "the measures catalogue",
    "contractor": "contractors (external, or the council's in-house team)",
    "assessor": "who assesses the home (police, scheme or contractor)",
    "stock_holder": "who holds a stock of equipment",
    "followup_outcome": "what a follow-up found",
}

#: Lists whose codes the county export knows: a scheme's own code maps to one
#: of these (or to `unknown`).
COUNTY_CODES: dict[str, list[str]] = {
    "route": ["self", "marac", "police", "idva", "court", "housing", "social_care", "health",
              "other_professional"],
    "risk": ["standard", "medium", "high"],
    "tenure": ["owner", "private_rented", "council", "housing_association", "temporary", "other"],
    "gender": ["woman", "man", "trans_woman", "trans_man", "non_binary", "not_stated"],
    "ethnicity": ["white", "mixed", "asian", "black", "other", "not_stated"],
}

#: The list holding the reason a case ends with, by the status it ends in (workflow.py asks for one on
#: each move there; the setting moved_reasons takes codes of these lists).
REASON_LISTS = {
    "declined": "decline_reason",
    "withdrawn": "withdrawal_reason",
    "no_contact": "no_contact_reason",
    "closed": "outcome_reason",
}

#: Tenures (by county code) where the landlord's permission is needed for works.
RENTED_TENURES = {"private_rented", "council", "housing_association", "temporary"}

def check_list(name: str) -> str:
    if name not in LISTS:
        raise BadInput(f"{name!r} is not a code list: use one of {', '.join(LISTS)}")
    return name


def list_codes(db: Database, list_name: str, *, include_retired: bool = True) -> list[dict]:
    """The codes of one list, in order; measures, contractors and districts with their details."""
    check_list(list_name)
    where = "" if include_retired else "AND c.retired = 0"
    if list_name == "measure":
        sql = f"""SELECT c.code, c.label, c.retired, m.category, m.kind, m.removable, m.unit_cost_pence
                  FROM codes c JOIN measure_catalogue m ON m.code = c.code
                  WHERE c.list = 'measure' {where} ORDER BY c.position, c.code"""
    elif list_name == "contractor":
        sql = f"""SELECT c.code, c.label, c.retired, coalesce(d.in_house, 0) AS in_house,
                         d.address, d.email, d.phone
                  FROM codes c LEFT JOIN contractor_details d ON d.code = c.code
                  WHERE c.list = 'contractor' {where} ORDER BY c.position, c.code"""
    elif list_name == "assessor":
        sql = f"""SELECT c.code, c.label, c.retired, coalesce(d.kind, 'police') AS kind,
                         d.address, d.email, d.phone
                  FROM codes c LEFT JOIN assessor_details d ON d.code = c.code
                  WHERE c.list = 'assessor' {where} ORDER BY c.position, c.code"""
    elif list_name == "district":
        sql = f"""SELECT c.code, c.label, c.retired, d.letterhead, d.address, d.email, d.phone
                  FROM codes c LEFT JOIN district_details d ON d.code = c.code
                  WHERE c.list = 'district' {where} ORDER BY c.position, c.code"""
    else:
        sql = f"""SELECT c.code, c.label, c.retired, c.county_code FROM codes c
                  WHERE c.list = ? {where} ORDER BY c.position, c.code"""
    params = [] if list_name in DETAIL_TABLES else [list_name]
    out = []
    for row in db.query(sql, params):
        row["retired"] = bool(row["retired"])
        if "removable" in row:
            row["removable"] = bool(row["removable"])
        if "in_house" in row:
            row["in_house"] = bool(row["in_house"])
        if list_name in COUNTY_CODES:
            row["county_code"] = row["county_code"] or "unknown"
        elif "county_code" in row:
            del row["county_code"]
        out.append(row)
    return out


def get(db: Database, list_name: str, code: str) -> dict | None:
    row = db.conn.execute(
        "SELECT code, label, retired, county_code FROM codes WHERE list = ? AND code = ?",
        [list_name, code],
    ).fetchone()
    if row is None:
        return None
    return {"code": row[0], "label": row[1], "retired": bool(row[2]), "county_code": row[3]}


def label(db: Database, list_name: str, code: str | None) -> str:
    """The label of a code, or the code itself when it is not in the list."""
    if code is None:
        return ""
    row = get(db, list_name, code)
    return row["label"] if row else code


def require(db: Database, list_name: str, code: str, *, allow_retired: bool = False) -> str:
    """A code that exists in the list (and is not retired): BadInput otherwise."""
    row = get(db, list_name, code)
    if row is None or (row["retired"] and not allow_retired):
        choices = [c["code"] for c in list_codes(db, list_name, include_retired=False)]
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        what = "retired" if row else "unknown"
        raise BadInput(
            f"{what} {list_name.replace('_', ' ')} {code!r}: use one of {shown} "
            f"(see `thcli codes list {list_name}`)"
        )
    return code


#: What ``--kind`` takes, by list: a measure is equipment or works; a contractor an outside firm or the
#: council's own repairs team (stored as contractor_details.in_house).
KINDS: dict[str, tuple[str, ...]] = {
    "measure": ("equipment", "works"),
    "contractor": ("external", "in_house"),
    "assessor": ("police", "scheme", "contractor"),
}
CONTRACTOR_KINDS = KINDS["contractor"]

#: The lists with details of their own, each in a table beside ``codes`` keyed by the code: the table and
#: the fields it keeps (each a column of the same name).
DETAIL_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "measure": ("measure_catalogue", ("category", "kind", "removable", "unit_cost_pence")),
    "contractor": ("contractor_details", ("in_house", "address", "email", "phone")),
    "assessor": ("assessor_details", ("kind", "address", "email", "phone")),
    "district": ("district_details", ("letterhead", "address", "email", "phone")),
}

#: The options of ``codes add`` and ``codes edit`` beyond the label: the field each sets and the lists it
#: applies to. Any other list refuses it (exit 2), so a detail is never silently ignored. A new detail of a
#: list is a line here, a column in that list's DETAIL_TABLES table (a migration) and an option in
#: commands/codes.py.
OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "--county": ("county_code", tuple(COUNTY_CODES)),
    "--category": ("category", ("measure",)),
    "--kind": ("kind", tuple(KINDS)),
    "--removable": ("removable", ("measure",)),
    "--cost": ("unit_cost_pence", ("measure",)),
    "--in-house": ("in_house", ("contractor",)),
    "--address": ("address", ("contractor", "assessor", "district")),
    "--email": ("email", ("contractor", "assessor", "district")),
    "--phone": ("phone", ("contractor", "assessor", "district")),
    "--letterhead": ("letterhead", ("district",)),
}
#: Field -> its option, for messages.
FIELD_OPTIONS = {field: option for option, (field, _lists) in OPTIONS.items()}
#: What a new code of these lists needs besides its label.
NEEDS: dict[str, tuple[str, ...]] = {"measure": ("category", "kind", "unit_cost_pence"), "assessor": ("kind",)}
#: How a changed field is named when a change is reported.
FIELD_NAMES = {"label": "label", "county_code": "county code", "category": "category", "kind": "kind",
               "removable": "removable", "unit_cost_pence": "unit cost", "in_house": "kind", "address": "address",
               "email": "email", "phone": "phone", "letterhead": "letterhead"}


def _applies_to(option: str) -> str:
    lists = OPTIONS[option][1]
    if option == "--kind":
        shown = [f"the {name} list ({parse.one_of(KINDS[name])})" for name in lists]
    else:
        shown = [f"the {name} list" for name in lists]
    if len(shown) == 1:
        return shown[0]
    if option == "--county":
        return f"the lists {', '.join(lists)}"
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _checked_details(db: Database, list_name: str, given: dict) -> dict:
    """The details given for a code of ``list_name``, checked and as stored (the fields of OPTIONS).

    An option that does not apply to the list is refused, naming it (BadInput, exit 2).
    """
    details = {field: value for field, value in given.items() if value is not None}
    for field in details:
        option = FIELD_OPTIONS[field]
        if list_name not in OPTIONS[option][1]:
            raise BadInput(f"it applies only to {_applies_to(option)}, not to {list_name}", option)
    if "county_code" in details:
        county = details["county_code"]
        if county not in COUNTY_CODES[list_name] + ["unknown"]:
            raise BadInput(f"{parse.shown(county)} is not a county {list_name} code: use one of "
                           f"{', '.join(COUNTY_CODES[list_name])}", "--county")
        details["county_code"] = None if county == "unknown" else county
    if "kind" in details:
        chosen = str(details["kind"]).strip().lower().replace("-", "_")
        if chosen not in KINDS[list_name]:
            raise BadInput(f"{parse.shown(details['kind'])} is not a kind of {list_name}: use "
                           f"{parse.one_of(KINDS[list_name])}", "--kind")
        details["kind"] = chosen
    if list_name == "contractor":
        if "kind" in details:
            if details.get("in_house") is not None and (details["kind"] == "in_house") != details["in_house"]:
                raise BadInput("--kind external and --in-house say different things: give one of them", "--kind")
            details["in_house"] = details.pop("kind") == "in_house"
    if "category" in details:
        details["category"] = parse.name(details["category"])
    if "unit_cost_pence" in details and details["unit_cost_pence"] < 0:
        raise BadInput("a unit cost cannot be negative", "--cost")
    if "address" in details:
        details["address"] = parse.text(details["address"])
    if "letterhead" in details:
        details["letterhead"] = parse.label(details["letterhead"])
    if "email" in details:
        details["email"] = parse.email(details["email"])
    if "phone" in details:
        details["phone"] = parse.phone(details["phone"])
    return details


#: The details ``codes edit --clear`` may empty: the optional ones (a measure's cost or a kind are never empty).
CLEARABLE = ("address", "email", "phone", "letterhead")


def _cleared(list_name: str, clear: Sequence[str], given: dict) -> dict:
    """The details ``--clear`` empties, checked: each one the list has, and not also given a value."""
    out: dict = {}
    for field in clear:
        if field not in CLEARABLE:
            raise BadInput(f"{parse.shown(field)} is not a detail that can be cleared: use {parse.one_of(CLEARABLE)}",
                           "--clear")
        option = FIELD_OPTIONS[field]
        if list_name not in OPTIONS[option][1]:
            raise BadInput(f"{list_name} has no {field} to clear ({option} applies only to "
                           f"{_applies_to(option)})", "--clear")
        if given.get(field) is not None:
            raise BadInput(f"{option} gives the {field} and --clear {field} empties it: give one of them", "--clear")
        out[field] = None
    return out


def _details_row(db: Database, list_name: str, code: str) -> dict | None:
    table, fields = DETAIL_TABLES[list_name]
    return one(db, f"SELECT {', '.join(fields)} FROM {table} WHERE code = ?", [code])


def _store_details(db: Database, list_name: str, code: str, details: dict) -> None:
    """Write a code's details to its list's table (inside the caller's write): the fields given change, the
    others stay as they were. A code without a row yet gets one (a measure only with every field it needs)."""
    if list_name not in DETAIL_TABLES:
        return
    table, fields = DETAIL_TABLES[list_name]
    values = {field: int(value) if isinstance(value, bool) else value
              for field, value in details.items() if field in fields}
    if _details_row(db, list_name, code) is None:
        missing = [FIELD_OPTIONS[f] for f in NEEDS.get(list_name, ()) if f not in values]
        if missing:
            raise BadInput(f"{list_name} {code!r} has no details yet: give {', '.join(missing)}")
        if list_name == "measure":
            values.setdefault("removable", 0)
        columns = ["code", *values]
        db.conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        [code, *values.values()])
    elif values:
        db.conn.execute(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in values)} WHERE code = ?",
                        [*values.values(), code])


def _current(db: Database, list_name: str, code: str) -> dict:
    """A code's label, county code and details as stored (for reporting what an edit changed)."""
    row = get(db, list_name, code) or {}
    current = {"label": row.get("label"), "county_code": row.get("county_code")}
    if list_name in DETAIL_TABLES:
        current.update(_details_row(db, list_name, code) or {})
    return current


def _changes(before: dict, after: dict, fields: list[str]) -> list[dict]:
    return [{"field": field, "before": before.get(field), "after": after.get(field)}
            for field in fields if before.get(field) != after.get(field)]


def describe_change(change: dict) -> str:
    """One change of ``codes edit`` in words: ``unit cost £35.00 → £40.00``."""
    field = change["field"]

    def shown(value: object) -> str:
        if value is None or value == "":
            return "(none)"
        if field == "unit_cost_pence":
            return parse.format_money(int(value))  # type: ignore[call-overload]
        if field == "removable":
            return "removable" if value else "permanent"
        if field == "in_house":
            return "in_house" if value else "external"
        return str(value)

    return f"{FIELD_NAMES.get(field, field)} {shown(change['before'])} → {shown(change['after'])}"


def add(
    db: Database,
    list_name: str,
    code: str,
    label: str,
    *,
    by: str,
    county_code: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    removable: bool | None = None,
    unit_cost_pence: int | None = None,
    in_house: bool | None = None,
    address: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    letterhead: str | None = None,
) -> dict:
    """Add a code to a list; returns it as ``codes list`` shows it, with ``restored`` true when it was a
    retired code brought back (with the label and details given, its other details as they were)."""
    check_list(list_name)
    parse.code(code)
    label = parse.label(label)
    details = _checked_details(db, list_name, {
        "county_code": county_code, "category": category, "kind": kind, "removable": removable,
        "unit_cost_pence": unit_cost_pence, "in_house": in_house or None, "address": address, "email": email,
        "phone": phone, "letterhead": letterhead})
    if "county_code" not in details and list_name in COUNTY_CODES and code in COUNTY_CODES[list_name]:
        details["county_code"] = code
    with write(db):
        existing = get(db, list_name, code)
        if existing and not existing["retired"]:
            raise NotAllowed(
                f"{list_name} {code!r} already exists ({existing['label']}): change it with "
                f"`thcli codes edit {list_name} {code}`, or choose another code"
            )
        if existing is None:
            missing = [FIELD_OPTIONS[f] for f in NEEDS.get(list_name, ()) if f not in details]
            if missing:
                raise BadInput(f"a new {list_name} needs {', '.join(missing)}")
            position = db.conn.execute(
                "SELECT coalesce(max(position), -1) + 1 FROM codes WHERE list = ?", [list_name]
            ).fetchone()[0]
            db.conn.execute(
                "INSERT INTO codes (list, code, label, position, county_code) VALUES (?, ?, ?, ?, ?)",
                [list_name, code, label, position, details.get("county_code")],
            )
        else:
            # A retired code comes back: its label and the details given change, the rest stay.
            db.conn.execute("UPDATE codes SET label = ?, retired = 0, county_code = ? WHERE list = ? AND code = ?",
                            [label, details.get("county_code", existing["county_code"]), list_name, code])
        _store_details(db, list_name, code, details)
        audit.record(db, by=by, action="codes.restore" if existing else "codes.add", detail=f"{list_name}:{code}")
    row = next(c for c in list_codes(db, list_name) if c["code"] == code)
    return {**row, "restored": existing is not None}


def edit(
    db: Database,
    list_name: str,
    code: str,
    *,
    by: str,
    label: str | None = None,
    county_code: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    removable: bool | None = None,
    unit_cost_pence: int | None = None,
    address: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    letterhead: str | None = None,
    clear: Sequence[str] = (),
) -> list[dict]:
    """Change a code's label or details (``codes edit``); returns what changed, each ``{"field", "before",
    "after"}`` (empty when everything already was as given). ``clear`` names details to empty (an address,
    email, phone or letterhead: CLEARABLE) that the list has.

    The code itself never changes (cases and figures use it). A retired code
    can be edited too. A measure's new cost and kind apply to lines recorded
    from now on: lines already recorded keep theirs. A district's letterhead
    (name, address, phone, e-mail) heads the letters of its cases.
    """
    check_list(list_name)
    given = {"county_code": county_code, "category": category, "kind": kind, "removable": removable,
             "unit_cost_pence": unit_cost_pence, "address": address, "email": email, "phone": phone,
             "letterhead": letterhead}
    if label is None and not clear and all(value is None for value in given.values()):
        options = ["--label", *(option for option, (_f, lists) in OPTIONS.items()
                                if list_name in lists and option != "--in-house")]
        raise BadInput(f"nothing to change: give {', '.join(options[:-1])} or {options[-1]}"
                       if len(options) > 1 else "nothing to change: give --label")
    label = parse.label(label) if label is not None else None
    details = _checked_details(db, list_name, given)
    details.update(_cleared(list_name, clear, given))
    with write(db):
        if get(db, list_name, code) is None:
            raise NotFound(f"there is no {list_name} code {code!r} (see `thcli codes list {list_name}`); add it "
                           f"with `thcli codes add {list_name} {code} LABEL`")
        before = _current(db, list_name, code)
        if label is not None or "county_code" in details:
            db.conn.execute("UPDATE codes SET label = ?, county_code = ? WHERE list = ? AND code = ?",
                            [label if label is not None else before["label"],
                             details.get("county_code", before["county_code"]), list_name, code])
        _store_details(db, list_name, code, details)
        after = _current(db, list_name, code)
        changed = _changes(before, after, ["label", *details])
        if changed:
            audit.record(db, by=by, action="codes.edit",
                         detail=f"{list_name}:{code}:" + ",".join(c["field"] for c in changed))
    return changed


def restore(db: Database, list_name: str, code: str, *, by: str) -> dict:
    """Bring back a retired code (``codes restore``) as it was; returns it as ``codes list`` shows it."""
    _mark_retired(db, list_name, code, retired=False, by=by)
    return next(c for c in list_codes(db, list_name) if c["code"] == code)


def retire(db: Database, list_name: str, code: str, *, by: str) -> None:
    """Retire a code: old cases keep it, new entries may not use it."""
    _mark_retired(db, list_name, code, retired=True, by=by)


def _mark_retired(db: Database, list_name: str, code: str, *, retired: bool, by: str) -> None:
    """Retire a code, or restore a retired one; audited. The last code of a list in use is never retired."""
    check_list(list_name)
    with write(db):
        row = get(db, list_name, code)
        if row is None:
            raise NotFound(f"there is no {list_name} code {code!r} (see `thcli codes list {list_name}`)")
        if retired and row["retired"]:
            raise NotAllowed(f"{list_name} {code!r} is already retired")
        if not retired and not row["retired"]:
            raise NotAllowed(f"{list_name} {code!r} is not retired: it is in use as it is (change it with "
                             f"`thcli codes edit {list_name} {code}`)")
        if retired:
            active = db.conn.execute(
                "SELECT count(*) FROM codes WHERE list = ? AND retired = 0", [list_name]
            ).fetchone()[0]
            if active <= 1:
                raise NotAllowed(f"{code!r} is the last {list_name} code in use: add another before retiring it")
        db.conn.execute("UPDATE codes SET retired = ? WHERE list = ? AND code = ?", [int(retired), list_name, code])
        audit.record(db, by=by, action="codes.retire" if retired else "codes.restore", detail=f"{list_name}:{code}")
