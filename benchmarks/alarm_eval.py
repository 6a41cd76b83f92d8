"""Alarm evaluation: throughput of the vectorised evaluator, and the time from a reading to a
visible alarm under the HTTP ingest benchmark's load.

1. Throughput (the figure): readings/s of `engine.evaluate` on one batch of 1,000,000
   readings against 10,000 definitions (one tag each; H, HH and L with deadband, on- and
   off-delays: hysteresis, delays, state carried in and out). Reference, in the same run: the
   floor of any evaluator, a bare numpy pass over the same arrays (gather each reading's three
   limits by tag and compare), with no deadband, delays, state or transitions.
2. Latency (details): a real server on 127.0.0.1 takes the ingest benchmark's load (one client
   posting 50,000-reading columnar batches over 100 tags, each tag with an alarm definition the
   load never trips) while a probe client sends single readings that trip an alarm on a probe
   tag and polls GET /api/v1/safety/alarms until the alarm is there. We report p50/p99 from
   sending the reading to seeing the alarm, and as its reference the p99 of the probe's POST
   alone (reading stored and committed).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import uvicorn
from _plant import bench_plant
from ingest_http import TAGS, _bodies, _free_port

from sandan.app import create_app
from sandan.core.identity import service as identity
from sandan.registry import schemas, service
from sandan.safety.alarms import engine
from sandan.safety.alarms.definitions import create_definition
from sandan.safety.alarms.schemas import DefinitionIn

S = 1_000_000


def throughput(n_defs: int, per_tag: int, repeat: int = 3) -> dict[str, float]:
    """Best-of-`repeat` readings/s of the evaluator and of the bare comparison floor."""
    rng = np.random.default_rng(1)
    n = n_defs * per_tag
    tag = np.repeat(np.arange(n_defs, dtype=np.int64), per_tag)
    ts = np.tile(np.arange(per_tag, dtype=np.int64) * S, n_defs)
    value = 50 + 12 * np.sin(ts / S / 7 + tag) + rng.normal(0, 2, n)
    order = rng.permutation(n)  # readings arrive interleaved, as from many devices
    tag, ts, value = tag[order], ts[order], value[order]
    limits = np.tile([70.0, 60.0, 30.0, np.nan, np.nan], (n_defs, 1))
    defs = engine.Definitions(
        tag_id=np.arange(n_defs, dtype=np.int64),
        limits=limits,
        deadband=np.full(n_defs, 2.0),
        on_delay_us=np.full(n_defs, 3 * S, np.int64),
        off_delay_us=np.full(n_defs, 5 * S, np.int64),
    )
    ours, floor, moves = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        _, transitions = engine.evaluate(defs, engine.EngineState.fresh(n_defs), tag, ts, value)
        ours.append(time.perf_counter() - started)
        moves = len(transitions)
        started = time.perf_counter()
        slot = np.searchsorted(defs.tag_id, tag)
        hit = (value > limits[slot, 0]) | (value > limits[slot, 1]) | (value < limits[slot, 2])
        floor.append(time.perf_counter() - started)
        assert hit.any()
    return {"ours": n / min(ours), "floor": n / min(floor), "readings": n, "transitions": moves}


def _setup(directory: Path):  # type: ignore[no-untyped-def]
    settings, ctx, s, system, company_id, site_id = bench_plant(directory)
    with s:
        device = service.create_device(s, system, schemas.DeviceIn(site_id=site_id, name="gw"))
        probe_device = service.create_device(
            s, system, schemas.DeviceIn(site_id=site_id, name="probe")
        )
        tag_ids = []
        for i in range(TAGS):
            tag = service.create_tag(
                s,
                system,
                schemas.TagIn(device_id=device.id, name=f"t{i}", range_min=0, range_max=1000),
            )
            tag_ids.append(tag.id)
        probe = service.create_tag(s, system, schemas.TagIn(device_id=probe_device.id, name="gas"))
        for tag_id in tag_ids:  # evaluated on every load batch, never tripped
            create_definition(s, system, DefinitionIn(tag_id=tag_id, name="load", h=5000))
        create_definition(s, system, DefinitionIn(tag_id=probe.id, name="probe", h=10))
        _, key = identity.issue_device_secret(
            s, device_id=device.id, company_id=company_id, name="gw"
        )
        _, probe_key = identity.issue_device_secret(
            s, device_id=probe_device.id, company_id=company_id, name="probe"
        )
        user = identity.create_user(
            s,
            system,
            email="ops@bench.example",
            name="ops",
            password="bench-password-1",
            role="safety_operator",
        )
        _, token = identity.issue_api_token(
            s,
            identity.principal_for(user),
            name="b",
            scopes=["registry:read", "safety:operate"],
            days=1,
        )
        s.commit()
    return settings, ctx, key, probe_key, token


def latency(seconds: float) -> dict[str, float]:
    """Reading → visible alarm under the ingest load, through a real server."""
    with tempfile.TemporaryDirectory() as directory:
        settings, ctx, key, probe_key, token = _setup(Path(directory))
        bodies, _ = _bodies(10, 50_000)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, with_ui=False, ctx=ctx),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        stop = threading.Event()
        loaded = [0]

        def load() -> None:
            with httpx.Client(
                base_url=base,
                timeout=120,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            ) as client:
                i = 0
                while not stop.is_set():
                    answer = client.post("/api/v1/telemetry/readings", content=bodies[i % 10])
                    answer.raise_for_status()
                    loaded[0] += 50_000
                    i += 1

        loader = threading.Thread(target=load, daemon=True)
        started = time.perf_counter()
        loader.start()
        to_alarm, to_store = [], []
        probe = httpx.Client(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {probe_key}"}
        )
        ops = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
        while time.perf_counter() - started < seconds:
            now = datetime.now(UTC)
            sent = time.perf_counter()
            answer = probe.post(
                "/api/v1/telemetry/readings",
                json={"tag": ["gas"], "ts": [now.isoformat()], "value": [100.0]},
            )
            answer.raise_for_status()
            to_store.append(time.perf_counter() - sent)
            while True:
                seen = ops.get("/api/v1/safety/alarms", params={"state": "unacknowledged"}).json()
                if seen["items"]:
                    break
            to_alarm.append(time.perf_counter() - sent)
            alarm_id = seen["items"][0]["id"]
            clear = (now + timedelta(milliseconds=1)).isoformat()
            probe.post(
                "/api/v1/telemetry/readings", json={"tag": ["gas"], "ts": [clear], "value": [0.0]}
            ).raise_for_status()
            ops.post(f"/api/v1/safety/alarms/{alarm_id}/ack", json={}).raise_for_status()
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        loader.join(timeout=120)
        probe.close()
        ops.close()
        server.should_exit = True
        thread.join(timeout=10)
    ms = np.array(to_alarm) * 1000
    return {
        "probes": len(to_alarm),
        "p50_reading_to_alarm_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_reading_to_alarm_ms": round(float(np.percentile(ms, 99)), 1),
        "p99_reading_stored_ms": round(float(np.percentile(np.array(to_store) * 1000, 99)), 1),
        "load_readings_per_s": round(loaded[0] / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="3 M readings, 90 s of load")
    full = parser.parse_args().full
    rates = throughput(10_000, 300 if full else 100)
    lat = latency(90 if full else 30)
    print(
        json.dumps(
            {
                "metric": "alarm_evaluation_readings_per_second",
                "value": round(rates["ours"]),
                "unit": "readings/s",
                "reference": round(rates["floor"]),
                "reference_name": "bare numpy pass over the same arrays: gather 3 limits, compare",
                "ratio": round(rates["ours"] / rates["floor"], 3),
                "target": None,
                "details": {
                    "definitions": 10_000,
                    "readings_per_batch": rates["readings"],
                    "transitions": rates["transitions"],
                    **lat,
                    "p99_reference": "p99_reading_stored_ms: the probe's POST alone",
                    "load": "ingest_http batches: 50,000 readings, 100 tags with a definition each",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
