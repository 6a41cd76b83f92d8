"""The event bus: in-process asyncio by default, NATS JetStream between processes.

Domains raise events inside a unit of work with `raise_event`; the database hands them to the
bus only after the commit, so a rolled-back write never announces itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
import structlog
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.db import EVENTS_KEY

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened, named like `registry.company_created`."""

    subject: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=utcnow)

    def encode(self) -> bytes:
        return orjson.dumps(
            {"subject": self.subject, "payload": self.payload, "id": self.id, "at": self.at}
        )

    @classmethod
    def decode(cls, data: bytes) -> Event:
        raw = orjson.loads(data)
        return cls(
            subject=raw["subject"],
            payload=raw["payload"],
            id=raw["id"],
            at=datetime.fromisoformat(raw["at"]),
        )


Handler = Callable[[Event], Awaitable[None]]


def raise_event(session: Session, subject: str, payload: dict[str, Any]) -> Event:
    """Queue an event on the session; it is published after commit, dropped on rollback."""
    event = Event(subject=subject, payload=payload)
    session.info.setdefault(EVENTS_KEY, []).append(event)
    return event


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS-style matching: `*` is one token, `>` is the rest."""
    pat, sub = pattern.split("."), subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or (token != "*" and token != sub[i]):
            return False
    return len(pat) == len(sub)


class EventBus(Protocol):
    """What every bus backend offers."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    def publish_threadsafe(self, events: list[Event]) -> None: ...

    def subscribe(self, pattern: str, handler: Handler, durable: str | None = None) -> None: ...


class InProcessBus:
    """An asyncio bus for the single-process deployment; handlers run on the event loop."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._queue: asyncio.Queue[Event] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: deque[Event] = deque(maxlen=100_000)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        while self._pending:
            self._queue.put_nowait(self._pending.popleft())
        self._task = asyncio.create_task(self._dispatch())

    async def stop(self) -> None:
        if self._queue is not None:
            await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._loop = None

    def subscribe(self, pattern: str, handler: Handler, durable: str | None = None) -> None:
        self._handlers.append((pattern, handler))

    async def publish(self, event: Event) -> None:
        if self._queue is None:
            self._pending.append(event)
        else:
            await self._queue.put(event)

    def publish_threadsafe(self, events: list[Event]) -> None:
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            self._pending.extend(events)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for event in events:
            if running is loop:
                queue.put_nowait(event)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, event)

    async def _dispatch(self) -> None:
        assert self._queue is not None
        while True:
            event = await self._queue.get()
            try:
                for pattern, handler in list(self._handlers):
                    if subject_matches(pattern, event.subject):
                        try:
                            await handler(event)
                        except Exception:
                            log.exception("bus.handler_failed", subject=event.subject)
            finally:
                self._queue.task_done()


class NatsBus:
    """NATS JetStream: durable, shared between API replicas and ingest workers."""

    def __init__(self, url: str, stream: str = "SANDAN", prefix: str = "sandan") -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self._nc: Any = None
        self._js: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wanted: list[tuple[str, Handler, str | None]] = []
        self._subs: list[Any] = []
        self._pending: deque[Event] = deque(maxlen=100_000)

    async def start(self) -> None:
        import nats
        import nats.js.errors
        from nats.js.api import StreamConfig

        self._loop = asyncio.get_running_loop()
        self._nc = await nats.connect(servers=[self.url], connect_timeout=5)
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.stream)  # exists: keep the operator's limits
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=[f"{self.prefix}.>"]))
        for pattern, handler, durable in self._wanted:
            await self._subscribe(pattern, handler, durable)
        while self._pending:
            await self.publish(self._pending.popleft())

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
        self._nc = self._js = None

    def subscribe(self, pattern: str, handler: Handler, durable: str | None = None) -> None:
        self._wanted.append((pattern, handler, durable))
        if self._js is not None and self._loop is not None:
            self._loop.create_task(self._subscribe(pattern, handler, durable))

    async def _subscribe(self, pattern: str, handler: Handler, durable: str | None) -> None:
        async def on_message(msg: Any) -> None:
            try:
                await handler(Event.decode(msg.data))
            except Exception:
                log.exception("bus.handler_failed", subject=msg.subject)
            await msg.ack()

        from nats.js.api import DeliverPolicy

        sub = await self._js.subscribe(
            f"{self.prefix}.{pattern}",
            cb=on_message,
            durable=durable,
            deliver_policy=None if durable else DeliverPolicy.NEW,
            manual_ack=True,
        )
        self._subs.append(sub)

    async def publish(self, event: Event) -> None:
        await self._js.publish(
            f"{self.prefix}.{event.subject}", event.encode(), headers={"Nats-Msg-Id": event.id}
        )

    def publish_threadsafe(self, events: list[Event]) -> None:
        if self._loop is None or self._js is None:
            self._pending.extend(events)  # sent when the bus starts
            return
        for event in events:
            future = asyncio.run_coroutine_threadsafe(self.publish(event), self._loop)
            future.add_done_callback(_log_failure(event))


def _log_failure(event: Event) -> Callable[[Any], None]:
    def done(future: Any) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error(
                "bus.publish_failed",
                subject=event.subject,
                id=event.id,
                error=str(future.exception()),
            )

    return done


def make_bus(url: str) -> EventBus:
    """The bus named by the settings' URL."""
    if url.startswith("memory"):
        return InProcessBus()
    if url.startswith(("nats://", "tls://")):
        return NatsBus(url)
    raise ValueError(f"unknown bus URL {url!r}: use memory:// or nats://host:4222")
