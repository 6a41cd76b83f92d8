"""Sparkplug B edge nodes for the simulator.

One edge node (its own MQTT connection, NDEATH as will) per group/edge node of the devices'
external ids `<group>/<edge node>/<device>`: NBIRTH and DBIRTH with names, aliases and
datatypes, DDATA by alias with `seq`, a new birth when a host sends NCMD
`Node Control/Rebirth`, a new session (bdSeq + 1) after a lost connection or NCMD
`Node Control/Next Server`. DCMDs write metrics of the simulated machines. With a primary
host application (Sparkplug 3.0), a node births only once the host's STATE says online,
and ends its session (NDEATH, disconnect) when it says offline, to birth again in a new
session when the host is back. DDATA payloads are protobuf templates made once per
device, so a step only sets the values.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import structlog
from numpy.typing import NDArray

from sandan.core.mqtt import Broker
from sandan.simulator.mqtt_client import PublishWire, Will, connect, publish_packet
from sandan.simulator.publish import Layout, PublishStats, close_wire, plain_values
from sandan.telemetry.mqtt_wire import MqttWireError, subscribe
from sandan.telemetry.sparkplug import sparkplug_b_pb2 as pb
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    REBIRTH,
    DataType,
    DecodeError,
    Metric,
    decode,
    decode_state,
    encode_dbirth,
    encode_nbirth,
    encode_ndeath,
)
from sandan.telemetry.sparkplug.topics import MessageType, StateTopic, Topic

log = structlog.get_logger(__name__)
_MASK64 = 0xFFFF_FFFF_FFFF_FFFF
NEXT_SERVER = "Node Control/Next Server"
# A command for the simulated machines: (index of the tag in the layout, value); raises
# ValueError for a value the tag cannot take.
Write = Callable[[int, float], None]

_KIND_DOUBLE, _KIND_LONG, _KIND_INT, _KIND_BOOL = 0, 1, 2, 3


def _sparkplug_type(name: str, data_type: str) -> tuple[int, int]:
    """(Sparkplug datatype, value kind) of a tag."""
    if data_type == "bool":
        return DataType.Boolean, _KIND_BOOL
    if data_type == "int":
        return (DataType.Int32, _KIND_INT) if name == "state" else (DataType.Int64, _KIND_LONG)
    return DataType.Double, _KIND_DOUBLE


@dataclass
class _SpDevice:
    index: int  # in the layout
    device: str  # Sparkplug device id
    aliases: list[int]
    types: list[int]
    kinds: list[int]
    names: list[str]
    template: pb.Payload = field(default_factory=pb.Payload)  # DDATA, metrics by alias

    def __post_init__(self) -> None:
        for alias in self.aliases:
            self.template.metrics.add().alias = alias
        self.by_alias = {alias: k for k, alias in enumerate(self.aliases)}
        self.by_name = {name: k for k, name in enumerate(self.names)}
        self.alias_types = dict(zip(self.aliases, self.types, strict=True))
        self.name_types = dict(zip(self.names, self.types, strict=True))


class EdgeNode:
    """One Sparkplug edge node and its devices on its own MQTT connection.

    `session` is set while the MQTT session is up, `connected` once the births are out (DATA
    flows only then). With `primary_host` the births wait for that host's STATE online."""

    def __init__(
        self,
        broker: Broker,
        group: str,
        node: str,
        layout: Layout,
        *,
        primary_host: str | None = None,
        write: Write | None = None,
    ) -> None:
        self.broker, self.group, self.node, self.layout = broker, group, node, layout
        self.primary_host, self.write = primary_host, write
        self.devices: list[_SpDevice] = []
        self.by_device: dict[str, _SpDevice] = {}
        self.bd_seq = -1  # the first session is bdSeq 0
        self.seq = 0
        self.rebirths = 0
        self.sessions_ended = 0  # by the host going offline or NCMD Next Server
        self.commands = 0  # DCMD metrics written to the machines
        self.ignored = 0  # DCMD metrics not written (unknown metric or device, bad value)
        self.host_online = False
        self._host_ts = -1  # the newest STATE timestamp seen (older STATE is ignored)
        self.session = asyncio.Event()
        self.connected = asyncio.Event()
        self._next_alias = 1
        self._wire: PublishWire | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._last: list[Any] = []  # the last values sent, and their time (for rebirths)
        self._last_ms = 0

    def add(self, index: int, device: str) -> None:
        a, b = self.layout.span(index)
        pairs = [_sparkplug_type(n, t) for n, t in zip(self.layout.names[a:b],
                 self.layout.data_types[a:b], strict=True)]  # fmt: skip
        aliases = list(range(self._next_alias, self._next_alias + (b - a)))
        self._next_alias += b - a
        types, kinds = [p[0] for p in pairs], [p[1] for p in pairs]
        dev = _SpDevice(index, device, aliases, types, kinds, self.layout.names[a:b])
        self.devices.append(dev)
        self.by_device[device] = dev

    def topic(self, mtype: MessageType, device: str | None = None) -> str:
        return topics.topic(self.group, mtype, self.node, device)

    def _next_seq(self) -> int:
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    async def start(self, at_ms: int, plain: list[Any]) -> None:
        """Connect (raising when the broker cannot be reached), then keep connected: a lost
        connection is reopened with backoff, as a new session (bdSeq + 1) with new births."""
        self._last, self._last_ms = plain, at_ms
        wire, pinger = await self._open()
        self._supervisor = asyncio.create_task(self._supervise(wire, pinger))

    async def _open(self) -> tuple[PublishWire, asyncio.Task[None]]:
        """Connect with NDEATH as will, subscribe to NCMD, DCMD and the primary host's
        STATE, then send the births (with a primary host: once its STATE says online)."""
        self.bd_seq = (self.bd_seq + 1) % 256
        will = Will(self.topic(MessageType.NDEATH), encode_ndeath(self.bd_seq), qos=1)
        client_id = f"sandan-sim-{self.group}-{self.node}-{uuid.uuid4().hex[:6]}"
        wire, pinger = await connect(self.broker, client_id[-64:], will=will)
        dcmd = f"{topics.NAMESPACE}/{self.group}/{MessageType.DCMD}/{self.node}/+"
        filters = [self.topic(MessageType.NCMD), dcmd]
        if self.primary_host is not None:
            filters.append(topics.state_topic(self.primary_host))
        try:
            for topic_filter in filters:
                await subscribe(wire, topic_filter, 1)
        except MqttWireError:
            await close_wire(wire, pinger)
            raise
        self._wire = wire
        self.host_online = False
        self.session.set()
        if self.primary_host is None:
            self._born()
        return wire, pinger

    def _born(self) -> None:
        self.birth(self._last_ms, self._last)
        self.connected.set()

    async def _supervise(self, wire: PublishWire, pinger: asyncio.Task[None]) -> None:
        while True:
            try:
                with contextlib.suppress(MqttWireError):  # a send on a closing connection
                    await self._commands(wire)
            finally:
                self.session.clear()
                self.connected.clear()
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError, MqttWireError):
                    await pinger
            delay = 0.5
            while True:
                await asyncio.sleep(delay)
                try:
                    wire, pinger = await self._open()
                    break
                except MqttWireError as exc:
                    log.warning("simulator.edge_node_down", node=self.node, error=str(exc))
                    delay = min(delay * 2, 30.0)

    def birth(self, at_ms: int, plain: list[Any]) -> None:
        """NBIRTH (seq 0, bdSeq of the session) then each device's DBIRTH with names,
        aliases, datatypes and current values, stamped with the time of those values."""
        assert self._wire is not None
        self.seq = 0
        packets = [
            publish_packet(
                self.topic(MessageType.NBIRTH),
                encode_nbirth(
                    self.bd_seq,
                    [Metric(NEXT_SERVER, False, DataType.Boolean)],
                    seq=self._next_seq(),
                    timestamp=at_ms,
                ),
            )
        ]
        for dev in self.devices:
            a, _ = self.layout.span(dev.index)
            metrics = [
                Metric(dev.names[k], plain[a + k], dev.types[k], alias=alias)
                for k, alias in enumerate(dev.aliases)
            ]
            payload = encode_dbirth(metrics, seq=self._next_seq(), timestamp=at_ms)
            packets.append(publish_packet(self.topic(MessageType.DBIRTH, dev.device), payload))
        self._wire.send(b"".join(packets))

    def remember(self, at_ms: int, plain: list[Any]) -> None:
        """The values of a step not sent (not born yet): the births will carry them."""
        self._last, self._last_ms = plain, at_ms

    def ddata(self, at_ms: int, plain: list[Any]) -> tuple[bytes, int, int]:
        """The DDATA packets of every device (one write), their count and readings."""
        self._last, self._last_ms = plain, at_ms
        packets, readings = [], 0
        for dev in self.devices:
            a, b = self.layout.span(dev.index)
            msg = dev.template
            msg.timestamp = at_ms
            msg.seq = self._next_seq()
            for m, kind, v in zip(msg.metrics, dev.kinds, plain[a:b], strict=True):
                if kind == _KIND_DOUBLE:
                    m.double_value = v
                elif kind == _KIND_BOOL:
                    m.boolean_value = v
                elif kind == _KIND_LONG:
                    m.long_value = v & _MASK64
                else:
                    m.int_value = v & 0xFFFF_FFFF
            packets.append(
                publish_packet(self.topic(MessageType.DDATA, dev.device), msg.SerializeToString())
            )
            readings += b - a
        return b"".join(packets), len(packets), readings

    async def send(self, data: bytes) -> None:
        assert self._wire is not None
        self._wire.send(data)
        await self._wire.drain()

    async def _commands(self, wire: PublishWire) -> None:
        """Act on what arrives until the session ends: NCMD, DCMD, the primary host's STATE."""
        while not wire.closed.done():
            await wire.arrived.wait()
            messages, acks = wire.take()
            wire.ack(acks)
            for name, payload, _at in messages:
                try:
                    where = topics.parse(name)
                except topics.TopicError:
                    continue
                if isinstance(where, StateTopic):
                    self._host_state(wire, payload)
                elif where.type == MessageType.NCMD:
                    self._node_command(wire, payload)
                elif where.type == MessageType.DCMD:
                    self._device_command(where, payload)

    def _host_state(self, wire: PublishWire, payload: bytes) -> None:
        """Birth when the primary host comes online; end the session when it goes offline
        (NDEATH, disconnect: the supervisor opens a new session, which waits for it again).
        A STATE older than the newest seen is a leftover and ignored (Sparkplug 3.0)."""
        try:
            online, ts = decode_state(payload)
        except DecodeError as exc:
            log.warning("simulator.bad_host_state", node=self.node, error=str(exc))
            return
        if ts < self._host_ts:
            return
        self._host_ts, self.host_online = ts, online
        if online and not self.connected.is_set():
            self._born()
        elif not online and self.connected.is_set():
            log.info("simulator.host_offline", node=self.node, host=self.primary_host)
            self._end_session(wire)

    def _node_command(self, wire: PublishWire, payload: bytes) -> None:
        """`Node Control/Rebirth`: births again (same bdSeq, seq from 0); `Node Control/Next
        Server`: a new session (the simulator knows one broker, so the same one)."""
        try:
            command = decode(payload)
        except DecodeError:
            return
        if not self.connected.is_set():
            return
        if command.value_of(NEXT_SERVER) == 1.0:
            self._end_session(wire)
        elif command.value_of(REBIRTH) == 1.0:
            self._born()
            self.rebirths += 1

    def _device_command(self, where: Topic, payload: bytes) -> None:
        """Write each metric of a DCMD (by alias or name) to the simulated machine; the next
        DDATA carries it. Unknown devices and metrics and refused values are logged."""
        dev = self.by_device.get(where.device or "")
        try:
            command = decode(
                payload,
                alias_types=dev.alias_types if dev else None,
                name_types=dev.name_types if dev else None,
            )
        except DecodeError as exc:
            log.warning("simulator.bad_dcmd", node=self.node, error=str(exc))
            return
        if dev is None or self.write is None:
            self.ignored += len(command)
            log.warning("simulator.dcmd_ignored", node=self.node, device=where.device,
                        reason="unknown device" if dev is None else "not writable")  # fmt: skip
            return
        start, _ = self.layout.span(dev.index)
        for name, alias, value in zip(command.names, command.aliases.tolist(),
                                      command.values.tolist(), strict=True):  # fmt: skip
            k = dev.by_alias.get(alias) if alias >= 0 else dev.by_name.get(name or "")
            try:
                if k is None:
                    raise ValueError("no such metric")
                self.write(start + k, value)
            except ValueError as exc:
                self.ignored += 1
                log.warning("simulator.dcmd_ignored", node=self.node, device=dev.device,
                            metric=name if alias < 0 else alias, reason=str(exc))  # fmt: skip
                continue
            self.commands += 1
            log.info("simulator.dcmd", node=self.node, device=dev.device,
                     metric=dev.names[k], value=value)  # fmt: skip

    def _end_session(self, wire: PublishWire) -> None:
        """NDEATH and DISCONNECT; the supervisor opens the next session (bdSeq + 1)."""
        self.connected.clear()
        self.session.clear()
        self.sessions_ended += 1
        with contextlib.suppress(MqttWireError):
            wire.send(publish_packet(self.topic(MessageType.NDEATH), encode_ndeath(self.bd_seq)))
        wire.close()

    def abort(self) -> None:
        """Drop the connection as a crash would: the broker publishes the NDEATH will."""
        if self._wire is not None:
            self._wire.abort()

    async def stop(self) -> None:
        """NDEATH (a clean exit sends no will), then DISCONNECT."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, MqttWireError):
                await self._supervisor
            self._supervisor = None
        wire, self._wire = self._wire, None
        if wire is not None and not wire.closed.done():
            with contextlib.suppress(MqttWireError):
                wire.send(
                    publish_packet(self.topic(MessageType.NDEATH), encode_ndeath(self.bd_seq))
                )
            wire.close()


def sparkplug_address(external_id: str) -> tuple[str, str, str] | None:
    """(group, edge node, device) of a Sparkplug device's external id, or None."""
    parts = external_id.split("/")
    if len(parts) != 3:
        return None
    try:
        topics.topic(parts[0], MessageType.DDATA, parts[1], parts[2])
    except topics.TopicError:
        return None
    return parts[0], parts[1], parts[2]


