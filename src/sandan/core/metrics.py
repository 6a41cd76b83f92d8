"""Prometheus metrics, one registry per app instance (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


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
            "Readings received by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
