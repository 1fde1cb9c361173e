"""`thcli county key ...` and `thcli county combine` through the CLI: exact messages and exit codes (issue 17)."""

from __future__ import annotations

import os
import stat

import pytest
from freezegun import freeze_time

from tests.test_county import add_case, add_client, set_secret
from tests.test_partnership import extract_row, write_extract, write_summary


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-20 10:00:00"):
        yield


@pytest.fixture
def files(tmp_path):
    """Two schemes' extracts and summaries for 2026/27."""
    return {
        "a_cases": write_extract(tmp_path / "a-cases.csv", [extract_row("a", client="ann"),
                                                             extract_row("a", client="bea")]),
        "b_cases": write_extract(tmp_path / "b-cases.csv", [extract_row("b", client="ann")]),
        "a_summary": write_summary(tmp_path / "a-summary.csv", "a", referrals="2"),
        "b_summary": write_summary(tmp_path / "b-summary.csv", "b", referrals="<5"),
    }


def run(cli, tmp_path, *files, out="figures"):
    return cli("county", "combine", *files, "--out", tmp_path / out)


def refused(result, message: str, code: int = 1) -> None:
    assert (result.exit_code, result.stderr) == (code, f"Error: {message}\n"), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# --- the county key --------------------------------------------------------------------------------


def test_key_new_writes_a_private_file_and_replaces_only_an_earlier_key_with_force(cli, tmp_path):
    path = tmp_path / "county.key"
    result = cli("county", "key", "new", "--out", path)
    assert result.exit_code == 0, result.stderr
    secret = path.read_text().splitlines()[1]
    code = result.stdout.split("check code ")[1][:9]
    assert result.stdout.splitlines()[0] == (f"Wrote a new county key to {path} (check code {code}), readable by "
                                             "you only.")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret not in result.stdout
    refused(cli("county", "key", "new", "--out", path),
            f"{path} already exists: choose another name, or add --force to replace it (only an earlier county key "
            "file is replaced)")
    assert cli("county", "key", "new", "--out", path, "--force").exit_code == 0
    assert path.read_text().splitlines()[1] != secret
    other = tmp_path / "notes.txt"
    other.write_text("not a key")
    refused(cli("county", "key", "new", "--out", other, "--force"),
            f"{other} is not an earlier county key file (it is something else), so it is not replaced, even with "
            "--force: choose another name")
    refused(cli("county", "key", "new", "--out", tmp_path),
            f"--out: {tmp_path} is a folder: give a file name inside it", 2)


