"""Notifications through real wires: an SMTP server (aiosmtpd) and an HTTP webhook receiver on
127.0.0.1; planned once per channel and reason, retried with backoff, escalated when an alarm
stays unacknowledged past its time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World, free_port
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarms
from sandan.safety.notify import service
from sandan.safety.notify.models import NotificationDelivery
from sandan.safety.notify.senders import SmtpConfig
from sandan.safety.notify.worker import Notifier

API = "/api/v1/safety/notifications"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpConfig, _Mailbox]]:
    box = _Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpConfig(host="127.0.0.1", port=port, sender="control@sandan.example"), box
    controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received
    server.shutdown()


def _channels(client: TestClient, world: World, webhook: str) -> None:
    for body in (
        {"name": "당직 메일", "kind": "email", "target": "duty@sandan.example"},
        {
            "name": "SMS",
            "kind": "webhook",
            "target": webhook,
            "min_priority": "low",
            "kinds": ["gas", "fire"],
        },
    ):
        r = client.post(f"{API}/channels", json=body, headers=world.headers("safety"))
        assert r.status_code == 201, r.text


def _raise(ctx: Context, priority: str, kind: str, escalate: int | None = None) -> int:
    with ctx.db.unit() as session:
        alarm = alarms.raise_external(
            session,
            source=f"test:{kind}:{priority}",
            condition="high",
            priority=priority,
            message=f"{kind} detector high",
            company_id=None,
            lat=36.1,
            lon=128.4,
            at=utcnow(),
            kind=kind,
            escalate_after_s=escalate,
        )
        payload = alarms.alarm_payload(alarm)
        service.on_alarm_raised(session, payload)
        service.on_alarm_raised(session, payload)  # the bus may deliver twice
        return alarm.id


def test_a_new_alarm_goes_to_the_channels_that_want_it(
    client: TestClient, ctx: Context, world: World, smtp: Any, hook: Any
) -> None:
    config, box = smtp
    url, received = hook
    _channels(client, world, url)
    gas = _raise(ctx, "critical", "gas")
    _raise(ctx, "low", "process")  # below the email's priority, not a kind the SMS wants
    notifier = Notifier(ctx.db, config)
    assert notifier.tick() == 2
    assert [m["Subject"] for m in box.messages] == ["[CRITICAL] ALARM: gas detector high"]
    assert "duty@sandan.example" in box.messages[0]["To"]
    assert len(received) == 1 and received[0]["title"].startswith("[CRITICAL] ALARM")
    assert f"id: {gas}" in received[0]["text"]
    assert notifier.tick() == 0  # nothing is sent twice
    log = client.get(f"{API}/deliveries", headers=world.headers("safety")).json()
    assert {(d["reason"], d["status"]) for d in log["items"]} == {("raised", "sent")}
    assert log["total"] == 2


def test_an_unacknowledged_alarm_escalates_once_and_an_acknowledged_one_does_not(
    client: TestClient, ctx: Context, world: World, smtp: Any, hook: Any
) -> None:
    config, box = smtp
    url, _received = hook
    _channels(client, world, url)
    left = _raise(ctx, "high", "fire", escalate=60)
    seen = _raise(ctx, "high", "gas", escalate=60)
    with ctx.db.unit() as session:
        alarms.acknowledge(session, Principal.system("test-operator"), seen, "on it")
    later = utcnow() + timedelta(seconds=61)
    with ctx.db.unit() as session:
        assert service.escalate_overdue(session, later) == 2  # email and SMS for `left`
    with ctx.db.unit() as session:
        assert service.escalate_overdue(session, later + timedelta(minutes=5)) == 0
        escalated = session.scalars(
            select(NotificationDelivery.subject_id).where(
                NotificationDelivery.reason == "escalated"
            )
        ).all()
    assert set(escalated) == {left}
    Notifier(ctx.db, config).tick()
    assert any("ESCALATED" in m["Subject"] for m in box.messages)


def test_a_failing_channel_is_retried_with_backoff_then_given_up(
    client: TestClient, ctx: Context, world: World, smtp: Any
) -> None:
    config, _box = smtp
    dead = f"http://127.0.0.1:{free_port()}/down"
    r = client.post(
        f"{API}/channels",
        json={"name": "broken", "kind": "webhook", "target": dead, "min_priority": "low"},
        headers=world.headers("safety"),
    )
    assert r.status_code == 201
    _raise(ctx, "high", "gas")
    notifier = Notifier(ctx.db, config)
    assert notifier.tick() == 0
    with ctx.db.unit() as session:
        row = session.scalars(select(NotificationDelivery)).one()
        assert (row.status, row.attempts) == ("pending", 1)
        assert "unreachable" in row.last_error and row.next_attempt_at > utcnow()
        for _ in range(service.MAX_ATTEMPTS - 1):
            service.record_attempt(session, row.id, "still down")
        assert row.status == "failed"


def test_channel_targets_are_checked(client: TestClient, world: World) -> None:
    for body in (
        {"name": "x", "kind": "email", "target": "not-an-address"},
        {"name": "x", "kind": "webhook", "target": "ftp://example"},
    ):
        r = client.post(f"{API}/channels", json=body, headers=world.headers("safety"))
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == "target"


def test_an_opened_incident_is_sent_from_the_event_the_incident_service_raises(
    client: TestClient, ctx: Context, world: World, smtp: Any, hook: Any
) -> None:
    """The planner reads the payload `open_incident` really puts on the bus, not a
    hand-made one: one delivery per channel that wants incidents, planned once."""
    from sandan.core.bus import EVENTS_KEY
    from sandan.safety.incidents import service as incidents
    from sandan.safety.incidents.schemas import IncidentIn

    config, box = smtp
    url, received = hook
    _channels(client, world, url)
    safety = Principal.system("safety-test")
    with ctx.db.unit(safety) as session:
        opened = incidents.open_incident(
            session,
            safety,
            IncidentIn(title="3공장 가스 누출", kind="gas", severity=1, lat=36.1, lon=128.4),
        )
        event = next(e for e in session.info[EVENTS_KEY] if e.subject == incidents.OPENED)
        number = opened.id
        # Rolled back: the running app's own notifier would plan the committed event too.
        session.rollback()
    with ctx.db.unit() as session:
        assert service.on_incident_opened(session, event.payload) == 2
        assert service.on_incident_opened(session, event.payload) == 0  # delivered twice
    assert Notifier(ctx.db, config).tick() == 2
    assert [m["Subject"] for m in box.messages] == [f"INCIDENT #{number} opened: 3공장 가스 누출"]
    assert received[0]["title"] == f"INCIDENT #{number} opened: 3공장 가스 누출"
