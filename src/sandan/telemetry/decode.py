"""Turn request bodies into columns without a Python object per reading on the happy path.

Accepted shapes (JSON): columnar `{"tag": [...], "ts": [...], "value": [...]}` (or `tag_id`
instead of `tag`), or rows `{"readings": [{"tag": ..., "ts": ..., "value": ...}, ...]}`.
`ts` is epoch milliseconds or an ISO-8601 string; `value` a number or a boolean. A reading may
name its unit (`"unit": [...]` beside the columns, `"unit"` in a row, `"units": {key: unit}`
beside ThingsBoard's `"values"`); refine converts it to the tag's unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sandan.core.errors import ValidationFailed


@dataclass
class Columns:
    """Decoded readings: tag names or ids, timestamps (null where unreadable), values, and
    the units the readings name (None when none does; null where one does not)."""

    tags: pa.Array
    ts: pa.Array
    value: pa.Array
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    unit: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.ts)


def _one_timestamp(value: Any) -> datetime:
    """One time as naive UTC; a time without an offset is taken as UTC."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _timestamps(raw: list[Any], problems: list[tuple[int, str, str]]) -> pa.Array:
    try:
        if all(type(v) is int or type(v) is float for v in raw):  # epoch milliseconds
            millis = pa.array(raw, pa.float64())
            micros = pc.cast(pc.multiply(millis, 1000.0), pa.int64())
            return pc.cast(micros, pa.timestamp("us"))
        parsed = pc.cast(pa.array(raw, pa.string()), pa.timestamp("us", tz="UTC"))
        return pc.cast(parsed, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out: list[datetime | None] = []  # slow path: find the bad ones, keep the rest
    for i, v in enumerate(raw):
        try:
            out.append(_one_timestamp(v))
        except (ValueError, TypeError, OverflowError, OSError):
            out.append(None)
            problems.append((i, "ts", "not epoch milliseconds or an ISO-8601 time"))
    return pa.array(out, pa.timestamp("us"))


def _values(raw: list[Any], problems: list[tuple[int, str, str]]) -> pa.Array:
    try:
        return pa.array(raw, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out: list[float | None] = []
    for i, v in enumerate(raw):
        if isinstance(v, bool | int | float):
            out.append(float(v))
        elif v is None:  # missing: refine rejects it, as when the whole column converts
            out.append(None)
        else:
            out.append(None)
            problems.append((i, "value", "not a number"))
    return pa.array(out, pa.float64())


_COLUMN_KEYS = {"tag", "tag_id", "ts", "value"}
Raw = tuple[str, list[Any], list[Any], list[Any], list[Any] | None]


def _units(raw: list[Any], problems: list[tuple[int, str, str]]) -> pa.Array:
    try:
        return pa.array(raw, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    out: list[str | None] = []
    for i, v in enumerate(raw):
        if v is None or isinstance(v, str):
            out.append(v)
        else:
            out.append(None)
            problems.append((i, "unit", "not a unit name"))
    return pa.array(out, pa.string())


def _raw_columns(doc: Any, now_ms: float) -> Raw:
    """The tag, ts, value and unit lists of any accepted shape (raises ValidationFailed);
    units are None when no reading names one."""
    if isinstance(doc, dict) and "readings" in doc:
        doc = doc["readings"]
    if isinstance(doc, dict) and "values" in doc and isinstance(doc["values"], dict):
        doc = [doc]  # ThingsBoard: {"ts": ..., "values": {key: value}}
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(r, dict) and isinstance(r.get("values"), dict) for r in doc)
    ):
        tags, ts, values, units = [], [], [], []
        for entry in doc:
            named = entry.get("units")
            named = named if isinstance(named, dict) else {}
            for name, value in entry["values"].items():
                tags.append(name)
                ts.append(entry.get("ts", now_ms))
                values.append(value)
                units.append(named.get(name))
        has_units = any(isinstance(entry.get("units"), dict) for entry in doc)
        return "tag", tags, ts, values, units if has_units else None
    if isinstance(doc, list):
        if not all(isinstance(r, dict) for r in doc):
            raise ValidationFailed.one("readings", "each reading must be an object")
        key = "tag_id" if doc and "tag_id" in doc[0] else "tag"
        rows = doc
        doc = {
            key: [r.get(key) for r in rows],
            "ts": [r.get("ts") for r in rows],
            "value": [r.get("value") for r in rows],
        }
        if any("unit" in r for r in rows):
            doc["unit"] = [r.get("unit") for r in rows]
    if not isinstance(doc, dict):
        raise ValidationFailed.one("body", "expected {tag, ts, value} columns or readings")
    if doc and not (_COLUMN_KEYS & doc.keys()):  # ThingsBoard: {key: value} at receipt time
        return "tag", list(doc), [now_ms] * len(doc), list(doc.values()), None
    key = "tag_id" if "tag_id" in doc else "tag"
    columns = {name: doc.get(name) for name in (key, "ts", "value")}
    for name, col in columns.items():
        if not isinstance(col, list):
            raise ValidationFailed.one(name, "must be a list")
    tags_raw, ts_raw, values_raw = columns[key], columns["ts"], columns["value"]
    assert isinstance(tags_raw, list) and isinstance(ts_raw, list)
    assert isinstance(values_raw, list)
    if not len(tags_raw) == len(ts_raw) == len(values_raw):
        raise ValidationFailed.one("body", "tag, ts and value must have the same length")
    units_raw = doc.get("unit")
    if units_raw is not None and not isinstance(units_raw, list):
        raise ValidationFailed.one("unit", "must be a list")
    if units_raw is not None and len(units_raw) != len(tags_raw):
        raise ValidationFailed.one("body", "unit must have the same length as tag")
    return key, tags_raw, ts_raw, values_raw, units_raw


def _build(
    key: str,
    tags_raw: list[Any],
    ts_raw: list[Any],
    values_raw: list[Any],
    units_raw: list[Any] | None = None,
) -> Columns:
    problems: list[tuple[int, str, str]] = []
    try:
        tags = pa.array(tags_raw, pa.int32() if key == "tag_id" else pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        raise ValidationFailed.one(key, "tag ids must be integers, tag names strings") from None
    return Columns(
        tags=tags,
        ts=_timestamps(ts_raw, problems),
        value=_values(values_raw, problems),
        problems=problems,
        unit=None if units_raw is None else _units(units_raw, problems),
    )


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def decode_json(body: bytes) -> Columns:
    """Decode one JSON body in any accepted shape; a malformed body is one clear 422."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed.one("body", f"not valid JSON: {exc}") from None
    return _build(*_raw_columns(doc, _now_ms()))


def decode_many(
    payloads: list[bytes],
    prefixes: list[str] | None = None,
    received_ms: list[float] | None = None,
) -> tuple[Columns, list[tuple[int, str]], list[int]]:
    """Decode many small messages (MQTT) into one batch of columns by tag name; a message that
    cannot be read is returned as (its index, reason) and the others are kept. With
    `prefixes`, each message's tag names get its prefix (e.g. "<device_id>/"); the third
    result maps every reading to the index of its message. A reading without a time gets its
    message's receipt time (`received_ms`, fractional milliseconds)."""
    now_ms = _now_ms()
    tags: list[Any] = []
    ts: list[Any] = []
    values: list[Any] = []
    units: list[Any] = []
    any_units = False
    bad: list[tuple[int, str]] = []
    origin: list[int] = []
    for index, payload in enumerate(payloads):
        try:
            doc = orjson.loads(payload)
            # The common MQTT shape, {"ts": 1732..., "values": {name: number}} without units,
            # goes straight into the columns: the general path costs twice as much per message.
            if type(doc) is dict and len(doc) == 2 and type(doc.get("values")) is dict:
                stamp = doc.get("ts")
                named = doc["values"]
                if type(stamp) is int and all(type(name) is str for name in named):
                    prefix = prefixes[index] if prefixes is not None else ""
                    tags.extend([prefix + name for name in named])
                    ts.extend([stamp] * len(named))
                    values.extend(named.values())
                    units.extend([None] * len(named))
                    origin.extend([index] * len(named))
                    continue
            at = received_ms[index] if received_ms is not None else now_ms
            key, t, s, v, u = _raw_columns(doc, at)
        except orjson.JSONDecodeError as exc:
            bad.append((index, f"not valid JSON: {exc}"))
            continue
        except ValidationFailed as exc:
            bad.append((index, exc.message))
            continue
        if key != "tag" or not all(isinstance(name, str) for name in t):
            bad.append((index, "tags must be named by strings over MQTT"))
            continue
        if prefixes is not None:
            prefix = prefixes[index]
            t = [prefix + name for name in t]
        tags.extend(t)
        ts.extend(s)
        values.extend(v)
        units.extend([None] * len(t) if u is None else u)
        any_units = any_units or u is not None
        origin.extend([index] * len(t))
    return _build("tag", tags, ts, values, units if any_units else None), bad, origin
