"""The live stream of readings (Server-Sent Events), filtered by the caller's permissions.

Committed batches raise `telemetry.reading_batch` on the bus (from this process or, over
NATS, from separate ingest workers); the hub turns them into a wake-up for every open
stream. A woken stream reads the latest values of its own tags and sends those newer than
what it sent before, at most once per `min_interval`. So a stream costs one small latest-value
query per interval, however fast the data comes in.

The caller's right to read is checked again every `RECHECK_S` seconds: a revoked token, a
deactivated user or a tag that moved out of reach ends or narrows the stream within seconds
(the data-sharing contracts of issue 4 rely on this).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from sandan.core.bus import Event
from sandan.core.db import Database
from sandan.core.errors import NotAuthenticated
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.registry import service as registry
from sandan.telemetry.store import TelemetryStore

RECHECK_S = 10.0
KEEPALIVE_S = 15.0


class LiveHub:
    """Wakes every open stream when readings were committed."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    async def on_batch(self, _event: Event) -> None:
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait(self, seen: int, timeout: float) -> int:
        """The hub's version once it differs from `seen`, or after `timeout`."""
        if self.version == seen:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)
        return self.version


def _frame(event: str, data: Any, ident: int | None = None) -> bytes:
    head = f"event: {event}\n" + (f"id: {ident}\n" if ident is not None else "")
    return head.encode() + b"data: " + orjson.dumps(data) + b"\n\n"


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


Recheck = Callable[[int, int], tuple[list[int], str]]
"""A stream's periodic check, run in a worker thread: given the rows and bytes sent since the
last check, the tags it may still carry, and the reason to stop when there are none."""


async def stream_readings(
    store: TelemetryStore,
    hub: LiveHub,
    recheck: Recheck,
    *,
    seconds: float,
    min_interval: float = 1.0,
    recheck_s: float | None = None,
) -> AsyncIterator[bytes]:
    """SSE frames: `readings` (a snapshot first, then what changed), comments to keep the
    connection open, and `end` with the reason when the stream stops."""
    every = RECHECK_S if recheck_s is None else recheck_s
    allowed: list[int] = []
    checked = -every
    last_ts: dict[int, datetime] = {}
    sent = 0
    rows_since = bytes_since = 0
    until = time.monotonic() + seconds
    while True:
        now = time.monotonic()
        if now >= until:
            yield _frame("end", {"reason": "the stream's time is up; reconnect to go on"})
            return
        if now - checked >= every:
            allowed, reason = await asyncio.to_thread(recheck, rows_since, bytes_since)
            rows_since = bytes_since = 0
            checked = now
            if not allowed:
                yield _frame("end", {"reason": reason})
                return
        seen = hub.version  # taken before the read: a batch committed meanwhile wakes us again
        latest = await asyncio.to_thread(store.latest, allowed)
        rows: list[dict[str, Any]] = latest.to_pylist()
        fresh = [r for r in rows if r["tag_id"] not in last_ts or r["ts"] > last_ts[r["tag_id"]]]
        if fresh or sent == 0:  # the first frame is the snapshot, even when empty
            for r in fresh:
                last_ts[r["tag_id"]] = r["ts"]
            sent += 1
            frame = _frame("readings", [{**r, "ts": _iso(r["ts"])} for r in fresh], sent)
            rows_since += len(fresh)
            bytes_since += len(frame)
            yield frame
        limit = min(KEEPALIVE_S, every, max(0.0, until - time.monotonic()))
        if await hub.wait(seen, limit) == seen:
            yield b": keep-alive\n\n"
        rest = min_interval - (time.monotonic() - now)
        if rest > 0:
            await asyncio.sleep(min(rest, max(0.0, until - time.monotonic())))


def permission_recheck(
    db: Database, authorize: Callable[[Session], Principal | None], tag_ids: list[int]
) -> Recheck:
    """The check of a caller's own stream: its credential still valid, the tags still its."""

    def check(_rows: int, _bytes: int) -> tuple[list[int], str]:
        allowed = _recheck(db, authorize, tag_ids)
        return allowed, "" if allowed else "you may no longer read these tags"

    return check


def _recheck(
    db: Database, authorize: Callable[[Session], Principal | None], tag_ids: list[int]
) -> list[int]:
    with db.factory() as session:
        try:
            principal = authorize(session)
        except NotAuthenticated:  # revoked, expired, owner deactivated
            return []
        if principal is None or not principal.has(Scope.registry_read):
            return []
        return registry.readable_tag_ids(session, principal, tag_ids)
