"""What a running platform holds: settings, database, bus, metrics. Built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from sandan.core.audit.service import install as install_audit
from sandan.core.bus import EventBus, make_bus
from sandan.core.db import Database, make_engine
from sandan.core.metrics import METRICS_KEY, Metrics
from sandan.settings import Settings


@dataclass
class Context:
    """The platform's shared parts, passed to whatever needs them."""

    settings: Settings
    db: Database
    bus: EventBus
    metrics: Metrics

    @classmethod
    def build(cls, settings: Settings) -> Context:
        bus = make_bus(settings.bus_url)
        db = Database(make_engine(settings), bus)
        install_audit(db.factory)
        metrics = Metrics()
        db.factory.configure(info={METRICS_KEY: metrics})  # shared pipelines count here
        return cls(settings=settings, db=db, bus=bus, metrics=metrics)
