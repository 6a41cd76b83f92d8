"""Publish the simulated machines' readings over the protocols real devices use.

- JSON over MQTT: `sandan/v1/<company_id>/<device_id>/data`, `{"ts": ms, "values": {..}}`
  (the registry ids the JSON ingest worker checks), one connection for all devices.
- Sparkplug B: `sparkplug_edge.py`.
- HTTP: `POST /api/v1/telemetry/readings?device_id=..` with a bearer token, per device.

Each publisher takes the whole step's values (one numpy array over every tag) and the
`Layout` saying which slice belongs to which device.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import threading
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson
from numpy.typing import NDArray

from sandan.core.mqtt import Broker
from sandan.simulator.machines import ComplexSimulator
from sandan.simulator.mqtt_client import PublishWire, connect, publish_packet
from sandan.telemetry.mqtt_wire import MqttWireError

_CHUNK = 512  # packets per socket write


@dataclass(frozen=True)
class Layout:
    """Where each device's tags are in a step's values (tags sorted by device)."""

    names: list[str]
    data_types: list[str]
    device_ids: list[int]
    company_ids: list[int]
    start: list[int]  # device i owns values[start[i]:start[i + 1]]

    @classmethod
    def of(cls, sim: ComplexSimulator, data_types: Sequence[str]) -> Layout:
        if len(sim.tag_device) and (np.diff(sim.tag_device) < 0).any():
            raise ValueError("the simulator's tags must be sorted by device")
        start = np.searchsorted(sim.tag_device, np.arange(len(sim.devices) + 1))
        return cls(
            list(sim.names), list(data_types), list(sim.devices), sim.company.tolist(),
            start.tolist(),
        )  # fmt: skip

    def span(self, i: int) -> tuple[int, int]:
        return self.start[i], self.start[i + 1]


def plain_values(values: NDArray[np.float64], data_types: Sequence[str]) -> list[Any]:
    """Values as a device would write them: floats to 3 decimals, ints, booleans."""
    out = np.round(values, 3).astype(object)
    kinds = np.asarray(data_types)
    ints, bools = kinds == "int", kinds == "bool"
    out[ints] = np.rint(values[ints]).astype(np.int64).astype(object)
    out[bools] = (values[bools] > 0.5).astype(object)
    return list(out.tolist())


@dataclass
class PublishStats:
    messages: int = 0
    readings: int = 0
    errors: int = 0
    last_error: str = ""


class JsonPublisher:
    """JSON messages over MQTT, one per device and step, on one connection, at QoS 0 or 1."""

    def __init__(
        self, broker: Broker, layout: Layout, devices: Sequence[int], qos: int = 0
    ) -> None:
        self.broker, self.layout, self.devices, self.qos = broker, layout, list(devices), qos
        self.stats = PublishStats()
        self._wire: PublishWire | None = None
        self._pinger: asyncio.Task[None] | None = None
        lay = layout
        self._topics = [
            f"sandan/v1/{lay.company_ids[i]}/{lay.device_ids[i]}/data" for i in self.devices
        ]

    async def start(self, at_ms: int, values: NDArray[np.float64]) -> None:
        client_id = f"sandan-sim-{uuid.uuid4().hex[:10]}"
        self._wire, self._pinger = await connect(self.broker, client_id)

    async def publish(self, at_ms: int, values: NDArray[np.float64]) -> None:
        plain = plain_values(values, self.layout.data_types)
        names, spans = self.layout.names, map(self.layout.span, self.devices)
        await self.send(
            (topic, orjson.dumps({"ts": at_ms, "values": dict(zip(names[a:b], plain[a:b],
                                                                   strict=True))}), b - a)
            for topic, (a, b) in zip(self._topics, spans, strict=True)
        )  # fmt: skip

    async def send(self, messages: Iterable[tuple[str, bytes, int]]) -> None:
        """Publish (topic, body, readings in it) on the connection, written in chunks; at
        QoS 1 within the broker's window of unacknowledged messages."""
        wire = self._wire
        assert wire is not None, "start() first"
        pending = list[bytes]()
        for topic, body, readings in messages:
            packet_id = None
            if self.qos:
                if wire.unacked >= wire.window:  # the broker's window is full: wait for PUBACKs
                    wire.send(b"".join(pending))
                    pending = []
                    await wire.room()
                wire.unacked += 1
                packet_id = wire.next_packet_id()
            pending.append(publish_packet(topic, body, packet_id=packet_id))
            if len(pending) >= _CHUNK:
                wire.send(b"".join(pending))
                pending = []
                await wire.drain()
            self.stats.messages += 1
            self.stats.readings += readings
        wire.send(b"".join(pending))
        await wire.drain()

    async def stop(self) -> None:
        wire = self._wire
        if wire is not None and self.qos:  # let the broker acknowledge what is in flight
            wire.window = 1
            with contextlib.suppress(TimeoutError, MqttWireError):
                await asyncio.wait_for(wire.room(), 5)
        await close_wire(wire, self._pinger)


