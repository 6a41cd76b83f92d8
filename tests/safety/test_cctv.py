"""CCTV detections: a camera registered on the map, Frigate events over the local Mosquitto
and the generic webhook; one alarm per camera and label while objects are in view; every
report kept with what became of it."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World, need_service
from sandan.core.context import Context
from sandan.safety.alarms.models import Alarm
from sandan.safety.cctv.listener import FrigateListener
from sandan.safety.cctv.models import CctvEvent

URL = os.environ.get("SANDAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
API = "/api/v1/safety/cctv"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


def _camera(client: TestClient, world: World, name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "label": "정문 Main gate",
        "company_id": world.companies["A"],
        "lat": 36.1,
        "lon": 128.4,
        "alarm_labels": ["person", "fire"],
        "min_score": 0.7,
        "priority": "high",
        **extra,
    }
    r = client.post(f"{API}/cameras", json=body, headers=world.headers("safety"))
    assert r.status_code == 201, r.text
    return r.json()


def _hook(
    client: TestClient, world: World, kind: str, camera: str, obj: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "type": kind,
        "camera": camera,
        "object_id": obj,
        "label": "person",
        "score": 0.9,
        "zones": ["yard"],
        "started_at": datetime(2026, 11, 24, 1, 0, tzinfo=UTC).isoformat(),
        **extra,
    }
    r = client.post(f"{API}/webhook", json=body, headers=world.headers("safety"))
    assert r.status_code == 200, r.text
    return r.json()


def _alarm(ctx: Context, alarm_id: int) -> Alarm:
    with ctx.db.unit() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None
        session.expunge(alarm)
        return alarm


def test_objects_of_one_label_share_one_alarm_until_the_last_leaves(
    client: TestClient, ctx: Context, world: World
) -> None:
    _camera(client, world, "gate1")
    first = _hook(
        client, world, "new", "gate1", "obj-1", snapshot_b64=base64.b64encode(JPEG).decode()
    )
    assert first["outcome"] == "alarm" and first["alarm_id"]
    alarm = _alarm(ctx, first["alarm_id"])
    assert (alarm.source, alarm.condition, alarm.kind) == ("cctv:gate1", "person", "cctv")
    assert alarm.state == "unacknowledged" and alarm.company_id == world.companies["A"]

    again = _hook(client, world, "update", "gate1", "obj-1", score=0.95, zones=["dock"])
    assert again["id"] == first["id"] and again["updates"] == 1
    assert again["zones"] == "dock,yard" and again["top_score"] == pytest.approx(0.95)
    second = _hook(client, world, "new", "gate1", "obj-2")
    assert second["alarm_id"] == first["alarm_id"]  # the same alarm, not a second one

    ended = datetime(2026, 11, 24, 1, 5, tzinfo=UTC).isoformat()
    _hook(client, world, "end", "gate1", "obj-1", ended_at=ended)
    assert _alarm(ctx, first["alarm_id"]).in_alarm  # obj-2 still in view
    _hook(client, world, "end", "gate1", "obj-2", ended_at=ended)
    cleared = _alarm(ctx, first["alarm_id"])
    assert not cleared.in_alarm and cleared.state == "rtn_unacknowledged"

    snap = client.get(f"{API}/events/{first['id']}/snapshot", headers=world.headers("admin_a"))
    assert snap.status_code == 200 and snap.content == JPEG
    hidden = client.get(f"{API}/events/{first['id']}/snapshot", headers=world.headers("admin_b"))
    assert hidden.status_code == 404


def test_reports_that_raise_nothing_are_kept_with_the_reason(
    client: TestClient, world: World
) -> None:
    _camera(client, world, "yard2", min_score=0.8)
    low = _hook(client, world, "new", "yard2", "o1", score=0.5)
    assert (low["outcome"], low["alarm_id"]) == ("below_score", None)
    assert "0.50 < 0.80" in low["reason"]
    car = _hook(client, world, "new", "yard2", "o2", label="car")
    assert car["outcome"] == "ignored" and "car" in car["reason"]
    fp = _hook(client, world, "new", "yard2", "o3", false_positive=True)
    assert fp["outcome"] == "false_positive"
    unknown = _hook(client, world, "new", "nowhere", "o4")
    assert unknown["outcome"] == "rejected" and "register" in unknown["reason"]
    # the score rises on an update: now it alarms
    risen = _hook(client, world, "update", "yard2", "o1", score=0.85)
    assert risen["outcome"] == "alarm" and risen["alarm_id"]

    listed = client.get(
        f"{API}/events", params={"outcome": "rejected"}, headers=world.headers("safety")
    ).json()
    assert [e["camera_name"] for e in listed["items"]] == ["nowhere"]


def test_bad_webhook_input_names_the_field(client: TestClient, world: World) -> None:
    _camera(client, world, "gate3")
    body = {
        "type": "new",
        "camera": "gate3",
        "object_id": "x",
        "label": "person",
        "score": 0.9,
        "started_at": datetime.now(UTC).isoformat(),
    }
    for patch, field in (
        ({"snapshot_b64": "%%%"}, "snapshot_b64"),
        ({"snapshot_b64": base64.b64encode(b"GIF89a").decode()}, "snapshot_b64"),
        ({"score": 1.5}, "score"),
        ({"type": "begin"}, "type"),
    ):
        r = client.post(f"{API}/webhook", json={**body, **patch}, headers=world.headers("safety"))
        assert r.status_code == 422, r.text
        assert field in {f["field"] for f in r.json()["fields"]}
    dup = client.post(f"{API}/cameras", json={"name": "gate3"}, headers=world.headers("safety"))
    assert dup.status_code == 409


async def _broker_up() -> None:
    parts = urlsplit(URL)
    try:
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883):
            pass
    except aiomqtt.MqttError as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")


def _frigate(kind: str, camera: str, obj: str, start: float, **after: Any) -> bytes:
    body = {
        "id": obj,
        "camera": camera,
        "label": "fire",
        "top_score": 0.91,
        "score": 0.9,
        "false_positive": False,
        "start_time": start,
        "end_time": None,
        "current_zones": ["tank_farm"],
        "entered_zones": ["tank_farm"],
        "has_snapshot": True,
        "frame_time": start,  # fields we do not use are ignored
        "box": [1, 2, 3, 4],
        **after,
    }
    return orjson.dumps({"type": kind, "before": body, "after": body})


async def test_frigate_events_over_mqtt_raise_and_clear_a_fire_alarm(
    client: TestClient, ctx: Context, world: World, tmp_path: Any
) -> None:
    await _broker_up()
    prefix = f"frigate-{uuid.uuid4().hex[:8]}"
    _camera(client, world, "tankcam")
    listener = FrigateListener(ctx.db, URL, tmp_path / "cctv", prefix)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.subscribed.wait(), 10)
        start = time.time() - 5
        parts = urlsplit(URL)
        async with aiomqtt.Client(parts.hostname or "127.0.0.1", parts.port or 1883) as mqtt:
            await mqtt.publish(f"{prefix}/tankcam/fire/snapshot", JPEG, qos=1)
            await mqtt.publish(f"{prefix}/events", _frigate("new", "tankcam", "f1", start), qos=1)
            await mqtt.publish(f"{prefix}/events", b"{not json", qos=1)
            await mqtt.publish(
                f"{prefix}/events",
                _frigate("update", "tankcam", "f1", start, top_score=0.97),
                qos=1,
            )
            await mqtt.publish(
                f"{prefix}/events",
                _frigate("end", "tankcam", "f1", start, end_time=start + 4),
                qos=1,
            )
        deadline = time.monotonic() + 15
        while listener.handled < 3 or listener.rejected < 1:
            assert time.monotonic() < deadline, (listener.handled, listener.rejected)
            await asyncio.sleep(0.05)
    finally:
        await listener.stop()
        await asyncio.wait_for(task, 10)
    with ctx.db.unit() as session:
        row = session.scalar(select(CctvEvent).where(CctvEvent.camera_name == "tankcam"))
        assert row is not None and row.via == "mqtt" and row.updates == 2
        assert row.top_score == pytest.approx(0.97) and row.snapshot
        assert row.ended_at is not None
        assert row.ended_at - row.started_at == timedelta(seconds=4)
        alarm = session.get(Alarm, row.alarm_id)
        assert alarm is not None and alarm.kind == "fire" and not alarm.in_alarm
    assert (tmp_path / "cctv" / row.snapshot).read_bytes() == JPEG
