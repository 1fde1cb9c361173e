"""Today and now, in one place, so that tests can freeze them (freezegun)."""

from __future__ import annotations

import datetime as dt


def today() -> dt.date:
    """The coordinator's local date."""
    return dt.date.today()


def now_iso() -> str:
    """The current moment in UTC, as stored: ``2026-11-22T09:30:00Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
