"""CLI tests: init, referral commands, codes, settings, through CliRunner."""

from __future__ import annotations

import json
import os
import stat

import pytest
from freezegun import freeze_time

from tests.conftest import referral_args

TODAY = "2026-11-20"


@pytest.fixture
def scheme(cli):
    result = cli("init", "--scheme", "Test Sanctuary Scheme", "--code", "test", "--prefix", "TH",
                 "--district", "northmoor:Northmoor", "--district", "southvale:Southvale")
    assert result.exit_code == 0, result.stderr
    return result


def test_init_creates_a_private_database_and_says_what_next(cli, db_path, scheme):
    assert scheme.stdout.splitlines()[:2] == [
        f"Created the database for Test Sanctuary Scheme at {db_path}",
        "Districts: Northmoor, Southvale",
    ]
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_init_twice_is_refused(cli, scheme):
    result = cli("init")
    assert result.exit_code == 1
    assert "there is already a database" in result.stderr


def test_init_bad_prefix_is_exit_2_and_leaves_no_file(cli, db_path):
    result = cli("init", "--prefix", "th-1")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --prefix: 'th-1' is not a reference prefix")
    assert not db_path.exists()


def test_init_bad_district(cli, db_path):
    result = cli("init", "--district", "Northmoor")
    assert result.exit_code == 2
    assert "--district: 'Northmoor' is not a district: write CODE:Name" in result.stderr
    assert not db_path.exists()


def test_commands_without_a_database_say_how_to_make_one(cli, db_path):
    result = cli("referral", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no thcli database at {db_path}. Create one with `thcli init`, try `thcli demo`, "
        "or point --db (or THCLI_DB) at your database.\n"
    )


@freeze_time(TODAY)
def test_referral_add_prints_the_reference_and_next_steps(cli, scheme):
    result = cli("referral", "add", *referral_args())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Saved TH-2026-0001 (new)."
    assert "thcli referral consent TH-2026-0001 --scope police,contractor" in result.stdout
    assert result.stderr == ""


@freeze_time(TODAY)
def test_referral_add_json(cli, scheme):
    data = cli.json("referral", "add", *referral_args())
    assert data == {"ref": "TH-2026-0001", "status": "new", "warnings": [], "repeat_of": []}


@freeze_time(TODAY)
def test_referral_add_missing_required_options_without_terminal(cli, scheme):
    result = cli("referral", "add", "--name", "Alex Example")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: missing --postcode, --district, --route, --risk:")


@freeze_time(TODAY)
def test_referral_add_with_no_options_and_no_terminal_does_not_prompt(cli, scheme):
    result = cli("referral", "add")
    assert result.exit_code == 2
    assert "missing --name" in result.stderr


@pytest.mark.parametrize(
    "option,value,message",
    [
        ("--received", "31/02/2026", "Error: Invalid value for '--received': '31/02/2026' is not a real date"),
        ("--received", "11/22/2026", "looks like US order"),
        ("--postcode", "NOT A POSTCODE", "Invalid value for '--postcode'"),
        ("--phone", "12345", "Invalid value for '--phone'"),
        ("--referrer-email", "someone@", "Invalid value for '--referrer-email'"),
        ("--adults", "٣", "Invalid value for '--adults'"),
        ("--dash-score", "28", "--dash-score: 28 is not a DASH score"),
        ("--district", "Northmoor", "Invalid value for '--district'"),
        ("--district", "atlantis", "--district: unknown district 'atlantis'"),
        ("--risk", "extreme", "--risk: unknown risk 'extreme'"),
    ],
)
@freeze_time(TODAY)
def test_referral_add_bad_values_exit_2_one_line_nothing_saved(cli, scheme, option, value, message):
    result = cli("referral", "add", *referral_args(**{option: value}))
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert cli.json("referral", "list") == []


