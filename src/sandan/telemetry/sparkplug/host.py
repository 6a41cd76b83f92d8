"""The Sparkplug B host application as a state machine without I/O.

`SparkplugHost.handle(topic, payload)` returns the actions the message calls for:

- `DataBatch`: the metrics of an NDATA/DDATA (and of an NBIRTH/DBIRTH, `birth=True`, whose
  metrics are current values too) with aliases resolved to the names of the BIRTH;
- `RebirthRequest`: an NCMD `Node Control/Rebirth` = true to publish, on a seq gap, an unknown
  alias, an unknown device or DATA before a BIRTH (at most one per node per
  `rebirth_interval_ms` while the node has not reborn);
- `Status`: an edge node or device came online (BIRTH) or went offline (DEATH, or an NBIRTH
  that drops the devices of the previous birth);
- `Reject`: a malformed topic or payload (never an exception);
- `HostState`: a host application's STATE message.

Per edge node it keeps bdSeq, the next expected seq (0..255, wrapping), online/offline for
the node and each device, and the alias → name / datatype tables of the BIRTHs. After a seq
gap the node is stale: its messages are dropped until it reborn (the NBIRTH/DBIRTHs bring
every current value again), so no value is read through tables that might be out of date.

NCMD/DCMD (commands from host applications, ours included) are ignored. An NDEATH whose
bdSeq is not the one of the current NBIRTH is a stale will from an earlier session and is
ignored too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import (
    BD_SEQ,
    DecodedPayload,
    DecodeError,
    decode,
    decode_state,
    encode_rebirth_command,
)
from sandan.telemetry.sparkplug.topics import MessageType, StateTopic, Topic, TopicError

__all__ = [
    "Action",
    "DataBatch",
    "DeviceState",
    "HostState",
    "MetricTable",
    "NodeState",
    "RebirthRequest",
    "Reject",
    "SparkplugHost",
    "Status",
]


# --- actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataBatch:
    """Metrics of one message, as columns; `device` is None for node metrics."""

    group: str
    edge_node: str
    device: str | None
    names: list[str]
    ts_ms: NDArray[np.int64]
    values: NDArray[np.float64]  # NaN for null and non-numeric metrics
    datatypes: NDArray[np.int32]
    seq: int | None = None
    birth: bool = False

    def __len__(self) -> int:
        return len(self.names)

    def as_dict(self) -> dict[str, float]:
        """name → value (the last one when a name repeats); handy in tests and tools."""
        return dict(zip(self.names, self.values.tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class RebirthRequest:
    """Publish `payload` (NCMD `Node Control/Rebirth` = true) on `topic`, QoS 0."""

    group: str
    edge_node: str
    reason: str
    topic: str
    payload: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Status:
    """An edge node (`device` None) or a device came online or went offline."""

    group: str
    edge_node: str
    device: str | None
    online: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Reject:
    """A message that could not be used, and why."""

    reason: str
    topic: str


@dataclass(frozen=True, slots=True)
class HostState:
    """A host application's STATE: online or not, since `timestamp` (ms)."""

    host_id: str
    online: bool
    timestamp: int


Action = DataBatch | RebirthRequest | Status | Reject | HostState


# --- state ----------------------------------------------------------------------------------


@dataclass(slots=True)
class MetricTable:
    """What a BIRTH declared: alias → name, alias → datatype, name → datatype."""

    alias_names: dict[int, str] = field(default_factory=dict)
    alias_types: dict[int, int] = field(default_factory=dict)
    name_types: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_birth(cls, names: list[str], decoded: DecodedPayload) -> MetricTable:
        table = cls()
        for name, alias, datatype in zip(
            names, decoded.aliases.tolist(), decoded.datatypes.tolist(), strict=True
        ):
            table.name_types[name] = datatype
            if alias >= 0:
                table.alias_names[alias] = name
                table.alias_types[alias] = datatype
        return table


@dataclass(slots=True)
class DeviceState:
    online: bool = False
    metrics: MetricTable = field(default_factory=MetricTable)


@dataclass(slots=True)
class NodeState:
    online: bool = False
    bd_seq: int | None = None
    next_seq: int | None = None  # seq expected on the next message; None: take any
    stale: bool = False  # out of step (seq gap, unknown alias): wait for a rebirth
    rebirth_requested_ms: float | None = None
    metrics: MetricTable = field(default_factory=MetricTable)
    devices: dict[str, DeviceState] = field(default_factory=dict)


def _monotonic_ms() -> float:
    return time.monotonic() * 1000.0


def _as_int(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) else int(value)


# --- the state machine ----------------------------------------------------------------------