async def close_wire(wire: PublishWire | None, pinger: asyncio.Task[None] | None) -> None:
    if pinger is not None:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError, MqttWireError):
            await pinger
    if wire is not None:
        wire.close()


# --- HTTP -----------------------------------------------------------------------------------


class HttpPublisher:
    """One POST per device and step to the batch ingest route, from a few keep-alive
    connections in threads."""

    def __init__(
        self, api_url: str, token: str, layout: Layout, devices: Sequence[int], workers: int = 8
    ) -> None:
        parts = urlsplit(api_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s):// URL: {api_url!r}")
        self.parts = parts
        self.token, self.layout, self.devices = token, layout, list(devices)
        self.workers = max(1, min(workers, len(self.devices) or 1))
        self.stats = PublishStats()
        self.refused: dict[int, int] = {}  # HTTP status -> count
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sandan-sim-http")
        self._local = threading.local()
        self._lock = threading.Lock()

    async def start(self, at_ms: int, values: NDArray[np.float64]) -> None:
        return None

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self.parts.scheme == "https" else (
                http.client.HTTPConnection)  # fmt: skip
            conn = kind(self.parts.hostname or "127.0.0.1", self.parts.port, timeout=30)
            self._local.conn = conn
        return conn

    def _post(self, device_id: int, body: bytes) -> tuple[int, str]:
        path = f"{self.parts.path}/api/v1/telemetry/readings?device_id={device_id}"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for attempt in (0, 1):  # a keep-alive connection the server closed: reconnect once
            conn = self._connection()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                text = response.read()
                return response.status, text[:300].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                if attempt:
                    return 0, str(exc)
        return 0, "unreachable"

    def _send(self, jobs: list[tuple[int, bytes, int]]) -> None:
        for device_id, body, n in jobs:
            status, text = self._post(device_id, body)
            with self._lock:
                if 200 <= status < 300:
                    self.stats.messages += 1
                    self.stats.readings += n
                else:
                    self.stats.errors += 1
                    self.stats.last_error = f"device {device_id}: HTTP {status} {text}"
                    self.refused[status] = self.refused.get(status, 0) + 1

    async def publish(self, at_ms: int, values: NDArray[np.float64]) -> None:
        plain = plain_values(values, self.layout.data_types)
        jobs: list[tuple[int, bytes, int]] = []
        for i in self.devices:
            a, b = self.layout.span(i)
            body = orjson.dumps(
                {"tag": self.layout.names[a:b], "ts": [at_ms] * (b - a), "value": plain[a:b]}
            )
            jobs.append((self.layout.device_ids[i], body, b - a))
        await self.post(jobs)

    async def post(self, jobs: Sequence[tuple[int, bytes, int]]) -> None:
        """POST each (device id, columnar JSON body, readings in it), spread over the
        connections."""
        shares: list[list[tuple[int, bytes, int]]] = [[] for _ in range(self.workers)]
        for k, job in enumerate(jobs):
            shares[k % self.workers].append(job)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._pool, self._send, j) for j in shares))

    async def stop(self) -> None:
        self._pool.shutdown(wait=True)
