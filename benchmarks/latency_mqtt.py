"""Latency from an MQTT publish until the value is visible in the latest-value API, at half the
maximum ingest rate.

Set-up: a Mosquitto this script starts; the platform (`create_app` with the in-process MQTT
ingest worker and the embedded DuckDB store) served by uvicorn in its own process; a load
generator process publishing ThingsBoard-shaped messages (5,000 devices, three data points)
at `--rate` msg/s, half of what `ingest_mqtt.py` reaches on this machine; and, in this
process, a prober: every 50 ms it publishes a fresh value for a probe tag and polls
`GET /api/v1/telemetry/latest` (every millisecond) until the value shows, as a client would.

Reference, measured in the same run under the same load: the broker's own delivery latency,
publish until a bare subscriber receives the message. Target (issue 3): p99 <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import numpy as np
import orjson
from _mqtt_load import publish_all
from _plant import bench_plant
from ingest_mqtt import BROKER_CONF, DEVICES, HOST

from sandan.core.identity import service as identity
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.registry.models import Device, Tag
from sandan.settings import Settings

PROBES = int(os.environ.get("PROBES", "200"))  # fewer for a quick look


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _setup(directory: Path) -> tuple[Settings, int, list[int], int, int, str]:
    """Devices for the load, one probe device with one tag, a user token to read it."""
    settings, _ctx, s, system, company_id, site_id = bench_plant(directory)
    with s:
        devices = [
            Device(company_id=company_id, site_id=site_id, name=f"meter-{i}")
            for i in range(DEVICES + 1)
        ]
        s.add_all(devices)
        s.flush()
        s.add_all(
            Tag(company_id=company_id, device_id=d.id, name=name)
            for d in devices
            for name in ("temperature", "humidity", "pressure")
        )
        s.flush()
        probe = devices[-1]
        probe_tag = s.query(Tag).filter_by(device_id=probe.id, name="temperature").one()
        user = identity.create_user(
            s,
            system,
            email="reader@bench.example",
            name="reader",
            password="bench-password-1",
            role=Role.company_member.value,
            company_id=company_id,
        )
        _, token = identity.issue_api_token(
            s,
            identity.principal_for(user),
            name="bench",
            scopes=[sc.value for sc in ROLE_SCOPES[Role.company_member]],
            days=1,
        )
        ids = [d.id for d in devices[:-1]]
        result = (settings, company_id, ids, probe.id, probe_tag.id, token)
        s.commit()
    return result


def _serve(data_dir: str, mqtt_port: int, http_port: int) -> None:
    """The platform process: API + in-process MQTT ingest worker, embedded store."""
    import uvicorn

    from sandan.app import create_app

    settings = Settings(
        data_dir=Path(data_dir),
        secret_key="bench",
        mqtt_ingest=True,
        mqtt_url=f"mqtt://{HOST}:{mqtt_port}",
    )
    app = create_app(settings, with_ui=False)
    uvicorn.run(app, host=HOST, port=http_port, log_level="warning")


def _load(company_id: int, device_ids: list[int], rate: int, seconds: float, port: int) -> None:
    """Publish at `rate` msg/s for `seconds` (in chunks of 1/100 s)."""
    topics = [f"sandan/v1/{company_id}/{device}/data".encode() for device in device_ids]
    start_ms = int(datetime.now(UTC).timestamp() * 1000) - 60_000

    def paced() -> Any:
        began = time.perf_counter()
        per_tick = max(1, rate // 100)
        n = 0
        while time.perf_counter() - began < seconds:
            for _ in range(per_tick):
                i = n % len(topics)
                payload = orjson.dumps(
                    {
                        "ts": start_ms + n // len(topics) + i % 1000,
                        "values": {"temperature": 20 + i % 30, "humidity": 50, "pressure": 1000},
                    }
                )
                yield topics[i], payload
                n += 1
            lag = began + n / rate - time.perf_counter()
            if lag > 0:
                time.sleep(lag)

    publish_all(HOST, port, paced(), qos=1, chunk=max(1, rate // 100))


async def _probe_api(
    mqtt_port: int, http_port: int, company_id: int, device: int, tag: int, token: str
) -> list[float]:
    topic = f"sandan/v1/{company_id}/{device}/data"
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiomqtt.Client(HOST, mqtt_port) as client,
        httpx.AsyncClient(base_url=f"http://{HOST}:{http_port}", headers=headers) as http,
    ):
        for n in range(PROBES):
            value = 1000 + n
            sent = time.perf_counter()
            body = {"ts": int(time.time() * 1000), "values": {"temperature": value}}
            await client.publish(topic, orjson.dumps(body), qos=1)
            while time.perf_counter() - sent < 10:
                answer = (await http.get("/api/v1/telemetry/latest", params={"tag_id": tag})).json()
                if answer and answer[0]["value"] == value:
                    latencies.append(time.perf_counter() - sent)
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.05)
    return latencies


async def _probe_broker(mqtt_port: int) -> list[float]:
    """The reference: publish until a bare subscriber has the message."""
    topic = f"probe/{uuid.uuid4().hex[:8]}"
    latencies: list[float] = []
    async with aiomqtt.Client(HOST, mqtt_port) as sub, aiomqtt.Client(HOST, mqtt_port) as pub:
        await sub.subscribe(topic, qos=1)
        messages = sub.messages
        for n in range(PROBES):
            sent = time.perf_counter()
            await pub.publish(topic, str(n).encode(), qos=1)
            async for message in messages:
                if message.payload == str(n).encode():
                    latencies.append(time.perf_counter() - sent)
                    break
            await asyncio.sleep(0.05)
    return latencies


def _wait_http(port: int) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"http://{HOST}:{port}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the platform did not start")


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ms = np.array(values) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=14_000, help="background load, msg/s")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as directory:
        import subprocess

        mqtt_port, http_port = _free_port(), _free_port()
        conf = Path(directory) / "mosquitto.conf"
        conf.write_text(BROKER_CONF.format(port=mqtt_port))
        broker = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, company_id, ids, probe_device, probe_tag, token = _setup(Path(directory))
        server = spawn.Process(target=_serve, args=(directory, mqtt_port, http_port))
        server.start()
        try:
            _wait_http(http_port)
            seconds = PROBES * 0.25 + 10  # outlasts both probe runs
            load = spawn.Process(
                target=_load, args=(company_id, ids, args.rate, seconds, mqtt_port)
            )
            load.start()
            time.sleep(2)  # let the load reach its pace
            ours = asyncio.run(
                _probe_api(mqtt_port, http_port, company_id, probe_device, probe_tag, token)
            )
            reference = asyncio.run(_probe_broker(mqtt_port))
            load.join()
        finally:
            server.terminate()
            server.join()
            broker.terminate()
    ours_p, ref_p = _percentiles(ours), _percentiles(reference)
    print(
        json.dumps(
            {
                "metric": "mqtt_publish_to_latest_api_p99",
                "value": ours_p["p99_ms"],
                "unit": "ms",
                "reference": ref_p["p99_ms"],
                "reference_name": "broker delivery to a bare subscriber (publish to receipt), "
                "same load and broker",
                "ratio": round(ours_p["p99_ms"] / ref_p["p99_ms"], 2)
                if ours_p["p99_ms"] and ref_p["p99_ms"]
                else None,
                "target": 1000,
                "details": {
                    "ours": ours_p,
                    "reference": ref_p,
                    "probes": PROBES,
                    "probes_seen": len(ours),
                    "background_rate_msg_s": args.rate,
                    "background_points_s": args.rate * 3,
                    "devices": DEVICES,
                    "qos": 1,
                    "store": "embedded DuckDB",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
