"""Code lists that can be corrected: `codes edit` and `codes restore` (issue 14, item 5)."""

from __future__ import annotations

import pytest

from thcli import codes
from thcli.errors import BadInput, NotAllowed, NotFound

# --- domain ---------------------------------------------------------------------------------------------------------


def test_edit_changes_a_measures_label_and_cost_and_says_what_changed(db):
    changed = codes.edit(db, "measure", "door_viewer", label="Door viewer (wide angle)", unit_cost_pence=4000,
                         by="tester")
    assert changed == [
        {"field": "label", "before": "Door viewer (spy hole)", "after": "Door viewer (wide angle)"},
        {"field": "unit_cost_pence", "before": 3500, "after": 4000},
    ]
    assert [codes.describe_change(c) for c in changed] == [
        "label Door viewer (spy hole) → Door viewer (wide angle)", "unit cost £35.00 → £40.00"]
    row = next(r for r in codes.list_codes(db, "measure") if r["code"] == "door_viewer")
    assert (row["label"], row["unit_cost_pence"], row["category"], row["kind"]) == (
        "Door viewer (wide angle)", 4000, "doors", "works")
    assert [a["detail"] for a in db.query("SELECT detail FROM audit WHERE action = 'codes.edit'")] == [
        "measure:door_viewer:label,unit_cost_pence"]


def test_edit_a_measures_category_kind_and_removable(db):
    changed = codes.edit(db, "measure", "door_chain", category="locks", kind="equipment", removable=True, by="t")
    assert [codes.describe_change(c) for c in changed] == [
        "category doors → locks", "kind works → equipment", "removable permanent → removable"]


def test_edit_a_contractors_address_phone_email_and_kind(db):
    codes.add(db, "contractor", "acme", "Acme Locks", by="t")
    changed = codes.edit(db, "contractor", "acme", address="1 Example Road, Millbrook, ZZ1 1AA",
                         phone="01632 960123", email="orders@acme.example", kind="in_house", by="t")
    assert [c["field"] for c in changed] == ["address", "email", "phone", "in_house"]
    row = next(r for r in codes.list_codes(db, "contractor") if r["code"] == "acme")
    assert (row["address"], row["phone"], row["email"], row["in_house"]) == (
        "1 Example Road, Millbrook, ZZ1 1AA", "01632 960123", "orders@acme.example", True)


def test_edit_the_county_code_of_a_route(db):
    changed = codes.edit(db, "route", "police", county_code="other_professional", by="t")
    assert changed == [{"field": "county_code", "before": "police", "after": "other_professional"}]


def test_edit_with_nothing_new_changes_nothing_and_audits_nothing(db):
    assert codes.edit(db, "measure", "door_viewer", unit_cost_pence=3500, by="t") == []
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'codes.edit'").fetchone()[0] == 0


@pytest.mark.parametrize(("list_name", "options", "message"), [
    ("route", {"unit_cost_pence": 100}, "--cost: it applies only to the measure list, not to route"),
    ("measure", {"address": "1 Road"}, "--address: it applies only to the contractor list, the assessor list and "
                                       "the district list, not to measure"),
    ("contractor", {"letterhead": "Example Council"}, "--letterhead: it applies only to the district list, not to "
                                                      "contractor"),
    ("district", {"kind": "works"}, "--kind: it applies only to the measure list (equipment or works), the "
                                    "contractor list (external or in_house) and the assessor list (police, scheme "
                                    "or contractor), not to district"),
    ("measure", {"county_code": "idva"}, "--county: it applies only to the lists route, risk, tenure, gender, "
                                         "ethnicity, not to measure"),
    ("measure", {"kind": "gadget"}, "--kind: 'gadget' is not a kind of measure: use equipment or works"),
    ("contractor", {"kind": "works"}, "--kind: 'works' is not a kind of contractor: use external or in_house"),
    ("route", {"county_code": "bus"}, "--county: 'bus' is not a county route code: use one of self, marac, "
                                      "police, idva, court, housing, social_care, health, other_professional"),
    ("measure", {"unit_cost_pence": -1}, "--cost: a unit cost cannot be negative"),
    ("route", {}, "nothing to change: give --label or --county"),
    ("measure", {}, "nothing to change: give --label, --category, --kind, --removable or --cost"),
    ("district", {}, "nothing to change: give --label, --address, --email, --phone or --letterhead"),
])
def test_edit_refuses_what_does_not_apply_to_the_list(db, list_name, options, message):
    code = {"route": "police", "measure": "door_viewer", "district": "northmoor", "contractor": "in_house"}[list_name]
    with pytest.raises(BadInput) as error:
        codes.edit(db, list_name, code, by="t", **options)
    assert error.value.message == message
    assert error.value.exit_code == 2


def test_edit_an_unknown_code_is_not_found(db):
    with pytest.raises(NotFound) as error:
        codes.edit(db, "route", "bus", label="Bus", by="t")
    assert error.value.message == ("there is no route code 'bus' (see `thcli codes list route`); add it with "
                                   "`thcli codes add route bus LABEL`")


