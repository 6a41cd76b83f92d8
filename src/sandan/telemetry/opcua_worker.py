"""OPC UA ingest: one `OpcUaSource` per OPC UA endpoint of the registry, into the store.

A device registered with `protocol="opcua"` and `external_id="opc.tcp://host:port/path"` is
read by subscribing to each of its numeric tags' `source_address` (a node id such as
`ns=2;s=Press1.Power`; `ns=2;s=<tag name>` when empty). Devices that share an endpoint share
one source (one connection, one subscription).

Every source hands its batches to one shared buffer; a flusher takes the buffer every
`flush_ms` and stores it in a thread as the MQTT worker does: one refine, one store append,
one unit of work for the dead letters, whatever the number of machines. A notification with
a bad OPC UA status is stored with quality BAD (one without a value is rejected as not a
finite number). Nodes the server refuses, invalid node ids and non-numeric values are
dead-lettered against their device. The sources are rebuilt when the registry changes
(`invalidate()`, called on `registry.*` events, or every `reload_s`). Each source connects
with its endpoint's security from `OpcUaSecurity` (the operator's security file); refusals
are counted by reason in `stats.refusals` and the `sandan_opcua_security_refusals` metric.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import structlog

from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.core.metrics import Metrics
from sandan.telemetry import service
from sandan.telemetry.decode import Columns
from sandan.telemetry.endpoints import EndpointDevice, EndpointDirectory, opcua_node_id
from sandan.telemetry.mqtt import MqttStats
from sandan.telemetry.opcua import NodeBinding, OpcBatch, OpcUaSource
from sandan.telemetry.opcua_security import REFUSAL_REASONS, OpcUaSecurity
from sandan.telemetry.refine import refine
from sandan.telemetry.store import BAD, TelemetryStore

__all__ = ["OpcUaIngest", "OpcUaIngestor", "OpcUaStats"]

log = structlog.get_logger(__name__)
SOURCE = "opcua"


@dataclass
class OpcUaStats(MqttStats):
    """The MQTT worker's counters (`messages` counts the sources' batches), the values, and
    the connection attempts refused for a security reason, by reason."""

    received: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """What one source reads: its node bindings and who owns each node."""

    url: str
    bindings: tuple[NodeBinding, ...]
    owners: dict[str, EndpointDevice]  # node id -> device (for dead letters)


def endpoints_of(directory: EndpointDirectory) -> dict[str, Endpoint]:
    """Endpoint URL -> the numeric tags of its enabled OPC UA devices as node bindings."""
    out: dict[str, Endpoint] = {}
    for url, devices in directory.endpoints.items():
        if not url:
            continue
        bindings: list[NodeBinding] = []
        owners: dict[str, EndpointDevice] = {}
        for device in devices:
            for tag in device.tags.values():
                if tag.data_type == "str":
                    continue
                node_id = opcua_node_id(tag.name, tag.source_address)
                bindings.append(NodeBinding(node_id, tag.tag_id))
                owners.setdefault(node_id, device)
        if bindings:
            out[url] = Endpoint(url, tuple(bindings), owners)
    return out


class OpcUaIngestor:
    """The back half: batches of many sources into one refine and one store append."""

    def __init__(self, db: Database, store: TelemetryStore, directory: EndpointDirectory) -> None:
        self.db = db
        self.store = store
        self.directory = directory
        self.stats = OpcUaStats()

    def ingest(self, batches: list[tuple[Endpoint, OpcBatch]]) -> None:
        """Store the batches; returns once committed."""
        directory = self.directory
        directory.fresh()
        tag_ids = np.array([t for _, b in batches for t in b.tag_ids], np.int32)
        ts_us = np.array([t for _, b in batches for t in b.ts_us], np.int64)
        values = np.array([v for _, b in batches for v in b.values], np.float64)
        bad = np.array([s for _, b in batches for s in b.status_bad], bool)
        columns = Columns(
            tags=pa.array(tag_ids, pa.int32()),
            ts=pa.array(ts_us, pa.int64()).cast(pa.timestamp("us")),
            value=pa.array(values, pa.float64()),
        )
        refined = refine(columns, directory.table, now=utcnow(), late_window=service.LATE_WINDOW)
        batch = _mark_bad(refined.batch, tag_ids[bad], ts_us[bad]) if bad.any() else refined.batch
        groups: dict[tuple[int | None, int | None], list[dict[str, Any]]] = {}
        owners = directory.tag_owner
        for index, field_name, reason in refined.rejects:
            device = owners.get(int(tag_ids[index]))
            groups.setdefault(_key(device), []).append(
                {
                    "field": field_name,
                    "reason": reason,
                    "reading": service.reading_of(columns, index),
                }
            )
        for endpoint, b in batches:
            for node_id, reason in b.rejects:
                device = endpoint.owners.get(node_id)
                groups.setdefault(_key(device), []).append(
                    {"reason": reason, "node_id": node_id, "endpoint": endpoint.url}
                )
        with self.db.unit(Principal.system(f"{SOURCE}-ingest")) as session:
            stored = service.store_batch(session, self.store, batch, source=SOURCE)
            for (company_id, device_id), rows in groups.items():
                service.keep_rejects(session, SOURCE, company_id, device_id, rows)
        self.stats.received += len(tag_ids)
        self.stats.stored += stored
        self.stats.duplicates += batch.num_rows - stored + refined.in_batch_duplicates
        self.stats.flushes += 1
        for rows in groups.values():
            for row in rows:
                reason = service.reason_of(row)
                self.stats.rejected += 1
                self.stats.per_reason[reason] = self.stats.per_reason.get(reason, 0) + 1


def _key(device: EndpointDevice | None) -> tuple[int | None, int | None]:
    return (None, None) if device is None else (device.company_id, device.device_id)


def _mark_bad(batch: pa.Table, bad_tags: np.ndarray, bad_ts_us: np.ndarray) -> pa.Table:
    """Quality BAD for the readings the server flagged with a bad status."""
    flagged = set(zip(bad_tags.tolist(), bad_ts_us.tolist(), strict=True))
    ts = batch.column("ts").cast(pa.int64()).to_numpy()
    tags = batch.column("tag_id").to_numpy()
    candidates = np.flatnonzero(np.isin(ts, bad_ts_us))  # few: a prefilter on time alone
    hits = [i for i in candidates.tolist() if (int(tags[i]), int(ts[i])) in flagged]
    if not hits:
        return batch
    quality = batch.column("quality").to_numpy().copy()
    quality[hits] = BAD
    index = batch.schema.get_field_index("quality")
    return batch.set_column(index, "quality", pa.array(quality, pa.uint8()))


class OpcUaIngest:
    """Keeps one `OpcUaSource` per OPC UA endpoint of the registry and stores what they
    collect. `run()` until `stop()`; `invalidate()` after a registry change."""

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        *,
        directory: EndpointDirectory | None = None,
        flush_ms: float = 200,
        reload_s: float = 10.0,
        max_rows: int = 100_000,
        on_flush: Callable[[OpcUaStats], Awaitable[None]] | None = None,
        source_options: dict[str, Any] | None = None,
        security: OpcUaSecurity | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.directory = directory or EndpointDirectory(db, "opcua")
        self.ingestor = OpcUaIngestor(db, store, self.directory)
        self.stats = self.ingestor.stats
        self.flush_ms = flush_ms
        self.reload_s = reload_s
        self.max_rows = max_rows
        self.on_flush = on_flush
        self.source_options = dict(source_options or {})
        self.security = security or OpcUaSecurity()
        self.metrics = metrics
        if metrics is not None:  # every reason shows (at 0) from the start
            for reason in REFUSAL_REASONS:
                metrics.opcua_refusals.labels(reason)
        self.sources: dict[str, tuple[Endpoint, OpcUaSource, asyncio.Task[None]]] = {}
        self.ready = asyncio.Event()  # the first sync with the registry is done
        self._pending: list[tuple[Endpoint, OpcBatch]] = []
        self._pending_rows = 0
        self._flushed = asyncio.Event()
        self._reload = asyncio.Event()
        self._stopping = asyncio.Event()
        self._closing = asyncio.Event()  # the sources are gone: the flusher's last round

    def invalidate(self) -> None:
        """The registry changed: reload it and rebuild the sources that changed."""
        self.directory.invalidate()
        self._reload.set()

    async def stop(self) -> None:
        self._stopping.set()

    @property
    def connected(self) -> int:
        return sum(1 for _, source, _ in self.sources.values() if source.connected)

    async def run(self) -> None:
        flusher = asyncio.create_task(self._flush_loop())
        try:
            while not self._stopping.is_set():
                self._reload.clear()
                try:
                    await self._sync()
                except Exception:  # the registry database away: keep the sources we have
                    log.exception("opcua.sync_failed")
                self.ready.set()
                waits = [
                    asyncio.create_task(self._reload.wait()),
                    asyncio.create_task(self._stopping.wait()),
                ]
                await asyncio.wait(waits, timeout=self.reload_s, return_when="FIRST_COMPLETED")
                for task in waits:
                    task.cancel()
        finally:
            self._stopping.set()
            for url in list(self.sources):
                await self._drop(url)  # each source hands over what it still holds
            self._closing.set()
            await flusher

    async def _sync(self) -> None:
        await asyncio.to_thread(self.directory.fresh)
        wanted = endpoints_of(self.directory)
        for url, (endpoint, _, _) in list(self.sources.items()):
            if url not in wanted or wanted[url].bindings != endpoint.bindings:
                await self._drop(url)
        for url, endpoint in wanted.items():
            if url not in self.sources:
                self._start(endpoint)

    def _start(self, endpoint: Endpoint) -> None:
        async def on_batch(batch: OpcBatch) -> None:
            self.stats.messages += 1
            self._pending.append((endpoint, batch))
            self._pending_rows += len(batch)
            while self._pending_rows >= self.max_rows and not self._stopping.is_set():
                self._flushed.clear()  # backpressure: the store is behind
                await self._flushed.wait()

        security = self.security.for_endpoint(endpoint.url)
        source = OpcUaSource(
            endpoint.url,
            list(endpoint.bindings),
            on_batch,
            security=security,
            on_refused=self._refused,
            **self.source_options,
        )
        task = asyncio.create_task(source.run(), name=f"opcua-{endpoint.url}")
        self.sources[endpoint.url] = (endpoint, source, task)
        log.info(
            "opcua.source_started",
            endpoint=endpoint.url,
            nodes=len(endpoint.bindings),
            policy=security.policy if security else "None",
            mode=security.mode if security else None,
            user=security.username if security else None,
        )

    def _refused(self, reason: str) -> None:
        self.stats.refusals[reason] = self.stats.refusals.get(reason, 0) + 1
        if self.metrics is not None:
            self.metrics.opcua_refusals.labels(reason).inc()

    async def _drop(self, url: str) -> None:
        _, source, task = self.sources.pop(url)
        await source.stop()
        with contextlib.suppress(Exception):
            await task

    async def _flush_loop(self) -> None:
        while True:
            closing = self._closing.is_set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.flush_ms / 1000)
            await self.flush()
            if closing:
                return

    async def flush(self) -> None:
        """Store what the sources handed over so far."""
        if not self._pending:
            self._flushed.set()
            return
        pending, self._pending, self._pending_rows = self._pending, [], 0
        try:
            await asyncio.to_thread(self.ingestor.ingest, pending)
        except Exception:  # the database away: keep the batches for the next round
            log.exception("opcua.flush_failed", batches=len(pending))
            self._pending[:0] = pending
            self._pending_rows += sum(len(b) for _, b in pending)
            if self._closing.is_set():
                raise
        self._flushed.set()
        if self.on_flush is not None:
            await self.on_flush(self.stats)
