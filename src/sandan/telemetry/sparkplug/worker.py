"""Sparkplug B ingest: a host application whose metrics land in the store as registry tags.

Mapping (see `telemetry/endpoints.py`): a device registered with `protocol="sparkplug"` and
`external_id="<group>/<edge node>/<device>"` receives that device's DBIRTH/DDATA metrics,
`"<group>/<edge node>"` the node's own NBIRTH/NDATA metrics; a metric goes to the device's tag
of the same name. The Sparkplug bookkeeping metrics (`bdSeq`, `Node Control/*`,
`Device Control/*`) and metrics whose tag is a `str` tag are not readings and are skipped.
Metrics of unknown devices and of names with no tag are dead-lettered with the reason.

The worker has the shape of the MQTT JSON worker (`mqtt.py`): messages collect on a lean
receive connection (`mqtt_wire.MqttWire`), a flush runs in a thread and makes one refine,
one store append and one relational unit of work (dead letters, `telemetry.device_status`
events) for all messages, and QoS 1 messages are acknowledged only after that commit.

The flush keeps Sparkplug's order: it walks the messages one by one through the host state
machine (`SparkplugHost`: seq checks, births, deaths, rebirth requests), but decodes the
metrics of every DATA payload together (`columns.decode_payloads`) and maps aliases to
tags with one sorted-array lookup per device table, so no Python object is made per metric.
Births, rare, go through `SparkplugHost.handle` and `codec.decode`. A flush is prepared
(all of the above and refine) in one thread and committed in another, so the store append of
one flush runs beside the preparation of the next; commits and acknowledgements keep the
order of the flushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pyarrow as pa
import structlog
from numpy.typing import NDArray

from sandan.core.bus import raise_event
from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.core.mqtt import Broker
from sandan.telemetry import service
from sandan.telemetry.decode import Columns
from sandan.telemetry.endpoints import EndpointDevice, EndpointDirectory
from sandan.telemetry.mqtt import MqttIngest, MqttStats
from sandan.telemetry.mqtt_wire import (
    MqttWire,
    MqttWireError,
    keep_alive,
    open_wire,
    publish_packet,
    subscribe,
    supervise,
)
from sandan.telemetry.refine import Refined, refine
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import BD_SEQ, encode_state, now_ms
from sandan.telemetry.sparkplug.columns import (
    PayloadColumns,
    decode_payloads,
    field_types,
    metric_values,
)
from sandan.telemetry.sparkplug.host import (
    Action,
    DataBatch,
    HostState,
    MetricTable,
    RebirthRequest,
    Reject,
    SparkplugHost,
    Status,
)
from sandan.telemetry.sparkplug.topics import MessageType, StateTopic, Topic, TopicError
from sandan.telemetry.store import TelemetryStore

__all__ = ["SparkplugIngest", "SparkplugIngestor", "SparkplugStats"]

log = structlog.get_logger(__name__)

SOURCE: Final = "sparkplug"
STATUS_EVENT: Final = "telemetry.device_status"
# tag codes besides tag ids (>= 0)
NO_TAG: Final = -1  # the device has no tag of that name
SKIP: Final = -2  # not a reading: Sparkplug bookkeeping, or a `str` tag
NO_DEVICE: Final = -3  # no registry device for this Sparkplug node or device
_RESERVED_PREFIXES: Final = ("Node Control/", "Device Control/")
_DATA: Final = frozenset({MessageType.NDATA, MessageType.DDATA})
_TOPIC_CACHE: Final = 100_000


def is_bookkeeping(name: str) -> bool:
    """Sparkplug's own metrics, which are not readings of a tag."""
    return name == BD_SEQ or name.startswith(_RESERVED_PREFIXES)


def external_id(group: str, edge_node: str, device: str | None) -> str:
    """The registry `external_id` of a Sparkplug edge node (device None) or device."""
    return f"{group}/{edge_node}" if device is None else f"{group}/{edge_node}/{device}"


