"""`report summary`: the scheme's operational figures for a period, at a glance.

For the coordinator, not for publication: nothing is suppressed, and the
scheme's own codes and labels are used (the county return is county.py). The
figures, each over the cases it names:

- **referrals**: cases received in the period, per month, by route, district
  and risk level;
- **conversion**: of those referred in the period, how many have been surveyed
  and how many fitted so far;
- **days to survey** and **days to fit**: working days from referral, median
  and 90th percentile (nearest rank), over cases first surveyed, or fully
  fitted, in the period;
- **within target**: of the cases fitted in the period, how many by their
  fitting target (emergency, high risk or standard; targets.FitTargets);
- **spend**: payments dated in the period, net of refunds and corrections, per
  fund (equipment bought for stock when it was bought), and per household
  (mean and range over the households paid for, equipment from stock at its
  cost when it was issued);
- **pledges**: contributions pledged in the period and not yet received;
- **outcomes**: cases that ended in the period, by status and reason.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

from thcli import clock, settings
from thcli.budget import COUNTS_AS, SPENT, open_pledges
from thcli.calendar import WorkingDays
from thcli.db import Database
from thcli.periods import Period
from thcli.targets import FitTargets

#: Which code list holds the reason of each way a case ends, and the county's word for closed.
_ENDINGS = {"closed": ("completed", "outcome_reason"), "declined": ("declined", "decline_reason"),
            "withdrawn": ("withdrawn", "withdrawal_reason"), "no_contact": ("no_contact", "no_contact_reason")}


def percentile(values: list[int], fraction: float) -> int | None:
    """The nearest-rank percentile of whole numbers (None for none): 90th of 1..10 is 9."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _median(values: list[int]) -> float | int | None:
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else middle


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _spread(values: list[int]) -> dict:
    return {"cases": len(values), "median": _median(values), "p90": percentile(values, 0.9)}


def _grouped(db: Database, list_name: str, column: str, params: dict) -> list[dict]:
    """Referrals in the period counted by a code column of cases, with the code's label, most first."""
    return [
        {"code": code, "label": label, "count": count}
        for code, label, count in db.conn.execute(
            f"""SELECT c.{column}, coalesce(k.label, c.{column}), count(*) AS n FROM cases c
                LEFT JOIN codes k ON k.list = '{list_name}' AND k.code = c.{column}
                WHERE c.received_on BETWEEN :start AND :end
                GROUP BY c.{column} ORDER BY n DESC, c.{column}""", params)
    ]


def summary(db: Database, chosen: Period, *, today: dt.date | None = None) -> dict:
    """The operational figures of a period, as plain numbers (money in pence)."""
    today = today or clock.today()
    params = chosen.params()
    per_month = dict(db.conn.execute(
        "SELECT substr(received_on, 1, 7), count(*) FROM cases WHERE received_on BETWEEN :start AND :end "
        "GROUP BY 1", params).fetchall())
    referred, surveyed, fitted = db.conn.execute(
        """SELECT count(*),
                  sum(EXISTS (SELECT 1 FROM surveys s WHERE s.case_id = c.id AND s.surveyed_on IS NOT NULL)),
                  sum(c.fitted_on IS NOT NULL)
           FROM cases c WHERE c.received_on BETWEEN :start AND :end""", params).fetchone()
    surveyed, fitted = surveyed or 0, fitted or 0

    days = WorkingDays()
    to_survey = [days.between(received, first) for received, first in db.conn.execute(
        """SELECT c.received_on, s.first FROM cases c
           JOIN (SELECT case_id, min(surveyed_on) AS first FROM surveys WHERE surveyed_on IS NOT NULL
                 GROUP BY case_id) s ON s.case_id = c.id
           WHERE s.first BETWEEN :start AND :end""", params)]
    targets = FitTargets(db, today)
    to_fit, met = [], 0
    for received, fitted_on, emergency, risk in db.conn.execute(
            "SELECT received_on, fitted_on, emergency, risk_level FROM cases "
            "WHERE fitted_on BETWEEN :start AND :end", params):
        to_fit.append(days.between(received, fitted_on))
        met += targets.within(received, emergency, risk, fitted_on, None) == "yes"

    by_fund = [
        {"fund": code, "name": name, "source": source, "spend_pence": spend}
        for code, name, source, spend in db.conn.execute(
            f"""SELECT f.code, f.name, f.source, -sum(l.amount_pence) FROM ledger l JOIN funds f ON f.id = l.fund_id
                WHERE l.on_date BETWEEN :start AND :end AND {COUNTS_AS} IN {SPENT}
                GROUP BY f.id ORDER BY f.code""", params)
    ]
    households = [spend for (spend,) in db.conn.execute(
        f"""SELECT -sum(l.amount_pence) FROM ledger l
            WHERE l.on_date BETWEEN :start AND :end AND l.case_id IS NOT NULL
              AND {COUNTS_AS} IN {SPENT}
            GROUP BY l.case_id HAVING sum(l.amount_pence) <> 0""", params)]

    outcomes = []
    for status, reason, label, count in db.conn.execute(
            """SELECT c.status, c.reason, k.label, count(*) AS n FROM cases c
               LEFT JOIN codes k ON k.code = c.reason AND k.list = CASE c.status
                   WHEN 'closed' THEN 'outcome_reason' WHEN 'declined' THEN 'decline_reason'
                   WHEN 'withdrawn' THEN 'withdrawal_reason' ELSE 'no_contact_reason' END
               WHERE c.status IN ('closed', 'declined', 'withdrawn', 'no_contact')
                 AND c.closed_on BETWEEN :start AND :end
               GROUP BY c.status, c.reason ORDER BY n DESC, c.status, c.reason""", params):
        outcomes.append({"status": _ENDINGS[status][0], "reason": reason, "label": label or reason or "",
                         "count": count})

    return {
        "scheme": settings.get(db, "scheme_name"),
        "period": {"label": chosen.label, "from": chosen.start.isoformat(), "to": chosen.end.isoformat()},
        "referrals": {
            "total": referred,
            "per_month": [{"month": month, "count": per_month.get(month, 0)} for month in chosen.months()],
            "by_route": _grouped(db, "route", "route", params),
            "by_district": _grouped(db, "district", "district", params),
            "by_risk": _grouped(db, "risk", "risk_level", params),
        },
        "conversion": {"referred": referred, "surveyed": surveyed, "fitted": fitted,
                       "percent_fitted": _percent(fitted, referred)},
        "days_to_survey": _spread(to_survey),
        "days_to_fit": _spread(to_fit),
        "within_target": {"fitted": len(to_fit), "within": met, "percent": _percent(met, len(to_fit))},
        "spend": {
            "total_pence": sum(f["spend_pence"] for f in by_fund),
            "by_fund": by_fund,
            "per_household": {
                "households": len(households),
                "mean_pence": round(sum(households) / len(households)) if households else None,
                "min_pence": min(households) if households else None,
                "max_pence": max(households) if households else None,
            },
        },
        "pledges": _pledges(db, chosen),
        "outcomes": outcomes,
    }


def _pledges(db: Database, chosen: Period) -> dict:
    """Contributions pledged in the period and not yet received, oldest first."""
    rows = [{"ref": p["ref"], "contributor": p["contributor"], "fund": p["fund"], "pledged_on": p["pledged_on"],
             "outstanding_pence": p["outstanding_pence"]}
            for p in open_pledges(db, pledged_from=chosen.start.isoformat(), pledged_to=chosen.end.isoformat())]
    return {"outstanding_pence": sum(p["outstanding_pence"] for p in rows), "cases": rows}
