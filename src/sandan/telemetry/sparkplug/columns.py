"""Decode many Sparkplug B payloads at once into columns, with numpy and no object per metric.

`codec.decode` parses one payload with protobuf's C backend, but still touches every metric
from Python (about 1 µs each): at hundreds of thousands of data points per second that alone
fills a core. An ingest flush holds hundreds of payloads, so here the protobuf wire format is
read for all of them together: every payload (then every metric) is a cursor, and each step
advances all cursors by one field with array operations. A 100-metric payload takes about a
hundred top-level steps (one per metric, for all payloads at once) and each metric a handful
(alias, value, sometimes timestamp and datatype, for all metrics at once).

What comes out is the same as `codec.decode` would give, as flat arrays over every metric of
every payload: alias (-1 when absent), timestamp (the metric's, else the payload's, else the
receive time), datatype as sent (0 when absent), which value field was set and its raw bits,
`is_null`, and where each metric's name is in the buffer (names are only turned into strings
on request). `values(datatypes)` then gives float64 values, signed integers read from their
own width as in `codec.decode`. A payload that is not valid protobuf for the Sparkplug schema
is reported by index with the reason and contributes no metrics; the others are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from sandan.telemetry.sparkplug.codec import DataType

__all__ = ["PayloadColumns", "decode_payloads", "field_types", "metric_values"]

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

_PAD: Final = 16  # zero bytes after the buffer, so a 10-byte varint window never overruns

# value fields of Metric (the `value` oneof)
INT_VALUE, LONG_VALUE, FLOAT_VALUE, DOUBLE_VALUE, BOOLEAN_VALUE = 10, 11, 12, 13, 14
_VALUE_FIELDS: Final = range(10, 20)
# the datatype a value has when neither the metric nor a BIRTH says (as codec._FIELD_TYPES)
_FIELD_TYPES: Final = np.zeros(20, np.int32)
for _field, _type in (
    (10, DataType.UInt32),
    (11, DataType.UInt64),
    (12, DataType.Float),
    (13, DataType.Double),
    (14, DataType.Boolean),
    (15, DataType.String),
    (16, DataType.Bytes),
    (17, DataType.DataSet),
    (18, DataType.Template),
):
    _FIELD_TYPES[_field] = _type
# the wire type of each Metric field (index: field number; 20 stands for any larger one)
_METRIC_WIRE: Final = np.array(
    [-1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 5, 1, 0, 2, 2, 2, 2, 2, -1], np.int64
)
_SIGN_BITS: Final = {DataType.Int8: 8, DataType.Int16: 16, DataType.Int32: 32}


class _Malformed(Exception):
    """Raised inside the readers with the cursors that went wrong (handled by the caller)."""


def _varints(buf: NDArray[np.uint8], pos: I64) -> tuple[U64, I64, NDArray[np.bool_]]:
    """The varint at each position: (value, length in bytes, ok). Most are one byte long;
    longer ones are read a byte at a time for the cursors that still continue."""
    first = buf[pos]
    more = np.flatnonzero(first >= 0x80)
    n = len(pos)
    if not len(more):
        return first.astype(np.uint64), np.ones(n, np.int64), np.ones(n, bool)
    value = (first & 0x7F).astype(np.uint64)
    length = np.ones(n, np.int64)
    for step in range(1, 10):
        byte = buf[pos[more] + step]
        value[more] |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * step)
        length[more] += 1
        more = more[byte >= 0x80]
        if not len(more):
            return value, length, np.ones(n, bool)
    ok = np.ones(n, bool)
    ok[more] = False  # no last byte within 10
    return value, length, ok


def _fixed(buf: NDArray[np.uint8], pos: I64, size: int) -> U64:
    """Little-endian fixed32/fixed64 at each position, as uint64 bits."""
    window = np.ascontiguousarray(buf[pos[:, None] + np.arange(size, dtype=np.int64)])
    return window.view("<u8" if size == 8 else "<u4").ravel().astype(np.uint64)


@dataclass(slots=True)
class _Fields:
    """One step of the cursors: the field read at each active cursor."""

    number: I64
    wire: I64
    value: U64  # varint or fixed value; for length-delimited fields, the length
    start: I64  # where a length-delimited field's bytes start
    next: I64  # position after the field
    ok: NDArray[np.bool_]


def _step(buf: NDArray[np.uint8], pos: I64, end: I64) -> _Fields:
    """Read one field (key and value) at every cursor; `ok` is False where it is malformed."""
    key, klen, ok = _varints(buf, pos)
    number = (key >> np.uint64(3)).astype(np.int64)
    wire = (key & np.uint64(7)).astype(np.int64)
    at = pos + klen
    value = np.zeros(len(pos), np.uint64)
    start = at.copy()
    nxt = at.copy()
    ok &= number > 0
    rows = np.flatnonzero(wire == 0)
    if len(rows):
        v, vlen, vok = _varints(buf, at[rows])
        value[rows] = v
        nxt[rows] += vlen
        ok[rows] &= vok
    rows = np.flatnonzero(wire == 1)
    if len(rows):
        value[rows] = _fixed(buf, at[rows], 8)
        nxt[rows] += 8
    rows = np.flatnonzero(wire == 5)
    if len(rows):
        value[rows] = _fixed(buf, at[rows], 4)
        nxt[rows] += 4
    rows = np.flatnonzero(wire == 2)
    if len(rows):
        n, nlen, nok = _varints(buf, at[rows])
        too_long = n > np.uint64(1 << 40)
        n[too_long] = 0
        start[rows] += nlen
        value[rows] = n
        nxt[rows] = start[rows] + n.astype(np.int64)
        ok[rows] &= nok & ~too_long
    ok &= (wire <= 2) | (wire == 5)  # groups (3, 4) and 6/7 are not in this schema
    ok &= nxt <= end
    return _Fields(number, wire, value, start, nxt, ok)


@dataclass(slots=True)
class PayloadColumns:
    """Many payloads as columns: per payload (`seq`, `timestamp`, `first`, `count`) and per
    metric, metrics of payload i being rows `first[i]` to `first[i] + count[i]`."""

    seq: I64  # -1 when absent
    timestamp: I64  # ms; the receive time when the payload has none
    first: I64
    count: I64
    errors: list[tuple[int, str]]  # (payload index, reason); such payloads have no metrics
    alias: I64  # -1 when absent
    ts_ms: I64
    datatype: NDArray[np.int32]  # as sent; 0 when absent (DATA metrics usually omit it)
    kind: NDArray[np.int8]  # the value field set (10..19), 0 when none
    raw: U64  # the value's bits: varint, fixed32 or fixed64
    is_null: NDArray[np.bool_]
    name_start: I64
    name_len: I64  # -1 when the metric has no name
    buf: NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.alias)

    def names(self, rows: Sequence[int] | I64 | None = None) -> list[str | None]:
        """The names of these metrics (all by default), None where a metric has none."""
        index = range(len(self)) if rows is None else rows
        data = self.buf.data
        out: list[str | None] = []
        for i in index:
            n = int(self.name_len[i])
            s = int(self.name_start[i])
            out.append(None if n < 0 else str(data[s : s + n], "utf-8", "replace"))
        return out

    def fallback_types(self) -> NDArray[np.int32]:
        """The datatype each metric's value field implies (UInt32 for `int_value`, ...)."""
        return field_types(self.kind)

    def values(self, datatypes: NDArray[np.int32]) -> NDArray[np.float64]:
        """Every metric's value as float64 (see `metric_values`)."""
        return metric_values(self.kind, self.raw, self.is_null, datatypes)


