"""OPC UA collector: subscribe to a machine's variables and hand them on as column batches.

Machines that speak OPC UA push value changes through one subscription (data change
notifications) instead of being polled, so the collector sees every change the server
samples without loading the PLC. Notifications are buffered and flushed as column lists
(`OpcBatch`) that turn straight into numpy arrays or a pyarrow table.

The connection is owned here, not by asyncua's own auto-reconnect, so that the backoff is
jittered and capped the same way as our other collectors and the state an operator watches
(`connected`, `reconnects`, `last_error`) is ours to expose. Each (re)connect builds a fresh
client and a fresh subscription: a restarted server has forgotten the old session anyway.

With an `EndpointSecurity` (`opcua_security/`) every attempt first checks the server's
certificate and sets policy, mode and user; a refusal for a security reason is kept apart
(`refused`, `refusals`, `on_refused`) so an operator can tell it from a server that is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent, Subscription

from sandan.telemetry.opcua_security import (
    EndpointSecurity,
    SecurityRefused,
    refusal_of,
    secure_client,
)

log = structlog.get_logger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_TEARDOWN_S = 2.0
_ITEMS_PER_CALL = 500


@dataclass(frozen=True, slots=True)
class NodeBinding:
    """Which OPC UA variable (e.g. `ns=2;s=Line1.Temp`) feeds which Sandan tag."""

    node_id: str
    tag_id: int


@dataclass(slots=True)
class OpcBatch:
    """Buffered notifications as parallel columns, so callers build arrays without loops.

    `tag_ids`, `ts_us`, `values` and `status_bad` have one entry per accepted notification;
    `rejects` holds `(node_id, reason)` for values that cannot become a float and for
    nodes the server refused to monitor.
    """

    tag_ids: list[int] = field(default_factory=list)
    ts_us: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    status_bad: list[bool] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tag_ids)

    def is_empty(self) -> bool:
        return not self.tag_ids and not self.rejects


class _ConnectionLost(ConnectionError):
    """Raised inside a session when the server is gone; the run loop reconnects."""


@dataclass(slots=True)
class _Conn:
    """One connection attempt: its client, its loss signal, whether a session was opened."""

    client: Client
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    opened: bool = False


def to_float(value: Any) -> float | str:
    """The value as a float, or the reason it is rejected (numeric tags only store floats)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return "null value"
    if isinstance(value, list | tuple):
        return "non-scalar value"
    return f"non-numeric value ({type(value).__name__})"


def to_us(ts: datetime | None) -> int | None:
    """UTC microseconds since the epoch; None for a missing or null (1601/1970) timestamp."""
    if ts is None:
        return None
    if ts.tzinfo is None:  # asyncua hands out naive UTC datetimes in some paths
        ts = ts.replace(tzinfo=UTC)
    us = (ts - _EPOCH) // _US
    return us if us > 0 else None


