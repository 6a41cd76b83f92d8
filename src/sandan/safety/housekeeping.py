"""The control centre's clockwork in a serving process: shelved alarms come back when their
time is up (checked every few seconds), and the water network's night flow is judged every
hour, so a leak found in last night's meter readings raises its alarm without anyone asking."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarms
from sandan.safety.water import service as water
from sandan.telemetry.store import TelemetryStore

log = structlog.get_logger(__name__)
FIRST_WATER_S = 60.0


class Housekeeper:
    def __init__(
        self, db: Database, store: TelemetryStore, tick_s: float = 5.0, water_every_s: float = 3600
    ) -> None:
        self.db, self.store = db, store
        self.tick_s, self.water_every_s = tick_s, water_every_s
        self._stop = asyncio.Event()

    def unshelve(self) -> int:
        with self.db.unit() as session:
            return len(alarms.unshelve_expired(session))

    def judge_water(self) -> int:
        with self.db.unit(Principal.system("water-night-flow")) as session:
            return len(water.evaluate(session, Principal.system("water-night-flow"), self.store))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_water = loop.time() + FIRST_WATER_S  # let the server settle (and tests finish)
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.unshelve)
                if self.water_every_s > 0 and loop.time() >= next_water:
                    next_water = loop.time() + self.water_every_s
                    found = await asyncio.to_thread(self.judge_water)
                    log.info("water.night_flow_judged", suspicions=found)
            except Exception:  # a locked database or a broken model must not end the loop
                log.exception("safety.housekeeping_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.tick_s)

    async def stop(self) -> None:
        self._stop.set()
