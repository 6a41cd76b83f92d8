"""Robust online anomaly detection: spikes in stationary noise are flagged, the noise is not,
the per-tag state carries across batches, and stored batches raise `telemetry.anomaly`."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pyarrow as pa

from sandan.core.bus import Event
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.telemetry import service
from sandan.telemetry.anomaly import WARMUP, AnomalyDetector
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.store import BAD, GOOD

T0 = np.datetime64("2026-11-02T00:00:00", "us")
SECOND = np.timedelta64(1, "s")


def _batch(
    tags: np.ndarray, seconds: np.ndarray, values: np.ndarray, quality: int = GOOD
) -> pa.Table:
    return pa.table(
        {
            "tag_id": pa.array(tags.astype(np.int32)),
            "ts": pa.array(T0 + seconds * SECOND),
            "value": pa.array(values.astype(np.float64)),
            "quality": pa.array(np.full(len(tags), quality, np.uint8)),
        }
    )


def _series(seed: int, n: int, level: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """A stationary noisy series with 30 spikes of 10-20 σ after the warm-up."""
    rng = np.random.default_rng(seed)
    values = level + rng.normal(0.0, sigma, n)
    spikes = np.sort(rng.choice(np.arange(WARMUP + 10, n), 30, replace=False))
    values[spikes] += rng.choice([-1.0, 1.0], 30) * rng.uniform(10, 20, 30) * sigma
    return values, spikes


def test_spikes_in_noise_are_flagged_and_the_noise_is_not() -> None:
    detector = AnomalyDetector()
    n = 12_000
    hot, hot_spikes = _series(1, n, 80.0, 0.5)  # a temperature
    flow, flow_spikes = _series(2, n, 1200.0, 40.0)  # a flow, another scale
    found: dict[int, list[int]] = {1: [], 2: []}
    seconds = np.arange(n)
    rng = np.random.default_rng(3)
    edges = np.unique(np.r_[0, rng.integers(1, n, 60), n])  # batches of every size
    for lo, hi in itertools.pairwise(edges):
        part = slice(lo, hi)
        tags = np.r_[np.full(hi - lo, 1), np.full(hi - lo, 2)]
        batch = _batch(tags, np.r_[seconds[part], seconds[part]], np.r_[hot[part], flow[part]])
        out = detector.observe(batch)
        for tag, ts in zip(out.tag_id, out.ts, strict=True):
            found[int(tag)].append(int((ts - T0) // SECOND))
    assert found[1] == hot_spikes.tolist()
    assert found[2] == flow_spikes.tolist()
    slot = np.searchsorted(detector.ids, [1, 2])
    assert np.allclose(detector.center[slot], [80.0, 1200.0], rtol=0.005)
    assert np.allclose(detector.scale[slot], [0.5, 40.0], rtol=0.25)


def test_state_survives_across_single_reading_batches() -> None:
    detector = AnomalyDetector()
    values, spikes = _series(4, 3000, 5.0, 0.1)
    flagged: list[int] = []
    for i, value in enumerate(values):  # one reading a batch, as an MQTT flush often holds
        out = detector.observe(_batch(np.array([9]), np.array([i]), np.array([value])))
        if len(out):
            flagged.append(i)
            assert abs(out.expected[0] - 5.0) < 0.05 and out.score[0] > detector.threshold
    assert flagged == spikes.tolist()
    assert int(detector.count[0]) == 3000


def test_whole_number_tags_and_bad_readings_are_not_scored() -> None:
    detector = AnomalyDetector()
    rng = np.random.default_rng(5)
    states = rng.integers(0, 4, 500).astype(float)  # a machine state tag
    states[300] = 400.0
    out = detector.observe(_batch(np.full(500, 3), np.arange(500), states))
    assert len(out) == 0
    noise = 10 + rng.normal(0, 1, 200)
    detector.observe(_batch(np.full(200, 4), np.arange(200), noise))
    bad = detector.observe(_batch(np.array([4]), np.array([500]), np.array([1e6]), quality=BAD))
    assert len(bad) == 0  # BAD readings are refine's business, not scored and not learnt
    assert detector.count[np.searchsorted(detector.ids, 4)] == 200


async def test_stored_batches_raise_anomaly_events(ctx: Context) -> None:
    store = DuckDBStore(":memory:")
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    ctx.bus.subscribe("telemetry.anomaly", handler)
    await ctx.bus.start()
    system = Principal.system("test")
    try:
        rng = np.random.default_rng(6)
        warm = _batch(np.full(200, 11), np.arange(200), 20 + rng.normal(0, 1, 200))
        spike = _batch(np.array([11, 11]), np.array([200, 201]), np.array([20.5, 45.0]))
        for batch in (warm, spike, spike):  # the last is a re-sent batch: nothing new stored
            with ctx.db.unit(system) as session:
                service.store_batch(session, store, batch, source="test")
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        assert [e.payload["ts"] for e in seen] == ["2026-11-02T00:03:21+00:00"]
        payload = seen[0].payload
        assert payload["tag_id"] == 11 and payload["value"] == 45.0
        assert abs(payload["expected"] - 20) < 0.5 and payload["score"] > 15
        assert store.count() == 202  # anomalies are stored like any reading
    finally:
        await ctx.bus.stop()
        store.close()
