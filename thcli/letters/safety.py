"""The safety rules of a letter, each refusing it (LetterRefused) with a message that names the rule.

- **safe post**: a letter to the survivor's home needs post marked safe; the
  only rule that can be overridden (``--override-safety REASON``, audited);
- **previous address**: no letter goes to, mentions or is about an address
  that is not current (a previous address, or the home of a client who moved);
- **do not disclose**: a do-not-disclose address is written only on the works
  order and the survey request (other letters leave it out, and are refused
  if it turns up in what they would say);
- **no perpetrator detail**: the perpetrator's name appears in no letter, and
  no part of it (given name, surname, "Mr Surname"...) in the free text a
  landlord, contractor or surveyor reads (screening.py);
- **no account of the abuse**: landlord and contractor letters never use a
  word of screening's vocabulary, in the merge data or in the letter as the
  template writes it, and no third party reads such a word in a case's free
  text;
- **consent to share**: survey requests need consent to share with whoever
  assesses (the police for a Crime Reduction Officer, the contractor for a
  contractor's surveyor), landlord letters with the landlord, works orders
  with the contractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from thcli import parse, screening
from thcli.letters.data import CaseData, dnd, lines_of, ordered_by_contractor
from thcli.letters.kinds import (
    CONSENT,
    DO_NOT_DISCLOSE,
    NO_ACCOUNT,
    NO_PERPETRATOR,
    PERPETRATOR_REASONS,
    PREVIOUS_ADDRESS,
    SAFE_POST,
    Kind,
    LetterRefused,
    Recipient,
)


def _texts(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every text in the merge data, with where it is (``lines[2].location``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, item in enumerate(value, start=1):
            yield from _texts(item, f"{where}[{i}]")


def _where(path: str) -> str:
    """A merge field's path in words."""
    match = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", path)
    if match:
        return f"the {match.group(3)} of item {match.group(2)} of {match.group(1)}"
    return {"scheme_name": "the scheme's name (setting scheme_name)",
            "scheme_address": "the scheme's address (setting scheme_address)",
            "scheme_address_line": "the scheme's address (setting scheme_address)",
            "marking": "the protective marking (setting protective_marking)",
            "letterhead": "the letterhead's name (the district's letterhead, or setting scheme_name)",
            "letterhead_address": "the letterhead's address (the district's, or setting scheme_address)",
            "letterhead_address_line": "the letterhead's address (the district's, or setting scheme_address)",
            "how_to_pay": "how a landlord pays (setting landlord_payment)"}.get(path, f"the field {path}")


#: Recipients who are not told why the work is done, and what each is called in a refusal.
THIRD_PARTIES = {"landlord": "landlord", "contractor": "contractor", "cro": "surveyor"}


def free_text(spec: Kind, data: CaseData, recipient: Recipient) -> list[tuple[str, str | None, str]]:
    """The free text typed about the case that this letter can carry to a third party, as (what it is, the
    text, the command that changes it)."""
    if recipient.kind not in THIRD_PARTIES:
        return []
    ref, contact, items = data.ref, data.contact, []

    def field_of(name: str, value: str | None) -> tuple[str, str | None, str]:
        return screening.CASE_FIELDS[name][0], value, f"`{screening.case_fix(ref, name)}`"

    if spec.name in ("survey-request", "works-order"):  # the "arranging access" lines
        items += [field_of("safe_times", contact.get("safe_times")),
                  field_of("third_party_name", contact.get("third_party_name"))]
    if spec.name == "survey-request":  # visit needs and household
        items += [field_of("access_needs", data.client.get("access_needs")),
                  field_of("language", data.client.get("language")),
                  field_of("children_ages", data.case.get("children_ages"))]
    if spec.name == "landlord-permission":
        lines = [line for line in data.lines if line["status"] in ("recommended", "approved")]
    elif spec.name == "works-order":
        lines = ordered_by_contractor(data).get(recipient.contractor or "", [])
    else:
        lines = []
    items += [(f"the location of measure line {line['line']}", line["location"],
               f"`{screening.line_fix(ref, line['line'])}`") for line in lines]
    return [item for item in items if item[1]]


