"""A small Sparkplug B edge node for tests: one node, one device, metrics sent by alias.

It connects with its NDEATH as will, publishes NBIRTH (bdSeq, seq 0) and DBIRTH, sends DDATA
on demand (optionally skipping a seq number), answers an NCMD `Node Control/Rebirth` with new
BIRTHs (same bdSeq, seq starting again at 0) and publishes its NDEATH on a clean exit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiomqtt

from sandan.core.mqtt import Broker
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    REBIRTH,
    DataType,
    Metric,
    MetricValue,
    decode,
    encode_data,
    encode_dbirth,
    encode_ddeath,
    encode_nbirth,
    encode_ndeath,
)
from sandan.telemetry.sparkplug.topics import MessageType


class EdgeNode:
    def __init__(
        self,
        url: str | Broker,  # a Broker for TLS with a CA of the test's own
        group: str,
        edge_node: str,
        device: str,
        metrics: Mapping[str, tuple[int, int, MetricValue]],  # name -> (alias, datatype, value)
        *,
        bd_seq: int = 0,
    ) -> None:
        self.broker = Broker.of(url)
        self.group, self.edge_node, self.device = group, edge_node, device
        self.metrics = dict(metrics)
        self.bd_seq = bd_seq
        self.seq = 0
        self.rebirths = 0
        self.reborn = asyncio.Event()
        self._lock = asyncio.Lock()
        self._client: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None

    def topic(self, mtype: MessageType) -> str:
        device = self.device if mtype.value.startswith("D") else None
        return topics.topic(self.group, mtype, self.edge_node, device)

    @property
    def client(self) -> aiomqtt.Client:
        assert self._client is not None, "not connected"
        return self._client

    async def __aenter__(self) -> Self:
        will = aiomqtt.Will(self.topic(MessageType.NDEATH), encode_ndeath(self.bd_seq), qos=1)
        b = self.broker
        self._client = aiomqtt.Client(
            b.host,
            b.port,
            username=b.username,
            password=b.password,
            tls_context=b.ssl_context,
            will=will,
        )
        await self._client.__aenter__()
        await self.client.subscribe(self.topic(MessageType.NCMD), qos=1)
        self._reader = asyncio.create_task(self._commands())
        await self.birth()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(aiomqtt.MqttError):
            await self.client.publish(
                self.topic(MessageType.NDEATH), encode_ndeath(self.bd_seq), qos=1
            )
        await self.client.__aexit__(exc_type, exc, tb)

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq = (self.seq + 1) % 256
        return seq

    async def birth(self) -> None:
        """NBIRTH (seq 0) then DBIRTH with every metric's name, alias, datatype and value."""
        async with self._lock:
            self.seq = 0
            await self.client.publish(
                self.topic(MessageType.NBIRTH),
                encode_nbirth(self.bd_seq, seq=self._next_seq()),
            )
            birth = [
                Metric(name, value, datatype, alias=alias)
                for name, (alias, datatype, value) in self.metrics.items()
            ]
            await self.client.publish(
                self.topic(MessageType.DBIRTH), encode_dbirth(birth, seq=self._next_seq())
            )

    async def ddata(self, values: Mapping[str, MetricValue], *, skip_seq: bool = False) -> int:
        """DDATA by alias (no names, no datatypes); returns the seq it was sent with."""
        async with self._lock:
            if skip_seq:
                self._next_seq()
            seq = self._next_seq()
            metrics = [
                Metric(alias=self.metrics[name][0], datatype=self.metrics[name][1], value=value)
                for name, value in values.items()
            ]
            await self.client.publish(self.topic(MessageType.DDATA), encode_data(metrics, seq=seq))
            return seq

    async def ddeath(self) -> None:
        """DDEATH of the device (with the node's next seq)."""
        async with self._lock:
            await self.client.publish(
                self.topic(MessageType.DDEATH), encode_ddeath(seq=self._next_seq())
            )

    async def _commands(self) -> None:
        async for message in self.client.messages:
            payload = message.payload
            assert isinstance(payload, bytes)
            command = decode(payload)
            if command.value_of(REBIRTH) == 1.0:
                await self.birth()
                self.rebirths += 1
                self.reborn.set()


def standard_metrics() -> dict[str, tuple[int, int, MetricValue]]:
    """A device with one metric of each numeric kind."""
    return {
        "Temperature": (1, DataType.Double, 20.5),
        "Pressure": (2, DataType.Float, 1.25),
        "Level": (3, DataType.Int32, -7),
        "Count": (4, DataType.UInt64, 10),
        "Running": (5, DataType.Boolean, True),
        "Offset": (6, DataType.Int8, -3),
        "Label": (7, DataType.String, "line 1"),
    }
