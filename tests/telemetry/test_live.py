"""The live stream (SSE): a snapshot, then new readings as they are committed; only readable
tags; ended within seconds when the caller's access ends."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import World
from sandan.telemetry import live


@pytest.fixture
def device_key(client: TestClient, world: World) -> dict[str, str]:
    made = client.post(
        f"/api/v1/devices/{world.devices['A']}/credentials", headers=world.headers("admin_a")
    )
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _send(client: TestClient, key: dict[str, str], value: float, seconds_ago: float) -> None:
    ts = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()
    body = {"tag": ["spindle_speed"], "ts": [ts], "value": [value]}
    assert client.post("/api/v1/telemetry/readings", headers=key, json=body).status_code == 200


def _frames(text: str) -> list[tuple[str, Any]]:
    """(event, data) of each SSE frame; keep-alive comments are left out."""
    frames = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "event" in lines:
            frames.append((lines["event"], orjson.loads(lines["data"])))
    return frames


def _later(seconds: float, action: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_snapshot_then_each_new_reading_then_the_end(
    client: TestClient, world: World, device_key: dict[str, str]
) -> None:
    _send(client, device_key, 100.0, seconds_ago=5)
    thread = _later(0.8, lambda: _send(client, device_key, 200.0, seconds_ago=0))
    response = client.get(
        "/api/v1/telemetry/stream",
        params={"tag_id": world.tags["A"], "seconds": 3, "min_interval": 0.2},
        headers=world.headers("member_a"),
    )
    thread.join()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = _frames(response.text)
    assert frames[0][0] == "readings"
    assert [(r["tag_id"], r["value"]) for r in frames[0][1]] == [(world.tags["A"], 100.0)]
    later = [r["value"] for event, rows in frames[1:] if event == "readings" for r in rows]
    assert later == [200.0]  # sent once, when it was committed
    assert frames[-1] == ("end", {"reason": "the stream's time is up; reconnect to go on"})


def test_an_empty_snapshot_says_the_stream_is_open(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/telemetry/stream",
        params={"tag_id": world.tags["A"], "seconds": 1},
        headers=world.headers("admin_a"),
    )
    assert _frames(response.text)[0] == ("readings", [])


def test_another_companys_tags_are_not_streamed(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/telemetry/stream",
        params={"tag_id": [world.tags["A"], world.tags["B"]], "seconds": 1},
        headers=world.headers("admin_b"),
    )
    assert response.status_code == 200
    for event, rows in _frames(response.text):
        if event == "readings":
            assert all(r["tag_id"] == world.tags["B"] for r in rows)


def test_a_revoked_token_ends_the_stream(
    client: TestClient, world: World, device_key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_S", 0.3)
    _send(client, device_key, 100.0, seconds_ago=5)
    token = world.token_ids["admin_a"]
    revoke = _later(
        0.5,
        lambda: client.delete(f"/api/v1/tokens/{token}", headers=world.headers("operator")),
    )
    response = client.get(
        "/api/v1/telemetry/stream",
        params={"tag_id": world.tags["A"], "seconds": 30},
        headers=world.headers("admin_a"),
    )
    revoke.join()
    assert _frames(response.text)[-1] == ("end", {"reason": "you may no longer read these tags"})