@dataclass
class SparkplugStats(MqttStats):
    """The MQTT worker's counters and Sparkplug's own (the CLI prints them when it stops)."""

    points: int = 0  # metrics received in accepted DATA and BIRTH messages
    skipped: int = 0  # bookkeeping metrics and string tags: not readings
    rebirths_requested: int = 0


@dataclass(slots=True)
class _Resolved:
    """One BIRTH table read against the registry: alias → tag, sorted by alias."""

    table: MetricTable
    version: int
    external_id: str
    device: EndpointDevice | None
    aliases: NDArray[np.int64]
    tags: NDArray[np.int32]
    types: NDArray[np.int32]
    names: list[str]

    def tag_of(self, name: str) -> int:
        return _tag_code(self.device, name)


def _tag_code(device: EndpointDevice | None, name: str) -> int:
    if is_bookkeeping(name):
        return SKIP
    if device is None:
        return NO_DEVICE
    tag = device.tags.get(name)
    if tag is None:
        return NO_TAG
    return SKIP if tag.data_type == "str" else tag.tag_id


@dataclass
class _Part:
    """Rows bound for refine, as columns, with the sender of each row."""

    tags: NDArray[np.int32]
    ts_ms: NDArray[np.int64]
    values: NDArray[np.float64]
    senders: NDArray[np.int32]  # index into the flush's list of senders


@dataclass
class FlushOutcome:
    """What the connection side does after a flush: publish these, re-assert STATE."""

    publish: list[tuple[str, bytes]] = field(default_factory=list)
    state_overwritten: bool = False


class Flush:
    """One flush: built while its messages are walked, then refined, then committed."""

    def __init__(self) -> None:
        self.refined: Refined | None = None
        self.events: list[dict[str, Any]] = []  # telemetry.device_status payloads
        self.parts: list[_Part] = []
        self.senders: list[tuple[int | None, int | None]] = []  # (company, device)
        self.sender_index: dict[tuple[int | None, int | None], int] = {}
        self.dead: dict[tuple[int | None, int | None], list[dict[str, Any]]] = {}
        self.dead_counts: dict[tuple[int | None, int | None], dict[str, int]] = {}
        self.statuses: list[Status] = []
        self.outcome = FlushOutcome()

    def sender(self, device: EndpointDevice | None) -> int:
        key = (None, None) if device is None else (device.company_id, device.device_id)
        index = self.sender_index.get(key)
        if index is None:
            index = self.sender_index[key] = len(self.senders)
            self.senders.append(key)
        return index

    def reject(self, key: tuple[int | None, int | None], reason: str, row: dict[str, Any]) -> None:
        counts = self.dead_counts.setdefault(key, {})
        counts[reason] = counts.get(reason, 0) + 1
        rows = self.dead.setdefault(key, [])
        if len(rows) < service.MAX_DEAD_ROWS:
            rows.append(row)


