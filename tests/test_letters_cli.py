"""`thcli letter ...` through the command line: output, exit codes and messages."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.test_letters import LINES_FITTED, TODAY, docx_with, letter_text, new_case, set_up


@pytest.fixture
def scheme(db, db_path):
    """The test scheme with its letterhead settings (the cli runs on the same database file)."""
    set_up(db)
    return db


@freeze_time(TODAY)
def test_make_writes_the_letter_beside_the_database(cli, scheme, db_path):
    ref = new_case(scheme)
    result = cli("letter", "make", ref, "acknowledgement")
    path = db_path.parent / "letters" / f"{ref}-acknowledgement-2026-11-20.docx"
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"Made the acknowledgement letter for {ref} to the referrer (Pat Idvaexample): "
                             f"{path.resolve()}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "Thank you for your referral of Alex Example" in letter_text(path)


@freeze_time(TODAY)
def test_make_into_a_chosen_folder_to_the_client(cli, scheme, tmp_path):
    ref = new_case(scheme, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19", safe_post=True)
    result = cli("letter", "make", ref, "completion", "--to", "survivor", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / f"{ref}-completion-survivor-2026-11-20.docx").exists()
    assert "to the client (Alex Example)" in result.stdout


@freeze_time(TODAY)
def test_a_refused_letter_names_the_rule_and_the_override(cli, scheme, tmp_path):
    ref = new_case(scheme, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19")
    result = cli("letter", "make", ref, "completion", "--to", "survivor", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f'Error: {ref}: the completion letter is refused by the safety rule "safe post": '
                                    "post to the client's home is not marked safe.")
    assert result.stderr.rstrip().endswith("add --override-safety REASON (the override is audited).")
    assert not (tmp_path / "out").exists()


@freeze_time(TODAY)
def test_the_override_is_made_with_a_warning(cli, scheme, tmp_path):
    ref = new_case(scheme, status="fitted", lines=LINES_FITTED, fitted_on="2026-11-19")
    result = cli("letter", "make", ref, "completion", "--to", "survivor", "--out", tmp_path,
                 "--override-safety", "Client asked for it by post")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ('Warning: the safety rule "safe post" was overridden (Client asked for it by post); '
                             "this is in the audit log.\n")


@freeze_time(TODAY)
def test_bad_kind_unknown_case_and_bad_recipient(cli, scheme):
    ref = new_case(scheme)
    result = cli("letter", "make", ref, "postcard")
    assert result.exit_code == 2
    assert result.stderr == ("Error: 'postcard' is not a kind of letter: use one of acknowledgement, decline, "
                             "survey-request, landlord-permission, works-order, completion, follow-up, "
                             "bedroom-tax-evidence, equipment-removal\n")
    result = cli("letter", "make", "TH-2026-0999", "acknowledgement")
    assert result.exit_code == 1
    assert result.stderr == ("Error: there is no case 'TH-2026-0999': check the reference with "
                             "`thcli referral list --search`\n")
    result = cli("letter", "make", ref, "acknowledgement", "--to", "cro")
    assert result.exit_code == 2
    assert result.stderr == "Error: --to: an acknowledgement letter goes to referrer or survivor, not 'cro'\n"


@freeze_time(TODAY)
def test_a_letter_the_case_cannot_have_is_exit_1(cli, scheme):
    ref = new_case(scheme)
    result = cli("letter", "make", ref, "decline")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {ref} is new, not declined: decline it first with "
                             f"`thcli referral move {ref} declined --reason CODE`\n")


@freeze_time(TODAY)
def test_batch_lists_refusals_and_exits_0_when_some_were_made(cli, scheme, tmp_path):
    made = new_case(scheme)
    refused = new_case(scheme, name="Sam Sample", route="self", referrer_name=None, referrer_org=None,
                       referrer_role=None, referrer_email=None, perpetrator_name=None)
    result = cli("letter", "batch", "acknowledgement", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Made 1 acknowledgement letter in {tmp_path}; refused 1.\n"
        "Refused:\n"
        f"  {refused}  safety rule \"safe post\": there is no safe postal route to the client: post to their home "
        "is not marked safe, and there is no referrer to write to instead\n"
        "A letter refused for safe post can go to the referrer where the kind allows it (--to referrer), or be made "
        "one at a time with `thcli letter make REF KIND --override-safety REASON`.\n")
    assert (tmp_path / f"{made}-acknowledgement-2026-11-20.docx").exists()
    again = cli("letter", "batch", "acknowledgement", "--out", tmp_path)
    assert again.exit_code == 1  # nothing made, something refused
    assert again.stdout.startswith(f"Made 0 acknowledgement letters in {tmp_path}; refused 1.\n"
                                   "1 new case already had one (add --again to make it again).\n")


@freeze_time(TODAY)
def test_batch_with_nothing_to_do(cli, scheme, tmp_path):
    result = cli("letter", "batch", "completion", "--out", tmp_path)
    assert result.exit_code == 0
    assert result.stdout == (f"Made 0 completion letters in {tmp_path}; refused 0.\n"
                             "No fitted case needs a completion letter.\n")
    result = cli("letter", "batch", "completion", "--status", "done")
    assert result.exit_code == 2
    assert "Error: --status: 'done' is not a status" in result.stderr
    result = cli("letter", "batch", "completion", "--limit", "0")
    assert result.exit_code == 2


def test_templates_list_export_use_and_reset(cli, scheme, tmp_path):
    rows = cli.json("letter", "templates", "list")
    assert [r["kind"] for r in rows] == ["acknowledgement", "decline", "survey-request", "landlord-permission",
                                         "works-order", "completion", "follow-up", "bedroom-tax-evidence",
                                         "equipment-removal"]
    assert {r["template"] for r in rows} == {"default"}
    assert rows[4]["recipients"] == ["contractor"]

    result = cli("letter", "templates", "export", "decline", tmp_path / "decline.docx")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Wrote the default decline template to {tmp_path / 'decline.docx'}."
    assert result.stdout.splitlines()[1].startswith("Merge fields you can use: scheme_name, scheme_address,")
    assert cli("letter", "templates", "export", "decline", tmp_path / "decline.docx").exit_code == 1

    ours = tmp_path / "ours.docx"
    ours.write_bytes(docx_with("Dear {{ salutation }}", "Sorry: {{ decline_reason }} ({{ ref }})"))
    result = cli("letter", "templates", "use", "decline", ours)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("The decline letter now uses ours.docx (sha256 ")
    assert result.stdout.rstrip().endswith("Merge fields in it: decline_reason, ref, salutation.")
    rows = cli.json("letter", "templates", "list")
    assert rows[1]["template"] == "custom" and rows[1]["filename"] == "ours.docx"
    assert rows[1]["set_by"] == "test.coordinator"

    result = cli("letter", "templates", "reset", "decline")
    assert result.exit_code == 0
    assert result.stdout == "The decline letter uses thcli's default template again.\n"


def test_templates_use_reports_unknown_fields_as_an_error(cli, scheme, tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(docx_with("Dear {{ recipient_name }}, {{ perpetrator_name }}"))
    result = cli("letter", "templates", "use", "acknowledgement", bad)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: bad.docx uses a merge field that an acknowledgement letter does not have: "
                                    "perpetrator_name (it would print blank).")
    assert json.loads(cli("letter", "templates", "list", "--format", "json").stdout)[0]["template"] == "default"
    not_word = tmp_path / "letter.txt"
    not_word.write_text("hello")
    result = cli("letter", "templates", "use", "acknowledgement", not_word)
    assert result.exit_code == 2
    assert result.stderr == ("Error: letter.txt is not a Word .docx file: save it from Word as a Word Document "
                             "(.docx)\n")


def test_every_letter_command_has_help_with_an_example(cli):
    for args in (["make"], ["batch"], ["templates", "list"], ["templates", "export"], ["templates", "use"],
                 ["templates", "reset"]):
        result = cli("letter", *args, "--help")
        assert result.exit_code == 0
        assert "Example: thcli letter" in result.stdout, args


def test_the_letter_command_imports_no_docx_until_a_letter_is_made():
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from thcli.cli import app; "
            "CliRunner().invoke(app, ['letter', '--help']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docx', 'docxtpl', 'jinja2', 'lxml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"


def test_a_template_file_name_too_long_for_the_disk_is_a_bad_command_line(cli, db, tmp_path):
    long_name = tmp_path / ("x" * 300 + ".docx")
    for command in ("export", "use"):
        result = cli("letter", "templates", command, "works-order", long_name)
        assert result.exit_code == 2, (command, result.stderr)
        assert "the name is too long for this disk: choose a shorter name or folder" in result.stderr
        assert "check the database" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_batch_to_a_recipient_the_kind_never_has_is_refused_before_any_case(cli, db, tmp_path):
    result = cli("letter", "batch", "works-order", "--to", "landlord", "--out", str(tmp_path / "out"))
    assert (result.exit_code, result.stderr) == (
        2, "Error: --to: a works-order letter goes to contractor or a contractor's code (`thcli codes list "
           "contractor`), not 'landlord'\n")
    assert not (tmp_path / "out").exists()
    assert cli("letter", "batch", "works-order", "--to", "in_house", "--out", str(tmp_path / "out")).exit_code == 0