def field_types(kind: NDArray[np.int8]) -> NDArray[np.int32]:
    """The datatype a value field implies when neither the metric nor its BIRTH gives one."""
    return _FIELD_TYPES[kind]


def metric_values(
    kind: NDArray[np.int8],
    raw: U64,
    is_null: NDArray[np.bool_],
    datatypes: NDArray[np.int32],
) -> NDArray[np.float64]:
    """Numeric and boolean values as float64 (NaN for null and other kinds), integers of the
    signed datatypes read from their own width, as `codec.decode` does; all arrays aligned."""
    out = np.full(len(kind), np.nan)
    is_int = (kind == INT_VALUE) | (kind == LONG_VALUE)
    if is_int.any():
        # int_value is a uint32 field: protobuf keeps its low 32 bits.
        bits = np.where(kind == INT_VALUE, raw & np.uint64(0xFFFF_FFFF), raw)
        out = np.where(is_int, bits.astype(np.float64), out)
        for datatype, width in _SIGN_BITS.items():
            sel = is_int & (datatypes == datatype)
            if sel.any():
                low = (bits[sel] & np.uint64((1 << width) - 1)).astype(np.int64)
                sign = np.int64(1 << (width - 1))
                out[sel] = ((low ^ sign) - sign).astype(np.float64)
        sel = is_int & (datatypes == DataType.Int64)
        if sel.any():
            out[sel] = bits[sel].view(np.int64).astype(np.float64)
    sel = kind == FLOAT_VALUE
    if sel.any():
        out[sel] = (raw[sel] & np.uint64(0xFFFF_FFFF)).astype(np.uint32).view(np.float32)
    sel = kind == DOUBLE_VALUE
    if sel.any():
        out[sel] = raw[sel].view(np.float64)
    sel = kind == BOOLEAN_VALUE
    if sel.any():
        out[sel] = (raw[sel] != 0).astype(np.float64)
    out[is_null] = np.nan
    return out


