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
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.telemetry import service
from sandan.telemetry.decode import decode_many
from sandan.telemetry.directory import TagDirectory
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
    per_reason: dict[str, int] = field(default_factory=dict)


def _bytes(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else str(payload).encode()


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
            stored = service.store_batch(session, self.store, refined.batch, source=self.source)
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
    """One ingest worker: subscribe, buffer, flush batches into the store."""

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        url: str,
        *,
        group: str | None = "sandan",
        client_id: str | None = None,
        flush_ms: int = 100,
        max_messages: int = 20_000,
        on_flush: Callable[[MqttStats], Awaitable[None]] | None = None,
        directory: TagDirectory | None = None,
        qos: int = 1,
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.username = parts.username
        self.password = parts.password
        self.db = db
        self.store = store
        self.group = group
        self.client_id = client_id
        self.flush_ms = flush_ms
        self.max_messages = max_messages
        self.on_flush = on_flush
        self.qos = qos  # 1: at-least-once with acks; 0: the broker may drop under overload
        self.ingestor = MessageIngestor(db, store, directory)
        self.stats = self.ingestor.stats
        self.directory = self.ingestor.directory
        self.ready = asyncio.Event()
        self._buffer: list[tuple[str, bytes, float]] = []
        self._acks: list[tuple[int, int]] = []
        self._paho: Any = None
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
            except aiomqtt.MqttError as exc:
                self.stats.errors += 1
                self.ready.clear()
                log.warning("mqtt.disconnected", error=str(exc), retry_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        self._stopping.set()

    async def _session(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600  # keep queued QoS 1 messages across restarts
        client = aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.client_id,
            username=self.username,
            password=self.password,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=self.client_id is None,
            properties=properties,
            max_queued_incoming_messages=0,
        )
        # Acknowledge a QoS 1 message only after its readings are committed: a worker killed
        # mid-flush leaves them unacknowledged and the broker sends them again (the store's
        # (tag, ts) key drops what was already kept).
        client._client.manual_ack_set(True)
        self._paho = client._client
        async with client:
            await client.subscribe(self.subscription, qos=self.qos)
            self.ready.set()
            tasks = [
                asyncio.create_task(self._flush_periodically()),
                asyncio.create_task(self._consume(client)),
                asyncio.create_task(self._stopping.wait()),
            ]
            try:
                done, _ = await asyncio.wait(tasks[1:], return_when=asyncio.FIRST_COMPLETED)
                if tasks[1] in done:
                    tasks[1].result()  # the connection failed: raise to reconnect
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                        await task
                await self.flush()

    async def _consume(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.stats.messages += 1
            self._buffer.append((str(message.topic), _bytes(message.payload), time.time() * 1000))
            self._acks.append((message.mid, message.qos))
            if len(self._buffer) >= self.max_messages:
                await self.flush()

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_ms / 1000)
            await self.flush()

    async def flush(self) -> None:
        """Ingest what is buffered: one unit of work for the whole flush."""
        if not self._buffer:
            return
        buffer, self._buffer = self._buffer, []
        acks, self._acks = self._acks, []
        await asyncio.to_thread(self.ingestor.ingest, buffer)  # committed when it returns
        for mid, qos in acks:
            if qos > 0 and self._paho is not None:
                self._paho.ack(mid, qos)
        self.stats.flushes += 1
        if self.on_flush is not None:
            await self.on_flush(self.stats)
