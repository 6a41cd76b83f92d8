"""HTTP batch ingest: device authentication, tag ownership, refining, rejects kept, queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import World


@pytest.fixture
def device_key(client: TestClient, world: World) -> dict[str, str]:
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _iso(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def test_columnar_batch_is_stored_and_read_back(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    n = 500
    body = {
        "tag": ["spindle_speed"] * n,
        "ts": [_iso(n - i) for i in range(n)],
        "value": [float(i * 10) for i in range(n)],
    }
    r = client.post("/api/v1/telemetry/readings", headers=device_key, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "received": n,
        "stored": n,
        "duplicates": 0,
        "rejected": 0,
        "rejects": [],
        "dead_letter_id": None,
    }
    tag = world.tags["A"]
    latest = client.get(f"/api/v1/telemetry/latest?tag_id={tag}", headers=world.headers("member_a"))
    assert latest.json()[0]["value"] == 4990.0 and latest.json()[0]["quality"] == 0
    raw = client.get(
        f"/api/v1/telemetry/raw?tag_id={tag}&limit=1000", headers=world.headers("member_a")
    ).json()
    assert [p["value"] for p in raw] == body["value"]  # oldest first, nothing lost


def test_rows_with_epoch_millis_and_duplicates(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    rows = [{"tag": "spindle_speed", "ts": now_ms - 1000 * i, "value": i} for i in range(10)]
    first = client.post("/api/v1/telemetry/readings", headers=device_key, json={"readings": rows})
    assert first.json()["stored"] == 10
    again = client.post(
        "/api/v1/telemetry/readings", headers=device_key, json={"readings": rows + rows[:3]}
    )
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 13


def test_bad_readings_are_rejected_with_reasons_and_kept(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    body = {
        "tag": [
            "spindle_speed",
            "not_mine",
            "spindle_speed",
            "spindle_speed",
            "spindle_speed",
            "spindle_speed",
            "spindle_speed",
        ],
        "ts": [
            _iso(5),
            _iso(5),
            (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            _iso(30 * 86400),
            "yesterday",
            _iso(4),
            _iso(3),
        ],
        "value": [100, 1, 1, 1, 1, "fast", 12500],
    }
    r = client.post("/api/v1/telemetry/readings", headers=device_key, json=body)
    assert r.status_code == 200
    out = r.json()
    assert out["stored"] == 2 and out["rejected"] == 5
    reasons = {(x["index"], x["field"]) for x in out["rejects"]}
    assert reasons == {(1, "tag"), (2, "ts"), (3, "ts"), (4, "ts"), (5, "value")}
    letters = client.get("/api/v1/telemetry/dead-letters", headers=world.headers("admin_a")).json()
    assert letters["total"] == 1 and letters["items"][0]["count"] == 5
    assert letters["items"][0]["rows"][0]["reading"]["tag"] == "not_mine"
    other = client.get("/api/v1/telemetry/dead-letters", headers=world.headers("admin_b")).json()
    assert other["total"] == 0
    tag = world.tags["A"]
    latest = client.get(f"/api/v1/telemetry/latest?tag_id={tag}", headers=world.headers("admin_a"))
    assert latest.json()[0]["value"] == 12500.0
    assert latest.json()[0]["quality"] == 1  # 4 % above the 12,000 rpm range: suspect drift
    metrics = client.get("/metrics").text
    assert 'sandan_telemetry_readings_total{outcome="rejected",source="http"} 5.0' in metrics


def test_a_device_speaks_only_for_itself(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    body = {"tag": ["spindle_speed"], "ts": [_iso(1)], "value": [1]}
    foreign = client.post(
        f"/api/v1/telemetry/readings?device_id={world.devices['B']}", headers=device_key, json=body
    )
    assert foreign.status_code == 403
    client.patch(
        f"/api/v1/devices/{world.devices['A']}",
        headers=world.headers("admin_a"),
        json={"enabled": False},
    )
    disabled = client.post("/api/v1/telemetry/readings", headers=device_key, json=body)
    assert disabled.status_code == 403 and "disabled" in disabled.json()["detail"]
    member = client.post(
        f"/api/v1/telemetry/readings?device_id={world.devices['A']}",
        headers=world.headers("member_a"),
        json=body,
    )
    assert member.status_code == 403  # members hold no telemetry:write


def test_malformed_bodies_name_the_problem(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    r = client.post("/api/v1/telemetry/readings", headers=device_key, content=b"{not json")
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body"
    r = client.post(
        "/api/v1/telemetry/readings",
        headers=device_key,
        json={"tag": ["a", "b"], "ts": [1], "value": [1, 2]},
    )
    assert r.status_code == 422 and "same length" in r.json()["detail"]
    r = client.post(
        "/api/v1/telemetry/readings",
        headers=device_key,
        json={"tag": "spindle_speed", "ts": [1], "value": [1]},
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "tag"


def test_rollups_and_parquet_export_through_the_api(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    import io

    import pyarrow.parquet as pq

    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    body = {
        "tag": ["spindle_speed"] * 6,
        "ts": [(base + timedelta(seconds=20 * i)).isoformat() for i in range(6)],
        "value": [10, 20, 30, 40, 50, 60],
    }
    assert (
        client.post("/api/v1/telemetry/readings", headers=device_key, json=body).json()["stored"]
        == 6
    )
    tag, h = world.tags["A"], world.headers("member_a")
    minutes = client.get(f"/api/v1/telemetry/rollups?tag_id={tag}&resolution=1m", headers=h).json()
    assert [(m["count"], m["min"], m["max"], m["avg"], m["last"]) for m in minutes] == [
        (3, 10.0, 30.0, 20.0, 30.0),
        (3, 40.0, 60.0, 50.0, 60.0),
    ]
    exported = client.get(
        f"/api/v1/telemetry/export.parquet?tag_id={tag}&resolution=raw", headers=h
    )
    assert exported.status_code == 200
    table = pq.read_table(io.BytesIO(exported.content))
    assert table.column("value").to_pylist() == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    audit = client.get("/api/v1/audit?entity=telemetry", headers=world.headers("auditor")).json()
    assert audit["items"][0]["action"] == "export" and audit["items"][0]["after"]["rows"] == 6
