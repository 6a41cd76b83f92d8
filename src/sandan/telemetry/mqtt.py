"""MQTT ingest of plain JSON topics: `sandan/v1/<company_id>/<device_id>/data`.

Several ingest processes share the load through an MQTT 5 shared subscription
(`$share/<group>/sandan/v1/+/+/data`): the broker hands each message to one of them.
Messages are buffered for up to `flush_ms` (or `max_messages`), grouped by device, decoded
together into columns and passed through the same `ingest` as HTTP batches.

The broker authenticates devices (username = device id, password = its device key) and its
ACL lets a device publish only under its own topic; this process trusts the topic's device
and still checks that the device belongs to the topic's company, is enabled and owns the tags.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.core.mqtt import Broker
from sandan.telemetry import service
from sandan.telemetry.decode import decode_many
from sandan.telemetry.directory import TagDirectory
from sandan.telemetry.mqtt_wire import (
    MqttWire,
    MqttWireError,
    keep_alive,
    open_wire,
    subscribe,
    supervise,
)
from sandan.telemetry.refine import refine
from sandan.telemetry.store import TelemetryStore

log = structlog.get_logger(__name__)
TOPIC_FILTER = "sandan/v1/+/+/data"


@dataclass
class MqttStats:
    """Counters of one worker (the CLI prints them when it stops)."""

    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    flushes: int = 0
    errors: int = 0
    last_error: str = ""  # why the last connection failed (a refused certificate, ...)
    per_reason: dict[str, int] = field(default_factory=dict)


@functools.lru_cache(maxsize=1 << 17)  # a complex's device topics repeat every flush
def parse_topic(topic: str) -> tuple[int, int] | None:
    """(company_id, device_id) of a data topic, or None when it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:2] != ["sandan", "v1"] or parts[4] != "data":
        return None
    try:
        company, device = int(parts[2]), int(parts[3])
    except ValueError:
        return None
    return (company, device) if company > 0 and device > 0 else None


class MessageIngestor:
    """Messages of many devices, (topic, payload, received_ms), into one refine and one store
    append: the shared back half of the MQTT worker and the in-process simulator feed."""

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        directory: TagDirectory | None = None,
        source: str = "mqtt",
    ) -> None:
        self.db = db
        self.store = store
        self.directory = directory or TagDirectory(db)
        self.source = source
        self.stats = MqttStats()

    def ingest(self, buffer: list[tuple[str, bytes, float]]) -> None:
        """One refine and one store append for the whole flush, whatever the device count."""
        directory = self.directory.fresh()
        payloads: list[bytes] = []
        prefixes: list[str] = []
        senders: list[tuple[int, int]] = []
        refused: list[dict[str, Any]] = []
        received: list[float] = []
        for topic, payload, at in buffer:
            key = parse_topic(topic)
            if key is None:
                refused.append(
                    {"topic": topic, "reason": "not a sandan/v1/<company>/<device>/data topic"}
                )
                continue
            company_id, device_id = key
            if directory.device_company.get(device_id) != company_id:
                refused.append(
                    {
                        "topic": topic,
                        "payload": payload.decode("utf-8", "replace")[:2000],
                        "reason": f"device {device_id} not found or disabled"
                        f" in company {company_id}",
                    }
                )
                continue
            payloads.append(payload)
            prefixes.append(f"{device_id}/")
            senders.append(key)
            received.append(at)
        columns, unreadable, origin = decode_many(payloads, prefixes, received)
        refined = refine(columns, directory.table, now=utcnow(), late_window=service.LATE_WINDOW)
        groups: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for index, field_name, reason in refined.rejects:
            groups[senders[origin[index]]].append(
                {
                    "field": field_name,
                    "reason": reason,
                    "reading": service.reading_of(columns, index),
                }
            )
        for message, reason in unreadable:
            groups[senders[message]].append(
                {"reason": reason, "payload": payloads[message].decode("utf-8", "replace")[:2000]}
            )
        with self.db.unit(Principal.system(f"{self.source}-ingest")) as session:
            stored = service.store_batch(
                session,
                self.store,
                refined.batch,
                source=self.source,
                in_batch_duplicates=refined.in_batch_duplicates,
            )
            for (company_id, device_id), rows in groups.items():
                service.keep_rejects(session, self.source, company_id, device_id, rows)
            if refused:  # no verified company: the operator's to look at
                service.keep_rejects(session, self.source, None, None, refused)
        self.stats.stored += stored
        self.stats.duplicates += refined.batch.num_rows - stored + refined.in_batch_duplicates
        for rows in [*groups.values(), refused]:
            for row in rows:
                self._count(service.reason_of(row), 1)

    def _count(self, reason: str, n: int) -> None:
        self.stats.rejected += n
        self.stats.per_reason[reason] = self.stats.per_reason.get(reason, 0) + n


