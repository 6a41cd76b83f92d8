"""Unit normalisation: readings that name a unit are converted to their tag's unit with pint
(factor and offset per pair, numpy over the column); an unknown or foreign unit is rejected
with field `unit`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from conftest import World
from sandan.core.context import Context
from sandan.telemetry.decode import Columns, decode_json, decode_many
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MessageIngestor
from sandan.telemetry.refine import TagTable, refine
from sandan.telemetry.store import BAD, GOOD, SUSPECT
from sandan.telemetry.units import conversion

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "canonical", "value", "expected"),
    [
        ("degF", "degC", 212.0, 100.0),  # an offset unit
        ("degF", "degC", 32.0, 0.0),
        ("°F", "°C", -40.0, -40.0),
        ("℃", "K", 0.0, 273.15),
        ("degC", "degF", 100.0, 212.0),
        ("kW", "W", 1.5, 1500.0),
        ("KW", "kW", 2.0, 2.0),
        ("kWh", "MJ", 1.0, 3.6),
        ("bar", "kPa", 1.0, 100.0),
        ("psi", "bar", 100.0, 6.894757293168361),
        ("m3/h", "L/min", 6.0, 100.0),
        ("L/min", "m³/h", 100.0, 6.0),
        ("%", "dimensionless", 42.0, 0.42),
        ("rps", "rpm", 100.0, 6000.0),
        ("Nm", "kN*m", 2500.0, 2.5),
    ],
)
def test_conversions_of_industrial_spellings(
    given: str, canonical: str, value: float, expected: float
) -> None:
    found = conversion(given, canonical)
    assert not isinstance(found, str), found
    factor, offset = found
    assert value * factor + offset == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_what_cannot_be_converted_says_why() -> None:
    assert conversion("degF", "bar") == "'degF' cannot be converted to 'bar'"
    assert conversion("blorps/h", "m/s") == "unknown unit 'blorps/h'"
    assert conversion("degF", "") == "the tag has no unit to convert 'degF' to"
    assert conversion("dB", "dimensionless") == "'dB' is not a linear unit"
    assert conversion("pcs", "m") == "'pcs' cannot be converted to 'm'"  # pieces, not parsecs
    assert "not a unit Sandan can convert to" in str(conversion("kW", "widgets"))


def _tags() -> TagTable:
    return TagTable(
        ids=np.array([1, 2, 3], np.int32),
        names=pa.array(["coolant", "pressure", "count"]),
        range_min=np.array([0.0, 0.0, np.nan]),
        range_max=np.array([100.0, 10.0, np.nan]),
        integral=np.array([False, False, False]),
        units=pa.array(["degC", "bar", ""]),
    )


def test_refine_converts_the_column_then_checks_the_range() -> None:
    n = 9
    ts = pa.array([NOW.replace(tzinfo=None) - timedelta(seconds=n - i) for i in range(n)])
    columns = Columns(
        tags=pa.array(
            [
                "coolant",
                "coolant",
                "coolant",
                "pressure",
                "pressure",
                "coolant",
                "pressure",
                "count",
                "count",
            ]
        ),
        ts=ts.cast(pa.timestamp("us")),
        value=pa.array([212.0, 50.0, 221.0, 500.0, 3.0, 68.0, 1.0, 7.0, 7.0]),
        unit=pa.array(["degF", None, "degF", "kPa", "", "blorp", "degF", None, "m"]),
    )
    refined = refine(columns, _tags(), now=NOW, late_window=timedelta(days=7))
    rejects = {i: (field, reason) for i, field, reason in refined.rejects}
    assert rejects == {
        5: ("unit", "unknown unit 'blorp'"),
        6: ("unit", "'degF' cannot be converted to 'bar'"),
        8: ("unit", "the tag has no unit to convert 'm' to"),
    }
    batch = refined.batch.to_pydict()
    assert batch["tag_id"] == [1, 1, 1, 2, 2, 3]
    assert batch["value"] == pytest.approx([100.0, 50.0, 105.0, 5.0, 3.0, 7.0])
    # 221 degF = 105 degC: 5 % above the 0..100 range once converted, so SUSPECT drift
    assert batch["quality"] == [GOOD, GOOD, SUSPECT, GOOD, GOOD, GOOD]


def test_range_is_judged_in_the_tags_unit() -> None:
    columns = Columns(
        tags=pa.array(["coolant"]),
        ts=pa.array([NOW.replace(tzinfo=None)], pa.timestamp("us")),
        value=pa.array([300.0]),  # 300 degF = 148.9 degC: far outside 0..100
        unit=pa.array(["degF"]),
    )
    refined = refine(columns, _tags(), now=NOW, late_window=timedelta(days=7))
    assert refined.batch.column("quality").to_pylist() == [BAD]


def test_every_shape_can_name_units() -> None:
    columnar = decode_json(
        orjson.dumps({"tag": ["a", "b"], "ts": [1, 2], "value": [1, 2], "unit": ["degF", None]})
    )
    assert columnar.unit is not None and columnar.unit.to_pylist() == ["degF", None]
    rows = decode_json(
        orjson.dumps(
            {
                "readings": [
                    {"tag": "a", "ts": 1, "value": 1},
                    {"tag": "b", "ts": 1, "value": 2, "unit": "bar"},
                ]
            }
        )
    )
    assert rows.unit is not None and rows.unit.to_pylist() == [None, "bar"]
    board = decode_json(
        orjson.dumps({"ts": 1, "values": {"t": 70.0, "p": 1.0}, "units": {"t": "degF"}})
    )
    assert board.unit is not None and board.unit.to_pylist() == ["degF", None]
    plain = decode_json(orjson.dumps({"tag": ["a"], "ts": [1], "value": [1]}))
    assert plain.unit is None  # nothing to convert, nothing to check
    odd = decode_json(
        orjson.dumps({"tag": ["a", "b"], "ts": [1, 2], "value": [1, 2], "unit": [3, "kW"]})
    )
    assert odd.problems == [(0, "unit", "not a unit name")]
    many, bad, _ = decode_many(
        [
            orjson.dumps({"ts": 1, "values": {"t": 1.0}}),
            orjson.dumps({"ts": 1, "values": {"t": 2.0, "p": 3.0}, "units": {"p": "psi"}}),
        ]
    )
    assert bad == [] and many.unit is not None
    assert many.unit.to_pylist() == [None, None, "psi"]


@pytest.fixture
def device_key(client: TestClient, world: World) -> dict[str, str]:
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    return {"Authorization": f"Bearer {made.json()['token']}"}


def test_http_readings_in_another_unit_are_stored_in_the_tags_unit(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    at = [(datetime.now(UTC) - timedelta(seconds=s)).isoformat() for s in (3, 2, 1)]
    body = {
        "tag": ["spindle_speed"] * 3,  # a tag in rpm
        "ts": at,
        "value": [70.0, 4100.0, 20.0],
        "unit": ["rps", "rpm", "degC"],
    }
    r = client.post("/api/v1/telemetry/readings", headers=device_key, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] == 2 and out["rejected"] == 1
    assert out["rejects"][0]["field"] == "unit"
    assert out["rejects"][0]["reason"] == "'degC' cannot be converted to 'rpm'"
    raw = client.get(
        f"/api/v1/telemetry/raw?tag_id={world.tags['A']}", headers=world.headers("member_a")
    ).json()
    assert [p["value"] for p in raw] == pytest.approx([4200.0, 4100.0])


def test_mqtt_messages_are_converted_with_the_directory_units(ctx: Context, world: World) -> None:
    store = DuckDBStore(":memory:")
    ingestor = MessageIngestor(ctx.db, store)
    company, device = world.companies["A"], world.devices["A"]
    now_ms = datetime.now(UTC).timestamp() * 1000
    topic = f"sandan/v1/{company}/{device}/data"
    ingestor.ingest(
        [
            (
                topic,
                orjson.dumps(
                    {
                        "ts": now_ms - 2000,
                        "values": {"spindle_speed": 50},
                        "units": {"spindle_speed": "rps"},
                    }
                ),
                now_ms,
            ),
            (
                topic,
                orjson.dumps(
                    {
                        "ts": now_ms - 1000,
                        "values": {"spindle_speed": 9},
                        "units": {"spindle_speed": "bar"},
                    }
                ),
                now_ms,
            ),
        ]
    )
    assert store.latest([world.tags["A"]]).column("value").to_pylist() == [3000.0]
    assert ingestor.stats.stored == 1
    store.close()
