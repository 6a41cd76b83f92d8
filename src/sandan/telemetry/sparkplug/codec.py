"""Sparkplug B payloads: decode into columns, encode what an edge node (or a host) sends.

`decode` is the hot path. It parses with protobuf's C backend (upb) and touches each metric
only for the few fields a consumer needs, producing columns (numpy arrays) rather than an
object per metric: names, aliases (-1 when absent), timestamps (the metric's, else the
payload's), values as float64 (NaN for null or non-numeric metrics) and datatypes.

Integers follow Sparkplug 3.0: Int8/16/32 and UInt8/16/32 travel in `int_value` (uint32),
Int64, UInt64 and DateTime in `long_value` (uint64), signed ones as two's complement. When
decoding, a signed value is read from its own width (the low 8/16/32/64 bits), so edge nodes
that sign-extend Int8/Int16 to 32 bits and those that do not both decode correctly.

DATA messages normally omit the datatype (the spec says they SHOULD); pass the datatypes
learned from the BIRTH (`alias_types`, `name_types`) so signed integers come out signed.
A value whose datatype is still unknown is typed by its protobuf field (uint32 → UInt32, ...).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

import numpy as np
import orjson
from google.protobuf.message import DecodeError as _PbDecodeError
from numpy.typing import NDArray

from sandan.telemetry.sparkplug import sparkplug_b_pb2 as pb

__all__ = [
    "BD_SEQ",
    "REBIRTH",
    "DataType",
    "DecodeError",
    "DecodedPayload",
    "Metric",
    "MetricValue",
    "decode",
    "decode_state",
    "encode_data",
    "encode_data_columns",
    "encode_dbirth",
    "encode_ddeath",
    "encode_nbirth",
    "encode_ndeath",
    "encode_payload",
    "encode_rebirth_command",
    "encode_state",
    "now_ms",
]

BD_SEQ: Final = "bdSeq"
REBIRTH: Final = "Node Control/Rebirth"

_MASK32: Final = 0xFFFF_FFFF
_MASK64: Final = 0xFFFF_FFFF_FFFF_FFFF


class DataType(IntEnum):
    """Sparkplug B metric datatypes (the `DataType` enum of sparkplug_b.proto)."""

    Unknown = 0
    Int8 = 1
    Int16 = 2
    Int32 = 3
    Int64 = 4
    UInt8 = 5
    UInt16 = 6
    UInt32 = 7
    UInt64 = 8
    Float = 9
    Double = 10
    Boolean = 11
    String = 12
    DateTime = 13
    Text = 14
    UUID = 15
    DataSet = 16
    Bytes = 17
    File = 18
    Template = 19
    PropertySet = 20
    PropertySetList = 21
    Int8Array = 22
    Int16Array = 23
    Int32Array = 24
    Int64Array = 25
    UInt8Array = 26
    UInt16Array = 27
    UInt32Array = 28
    UInt64Array = 29
    FloatArray = 30
    DoubleArray = 31
    BooleanArray = 32
    StringArray = 33
    DateTimeArray = 34


class DecodeError(ValueError):
    """The bytes are not a usable Sparkplug B payload."""


def now_ms() -> int:
    """Wall-clock time in milliseconds since the epoch (UTC), as Sparkplug timestamps are."""
    return time.time_ns() // 1_000_000


# --- decoding -------------------------------------------------------------------------------

# value field -> True when it holds an integer (which may need a sign), False for float/bool.
_NUMERIC_FIELDS: Final[dict[str | None, bool]] = {
    "int_value": True,
    "long_value": True,
    "float_value": False,
    "double_value": False,
    "boolean_value": False,
}


def _signed(bits: int) -> Callable[[int], int]:
    mask = (1 << bits) - 1
    sign = 1 << (bits - 1)

    def convert(v: int) -> int:
        return ((v & mask) ^ sign) - sign

    return convert


_SIGNED: Final[dict[int, Callable[[int], int]]] = {
    DataType.Int8: _signed(8),
    DataType.Int16: _signed(16),
    DataType.Int32: _signed(32),
    DataType.Int64: _signed(64),
}

# the datatype a value most likely has when neither the message nor a BIRTH says
_FIELD_TYPES: Final[dict[str | None, int]] = {
    "int_value": DataType.UInt32,
    "long_value": DataType.UInt64,
    "float_value": DataType.Float,
    "double_value": DataType.Double,
    "boolean_value": DataType.Boolean,
    "string_value": DataType.String,
    "bytes_value": DataType.Bytes,
    "dataset_value": DataType.DataSet,
    "template_value": DataType.Template,
}

_NO_TYPES: Final[Mapping[int, int]] = {}
_NO_NAME_TYPES: Final[Mapping[str, int]] = {}
_NAN: Final = math.nan


@dataclass(frozen=True, slots=True)
class DecodedPayload:
    """One Sparkplug B payload as columns, one row per metric."""

    seq: int | None
    timestamp: int  # payload timestamp, ms since the epoch (receive time when absent)
    names: list[str | None]  # None where the metric carries only an alias
    aliases: NDArray[np.int64]  # -1 where the metric carries no alias
    ts_ms: NDArray[np.int64]  # the metric's timestamp, else the payload's
    values: NDArray[np.float64]  # numeric and boolean values; NaN for null / other types
    datatypes: NDArray[np.int32]  # DataType; 0 only for a metric with no value and no type
    message: pb.Payload = field(repr=False, compare=False)  # the parsed protobuf, for the rest

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int | None:
        """Row of the first metric with this name, or None."""
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def value_of(self, name: str) -> float | None:
        """Value of the first metric with this name (None when absent)."""
        i = self.index(name)
        return None if i is None else float(self.values[i])


def decode(
    payload: bytes,
    *,
    alias_types: Mapping[int, int] | None = None,
    name_types: Mapping[str, int] | None = None,
) -> DecodedPayload:
    """Parse a Sparkplug B payload into columns.

    `alias_types` / `name_types` supply the datatypes of a BIRTH for metrics that arrive
    without one (as DATA metrics should). Raises `DecodeError` for bytes that are not a
    Sparkplug B payload.
    """
    try:
        msg = pb.Payload.FromString(payload)
    except (_PbDecodeError, TypeError, ValueError) as exc:
        raise DecodeError(f"not a Sparkplug B payload: {exc}") from exc

    base_ts = msg.timestamp if msg.HasField("timestamp") else now_ms()
    seq = msg.seq if msg.HasField("seq") else None
    at = alias_types or _NO_TYPES
    nt = name_types or _NO_NAME_TYPES
    numeric = _NUMERIC_FIELDS
    signed = _SIGNED
    field_types = _FIELD_TYPES
    nan = _NAN

    names: list[str | None] = []
    aliases: list[int] = []
    stamps: list[int] = []
    values: list[float | int | bool] = []
    types: list[int] = []
    add_name, add_alias, add_ts = names.append, aliases.append, stamps.append
    add_value, add_type = values.append, types.append

    for m in msg.metrics:
        name = m.name or None
        alias = m.alias if m.HasField("alias") else -1
        add_name(name)
        add_alias(alias)
        add_ts(m.timestamp if m.HasField("timestamp") else base_ts)
        which = m.WhichOneof("value")
        dt = m.datatype
        if not dt:
            dt = (at.get(alias, 0) if alias >= 0 else nt.get(name, 0) if name else 0) or (
                field_types.get(which, 0)
            )
        add_type(dt)
        is_int = numeric.get(which)
        if is_int is None or m.is_null:
            add_value(nan)
        elif is_int:
            v = getattr(m, which)
            conv = signed.get(dt)
            add_value(conv(v) if conv is not None else v)
        else:
            add_value(getattr(m, which))

    try:
        alias_col = np.array(aliases, dtype=np.int64)
        ts_col = np.array(stamps, dtype=np.int64)
    except OverflowError as exc:
        raise DecodeError(f"alias or timestamp out of range: {exc}") from exc
    return DecodedPayload(
        seq=seq,
        timestamp=base_ts,
        names=names,
        aliases=alias_col,
        ts_ms=ts_col,
        values=np.array(values, dtype=np.float64),
        datatypes=np.array(types, dtype=np.int32),
        message=msg,
    )


# --- encoding -------------------------------------------------------------------------------

MetricValue = bool | int | float | str | bytes | None

_INT_RANGES: Final[dict[int, tuple[int, int]]] = {
    DataType.Int8: (-(1 << 7), (1 << 7) - 1),
    DataType.Int16: (-(1 << 15), (1 << 15) - 1),
    DataType.Int32: (-(1 << 31), (1 << 31) - 1),
    DataType.Int64: (-(1 << 63), (1 << 63) - 1),
    DataType.UInt8: (0, (1 << 8) - 1),
    DataType.UInt16: (0, (1 << 16) - 1),
    DataType.UInt32: (0, (1 << 32) - 1),
    DataType.UInt64: (0, (1 << 64) - 1),
    DataType.DateTime: (0, (1 << 64) - 1),
}
_INT32_TYPES: Final = frozenset(
    {DataType.Int8, DataType.Int16, DataType.Int32, DataType.UInt8, DataType.UInt16,
     DataType.UInt32}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric to encode. `value=None` sends it as null (`is_null`)."""

    name: str | None = None
    value: MetricValue = None
    datatype: int = DataType.Double
    alias: int | None = None
    timestamp: int | None = None


