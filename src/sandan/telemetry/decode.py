"""Turn request bodies into columns without a Python object per reading on the happy path.

Accepted shapes (JSON): columnar `{"tag": [...], "ts": [...], "value": [...]}` (or `tag_id`
instead of `tag`), or rows `{"readings": [{"tag": ..., "ts": ..., "value": ...}, ...]}`.
`ts` is epoch milliseconds or an ISO-8601 string; `value` a number or a boolean.
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
    """Decoded readings: tag names or ids, timestamps (null where unreadable), values."""

    tags: pa.Array
    ts: pa.Array
    value: pa.Array
    problems: list[tuple[int, str, str]] = field(default_factory=list)

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
        if isinstance(v, bool | int | float) and v is not None:
            out.append(float(v))
        else:
            out.append(None)
            problems.append((i, "value", "not a number"))
    return pa.array(out, pa.float64())


_COLUMN_KEYS = {"tag", "tag_id", "ts", "value"}


def _raw_columns(doc: Any, now_ms: float) -> tuple[str, list[Any], list[Any], list[Any]]:
    """The tag, ts and value lists of any accepted shape (raises ValidationFailed)."""
    if isinstance(doc, dict) and "readings" in doc:
        doc = doc["readings"]
    if isinstance(doc, dict) and "values" in doc and isinstance(doc["values"], dict):
        doc = [doc]  # ThingsBoard: {"ts": ..., "values": {key: value}}
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(r, dict) and isinstance(r.get("values"), dict) for r in doc)
    ):
        tags, ts, values = [], [], []
        for entry in doc:
            for name, value in entry["values"].items():
                tags.append(name)
                ts.append(entry.get("ts", now_ms))
                values.append(value)
        return "tag", tags, ts, values
    if isinstance(doc, list):
        if not all(isinstance(r, dict) for r in doc):
            raise ValidationFailed.one("readings", "each reading must be an object")
        key = "tag_id" if doc and "tag_id" in doc[0] else "tag"
        doc = {
            key: [r.get(key) for r in doc],
            "ts": [r.get("ts") for r in doc],
            "value": [r.get("value") for r in doc],
        }
    if not isinstance(doc, dict):
        raise ValidationFailed.one("body", "expected {tag, ts, value} columns or readings")
    if doc and not (_COLUMN_KEYS & doc.keys()):  # ThingsBoard: {key: value} at receipt time
        return "tag", list(doc), [now_ms] * len(doc), list(doc.values())
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
    return key, tags_raw, ts_raw, values_raw


def _build(key: str, tags_raw: list[Any], ts_raw: list[Any], values_raw: list[Any]) -> Columns:
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
    bad: list[tuple[int, str]] = []
    origin: list[int] = []
    for index, payload in enumerate(payloads):
        try:
            at = received_ms[index] if received_ms is not None else now_ms
            key, t, s, v = _raw_columns(orjson.loads(payload), at)
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
        origin.extend([index] * len(t))
    return _build("tag", tags, ts, values), bad, origin
