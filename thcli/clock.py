"""Today and now, in one place, so that tests can freeze them (freezegun)."""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    """The coordinator's local date."""
    return dt.date.today()


def now_iso() -> str:
    """The current moment in UTC, as stored: ``2026-11-22T09:30:00Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    """The coordinator's local date and time, to the minute (a referral's received time is local)."""
    return dt.datetime.now().replace(second=0, microsecond=0)
