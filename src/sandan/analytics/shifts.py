"""Shifts and production days in the plants' local time, as a lookup from UTC hours.

Gumi plants run 24 hours in three shifts, 06-14, 14-22 and 22-06 (Asia/Seoul) unless the
settings say otherwise. A production day begins with its first shift, so the night shift that
starts at 22:00 belongs to the day on which it started. Shifts start on whole hours and the
time zone must be a whole number of hours from UTC in the window: the OEE answers are built
from whole UTC hours (counters from the 1-hour rollups), so every boundary must fall on one.
Summer time is handled hour by hour.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sandan.core.errors import ValidationFailed

HOUR = timedelta(hours=1)
Grain = Literal["window", "day", "shift"]  # what one period is: the window, a day, a shift


@dataclass(frozen=True)
class ShiftPlan:
    """Shift start times (minutes after local midnight, rising) in a time zone."""

    zone: ZoneInfo
    starts: tuple[int, ...]

    @classmethod
    def parse(cls, shifts: str, timezone: str) -> ShiftPlan:
        """From "06:00,14:00,22:00" and an IANA zone name; bad input names the field."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationFailed.one("tz", f"unknown time zone {timezone!r}") from exc
        starts: list[int] = []
        for part in shifts.split(","):
            hours, _, minutes = part.strip().partition(":")
            if not (hours.isdigit() and (minutes or "0").isdigit()):
                raise ValidationFailed.one("shifts", f"{part.strip()!r} is not HH:MM")
            hour, minute = int(hours), int(minutes or "0")
            if hour > 23 or minute != 0:
                raise ValidationFailed.one("shifts", f"{part.strip()!r} is not a whole hour")
            starts.append(hour * 60)
        if starts != sorted(set(starts)):
            raise ValidationFailed.one("shifts", "start times must rise through the day")
        return cls(zone, tuple(starts))

    def key(self, index: int) -> str:
        """The shift's start, "06:00"."""
        return f"{self.starts[index] // 60:02d}:00"

    def label(self, index: int) -> str:
        """ "06:00–14:00"."""
        end = self.starts[(index + 1) % len(self.starts)]
        return f"{self.key(index)}–{end // 60:02d}:00"


@dataclass(frozen=True)
class Calendar:
    """The periods of a window of whole UTC hours: the whole window, its production days, or
    its shifts (one shift of one production day), as fine as the grouping asked needs."""

    start: datetime  # aware UTC, on the hour
    hours: int
    hour_period: np.ndarray  # period index of each hour of the window
    days: list[date | None]  # per period (None: the window)
    shifts: list[int | None]  # per period: index into the plan's shifts (None: all)
    plan: ShiftPlan

    @property
    def end(self) -> datetime:
        return self.start + self.hours * HOUR

    @property
    def periods(self) -> int:
        return len(self.days)

    def period_sql(self, seconds: str) -> str:
        """A SQL expression giving the period of a Unix time in seconds inside the window:
        arithmetic when the periods are as long as each other (no summer time change, equal
        shifts), else a lookup by hour (slower per row)."""
        origin = int(self.start.timestamp())
        if self.periods == 1:
            return "0"
        regular = _regular(self.hour_period)
        if regular is not None:
            length, phase = regular
            shifted = origin - phase * 3600
            return (
                f"CAST(FLOOR(({seconds} - {shifted}) / CAST({length * 3600} AS DOUBLE PRECISION))"
                " AS INTEGER)"
            )
        lookup = ",".join(str(int(p)) for p in self.hour_period)
        hour = f"CAST(FLOOR(({seconds} - {origin}) / CAST(3600 AS DOUBLE PRECISION)) AS INTEGER)"
        return f"(ARRAY[{lookup}])[{hour} + 1]"

    def period_of(self, seconds: np.ndarray) -> np.ndarray:
        """The period of each Unix time (seconds) inside the window."""
        hour = (seconds.astype(np.int64) - int(self.start.timestamp())) // 3600
        return np.asarray(self.hour_period[hour])


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window widened to whole UTC hours: start down, end up."""
    low = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    high = end.astimezone(UTC)
    top = high.replace(minute=0, second=0, microsecond=0)
    return low, top if top == high else top + HOUR


def _regular(hour_period: np.ndarray) -> tuple[int, int] | None:
    """(hours a period, hours the first period lacks) when every period but the first and
    the last is as long as the others and hour h is in period (h + lack) // length."""
    changes = np.flatnonzero(np.diff(hour_period)) + 1
    if len(changes) == 0:
        return None
    length = int(changes[1] - changes[0]) if len(changes) > 1 else int(changes[0])
    phase = (length - int(changes[0])) % length
    expected = (np.arange(len(hour_period)) + phase) // length
    return (length, phase) if np.array_equal(expected, hour_period) else None


def calendar(plan: ShiftPlan, start: datetime, end: datetime, grain: Grain = "shift") -> Calendar:
    """Number the periods the hours of [start, end) fall in (both on whole UTC hours)."""
    first = plan.starts[0]
    offsets = [s - first for s in plan.starts]
    hours = int((end - start) / HOUR)
    index: dict[tuple[date | None, int | None], int] = {}
    hour_period = np.empty(hours, dtype=np.int64)
    for h in range(hours):
        local = (start + h * HOUR).astimezone(plan.zone)
        if local.minute or local.second:
            raise ValidationFailed.one("tz", "the time zone is not a whole number of hours")
        shifted = local - timedelta(minutes=first)  # the production day starts with shift 1
        minute = shifted.hour * 60 + shifted.minute
        shift = bisect_right(offsets, minute) - 1
        key = {
            "shift": (shifted.date(), shift),
            "day": (shifted.date(), None),
            "window": (None, None),
        }[grain]
        hour_period[h] = index.setdefault(key, len(index))
    keys = list(index)
    return Calendar(
        start=start,
        hours=hours,
        hour_period=hour_period,
        days=[d for d, _ in keys],
        shifts=[s for _, s in keys],
        plan=plan,
    )
