"""Issue 11, hole 3: free text that reaches a landlord, contractor or surveyor is screened.

The screen itself (names in every form, the vocabulary with its inflections,
no silly false positives, the scheme's own words), then the letters it
refuses (naming the field, the word and the command that edits it), then the
warnings given as the text is typed, at the domain level and through the CLI.
"""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from tests.test_letters import LINES_FITTED, LINES_ORDERED, LINES_PROPOSED, TODAY, letter_text, make, new_case, set_up
from thcli import letters, referrals, scheme, screening, settings, surveys
from thcli.db import write
from thcli.errors import BadInput

PERPETRATOR = "Dale Fakeperson"

# --- the screen ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, found", [
    ("not when Mr Fakeperson is home", "Mr Fakeperson"),
    ("Not when MRS. FAKEPERSON calls", "MRS. FAKEPERSON"),
    ("letters for Fakeperson, Dale go back", "Fakeperson, Dale"),
    ("D. Fakeperson has a key", "D. Fakeperson"),
    ("DJ Fakeperson has a key", "DJ Fakeperson"),
    ("garden where dale waits", "dale"),
    ("DALE FAKEPERSON", "DALE FAKEPERSON"),
    ("the Fakeperson family", "Fakeperson"),
])
def test_every_part_of_the_perpetrators_name_is_found_in_any_case(text, found):
    screen = screening.Screen([PERPETRATOR])
    assert screen.check(text) == screening.Hit(found, "name")


@pytest.mark.parametrize("text", ["Dalesford Road", "Fakepersons Ltd", "Ms Example", "D. Example", "Weekdays 9-3"])
def test_a_name_only_counts_as_a_whole_word(text):
    assert screening.Screen([PERPETRATOR]).check(text) is None


def test_name_particles_titles_and_initials_are_never_screened_alone():
    screen = screening.Screen(["Mr Jan van der Perpexample", "O'Perpexample-Smyth"])
    assert screen.check("van parked in the drive, der") is None
    assert screen.name("ask Mr Perpexample") == "Mr Perpexample"
    assert screen.name("SMYTH was here") == "SMYTH"
    assert screen.name("the O\u2019Perpexample-Smyth house") == "O'Perpexample-Smyth"


@pytest.mark.parametrize("text, word", [
    ("back door, forced by ex-partner in assault", "forced"),
    ("ex-partner knows the garden", "ex-partner"),
    ("my ex waits outside", "ex"),
    ("was assaulted here", "assaulted"),
    ("threatening messages", "threatening"),
    ("stalking near the back gate", "stalking"),
    ("injunction in place", "injunction"),
    ("non-molestation order served", "non-molestation"),
    ("occupation order granted", "occupation order"),
    ("harassed at the door", "harassed"),
    ("signs of attack", "attack"),
    ("police attended", "police"),
    ("he is on bail", "bail"),
    ("weapon found", "weapon"),
    ("tried to strangle her", "strangle"),
    ("referred by MARAC", "MARAC"),
    ("DASH done", "DASH"),
    ("IDVA visits Mondays", "IDVA"),
    ("Domestic incident", "Domestic"),
    ("victim of crime", "victim"),
    ("perpetrator", "perpetrator"),
    ("moved from refuge", "refuge"),
    ("survivor's bedroom", "survivor"),
    ("abusive texts", "abusive"),
    ("the violence started", "violence"),
    ("window smashed last month", "smashed"),
    ("back door kicked in", "kicked in"),
    ("he broke in through the kitchen", "broke in"),
    ("after the break-in", "break-in"),
    ("shed broken into", "broken into"),
    ("was stabbed", "stabbed"),
    ("she was hurt", "hurt"),
    ("injuries to the client", "injuries"),
    ("after the burglary", "burglary"),
    ("signs of strangulation", "strangulation"),
    ("the back door was kicked-in", "kicked-in"),
    ("referred by marac", "marac"),
    ("the idva visits", "idva"),
    ("Isva in attendance", "Isva"),
    ("a mash referral", "mash"),
    ("he was jailed", "jailed"),
    ("out of jail now", "jail"),
    ("a court order is in place", "court order"),
    ("both Court Orders served", "Court Orders"),
])
def test_the_vocabulary_is_whole_word_and_inflection_aware(text, word):
    assert screening.Screen().check(text) == screening.Hit(word, "word")