class SparkplugPublisher:
    """Every Sparkplug device of the layout, grouped into its edge nodes."""

    def __init__(
        self,
        broker: Broker,
        layout: Layout,
        devices: dict[int, str],
        *,
        primary_host: str | None = None,
        write: Write | None = None,
    ) -> None:
        """`devices`: layout index -> external id `<group>/<edge node>/<device>`; with
        `primary_host`, the nodes birth only while that host application is online;
        `write` takes the DCMDs' values."""
        self.layout, self.primary_host = layout, primary_host
        self.stats = PublishStats()
        self.nodes: dict[tuple[str, str], EdgeNode] = {}
        for index, external_id in devices.items():
            address = sparkplug_address(external_id)
            if address is None:
                raise ValueError(f"not a <group>/<edge node>/<device> id: {external_id!r}")
            group, node, device = address
            edge = self.nodes.get((group, node))
            if edge is None:
                edge = EdgeNode(broker, group, node, layout, primary_host=primary_host, write=write)
                self.nodes[(group, node)] = edge
            edge.add(index, device)

    async def start(self, at_ms: int, values: NDArray[np.float64]) -> None:
        plain = plain_values(values, self.layout.data_types)
        nodes = list(self.nodes.values())
        for k in range(0, len(nodes), 100):  # connect a hundred at a time
            await asyncio.gather(*(node.start(at_ms, plain) for node in nodes[k : k + 100]))

    async def publish(self, at_ms: int, values: NDArray[np.float64]) -> None:
        plain = plain_values(values, self.layout.data_types)
        for node in self.nodes.values():
            if not node.connected.is_set():
                node.remember(at_ms, plain)
                continue
            data, messages, readings = node.ddata(at_ms, plain)
            try:
                await node.send(data)
            except MqttWireError as exc:
                node.connected.clear()
                self.stats.errors += 1
                self.stats.last_error = f"{node.group}/{node.node}: {exc}"
                continue
            self.stats.messages += messages
            self.stats.readings += readings

    def waiting(self) -> int:
        """Edge nodes connected but not born: waiting for the primary host to be online."""
        return sum(n.session.is_set() and not n.connected.is_set() for n in self.nodes.values())

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes.values()))
