"""How much water each factory draws, hour by hour.

Gumi's plants are not households: many run three shifts around the clock, so the night flow
of a DMA is mostly legitimate use, and it moves with each plant's production, shift changes,
maintenance nights and Sunday shutdowns. These traits are drawn per company from a seed, so a
company keeps its habits across runs; the hourly series is vectorised over factories × hours.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from sandan.safety.water.network import Factory

KST = timezone(timedelta(hours=9))  # Korea has no daylight saving time

# Multipliers by local hour (0-23) of a working day, per shift system.
_SHAPES = {
    "3": np.array([0.92] * 6 + [1.25] + [1.0] * 7 + [1.25] + [1.0] * 7 + [1.25, 0.95]),
    "2": np.array([0.3] * 6 + [1.45] + [1.3] * 7 + [1.45] + [1.3] * 6 + [0.5, 0.3, 0.3]),
    "1": np.array([0.25] * 8 + [1.8] * 10 + [0.4] + [0.25] * 5),
}
_HEAVY = {"20": 2.5, "26": 2.0, "10": 2.0, "11": 2.0, "21": 1.5, "24": 1.8, "17": 2.2}
_NIGHT_SHIFT_LIKELY = {"20", "21", "24", "26", "17", "22"}


def factory_of(
    company_id: int,
    name: str,
    zone: str,
    lat: float,
    lon: float,
    employees: int | None,
    ksic: str,
) -> Factory:
    """A company's factory with its water habits, drawn from the company id (stable)."""
    rng = random.Random(f"water:{company_id}")
    division = ksic[:2]
    p_three = 0.75 if division in _NIGHT_SHIFT_LIKELY else 0.45
    roll = rng.random()
    shifts = "3" if roll < p_three else ("2" if roll < p_three + 0.3 else "1")
    sunday_off = rng.random() < (0.1 if shifts == "3" else 0.5)
    staff = employees if employees is not None else 30
    base = staff * 0.06 * _HEAVY.get(division, 1.0) * rng.lognormvariate(0.0, 0.3)
    return Factory(
        company_id=company_id,
        name=name,
        zone=zone,
        lat=lat,
        lon=lon,
        base_m3h=round(min(max(base, 0.5), 120.0), 3),
        shifts=shifts,
        sunday_off=sunday_off,
        employees=staff,
    )


def hours_from(start: datetime, count: int) -> np.ndarray:
    """`count` hourly UTC timestamps (numpy datetime64[us], naive UTC) from `start`."""
    first = np.datetime64(
        start.astimezone(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0), "us"
    )
    return first + np.arange(count) * np.timedelta64(3600, "s")


def local_clock(hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local (KST) hour of day, ISO weekday (Mon=0) and day number of UTC hour stamps."""
    local = hours + np.timedelta64(9, "h")
    days = local.astype("datetime64[D]")
    hour = ((local - days) // np.timedelta64(1, "h")).astype(np.int64)
    day_no = days.astype(np.int64)
    weekday = (day_no + 3) % 7  # 1970-01-01 was a Thursday
    return hour, weekday, day_no


def demand(
    factories: tuple[Factory, ...] | list[Factory], hours: np.ndarray, seed: int = 7
) -> np.ndarray:
    """Hourly draw of each factory, m³/h (factories × hours). The same seed and hours give
    the same series; each (factory, day) draws its own production level."""
    hour, weekday, day_no = local_clock(hours)
    n = len(factories)
    shifts = np.array([f.shifts for f in factories])
    shape = np.stack([_SHAPES[str(s)] for s in shifts]) if n else np.zeros((0, 24))
    base = np.array([f.base_m3h for f in factories])
    out = shape[:, hour] * base[:, None]
    days, day_col = np.unique(day_no, return_inverse=True)
    ids = np.array([f.company_id for f in factories], dtype=np.int64)
    # One generator per (seed, first day) keeps a run reproducible; factories draw in id order.
    rng = np.random.default_rng([seed, int(days[0]) if len(days) else 0])
    order = np.argsort(ids, kind="stable")
    level = np.empty((n, len(days)))
    level[order] = rng.lognormal(0.0, 0.10, size=(n, len(days)))
    maintenance = np.empty((n, len(days)), dtype=bool)
    maintenance[order] = rng.random((n, len(days))) < 0.04
    noise = np.empty((n, len(hours)))
    noise[order] = rng.lognormal(0.0, 0.04, size=(n, len(hours)))
    out *= level[:, day_col] * noise
    night = hour < 6
    out[:, night] *= np.where(maintenance[:, day_col[night]], 0.45, 1.0)
    sunday_off = np.array([f.sunday_off for f in factories], dtype=bool)
    out[np.ix_(sunday_off, weekday == 6)] *= 0.15
    saturday_light = shifts == "1"
    out[np.ix_(saturday_light, weekday == 5)] *= 0.5
    result: np.ndarray = out
    return result


def sample_factories() -> list[Factory]:
    """A small fixed complex for tests and examples: twelve factories in two zones, which
    the planner cuts into three DMAs of four (`per_dma=4`)."""
    spots = [
        ("Z1", 36.100 + 0.002 * (i % 2), 128.360 + 0.003 * i, 40 + 25 * i) for i in range(8)
    ] + [("Z2", 36.095 + 0.002 * (i % 2), 128.405 + 0.003 * i, 60 + 30 * i) for i in range(4)]
    return [
        factory_of(101 + i, f"Factory {101 + i}", zone, lat, lon, staff, ("26110", "29180")[i % 2])
        for i, (zone, lat, lon, staff) in enumerate(spots)
    ]
