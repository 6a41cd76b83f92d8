"""The warehouse works on Korean local days (Asia/Seoul): slots, ship dates, billing days."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sandan.core.clock import as_utc

SEOUL = ZoneInfo("Asia/Seoul")


def local_day(at: datetime) -> date:
    return as_utc(at).astimezone(SEOUL).date()


def local_start(day: date) -> datetime:
    """The instant a local day begins, in UTC."""
    return as_utc(datetime.combine(day, time(0), tzinfo=SEOUL))


def at_local(day: date, hhmm: str) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    return as_utc(datetime.combine(day, time(hour, minute), tzinfo=SEOUL))
