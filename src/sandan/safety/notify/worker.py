"""The notifier: plans deliveries from bus events, escalates overdue alarms, and sends what
is due, every `interval` seconds. Sending happens outside any transaction (a slow relay holds
no lock); the result is recorded in a short unit of work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from sandan.core.bus import Event, EventBus
from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.safety.notify import service
from sandan.safety.notify.senders import DeliveryError, SmtpConfig, post_webhook, send_email

log = structlog.get_logger(__name__)


class Notifier:
    """One per process that serves the control centre."""

    def __init__(self, db: Database, smtp: SmtpConfig, interval: float = 2.0) -> None:
        self.db = db
        self.smtp = smtp
        self.interval = interval
        self.sent = 0
        self.failed = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def attach(self, bus: EventBus) -> None:
        bus.subscribe("safety.alarm_raised", self._planner(service.on_alarm_raised))
        bus.subscribe("safety.incident_opened", self._planner(service.on_incident_opened))

    def _planner(self, plan: Callable[..., int]) -> Callable[[Event], Awaitable[None]]:
        async def handler(event: Event) -> None:
            def run() -> int:
                with self.db.unit() as session:
                    return plan(session, event.payload)

            if await asyncio.to_thread(run):
                self._wake.set()

        return handler

    def _send(self, kind: str, target: str, title: str, body: str) -> None:
        if kind == "email":
            send_email(self.smtp, target, title, body)
        else:
            post_webhook(target, {"title": title, "text": body, "source": "sandan"})

    def tick(self) -> int:
        """Escalate, then send every due delivery once; returns how many were sent."""
        with self.db.unit() as session:
            service.escalate_overdue(session)
        with self.db.unit() as session:
            due = service.due(session, utcnow())
        sent = 0
        for delivery_id, kind, target, title, body in due:
            error: str | None = None
            try:
                self._send(kind, target, title, body)
            except DeliveryError as failure:
                error = str(failure)
            with self.db.unit() as session:
                service.record_attempt(session, delivery_id, error)
            if error is None:
                sent += 1
            else:
                self.failed += 1
                log.warning("notify.failed", delivery=delivery_id, error=error)
        self.sent += sent
        return sent

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # a broken relay or a locked database must not end the loop
                log.exception("notify.tick_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