@pytest.mark.parametrize("text", [
    "Kick plate on front door", "battery back-up", "spare batteries", "a dash of paint", "ex-directory number",
    "Front and back doors", "Ground floor", "needs force to close", "Courtyard gate", "Example Road",
    "Weekdays 9am to 3pm", "Over the back door", "forcefield", "domesticated cat flap",
    "Kick plate on the back door", "Stable door", "Breakfast room window", "Inside the porch",
    "da Silva Road", "dv bolts", "dash of sealant", "Court Road", "Orders to the contractor",
])
def test_ordinary_building_words_are_not_screened(text):
    assert screening.Screen().check(text) is None


def test_the_scheme_adds_its_own_words_with_settings_set(db, cli):
    assert screening.Screen([], screening.extra_words(db)).check("gang members nearby") is None
    result = cli("settings", "set", "screened_words", "gang, no contact order, stab")
    assert result.exit_code == 0, result.stderr
    screen = screening.Screen([], screening.extra_words(db))
    assert screen.check("gang members nearby") == screening.Hit("gang", "word")
    assert screen.word("GANGS nearby") == "GANGS"
    assert screen.word("was stabbed") == "stabbed"
    assert screen.word("a no contact order is in place") == "no contact order"
    assert settings.get(db, "screened_words") == ["gang", "no contact order", "stab"]
    bad = cli("settings", "set", "screened_words", "gang, 123")
    assert bad.exit_code == 2
    assert "'123' is not a word to screen for" in bad.stderr


@pytest.mark.parametrize("text, found", [
    ("as\u00adsault at the door", "assault"),          # soft hyphen
    ("as\u200bsault", "assault"),                       # zero-width space
    ("assa\u200cul\u200dt", "assault"),                 # zero-width non-joiner and joiner
    ("as\u2060sa\ufeffult", "assault"),                 # word joiner, byte order mark
    ("\uff21\uff33\uff33\uff21\uff35\uff2c\uff34", "ASSAULT"),  # full-width letters
    ("was as-saulted", "assaulted"),                      # a hyphen splitting the word
    ("was assa-\nulted", "assaulted"),                   # split at the end of a line
    ("ex-partner knows", "ex-partner"),                   # hyphenated words still match as they are
    ("after the break-in", "break-in"),
    ("vi\u0441tim", "victim"),                           # Cyrillic es
    ("\u03bfffender", "offender"),                       # Greek omicron
])
def test_invisible_and_look_alike_characters_do_not_hide_a_word(text, found):
    assert screening.Screen().check(text) == screening.Hit(found, "word")


@pytest.mark.parametrize("text, found", [
    ("not when Fak\u00e9person calls", "Fakeperson"),          # an accent
    ("not when Fake-person calls", "Fakeperson"),
    ("not when Fake-\nperson calls", "Fakeperson"),
    ("not when F\u0430keperson calls", "Fakeperson"),          # Cyrillic a
    ("not when Fake\u00adperson calls", "Fakeperson"),
    ("not when \uff26akeperson calls", "Fakeperson"),
])
def test_invisible_and_look_alike_characters_do_not_hide_a_name(text, found):
    assert screening.Screen([PERPETRATOR]).check(text) == screening.Hit(found, "name")


def test_the_screen_still_reads_ordinary_accented_and_hyphenated_text_as_clean():
    screen = screening.Screen([PERPETRATOR])
    for text in ("caf\u00e9 next door", "re-use the frame", "first-floor window", "ex-directory number"):
        assert screen.check(text) is None