def _set_value(m: pb.Payload.Metric, datatype: int, value: MetricValue) -> None:
    if value is None:
        m.is_null = True
        return
    if datatype in _INT_RANGES:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{DataType(datatype).name} needs an integer, not {value!r}")
        v = value
        lo, hi = _INT_RANGES[datatype]
        if not lo <= v <= hi:
            raise ValueError(f"{v} is out of range for {DataType(datatype).name}")
        if datatype in _INT32_TYPES:
            m.int_value = v & _MASK32
        else:
            m.long_value = v & _MASK64
    elif datatype in (DataType.Float, DataType.Double):
        if not isinstance(value, bool | int | float):
            raise ValueError(f"{DataType(datatype).name} needs a number, not {value!r}")
        if datatype == DataType.Float:
            m.float_value = float(value)
        else:
            m.double_value = float(value)
    elif datatype == DataType.Boolean:
        m.boolean_value = bool(value)
    elif datatype in (DataType.String, DataType.Text, DataType.UUID):
        m.string_value = str(value)
    elif datatype in (DataType.Bytes, DataType.File) and isinstance(value, bytes):
        m.bytes_value = value
    else:
        raise ValueError(f"cannot encode {value!r} as datatype {datatype}")


def _add_metrics(
    msg: pb.Payload, metrics: Iterable[Metric], *, with_names: bool, with_types: bool
) -> None:
    for metric in metrics:
        m = msg.metrics.add()
        if metric.alias is not None:
            m.alias = metric.alias
        if metric.name is not None and (with_names or metric.alias is None):
            m.name = metric.name
        if with_types:
            m.datatype = metric.datatype
        if metric.timestamp is not None:
            m.timestamp = metric.timestamp
        _set_value(m, metric.datatype, metric.value)