class MqttIngest:
    """One ingest worker: subscribe, collect, flush batches into the store, then acknowledge.

    A flush starts when `flush_ms` passed since the first message waiting, when the stream
    paused for `idle_ms` (a quiet period, or the broker waiting for our acknowledgements),
    or when `max_messages` wait. While one flush is stored in a thread, the next one is
    received."""

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        url: str | Broker,
        *,
        group: str | None = "sandan",
        client_id: str | None = None,
        flush_ms: int = 100,
        idle_ms: int = 5,
        max_messages: int = 20_000,
        on_flush: Callable[[MqttStats], Awaitable[None]] | None = None,
        directory: TagDirectory | None = None,
        qos: int = 1,
        keepalive: int = 30,
    ) -> None:
        self.broker = Broker.of(url)
        self.tls = self.broker.ssl_context  # made now: a bad CA or key file stops the start
        self.group = group
        self.client_id = client_id
        self.flush_ms = flush_ms
        self.idle_ms = idle_ms
        self.max_messages = max_messages
        self.on_flush = on_flush
        self.qos = qos  # 1: at-least-once with acks; 0: the broker may drop under overload
        self.keepalive = keepalive
        self.ingestor = MessageIngestor(db, store, directory)
        self.stats = self.ingestor.stats
        self.directory = self.ingestor.directory
        self.ready = asyncio.Event()
        self._wire: MqttWire | None = None
        self._stopping = asyncio.Event()

    @property
    def subscription(self) -> str:
        return f"$share/{self.group}/{TOPIC_FILTER}" if self.group else TOPIC_FILTER

    async def run(self) -> None:
        """Consume until stopped, reconnecting with backoff when the broker goes away."""
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self._session()
                delay = 0.5
            except MqttWireError as exc:
                self.stats.errors += 1
                self.stats.last_error = str(exc)
                self.ready.clear()
                log.warning(
                    "mqtt.disconnected", broker=str(self.broker), error=str(exc), retry_in=delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        self._stopping.set()

    async def _session(self) -> None:
        # A named client keeps its session (and the broker its unacknowledged QoS 1
        # messages) for an hour, so a restarted worker gets them again.
        broker = self.broker
        wire = await open_wire(
            broker.host,
            broker.port,
            client_id=self.client_id or f"sandan-ingest-{uuid.uuid4().hex[:12]}",
            username=broker.username,
            password=broker.password,
            clean_start=self.client_id is None,
            session_expiry=3600 if self.client_id else 0,
            keepalive=self.keepalive,
            tls=self.tls,
        )
        self._wire = wire
        try:
            await subscribe(wire, self.subscription, self.qos)
            self.ready.set()
            await supervise(
                [
                    asyncio.create_task(self._pump(wire)),
                    asyncio.create_task(keep_alive(wire, self.keepalive)),
                ],
                asyncio.create_task(self._stopping.wait()),
            )
        finally:
            if not wire.closed.done():
                await self.flush()
            wire.close()
            self._wire = None

    async def _pump(self, wire: MqttWire) -> None:
        """Wait for messages, let a batch gather, ingest it; until the connection fails."""
        while True:
            arrived: asyncio.Future[Any] = asyncio.ensure_future(wire.arrived.wait())
            waiters: list[asyncio.Future[Any]] = [arrived, wire.closed]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            arrived.cancel()
            if wire.closed.done():
                wire.closed.result()
            first = time.monotonic()
            while not wire.closed.done():
                await asyncio.sleep(min(self.idle_ms, self.flush_ms) / 1000)
                quiet_ms = time.time() * 1000 - wire.last_arrival
                if (
                    len(wire.messages) >= self.max_messages
                    or quiet_ms >= self.idle_ms
                    or (time.monotonic() - first) * 1000 >= self.flush_ms
                ):
                    break
            await self.flush()

    async def flush(self) -> None:
        """Ingest what has arrived: one unit of work for the whole flush, acknowledged only
        after it is committed (a worker killed mid-flush leaves the messages unacknowledged
        and the broker sends them again; the store's (tag, ts) key drops what was kept)."""
        wire = self._wire
        if wire is None or not wire.messages:
            return
        buffer, acks = wire.take()
        self.stats.messages += len(buffer)
        await asyncio.to_thread(self.ingestor.ingest, buffer)  # committed when it returns
        wire.ack(acks)
        self.stats.flushes += 1
        if self.on_flush is not None:
            await self.on_flush(self.stats)
