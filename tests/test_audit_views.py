"""Bulk views of personal data are audited: what filter, how many cases, never a personal value (issue 12, item 10)."""

from __future__ import annotations

from freezegun import freeze_time

from tests.conftest import referral_args


def _last(cli, count: int = 1) -> list[dict]:
    rows = cli.json("audit")
    return [{"action": r["action"], "detail": r["detail"], "ref": r["ref"]} for r in rows[:count]]


@freeze_time("2026-11-20 10:00:00")
def test_referral_list_due_and_the_ledger_each_leave_one_audit_row_without_personal_values(cli, db):
    assert cli("referral", "add", *referral_args(**{"--name": "Quentin Zebedee-Example"})).exit_code == 0
    assert cli("referral", "add", *referral_args(**{"--name": "Sam Example", "--district": "southvale"})).exit_code == 0
    assert cli("budget", "fund", "add", "Example OPCC", "--year", "2026/27", "--source", "opcc",
               "--amount", "5000").exit_code == 0
    assert cli("budget", "contribution", "TH-2026-0001", "--from", "survivor", "--amount", "20").exit_code == 0

    assert cli("referral", "list", "--search", "Zebedee", "--format", "csv").exit_code == 0
    assert _last(cli) == [{"action": "referral.list", "ref": None,
                           "detail": "search (words not recorded), limit=50; 1 case shown as csv"}]
    assert cli("referral", "list", "--status", "new", "--district", "southvale", "--format", "json").exit_code == 0
    assert _last(cli)[0]["detail"] == "status=new, district=southvale, limit=50; 1 case shown as json"
    assert cli("referral", "list", "--format", "table").exit_code == 0
    assert _last(cli)[0]["detail"] == "limit=50; 2 cases shown as table"

    assert cli("due", "--format", "json").exit_code == 0
    assert _last(cli)[0] == {"action": "due.list", "ref": None, "detail": "within=5; 2 cases shown as json"}
    assert cli("due", "--limit", "1", "--format", "table").exit_code == 0
    assert _last(cli)[0]["detail"] == "within=5, limit=1; 1 case shown as table"

    assert cli("budget", "ledger", "--fund", "example_opcc_2026_27", "--format", "csv").exit_code == 0
    assert _last(cli)[0] == {"action": "budget.ledger", "ref": None,
                             "detail": "fund=example_opcc_2026_27, entries=2; 1 case shown as csv"}

    everything = " ".join(str(r.get("detail")) + str(r.get("ref")) for r in cli.json("audit"))
    assert "Zebedee" not in everything and "Quentin" not in everything and "ZZ1" not in everything


def test_each_export_is_audited_once_with_its_period_and_count(cli, db, tmp_path):
    assert cli("referral", "add", *referral_args()).exit_code == 0
    # Only a case whose client consents to county sharing is in the case extract (issue 11).
    assert cli("referral", "consent", "TH-2026-0001", "--scope", "county").exit_code == 0
    before = len(cli.json("audit"))
    assert cli("export", "cases", "--year", "2026/27", "--out", str(tmp_path / "cases.csv")).exit_code == 0
    assert cli("export", "summary", "--year", "2026/27").exit_code == 0
    assert cli("person", "export", "TH-2026-0001", "--out", str(tmp_path / "sar")).exit_code == 0
    rows = cli.json("audit")
    assert len(rows) == before + 3
    actions = [r["action"] for r in rows[:3]]
    assert actions == ["person.export", "export.summary", "export.cases"]
    assert "1 rows" in rows[2]["detail"] and "period 2026/27" in rows[2]["detail"]
    assert rows[0]["detail"].startswith("1 case; ")