def encode_payload(
    metrics: Iterable[Metric],
    *,
    seq: int | None,
    timestamp: int | None = None,
    with_names: bool = True,
    with_types: bool = True,
) -> bytes:
    """A payload with these metrics; `seq` None leaves the sequence number out."""
    msg = pb.Payload(timestamp=now_ms() if timestamp is None else timestamp)
    if seq is not None:
        msg.seq = seq % 256
    _add_metrics(msg, metrics, with_names=with_names, with_types=with_types)
    return msg.SerializeToString()


def encode_nbirth(
    bd_seq: int, metrics: Iterable[Metric] = (), *, seq: int = 0, timestamp: int | None = None
) -> bytes:
    """NBIRTH: `bdSeq` (Int64) and `Node Control/Rebirth` (false) first, then the node's own
    metrics with names, datatypes and (when given) aliases. Sparkplug 3.0 wants seq 0."""
    head = [
        Metric(BD_SEQ, bd_seq, DataType.Int64),
        Metric(REBIRTH, False, DataType.Boolean),
    ]
    return encode_payload([*head, *metrics], seq=seq, timestamp=timestamp)


def encode_dbirth(metrics: Iterable[Metric], *, seq: int, timestamp: int | None = None) -> bytes:
    """DBIRTH: every metric of the device with its name, datatype and alias."""
    return encode_payload(metrics, seq=seq, timestamp=timestamp)


def encode_data(
    metrics: Iterable[Metric],
    *,
    seq: int,
    timestamp: int | None = None,
    with_types: bool = False,
) -> bytes:
    """NDATA / DDATA: metrics with an alias go by alias alone (no name), those without by name.
    Datatypes are left out unless `with_types` (the host knows them from the BIRTH)."""
    return encode_payload(
        metrics, seq=seq, timestamp=timestamp, with_names=False, with_types=with_types
    )


def encode_data_columns(
    aliases: Sequence[int],
    datatypes: Sequence[int],
    values: Sequence[MetricValue],
    *,
    seq: int,
    timestamp: int | None = None,
    ts_ms: Sequence[int] | None = None,
) -> bytes:
    """NDATA / DDATA by alias from columns (for simulators sending many points)."""
    stamps: Sequence[int | None] = ts_ms if ts_ms is not None else [None] * len(aliases)
    return encode_data(
        (
            Metric(alias=a, datatype=d, value=v, timestamp=t)
            for a, d, v, t in zip(aliases, datatypes, values, stamps, strict=True)
        ),
        seq=seq,
        timestamp=timestamp,
    )


def encode_ndeath(bd_seq: int, *, timestamp: int | None = None) -> bytes:
    """NDEATH (the edge node's MQTT will): only the `bdSeq` of the session, no seq."""
    return encode_payload([Metric(BD_SEQ, bd_seq, DataType.Int64)], seq=None, timestamp=timestamp)


def encode_ddeath(*, seq: int, timestamp: int | None = None) -> bytes:
    """DDEATH: no metrics, just the node's next seq."""
    return encode_payload((), seq=seq, timestamp=timestamp)


def encode_rebirth_command(*, timestamp: int | None = None) -> bytes:
    """NCMD asking an edge node to rebirth: `Node Control/Rebirth` = true."""
    return encode_payload([Metric(REBIRTH, True, DataType.Boolean)], seq=None, timestamp=timestamp)


def encode_state(online: bool, timestamp: int) -> bytes:
    """Host application STATE payload (Sparkplug 3.0): `{"online": ..., "timestamp": ...}`."""
    return orjson.dumps({"online": online, "timestamp": timestamp})


def decode_state(payload: bytes) -> tuple[bool, int]:
    """(online, timestamp) of a STATE payload; raises DecodeError when it is not one."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"STATE payload is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise DecodeError("STATE payload is not a JSON object")
    online, ts = body.get("online"), body.get("timestamp")
    if not isinstance(online, bool) or not isinstance(ts, int) or isinstance(ts, bool):
        raise DecodeError("STATE payload needs a boolean 'online' and an integer 'timestamp'")
    return online, ts