def test_a_retired_code_can_be_edited_and_stays_retired(db):
    codes.retire(db, "route", "court", by="t")
    codes.edit(db, "route", "court", label="Court (family)", by="t")
    assert codes.get(db, "route", "court") == {"code": "court", "label": "Court (family)", "retired": True,
                                               "county_code": "court"}


def test_restore_brings_a_retired_code_back_as_it_was(db):
    codes.edit(db, "measure", "door_viewer", unit_cost_pence=4000, by="t")
    codes.retire(db, "measure", "door_viewer", by="t")
    with pytest.raises(BadInput):
        codes.require(db, "measure", "door_viewer")
    row = codes.restore(db, "measure", "door_viewer", by="t")
    assert (row["retired"], row["unit_cost_pence"], row["kind"]) == (False, 4000, "works")
    assert codes.require(db, "measure", "door_viewer") == "door_viewer"
    assert db.conn.execute("SELECT detail FROM audit WHERE action = 'codes.restore'").fetchone()[0] == (
        "measure:door_viewer")


def test_restore_refuses_a_code_in_use_or_unknown(db):
    with pytest.raises(NotAllowed) as error:
        codes.restore(db, "route", "court", by="t")
    assert error.value.message == ("route 'court' is not retired: it is in use as it is (change it with "
                                   "`thcli codes edit route court`)")
    with pytest.raises(NotFound) as missing:
        codes.restore(db, "route", "bus", by="t")
    assert missing.value.message == "there is no route code 'bus' (see `thcli codes list route`)"


def test_adding_a_retired_measure_again_brings_it_back_with_its_details(db):
    # This ended in "NOT NULL constraint failed: measure_catalogue.category" before.
    codes.retire(db, "measure", "door_viewer", by="t")
    row = codes.add(db, "measure", "door_viewer", "Door viewer", by="t")
    assert (row["restored"], row["label"], row["category"], row["kind"], row["unit_cost_pence"]) == (
        True, "Door viewer", "doors", "works", 3500)
    codes.retire(db, "measure", "door_viewer", by="t")
    again = codes.add(db, "measure", "door_viewer", "Door viewer", unit_cost_pence=3900, by="t")
    assert again["unit_cost_pence"] == 3900


def test_adding_a_retired_contractor_again_keeps_it_in_house(db):
    codes.add(db, "contractor", "acme", "Acme Locks", by="t")
    codes.retire(db, "contractor", "in_house", by="t")
    row = codes.add(db, "contractor", "in_house", "Council repairs", by="t")
    assert (row["restored"], row["in_house"], row["label"]) == (True, True, "Council repairs")


def test_adding_a_code_in_use_says_how_to_change_it(db):
    with pytest.raises(NotAllowed) as error:
        codes.add(db, "route", "court", "Court", by="t")
    assert error.value.message == ("route 'court' already exists (Court): change it with "
                                   "`thcli codes edit route court`, or choose another code")


# --- command line ---------------------------------------------------------------------------------------------------


def test_cli_edit_says_what_changed(cli, db):
    result = cli("codes", "edit", "measure", "door_viewer", "--cost", "40", "--label", "Door viewer (wide angle)")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Changed measure door_viewer: label Door viewer (spy hole) → Door viewer (wide angle); unit cost £35.00 → "
        "£40.00.\nLines recorded from now on take it; lines already recorded keep theirs.\n")
    again = cli("codes", "edit", "measure", "door_viewer", "--cost", "40")
    assert again.stdout == "Nothing changed: measure door_viewer already has those details.\n"
    contractor = cli("codes", "edit", "contractor", "in_house", "--address", "Depot, 2 Example Way, ZZ1 1AB",
                     "--phone", "01632 960000")
    assert contractor.stdout == ("Changed contractor in_house: address (none) → Depot, 2 Example Way, ZZ1 1AB; "
                                 "phone (none) → 01632 960000.\n")


@pytest.mark.parametrize(("args", "code", "message"), [
    (["route", "police", "--cost", "10"], 2, "Error: --cost: it applies only to the measure list, not to route\n"),
    (["measure", "door_viewer", "--address", "x"], 2,
     "Error: --address: it applies only to the contractor list, the assessor list and the district list, not "
     "to measure\n"),
    (["route", "police"], 2, "Error: nothing to change: give --label or --county\n"),
    (["route", "bus", "--label", "Bus"], 1,
     "Error: there is no route code 'bus' (see `thcli codes list route`); add it with `thcli codes add route bus "
     "LABEL`\n"),
    (["colours", "red", "--label", "Red"], 2,
     "Error: 'colours' is not a code list: use one of " + ", ".join(codes.LISTS) + "\n"),
])
def test_cli_edit_refusals(cli, db, args, code, message):
    result = cli("codes", "edit", *args)
    assert (result.exit_code, result.stderr) == (code, message)


