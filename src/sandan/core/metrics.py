"""Prometheus metrics, one registry per app instance (no process-wide globals).

The platform's sessions carry their Metrics in `session.info[METRICS_KEY]` (set by
`Context.build`), so a shared pipeline such as telemetry ingest counts whichever process,
route or worker runs it; `metrics_of(session)` is None for a bare Database (tests, tools).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy.orm import Session

METRICS_KEY = "sandan.metrics"
# Label values of the telemetry metrics are bounded: an unknown source counts as "other".
INGEST_SOURCES = frozenset(
    {"http", "mqtt", "sparkplug", "opcua", "csv", "simulator", "replay", "other"}
)


class Metrics:
    """The counters and histograms the platform exports at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "sandan_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "sandan_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.logins = Counter(
            "sandan_logins", "Login attempts by outcome", ["outcome"], registry=self.registry
        )
        self.import_rows = Counter(
            "sandan_import_rows",
            "Imported CSV rows by outcome",
            ["outcome"],
            registry=self.registry,
        )

        self.readings = Counter(
            "sandan_telemetry_readings",
            "Readings by ingest source and outcome (stored, duplicate, rejected)",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.rejects = Counter(
            "sandan_telemetry_rejects",
            "Rejected readings and refused messages by ingest source and reason category",
            ["source", "reason"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "sandan_telemetry_dead_letters",
            "Dead letters kept, by ingest source",
            ["source"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "sandan_telemetry_batch_seconds",
            "Time to store one refined ingest batch durably (store append), by source",
            ["source"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )

        self.opcua_refusals = Counter(
            "sandan_opcua_security_refusals",
            "OPC UA connection attempts refused for a security reason (untrusted server "
            "certificate, no endpoint with the configured policy and mode, user or client "
            "certificate rejected by the server)",
            ["reason"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_of(session: Session) -> Metrics | None:
    """The Metrics of the process that opened this session, if it has any."""
    metrics = session.info.get(METRICS_KEY)
    return metrics if isinstance(metrics, Metrics) else None


def ingest_source(source: str) -> str:
    """A bounded `source` label."""
    return source if source in INGEST_SOURCES else "other"
