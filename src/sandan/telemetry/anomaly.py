"""Robust online anomaly detection over stored batches, kept as per-tag arrays.

Each tag has a robust centre and scale. The first `warmup` readings of a tag are only
collected; then the centre is their median and the scale their MAD (× 1.4826, or the mean
absolute deviation × 1.2533 when the MAD is 0), both estimates of the normal σ. After that
every GOOD or SUSPECT reading gets the robust score |value − centre| / scale; above
`threshold` it is an anomaly. Anomalies are reported, never rejected: the reading is stored
as it is.

A batch is scored against the state as it stood when the batch arrived, then the state moves
by an exponentially weighted update with the readings winsorised to centre ± clip × scale (so
one spike barely moves it): after m readings y₁..yₘ of a tag,
centre ← (1 − α)ᵐ · centre + Σ α (1 − α)ᵐ⁻ʲ yⱼ, and the same for the scale with the clipped
absolute deviations. This is what updating reading by reading gives with the clip bounds held
for the batch, and it is computed for all tags at once with grouped numpy sums.

Tags whose warm-up readings are all whole numbers (states, counters, booleans) are not scored:
a step from one whole value to the next is their normal behaviour.

The state lives in memory per store (`detector_for`), so a restart warms up again, and
several ingest processes each learn from the share of the stream they see.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import structlog
from sqlalchemy.orm import Session

from sandan.core.bus import raise_event
from sandan.core.clock import as_utc
from sandan.telemetry.store import BAD

log = structlog.get_logger(__name__)

ALPHA = 0.02  # weight of a new reading: the state remembers about 1/α readings
WARMUP = 30
THRESHOLD = 6.0
CLIP = 3.0
MAX_EVENTS = 1000  # per batch; more are counted in the log, not raised
_MAD_SIGMA = 1.4826
_MEAN_AD_SIGMA = 1.2533
_REL_FLOOR = 1e-3  # the scale is at least this share of |centre| (quantised sensors)
_ABS_FLOOR = 1e-9


@dataclass
class Anomalies:
    """Flagged readings as aligned columns."""

    tag_id: np.ndarray  # int32
    ts: np.ndarray  # datetime64[us]
    value: np.ndarray
    score: np.ndarray
    expected: np.ndarray

    def __len__(self) -> int:
        return len(self.tag_id)


class AnomalyDetector:
    """Per-tag robust state in arrays indexed by the sorted tag ids seen so far."""

    def __init__(
        self,
        *,
        alpha: float = ALPHA,
        warmup: int = WARMUP,
        threshold: float = THRESHOLD,
        clip: float = CLIP,
    ) -> None:
        self.alpha, self.warmup, self.threshold, self.clip = alpha, warmup, threshold, clip
        self.ids = np.zeros(0, np.int32)
        self.center = np.zeros(0)
        self.scale = np.zeros(0)
        self.count = np.zeros(0, np.int64)
        self.discrete = np.zeros(0, bool)
        self.buffer = np.zeros((0, warmup))
        self._lock = threading.Lock()

    def _slots(self, tags: np.ndarray) -> np.ndarray:
        """Slots of sorted `tags`, growing the state arrays for tags not seen before."""
        fresh = np.setdiff1d(np.unique(tags), self.ids, assume_unique=True)
        if len(fresh):
            ids = np.union1d(self.ids, fresh).astype(np.int32)
            old = np.searchsorted(ids, self.ids)
            n = len(ids)
            center, scale, count = np.zeros(n), np.zeros(n), np.zeros(n, np.int64)
            discrete, buffer = np.zeros(n, bool), np.zeros((n, self.warmup))
            center[old], scale[old], count[old] = self.center, self.scale, self.count
            discrete[old], buffer[old] = self.discrete, self.buffer
            self.ids, self.center, self.scale, self.count = ids, center, scale, count
            self.discrete, self.buffer = discrete, buffer
        return np.searchsorted(self.ids, tags)

    def observe(self, batch: pa.Table) -> Anomalies:
        """Score a READINGS batch and learn from it; returns the anomalies, oldest first per
        tag."""
        quality = batch.column("quality").to_numpy()
        value = batch.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
        keep = np.flatnonzero((quality < BAD) & np.isfinite(value))
        tags = batch.column("tag_id").to_numpy()[keep].astype(np.int32)
        ts = batch.column("ts").cast(pa.int64()).to_numpy()[keep]
        value = value[keep]
        order = np.lexsort((ts, tags))
        tags, ts, value = tags[order], ts[order], value[order]
        with self._lock:
            return self._observe(tags, ts, value)

    def _observe(self, tags: np.ndarray, ts: np.ndarray, value: np.ndarray) -> Anomalies:
        n = len(tags)
        slot = self._slots(tags)
        starts = np.flatnonzero(np.r_[True, tags[1:] != tags[:-1]]) if n else np.zeros(0, int)
        sizes = np.diff(np.r_[starts, n])
        rank = np.arange(n) - np.repeat(starts, sizes)
        before = self.count[slot]
        position = before + rank  # the reading's place in its tag's stream

        warming = position < self.warmup
        self.buffer[slot[warming], position[warming]] = value[warming]
        group_slot = slot[starts]
        ready = group_slot[
            (self.count[group_slot] < self.warmup) & (self.count[group_slot] + sizes >= self.warmup)
        ]
        if len(ready):
            self._start(ready)
        self.count[group_slot] += sizes

        scored = np.flatnonzero(~warming & ~self.discrete[slot])
        s_slot = slot[scored]
        center = self.center[s_slot]
        scale = np.maximum(self.scale[s_slot], _floor(center))
        deviation = np.abs(value[scored] - center)
        score = deviation / scale
        flagged = score > self.threshold
        self._learn(s_slot, value[scored], center, scale, deviation)
        return Anomalies(
            tag_id=tags[scored][flagged],
            ts=ts[scored][flagged].astype("datetime64[us]"),
            value=value[scored][flagged],
            score=score[flagged],
            expected=center[flagged],
        )

    def _start(self, ready: np.ndarray) -> None:
        """Centre and scale of tags whose warm-up buffer just filled."""
        buffer = self.buffer[ready]
        center = np.median(buffer, axis=1)
        spread = np.abs(buffer - center[:, None])
        scale = _MAD_SIGMA * np.median(spread, axis=1)
        fallback = _MEAN_AD_SIGMA * spread.mean(axis=1)
        self.center[ready] = center
        self.scale[ready] = np.where(scale > 0, scale, fallback)
        self.discrete[ready] = np.all(buffer == np.round(buffer), axis=1)

    def _learn(
        self,
        slot: np.ndarray,
        value: np.ndarray,
        center: np.ndarray,
        scale: np.ndarray,
        deviation: np.ndarray,
    ) -> None:
        """The exponentially weighted update of the scored readings' tags (see the module)."""
        if not len(slot):
            return
        a = self.alpha
        bound = self.clip * scale
        clipped = np.clip(value, center - bound, center + bound)
        spread = _MEAN_AD_SIGMA * np.minimum(deviation, bound)
        # slot is sorted (readings are ordered by tag): each reading's distance from its
        # tag's last scored reading gives its weight α(1 − α)^distance.
        starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        sizes = np.diff(np.r_[starts, len(slot)])
        last = np.repeat(starts + sizes - 1, sizes)
        weight = a * np.power(1.0 - a, last - np.arange(len(slot)))
        tag = slot[starts]
        remain = np.power(1.0 - a, sizes)
        groups = np.repeat(np.arange(len(starts)), sizes)
        self.center[tag] = remain * self.center[tag] + np.bincount(groups, weight * clipped)
        self.scale[tag] = remain * self.scale[tag] + np.bincount(groups, weight * spread)