def _concat(payloads: Sequence[bytes]) -> tuple[NDArray[np.uint8], I64, I64]:
    sizes = np.fromiter((len(p) for p in payloads), np.int64, len(payloads))
    ends = np.cumsum(sizes)
    starts = ends - sizes
    joined = b"".join(payloads) + bytes(_PAD)
    return np.frombuffer(joined, np.uint8), starts, ends


def decode_payloads(payloads: Sequence[bytes], received_ms: Sequence[float]) -> PayloadColumns:
    """Decode these payloads together (see the module docstring)."""
    n = len(payloads)
    buf, starts, ends = _concat(payloads)
    seq = np.full(n, -1, np.int64)
    stamp = np.full(n, -1, np.int64)
    bad = np.zeros(n, bool)
    reasons: dict[int, str] = {}
    # metric spans found at the top level, in order of discovery
    m_payload: list[I64] = []
    m_start: list[I64] = []
    m_end: list[I64] = []
    m_step: list[int] = []

    active = np.flatnonzero(starts < ends)
    pos, end = starts[active], ends[active]
    step = 0
    while len(active):
        # The usual field: a metric (key 0x12) shorter than 128 bytes (a one-byte length).
        length = buf[pos + 1].astype(np.int64)
        nxt = pos + 2 + length
        if ((buf[pos] == 0x12) & (length < 0x80) & (nxt <= end)).all():
            m_payload.append(active)
            m_start.append(pos + 2)
            m_end.append(nxt)
            m_step.append(step)
            pos = nxt
            more = pos < end
        else:
            f = _step(buf, pos, end)
            if not f.ok.all():
                for i in active[~f.ok].tolist():
                    bad[i] = True
                    reasons.setdefault(i, "not a Sparkplug B payload: malformed protobuf")
            good = f.ok
            is_metric = good & (f.number == 2) & (f.wire == 2)
            if is_metric.any():
                m_payload.append(active[is_metric])
                m_start.append(f.start[is_metric])
                m_end.append(f.next[is_metric])
                m_step.append(step)
            sel = good & (f.number == 1) & (f.wire == 0)
            stamp[active[sel]] = f.value[sel].view(np.int64)
            sel = good & (f.number == 3) & (f.wire == 0)
            seq[active[sel]] = np.minimum(f.value[sel], np.uint64(1 << 62)).astype(np.int64)
            pos = f.next
            more = good & (pos < end)
        if not more.all():
            active, pos, end = active[more], pos[more], end[more]
        step += 1

    if m_payload:
        owner = np.concatenate(m_payload)
        # metrics of a payload in their order: by payload, then by the step that found them
        steps = np.repeat(np.array(m_step, np.int64), [len(a) for a in m_payload])
        order = np.lexsort((steps, owner))
        owner = owner[order]
        mstart = np.concatenate(m_start)[order]
        mend = np.concatenate(m_end)[order]
    else:
        owner = mstart = mend = np.zeros(0, np.int64)

    now_stamp = np.asarray(received_ms, np.float64).astype(np.int64)
    stamp = np.where(stamp < 0, now_stamp, stamp)  # absent (or past int64): receive time
    m = len(owner)
    alias = np.full(m, -1, np.int64)
    ts = np.full(m, -1, np.int64)
    datatype = np.zeros(m, np.int64)
    kind = np.zeros(m, np.int64)
    raw = np.zeros(m, np.uint64)
    is_null = np.zeros(m, bool)
    name_start = np.zeros(m, np.int64)
    name_len = np.full(m, -1, np.int64)
    metric_bad = np.zeros(m, bool)

    active = np.flatnonzero(mstart < mend)
    pos = mstart[active]
    while len(active):
        f = _step(buf, pos, mend[active])
        metric_bad[active[~f.ok]] = True
        good = f.ok
        num = np.minimum(f.number, 20)
        # a field with the wire type of the schema; another one is skipped as unknown
        known = good & (f.wire == _METRIC_WIRE[num])
        present = np.bincount(np.where(known, num, 0), minlength=21)
        if present[1]:
            sel = known & (num == 1)
            name_start[active[sel]] = f.start[sel]
            name_len[active[sel]] = f.value[sel].astype(np.int64)
        if present[2]:
            sel = known & (num == 2)
            alias[active[sel]] = f.value[sel].view(np.int64)
        if present[3]:
            sel = known & (num == 3)
            ts[active[sel]] = f.value[sel].view(np.int64)
        if present[4]:
            sel = known & (num == 4)
            datatype[active[sel]] = np.minimum(f.value[sel], np.uint64(1 << 31)).astype(np.int64)
        if present[7]:
            sel = known & (num == 7)
            is_null[active[sel]] = f.value[sel] != 0
        if present[10:20].any():  # the value oneof: the last field seen wins, as in protobuf
            sel = known & (num >= 10) & (num <= 19)
            kind[active[sel]] = num[sel]
            raw[active[sel]] = f.value[sel]
        pos = f.next
        more = good & (pos < mend[active])
        active, pos = active[more], pos[more]

    # alias or timestamp beyond int64 (read as negative): codec.decode refuses those too
    metric_bad |= (alias < -1) | (ts < -1)
    if metric_bad.any():
        for i in np.unique(owner[metric_bad]).tolist():
            bad[i] = True
            reasons.setdefault(i, "not a Sparkplug B payload: malformed metric")
    ts = np.where(ts < 0, stamp[owner] if m else ts, ts)

    count = np.bincount(owner, minlength=n).astype(np.int64) if m else np.zeros(n, np.int64)
    if bad.any():  # drop the metrics of bad payloads, keep the others
        keep = ~bad[owner]
        owner, alias, ts, datatype = owner[keep], alias[keep], ts[keep], datatype[keep]
        kind, raw, is_null = kind[keep], raw[keep], is_null[keep]
        name_start, name_len = name_start[keep], name_len[keep]
        count[bad] = 0
    first = np.cumsum(count) - count
    return PayloadColumns(
        seq=seq,
        timestamp=stamp,
        first=first,
        count=count,
        errors=sorted(reasons.items()),
        alias=alias,
        ts_ms=ts,
        datatype=datatype.astype(np.int32),
        kind=kind.astype(np.int8),
        raw=raw,
        is_null=is_null,
        name_start=name_start,
        name_len=name_len,
        buf=buf,
    )