def consent_needed(spec: Kind, data: CaseData) -> str | None:
    """The consent a letter needs: its kind's, or for a survey request the assessor's (the police for a Crime
    Reduction Officer, the contractor for a contractor's surveyor)."""
    if spec.name == "survey-request":
        return {"police": "police", "contractor": "contractor"}.get(data.assessor["kind"])
    return spec.consent


def check_safety(spec: Kind, data: CaseData, recipient: Recipient, ctx: dict[str, Any], *,
                 override_reason: str | None, screen: screening.Screen | None = None) -> list[str]:
    """Refuse the letter (LetterRefused) if a safety rule says no; returns the rules overridden.

    ``screen`` holds the perpetrator's names and the scheme's vocabulary (made from ``data`` when not given).
    """
    ref = data.ref
    overridden: list[str] = []
    scope = consent_needed(spec, data)
    if scope and not data.consent.get(scope):
        raise LetterRefused(ref, spec.name, CONSENT,
                            f"there is no consent to share the client's details with the {scope}",
                            f"Record it with `thcli referral consent {ref} --scope {scope}` once given.")
    if recipient.kind == "survivor":
        if spec.name == "decline" and data.case["reason"] in PERPETRATOR_REASONS:
            raise LetterRefused(ref, spec.name, NO_PERPETRATOR,
                                "the reason for declining is about the perpetrator, which no letter to the "
                                "client's home may say", "Tell the client by a safe route instead, or write to "
                                "the referrer with --to referrer.")
        if data.address is None or not data.address["current"]:
            raise LetterRefused(ref, spec.name, PREVIOUS_ADDRESS,
                                "the case's address is no longer the client's current address, and no letter "
                                "goes to a previous address",
                                f"Record where the client lives now with `thcli referral edit {ref} --address "
                                f"TEXT --postcode POSTCODE`.")
        if not data.contact.get("safe_post"):
            if override_reason is None:
                if data.case["referrer_name"] and "referrer" in spec.recipients:
                    raise LetterRefused(ref, spec.name, SAFE_POST,
                                        "post to the client's home is not marked safe",
                                        f"Write to the referrer instead (--to referrer), or mark post safe with "
                                        f"`thcli referral edit {ref} --safe-post` once the client confirms it.",
                                        overridable=True)
                third = data.contact.get("third_party_name")
                refused = LetterRefused(
                    ref, spec.name, SAFE_POST,
                    "there is no safe postal route to the client: post to their home is not marked safe, and "
                    + ("there is no referrer to write to instead" if "referrer" in spec.recipients
                       else "this letter goes only to the client"),
                    "Give it to the client another safe way: "
                    + (f"through their safe third party ({third}), or " if third else
                       f"through a safe third party (record one with `thcli referral edit {ref} --third-party "
                       f"NAME --third-party-phone PHONE`), or ")
                    + "by hand when you next see them: make it with --override-safety \"to be handed over in "
                    "person\" (audited) and do not post it. If the client tells you post is safe after all, mark "
                    f"it with `thcli referral edit {ref} --safe-post`.")
                refused.overridable = True  # the fix above says how, in this case's words
                raise refused
            overridden.append(SAFE_POST)
    screen = screen or screening.Screen(data.perpetrator_names)
    for what, text, fix in free_text(spec, data, recipient):
        hit = screen.check(text)
        if hit:
            raise LetterRefused(ref, spec.name, NO_PERPETRATOR if hit.kind == "name" else NO_ACCOUNT,
                                f"{what} {hit.describe()}, which no {THIRD_PARTIES[recipient.kind]} may read",
                                f"Reword it with {fix}.")
    texts = [(_where(where), text) for where, text in _texts(ctx)]
    _refuse_leaks(spec, data, texts)
    if recipient.kind in ("landlord", "contractor"):
        for where, text in [(_where(path), text) for path, text in _texts(ctx) if not _is_label(path)]:
            word = screen.word(text)
            if word:
                raise LetterRefused(ref, spec.name, NO_ACCOUNT,
                                    f"{where} says {word!r}, and a {recipient.kind} letter "
                                    f"gives no account of the abuse", "Reword it before making the letter.")
    return overridden


