"""Prometheus counts of the shared ingest pipeline (`service.store_batch`, `keep_rejects`), so
HTTP, CSV, MQTT, Sparkplug B, OPC UA and replay all report the same way.

Label values stay bounded: `source` is one of `INGEST_SOURCES` and a reason is reduced to a
category from a fixed list, never a tag name, a device id or a parser's message.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sandan.core.metrics import ingest_source, metrics_of

# "<field>: <reason>" as refine and decode word them -> category.
_EXACT = {
    "tag: not a tag of this device": "unknown_tag",
    "ts: not epoch milliseconds or an ISO-8601 time": "bad_time",
    "ts: in the future": "future_time",
    "ts: older than the late-arrival window": "too_old",
    "value: not a number": "not_a_number",
    "value: not a finite number": "not_finite",
}
# Message-level refusals (no field), by how their reason starts.
_PREFIXES = (
    ("not valid JSON", "unreadable_message"),
    ("tags must be named by strings", "unreadable_message"),
    ("expected ", "unreadable_message"),
    ("each reading must be", "unreadable_message"),
    ("not a sandan/v1/", "refused_topic"),
    ("device ", "unknown_device"),
)
_FIELDS = ("tag", "ts", "value", "unit", "row")
CATEGORIES = frozenset(
    {
        *_EXACT.values(),
        *(c for _, c in _PREFIXES),
        *(f"{f}_other" for f in _FIELDS),
        "other",
    }
)


def reason_category(reason: str) -> str:
    """A bounded label for a dead-letter reason key ("field: reason" or a message reason)."""
    known = _EXACT.get(reason)
    if known is not None:
        return known
    field, sep, _ = reason.partition(": ")
    if sep and field in _FIELDS:
        return f"{field}_other"
    for prefix, category in _PREFIXES:
        if reason.startswith(prefix):
            return category
    return "other"


def count_batch(
    session: Session, source: str, stored: int, duplicates: int, seconds: float
) -> None:
    """Readings stored and dropped as duplicates by one append, and how long it took."""
    metrics = metrics_of(session)
    if metrics is None:
        return
    label = ingest_source(source)
    metrics.readings.labels(label, "stored").inc(stored)
    metrics.readings.labels(label, "duplicate").inc(duplicates)
    metrics.batch_seconds.labels(label).observe(seconds)


def count_rejects(session: Session, source: str, reasons: dict[str, int]) -> None:
    """Rejected readings (or refused messages) of one dead letter, by reason category."""
    metrics = metrics_of(session)
    if metrics is None:
        return
    label = ingest_source(source)
    metrics.dead_letters.labels(label).inc()
    for reason, n in reasons.items():
        if not isinstance(n, int) or n <= 0:
            continue
        metrics.readings.labels(label, "rejected").inc(n)
        metrics.rejects.labels(label, reason_category(reason)).inc(n)
