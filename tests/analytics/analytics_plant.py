"""Helpers of the analytics tests: a telemetry store (DuckDB beside SQLite, PostgreSQL beside
PostgreSQL: the store-side aggregates must run on both) and a plant builder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pytest

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.postgres_store import PostgresStore
from sandan.telemetry.store import READINGS, TelemetryStore

SCHEMA = f"analytics_test_{os.getpid()}"


@pytest.fixture(name="store")
def store_fixture(settings: Settings, tmp_path: Path) -> Iterator[TelemetryStore]:
    if settings.database_url is None:
        duck = DuckDBStore(tmp_path / "telemetry.duckdb")
        yield duck
        duck.close()
        return
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    pg = PostgresStore(url, schema=SCHEMA)
    yield pg
    pg.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')


@dataclass
class Machine:
    """A simulated machine: its asset and tag ids."""

    id: int
    tags: dict[str, int] = field(default_factory=dict)


def add_machine(
    ctx: Context, world: World, parent_id: int, code: str, names: tuple[str, ...]
) -> Machine:
    """A machine under `parent_id` in company A with a device and the named tags."""
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        machine = service.create_asset(
            s,
            system,
            schemas.AssetIn(
                site_id=world.sites["A"], parent_id=parent_id, level="machine", code=code, name=code
            ),
        )
        device = service.create_device(
            s,
            system,
            schemas.DeviceIn(site_id=world.sites["A"], machine_id=machine.id, name=f"{code}-gw"),
        )
        made = Machine(machine.id)
        for name in names:
            kind = "float" if name == "power" else "int"
            tag = service.create_tag(
                s, system, schemas.TagIn(device_id=device.id, name=name, data_type=kind)
            )
            made.tags[name] = tag.id
    return made


def add_line(ctx: Context, world: World, code: str) -> int:
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        line = service.create_asset(
            s,
            system,
            schemas.AssetIn(
                site_id=world.sites["A"],
                parent_id=world.areas["A"],
                level="line",
                code=code,
                name=f"Line {code}",
            ),
        )
        return line.id


def minutes_of(start: datetime, values: dict[int, np.ndarray]) -> pa.Table:
    """One reading per minute from `start` for each tag (tag id -> values, NaN: no reading)."""
    tags, stamps, out = [], [], []
    base = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "us")
    for tag, series in values.items():
        present = np.flatnonzero(~np.isnan(series))
        tags.append(np.full(len(present), tag, np.int32))
        stamps.append(base + present.astype("timedelta64[m]"))
        out.append(series[present])
    return pa.table(
        {
            "tag_id": pa.array(np.concatenate(tags), pa.int32()),
            "ts": pa.array(np.concatenate(stamps), pa.timestamp("us")),
            "value": pa.array(np.concatenate(out), pa.float64()),
            "quality": pa.array(np.zeros(sum(len(t) for t in tags), np.uint8), pa.uint8()),
        },
        schema=READINGS,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MINUTE = timedelta(minutes=1)
