"""Alarm-system performance (EEMUA 191, ISA-18.2 §16), pure functions over arrays.

Times are seconds (float). An "alarm" here is an annunciation: the moment an alarm became
unacknowledged (raised, or raised again after it returned to normal). Targets:
- rate: ≤ 1 alarm per operator per 10 minutes (EEMUA 191 steady state);
- flood: ≥ 10 alarms in 10 minutes; a flood lasts while every alarm in it has ≥ 10 within
  the 10 minutes up to it, and overlapping windows merge into one period;
- chattering: ≥ 3 transitions of one alarm within a minute;
- stale: active (not normal) for more than 24 hours;
- bad actors: the 10 alarm sources with the most alarms and their share of all of them;
- priority distribution: about 80 % low, 15 % medium, 5 % high (critical counts as high).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WINDOW_S = 600.0
TARGET_PER_OPERATOR = 1.0
FLOOD_COUNT = 10
CHATTER_COUNT, CHATTER_S = 3, 60.0
STALE_S = 24 * 3600.0
TOP = 10


@dataclass(frozen=True)
class Rate:
    """Alarms per operator per 10-minute interval over the window."""

    average: float
    peak: float
    share_over_target: float  # share of the 10-minute intervals above the target


def rate(raised: np.ndarray, start: float, end: float, operators: int = 1) -> Rate:
    """Count the alarms in consecutive 10-minute intervals from `start` (the last may be
    shorter) and divide by the operators on duty."""
    if end <= start:
        return Rate(0.0, 0.0, 0.0)
    edges = np.arange(start, end, WINDOW_S)
    edges = np.r_[edges, end]
    counts, _ = np.histogram(raised, bins=edges)
    per = counts / max(operators, 1)
    return Rate(float(per.mean()), float(per.max()), float((per > TARGET_PER_OPERATOR).mean()))


@dataclass(frozen=True)
class Flood:
    start: float
    end: float
    alarms: int


def floods(raised: np.ndarray, count: int = FLOOD_COUNT, window: float = WINDOW_S) -> list[Flood]:
    """Periods with at least `count` alarms within `window` seconds."""
    t = np.sort(np.asarray(raised, np.float64))
    if len(t) < count:
        return []
    i = np.arange(len(t))
    left = np.searchsorted(t, t - window, "right")
    hit = np.flatnonzero(i - left + 1 >= count)
    if len(hit) == 0:
        return []
    starts, ends = t[left[hit]], t[hit]
    new = np.r_[True, starts[1:] > ends[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(hit) - 1]
    begin, finish = starts[first], ends[last]
    n = np.searchsorted(t, finish, "right") - np.searchsorted(t, begin, "left")
    return [Flood(float(b), float(f), int(k)) for b, f, k in zip(begin, finish, n, strict=True)]


def time_in_flood(periods: Sequence[Flood], start: float, end: float) -> float:
    """Share of the window spent in floods."""
    if end <= start:
        return 0.0
    return min(1.0, sum(p.end - p.start for p in periods) / (end - start))


def chattering(
    keys: np.ndarray, at: np.ndarray, count: int = CHATTER_COUNT, within: float = CHATTER_S
) -> np.ndarray:
    """The keys (alarm ids) with at least `count` transitions within `within` seconds."""
    keys, at = np.asarray(keys), np.asarray(at, np.float64)
    if len(keys) < count:
        return np.zeros(0, keys.dtype)
    order = np.lexsort((at, keys))
    k, t = keys[order], at[order]
    j = np.arange(len(k) - count + 1)
    same = k[j] == k[j + count - 1]
    close = t[j + count - 1] - t[j] <= within
    return np.unique(k[j[same & close]])


def stale(
    raised: np.ndarray, is_open: np.ndarray, now: float, limit: float = STALE_S
) -> np.ndarray:
    """Mask of the alarms still open after more than `limit` seconds."""
    return np.asarray(is_open, bool) & (now - np.asarray(raised, np.float64) > limit)


@dataclass(frozen=True)
class Actor:
    key: str
    alarms: int
    share: float


def bad_actors(keys: Sequence[str], top: int = TOP) -> tuple[list[Actor], float]:
    """The `top` most frequent sources and the share of all alarms they caused."""
    if len(keys) == 0:
        return [], 0.0
    names, counts = np.unique(np.asarray(keys, dtype=object).astype(str), return_counts=True)
    order = np.lexsort((names, -counts))[:top]
    total = int(counts.sum())
    actors = [Actor(str(names[i]), int(counts[i]), float(counts[i] / total)) for i in order]
    return actors, float(counts[order].sum() / total)


def priority_distribution(priorities: Sequence[str]) -> dict[str, float]:
    """Share of alarms per priority (every priority listed, zero when unused)."""
    names = ("low", "medium", "high", "critical")
    total = len(priorities)
    if total == 0:
        return dict.fromkeys(names, 0.0)
    values, counts = np.unique(np.asarray(priorities, dtype=object).astype(str), return_counts=True)
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return {name: found.get(name, 0) / total for name in names}