# --- letters refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, setup, what, word, fix, rule", [
    ("works-order", dict(status="works", lines=LINES_ORDERED, safe_times="not when Mr Fakeperson is home"),
     "the note of safe contact times", "names 'Mr Fakeperson' (the perpetrator's name, or part of it)",
     '`thcli referral edit TH-2026-0001 --safe-times "TEXT"`', letters.NO_PERPETRATOR),
    ("works-order", dict(status="works", lines=(("lock_change_door", 1, "ordered", "secure_homes",
                                                 "back door, forced by ex-partner in assault"),)),
     "the location of measure line 1", "says 'forced' (a word about abuse or violence)",
     '`thcli measures where TH-2026-0001 1 "TEXT"`', letters.NO_ACCOUNT),
    ("landlord-permission", dict(status="approval", lines=(("pir_light", 1, "recommended", None,
                                                            "garden where Dale waits"),)),
     "the location of measure line 1", "names 'Dale' (the perpetrator's name, or part of it)",
     '`thcli measures where TH-2026-0001 1 "TEXT"`', letters.NO_PERPETRATOR),
    ("landlord-permission", dict(status="approval", lines=(("pir_light", 1, "approved", None,
                                                            "where the attacker hid"),)),
     "the location of measure line 1", "says 'attacker' (a word about abuse or violence)",
     '`thcli measures where TH-2026-0001 1 "TEXT"`', letters.NO_ACCOUNT),
    ("survey-request", dict(status="survey", access_needs="uses crutches since the assault"),
     "the note of access needs", "says 'assault' (a word about abuse or violence)",
     '`thcli referral edit TH-2026-0001 --access-needs "TEXT"`', letters.NO_ACCOUNT),
    ("survey-request", dict(status="survey", third_party_name="Fakeperson, Dale"),
     "the safe third party's name", "names 'Fakeperson, Dale' (the perpetrator's name, or part of it)",
     '`thcli referral edit TH-2026-0001 --third-party "NAME"`', letters.NO_PERPETRATOR),
    ("survey-request", dict(status="survey", language="Polish (refuge staff interpret)"),
     "the client's language", "says 'refuge' (a word about abuse or violence)",
     '`thcli referral edit TH-2026-0001 --language "TEXT"`', letters.NO_ACCOUNT),
    ("survey-request", dict(status="survey", children_ages="4 and 7, Fakeperson's"),
     "the note of the children's ages", "names 'Fakeperson' (the perpetrator's name, or part of it)",
     '`thcli referral edit TH-2026-0001 --children-ages "TEXT"`', letters.NO_PERPETRATOR),
    ("works-order", dict(status="works", lines=LINES_ORDERED, third_party_name="Sam, the IDVA"),
     "the safe third party's name", "says 'IDVA' (a word about abuse or violence)",
     '`thcli referral edit TH-2026-0001 --third-party "NAME"`', letters.NO_ACCOUNT),
])
@freeze_time(TODAY)
def test_a_hit_refuses_the_third_party_letter_naming_field_word_and_command(db, tmp_path, kind, setup, what, word,
                                                                              fix, rule):
    set_up(db)
    ref = new_case(db, perpetrator_name=PERPETRATOR, **setup)
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, kind, tmp_path)
    recipient = {"works-order": "contractor", "landlord-permission": "landlord", "survey-request": "surveyor"}[kind]
    assert refused.value.rule == rule
    assert refused.value.message == (
        f'{ref}: the {kind} letter is refused by the safety rule "{rule}": {what} {word}, which no {recipient} '
        f"may read. Reword it with {fix}.")
    assert not (tmp_path / "letters").exists() or not list((tmp_path / "letters").iterdir())


@freeze_time(TODAY)
def test_every_perpetrator_of_the_client_counts_and_the_referrer_may_still_be_told(db, tmp_path):
    set_up(db)
    first = new_case(db, perpetrator_name="Jordan Earlierexample")
    with write(db):  # the same client's later case, about another person
        db.conn.execute("UPDATE perpetrators SET name = 'Sam Laterexample' WHERE case_id = "
                        "(SELECT id FROM cases WHERE ref = ?)", [first])
    ref = new_case(db, status="works", lines=LINES_ORDERED, perpetrator_name="Jordan Earlierexample",
                   safe_times="not when Laterexample calls")
    assert referrals.case_row(db, ref)["client_id"] == referrals.case_row(db, first)["client_id"]
    with pytest.raises(letters.LetterRefused, match="names 'Laterexample'"):
        make(db, ref, "works-order", tmp_path)


@freeze_time(TODAY)
def test_the_schemes_own_words_refuse_letters_too(db, tmp_path):
    set_up(db)
    scheme.set_from_text(db, "screened_words", "gang", by="t")
    ref = new_case(db, status="works", lines=(("door_chain", 1, "ordered", "in_house", "gang tag on the door"),))
    with pytest.raises(letters.LetterRefused, match="the location of measure line 1 says 'gang'"):
        make(db, ref, "works-order", tmp_path)


@pytest.mark.parametrize("location", ["door as\u00adsaulted", "door kicked-in", "signs of strangulation",
                                      "MARAC said", "the marac said", "where Fak\u00e9person waits",
                                      "where F\u0430ke-\nperson waits"])
@freeze_time(TODAY)
def test_hidden_words_and_names_refuse_the_letter(db, tmp_path, location):
    set_up(db)
    ref = new_case(db, status="works", perpetrator_name=PERPETRATOR,
                   lines=(("door_chain", 1, "ordered", "secure_homes", location),))
    with pytest.raises(letters.LetterRefused, match="the location of measure line 1 (says|names)"):
        make(db, ref, "works-order", tmp_path)


