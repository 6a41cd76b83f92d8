"""Pick the telemetry store the settings name: DuckDB embedded, or PostgreSQL in production."""

from __future__ import annotations

from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.postgres_store import PostgresStore
from sandan.telemetry.store import TelemetryStore


def make_store(settings: Settings) -> TelemetryStore:
    """`SANDAN_TELEMETRY_URL`: unset or duckdb:///path for DuckDB, postgresql://… for PostgreSQL."""
    url = settings.telemetry_url
    if url is not None and url.startswith(("postgresql://", "postgresql+psycopg://")):
        return PostgresStore(url)
    return DuckDBStore(settings.resolved_telemetry_path())
