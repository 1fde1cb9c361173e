"""Golden files: a small hand-written scheme exports, byte for byte, the committed county CSVs.

Thirteen cases are written through thcli's own domain functions (so every
rule applies), with the time frozen and the pseudonym secret fixed; they
cover the routes, risk levels and tenures, ages and characteristics, a
repeat client, consent to share with the county given, withdrawn and never
given, surveys, fitted measures, payments, a refund, contributions, a
declined, a withdrawn, a no-contact, a closed and an on-hold case, and a
case referred the year before. `thcli export cases` and `thcli export
summary` (and a rounded summary of a quarter) must equal
tests/golden/county_*.csv. The demo's random stories play no part, so a
change to them changes nothing here.

When the export changes on purpose, regenerate the files and review the
diff before committing:

    THCLI_UPDATE_GOLDEN=1 python -m pytest tests/test_county_golden.py
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from freezegun import freeze_time

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("THCLI_UPDATE_GOLDEN") == "1"
EXPORTS = {
    "county_cases_2026-27.csv": ["export", "cases", "--year", "2026/27"],
    "county_summary_2026-27.csv": ["export", "summary", "--year", "2026/27"],
    "county_summary_2026Q3_rounded.csv": ["export", "summary", "--quarter", "2026Q3", "--round", "5"],
}
TODAY = "2026-11-20 10:00:00"
BY = "golden.coordinator"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_scheme(db) -> None:
    """The hand-written scheme: each case's story, told through the domain functions."""
    from thcli import budget, followups, measures, referrals, scheme, surveys, workflow
    from thcli.referrals import ReferralInput

    scheme.init_scheme(db, by=BY, name="Golden Vale Sanctuary Scheme", code="golden_vale", prefix="GV",
                       districts=[("eastmoor", "Eastmoor"), ("westvale", "Westvale")])
    budget.add_fund(db, "County Fund", year="2025/26", source="opcc", amount_pence=300_000, by=BY, on=day("2026-01-05"))
    budget.add_fund(db, "County Fund", year="2026/27", source="opcc", amount_pence=800_000, by=BY, on=day("2026-04-01"))
    budget.add_fund(db, "Westvale Budget", year="2026/27", source="district_budget", district="westvale",
                    amount_pence=200_000, by=BY, on=day("2026-04-01"))
    county_fund, old_fund, westvale_fund = "county_fund_2026_27", "county_fund_2025_26", "westvale_budget_2026_27"

    def refer(name: str, received: str, **values) -> str:
        data = ReferralInput(name=name, postcode=values.pop("postcode", "ZZ1 2AB"),
                             district=values.pop("district", "eastmoor"), route=values.pop("route", "idva"),
                             risk_level=values.pop("risk_level", "medium"), received_on=day(received), **values)
        return referrals.add_referral(db, data, by=BY).ref

    def survey(ref: str, requested: str, surveyed: str, measures_given: list) -> None:
        surveys.request_survey(db, ref, surveyor="PC Sam Goldensurvey", by=BY, on=day(requested))
        surveys.record_survey(db, ref, surveyor="PC Sam Goldensurvey", on=day(surveyed), by=BY,
                              measures=[surveys.parse_measure(db, text) for text in measures_given])

    def fit(ref: str, fund: str, approved: str, ordered: str, fitted: str) -> None:
        measures.approve(db, ref, [], fund=fund, by=BY, on=day(approved))
        measures.order(db, ref, [], contractor="in_house", by=BY, on=day(ordered))
        measures.fitted(db, ref, [], on=day(fitted), by=BY)

    # 1. Fitted, paid (a refund on the invoice), followed up twice and closed as completed.
    first = refer("Alex Goldenone", "2026-05-05", dob=day("1990-03-02"), gender="woman", ethnicity="white",
                  route="idva", risk_level="high", tenure="owner", adults=1, children=2,
                  consent=["police", "contractor", "county"])
    survey(first, "2026-05-06", "2026-05-08", ["lock_change_doorx2", "window_alarmx3"])
    fit(first, county_fund, "2026-05-11", "2026-05-12", "2026-05-14")
    budget.pay(db, first, 1, amount_pence=17_000, invoice="INV-0001", by=BY, on=day("2026-06-01"))
    budget.pay(db, first, 2, amount_pence=2_400, invoice="INV-0002", by=BY, on=day("2026-06-01"))
    budget.refund(db, first, 1, amount_pence=1_000, by=BY, on=day("2026-06-15"), invoice="CN-0001")
    followups.record_followup(db, first, on=day("2026-08-14"), outcome="feels_safer", by=BY)
    followups.record_followup(db, first, on=day("2026-11-16"), outcome="no_further_incidents", by=BY)
    workflow.move(db, first, "closed", reason="completed", by=BY, on=day("2026-11-17"))

    # 2. An emergency MARAC case in a private let: landlord's permission and contribution, a district's fund,
    # fitted within its one-day target.
    let = refer("Bea Goldentwo", "2026-07-06", dob=day("1984-11-30"), gender="woman", ethnicity="mixed",
                district="westvale", postcode="ZZ2 3CD", route="marac", risk_level="high", emergency=True, marac=True,
                tenure="private_rented", landlord_name="Example Lettings", adults=2, children=0,
                consent=["police", "contractor", "landlord", "county"])
    survey(let, "2026-07-06", "2026-07-06", ["door_chain", "pir_light"])
    referrals.set_landlord_permission(db, let, "granted", by=BY, on=day("2026-07-06"))
    fit(let, westvale_fund, "2026-07-06", "2026-07-06", "2026-07-07")  # the next day: within the emergency target
    budget.add_contribution(db, let, contributor="landlord", amount_pence=5_000, by=BY, on=day("2026-07-20"))
    budget.pay(db, let, 1, amount_pence=2_000, invoice="INV-0003", by=BY, on=day("2026-07-31"))

    # 3. A council tenant who never consented to the county: fitted within target and paid, left out of the extract.
    council = refer("Cal Goldenthree", "2026-08-03", dob=day("1978-06-15"), gender="man", ethnicity="black",
                    route="police", risk_level="medium", tenure="council",
                    consent=["police", "contractor", "landlord"])
    survey(council, "2026-08-04", "2026-08-10", ["door_viewer"])
    referrals.set_landlord_permission(db, council, "granted", by=BY, on=day("2026-08-11"))
    fit(council, county_fund, "2026-08-12", "2026-08-13", "2026-08-14")
    budget.pay(db, council, 1, amount_pence=3_500, invoice="INV-0004", by=BY, on=day("2026-09-01"))

    # 4. Consent to the county given, then withdrawn; declined (out of area).
    withdrawn_consent = refer("Dee Goldenfour", "2026-06-01", gender="woman", route="self", risk_level="standard",
                              tenure="housing_association", consent=["county"])
    referrals.record_consent(db, withdrawn_consent, ["county"], withdraw=True, by=BY, on=day("2026-06-02"))
    workflow.move(db, withdrawn_consent, "declined", reason="out_of_area", by=BY, on=day("2026-06-03"))

    # 5. Withdrawn while the survey was awaited: nothing fitted.
    waiting = refer("Eve Goldenfive", "2026-09-14", dob=day("1999-01-20"), gender="woman", ethnicity="other",
                    route="housing", risk_level="medium", tenure="temporary", consent=["police", "county"])
    surveys.request_survey(db, waiting, surveyor="PC Sam Goldensurvey", by=BY, on=day("2026-09-15"))
    workflow.move(db, waiting, "withdrawn", reason="client_withdrew", by=BY, on=day("2026-10-05"))

    # 6. No contact.
    silent = refer("Fay Goldensix", "2026-04-20", route="court", risk_level="standard", consent=["county"])
    workflow.move(db, silent, "no_contact", reason="no_answer", by=BY, on=day("2026-04-30"))

    # 7. A repeat referral of the first client (same name and date of birth): a survey is on its way.
    again = refer("Alex Goldenone", "2026-10-12", dob=day("1990-03-02"), route="marac", risk_level="high",
                  tenure="owner", consent=["police", "contractor", "county"])
    surveys.request_survey(db, again, surveyor="PC Sam Goldensurvey", by=BY, on=day("2026-10-13"))

    # 8. A 17-year-old with every characteristic recorded; equipment fitted, the survivor's contribution.
    young = refer("Hal Goldeneight", "2026-07-20", dob=day("2009-01-01"), gender="non_binary", ethnicity="asian",
                  disabled=True, lgbt=True, mental_health_needs=True, substance_use_needs=False, nrpf=False,
                  interpreter=True, language="Urdu", route="health", risk_level="high", tenure="owner",
                  consent=["police", "contractor", "county"])
    survey(young, "2026-07-21", "2026-07-23", ["personal_alarm", "door_alarm"])
    fit(young, county_fund, "2026-07-24", "2026-07-27", "2026-07-29")
    budget.add_contribution(db, young, contributor="survivor", amount_pence=500, by=BY, on=day("2026-07-29"))

    # 9. Aged 76, a council tenant: surveyed, the landlord's permission asked for.
    older = refer("Ivy Goldennine", "2026-10-19", dob=day("1950-05-05"), gender="woman", ethnicity="black",
                  district="westvale", postcode="ZZ2 9EF", route="social_care", risk_level="medium", tenure="council",
                  consent=["police", "contractor", "landlord", "county"])
    survey(older, "2026-10-20", "2026-10-27", ["window_locksx2"])
    referrals.set_landlord_permission(db, older, "requested", by=BY, on=day("2026-10-28"))

    # 10. Just received: nothing known but what the referrer said, its target not passed yet.
    refer("Jo Goldenten", "2026-11-16", route="other_professional", risk_level="standard", consent=["county"])

    # 11. Referred in 2025/26 and fitted in April 2026 from that year's fund, paid in 2026/27.
    earlier = refer("Kit Goldeneleven", "2026-03-10", dob=day("1969-09-09"), gender="man", ethnicity="white",
                    route="idva", risk_level="medium", tenure="owner", consent=["police", "contractor", "county"])
    survey(earlier, "2026-03-11", "2026-03-13", ["smoke_alarmx2"])
    measures.approve(db, earlier, [], fund=old_fund, by=BY, on=day("2026-03-16"))
    measures.order(db, earlier, [], contractor="in_house", by=BY, on=day("2026-03-17"))
    measures.fitted(db, earlier, [], on=day("2026-04-08"), by=BY)
    budget.pay(db, earlier, 1, amount_pence=3_000, invoice="INV-0005", by=BY, on=day("2026-04-20"))

    # 12. Contacted, then put on hold.
    held = refer("Lee Goldentwelve", "2026-05-18", gender="man", ethnicity="not_stated", route="police",
                 risk_level="standard", tenure="other", consent=["police", "county"])
    workflow.move(db, held, "triage", by=BY, on=day("2026-05-19"))
    workflow.move(db, held, "on_hold", by=BY, on=day("2026-05-20"))

    # 13. Fitted for more than the estimate, in Westvale.
    dearer = refer("Mo Goldenthirteen", "2026-09-07", dob=day("1987-02-14"), gender="woman", ethnicity="white",
                   district="westvale", postcode="ZZ2 1GH", route="idva", risk_level="high", tenure="owner",
                   consent=["police", "contractor", "county"])
    survey(dearer, "2026-09-08", "2026-09-09", ["door_reinforcement"])
    measures.approve(db, dearer, [], fund=westvale_fund, by=BY, on=day("2026-09-10"))
    measures.order(db, dearer, [], contractor="in_house", by=BY, on=day("2026-09-11"))
    measures.fitted(db, dearer, [], on=day("2026-09-18"), by=BY, cost_pence=13_500)
    budget.pay(db, dearer, 1, amount_pence=13_500, invoice="INV-0006", by=BY, on=day("2026-09-30"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The hand-written scheme's exports, as bytes, built once for the module."""
    from typer.testing import CliRunner

    from thcli.cli import app
    from thcli.db import open_db, write

    folder = tmp_path_factory.mktemp("golden")
    path = folder / "golden.db"
    with freeze_time(TODAY):
        db = open_db(path, create=True)
        build_scheme(db)
        with write(db):
            db.conn.execute("UPDATE secrets SET value = 'golden-file-secret' WHERE name = 'county_hmac'")
        db.close()
        files = {}
        for name, args in EXPORTS.items():
            out = folder / name
            result = CliRunner().invoke(app, ["--db", str(path), *args, "--out", str(out)])
            assert result.exit_code == 0, result.output
            files[name] = out.read_bytes()
    return files


@pytest.mark.parametrize("name", list(EXPORTS))
def test_the_scheme_exports_the_golden_file_byte_for_byte(exported, name):
    golden = GOLDEN / name
    if UPDATE:
        golden.write_bytes(exported[name])
        return
    assert golden.exists(), (f"{golden} is missing: make it with THCLI_UPDATE_GOLDEN=1 python -m pytest "
                             f"tests/test_county_golden.py, check it, and commit it")
    expected = golden.read_bytes()
    if exported[name] != expected:
        got, want = exported[name].split(b"\r\n"), expected.split(b"\r\n")
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        pytest.fail(f"{name} differs from the golden file at line {first + 1}:\n"
                    f"  expected: {want[first] if first < len(want) else b'(end of file)'!r}\n"
                    f"  exported: {got[first] if first < len(got) else b'(end of file)'!r}\n"
                    "If the change is intended, regenerate with THCLI_UPDATE_GOLDEN=1 (see this file's docstring).")


def test_golden_files_are_what_the_county_expects():
    """The committed files themselves keep the contract: BOM, CRLF, spec_version first."""
    for name in EXPORTS:
        data = (GOLDEN / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbfspec_version,")
        lines = data[3:].split(b"\r\n")
        assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
        assert all(line.startswith(b"thcli-county-2,") for line in lines[1:-1])


def test_the_extract_holds_the_consenting_cases_of_the_year(exported):
    """Of the year's twelve referrals, the two without county consent today are left out (one never gave it,
    one withdrew it); the case referred in 2025/26 is not in the 2026/27 extract."""
    rows = exported["county_cases_2026-27.csv"].decode("utf-8-sig").split("\r\n")[1:-1]
    assert len(rows) == 10
    months = sorted(row.split(",")[6] for row in rows)
    assert months[0] == "2026-04" and "2026-03" not in months