@freeze_time(TODAY)
def test_once_reworded_the_letter_is_made(db, tmp_path, cli):
    set_up(db)
    ref = new_case(db, status="works", lines=(("door_chain", 1, "ordered", "secure_homes", "door forced by ex"),),
                   safe_times="not when Mr Fakeperson is home", perpetrator_name=PERPETRATOR)
    result = cli("letter", "make", ref, "works-order", "--out", tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (f'Error: {ref}: the works-order letter is refused by the safety rule "no perpetrator '
                             f"detail\": the note of safe contact times names 'Mr Fakeperson' (the perpetrator's "
                             f"name, or part of it), which no contractor may read. Reword it with `thcli referral "
                             f'edit {ref} --safe-times "TEXT"`.\n')
    assert cli("referral", "edit", ref, "--safe-times", "Weekday mornings").exit_code == 0
    result = cli("letter", "make", ref, "works-order", "--out", tmp_path)
    assert result.exit_code == 1
    assert "the location of measure line 1 says 'forced'" in result.stderr
    result = cli("measures", "where", ref, "1", "back door")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{ref} line 1 (Door chain) goes at: back door.\n"
    assert result.stderr == ""
    result = cli("letter", "make", ref, "works-order", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr


# --- warnings as the text is typed ----------------------------------------------------------------------


def warning(what: str, hit: str, fix: str) -> str:
    return (f"{what} {hit}: a landlord, contractor or surveyor must not read that, so the letters to them that "
            f"would carry it will be refused. Reword it with `{fix}`")


@freeze_time(TODAY)
def test_referral_add_warns_about_safe_times_naming_the_perpetrator(db):
    result = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
        perpetrator_name=PERPETRATOR, safe_times="not when Mr Fakeperson is home"), by="t")
    assert warning("the note of safe contact times", "names 'Mr Fakeperson' (the perpetrator's name, or part of it)",
                   f'thcli referral edit {result.ref} --safe-times "TEXT"') in result.warnings
    contact = db.conn.execute("SELECT safe_times FROM contacts").fetchone()[0]
    assert contact == "not when Mr Fakeperson is home"  # saved: a warning, not a refusal


@freeze_time(TODAY)
def test_referral_edit_warns_and_a_new_perpetrator_name_screens_everything_again(db):
    set_up(db)
    ref = new_case(db, status="approval", lines=LINES_PROPOSED, perpetrator_name=None,
                   safe_times="after Robin leaves")
    edited = referrals.edit_referral(db, ref, {"access_needs": "uses crutches since the attack"}, by="t")
    assert edited == ["access_needs"]
    assert edited.warnings == [warning("the note of access needs", "says 'attack' (a word about abuse or violence)",
                                       f'thcli referral edit {ref} --access-needs "TEXT"')]
    edited = referrals.edit_referral(db, ref, {"perpetrator_name": "Robin Perpexample"}, by="t")
    assert warning("the note of safe contact times", "names 'Robin' (the perpetrator's name, or part of it)",
                   f'thcli referral edit {ref} --safe-times "TEXT"') in edited.warnings
    edited = referrals.edit_referral(db, ref, {"safe_times": "weekday mornings"}, by="t")
    assert edited.warnings == []


@freeze_time(TODAY)
def test_survey_record_warns_about_where_a_measure_goes(db):
    ref = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high",
        perpetrator_name=PERPETRATOR, consent=["police"], received_on=TODAY_DATE), by="t").ref
    surveys.request_survey(db, ref, surveyor="PC Sam Surveyexample", by="t")
    result = surveys.record_survey(db, ref, surveyor="PC Sam Surveyexample", on=TODAY_DATE, by="t", measures=[
        surveys.parse_measure(db, "door_viewer:front door"),
        surveys.parse_measure(db, "lock_change_door:back door, forced by ex-partner"),
        surveys.parse_measure(db, "pir_light:garden where Dale waits")])
    assert result["warnings"] == [
        warning("where measure line 2 goes", "says 'forced' (a word about abuse or violence)",
                f'thcli measures where {ref} 2 "TEXT"'),
        warning("where measure line 3 goes", "names 'Dale' (the perpetrator's name, or part of it)",
                f'thcli measures where {ref} 3 "TEXT"'),
    ]


TODAY_DATE = __import__("datetime").date(2026, 11, 20)