def _ranges(first: NDArray[np.int64], count: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated ranges first[i] .. first[i] + count[i]."""
    total = int(count.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(count) - count
    out: NDArray[np.int64] = np.arange(total, dtype=np.int64) + np.repeat(first - offsets, count)
    return out


class SparkplugIngestor:
    """The back half of the worker: (topic, payload, received ms) messages, in order, into
    the host state machine, one refine, one store append and one unit of work. Keeps the
    Sparkplug state between flushes: `prepare` them one at a time, in arrival order, and
    `commit` them in that order (a commit may run beside the next `prepare`)."""

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        *,
        host_id: str = "sandan",
        host: SparkplugHost | None = None,
        directory: EndpointDirectory | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.host_id = host_id
        self.host = host or SparkplugHost()
        self.directory = directory or EndpointDirectory(db, "sparkplug")
        self.stats = SparkplugStats()
        self.birth_timestamp: int | None = None  # of this host's current STATE birth
        self.online: dict[str, bool] = {}  # external id -> online, for every node and device seen
        self._resolved: dict[tuple[str, str, str | None], _Resolved] = {}
        self._topics: dict[str, Topic | StateTopic | str] = {}
        self._lock = threading.Lock()
        # Reload a stale directory inside the flush; the worker turns this off and reloads
        # beside the flushes instead (a reload of 100,000 tags takes seconds).
        self.reload_inline = True

    @property
    def online_devices(self) -> set[int]:
        """Registry ids of the Sparkplug devices (and nodes) online now."""
        devices = self.directory.devices
        online = dict(self.online)  # a copy: a flush may change it meanwhile
        return {devices[ext].device_id for ext, up in online.items() if up and ext in devices}

    # -- the flush --------------------------------------------------------------------------

    def ingest(self, buffer: Sequence[tuple[str, bytes, float]]) -> FlushOutcome:
        """Handle a flush of messages in arrival order; returns once it is committed."""
        flush = self.prepare(buffer)
        self.commit(flush)
        return flush.outcome

    def prepare(self, buffer: Sequence[tuple[str, bytes, float]]) -> Flush:
        """Everything but the commit: the Sparkplug state steps, decode, tag mapping, refine.
        Flushes are prepared one at a time in arrival order; the commit of one may run while
        the next is prepared (DuckDB and PostgreSQL work without holding the GIL)."""
        with self._lock:
            return self._prepare(buffer)

    def _topic(self, name: str) -> Topic | StateTopic | str:
        parsed = self._topics.get(name)
        if parsed is None:
            try:
                parsed = topics.parse(name)
            except TopicError as exc:
                parsed = str(exc)
            if len(self._topics) >= _TOPIC_CACHE:
                self._topics.clear()
            self._topics[name] = parsed
        return parsed

    def _prepare(self, buffer: Sequence[tuple[str, bytes, float]]) -> Flush:
        directory = self.directory
        if self.reload_inline or not directory.version:
            directory.fresh()
        flush = Flush()
        parsed = [self._topic(topic) for topic, _, _ in buffer]
        data_at = [i for i, t in enumerate(parsed) if isinstance(t, Topic) and t.type in _DATA]
        cols = decode_payloads([buffer[i][1] for i in data_at], [buffer[i][2] for i in data_at])
        errors = dict(cols.errors)
        seqs = cols.seq.tolist()
        # accepted DATA: (index in cols, topic, table, the node's table as its birth epoch)
        accepted: list[tuple[int, Topic, MetricTable, MetricTable | None]] = []
        k = 0
        host = self.host
        for i, (name, payload, _) in enumerate(buffer):
            t = parsed[i]
            if isinstance(t, str):
                self._act(flush, [Reject(t, name)])
                continue
            if isinstance(t, Topic) and t.type in _DATA:
                error = errors.get(k)
                if error is not None:
                    self._act(flush, [Reject(error, name)])
                else:
                    seq = seqs[k]
                    actions, table = host.data_step(t, seq if seq >= 0 else None)
                    self._act(flush, actions)
                    if table is not None:
                        node = host.node(t.group, t.edge_node)
                        accepted.append((k, t, table, node.metrics if node else None))
                k += 1
                continue
            self._act(flush, host.handle(name, payload))
        if accepted:
            self._data(flush, cols, accepted, directory.version)
        self._refine(flush)
        return flush

    def _act(self, flush: Flush, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, DataBatch):
                self._birth(flush, action)
            elif isinstance(action, RebirthRequest):
                self.stats.rebirths_requested += 1
                log.info(
                    "sparkplug.rebirth_requested",
                    group=action.group,
                    edge_node=action.edge_node,
                    reason=action.reason,
                )
                flush.outcome.publish.append((action.topic, action.payload))
            elif isinstance(action, Status):
                ext = external_id(action.group, action.edge_node, action.device)
                self.online[ext] = action.online
                flush.statuses.append(action)
            elif isinstance(action, Reject):
                flush.reject(
                    (None, None), action.reason, {"topic": action.topic, "reason": action.reason}
                )
            elif isinstance(action, HostState):
                self._host_state(flush, action)

    def _host_state(self, flush: Flush, state: HostState) -> None:
        """Someone declared this host offline after its birth (a twin, a late will): say again
        that it is online. The retained STATE of an earlier session is older and ignored."""
        birth = self.birth_timestamp
        mine = state.host_id == self.host_id and not state.online
        if mine and birth is not None and state.timestamp >= birth:
            flush.outcome.state_overwritten = True

    def _birth(self, flush: Flush, batch: DataBatch) -> None:
        """The current values a BIRTH carries (rare: mapped name by name)."""
        self.stats.points += len(batch)
        ext = external_id(batch.group, batch.edge_node, batch.device)
        device = self.directory.devices.get(ext)
        tags = np.array([_tag_code(device, name) for name in batch.names], np.int32)
        self._keep(flush, ext, device, tags, batch.ts_ms, batch.values, batch.names)

    def _keep(
        self,
        flush: Flush,
        ext: str,
        device: EndpointDevice | None,
        tags: NDArray[np.int32],
        ts_ms: NDArray[np.int64],
        values: NDArray[np.float64],
        names: Sequence[str] | Callable[[NDArray[np.int64]], list[str]],
    ) -> None:
        """Rows of one sender: tags go on to refine, the others are skipped or dead-lettered
        (`names` gives the metric names of the rows that are kept as dead letters)."""
        good = tags >= 0
        skipped = tags == SKIP
        self.stats.skipped += int(skipped.sum())
        lost = np.flatnonzero(~good & ~skipped)
        if len(lost):
            key = (None, None) if device is None else (device.company_id, device.device_id)
            # worded as the other paths word them (and as /metrics counts them)
            base: dict[str, Any] = (
                {"reason": f"device {ext!r} is not an enabled sparkplug device of the registry"}
                if device is None
                else {"field": "tag", "reason": "not a tag of this device"}
            )
            counted = service.reason_of(base)
            room = max(0, service.MAX_DEAD_ROWS - len(flush.dead.get(key, ())))
            which = lost[:room]
            shown = names(which) if callable(names) else [names[i] for i in which.tolist()]
            for row, name in zip(which.tolist(), shown, strict=True):
                reading = {"tag": name, "ts": _iso(int(ts_ms[row])), "value": _plain(values[row])}
                flush.reject(key, counted, {**base, "reading": reading, "external_id": ext})
            if len(lost) > len(which):  # counted even when not kept row by row
                counts = flush.dead_counts.setdefault(key, {})
                counts[counted] = counts.get(counted, 0) + len(lost) - len(which)
        if device is not None and good.any():
            flush.parts.append(
                _Part(
                    tags[good],
                    ts_ms[good],
                    values[good],
                    np.full(int(good.sum()), flush.sender(device), np.int32),
                )
            )

    # -- DATA, all payloads of the flush together --------------------------------------------

    def _resolve(self, t: Topic, table: MetricTable, version: int) -> _Resolved:
        key = (t.group, t.edge_node, t.device)
        cached = self._resolved.get(key)
        if cached is not None and cached.table is table and cached.version == version:
            return cached
        ext = external_id(t.group, t.edge_node, t.device)
        device = self.directory.devices.get(ext)
        items = sorted(table.alias_names.items())
        names = [name for _, name in items]
        resolved = _Resolved(
            table=table,
            version=version,
            external_id=ext,
            device=device,
            aliases=np.array([a for a, _ in items], np.int64),
            tags=np.array([_tag_code(device, n) for n in names], np.int32),
            types=np.array([table.alias_types.get(a, 0) for a, _ in items], np.int32),
            names=names,
        )
        self._resolved[key] = resolved
        return resolved

    def _data(
        self,
        flush: Flush,
        cols: PayloadColumns,
        accepted: list[tuple[int, Topic, MetricTable, MetricTable | None]],
        version: int,
    ) -> None:
        resolved: list[_Resolved] = []
        slot_index: dict[int, int] = {}
        msg_slot = np.zeros(len(accepted), np.int64)
        for m, (_, t, table, _) in enumerate(accepted):
            r = self._resolve(t, table, version)
            slot = slot_index.get(id(r))
            if slot is None:
                slot = slot_index[id(r)] = len(resolved)
                resolved.append(r)
            msg_slot[m] = slot
        # the messages of one table together, in arrival order within it, then their rows
        order = np.argsort(msg_slot, kind="stable")
        ks = np.array([a[0] for a in accepted], np.int64)[order]
        counts = cols.count[ks]
        rows = _ranges(cols.first[ks], counts)
        msg_of_row = np.repeat(order, counts)
        self.stats.points += len(rows)
        row_slot = np.repeat(msg_slot[order], counts)
        bounds = np.searchsorted(row_slot, np.arange(len(resolved) + 1))

        alias = cols.alias[rows]
        tags = np.full(len(rows), NO_TAG, np.int32)
        types = np.zeros(len(rows), np.int32)
        known = np.zeros(len(rows), bool)
        for slot, r in enumerate(resolved):
            lo, hi = int(bounds[slot]), int(bounds[slot + 1])
            if hi == lo or not len(r.aliases):
                continue
            want = alias[lo:hi]
            pos = np.minimum(np.searchsorted(r.aliases, want), len(r.aliases) - 1)
            hit = (r.aliases[pos] == want) & (want >= 0)
            tags[lo:hi] = np.where(hit, r.tags[pos], NO_TAG)
            types[lo:hi] = np.where(hit, r.types[pos], 0)
            known[lo:hi] = hit
        named = np.flatnonzero(cols.name_len[rows] >= 0)
        for j, name in zip(named.tolist(), cols.names(rows[named]), strict=True):
            # sent by name (the slow, rare path): the name wins over an alias
            assert name is not None
            r = resolved[int(row_slot[j])]
            tags[j] = r.tag_of(name)
            if alias[j] < 0:
                types[j] = r.table.name_types.get(name, 0)
            known[j] = True

        if not known.all():
            keep = self._out_of_step(flush, accepted, alias, known, msg_of_row)
            rows, msg_of_row, row_slot = rows[keep], msg_of_row[keep], row_slot[keep]
            tags, types = tags[keep], types[keep]
            bounds = np.searchsorted(row_slot, np.arange(len(resolved) + 1))

        sent = cols.datatype[rows]
        kind = cols.kind[rows]
        datatypes = np.where(sent > 0, sent, np.where(types > 0, types, field_types(kind)))
        values = metric_values(kind, cols.raw[rows], cols.is_null[rows], datatypes)
        ts_ms = cols.ts_ms[rows]
        for slot, r in enumerate(resolved):
            lo, hi = int(bounds[slot]), int(bounds[slot + 1])
            if hi == lo:
                continue
            seg = rows[lo:hi]

            def names_of(
                which: NDArray[np.int64], r: _Resolved = r, seg: NDArray[np.int64] = seg
            ) -> list[str]:
                out: list[str] = []
                for row, name in zip(seg[which].tolist(), cols.names(seg[which]), strict=True):
                    if name is None:
                        a = int(cols.alias[row])
                        i = min(int(np.searchsorted(r.aliases, a)), len(r.names) - 1)
                        name = r.names[i] if r.names and r.aliases[i] == a else f"alias {a}"
                    out.append(name)
                return out

            self._keep(
                flush,
                r.external_id,
                r.device,
                tags[lo:hi],
                ts_ms[lo:hi],
                values[lo:hi],
                names_of,
            )

    def _out_of_step(
        self,
        flush: Flush,
        accepted: list[tuple[int, Topic, MetricTable, MetricTable | None]],
        alias: NDArray[np.int64],
        known: NDArray[np.bool_],
        msg_of_row: NDArray[np.int64],
    ) -> NDArray[np.bool_]:
        """Metrics with an alias no BIRTH declared: as the host does, the node is out of step,
        asks for a rebirth and its messages are dropped until then (here: its later messages
        of the same birth in this flush). Returns which rows to keep."""
        drop = np.zeros(len(accepted), bool)
        for m in np.unique(msg_of_row[~known]).tolist():
            if drop[m]:
                continue
            _, t, _, epoch = accepted[m]
            node = self.host.node(t.group, t.edge_node)
            if node is not None and node.metrics is epoch and not node.stale:
                missing = np.unique(alias[(msg_of_row == m) & ~known])[:10].tolist()
                self._act(flush, self.host.out_of_step(t, f"unknown alias(es) {missing}"))
            for later in range(m, len(accepted)):
                _, lt, _, lepoch = accepted[later]
                if (lt.group, lt.edge_node) == (t.group, t.edge_node) and lepoch is epoch:
                    drop[later] = True
        keep: NDArray[np.bool_] = ~drop[msg_of_row]
        return keep

    # -- refine and commit ------------------------------------------------------------------

    def _refine(self, flush: Flush) -> None:
        parts = flush.parts
        if parts:
            tags = np.concatenate([p.tags for p in parts])
            ts_ms = np.concatenate([p.ts_ms for p in parts])
            values = np.concatenate([p.values for p in parts])
            senders = np.concatenate([p.senders for p in parts])
        else:
            tags, ts_ms = np.zeros(0, np.int32), np.zeros(0, np.int64)
            values, senders = np.zeros(0), np.zeros(0, np.int32)
        columns = Columns(
            tags=pa.array(tags, pa.int32()),
            ts=pa.array(ts_ms * 1000, pa.int64()).cast(pa.timestamp("us")),
            value=pa.array(values, pa.float64()),
        )
        refined = refine(
            columns, self.directory.table, now=utcnow(), late_window=service.LATE_WINDOW
        )
        for index, field_name, reason in refined.rejects:
            key = flush.senders[int(senders[index])]
            flush.reject(
                key,
                f"{field_name}: {reason}",
                {
                    "field": field_name,
                    "reason": reason,
                    "reading": service.reading_of(columns, index),
                },
            )
        flush.refined = refined
        devices = self.directory.devices
        for status in flush.statuses:
            ext = external_id(status.group, status.edge_node, status.device)
            device = devices.get(ext)
            if device is not None:
                flush.events.append(
                    {
                        "device_id": device.device_id,
                        "company_id": device.company_id,
                        "external_id": ext,
                        "online": status.online,
                        "reason": status.reason,
                    }
                )

    def commit(self, flush: Flush) -> None:
        """Store a prepared flush, its dead letters and status events in one unit of work."""
        refined = flush.refined
        assert refined is not None, "prepare() first"
        with self.db.unit(Principal.system(f"{SOURCE}-ingest")) as session:
            stored = (
                service.store_batch(session, self.store, refined.batch, source=SOURCE)
                if refined.batch.num_rows
                else 0
            )
            for (company_id, device_id), rows in flush.dead.items():
                counts = flush.dead_counts[(company_id, device_id)]
                service.keep_rejects(
                    session,
                    SOURCE,
                    company_id,
                    device_id,
                    rows,
                    total=sum(counts.values()),
                    reasons=counts,
                )
            for event in flush.events:
                raise_event(session, STATUS_EVENT, event)
        self.stats.stored += stored
        self.stats.duplicates += refined.batch.num_rows - stored + refined.in_batch_duplicates
        for counts in flush.dead_counts.values():
            for reason, n in counts.items():
                self.stats.rejected += n
                self.stats.per_reason[reason] = self.stats.per_reason.get(reason, 0) + n


def _plain(value: float) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _iso(ms: int) -> str | None:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


# --- the connection -------------------------------------------------------------------------


class SparkplugIngest(MqttIngest):
    """One Sparkplug B ingest worker: a host application (`host_id`) on the broker at `url`
    (`mqtt[s]://[user:password@]host[:port]`, or a `Broker` with its TLS settings) storing
    what its edge nodes send.

    `groups` limits it to these Sparkplug group ids. With `share_group` several workers split
    the NDATA/DDATA through an MQTT 5 shared subscription while each sees every BIRTH and
    DEATH (seq checking is then off, as a member sees only part of each node's sequence).
    Receiving, flushing (after `flush_ms`, on a pause of `idle_ms`, or at `max_messages`)
    and reconnecting are those of `MqttIngest`; the session (STATE will and birth, several
    subscriptions) and the flush (the Sparkplug pipeline) are its own."""

    stats: SparkplugStats
    directory: EndpointDirectory

    def __init__(
        self,
        db: Database,
        store: TelemetryStore,
        url: str | Broker,
        *,
        host_id: str = "sandan",
        share_group: str | None = None,
        groups: Sequence[str] | None = None,
        client_id: str | None = None,
        flush_ms: int = 100,
        idle_ms: int = 5,
        max_messages: int = 5_000,
        qos: int = 1,
        keepalive: int = 30,
        on_flush: Callable[[SparkplugStats], Awaitable[None]] | None = None,
        directory: EndpointDirectory | None = None,
    ) -> None:
        if share_group is not None and (not share_group or "/" in share_group):
            raise ValueError(f"bad share group {share_group!r}")
        directory = directory or EndpointDirectory(db, "sparkplug")
        super().__init__(
            db,
            store,
            url,
            group=share_group,
            client_id=client_id,
            flush_ms=flush_ms,
            idle_ms=idle_ms,
            max_messages=max_messages,
            directory=directory,
            qos=qos,
            keepalive=keepalive,
        )
        self.directory = directory
        self.host_id = host_id
        self.state_topic = topics.state_topic(host_id)
        self.groups = list(groups) if groups else None
        for group in self.groups or ():
            topics.topic(group, MessageType.NDATA, "x")  # validates the group id
        self.sparkplug = SparkplugIngestor(
            db,
            store,
            host_id=host_id,
            host=SparkplugHost(check_seq=share_group is None),
            directory=directory,
        )
        self.sparkplug.reload_inline = False
        self.stats = self.sparkplug.stats
        self.on_sparkplug_flush = on_flush
        self._packet_id = 0
        self._committing: asyncio.Task[None] | None = None  # the last flush taken
        self._prepared: asyncio.Future[None] | None = None  # ... and when it was prepared

    @property
    def subscriptions(self) -> list[str]:
        """The topic filters (as `SparkplugHostClient.subscriptions`)."""
        return topics.subscriptions(self.state_topic, self.groups, self.group)

    def _publish(self, wire: MqttWire, topic: str, payload: bytes, *, retain: bool = False) -> None:
        qos = 1 if retain else 0
        if qos:
            self._packet_id = self._packet_id % 65_535 + 1
        wire.send(publish_packet(topic, payload, qos=qos, retain=retain, packet_id=self._packet_id))

    async def _open(self, birth: int) -> MqttWire:
        broker = self.broker
        return await open_wire(
            broker.host,
            broker.port,
            client_id=self.client_id or f"sandan-sparkplug-{uuid.uuid4().hex[:12]}",
            username=broker.username,
            password=broker.password,
            clean_start=self.client_id is None,
            session_expiry=3600 if self.client_id else 0,
            keepalive=self.keepalive,
            will=(self.state_topic, encode_state(False, birth)),
            tls=self.tls,
        )

    async def _session(self) -> None:
        birth = now_ms()
        self.sparkplug.birth_timestamp = birth
        wire = await self._open(birth)
        self._wire = wire
        try:
            for topic_filter in self.subscriptions:
                await subscribe(wire, topic_filter, self.qos)
            self._publish(wire, self.state_topic, encode_state(True, birth), retain=True)
            self.ready.set()
            log.info("sparkplug.host_online", host_id=self.host_id, filters=self.subscriptions)
            await supervise(
                [
                    asyncio.create_task(self._pump(wire)),
                    asyncio.create_task(keep_alive(wire, self.keepalive)),
                    asyncio.create_task(self._reloads()),
                ],
                asyncio.create_task(self._stopping.wait()),
            )
        finally:
            self.ready.clear()
            if not wire.closed.done():
                await self.flush()
            await self.drain()
            if not wire.closed.done():
                with contextlib.suppress(MqttWireError):
                    self._publish(wire, self.state_topic, encode_state(False, birth), retain=True)
                    await asyncio.sleep(0.05)  # let the STATE death leave before DISCONNECT
            wire.close()
            self._wire = None
            log.info("sparkplug.host_offline", host_id=self.host_id)

    async def _reloads(self) -> None:
        """Reload the registry maps beside the flushes, when stale (`max_age`) or invalidated
        (registry events), so that a flush never waits for a reload."""
        while True:
            pause = 0.5
            try:
                await asyncio.to_thread(self.directory.fresh)
            except Exception:  # the registry database away: keep the maps we have
                log.exception("sparkplug.directory_reload_failed")
                pause = 5.0
            await asyncio.sleep(pause)

    async def flush(self) -> None:
        """Prepare what has arrived (in a thread), then commit it in another thread while the
        next flush is received and prepared. A flush's messages are acknowledged, and the
        rebirth requests it calls for published, once it is committed. Returns when it is
        prepared; `drain()` waits for the last commit. Messages taken from the connection are
        always prepared and committed, even when the caller is cancelled (on stop)."""
        last = self._committing
        if last is not None and last.done():
            last.result()  # a failed flush stops the worker (as in MqttIngest), unacknowledged
        wire = self._wire
        if wire is None or not wire.messages:
            return
        buffer, acks = wire.take()
        self.stats.messages += len(buffer)
        prepared: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before, self._prepared = self._prepared, prepared
        task = asyncio.create_task(self._process(wire, buffer, acks, before, prepared, last))
        self._committing = task
        await asyncio.shield(prepared)
        if task.done():
            task.result()  # preparing failed

    async def drain(self) -> None:
        """Wait until every flush taken so far is committed (and raise if one failed)."""
        task = self._committing
        if task is not None:
            await task
            if self._committing is task:
                self._committing = None

    async def _process(
        self,
        wire: MqttWire,
        buffer: list[tuple[str, bytes, float]],
        acks: list[int],
        before: asyncio.Future[None] | None,
        prepared: asyncio.Future[None],
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Prepare after the flush before was prepared, commit after it was committed."""
        try:
            if before is not None:
                await before  # flushes are prepared in the order they were taken
            flush = await asyncio.to_thread(self.sparkplug.prepare, buffer)
        finally:
            if not prepared.done():
                prepared.set_result(None)
        if previous is not None:
            await previous
        await asyncio.to_thread(self.sparkplug.commit, flush)
        wire.ack(acks)
        self.stats.flushes += 1
        outcome = flush.outcome
        if not wire.closed.done():
            for topic, payload in outcome.publish:
                self._publish(wire, topic, payload)
            if outcome.state_overwritten:
                birth = self.sparkplug.birth_timestamp or now_ms()
                log.warning("sparkplug.state_overwritten", host_id=self.host_id)
                self._publish(wire, self.state_topic, encode_state(True, birth), retain=True)
        if self.on_sparkplug_flush is not None:
            await self.on_sparkplug_flush(self.stats)
