"""`sandan simulate --replay FILE`: recorded readings published again, as devices would.

The recording is a raw Parquet export of the store (`tag_id`, `ts`, `value`, `quality`) or a
CSV file with the columns the CSV backfill reads (`tag_id`, or `tag` names with a `device_id`
column or `--device`; `ts` as epoch milliseconds or ISO-8601; `value`), parsed with the same
Arrow functions. Each reading keeps its place in time: the recording's first time becomes
now, and every later reading is sent (and stamped) `(ts - first) / speed` after it, so the
spacing is the original one divided by `--speed`; `--loop` starts over after the last one,
the times going on. Readings go out through the registry's devices, over MQTT (JSON, one
message per device and due batch, `{"ts", "values"}` or a list of them) or HTTP (one POST per
device and due batch). Quality is not replayed: the platform refines the values again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from sandan.simulator.machines import TagRow
from sandan.simulator.publish import HttpPublisher, JsonPublisher, Layout, PublishStats
from sandan.telemetry.csv_import import parse_tag_ids, parse_times, parse_values

_EPOCH_US = np.datetime64(0, "us")


class ReplayError(ValueError):
    """The recording cannot be replayed (unreadable file, missing columns, nothing known)."""


@dataclass(frozen=True)
class Recording:
    """The readings to send, in time order: which registry tag (an index into `rows`), when
    (epoch ms, as recorded) and what value."""

    rows: list[TagRow]
    tag: NDArray[np.int64]
    ts_ms: NDArray[np.int64]
    value: NDArray[np.float64]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> readings left out

    def __len__(self) -> int:
        return len(self.tag)


def _text(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks().cast(pa.string())


def _columns(path: Path, device_id: int | None) -> tuple[pa.Array, pa.Array, pa.Array, Any]:
    """(tag ids or names, times as timestamp[us], values as float64, device ids or None)."""
    try:
        if path.suffix.lower() == ".parquet":
            table = pq.read_table(path)
        else:
            options = pcsv.ConvertOptions(strings_can_be_null=False)
            table = pcsv.read_csv(path, convert_options=options)
    except (OSError, pa.ArrowException) as exc:
        raise ReplayError(f"cannot read {path.name}: {exc}") from None
    names = set(table.column_names)
    key = "tag_id" if "tag_id" in names else "tag"
    if key not in names or not {"ts", "value"} <= names:
        raise ReplayError(
            f"{path.name} needs the columns ts, value and tag_id (or tag): a raw readings "
            f"export or a CSV as `sandan telemetry import-csv` reads; it has {sorted(names)}"
        )
    ts = table.column("ts").combine_chunks()
    if pa.types.is_timestamp(ts.type):
        times = ts.cast(pa.timestamp("us", tz=ts.type.tz)).cast(pa.timestamp("us"))
    else:
        times, _ = parse_times(_text(table, "ts"))
    value = table.column("value").combine_chunks()
    if pa.types.is_floating(value.type) or pa.types.is_integer(value.type):
        values = value.cast(pa.float64())
    elif pa.types.is_boolean(value.type):
        values = value.cast(pa.int8()).cast(pa.float64())
    else:
        values, _ = parse_values(_text(table, "value"))
    tags = table.column(key).combine_chunks()
    if key == "tag_id":
        tags = tags.cast(pa.int32()) if pa.types.is_integer(tags.type) else parse_tag_ids(tags)
    devices: Any = None
    if key == "tag":
        if "device_id" in names:
            devices = parse_tag_ids(_text(table, "device_id"))
        elif device_id is None:
            raise ReplayError(f"{path.name} names tags: give --device or a device_id column")
        else:
            devices = pa.array([device_id] * table.num_rows, pa.int32())
        tags = tags.cast(pa.string())
    return tags, times, values, devices


def read_recording(path: Path, rows: Sequence[TagRow], device_id: int | None = None) -> Recording:
    """The file's readings of the registry's tags (`rows`), sorted by time; readings of
    unknown tags, and unreadable times or values, are counted in `skipped`."""
    tags, times, values, devices = _columns(path, device_id)
    rows = sorted(rows, key=lambda r: (r.device_id, r.tag_id))
    index: dict[Any, int]
    if devices is None:
        index = {row.tag_id: i for i, row in enumerate(rows)}
        keys: list[Any] = tags.to_pylist()
    else:
        index = {(row.device_id, row.name): i for i, row in enumerate(rows)}
        keys = list(zip(devices.to_pylist(), tags.to_pylist(), strict=True))
    tag = np.array([index.get(k, -1) for k in keys], dtype=np.int64)
    ts_us = pc.fill_null(times.cast(pa.int64()), np.iinfo(np.int64).min).to_numpy()
    value = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False).astype(np.float64)
    no_time = ts_us == np.iinfo(np.int64).min
    no_value = ~np.isfinite(value) & ~no_time
    unknown = (tag < 0) & ~no_time & ~no_value
    skipped = {
        reason: int(n)
        for reason, n in (
            ("unreadable time", no_time.sum()),
            ("no number value", no_value.sum()),
            ("tag not in the registry (or its device disabled)", unknown.sum()),
        )
        if n
    }
    keep = ~(no_time | no_value | unknown)
    order = np.argsort(ts_us[keep], kind="stable")
    return Recording(
        rows, tag[keep][order], ts_us[keep][order] // 1000, value[keep][order], skipped
    )


def layout_of(rows: Sequence[TagRow]) -> tuple[Layout, NDArray[np.int64]]:
    """The publishers' layout of the registry's tags (sorted by device and tag id, as `rows`
    are), and the device index of each tag."""
    devices = sorted({r.device_id for r in rows})
    at = {d: i for i, d in enumerate(devices)}
    tag_device = np.array([at[r.device_id] for r in rows], dtype=np.int64)
    company = {r.device_id: r.company_id for r in rows}
    start = np.searchsorted(tag_device, np.arange(len(devices) + 1)).tolist()
    layout = Layout(
        [r.name for r in rows], [r.data_type for r in rows], devices,
        [company[d] for d in devices], start,
    )  # fmt: skip
    return layout, tag_device


def _plain(value: float, data_type: str) -> float | int | bool:
    """A value as a device writes it (full precision: the replay re-creates the recording)."""
    if data_type == "int":
        return round(value)
    if data_type == "bool":
        return value > 0.5
    return value


@dataclass
class ReplayReport:
    sent: int = 0  # readings
    rounds: int = 0  # finished passes over the recording
    behind: int = 0  # batches sent late (the publisher could not keep --speed)


class Replay:
    """Send a recording through a publisher (`JsonPublisher` or `HttpPublisher`), in time."""

    def __init__(
        self,
        recording: Recording,
        publisher: JsonPublisher | HttpPublisher,
        *,
        speed: float = 1.0,
        loop: bool = False,
    ) -> None:
        if not speed > 0:
            raise ReplayError("speed must be above 0")
        if not len(recording):
            raise ReplayError("the recording has no reading of a registered tag to replay")
        self.recording, self.publisher, self.speed, self.loop = recording, publisher, speed, loop
        self.layout, self.tag_device = layout_of(recording.rows)
        self.report = ReplayReport()
        ts = recording.ts_ms
        spacing = np.diff(np.unique(ts))
        # a loop's next pass starts one typical spacing after the last reading
        self.period = int(ts[-1] - ts[0]) + (int(np.median(spacing)) if len(spacing) else 1000)

    @property
    def stats(self) -> PublishStats:
        return self.publisher.stats

    async def start(self) -> None:
        await self.publisher.start(0, np.zeros(0))

    async def run(self, stop: asyncio.Event, on_batch: Callable[[int], None] | None = None) -> None:
        """Send every reading when its time comes, until done (or `stop`); `on_batch` gets
        the number of readings of each batch sent."""
        rec, loop = self.recording, asyncio.get_running_loop()
        begin, first = loop.time(), int(rec.ts_ms[0])
        wall_ms = int(time.time() * 1000)
        last_ms = wall_ms - 1
        offset = 0  # ms added to the recorded times, a period per finished pass
        while not stop.is_set():
            i = 0
            while i < len(rec) and not stop.is_set():
                due = begin + (rec.ts_ms[i] + offset - first) / 1000 / self.speed
                wait = due - loop.time()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=wait)
                    continue
                if wait < -1.0:
                    self.report.behind += 1
                now_rel = (loop.time() - begin) * 1000 * self.speed + first - offset
                j = int(np.searchsorted(rec.ts_ms, now_rel, side="right"))
                j = max(j, i + 1)
                scaled = wall_ms + (rec.ts_ms[i:j] + offset - first) / self.speed
                stamps = np.floor(scaled).astype(np.int64)
                last_ms = self._stamp(stamps, rec.ts_ms[i:j], last_ms)
                await self._send(i, j, stamps)
                stats = self.publisher.stats
                if self.report.sent == 0 and stats.errors and not stats.messages:
                    raise ReplayError(f"every message was refused: {stats.last_error}")
                self.report.sent += j - i
                if on_batch is not None:
                    on_batch(j - i)
                i = j
            if i >= len(rec):
                self.report.rounds += 1
            if not self.loop:
                break
            offset += self.period

    @staticmethod
    def _stamp(stamps: NDArray[np.int64], recorded: NDArray[np.int64], last: int) -> int:
        """Keep the sent times in the recorded order and apart: each recorded time a later
        millisecond than the one before (a speed that squeezes them closer stretches them)."""
        new = np.r_[True, np.diff(recorded) > 0]  # the first reading of each recorded time
        for k in range(len(stamps)):
            if new[k]:
                last = max(int(stamps[k]), last + 1)
            stamps[k] = last
        return last

    async def _send(self, i: int, j: int, stamps: NDArray[np.int64]) -> None:
        """Readings i..j of the recording, stamped `stamps`, one message or POST per device."""
        tags = self.recording.tag[i:j]
        values = self.recording.value[i:j].tolist()
        devices = self.tag_device[tags]
        order = np.argsort(devices, kind="stable")
        parts = np.split(order, np.flatnonzero(np.diff(devices[order])) + 1)
        names, types = self.layout.names, self.layout.data_types
        batches = []
        for part in parts:
            d, ks = int(devices[part[0]]), part.tolist()
            batch = [(int(stamps[k]), names[t], _plain(values[k], types[t]))
                     for k, t in zip(ks, tags[part].tolist(), strict=True)]  # fmt: skip
            batches.append((d, batch))
        if isinstance(self.publisher, JsonPublisher):
            await self.publisher.send([self._message(d, batch) for d, batch in batches])
        else:
            await self.publisher.post([
                (self.layout.device_ids[d], orjson.dumps({
                    "tag": [name for _, name, _ in batch],
                    "ts": [ts for ts, _, _ in batch],
                    "value": [value for _, _, value in batch],
                }), len(batch))
                for d, batch in batches
            ])  # fmt: skip

    def _message(self, d: int, batch: list[tuple[int, str, Any]]) -> tuple[str, bytes, int]:
        """One device's readings as the JSON ingest's MQTT message: `{"ts", "values"}` per
        time (a list of them when the batch spans several)."""
        entries: dict[int, dict[str, Any]] = {}
        for ts, name, value in batch:
            entries.setdefault(ts, {})[name] = value
        body = [{"ts": ts, "values": values} for ts, values in entries.items()]
        topic = f"sandan/v1/{self.layout.company_ids[d]}/{self.layout.device_ids[d]}/data"
        return topic, orjson.dumps(body[0] if len(body) == 1 else body), len(batch)

    async def close(self) -> None:
        await self.publisher.stop()