def now_us() -> int:
    return time.time_ns() // 1000


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OpcUaSource:
    """One OPC UA endpoint: keep a subscription alive and flush batches to `on_batch`.

    Use `await source.run()` in a task and `await source.stop()` to end it; `run()` only
    returns after the last buffered values were handed to `on_batch`.
    """

    def __init__(
        self,
        endpoint: str,
        nodes: list[NodeBinding],
        on_batch: Callable[[OpcBatch], Awaitable[None]],
        *,
        publishing_interval_ms: float = 200,
        batch_max: int = 1000,
        flush_ms: float = 200,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        request_timeout: float = 4.0,
        watchdog_s: float = 1.0,
        queue_size: int = 10,
        security: EndpointSecurity | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        if batch_max < 1 or flush_ms <= 0 or publishing_interval_ms <= 0:
            raise ValueError("batch_max, flush_ms and publishing_interval_ms must be positive")
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ValueError("need 0 < backoff_initial <= backoff_max")
        self.endpoint = endpoint
        self.nodes = list(nodes)
        self.on_batch = on_batch
        self.publishing_interval_ms = publishing_interval_ms
        self.batch_max = batch_max
        self.flush_ms = flush_ms
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.request_timeout = request_timeout
        self.watchdog_s = watchdog_s
        self.queue_size = queue_size
        self.security = security
        self.on_refused = on_refused

        # What an operator watches.
        self.connected = False
        self.reconnects = 0
        self.last_error: str | None = None
        self.batches = 0
        self.refused: str | None = None  # the reason while the server refuses us, else None
        self.refusals = 0

        self._buffer = OpcBatch()
        self._wake = asyncio.Event()  # flush now (batch_max reached, loss, stop)
        self._drained = asyncio.Event()  # the flusher took the buffer
        self._closing = False
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._flusher: asyncio.Task[None] | None = None
        self._reported: set[str] = set()  # node ids already rejected once
        self._by_node: dict[ua.NodeId, list[NodeBinding]] = {}
        for binding in self.nodes:
            try:
                nid = ua.NodeId.from_string(binding.node_id)
            except Exception as exc:  # a typo in one binding must not stop the others
                self._reject_once(binding.node_id, f"invalid node id: {_describe(exc)}")
                continue
            self._by_node.setdefault(nid, []).append(binding)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, subscribe and collect until `stop()`; reconnect with backoff on any loss."""
        if self._running:
            raise RuntimeError("OpcUaSource.run() is already running")
        self._running = True
        self._closing = False
        self._done.clear()
        flusher = self._flusher = asyncio.create_task(self._flush_loop(), name="opcua-flush")
        attempt = 0
        ever_connected = False
        try:
            while not self._stop.is_set():
                conn = _Conn(self._make_client())
                was_connected = False
                try:
                    sub = await asyncio.wait_for(self._connect(conn), self.request_timeout * 8)
                    if ever_connected:
                        self.reconnects += 1
                    ever_connected = True
                    attempt = 0
                    self.connected = was_connected = True
                    self.refused = None
                    log.info("opcua.connected", endpoint=self.endpoint, reconnects=self.reconnects)
                    await self._collect(sub, conn.lost)
                except Exception as exc:
                    refusal = refusal_of(exc, self.security)
                    if refusal is not None:
                        self._refuse(refusal)
                    else:
                        self._failed(exc, was_connected, attempt)
                finally:
                    self.connected = False
                    await self._teardown(conn)
                self._wake.set()  # what arrived before the loss is still good data
                if self._stop.is_set():
                    break
                delay = self._backoff(attempt)
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            # The flusher is never cancelled mid-callback: it does a last flush and exits.
            self.connected = False
            self._closing = True
            self._wake.set()
            await flusher
            self._running = False
            self._done.set()

    async def stop(self) -> None:
        """Ask `run()` to end and wait until it has flushed and disconnected.

        Called from inside `on_batch` it only asks (waiting there would deadlock). A stopped
        source stays stopped; make a new one to collect again.
        """
        self._stop.set()
        if self._running and asyncio.current_task() is not self._flusher:
            await self._done.wait()

    def _failed(self, exc: Exception, was_connected: bool, attempt: int) -> None:
        lost = isinstance(exc, _ConnectionLost)
        self.last_error = str(exc) if lost else _describe(exc)
        # One warning per outage; the retries of a dead endpoint stay at debug.
        event = "opcua.connection_lost" if was_connected else "opcua.connect_failed"
        level = log.warning if was_connected or attempt == 0 else log.debug
        level(event, endpoint=self.endpoint, error=self.last_error, attempt=attempt)

    def _refuse(self, refusal: SecurityRefused) -> None:
        """Counted every time; a warning when a refusal starts or its reason changes."""
        self.last_error = str(refusal)
        self.refusals += 1
        level = log.warning if refusal.reason != self.refused else log.debug
        self.refused = refusal.reason
        level(
            "opcua.security_refused",
            endpoint=self.endpoint,
            reason=refusal.reason,
            error=self.last_error,
        )
        if self.on_refused is not None:
            self.on_refused(refusal.reason)

    def _backoff(self, attempt: int) -> float:
        """Exponential with 'equal jitter', so many collectors don't retry in lockstep."""
        cap = min(self.backoff_max, self.backoff_initial * (2 ** min(attempt, 32)))
        return random.uniform(cap / 2, cap)

    # -- one connection ------------------------------------------------------------------------

    def _make_client(self) -> Client:
        # asyncua's own reconnect stays off: we rebuild client and subscription ourselves.
        return Client(
            self.endpoint,
            timeout=self.request_timeout,
            watchdog_intervall=self.watchdog_s,
            auto_reconnect=False,
        )

    async def _connect(self, conn: _Conn) -> Subscription:
        """Open the session and one subscription with a monitored item per known node."""
        client = conn.client

        async def on_lost(exc: Exception) -> None:
            self.last_error = _describe(exc)
            conn.lost.set()

        client.connection_lost_callback = on_lost
        if self.security is not None:
            await secure_client(client, self.security)
        await client.connect()
        conn.opened = True
        # Iterator mode: the publish loop only enqueues, we drain at our own pace. The
        # queue is sized so that only a consumer stuck for many batches loses the oldest.
        sub = await client.create_subscription(
            self.publishing_interval_ms, queue_maxsize=max(10 * self.batch_max, 10_000)
        )
        node_ids = list(self._by_node)
        # Chunked: servers cap the monitored items per CreateMonitoredItems call.
        for start in range(0, len(node_ids), _ITEMS_PER_CALL):
            chunk = node_ids[start : start + _ITEMS_PER_CALL]
            results = await sub.subscribe_data_change(
                [client.get_node(nid) for nid in chunk],
                queuesize=self.queue_size,
                sampling_interval=ua.Double(self.publishing_interval_ms),
            )
            for nid, result in zip(chunk, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    for binding in self._by_node[nid]:
                        self._reject_once(binding.node_id, f"cannot monitor: {result.name}")
        return sub

    async def _collect(self, sub: Subscription, lost: asyncio.Event) -> None:
        """Drain notifications until stop (returns) or loss of the server (raises)."""
        consumer = asyncio.create_task(self._consume(sub), name="opcua-consume")
        stop_wait = asyncio.create_task(self._stop.wait())
        lost_wait = asyncio.create_task(lost.wait())
        try:
            await asyncio.wait(
                {consumer, stop_wait, lost_wait}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (consumer, stop_wait, lost_wait):
                task.cancel()
            await asyncio.gather(consumer, stop_wait, lost_wait, return_exceptions=True)
        if lost.is_set() and not self._stop.is_set():  # keep asyncua's reason, it says more
            raise _ConnectionLost(self.last_error or "connection lost")
        if consumer.done() and not consumer.cancelled():
            error = consumer.exception()
            if error is not None:
                raise error

    async def _consume(self, sub: Subscription) -> None:
        async for event in sub:
            if isinstance(event, DataChangeEvent):
                self._add(event)
                # Backpressure: stop draining (the subscription queue absorbs the burst)
                # until the flusher has taken a full buffer.
                while len(self._buffer) + len(self._buffer.rejects) >= self.batch_max:
                    self._drained.clear()
                    self._wake.set()
                    await self._drained.wait()
            elif isinstance(event, StatusChangeEvent):
                status = event.notification.Status
                if status is not None and not status.is_good():
                    raise _ConnectionLost(f"subscription status {status.name}")
        raise _ConnectionLost("subscription closed")

    async def _teardown(self, conn: _Conn) -> None:
        """Close what is left of a connection without letting a dead server hang us."""
        client = conn.client
        if conn.opened:
            # Also ends asyncua's supervisor, watchdog and publish loop for this client.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close_session(), _TEARDOWN_S)
        if client.uaclient.state is UaClientState.CHANNEL_OPEN:  # the server is still there
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close_secure_channel(), _TEARDOWN_S)
        with contextlib.suppress(Exception):
            client.disconnect_socket()

    # -- buffering -----------------------------------------------------------------------------

    def _add(self, event: DataChangeEvent) -> None:
        bindings = self._by_node.get(event.node.nodeid)
        if not bindings:
            return
        dv = event.data.monitored_item.Value
        status = dv.StatusCode if dv is not None else None
        bad = status is not None and not status.is_good()
        ts = None
        if dv is not None:
            ts = to_us(dv.SourceTimestamp) or to_us(dv.ServerTimestamp)
        value = to_float(event.value)
        if isinstance(value, str):
            if not (bad and event.value is None):
                for binding in bindings:
                    self._buffer.rejects.append((binding.node_id, value))
                return
            value = math.nan  # a bad reading without a value is still worth recording
        ts_us = ts if ts is not None else now_us()
        for binding in bindings:
            self._buffer.tag_ids.append(binding.tag_id)
            self._buffer.ts_us.append(ts_us)
            self._buffer.values.append(value)
            self._buffer.status_bad.append(bad)

    def _reject_once(self, node_id: str, reason: str) -> None:
        if node_id in self._reported:
            return
        self._reported.add(node_id)
        self._buffer.rejects.append((node_id, reason))
        log.warning("opcua.node_rejected", endpoint=self.endpoint, node_id=node_id, reason=reason)

    async def _flush_loop(self) -> None:
        """The only caller of `on_batch`, so calls never overlap and are never cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_ms / 1000)
            self._wake.clear()
            closing = self._closing
            await self._flush()
            if closing:
                return

    async def _flush(self) -> None:
        if self._buffer.is_empty():
            return
        batch, self._buffer = self._buffer, OpcBatch()
        self._drained.set()
        try:
            await self.on_batch(batch)
            self.batches += 1
        except Exception as exc:  # a failing sink must not kill the collector
            log.exception("opcua.on_batch_failed", endpoint=self.endpoint, size=len(batch))
            self.last_error = f"on_batch: {_describe(exc)}"
