"""Dead-letter replay: after the operator fixes the cause, the kept readings are stored; what
still fails stays in the letter with its reason and replay count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import World
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry.factory import make_store
from sandan.telemetry.mqtt import MessageIngestor


def _iso(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def _letter(client: TestClient, world: World, letter_id: int) -> dict[str, Any]:
    items = client.get("/api/v1/telemetry/dead-letters", headers=world.headers("admin_a")).json()[
        "items"
    ]
    found: dict[str, Any] = next(x for x in items if x["id"] == letter_id)
    return found


def test_replay_stores_what_passes_now_and_keeps_the_rest(client: TestClient, world: World) -> None:
    device = world.devices["A"]
    sent = client.post(
        "/api/v1/telemetry/readings",
        params={"device_id": device},
        headers=world.headers("admin_a"),
        json={
            "tag": ["feed_rate", "feed_rate", "feed_rate", "spindle_speed", "spindle_speed"],
            "ts": [_iso(30), _iso(20), _iso(8 * 86400), "soon", _iso(10)],
            "value": [1.5, 2.5, 3.5, 1, "fast"],
        },
    ).json()
    assert sent["rejected"] == 5
    letter_id = sent["dead_letter_id"]

    # nothing changed yet: everything replayable fails again, for the same reasons
    first = client.post(
        f"/api/v1/telemetry/dead-letters/{letter_id}/replay", headers=world.headers("admin_a")
    )
    assert first.status_code == 200, first.text
    assert first.json()["stored"] == 0 and first.json()["replayed"] == 3
    assert first.json()["skipped"] == 2  # an unreadable time and a non-number: nothing to retry

    made = client.post(
        "/api/v1/tags",
        headers=world.headers("admin_a"),
        json={"device_id": device, "name": "feed_rate", "unit": "mm/rev"},
    )
    assert made.status_code == 201
    out = client.post(
        f"/api/v1/telemetry/dead-letters/{letter_id}/replay", headers=world.headers("admin_a")
    ).json()
    assert (out["replayed"], out["stored"], out["rejected"], out["skipped"]) == (3, 2, 1, 2)
    assert out["count"] == 3 and out["replays"] == 2
    assert out["reasons"] == {
        "ts: older than the late-arrival window": 1,  # judged as of when it arrived
        "ts: not epoch milliseconds or an ISO-8601 time": 1,
        "value: not a number": 1,
    }
    assert out["rejects"][0]["reading"]["value"] == 3.5 and out["rejects"][0]["replays"] == 2
    letter = _letter(client, world, letter_id)
    assert letter["count"] == 3 and letter["replayed_at"] is not None
    assert [r["index"] for r in letter["rows"]] == [2, 3, 4]
    raw = client.get(
        "/api/v1/telemetry/raw",
        params={"tag_id": made.json()["id"]},
        headers=world.headers("member_a"),
    ).json()
    assert [p["value"] for p in raw] == [1.5, 2.5]

    member = client.post(
        f"/api/v1/telemetry/dead-letters/{letter_id}/replay", headers=world.headers("member_a")
    )
    assert member.status_code == 403  # reading the letter is not enough
    other = client.post(
        f"/api/v1/telemetry/dead-letters/{letter_id}/replay", headers=world.headers("admin_b")
    )
    assert other.status_code == 404
    missing = client.post(
        "/api/v1/telemetry/dead-letters/999999/replay", headers=world.headers("operator")
    )
    assert missing.status_code == 404


def test_replay_of_an_mqtt_letter_after_widening_a_range_and_refused_topics(
    client: TestClient, world: World, ctx: Context
) -> None:
    """MQTT rows name tags "<device>/<name>"; a letter of refused topics has no device."""
    store = client.app.state.telemetry_store  # type: ignore[attr-defined]
    ingestor = MessageIngestor(ctx.db, store)
    company, device = world.companies["A"], world.devices["A"]
    now_ms = datetime.now(UTC).timestamp() * 1000
    ingestor.ingest(
        [
            (
                f"sandan/v1/{company}/{device}/data",
                orjson.dumps({"ts": now_ms - 5000, "values": {"coolant_temp": 21.5}}),
                now_ms,
            ),
            ("sandan/v1/oops", b"{}", now_ms),
        ]
    )
    letters = client.get(
        "/api/v1/telemetry/dead-letters", headers=world.headers("operator")
    ).json()["items"]
    by_company = {x["company_id"]: x for x in letters}
    assert by_company[company]["rows"][0]["reading"]["tag"] == f"{device}/coolant_temp"
    client.post(
        "/api/v1/tags",
        headers=world.headers("operator"),
        json={"device_id": device, "name": "coolant_temp"},
    )
    out = client.post(
        f"/api/v1/telemetry/dead-letters/{by_company[company]['id']}/replay",
        headers=world.headers("operator"),
    ).json()
    assert out["stored"] == 1 and out["count"] == 0 and out["reasons"] == {}
    refused = client.post(
        f"/api/v1/telemetry/dead-letters/{by_company[None]['id']}/replay",
        headers=world.headers("operator"),
    )
    assert refused.status_code == 409 and "no device" in refused.json()["detail"]


def test_cli_replays_the_letters_of_a_device(
    settings: Settings, ctx: Context, world: World, tmp_path: Path
) -> None:
    store = make_store(settings)
    company, device = world.companies["A"], world.devices["A"]
    now_ms = datetime.now(UTC).timestamp() * 1000
    topic = f"sandan/v1/{company}/{device}/data"
    ingestor = MessageIngestor(ctx.db, store)
    ingestor.ingest([(topic, orjson.dumps({"spindle_speed": 50_000}), now_ms)])  # stored, BAD
    ingestor.ingest([(topic, orjson.dumps({"ts": now_ms - 1000, "values": {"vib": 0.2}}), now_ms)])
    ingestor.ingest([(topic, orjson.dumps({"ts": now_ms - 2000, "values": {"vib": 0.3}}), now_ms)])
    store.close()
    env = {"SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    runner = CliRunner()
    before = runner.invoke(cli, ["telemetry", "replay", "--device", str(device)], env=env)
    assert before.exit_code == 0, before.output
    assert "not a tag of this device ×1" in before.output
    from sandan.core.identity.principal import Principal
    from sandan.registry import schemas, service

    with ctx.db.unit(Principal.system("test")) as session:
        service.create_tag(
            session, Principal.system("test"), schemas.TagIn(device_id=device, name="vib")
        )
    after = runner.invoke(cli, ["telemetry", "replay", "--device", str(device)], env=env)
    assert after.exit_code == 0, after.output
    rows = [line for line in after.output.splitlines() if "│" in line and "letter" not in line]
    assert len(rows) == 2 and all(line.split("│")[3].strip() == "1" for line in rows)  # stored
    store = make_store(settings)
    try:
        assert store.count() == 3
    finally:
        store.close()
    none_left = runner.invoke(cli, ["telemetry", "replay", "--device", str(device)], env=env)
    assert "No dead letters to replay" in none_left.output
    unknown = runner.invoke(cli, ["telemetry", "replay", "424242"], env=env)
    assert unknown.exit_code == 1 and "dead letter 424242 not found" in unknown.output
