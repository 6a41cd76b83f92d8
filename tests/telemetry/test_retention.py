"""Retention: `sandan telemetry retention` (for cron) and the schedule inside the server
delete raw readings and rollups older than the configured ages, and keep the rest."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sandan.app import create_app
from sandan.cli import app as cli
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.store import READINGS

NOW = datetime.now(UTC).replace(tzinfo=None)
AGES = (400, 100, 45, 10, 0)  # days


def _fill(path: Path) -> None:
    """One reading a day at each age, for tag 1."""
    store = DuckDBStore(path)
    times = [NOW - timedelta(days=d, minutes=1) for d in AGES]
    store.append(
        pa.table(
            {
                "tag_id": pa.array([1] * len(times), pa.int32()),
                "ts": pa.array(times, pa.timestamp("us")),
                "value": pa.array([float(d) for d in AGES]),
                "quality": pa.array([0] * len(times), pa.uint8()),
            },
            schema=READINGS,
        )
    )
    store.close()


def _ages(path: Path) -> tuple[list[float], list[float], list[float]]:
    """The ages (days) still present as raw readings, 1-minute and 1-hour rollups."""
    store = DuckDBStore(path)
    try:
        start, end = NOW - timedelta(days=1000), NOW + timedelta(days=1)
        raw = store.raw([1], start, end, 1000).column("value").to_pylist()
        minutes = store.rollups([1], start, end, "1m").column("last").to_pylist()
        hours = store.rollups([1], start, end, "1h").column("last").to_pylist()
    finally:
        store.close()
    return raw, minutes, hours


def test_the_command_deletes_what_is_older_than_each_age(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.duckdb"
    _fill(path)
    env = {"SANDAN_DATA_DIR": str(tmp_path), "SANDAN_RETENTION_1M_DAYS": "90"}
    runner = CliRunner()
    result = runner.invoke(cli, ["telemetry", "retention", "--raw-days", "30"], env=env)
    assert result.exit_code == 0, result.output
    assert "raw: older than 30 days, 3 deleted" in result.output
    assert "1m: older than 90 days, 2 deleted" in result.output
    raw, minutes, hours = _ages(path)
    assert raw == [10.0, 0.0]
    assert minutes == [45.0, 10.0, 0.0]
    assert hours == [400.0, 100.0, 45.0, 10.0, 0.0]  # no 1h retention set: kept
    again = runner.invoke(cli, ["telemetry", "retention", "--raw-days", "30"], env=env)
    assert "raw: older than 30 days, 0 deleted" in again.output
    nothing = runner.invoke(cli, ["telemetry", "retention"], env={"SANDAN_DATA_DIR": str(tmp_path)})
    assert nothing.exit_code == 0 and "No retention set" in nothing.output


def test_the_server_applies_retention_on_its_schedule(tmp_path: Path) -> None:
    _fill(tmp_path / "telemetry.duckdb")
    settings = Settings(
        data_dir=tmp_path, secret_key="test", retention_raw_days=50, retention_1h_days=200
    )
    app = create_app(settings, with_ui=False)
    store = app.state.telemetry_store
    start, end = NOW - timedelta(days=1000), NOW + timedelta(days=1)
    assert store.raw([1], start, end, 1000).num_rows == 5
    with TestClient(app):  # the first run starts with the server, in a worker thread
        deadline = time.monotonic() + 30
        while store.raw([1], start, end, 1000).num_rows != 3:
            assert time.monotonic() < deadline, "retention did not run"
            time.sleep(0.05)
    raw, minutes, hours = _ages(tmp_path / "telemetry.duckdb")
    assert raw == [45.0, 10.0, 0.0]
    assert minutes == [400.0, 100.0, 45.0, 10.0, 0.0]
    assert hours == [100.0, 45.0, 10.0, 0.0]
