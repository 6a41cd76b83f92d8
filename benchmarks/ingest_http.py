"""HTTP batch ingest into the embedded store, through a real server on 127.0.0.1.

Our figure: readings/s for POST /api/v1/telemetry/readings with columnar JSON batches
(device key auth, tag ownership, refining, DuckDB commit per batch), sent by one client.
Reference: the same rows appended straight to a DuckDB store (Arrow batches, no HTTP, no
decoding, no checks), measured in the same run. Target (issue 3): 300,000 readings/s.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import uvicorn
from _plant import bench_plant

from sandan.app import create_app
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.registry import schemas, service
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore

TAGS = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(directory: Path) -> tuple[Settings, Context, str]:
    settings, ctx, s, system, company_id, site_id = bench_plant(directory)
    with s:
        device = service.create_device(s, system, schemas.DeviceIn(site_id=site_id, name="gw"))
        for i in range(TAGS):
            service.create_tag(
                s,
                system,
                schemas.TagIn(device_id=device.id, name=f"t{i}", range_min=0, range_max=1000),
            )
        _, key = identity.issue_device_secret(
            s, device_id=device.id, company_id=company_id, name="gw"
        )
        s.commit()
    return settings, ctx, key


def _bodies(batches: int, per_batch: int) -> tuple[list[bytes], list[pa.Table]]:
    start = datetime.now(UTC) - timedelta(days=1)
    bodies, tables = [], []
    for b in range(batches):
        n0 = b * per_batch
        ts = [start + timedelta(milliseconds=10 * ((n0 + i) // TAGS)) for i in range(per_batch)]
        tags = [(n0 + i) % TAGS for i in range(per_batch)]
        values = [float((n0 + i) % 997) for i in range(per_batch)]
        bodies.append(
            orjson.dumps(
                {"tag": [f"t{t}" for t in tags], "ts": [t.isoformat() for t in ts], "value": values}
            )
        )
        tables.append(
            pa.table(
                {
                    "tag_id": pa.array([t + 1 for t in tags], pa.int32()),
                    "ts": pa.array([t.replace(tzinfo=None) for t in ts], pa.timestamp("us")),
                    "value": pa.array(values, pa.float64()),
                    "quality": pa.array([0] * per_batch, pa.uint8()),
                }
            )
        )
    return bodies, tables


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="2 million readings instead of 500,000")
    batches = 40 if parser.parse_args().full else 10
    per_batch = 50_000
    bodies, tables = _bodies(batches, per_batch)
    total = batches * per_batch

    with tempfile.TemporaryDirectory() as directory:
        settings, ctx, key = _setup(Path(directory))
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
        stored = 0
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as client:
            started = time.perf_counter()
            for body in bodies:
                answer = client.post("/api/v1/telemetry/readings", content=body)
                answer.raise_for_status()
                stored += answer.json()["stored"]
            ours = total / (time.perf_counter() - started)
        server.should_exit = True
        thread.join(timeout=10)

        reference_store = DuckDBStore(Path(directory) / "reference.duckdb")
        started = time.perf_counter()
        for table in tables:
            reference_store.append(table)
        reference = total / (time.perf_counter() - started)
        reference_store.close()

    print(
        json.dumps(
            {
                "metric": "http_ingest_readings_per_second",
                "value": round(ours),
                "unit": "readings/s",
                "reference": round(reference),
                "reference_name": "same rows appended straight to a DuckDB store (Arrow, no HTTP)",
                "ratio": round(ours / reference, 3),
                "target": 300_000,
                "details": {
                    "readings": total,
                    "stored": stored,
                    "batch": per_batch,
                    "tags": TAGS,
                    "clients": 1,
                    "store": "duckdb",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