def test_the_same_person_has_one_pseudonym_in_two_databases_with_the_key_and_two_without(cli, db, tmp_path,
                                                                                          initialised_scheme):
    from thcli.db import open_db
    from thcli.files import write_atomically

    other_path = tmp_path / "other.db"
    write_atomically(other_path, initialised_scheme)
    other = open_db(other_path)
    for database, name, secret in ((db, "Zoë  Madeup", "one"), (other, "ZOE\u0308 MADEUP.", "two")):
        set_secret(database, secret)  # two schemes, two secrets of their own
        add_case(database, client_id=add_client(database, name=name, dob="1990-02-03"), received="2026-05-05")
    other.close()

    def client_pseudonyms():
        found = []
        for path in (tmp_path / "thcli.db", other_path):
            out = tmp_path / f"{path.stem}-cases.csv"
            assert cli("--db", path, "export", "cases", "--year", "2026/27", "--out", out, "--force").exit_code == 0
            row = out.read_text(encoding="utf-8-sig").splitlines()[1].split(",")
            found.append((row[4], row[5]))
        return found

    without = client_pseudonyms()
    assert without[0] != without[1] and {scope for _, scope in without} == {"scheme"}
    key_file = tmp_path / "county.key"
    made = cli("county", "key", "new", "--out", key_file)
    code = made.stdout.split("check code ")[1][:9]
    secret = key_file.read_text().splitlines()[1]
    outputs = [made.stdout]
    for path in (tmp_path / "thcli.db", other_path):
        result = cli("--db", path, "county", "key", "use", key_file)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.splitlines()[0] == f"The scheme now holds the county key with check code {code}."
        outputs += [result.stdout, cli("--db", path, "county", "key", "show").stdout]
    with_key = client_pseudonyms()
    assert with_key[0] == with_key[1] and {scope for _, scope in with_key} == {"county"}
    # The key is never in an output, an export, the audit log or anywhere in the databases but the secrets table.
    for text in outputs + [p.read_text(encoding="utf-8-sig") for p in tmp_path.glob("*-cases.csv")]:
        assert secret not in text and secret.upper() not in text
    for path in (tmp_path / "thcli.db", other_path):
        database = open_db(path)
        audit = " ".join(" ".join(map(str, row)) for row in database.conn.execute("SELECT * FROM audit"))
        assert secret not in audit and f"county key check code {code}" in audit
        tables = [name for (name,) in database.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('secrets')")]
        for table in tables:
            for row in database.conn.execute(f'SELECT * FROM "{table}"'):
                assert secret not in " ".join(map(str, row)), table
        database.close()


def test_key_show_use_again_and_forget(cli, db, tmp_path):
    assert cli("county", "key", "show").stdout == (
        "This scheme holds no county key: the case extract keys clients with the scheme's own secret "
        "(pseudonym_scope scheme). Import the partnership's key with `thcli county key use FILE`.\n")
    key_file, other = tmp_path / "county.key", tmp_path / "other.key"
    code = cli("county", "key", "new", "--out", key_file).stdout.split("check code ")[1][:9]
    other_code = cli("county", "key", "new", "--out", other).stdout.split("check code ")[1][:9]
    assert cli("county", "key", "use", key_file).exit_code == 0
    assert cli("county", "key", "use", key_file).stdout == (
        f"This scheme already holds this county key (check code {code}): nothing changed.\n")
    assert cli("county", "key", "show").stdout.splitlines()[0] == (
        f"This scheme holds the county key with check code {code}, imported on 20/11/2026 by test.coordinator.")
    exported = cli("export", "cases", "--year", "2026/27", "--out", tmp_path / "cases.csv")
    assert exported.stdout.splitlines()[-1] == (f"Clients with a date of birth are keyed on the county key (check code "
                                                f"{code}); the others on the scheme's own secret.")
    refused(cli("county", "key", "use", other),
            f"this scheme already holds another county key (check code {code}); {other} has check code "
            f"{other_code}. Replacing it changes every client pseudonym in later extracts, so the county can no "
            "longer match them with earlier ones: if the partnership has issued a new key, add --force")
    result = cli("county", "key", "use", other, "--force")
    assert result.stdout.splitlines()[0] == (f"The scheme now holds the county key with check code {other_code}, "
                                             f"replacing the key with check code {code}.")
    assert cli("county", "key", "forget").stdout == (
        f"Removed the county key with check code {other_code}. Later case extracts key clients with the scheme's "
        "own secret (pseudonym_scope scheme).\n")
    assert cli("county", "key", "forget").stdout == "This scheme holds no county key: nothing to forget.\n"
    refused(cli("county", "key", "use", tmp_path / "missing.key"),
            f"{tmp_path / 'missing.key'} does not exist: give the file the partnership made with `thcli county key "
            "new`", 2)
    not_key = tmp_path / "notes.txt"
    not_key.write_text("hello")
    refused(cli("county", "key", "use", not_key),
            f"{not_key} is not a thcli county key file: use the file `thcli county key new` made (it starts with "
            "the line thcli-county-key-1)", 2)


# --- combine: the happy path -------------------------------------------------------------------------


def test_combine_writes_private_figure_files_and_shows_the_headline(cli, tmp_path, files):
    result = run(cli, tmp_path, *files.values())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Combined 4 files from 2 schemes for 2026/27 (01/04/2026 to 31/03/2027): 3 cases."
    assert "Survivors in more than one district: <5, matched on the county key across a, b." in lines
    folder = tmp_path / "figures"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["outcomes.csv", "referrals.csv", "repeats.csv", "sources.csv", "spend.csv", "times.csv"]
    for path in folder.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    referrals = (folder / "referrals.csv").read_bytes()
    assert referrals.startswith(b"\xef\xbb\xbfperiod,measure,breakdown,category,value\r\n2026/27,referrals,all,all,"
                                b"<5\r\n")
    assert lines[-1] == f"Wrote 6 files to {folder}."
    refused(run(cli, tmp_path, *files.values()),
            f"{folder / 'referrals.csv'} already exists: choose another name, or add --force to replace it "
            "(only an earlier county figures file is replaced)")
    assert cli("county", "combine", *files.values(), "--out", folder, "--force").exit_code == 0


def test_an_extract_without_a_summary_is_combined_and_said(cli, tmp_path, files):
    result = run(cli, tmp_path, files["a_cases"], files["b_cases"], files["a_summary"])
    assert result.exit_code == 0, result.stderr
    assert "b: no summary was sent, so the share of its referrals in the extract is not known." in result.stdout


# --- combine: every refusal ------------------------------------------------------------------------


def test_a_file_of_an_unknown_version_is_refused(cli, tmp_path, files):
    future = tmp_path / "future.csv"
    future.write_bytes(files["a_summary"].read_bytes().replace(b"thcli-county-2", b"thcli-county-3"))
    refused(run(cli, tmp_path, files["a_cases"], future),
            f"{future} line 2 is thcli-county-3, which this thcli cannot read (it reads thcli-county-1 and "
            "thcli-county-2): update thcli (pip install -U thcli)")


def test_a_header_that_is_not_the_contracts_is_refused(cli, tmp_path, files):
    edited = tmp_path / "edited.csv"
    edited.write_bytes(files["a_cases"].read_bytes().replace(b"referral_route", b"route", 1))
    refused(run(cli, tmp_path, edited),
            f"{edited} has a header thcli does not know (column 8 is 'route' where a case extract has "
            "'referral_route'): ask the district to export it again with thcli")
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(files["a_cases"].read_bytes().replace(b"\r\nthcli-county-2,a,a", b"\r\nthcli-county-1,a,a", 1))
    refused(cli("county", "combine", mixed, "--year", "2026/27", "--out", tmp_path / "m"),
            f"{mixed} line 2 says thcli-county-1 where the file is thcli-county-2: the file is damaged or two files "
            "were joined; ask the district for it again")


def test_a_scheme_sent_twice_is_refused(cli, tmp_path, files):
    again = tmp_path / "a-cases-again.csv"
    again.write_bytes(files["a_cases"].read_bytes())
    refused(run(cli, tmp_path, files["a_cases"], again),
            f"{again} is a second case extract from scheme 'a' (the first is {files['a_cases']}): give each "
            "district's files once")
    refused(run(cli, tmp_path, files["a_cases"], files["a_cases"]),
            f"{files['a_cases']} is given twice: give each district's files once")


def test_mixed_periods_are_refused(cli, tmp_path, files):
    quarter = write_summary(tmp_path / "b-q3.csv", "b", period="2026Q3")
    refused(run(cli, tmp_path, files["a_cases"], files["b_cases"], files["a_summary"], quarter),
            f"{quarter} is for 2026Q3 but {files['a_summary']} is for 2026/27: combine one period at a time")
    refused(cli("county", "combine", files["a_cases"], files["a_summary"], "--quarter", "2026Q3", "--out",
                tmp_path / "q"),
            f"{files['a_summary']} is for 2026/27 but --quarter asks for 2026Q3: combine one period at a time")
    early = write_extract(tmp_path / "early.csv", [extract_row("c", referral_month="2026-03")])
    refused(cli("county", "combine", early, "--year", "2026/27", "--out", tmp_path / "e"),
            f"{early} line 2 is a referral of 2026-03, outside 2026/27 (01/04/2026 to 31/03/2027): it is not the "
            "extract of this period (the district makes it with thcli export cases --year 2026/27)")


def test_a_summary_without_its_extract_is_refused(cli, tmp_path, files):
    refused(run(cli, tmp_path, files["a_cases"], files["a_summary"], files["b_summary"]),
            f"{files['b_summary']} is the summary of scheme 'b', but no case extract from 'b' was given: add its "
            "case extract (thcli export cases), or leave the summary out")


def test_a_file_that_is_not_utf8_is_refused(cli, tmp_path, files):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(files["a_cases"].read_bytes()[3:].replace(b"\r\nthcli-county-2,a,a,",
                                                                "\r\nthcli-county-2,a,Zoë,".encode("latin-1"), 1))
    refused(run(cli, tmp_path, latin),
            f"{latin} is not UTF-8 text (line 2): ask the district for the file thcli wrote, or in Excel save it "
            "as \"CSV UTF-8\"")


def test_a_file_without_a_byte_order_mark_is_read(cli, tmp_path):
    plain = write_extract(tmp_path / "plain.csv", [extract_row("p")], bom=False)
    assert cli("county", "combine", plain, "--year", "2026/27", "--out", tmp_path / "p").exit_code == 0


@pytest.mark.parametrize("content,problem", [
    (b"name,postcode\r\nAlex Example,ZZ1 2AB\r\n",
     "is not a thcli county file (its first line is not the header of a case extract or a summary): give only the "
     "files of thcli export cases and thcli export summary"),
    (b"PK\x03\x04rest of a workbook",
     "is not a thcli county file (it is an Excel or Word file, not CSV): ask the district for the CSV file thcli "
     "wrote"),
    (b"SQLite format 3\x00" + bytes(100),
     "is not a thcli county file (it is a SQLite database, perhaps a thcli database or backup): give the CSV files "
     "of thcli export cases and thcli export summary"),
    (b"", "is empty: ask the district for its file again (thcli export cases / thcli export summary)"),
    (b"\xef\xbb\xbf", "is empty: ask the district for its file again (thcli export cases / thcli export summary)"),
])
def test_a_file_that_is_not_a_county_file_is_refused(cli, tmp_path, content, problem):
    path = tmp_path / "other.csv"
    path.write_bytes(content)
    refused(run(cli, tmp_path, path), f"{path} {problem}")


def test_a_folder_or_a_missing_file_is_a_bad_command_line(cli, tmp_path, files):
    refused(run(cli, tmp_path, files["a_cases"], tmp_path),
            f"{tmp_path} is a folder: give the district files in it, e.g. {tmp_path / '*.csv'}", 2)
    refused(run(cli, tmp_path, tmp_path / "missing.csv"), f"{tmp_path / 'missing.csv'} does not exist: check the name",
            2)
    refused(cli("county", "combine", files["a_cases"], "--out", files["b_cases"]),
            f"--out: {files['b_cases']} is a file: give a folder for the county figures (made if new)", 2)
    assert cli("county", "combine", "--out", tmp_path / "x").exit_code == 2  # no files at all


def test_a_damaged_row_is_refused_naming_its_line(cli, tmp_path, files):
    short = tmp_path / "short.csv"
    short.write_bytes(files["a_cases"].read_bytes() + b"thcli-county-2,a,a\r\n")
    refused(run(cli, tmp_path, short, files["a_summary"]),
            f"{short} line 4 has 3 cells where the header has 34: the file is damaged; ask the district for it again")
    bad = write_extract(tmp_path / "bad.csv", [extract_row("a"), extract_row("a", days_to_fit="ten")])
    refused(run(cli, tmp_path, bad, files["a_summary"], out="y"),
            f"{bad} line 3 has days_to_fit 'ten', which is not a whole number of working days: the file is damaged "
            "or was edited; ask the district to export it again")
    code = write_extract(tmp_path / "code.csv", [extract_row("a", referral_route="=HYPERLINK(x)")])
    refused(run(cli, tmp_path, code, files["a_summary"], out="z"),
            f"{code} line 2 has referral_route '=HYPERLINK(x)', which is not one of court, health, housing, idva, "
            "marac, other_professional, police, self, social_care, unknown: the file is damaged or was edited; ask "
            "the district to export it again")


def test_nothing_is_written_when_a_file_is_refused(cli, tmp_path, files):
    refused_result = run(cli, tmp_path, files["a_cases"], files["a_summary"], files["b_summary"])
    assert refused_result.exit_code == 1
    assert not (tmp_path / "figures").exists()


# --- the whole flow, from the demo ------------------------------------------------------------------


def test_the_county_demo_runs_the_whole_flow(cli, tmp_path):
    folder = tmp_path / "county"
    result = cli("demo", "--county", folder, "--cases", "60")
    assert result.exit_code == 0, result.stderr
    assert "survivors were referred in two of them" in result.stdout
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(
        f"{d}-{kind}-2026-27.csv" for d in ("millbrook", "fenwick", "northgate") for kind in ("cases", "summary"))
    combine = next(line for line in result.stdout.splitlines() if "thcli county combine" in line).split()
    files = sorted(folder.glob("*-cases-2026-27.csv")) + sorted(folder.glob("*-summary-2026-27.csv"))
    assert combine[3:5] == [str(folder / "*-cases-2026-27.csv"), str(folder / "*-summary-2026-27.csv")]
    done = cli("county", "combine", *files, "--out", folder / "county-2026-27")
    assert done.exit_code == 0, done.stderr
    assert "matched on the county key across fenwick, millbrook, northgate." in done.stdout
    repeats = (folder / "county-2026-27" / "repeats.csv").read_text(encoding="utf-8-sig")
    moved = next(line for line in repeats.splitlines() if line.startswith("2026/27,survivors_in_more_than_one_"
                                                                          "district,all,all,"))
    assert moved.split(",")[-1] not in ("0", "<5")
    again = cli("demo", "--county", folder, "--cases", "60")  # a second run replaces only its own files
    assert again.exit_code == 0, again.stderr


def test_threshold_and_rounding_are_the_county_officers_to_choose(cli, tmp_path):
    rows = [extract_row("m", client=f"c{n}") for n in range(11)]
    rows += [extract_row("m", client=f"p{n}", referral_route="police") for n in range(3)]
    many = write_extract(tmp_path / "many.csv", rows)
    assert cli("county", "combine", many, "--year", "2026/27", "--out", tmp_path / "plain").exit_code == 0
    assert cli("county", "combine", many, "--year", "2026/27", "--out", tmp_path / "rounded", "--round", "5",
               "--threshold", "2").exit_code == 0

    def referrals(folder):
        lines = (tmp_path / folder / "referrals.csv").read_text(encoding="utf-8-sig").splitlines()
        return [dict((tuple(line.split(",")[2:4]), line.split(",")[4]) for line in lines[1:])[key]
                for key in (("all", "all"), ("referral_route", "police"), ("referral_route", "idva"))]

    assert referrals("plain") == ["14", "<5", "suppressed"]  # default threshold 5, and secondary suppression
    assert referrals("rounded") == ["15", "5", "10"]         # threshold 2: 3 is shown, and rounded to 5


def test_a_threshold_that_suppresses_nothing_is_refused_as_the_district_setting_is(cli, tmp_path, files):
    from thcli import settings

    refused(cli("county", "combine", files["a_cases"], "--year", "2026/27", "--out", tmp_path / "one",
                "--threshold", "1"),
            "--threshold: 1 is below 2, the smallest suppression threshold (below 2 nothing would be "
            "suppressed): give 2 or more", 2)
    assert not (tmp_path / "one").exists()
    assert settings.SETTINGS["suppression_threshold"].minimum == settings.SUPPRESSION_MINIMUM == 2


def test_a_code_with_control_characters_or_markup_is_refused(cli, tmp_path):
    odd = write_extract(tmp_path / "odd.csv", [extract_row("a", district="x\x1b[2J")])
    refused(cli("county", "combine", odd, "--year", "2026/27", "--out", tmp_path / "o"),
            f"{odd} line 2 has district 'x\\x1b[2J', which is not a code (lower-case letters, digits and _, at most "
            "40): the file is damaged or was edited; ask the district to export it again")
    # Markup was once accepted and shown as text; a code is now held to the code rule, so it never reaches output.
    markup = write_extract(tmp_path / "markup.csv", [extract_row("b", district="[bold]x[/bold]")])
    refused(cli("county", "combine", markup, "--year", "2026/27", "--out", tmp_path / "m"),
            f"{markup} line 2 has district '[bold]x[/bold]', which is not a code (lower-case letters, digits and _, "
            "at most 40): the file is damaged or was edited; ask the district to export it again")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("column,value,what", [
    ("outcome_reason", "Jane Smith 12 High St", "a code (lower-case letters, digits and _, at most 40) or empty"),
    ("district", "Jane Smith", "a code (lower-case letters, digits and _, at most 40)"),
    ("measures_fitted", "door_alarm;Jane Smith", "codes (lower-case letters, digits and _, at most 40) separated "
                                                 "by ; or empty"),
    ("funds", "dha;call Jane on 0777", "codes (lower-case letters, digits and _, at most 40) separated by ; or "
                                       "empty"),
])
def test_free_text_in_an_extract_code_column_is_refused(cli, tmp_path, column, value, what):
    rows = [extract_row("a", client="ann"), extract_row("a", client="bea", **{column: value})]
    named = write_extract(tmp_path / "named.csv", rows)
    refused(cli("county", "combine", named, "--year", "2026/27", "--out", tmp_path / "o", "--report",
                tmp_path / "b.docx"),
            f"{named} line 3 has {column} {value!r}, which is not {what}: the file is damaged or was edited; ask "
            "the district to export it again")
    assert not (tmp_path / "o").exists() and not (tmp_path / "b.docx").exists()


@pytest.mark.parametrize("cells,column,value,what", [
    (["referrals", "all", "all", "Jane Smith of 12 High Street"], "value", "Jane Smith of 12 High Street",
     "a figure (a count, <5, suppressed, n/a, 7.5 or pounds as 1234.50)"),
    (["referrals", "district", "Jane Smith", "3"], "category", "Jane Smith",
     "a code (lower-case letters, digits and _, at most 40) or an age band"),
    (["Jane Smith", "all", "all", "3"], "measure", "Jane Smith",
     "a code (lower-case letters, digits and _, at most 40)"),
    (["referrals", "Jane", "all", "3"], "breakdown", "Jane", "a code (lower-case letters, digits and _, at most 40)"),
])
def test_free_text_in_a_summary_is_refused(cli, tmp_path, files, cells, column, value, what):
    summary = tmp_path / "a-summary.csv"
    with summary.open("a", encoding="utf-8", newline="") as handle:
        handle.write(",".join(["thcli-county-2", "a", "2026/27", *cells]) + "\r\n")
    refused(cli("county", "combine", files["a_cases"], summary, "--out", tmp_path / "o"),
            f"{summary} line 4 has {column} {value!r}, which is not {what}: the file is damaged or was edited; ask "
            "the district to export it again")
    assert not (tmp_path / "o").exists()


def test_a_summary_s_every_kind_of_figure_is_read(cli, tmp_path, files):
    summary = tmp_path / "a-summary.csv"
    with summary.open("a", encoding="utf-8", newline="") as handle:
        for cells in (["spend", "all", "all", "1234.50"], ["median_days_to_fit", "all", "all", "7.5"],
                      ["percent_within_target", "all", "all", "n/a"], ["households_supported", "age_band", "65+", "<5"],
                      ["spend", "fund_source", "dha", "suppressed"], ["contributions", "all", "all", "-20.00"]):
            handle.write(",".join(["thcli-county-2", "a", "2026/27", *cells]) + "\r\n")
    result = cli("county", "combine", files["a_cases"], summary, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr


def test_an_out_folder_name_too_long_for_the_disk_is_a_bad_out(cli, tmp_path, files):
    result = cli("county", "combine", files["a_cases"], files["a_summary"], "--out", tmp_path / ("d" * 300))
    assert result.exit_code == 2 and result.stderr.startswith("Error: --out: "), result.stderr
    assert result.stderr.endswith(": the name is too long for this disk: choose a shorter name or folder\n")


def test_a_case_repeated_in_one_extract_is_refused_and_a_repeat_referral_is_not(cli, tmp_path):
    first = extract_row("a", client="ann")
    again = write_extract(tmp_path / "again.csv", [first, extract_row("a", client="bea"), dict(first)])
    refused(cli("county", "combine", again, "--year", "2026/27", "--out", tmp_path / "o"),
            f"{again} line 4 repeats the case {first['case_pseudonym']} of line 2: a case is counted once; the file "
            "is damaged or was edited, ask the district to export it again")
    assert not (tmp_path / "o").exists()
    repeat = write_extract(tmp_path / "repeat.csv", [first, extract_row("a", client="ann", repeat_referral="yes")])
    assert cli("county", "combine", repeat, "--year", "2026/27", "--out", tmp_path / "r").exit_code == 0