@freeze_time(TODAY)
def test_referral_add_warns_of_a_repeat_referral(cli, scheme):
    cli("referral", "add", *referral_args(**{"--dob": "01/05/1990"}))
    result = cli("referral", "add", *referral_args(**{"--dob": "1990-05-01", "--postcode": "ZZ9 9ZZ"}))
    assert result.exit_code == 0
    assert result.stderr == "Warning: repeat referral: earlier case TH-2026-0001 (new)\n"


@freeze_time(TODAY)
def test_referral_list_json_contract(cli, scheme):
    cli("referral", "add", *referral_args(**{"--emergency": True}))
    rows = cli.json("referral", "list")
    assert rows == [{
        "ref": "TH-2026-0001", "status": "new", "district": "northmoor", "route": "idva", "risk_level": "high",
        "received_on": "2026-11-18", "client_name": "Alex Example", "postcode": "ZZ1 2AB", "emergency": True,
        "next_due_on": "2026-11-19", "next_due_what": "first contact", "next_due_at": None,
    }]


@freeze_time(TODAY)
def test_referral_list_csv_and_table(cli, scheme):
    cli("referral", "add", *referral_args())
    csv_out = cli("referral", "list", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == ("ref,status,district,route,risk_level,received_on,client_name,postcode,"
                                       "emergency,next_due_on,next_due_what")
    assert csv_out.splitlines()[1] == ("TH-2026-0001,new,northmoor,idva,high,2026-11-18,Alex Example,ZZ1 2AB,"
                                       "no,2026-11-19,first contact")
    table = cli("referral", "list", "--format", "table").stdout
    assert "TH-2026-0001" in table and "18/11/2026" in table and "19/11/2026" in table and "first contact" in table
    assert "1 of 1 cases" in table


@freeze_time(TODAY)
def test_referral_list_search_by_postcode_without_space(cli, scheme):
    cli("referral", "add", *referral_args())
    assert [r["ref"] for r in cli.json("referral", "list", "--search", "zz12ab")] == ["TH-2026-0001"]
    assert cli.json("referral", "list", "--search", "nobody") == []


@freeze_time(TODAY)
def test_referral_show_json_contract(cli, scheme):
    cli("referral", "add", *referral_args(**{"--phone": "020 7946 0123", "--safe-to-text": True,
                                              "--address": "1 Sample Road, Northmoor", "--do-not-disclose": True,
                                              "--dob": "01/05/1990", "--tenure": "council", "--marac": True,
                                              "--consent": "police"}))
    case = cli.json("referral", "show", "TH-2026-0001")
    for key in ("ref", "status", "district", "route", "risk_level", "received_on", "emergency", "marac",
                "tenure", "landlord_permission", "consent", "client", "safe_contact", "repeat_of", "timeline"):
        assert key in case
    assert case["consent"] == {"police": True, "contractor": False, "landlord": False, "county": False}
    assert case["client"] | {} == {**case["client"], "name": "Alex Example", "dob": "1990-05-01",
                                   "address": "1 Sample Road, Northmoor", "postcode": "ZZ1 2AB",
                                   "do_not_disclose": True}
    assert case["safe_contact"] == {"call": False, "text": True, "voicemail": False, "email": False,
                                    "post": False}
    assert (case["marac"], case["tenure"], case["landlord_permission"]) == (True, "council", None)
    assert [e["kind"] for e in case["timeline"]] == ["received", "consent"]
    assert case["timeline"][0]["by"] == "test.coordinator"
    assert "perpetrator" not in case


@freeze_time(TODAY)
def test_referral_show_table(cli, scheme):
    cli("referral", "add", *referral_args(**{"--do-not-disclose": True, "--address": "1 Sample Road"}))
    out = cli("referral", "show", "TH-2026-0001", "--format", "table").stdout
    assert "TH-2026-0001" in out
    assert "DO NOT DISCLOSE" in out
    assert "Timeline" in out


@freeze_time(TODAY)
def test_referral_show_with_perpetrator_is_audited(cli, scheme):
    cli("referral", "add", *referral_args(**{"--perpetrator-name": "Lee Perpetratorexample"}))
    case = cli.json("referral", "show", "TH-2026-0001", "--with-perpetrator")
    assert case["perpetrator"]["name"] == "Lee Perpetratorexample"
    audit = cli.json("audit", "--ref", "TH-2026-0001")
    assert [a["action"] for a in audit][:2] == ["referral.show_perpetrator", "referral.show"]


def test_referral_show_unknown_case_exit_1(cli, scheme):
    result = cli("referral", "show", "TH-2026-0999")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: there is no case 'TH-2026-0999'")


@freeze_time(TODAY)
def test_referral_move_and_its_messages(cli, scheme):
    cli("referral", "add", *referral_args())
    result = cli("referral", "move", "TH-2026-0001", "triage")
    # A high-risk case: its fitting target (48 hours from 18/11) shows from the start, before the survey's.
    assert result.stdout == "TH-2026-0001 is now triage.\nNext due: measures fitted by 20/11/2026.\n"
    refused = cli("referral", "move", "TH-2026-0001", "survey")
    assert refused.exit_code == 1
    assert "no consent to share with the police" in refused.stderr
    missing = cli("referral", "move", "TH-2026-0001", "declined")
    assert missing.exit_code == 2
    assert "moving to declined needs --reason" in missing.stderr
    done = cli("referral", "move", "TH-2026-0001", "declined", "--reason", "out_of_area")
    assert done.stdout == "TH-2026-0001 is now declined.\n"


@freeze_time(TODAY)
def test_referral_edit_note_consent_landlord(cli, scheme):
    cli("referral", "add", *referral_args())
    assert cli("referral", "edit", "TH-2026-0001", "--tenure", "private_rented",
               "--landlord", "Example Lettings").stdout == "Updated TH-2026-0001: landlord_name, tenure.\n"
    assert cli("referral", "note", "TH-2026-0001", "Left a message").stdout == "Noted on TH-2026-0001.\n"
    assert cli("referral", "consent", "TH-2026-0001", "--scope", "police,contractor").stdout == (
        "TH-2026-0001 consent: police, contractor.\n")
    assert cli("referral", "landlord", "TH-2026-0001", "--permission", "requested").stdout == (
        "TH-2026-0001: landlord permission requested.\n")
    bad = cli("referral", "landlord", "TH-2026-0001", "--permission", "maybe")
    assert bad.exit_code == 2
    edit_nothing = cli("referral", "edit", "TH-2026-0001")
    assert edit_nothing.exit_code == 2
    assert "nothing to change" in edit_nothing.stderr


def test_codes_list_measure_json(cli, scheme):
    measures = cli.json("codes", "list", "measure")
    assert len(measures) >= 20
    door = next(m for m in measures if m["code"] == "door_alarm")
    assert door == {"code": "door_alarm", "label": "Door alarm", "retired": False, "category": "alarms",
                    "kind": "equipment", "removable": True, "unit_cost_pence": 1500}


def test_codes_list_every_list_exists(cli, scheme):
    names = [row["list"] for row in cli.json("codes", "list")]
    for name in ("district", "route", "risk", "tenure", "gender", "ethnicity", "relationship", "whereabouts",
                 "decline_reason", "withdrawal_reason", "outcome_reason", "fund_source", "measure", "contractor"):
        assert name in names
        assert cli.json("codes", "list", name), name


def test_codes_add_and_retire(cli, scheme):
    assert cli("codes", "add", "route", "fire_service", "Fire and rescue", "--county",
               "other_professional").stdout == "Added route fire_service: Fire and rescue.\n"
    row = next(r for r in cli.json("codes", "list", "route") if r["code"] == "fire_service")
    assert row == {"code": "fire_service", "label": "Fire and rescue", "retired": False,
                   "county_code": "other_professional"}
    assert cli("codes", "retire", "route", "fire_service").stdout == "Retired route fire_service.\n"
    assert next(r for r in cli.json("codes", "list", "route") if r["code"] == "fire_service")["retired"] is True


@pytest.mark.parametrize("code", ["Fire", "fire-service", "fire service", "é"])
def test_codes_add_bad_code_is_exit_2(cli, scheme, code):
    result = cli("codes", "add", "route", code, "Fire")
    assert result.exit_code == 2
    assert "Invalid value for 'CODE'" in result.stderr


def test_codes_add_measure_needs_its_details(cli, scheme):
    result = cli("codes", "add", "measure", "gate_lock", "Gate lock")
    assert result.exit_code == 2
    assert "a new measure needs --category, --kind, --cost" in result.stderr
    ok = cli("codes", "add", "measure", "gate_lock", "Gate lock", "--category", "locks", "--kind", "works",
             "--permanent", "--cost", "£45")
    assert ok.exit_code == 0, ok.stderr
    gate = next(m for m in cli.json("codes", "list", "measure") if m["code"] == "gate_lock")
    assert (gate["kind"], gate["removable"], gate["unit_cost_pence"]) == ("works", False, 4500)


def test_codes_unknown_list(cli, scheme):
    result = cli("codes", "list", "colours")
    assert result.exit_code == 2
    assert "'colours' is not a code list" in result.stderr


def test_settings_show_and_set(cli, scheme):
    settings = {s["key"]: s for s in cli.json("settings", "show")}
    assert settings["ref_prefix"]["value"] == "TH"
    assert settings["target_fitted_high"]["value"] == "48 hours"
    assert "demo" not in settings
    assert cli("settings", "set", "household_cap", "£1,500").stdout == "household_cap = £1,500.00\n"
    assert cli("settings", "set", "eligible_risks", "high").stdout == "eligible_risks = high\n"
    assert cli("settings", "set", "target_survey", "48 hours").stdout == "target_survey = 48 hours\n"
    bad = cli("settings", "set", "eligible_risks", "extreme")
    assert bad.exit_code == 2
    assert "unknown risk 'extreme'" in bad.stderr
    unknown = cli("settings", "set", "colour", "blue")
    assert unknown.exit_code == 1
    assert "there is no setting 'colour'" in unknown.stderr


def test_db_path_and_check(cli, db_path, scheme):
    assert cli("db", "path").stdout == f"{db_path}\n"
    result = cli("db", "check")
    assert result.exit_code == 0
    assert "ok    integrity: ok" in result.stdout
    assert "ok    audit log: intact" in result.stdout


def test_db_backup_is_private_and_checked(cli, tmp_path, scheme):
    dest = tmp_path / "backup.db"
    result = cli("db", "backup", str(dest))
    assert result.stdout == f"Backed up to {dest} (checked).\n"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    again = cli("db", "backup", str(dest))
    assert again.exit_code == 1
    assert "already exists" in again.stderr


def test_version_and_help(cli):
    from thcli import __version__

    assert cli("--version").stdout == f"thcli {__version__}\n"
    assert "referral" in cli("--help").stdout


def test_audit_lists_changes_without_personal_values(cli, scheme):
    with freeze_time(TODAY):
        cli("referral", "add", *referral_args(**{"--name": "Zebedee Uniquename"}))
    rows = cli.json("audit")
    assert [r["action"] for r in rows] == ["referral.add", "init"]
    assert "Zebedee" not in json.dumps(rows)
    assert cli("audit", "--verify").stdout.startswith("The audit log is intact (2 entries).")


@freeze_time(TODAY)
def test_square_brackets_in_names_and_notes_are_printed_as_typed(cli, scheme):
    """Rich markup is never read from data: '[/]' in a name used to crash the table."""
    cli("referral", "add", *referral_args(**{"--name": "Alex [/] Example", "--note": "call [red]never[/red] after 5"}))
    table = cli("referral", "list", "--format", "table")
    assert table.exit_code == 0 and "Alex [/] Example" in table.stdout
    shown = cli("referral", "show", "TH-2026-0001", "--format", "table")
    assert shown.exit_code == 0
    assert "Alex [/] Example" in shown.stdout and "call [red]never[/red] after 5" in shown.stdout
