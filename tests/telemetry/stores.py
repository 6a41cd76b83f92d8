"""Both telemetry stores for tests that must hold on each: an in-memory DuckDB store, and a
PostgreSQL store in a schema of the test's own (SANDAN_TEST_DATABASE_URL; CI sets it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg

from conftest import need_service
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.postgres_store import PostgresStore
from sandan.telemetry.store import TelemetryStore


def open_store(kind: str, schema: str) -> Iterator[TelemetryStore]:
    """Yield a fresh store of `kind` ("duckdb" or "postgresql"); drop its schema after."""
    if kind == "duckdb":
        duck = DuckDBStore(":memory:")
        yield duck
        duck.close()
        return
    base = os.environ.get("SANDAN_TEST_DATABASE_URL")
    if not base:
        need_service("set SANDAN_TEST_DATABASE_URL to run the PostgreSQL telemetry store tests")
    assert base
    url = base.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    except psycopg.OperationalError as exc:
        need_service(f"PostgreSQL at {url} unavailable: {exc}")
    pg = PostgresStore(url, schema=schema)
    yield pg
    pg.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
