"""Ending a case with money open on it (issue 15), pledges not yet received in `budget status` and `report
summary`, and the landlord's postal address: domain, then CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from tests.test_surveys import add_fund, counts, new_case, surveyed_case
from thcli import budget, measures, referrals, report, workflow
from thcli.errors import BadInput, NotAllowed
from thcli.periods import Period

TODAY = "2026-11-20"
D19, D20 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)
YEAR = Period("2026/27", dt.date(2026, 4, 1), dt.date(2027, 3, 31))


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(TODAY):
        yield


def fitted(db, **overrides) -> str:
    """A fitted case: a lock change (£85.00) and three window alarms (£24.00), in-house, not yet paid."""
    ref = surveyed_case(db, **overrides)
    measures.approve(db, ref, [], fund=add_fund(db), on=D19, by="t")
    measures.order(db, ref, [], contractor="in_house", on=D19, by="t")
    measures.fitted(db, ref, [], on=D20, by="t")
    return ref


def test_closing_with_an_unpaid_commitment_and_pledge_lists_them_and_how_to_settle(db):
    ref = fitted(db)
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=5_000, pledged=True, by="t")
    before = counts(db)
    with pytest.raises(NotAllowed) as caught:
        workflow.move(db, ref, "closed", reason="moved_on", by="t")
    assert caught.value.message == (
        "TH-2026-0001 has money outstanding: £85.00 committed and not yet paid on line 1 (example_opcc_2026_27); "
        "£24.00 committed and not yet paid on line 2 (example_opcc_2026_27); £50.00 pledged by the landlord and "
        "not yet received (example_opcc_2026_27). Before it is closed, pay the invoice (`thcli budget pay "
        "TH-2026-0001 --fitted --invoice NO`); record the landlord's money when it comes (`thcli budget "
        "contribution TH-2026-0001 --from landlord --amount 50.00 --fund example_opcc_2026_27`) or cancel the "
        "pledge (`thcli budget correct 4 --reason TEXT`). Or end it anyway with --force REASON (recorded)")
    assert counts(db) == before
    # Each fix it names puts it right.
    budget.pay_invoice(db, ref, None, internal=True, by="t")
    budget.add_contribution(db, ref, contributor="landlord", amount_pence=5_000, fund_text="example_opcc_2026_27",
                            by="t")
    assert workflow.move(db, ref, "closed", reason="moved_on", by="t")["status"] == "closed"


def test_a_cancelled_pledge_is_no_longer_outstanding(db):
    ref = new_case(db)
    add_fund(db)
    entry = budget.add_contribution(db, ref, contributor="survivor", amount_pence=2_000, pledged=True,
                                    by="t").entries[0]["id"]
    assert budget.outstanding(db, 1)["pledges"][0]["outstanding_pence"] == 2_000
    budget.correct(db, entry, reason="The client cannot afford it", by="t")
    assert budget.outstanding(db, 1) == {"commitments": [], "pledges": []}
    assert workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")["status"] == "withdrawn"


def test_every_ending_checks_the_money_and_approved_lines_are_declined_first(db):
    ref = surveyed_case(db)
    measures.approve(db, ref, [], fund=add_fund(db), on=D19, by="t")
    with pytest.raises(NotAllowed) as caught:
        workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")
    assert ("Before it is withdrawn, decline the lines that will not be fitted (`thcli measures decline "
            "TH-2026-0001 1 2 --reason CODE`)") in caught.value.message
    measures.decline(db, ref, [1, 2], reason="other", by="t")
    assert workflow.move(db, ref, "withdrawn", reason="client_withdrew", by="t")["status"] == "withdrawn"


def test_force_ends_it_and_records_what_was_outstanding_and_why(db):
    ref = fitted(db)
    case = workflow.move(db, ref, "closed", reason="moved_on", force="Contractor ceased trading; invoice never came",
                         by="Jo Coordinator")
    assert case["status"] == "closed"
    assert db.conn.execute("SELECT detail, by FROM events WHERE kind = 'money'").fetchall() == [(
        "closed with money outstanding (£85.00 committed and not yet paid on line 1 (example_opcc_2026_27); £24.00 "
        "committed and not yet paid on line 2 (example_opcc_2026_27)): Contractor ceased trading; invoice never "
        "came", "Jo Coordinator")]
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'referral.force'").fetchone()[0] == 1


def test_force_when_nothing_is_outstanding_records_nothing(db):
    ref = new_case(db)
    workflow.move(db, ref, "withdrawn", reason="client_withdrew", force="just in case", by="t")
    assert db.conn.execute("SELECT count(*) FROM audit WHERE action = 'referral.force'").fetchone()[0] == 0


def test_force_is_only_for_ending_a_case(db, cli):
    ref = new_case(db)
    with pytest.raises(BadInput) as caught:
        workflow.move(db, ref, "triage", force="no reason to", by="t")
    assert caught.value.message == ("--force: it is for ending a case (closed, declined, withdrawn, no_contact) "
                                    "with money still open on it")
    result = cli("referral", "move", ref, "triage", "--force", "no reason to")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --force: it is for ending a case (closed, declined, withdrawn, no_contact) with money still "
           "open on it\n")
    assert db.conn.execute("SELECT status FROM cases WHERE ref = ?", [ref]).fetchone() == ("new",)


def test_cli_close_needs_force_with_money_outstanding(db, cli):
    ref = fitted(db)
    result = cli("referral", "move", ref, "closed", "--reason", "moved_on")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: TH-2026-0001 has money outstanding: £85.00 committed and not yet paid "
                                    "on line 1 (example_opcc_2026_27)")
    assert result.stderr.endswith("Or end it anyway with --force REASON (recorded)\n")
    result = cli("referral", "move", ref, "closed", "--reason", "moved_on", "--force", "Invoice written off")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("TH-2026-0001 is now closed.\n")


def test_a_part_payment_on_a_fitted_line_leaves_the_rest_open_so_closing_lists_it(db):
    # A part payment released the line's whole commitment: the fund showed £35.00 too much and the case closed.
    ref = fitted(db)
    budget.pay(db, ref, 2, amount_pence=2_400, internal=True, by="t")
    recorded = budget.pay(db, ref, 1, amount_pence=5_000, invoice="P-1", by="t")
    assert [(e["kind"], e["amount_pence"]) for e in recorded.entries] == [("payment", -5_000), ("release", 5_000)]
    with pytest.raises(NotAllowed) as caught:
        workflow.move(db, ref, "closed", reason="moved_on", by="t")
    assert caught.value.message.startswith(
        "TH-2026-0001 has money outstanding: £35.00 committed and not yet paid on line 1 (example_opcc_2026_27). "
        "Before it is closed, pay the invoice (`thcli budget pay TH-2026-0001 --fitted --invoice NO`)")
    paid = budget.pay_invoice(db, ref, None, invoice="P-2", by="t")
    assert [(p.line, p.amount_pence, p.released_pence) for p in paid.lines] == [(1, 3_500, 3_500)]
    assert workflow.move(db, ref, "closed", reason="moved_on", by="t")["status"] == "closed"


def test_cli_a_part_payment_on_a_fitted_line_releases_only_what_is_paid(db, cli):
    ref = fitted(db)
    result = cli("budget", "pay", ref, "1", "--amount", "50", "--invoice", "P-1")
    assert result.exit_code == 0, result.stderr
    assert "; £50.00 of its commitment released (ledger entries" in result.stdout
    assert cli("referral", "move", ref, "closed", "--reason", "moved_on").exit_code == 1
    result = cli("budget", "pay", ref, "--fitted", "--invoice", "P-2")
    assert result.exit_code == 0, result.stderr
    assert "£35.00 from example_opcc_2026_27; £35.00 of its commitment released" in result.stdout


# --- pledges not yet received --------------------------------------------------------------------------------


def test_budget_status_and_report_summary_list_pledges_not_yet_received(db, cli):
    add_fund(db)
    first = new_case(db)
    second = new_case(db, name="Sam Sample", postcode="ZZ1 3CD")
    budget.add_contribution(db, first, contributor="landlord", amount_pence=15_000, pledged=True,
                            on=dt.date(2026, 11, 2), by="t")
    budget.add_contribution(db, first, contributor="landlord", amount_pence=5_000, by="t")  # part received
    budget.add_contribution(db, second, contributor="survivor", amount_pence=2_000, pledged=True, by="t")
    budget.add_contribution(db, second, contributor="survivor", amount_pence=2_000, by="t")  # all received
    status = budget.status(db)
    assert [(p["ref"], p["contributor"], p["outstanding_pence"], p["pledged_on"]) for p in status["pledges"]] == [
        (first, "landlord", 10_000, "2026-11-02")]
    assert report.summary(db, YEAR)["pledges"] == {"outstanding_pence": 10_000, "cases": [
        {"ref": first, "contributor": "landlord", "fund": "example_opcc_2026_27", "pledged_on": "2026-11-02",
         "outstanding_pence": 10_000}]}
    table = " ".join(cli("budget", "status", "--format", "table").stdout.split())
    assert "Pledged, not yet received Case From Fund Since Amount" in table
    assert "TH-2026-0001 landlord example_opcc_2026_27 02/11/2026 £100.00" in table
    assert ("£100.00 pledged and not yet received: record it with `thcli budget contribution REF --from WHO "
            "--amount MONEY` when it comes.") in table
    summary = cli("report", "summary", "--format", "table").stdout
    assert "Pledged in the period, not yet received (£100.00)" in summary
    assert cli.json("report", "summary")["pledges"]["outstanding_pence"] == 10_000


# --- the landlord's postal address ---------------------------------------------------------------------------


def test_the_landlords_address_is_recorded_on_the_case(db):
    ref = new_case(db, tenure="private_rented", landlord_name="Example Lettings")
    case = referrals.set_landlord(db, ref, address="Lettings Office, 2 Sample Street, Millbrook",
                                  postcode="zz1 9ll", by="t")
    assert (case["landlord_address"], case["landlord_postcode"]) == (
        "Lettings Office, 2 Sample Street, Millbrook", "ZZ1 9LL")
    assert db.conn.execute("SELECT detail FROM events ORDER BY id DESC").fetchone()[0] == (
        "the landlord's address recorded")


@pytest.mark.parametrize("options, error, message", [
    ({"address": "2 Sample Street"}, BadInput, "--postcode: the landlord's address needs its postcode too"),
    ({"postcode": "ZZ1 9LL"}, BadInput, "--address: the landlord's address needs its postcode too"),
    ({"address": " ", "postcode": "ZZ1 9LL"}, BadInput, "--address: give the landlord's postal address"),
    ({}, BadInput, "say what to record: --permission STATE, or the landlord's --address TEXT and --postcode"),
])
def test_bad_landlord_addresses_are_refused(db, options, error, message):
    ref = new_case(db, tenure="private_rented")
    with pytest.raises(error) as caught:
        referrals.set_landlord(db, ref, by="t", **options)
    assert caught.value.message.startswith(message)


def test_an_owner_occupier_has_no_landlord_to_write_to(db):
    ref = new_case(db)
    with pytest.raises(NotAllowed, match=r"the home is not rented \(tenure owner\), so there is no landlord to write "
                                         r"to; set the tenure first"):
        referrals.set_landlord(db, ref, address="2 Sample Street", postcode="ZZ1 9LL", by="t")


def test_cli_referral_landlord_address(db, cli):
    ref = new_case(db, tenure="private_rented", landlord_name="Example Lettings")
    result = cli("referral", "landlord", ref, "--address", "Lettings Office, 2 Sample Street, Millbrook",
                 "--postcode", "ZZ1 9LL", "--permission", "requested")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("TH-2026-0001: landlord permission requested.\n"
                             "TH-2026-0001: the landlord's address is Lettings Office, 2 Sample Street, Millbrook, "
                             "ZZ1 9LL.\n")
    assert cli.json("referral", "show", ref)["landlord"] == {
        "name": "Example Lettings", "email": None, "phone": None,
        "address": "Lettings Office, 2 Sample Street, Millbrook", "postcode": "ZZ1 9LL"}
    result = cli("referral", "landlord", ref, "--postcode", "nonsense")
    assert result.exit_code == 2


def test_cli_a_final_invoice_below_the_cost_lets_the_case_close(db, cli):
    ref = fitted(db)
    result = cli("budget", "pay", ref, "--line", "1:80", "--line", "2:24", "--invoice", "P-1", "--final")
    assert result.exit_code == 0, result.stderr
    assert "£80.00 from example_opcc_2026_27; £85.00 of its commitment released" in result.stdout
    assert cli("referral", "move", ref, "closed", "--reason", "moved_on").exit_code == 0