def test_cli_restore_and_re_add(cli, db):
    assert cli("codes", "retire", "measure", "door_viewer").exit_code == 0
    again = cli("codes", "add", "measure", "door_viewer", "Door viewer")
    assert (again.exit_code, again.stdout) == (0, "Restored measure door_viewer (it was retired): Door viewer.\n")
    assert cli("codes", "retire", "route", "court").exit_code == 0
    restored = cli("codes", "restore", "route", "court")
    assert (restored.exit_code, restored.stdout) == (0, "Restored route court: Court.\n")
    twice = cli("codes", "restore", "route", "court")
    assert (twice.exit_code, twice.stderr) == (
        1, "Error: route 'court' is not retired: it is in use as it is (change it with `thcli codes edit route "
           "court`)\n")


# --- clearing a detail -------------------------------------------------------------------------------------------


def test_clear_empties_a_detail_and_says_so(db):
    codes.edit(db, "contractor", "in_house", address="Depot, 2 Example Way", phone="01632 960000", by="t")
    changed = codes.edit(db, "contractor", "in_house", clear=["address", "phone"], by="t")
    assert [codes.describe_change(c) for c in changed] == [
        "address Depot, 2 Example Way → (none)", "phone 01632 960000 → (none)"]
    row = next(c for c in codes.list_codes(db, "contractor") if c["code"] == "in_house")
    assert (row["address"], row["phone"], row["in_house"]) == (None, None, True)
    assert codes.edit(db, "contractor", "in_house", clear=["address"], by="t") == []


@pytest.mark.parametrize(("list_name", "code", "options", "message"), [
    ("contractor", "in_house", {"clear": ["cost"]},
     "--clear: 'cost' is not a detail that can be cleared: use address, email, phone or letterhead"),
    ("contractor", "in_house", {"clear": ["letterhead"]},
     "--clear: contractor has no letterhead to clear (--letterhead applies only to the district list)"),
    ("route", "police", {"clear": ["address"]},
     "--clear: route has no address to clear (--address applies only to the contractor list, the assessor list "
     "and the district list)"),
    ("contractor", "in_house", {"clear": ["email"], "email": "works@example.org"},
     "--clear: --email gives the email and --clear email empties it: give one of them"),
])
def test_clear_refuses_what_the_list_does_not_have(db, list_name, code, options, message):
    with pytest.raises(BadInput) as caught:
        codes.edit(db, list_name, code, by="t", **options)
    assert caught.value.message == message
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'codes.edit'").fetchone()[0] == 0


def test_cli_clear_takes_a_detail_in_any_case_and_names_the_details_it_takes(cli, db):
    assert cli("codes", "edit", "contractor", "in_house", "--phone", "01632 960000").exit_code == 0
    result = cli("codes", "edit", "contractor", "in_house", "--clear", " Phone ")
    assert (result.exit_code, result.stdout) == (0, "Changed contractor in_house: phone 01632 960000 → (none).\n")
    wrong = cli("codes", "edit", "contractor", "in_house", "--clear", "Cost")
    assert (wrong.exit_code, wrong.stderr) == (
        2, "Error: --clear: 'cost' is not a detail that can be cleared: use address, email, phone or letterhead\n")


def test_cli_clear_a_districts_letterhead(cli, db):
    result = cli("codes", "edit", "district", "northmoor", "--letterhead", "Northmoor Borough Council")
    assert result.exit_code == 0, result.stderr
    result = cli("codes", "edit", "district", "northmoor", "--clear", "letterhead")
    assert (result.exit_code, result.stdout) == (
        0, "Changed district northmoor: letterhead Northmoor Borough Council → (none).\n")
    result = cli("codes", "edit", "district", "northmoor", "--clear", "cost")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --clear: 'cost' is not a detail that can be cleared: use address, email, phone or letterhead\n")


# --- the README's table of options ------------------------------------------------------------------------------

#: What the README adds to an option's lists, in words (the lists themselves come from codes.OPTIONS).
README_NOTES = {
    "--county": " (the county export's code)",
    "--in-house": " (`codes add`: the council's own team)",
    "--address": " (a district's go on its letterhead)",
    "--letterhead": ": the name its letters are headed with",
}
#: How the README writes an option that has a negative form.
README_FLAGS = {"--removable": "--removable/--permanent"}


def options_table() -> str:
    """The README's table of `codes add`/`codes edit` options, built from codes.OPTIONS (options that apply to
    the same lists share a row, in the order of codes.OPTIONS)."""
    rows: dict[tuple[str, ...], list[str]] = {}
    for option, (_field, lists) in codes.OPTIONS.items():
        rows.setdefault(lists, []).append(option)
    lines = ["| option | lists |", "|---|---|", "| `--label` | every list |"]
    for lists, options in rows.items():
        if options == ["--kind"]:
            shown = ", ".join(f"{name} ({', '.join(f'`{kind}`' for kind in codes.KINDS[name])})" for name in lists)
        else:
            shown = ", ".join(lists)
        names = ", ".join(f"`{README_FLAGS.get(option, option)}`" for option in options)
        lines.append(f"| {names} | {shown}{README_NOTES.get(options[0], '')} |")
    return "\n".join(lines) + "\n"


def test_the_readme_table_of_code_options_is_codes_options():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert options_table() in readme, options_table()
