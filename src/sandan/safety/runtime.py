"""The safety control centre's background parts in a serving process: the live alert hub,
the notifier (deliveries and escalation) and, when configured, the Frigate listener."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandan.core.context import Context
from sandan.core.mqtt import mqtt_broker
from sandan.safety.cctv.listener import FrigateListener
from sandan.safety.housekeeping import Housekeeper
from sandan.safety.live import AlertHub
from sandan.safety.notify.senders import SmtpConfig
from sandan.safety.notify.worker import Notifier
from sandan.settings import Settings
from sandan.telemetry.store import TelemetryStore


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host or "127.0.0.1",
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


@dataclass
class SafetyRuntime:
    hub: AlertHub
    notifier: Notifier
    housekeeper: Housekeeper
    frigate: FrigateListener | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        await self.notifier.stop()
        await self.housekeeper.stop()
        if self.frigate is not None:
            await self.frigate.stop()
        for task in self.tasks:
            await task


def start(
    settings: Settings, context: Context, hub: AlertHub, store: TelemetryStore
) -> SafetyRuntime:
    """Subscribe the hub and the notifier to the bus and start their loops."""
    context.bus.subscribe("safety.>", hub.on_event)
    notifier = Notifier(context.db, smtp_config(settings), settings.notify_interval_seconds)
    notifier.attach(context.bus)
    loop = asyncio.get_running_loop()
    housekeeper = Housekeeper(
        context.db, store, water_every_s=settings.water_evaluate_every_hours * 3600
    )
    runtime = SafetyRuntime(hub=hub, notifier=notifier, housekeeper=housekeeper)
    runtime.tasks.append(loop.create_task(notifier.run()))
    runtime.tasks.append(loop.create_task(housekeeper.run()))
    if settings.frigate_mqtt_url:
        runtime.frigate = FrigateListener(
            context.db,
            mqtt_broker(settings, settings.frigate_mqtt_url),
            Path(settings.data_dir) / "cctv",
            settings.frigate_topic_prefix,
        )
        runtime.tasks.append(loop.create_task(runtime.frigate.run()))
    return runtime
