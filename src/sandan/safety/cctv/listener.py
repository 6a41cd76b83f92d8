"""Listen to Frigate on the MQTT broker: `frigate/events` (new / update / end) and the
per-camera snapshots `frigate/<camera>/<label>/snapshot`, which Frigate publishes as raw JPEG
just before the event that refers to them. Each event is handled in its own unit of work off
the event loop; a bad message is logged and counted, never fatal; a lost broker is retried
with backoff."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiomqtt
import structlog
from pydantic import ValidationError

from sandan.core.db import Database
from sandan.core.mqtt import Broker, connection_error
from sandan.safety.cctv import service
from sandan.safety.cctv.frigate import FrigateEvent

log = structlog.get_logger(__name__)


class FrigateListener:
    """A subscriber to one Frigate instance's MQTT topics (`prefix`, default `frigate`)."""

    def __init__(
        self, db: Database, url: str | Broker, snapshot_dir: Path, prefix: str = "frigate"
    ):
        self.db = db
        self.broker = Broker.of(url)  # mqtt:// or mqtts:// (with the SANDAN_MQTT_* TLS settings)
        self.tls = self.broker.ssl_context  # made now: a bad CA or key file stops the start
        self.snapshot_dir = snapshot_dir
        self.prefix = prefix.strip("/")
        self.snapshots: dict[tuple[str, str], bytes] = {}
        self.handled = 0
        self.rejected = 0
        self.subscribed = asyncio.Event()
        self._stop = asyncio.Event()

    def handle(self, topic: str, payload: bytes) -> None:
        """One message: keep a snapshot for later, or record an event (in a thread)."""
        parts = topic.split("/")
        if len(parts) == 4 and parts[3] == "snapshot":
            self.snapshots[(parts[1], parts[2])] = payload
            return
        try:
            event = FrigateEvent.model_validate_json(payload)
        except ValidationError as error:
            self.rejected += 1
            log.warning("frigate.bad_event", topic=topic, errors=error.error_count())
            return
        key = (event.after.camera, event.after.label)
        snapshot = self.snapshots.pop(key, None) if event.after.has_snapshot else None
        with self.db.unit() as session:
            service.ingest(
                session, event, via="mqtt", snapshot_dir=self.snapshot_dir, snapshot=snapshot
            )
        self.handled += 1

    async def run(self) -> None:
        """Subscribe and handle messages until `stop()`; reconnect with backoff."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                async with aiomqtt.Client(
                    self.broker.host,
                    self.broker.port,
                    username=self.broker.username,
                    password=self.broker.password,
                    tls_context=self.tls,
                    identifier=f"sandan-frigate-{id(self):x}",
                ) as client:
                    await client.subscribe(f"{self.prefix}/events", qos=1)
                    await client.subscribe(f"{self.prefix}/+/+/snapshot", qos=1)
                    self.subscribed.set()
                    delay = 1.0
                    await self._consume(client)
            except aiomqtt.MqttError as error:
                self.subscribed.clear()
                log.warning(
                    "frigate.disconnected",
                    broker=str(self.broker),
                    error=connection_error(error, str(self.broker)),
                    retry_in=delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)

    async def _consume(self, client: aiomqtt.Client) -> None:
        messages = client.messages.__aiter__()
        while not self._stop.is_set():
            stop = asyncio.ensure_future(self._stop.wait())
            nxt = asyncio.ensure_future(messages.__anext__())
            done, _ = await asyncio.wait({stop, nxt}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if nxt not in done:
                nxt.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await nxt
                return
            message = nxt.result()
            payload = message.payload if isinstance(message.payload, bytes) else b""
            try:
                await asyncio.to_thread(self.handle, str(message.topic), payload)
            except Exception:  # one bad event must not stop the feed
                self.rejected += 1
                log.exception("frigate.event_failed", topic=str(message.topic))

    async def stop(self) -> None:
        self._stop.set()
