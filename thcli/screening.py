"""Screening the free text that can reach a landlord, a contractor or a surveyor (DESIGN.md §6).

What a coordinator types about a case (where a measure goes, when it is safe
to call, who the safe third party is, access needs...) is printed word for
word on the survey request, the landlord's letter and the works order. None
of them may learn who the perpetrator is or what happened, so every such
piece of text is screened for:

- **the perpetrator's names**: every part of each name recorded for the
  client's cases, as whole words in any case: given names and surname alone,
  the whole name, ``Mr Fakeperson`` (a title with the surname), ``D.
  Fakeperson`` (initials with the surname) and ``Fakeperson, Dale``;
- **words about abuse or violence**: :data:`VOCABULARY`, whole words with
  their inflections (``assault``, ``assaulted``, ``assaulting``...), with the
  scheme's own words added in the setting ``screened_words``. Words that are
  also ordinary building words are left out or taken only in the forms that
  say something (``forced``, not ``force``; ``battered``, not ``battery``;
  ``kick plate`` is a measure). Acronyms that are also ordinary words
  (``DA``, ``DV``, ``DASH``) count only in capitals; the others (``MARAC``,
  ``IDVA``, ``MASH``...) in any case.

Text is read as a person reads it (:func:`forms`): invisible characters,
full-width, accented and look-alike letters, and a hyphen or line break
splitting a word hide nothing.

The same :class:`Screen` refuses a letter (letters.py) and warns as the text
is typed (referrals.py, surveys.py, measures.py), so that the coordinator can
reword it at once rather than when the letter is due.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from thcli import settings
from thcli.db import Database

#: Words and phrases that give an account of abuse or violence, as regular expressions matched as whole
#: words, in any case. Each lists the inflections that count.
VOCABULARY: tuple[str, ...] = (
    # what happened
    r"abus(?:e|es|ed|er|ers|ing|ive|ively)", r"assault(?:s|ed|ing|er|ers)?", r"attack(?:s|ed|ing|er|ers)?",
    r"violen(?:ce|t|tly)", r"threat(?:s|en|ens|ened|ening)?", r"stalk(?:s|ed|ing|er|ers)?",
    r"harass(?:es|ed|ing|ment)?", r"intimidat(?:e|es|ed|ing|ion)", r"forc(?:ed|ing|ibly)",
    r"coerc(?:e|ed|es|ing|ion|ive|ively)", r"controlling\s+behaviou?r", r"molest(?:s|ed|ing|er|ers|ation)?",
    r"rap(?:e|es|ed|ing|ist|ists)", r"strangl(?:e|es|ed|ing|er|ation)",
    r"strangulat(?:e|es|ed|ing|ion)", r"chok(?:e|es|ed|ing)",
    r"suffocat(?:e|es|ed|ing|ion)", r"punch(?:ed|es|ing)", r"beat(?:en|ing|ings)", r"batter(?:ed|ing)",
    r"bruis(?:e|es|ed|ing)", r"kill(?:s|ed|ing|er)?", r"murder(?:s|ed|ing|er|ous)?", r"harm(?:ed|ing)",
    r"incidents?", r"aggressi(?:ve|vely|on)", r"weapons?", r"knife", r"knives", r"guns?", r"firearms?",
    r"machetes?", r"honou?r[-\s]based", r"traffick(?:ed|ing|er|ers)", r"fled", r"flee(?:s|ing)?",
    r"afraid", r"scared", r"frighten(?:s|ed|ing)?", r"terrified", r"fear(?:s|ed|ful|ing)?",
    r"smash(?:es|ed|ing)", r"kick(?:s|ed|ing)[-\s]+(?:in|down)", r"br(?:oke|eaks?|eaking|oken)[-\s]+in(?:to|s)?",
    r"stab(?:s|bed|bing|bings)?", r"slap(?:s|ped|ping)?", r"hurt(?:s|ing)?", r"injur(?:y|ies|ed|ing)",
    r"throttl(?:e|es|ed|ing)", r"burgl(?:ary|aries|ed|ar|ars)", r"revenge",
    # who did it
    r"perpetrators?", r"abusers?", r"offenders?", r"ex[-\s]?(?:partner|husband|wife|boyfriend|girlfriend|spouse"
    r"|fianc[eé]e?)s?", r"ex(?!-)",
    r"victim(?:s|ised|ized|isation|ization)?", r"survivors?",
    # the services and the law around it
    r"domestic(?:ally)?", r"refuges?", r"women'?s\s+aid", r"police(?:d|man|men|woman|women)?",
    r"bail(?:ed)?", r"jail(?:s|ed|ing)?", r"court\s+orders?", r"arrest(?:s|ed|ing)?", r"custody", r"prison",
    r"probation", r"convict(?:s|ed|ion|ions)",
    r"criminal", r"crimes?", r"injunctions?", r"non[-\s]?molestation", r"occupation\s+orders?",
    r"restraining\s+orders?", r"protection\s+orders?", r"clare'?s\s+law", r"safeguarding",
    # acronyms that are no ordinary word, so they count in any case ("marac", "idva")
    r"marac", r"idva", r"isva", r"idsva", r"mash", r"dvpn", r"dvpo", r"dvds", r"mappa", r"fgm",
)
#: Acronyms that count only in capitals ("dash", "da" and "dv" are ordinary words or abbreviations).
ACRONYMS: tuple[str, ...] = ("DASH", "DVA", "DV", "DA")
#: Titles that may stand before a surname ("Mr Fakeperson").
TITLES = ("mr", "mrs", "ms", "miss", "mx", "dr", "sir", "master", "prof", "rev")
#: Parts of a name that are not a name on their own ("van", "de", "bin"...), and never screened alone.
PARTICLES = frozenset({"van", "von", "de", "da", "di", "del", "della", "der", "den", "la", "le", "du", "des",
                       "bin", "bint", "ibn", "al", "el", "st", "ter", "ten", "op", "y", "e", *TITLES})

_EDGE_BEFORE = r"(?<![^\W_])"  # not after a letter or digit
_EDGE_AFTER = r"(?![^\W_])"    # not before a letter or digit


def _whole(pattern: str) -> str:
    return f"{_EDGE_BEFORE}(?:{pattern}){_EDGE_AFTER}"


def inflected(word: str) -> str:
    """A word (or phrase) the scheme added, as a pattern that takes its common English inflections.

    ``gang`` also finds gangs; ``stab`` stabbed and stabbing; ``hide`` hides,
    hid... not (irregular forms are added as words of their own).
    """
    parts = word.lower().split()
    *lead, last = parts
    if len(last) > 3 and last.endswith("e"):
        tail = re.escape(last[:-1]) + r"(?:e|es|ed|ing|er|ers)"
    elif len(last) > 3 and last.endswith("y") and last[-2] not in "aeiou":
        tail = re.escape(last[:-1]) + r"(?:y|ies|ied|ying)"
    elif last.isalpha() and len(last) >= 3:
        tail = re.escape(last) + re.escape(last[-1]) + r"?(?:s|es|ed|ing|er|ers)?"
    else:
        tail = re.escape(last)
    return r"\s+".join([re.escape(p) for p in lead] + [tail])


#: Cyrillic and Greek letters drawn like Latin ones ("Fаkeperson" with a Cyrillic а), read as the Latin letter.
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁһӏԛԝАВЕКМНОРСТХІЈЅУ"  # Cyrillic
    "οαεικνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",  # Greek
    "aeopcyxijsdhlqwABEKMHOPCTXIJSY"
    "oaeikvptuxABEZHIKMNOPTYX")
#: A hyphen, or a hyphen at the end of a line, between two letters: "as-sault", "assa-\nult".
_SPLIT_WORD = re.compile(r"(?<=[^\W\d_])-(?:[ \t]*\r?\n[ \t]*)?(?=[^\W\d_])")


def _normal(text: str) -> str:
    """The text as a reader sees it, so that nothing typed to look like a word gets past the screen.

    Full-width and other compatibility forms as plain letters (NFKC), invisible
    format characters dropped (soft hyphen, zero-width space and joiners, byte
    order mark: Unicode category Cf), accents dropped (Faképerson), Cyrillic
    and Greek look-alikes as Latin letters, curly apostrophes and odd dashes as
    plain ones. Case is kept (the patterns ignore it, but an acronym such as
    DA counts only in capitals).
    """
    text = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2010", "-").replace("\u2011", "-")


def forms(text: str) -> tuple[str, ...]:
    """The ways a screen reads a text: as a reader sees it (:func:`_normal`), and, when it has any, with
    the hyphens that split a word removed ("as-sault", "Fake-\nperson"), so that both "ex-partner"
    and "assa-ult" are found."""
    normal = _normal(text)
    joined = _SPLIT_WORD.sub("", normal)
    return (normal, joined) if joined != normal else (normal,)


def phrase(text: str) -> re.Pattern[str]:
    """A name or an address line as a pattern found whole, in any case and spacing, in the :func:`forms`
    of a text (a letter's refusals use it for the perpetrator's whole name and the client's addresses)."""
    words = [re.escape(w) for w in _normal(text).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def found_in(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` in any of the :func:`forms` of ``text``."""
    for form in forms(text):
        match = pattern.search(form)
        if match:
            return match
    return None


def name_pattern(name: str) -> str | None:
    """Every way a name can be written that names the person (None for a name too short to screen).

    Longest forms first, so that a match shows what was written (``Mr
    Fakeperson`` rather than ``Fakeperson``).
    """
    tokens = [t for t in re.split(r"[\s,]+", _normal(name).strip()) if t]
    tokens = [t for t in tokens if t.lower().rstrip(".") not in TITLES] or tokens
    if not tokens:
        return None
    forms: list[str] = []
    escaped = [re.escape(t) for t in tokens]
    surname = escaped[-1]
    if len(tokens) > 1:
        forms.append(r"\s+".join(escaped))                                       # Dale Fakeperson
        forms.append(surname + r"\s*,\s*" + r"\s+".join(escaped[:-1]))           # Fakeperson, Dale
        forms.append(surname + r"\s*,\s*" + escaped[0])                          # Fakeperson, Dale (one given)
        forms.append(r"(?:(?-i:[A-Z])\.?\s?){1,3}" + surname)                      # D. Fakeperson, DJ Fakeperson
    forms.append(r"(?:" + "|".join(TITLES) + r")\.?\s+" + surname)               # Mr Fakeperson
    parts: list[str] = []
    for token in tokens:
        for part in dict.fromkeys([token, *re.split(r"[-']", token)]):
            if len(part.rstrip(".")) >= 2 and part.lower() not in PARTICLES:
                parts.append(re.escape(part))
    parts.sort(key=len, reverse=True)
    if not parts:
        return None
    forms += parts
    return "|".join(f"(?:{form})" for form in forms)


@dataclass(frozen=True)
class Hit:
    """What a screen found in a piece of text."""

    #: the words as written in the text
    word: str
    #: "name" (part of a perpetrator's name) or "word" (a word about abuse or violence)
    kind: str

    def describe(self) -> str:
        if self.kind == "name":
            return f"names {self.word!r} (the perpetrator's name, or part of it)"
        return f"says {self.word!r} (a word about abuse or violence)"


class Screen:
    """The perpetrator's names and the vocabulary, compiled once, to check many pieces of text."""

    def __init__(self, perpetrator_names: Iterable[str] = (), extra_words: Iterable[str] = ()):
        names = [p for p in (name_pattern(n) for n in perpetrator_names if n and n.strip()) if p]
        self._names = re.compile(_whole("|".join(names)), re.IGNORECASE) if names else None
        words = list(VOCABULARY) + [inflected(w) for w in extra_words if w and w.strip()]
        self._words = re.compile(_whole("|".join(words)), re.IGNORECASE)
        self._acronyms = re.compile(_whole("|".join(ACRONYMS)))

    def name(self, text: str | None) -> str | None:
        """The first part of a perpetrator's name in ``text``, as a reader sees it (None: none)."""
        if not text or self._names is None:
            return None
        found = found_in(self._names, text)
        return " ".join(found.group(0).split()) if found else None

    def search(self, text: str | None) -> re.Match[str] | None:
        """The first word about abuse or violence in ``text``, read as :func:`forms` says (None: none)."""
        if not text:
            return None
        for form in forms(text):
            found = [m for m in (self._words.search(form), self._acronyms.search(form)) if m]
            if found:
                return min(found, key=lambda m: m.start())
        return None

    def word(self, text: str | None) -> str | None:
        """The first word about abuse or violence in ``text``, as written (None: none)."""
        found = self.search(text)
        return " ".join(found.group(0).split()) if found else None

    def check(self, text: str | None) -> Hit | None:
        """A name first (the graver), then a word; None when the text is clean."""
        name = self.name(text)
        if name:
            return Hit(name, "name")
        word = self.word(text)
        return Hit(word, "word") if word else None


def extra_words(db: Database) -> list[str]:
    """The scheme's own words (setting ``screened_words``)."""
    return list(settings.get(db, "screened_words"))


def perpetrator_names(db: Database, client_id: int | None, *, also: Iterable[str | None] = ()) -> list[str]:
    """Every perpetrator name recorded on the client's cases (and ``also``: a name not saved yet)."""
    names = [n for n in also if n]
    if client_id is not None:
        names += [row[0] for row in db.conn.execute(
            "SELECT p.name FROM perpetrators p JOIN cases c ON c.id = p.case_id "
            "WHERE c.client_id = ? AND p.name IS NOT NULL", [client_id])]
    return list(dict.fromkeys(names))


def for_client(db: Database, client_id: int | None, *, also: Iterable[str | None] = ()) -> Screen:
    """The screen for text about a client: their perpetrators' names and the scheme's vocabulary."""
    return Screen(perpetrator_names(db, client_id, also=also), extra_words(db))


# --- the fields screened, and where each is put right ---------------------------------------------

#: Free-text fields of a case that reach a landlord, contractor or surveyor: field -> (what it is, the
#: option of `thcli referral edit` that changes it).
CASE_FIELDS: dict[str, tuple[str, str]] = {
    "safe_times": ("the note of safe contact times", '--safe-times "TEXT"'),
    "third_party_name": ("the safe third party's name", '--third-party "NAME"'),
    "access_needs": ("the note of access needs", '--access-needs "TEXT"'),
    "language": ("the client's language", '--language "TEXT"'),
    "children_ages": ("the note of the children's ages", '--children-ages "TEXT"'),
}


def case_fix(ref: str, field: str) -> str:
    return f"thcli referral edit {ref} {CASE_FIELDS[field][1]}"


def line_fix(ref: str, line: int) -> str:
    return f'thcli measures where {ref} {line} "TEXT"'


def warning(what: str, hit: Hit, fix: str) -> str:
    """A warning as the text is typed: saved, but every letter to a third party that carries it will be refused."""
    return (f"{what} {hit.describe()}: a landlord, contractor or surveyor must not read that, so the letters to "
            f"them that would carry it will be refused. Reword it with `{fix}`")


def case_warnings(db: Database, case: dict, fields: Iterable[str] | None = None, *,
                  lines: bool = False) -> list[str]:
    """Warnings for the case's screened free text (``fields`` of :data:`CASE_FIELDS`, all when None), and,
    with ``lines``, for where each of its measures goes."""
    chosen = [f for f in (CASE_FIELDS if fields is None else fields) if f in CASE_FIELDS]
    if not chosen and not lines:
        return []
    row = db.conn.execute(
        "SELECT k.safe_times, k.third_party_name, cl.access_needs, cl.language, c.children_ages "
        "FROM cases c LEFT JOIN contacts k ON k.case_id = c.id LEFT JOIN clients cl ON cl.id = c.client_id "
        "WHERE c.id = ?", [case["id"]]).fetchone()
    values = dict(zip(CASE_FIELDS, row or (None,) * len(CASE_FIELDS), strict=True))
    screen = for_client(db, case["client_id"])
    out = []
    for field in chosen:
        hit = screen.check(values[field])
        if hit:
            out.append(warning(CASE_FIELDS[field][0], hit, case_fix(case["ref"], field)))
    if lines:
        located = db.conn.execute("SELECT line, location FROM measure_lines WHERE case_id = ? AND location IS NOT "
                                  "NULL ORDER BY line", [case["id"]]).fetchall()
        out += line_warnings(screen, case["ref"], located)
    return out


def line_warnings(screen: Screen, ref: str, located: Iterable[tuple[int, str | None]]) -> list[str]:
    """Warnings for where measures go, given as (line number, text)."""
    out = []
    for line, text in located:
        hit = screen.check(text)
        if hit:
            out.append(warning(f"where measure line {line} goes", hit, line_fix(ref, line)))
    return out