def _is_label(path: str) -> bool:
    """A measure's name from the catalogue (``lines[2].label``): what is fitted, in the scheme's own words.

    It is printed as the catalogue has it (a contractor must know to fit an
    "alarm linked to the police"), so the words check leaves it alone; every
    other rule still reads it.
    """
    return re.fullmatch(r"\w+\[\d+\]\.label", path) is not None


def check_written(spec: Kind, data: CaseData, recipient: Recipient, text: str, screen: screening.Screen,
                  ctx: dict[str, Any] | None = None) -> None:
    """The same rules on the letter's whole text as it would be written (template wording and expressions
    included), after the merge data passed: what a template adds is checked too."""
    where = "the letter as it would be written"
    fix = (f"Change the template (`thcli letter templates export {spec.name} FILE`, edit, then `use`), or go "
           f"back to thcli's own with `thcli letter templates reset {spec.name}`.")
    _refuse_leaks(spec, data, [(where, text)], fix=fix)
    if recipient.kind in ("landlord", "contractor"):
        labels = sorted({t for path, t in _texts(ctx or {}) if _is_label(path) and t}, key=len, reverse=True)
        for label in labels:
            text = text.replace(label, " ")
        word = screen.word(text)
        if word:
            raise LetterRefused(data.ref, spec.name, NO_ACCOUNT,
                                f"{where} says {word!r}, and a {recipient.kind} letter gives no account of the "
                                f"abuse", fix)


def _refuse_leaks(spec: Kind, data: CaseData, texts: list[tuple[str, str]], *,
                  fix: str = "Remove it from the case's records before making the letter.") -> None:
    """The perpetrator's name, a previous address, or a do-not-disclose address where it may not be."""
    ref = data.ref
    # Read as the screen reads them (invisible characters, look-alike letters, words split by a hyphen).
    read = [(where, screening.forms(text)) for where, text in texts]
    for name in data.perpetrator_names:
        if len(name.strip()) < 2:
            continue
        pattern = screening.phrase(name)
        for where, forms in read:
            if any(pattern.search(form) for form in forms):
                raise LetterRefused(ref, spec.name, NO_PERPETRATOR, f"{where} contains the perpetrator's name", fix)
    current = data.address or {}
    current_key = parse.postcode_key(current.get("postcode") or "")
    for old_address, old_postcode in data.previous_addresses:
        patterns = [screening.phrase(line) for line in _telling_lines(old_address, current.get("address"))]
        if old_postcode and parse.postcode_key(old_postcode) != current_key:
            patterns.append(_postcode_pattern(old_postcode))
        for pattern in patterns:
            for where, forms in read:
                if any(pattern.search(form) for form in forms):
                    raise LetterRefused(ref, spec.name, PREVIOUS_ADDRESS,
                                        f"{where} contains a previous address of the client", fix)
    if dnd(data) and not spec.shows_home:
        patterns = [_postcode_pattern(current["postcode"])] if current.get("postcode") else []
        patterns += [screening.phrase(line) for line in _telling_lines(current.get("address"), None)]
        for pattern in patterns:
            for where, forms in read:
                if any(pattern.search(form) for form in forms):
                    raise LetterRefused(ref, spec.name, DO_NOT_DISCLOSE,
                                        f"{where} contains the client's do-not-disclose address, which "
                                        f"only a works order or a survey request may carry", fix)


def _telling_lines(address: str | None, other: str | None) -> list[str]:
    """The lines of an address that point at one home (a number and a street), and are not in ``other``."""
    others = {line.lower() for line in lines_of(other or "")}
    return [line for line in lines_of(address or "")
            if len(line) >= 5 and re.search(r"\d", line) and line.lower() not in others]


def _postcode_pattern(postcode: str) -> re.Pattern[str]:
    key = parse.postcode_key(postcode)
    if len(key) < 5:
        return screening.phrase(postcode)
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(key[:-3]) + r"\s*" + re.escape(key[-3:]) + r"(?![A-Za-z0-9])",
                      re.IGNORECASE)