@freeze_time(TODAY)
def test_a_hidden_word_warns_through_the_command_line_too(cli, db):
    result = cli("referral", "add", "--name", "Alex Example", "--postcode", "ZZ1 2AB", "--district", "northmoor",
                 "--route", "idva", "--risk", "high", "--perpetrator-name", PERPETRATOR, "--consent", "police",
                 "--safe-times", "not when Fak\u00e9-person is home")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Warning: " + warning(
        "the note of safe contact times", "names 'Fakeperson' (the perpetrator's name, or part of it)",
        'thcli referral edit TH-2026-0001 --safe-times "TEXT"') + "\n"
    result = cli("referral", "edit", "TH-2026-0001", "--access-needs", "since the as\u00adsault")
    assert result.exit_code == 0
    assert "says 'assault' (a word about abuse or violence)" in result.stderr


@freeze_time(TODAY)
def test_the_warnings_through_the_command_line(cli, db):
    result = cli("referral", "add", "--name", "Alex Example", "--postcode", "ZZ1 2AB", "--district", "northmoor",
                 "--route", "idva", "--risk", "high", "--perpetrator-name", PERPETRATOR, "--consent", "police",
                 "--safe-times", "not when Mr Fakeperson is home")
    assert result.exit_code == 0, result.stderr
    ref = "TH-2026-0001"
    assert result.stderr == "Warning: " + warning(
        "the note of safe contact times", "names 'Mr Fakeperson' (the perpetrator's name, or part of it)",
        f'thcli referral edit {ref} --safe-times "TEXT"') + "\n"
    result = cli("referral", "edit", ref, "--safe-times", "when the ex-partner is out")
    assert result.exit_code == 0
    assert result.stdout == f"Updated {ref}: safe_times.\n"
    assert result.stderr == "Warning: " + warning(
        "the note of safe contact times", "says 'ex-partner' (a word about abuse or violence)",
        f'thcli referral edit {ref} --safe-times "TEXT"') + "\n"
    assert cli("survey", "request", ref, "--surveyor", "PC Sam Surveyexample").exit_code == 0
    result = cli("survey", "record", ref, "--surveyor", "PC Sam Surveyexample", "--date", "20/11/2026",
                 "--measure", "lock_change_door:back door, forced by ex-partner")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Warning: " + warning(
        "where measure line 1 goes", "says 'forced' (a word about abuse or violence)",
        f'thcli measures where {ref} 1 "TEXT"') + "\n"
    result = cli("measures", "where", ref, "1", "back door near Fakeperson's shed")
    assert result.exit_code == 0
    assert result.stderr == "Warning: " + warning(
        "where measure line 1 goes", "names 'Fakeperson' (the perpetrator's name, or part of it)",
        f'thcli measures where {ref} 1 "TEXT"') + "\n"


def test_measures_where_needs_a_line_and_some_text(cli, db):
    ref = referrals.add_referral(db, referrals.ReferralInput(
        name="Alex Example", postcode="ZZ1 2AB", district="northmoor", route="idva", risk_level="high"), by="t").ref
    result = cli("measures", "where", ref, "1", "front door")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {ref} has no measures yet: record the survey with `thcli survey record {ref} "
                             "--surveyor NAME --date DATE --measure CODE`\n")
    result = cli("measures", "where", ref, "1", "   ")
    assert result.exit_code == 2
    with pytest.raises(BadInput, match="at most 80 characters"):
        from thcli import measures

        measures.set_location(db, ref, 1, "x" * 81, by="t")


@freeze_time(TODAY)
def test_a_measures_name_from_the_catalogue_is_printed_as_it_is(db, tmp_path):
    set_up(db)
    ref = new_case(db, status="works", lines=(("police_linked_alarm", 1, "ordered", "secure_homes", "hallway"),))
    text = letter_text(make(db, ref, "works-order", tmp_path).path)
    assert "Alarm linked to the police" in text  # the fitter must know what to fit


@pytest.mark.parametrize("written", ["Dale Fake\u00adperson", "Dale Fak\u00e9-\nperson", "D\u0430le Fakeperson"])
@freeze_time(TODAY)
def test_a_template_cannot_hide_the_perpetrators_whole_name_from_any_letter(db, tmp_path, written):
    from tests.test_letter_safety import store_template

    set_up(db)
    ref = new_case(db, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19", perpetrator_name=PERPETRATOR)
    store_template(db, "completion", "{{ subject }} for {{ client_name }}", f"{{{{ {written!r} }}}}")
    with pytest.raises(letters.LetterRefused) as refused:
        make(db, ref, "completion", tmp_path)
    assert refused.value.rule == letters.NO_PERPETRATOR
    assert refused.value.why == "the letter as it would be written contains the perpetrator's name"