def _floor(center: np.ndarray) -> np.ndarray:
    floor: np.ndarray = np.maximum(_REL_FLOOR * np.abs(center), _ABS_FLOOR)
    return floor


_detectors: weakref.WeakKeyDictionary[Any, AnomalyDetector] = weakref.WeakKeyDictionary()
_detectors_lock = threading.Lock()


def detector_for(store: Any) -> AnomalyDetector:
    """The detector that learns from what goes into `store` (one per store object)."""
    with _detectors_lock:
        detector = _detectors.get(store)
        if detector is None:
            detector = _detectors[store] = AnomalyDetector()
        return detector


def flag_anomalies(session: Session, store: Any, batch: pa.Table) -> int:
    """Score a stored batch and raise `telemetry.anomaly` for each anomaly (at most
    MAX_EVENTS); never raises, so detection cannot hold ingest up. Returns how many."""
    try:
        found = detector_for(store).observe(batch)
    except Exception:  # a bug here must not lose readings already stored
        log.exception("anomaly detection failed", rows=batch.num_rows)
        return 0
    if len(found) > MAX_EVENTS:
        log.warning("anomalies beyond the per-batch limit", found=len(found), raised=MAX_EVENTS)
    for i in range(min(len(found), MAX_EVENTS)):
        raise_event(
            session,
            "telemetry.anomaly",
            {
                "tag_id": int(found.tag_id[i]),
                "ts": as_utc(found.ts[i].astype(object)).isoformat(),
                "value": float(found.value[i]),
                "score": round(float(found.score[i]), 3),
                "expected": float(found.expected[i]),
            },
        )
    return len(found)
