"""Run a Sparkplug B host application on an MQTT broker with aiomqtt.

The runner connects with a will (`spBv1.0/STATE/<host_id>` = `{"online": false, ...}`,
retained, QoS 1), subscribes to its own STATE topic and to the Sparkplug topics, then
publishes its STATE birth (`{"online": true, "timestamp": T}`, retained, QoS 1; the will
carries the same T). Each message goes through `SparkplugHost`; rebirth requests are
published as NCMDs, `DataBatch`es handed to `on_batch` (awaited in message order: a slow
callback slows consumption), status changes to `on_status`, rejects to `on_reject`. On `stop()`
it publishes the STATE death itself before disconnecting. A lost connection is retried with
backoff; the host state is kept, and a seq gap after the reconnect asks for a rebirth.

Shared subscriptions (`share_group`, MQTT 5 `$share/<share_group>/...`): several runners split
the NDATA/DDATA between them. A member then sees only part of each node's sequence, so seq
checking is off, while BIRTH and DEATH messages are subscribed without sharing: every member
keeps every alias table and node/device state. Unknown aliases still ask for a rebirth.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import aiomqtt
import structlog

from sandan.core.mqtt import Broker, connection_error
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import encode_state, now_ms
from sandan.telemetry.sparkplug.host import (
    DataBatch,
    HostState,
    RebirthRequest,
    Reject,
    SparkplugHost,
    Status,
)

__all__ = ["SparkplugHostClient", "SparkplugStats"]

log = structlog.get_logger(__name__)
_A = TypeVar("_A")


@dataclass
class SparkplugStats:
    """Counters an operator watches."""

    messages: int = 0
    batches: int = 0
    points: int = 0
    rebirths_requested: int = 0
    rejected: int = 0
    callback_errors: int = 0
    connections: int = 0


def _bytes(payload: Any) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


class SparkplugHostClient:
    """A Sparkplug B host application on `url` (`mqtt[s]://[user:password@]host[:port]`, or a
    `Broker` with its TLS settings).

    `groups` limits the subscription to these Sparkplug group ids (default: all).
    Use as `async with SparkplugHostClient(...) as client:` (starts, waits until subscribed,
    stops on exit) or `await client.run()` with `await client.stop()` from elsewhere.
    """

    def __init__(
        self,
        url: str | Broker,
        host_id: str,
        on_batch: Callable[[DataBatch], Awaitable[None]],
        *,
        share_group: str | None = None,
        groups: Sequence[str] | None = None,
        on_status: Callable[[Status], Awaitable[None]] | None = None,
        on_reject: Callable[[Reject], Awaitable[None]] | None = None,
        host: SparkplugHost | None = None,
        client_id: str | None = None,
        keepalive: int = 30,
        qos: int = 1,
        ready_timeout: float = 30.0,
    ) -> None:
        self.broker = Broker.of(url)
        self.tls = self.broker.ssl_context  # made now: a bad CA or key file stops the start
        self.host_id = host_id
        self.state_topic = topics.state_topic(host_id)
        self.share_group = share_group
        self.groups = list(groups) if groups else None
        for group in self.groups or ():
            topics.topic(group, topics.MessageType.NDATA, "x")  # validates the group id
        if share_group is not None and ("/" in share_group or not share_group):
            raise ValueError(f"bad share group {share_group!r}")
        self.on_batch = on_batch
        self.on_status = on_status
        self.on_reject = on_reject
        self.host = host or SparkplugHost(check_seq=share_group is None)
        self.client_id = client_id
        self.keepalive = keepalive
        self.qos = qos
        self.ready_timeout = ready_timeout
        self.stats = SparkplugStats()
        self.ready = asyncio.Event()
        self.birth_timestamp: int | None = None
        self.last_error = ""  # why the last connection failed
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- subscriptions --

    @property
    def subscriptions(self) -> list[str]:
        """The topic filters subscribed to (the own STATE topic comes first)."""
        return topics.subscriptions(self.state_topic, self.groups, self.share_group)

    # -- lifecycle --

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.run(), name=f"sparkplug-host-{self.host_id}")
        ready = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return self
        ready.cancel()
        if self._task in done:  # run() ended before the first connection: surface why
            self._task.result()
            raise RuntimeError("Sparkplug host stopped before it was ready")
        await self.__aexit__(None, None, None)
        raise TimeoutError(
            f"no connection to MQTT {self.broker} in {self.ready_timeout} s"
            + (f" (last error: {self.last_error})" if self.last_error else "")
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def stop(self) -> None:
        """Publish the STATE death, disconnect and make `run()` return."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped, reconnecting with backoff when the broker goes away."""
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self._session()
                delay = 0.5
            except aiomqtt.MqttError as exc:
                self.ready.clear()
                self.last_error = connection_error(exc, str(self.broker))
                if self._stopping.is_set():
                    break
                log.warning(
                    "sparkplug.disconnected",
                    broker=str(self.broker),
                    error=self.last_error,
                    retry_in=delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)

    async def _session(self) -> None:
        birth_ts = now_ms()
        self.birth_timestamp = birth_ts
        will = aiomqtt.Will(self.state_topic, encode_state(False, birth_ts), qos=1, retain=True)
        async with aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            identifier=self.client_id,
            username=self.broker.username,
            password=self.broker.password,
            tls_context=self.tls,
            protocol=aiomqtt.ProtocolVersion.V5,
            will=will,
            keepalive=self.keepalive,
        ) as client:
            self.stats.connections += 1
            for topic_filter in self.subscriptions:
                await client.subscribe(topic_filter, qos=self.qos)
            await client.publish(self.state_topic, encode_state(True, birth_ts), qos=1, retain=True)
            self.ready.set()
            log.info("sparkplug.host_online", host_id=self.host_id, filters=self.subscriptions)
            reader = asyncio.create_task(self._read(client, birth_ts))
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait({reader, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not reader.done():
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
            if reader.done() and not reader.cancelled():
                reader.result()  # re-raises a lost connection
            self.ready.clear()
            await client.publish(
                self.state_topic, encode_state(False, birth_ts), qos=1, retain=True
            )
            log.info("sparkplug.host_offline", host_id=self.host_id)

    async def _read(self, client: aiomqtt.Client, birth_ts: int) -> None:
        async for message in client.messages:
            self.stats.messages += 1
            await self._dispatch(
                client, str(message.topic), _bytes(message.payload), message.retain, birth_ts
            )

    async def _dispatch(
        self, client: aiomqtt.Client, topic: str, payload: bytes, retained: bool, birth_ts: int
    ) -> None:
        for action in self.host.handle(topic, payload):
            if isinstance(action, DataBatch):
                self.stats.batches += 1
                self.stats.points += len(action)
                await self._call(self.on_batch, action)
            elif isinstance(action, RebirthRequest):
                self.stats.rebirths_requested += 1
                log.info(
                    "sparkplug.rebirth_requested",
                    group=action.group,
                    edge_node=action.edge_node,
                    reason=action.reason,
                )
                await client.publish(action.topic, action.payload, qos=0)
            elif isinstance(action, Status):
                await self._call(self.on_status, action)
            elif isinstance(action, Reject):
                self.stats.rejected += 1
                log.warning("sparkplug.rejected", topic=action.topic, reason=action.reason)
                await self._call(self.on_reject, action)
            elif isinstance(action, HostState):
                await self._own_state(client, action, retained, birth_ts)

    async def _own_state(
        self, client: aiomqtt.Client, state: HostState, retained: bool, birth_ts: int
    ) -> None:
        """Someone declared this host offline (a stale will, a twin with the same host id):
        say again that it is online. A retained message delivered on subscribing predates
        this session's birth and needs no answer."""
        if state.host_id != self.host_id or state.online or retained:
            return
        log.warning("sparkplug.state_overwritten", host_id=self.host_id, at=state.timestamp)
        await client.publish(self.state_topic, encode_state(True, birth_ts), qos=1, retain=True)

    async def _call(self, callback: Callable[[_A], Awaitable[None]] | None, arg: _A) -> None:
        if callback is None:
            return
        try:
            await callback(arg)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("sparkplug.callback_failed", callback=getattr(callback, "__name__", "?"))