class SparkplugHost:
    """Consumes (topic, payload) pairs, keeps the state of every edge node, returns actions.

    `check_seq=False` turns off seq checking (for a member of a shared subscription, which
    sees only part of each node's messages). `rebirth_interval_ms` spaces out repeated
    rebirth requests to a node that has not reborn yet. `clock` (monotonic ms) is used when
    `handle` is not given `now_ms`.
    """

    def __init__(
        self,
        *,
        check_seq: bool = True,
        rebirth_interval_ms: float = 5000.0,
        clock: Callable[[], float] = _monotonic_ms,
    ) -> None:
        self.check_seq = check_seq
        self.rebirth_interval_ms = rebirth_interval_ms
        self._clock = clock
        self._nodes: dict[tuple[str, str], NodeState] = {}

    @property
    def nodes(self) -> Mapping[tuple[str, str], NodeState]:
        """(group, edge_node) → state."""
        return self._nodes

    def node(self, group: str, edge_node: str) -> NodeState | None:
        return self._nodes.get((group, edge_node))

    def handle(self, topic: str, payload: bytes, now_ms: float | None = None) -> list[Action]:
        """The actions one received message calls for (never raises for bad input)."""
        try:
            parsed = topics.parse(topic)
        except TopicError as exc:
            return [Reject(str(exc), topic)]
        if isinstance(parsed, StateTopic):
            try:
                online, ts = decode_state(payload)
            except DecodeError as exc:
                return [Reject(str(exc), topic)]
            return [HostState(parsed.host_id, online, ts)]
        now = self._clock() if now_ms is None else now_ms
        try:
            match parsed.type:
                case MessageType.NDATA | MessageType.DDATA:
                    return self._data(parsed, payload, now)
                case MessageType.NBIRTH:
                    return self._nbirth(parsed, topic, payload)
                case MessageType.DBIRTH:
                    return self._dbirth(parsed, topic, payload, now)
                case MessageType.NDEATH:
                    return self._ndeath(parsed, payload)
                case MessageType.DDEATH:
                    return self._ddeath(parsed, payload, now)
                case _:  # NCMD / DCMD: commands from host applications, not ours to act on
                    return []
        except DecodeError as exc:
            return [Reject(str(exc), topic)]

    # -- helpers --

    def _rebirth(
        self, t: Topic, node: NodeState, reason: str, now: float, out: list[Action]
    ) -> None:
        last = node.rebirth_requested_ms
        if last is not None and now - last < self.rebirth_interval_ms:
            return
        node.rebirth_requested_ms = now
        out.append(
            RebirthRequest(
                t.group,
                t.edge_node,
                reason,
                topics.topic(t.group, MessageType.NCMD, t.edge_node),
                encode_rebirth_command(),
            )
        )

    def _in_step(
        self, t: Topic, node: NodeState, seq: int | None, now: float, out: list[Action]
    ) -> bool:
        """Advance the node's seq; on a gap mark it stale and ask for a rebirth."""
        if not self.check_seq:
            return True
        expected = node.next_seq
        if seq is None:
            reason = f"{t.type} without seq"
        elif not 0 <= seq <= 255:
            reason = f"{t.type} seq {seq} out of 0..255"
        else:
            node.next_seq = (seq + 1) % 256
            if expected is None or seq == expected:
                return True
            reason = f"seq gap: {t.type} seq {seq}, expected {expected}"
        node.stale = True
        self._rebirth(t, node, reason, now, out)
        return False

    @staticmethod
    def _birth_names(d: DecodedPayload, t: Topic, topic: str) -> list[str] | Reject:
        if None in d.names:
            return Reject(f"{t.type} has a metric without a name", topic)
        return cast(list[str], d.names)

    # -- handlers --

    def _nbirth(self, t: Topic, topic: str, payload: bytes) -> list[Action]:
        d = decode(payload)
        out: list[Action] = []
        node = self._nodes.setdefault((t.group, t.edge_node), NodeState())
        for device, dev in node.devices.items():  # a new NBIRTH voids the DBIRTHs before it
            if dev.online:
                out.append(Status(t.group, t.edge_node, device, False, "NBIRTH"))
        node.devices = {}
        node.online = False
        node.next_seq = None
        names = self._birth_names(d, t, topic)
        if isinstance(names, Reject):
            node.stale = True
            out.append(names)
            return out
        if d.seq is None or not 0 <= d.seq <= 255:
            out.append(Reject(f"NBIRTH seq {d.seq} is not in 0..255", topic))
            return out
        node.online = True
        node.stale = False
        node.rebirth_requested_ms = None
        node.bd_seq = _as_int(d.value_of(BD_SEQ))
        node.next_seq = (d.seq + 1) % 256
        node.metrics = MetricTable.from_birth(names, d)
        out.append(Status(t.group, t.edge_node, None, True, "NBIRTH"))
        out.append(
            DataBatch(
                t.group, t.edge_node, None, names, d.ts_ms, d.values, d.datatypes, d.seq, True
            )
        )
        return out

    def _ndeath(self, t: Topic, payload: bytes) -> list[Action]:
        node = self._nodes.get((t.group, t.edge_node))
        if node is None or not node.online:
            return []
        bd_seq = _as_int(decode(payload).value_of(BD_SEQ))
        if node.bd_seq is not None and bd_seq != node.bd_seq:
            return []  # the will of an earlier session
        out: list[Action] = []
        for device, dev in node.devices.items():
            if dev.online:
                dev.online = False
                out.append(Status(t.group, t.edge_node, device, False, "NDEATH"))
        node.online = False
        node.stale = False
        node.next_seq = None
        node.rebirth_requested_ms = None
        out.append(Status(t.group, t.edge_node, None, False, "NDEATH"))
        return out

    def _dbirth(self, t: Topic, topic: str, payload: bytes, now: float) -> list[Action]:
        assert t.device is not None
        out: list[Action] = []
        node = self._nodes.setdefault((t.group, t.edge_node), NodeState())
        if not node.online:
            self._rebirth(t, node, "DBIRTH before NBIRTH", now, out)
            return out
        d = decode(payload)
        if not self._in_step(t, node, d.seq, now, out):
            return out
        if node.stale:
            self._rebirth(t, node, "waiting for a rebirth", now, out)
            return out
        names = self._birth_names(d, t, topic)
        if isinstance(names, Reject):
            out.append(names)
            return out
        node.devices[t.device] = DeviceState(True, MetricTable.from_birth(names, d))
        out.append(Status(t.group, t.edge_node, t.device, True, "DBIRTH"))
        out.append(
            DataBatch(
                t.group, t.edge_node, t.device, names, d.ts_ms, d.values, d.datatypes, d.seq, True
            )
        )
        return out

    def _ddeath(self, t: Topic, payload: bytes, now: float) -> list[Action]:
        assert t.device is not None
        node = self._nodes.get((t.group, t.edge_node))
        if node is None or not node.online:
            return []
        out: list[Action] = []
        self._in_step(t, node, decode(payload).seq, now, out)  # a gap still kills the device
        dev = node.devices.get(t.device)
        if dev is not None and dev.online:
            dev.online = False
            out.append(Status(t.group, t.edge_node, t.device, False, "DDEATH"))
        return out

    def data_step(
        self, t: Topic, seq: int | None, now_ms: float | None = None
    ) -> tuple[list[Action], MetricTable | None]:
        """The state step of an NDATA/DDATA without decoding its metrics, for a caller that
        decodes many payloads at once (`columns.decode_payloads`): the actions it calls for,
        and the BIRTH table to read its metrics with, or None when it is to be dropped."""
        now = self._clock() if now_ms is None else now_ms
        out: list[Action] = []
        node = self._nodes.setdefault((t.group, t.edge_node), NodeState())
        if not node.online:
            self._rebirth(t, node, f"{t.type} before NBIRTH", now, out)
            return out, None
        if t.device is None:
            table = node.metrics
        else:
            dev = node.devices.get(t.device)
            if dev is None or not dev.online:
                # Still consume the seq so that the rebirth is the only thing asked for.
                self._in_step(t, node, seq, now, out)
                node.stale = True
                self._rebirth(t, node, f"DDATA for device {t.device!r} before DBIRTH", now, out)
                return out, None
            table = dev.metrics
        if not self._in_step(t, node, seq, now, out):
            return out, None
        if node.stale:
            self._rebirth(t, node, "waiting for a rebirth", now, out)
            return out, None
        return out, table

    def out_of_step(self, t: Topic, reason: str, now_ms: float | None = None) -> list[Action]:
        """A DATA message the node's tables cannot read (an unknown alias): drop the node's
        messages until it reborns, and ask for that."""
        now = self._clock() if now_ms is None else now_ms
        out: list[Action] = []
        node = self._nodes.setdefault((t.group, t.edge_node), NodeState())
        node.stale = True
        self._rebirth(t, node, reason, now, out)
        return out

    def _table(self, t: Topic) -> MetricTable | None:
        """The table a DATA message would be read with, without changing any state."""
        node = self._nodes.get((t.group, t.edge_node))
        if node is None or not node.online:
            return None
        if t.device is None:
            return node.metrics
        dev = node.devices.get(t.device)
        return dev.metrics if dev is not None and dev.online else None

    def _data(self, t: Topic, payload: bytes, now: float) -> list[Action]:
        table = self._table(t)
        if table is None:
            node = self._nodes.get((t.group, t.edge_node))
            seq = decode(payload).seq if node is not None and node.online else None
            return self.data_step(t, seq, now)[0]
        d = decode(payload, alias_types=table.alias_types, name_types=table.name_types)
        out, step_table = self.data_step(t, d.seq, now)
        if step_table is None:
            return out
        known = table.alias_names
        names = [
            n if n is not None else known.get(a)
            for n, a in zip(d.names, d.aliases.tolist(), strict=True)
        ]
        if None in names:
            missing = d.aliases[[i for i, n in enumerate(names) if n is None]].tolist()
            return out + self.out_of_step(t, f"unknown alias(es) {missing[:10]}", now)
        out.append(
            DataBatch(
                t.group,
                t.edge_node,
                t.device,
                cast(list[str], names),
                d.ts_ms,
                d.values,
                d.datatypes,
                d.seq,
            )
        )
        return out
