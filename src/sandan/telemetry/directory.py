"""The ingest worker's lookup table of every device's tags, kept as columns.

An MQTT flush holds messages of thousands of devices; mapping each reading to its tag must be
one vectorised lookup, not a query per device. Keys are "<device_id>/<tag name>". The table is
reloaded when it is older than `max_age` (and at once after registry events, see mqtt.py).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyarrow as pa

from sandan.core.db import Database
from sandan.registry import service as registry
from sandan.telemetry.refine import TagTable


class TagDirectory:
    """Tags of all enabled devices, and which company each device belongs to."""

    def __init__(self, db: Database, max_age: float = 10.0) -> None:
        self.db = db
        self.max_age = max_age
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self.table = TagTable(
            ids=np.zeros(0, np.int32),
            names=pa.array([], pa.string()),
            range_min=np.zeros(0),
            range_max=np.zeros(0),
            integral=np.zeros(0, bool),
            units=pa.array([], pa.string()),
        )
        self.tag_device = np.zeros(0, np.int64)
        self.device_company: dict[int, int] = {}

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    def fresh(self) -> TagDirectory:
        """Reload when stale; returns self for chaining."""
        with self._lock:
            if time.monotonic() - self._loaded_at > self.max_age:
                self._load()
        return self

    def _load(self) -> None:
        with self.db.unit() as session:
            rows = [r for r in registry.ingest_tag_rows(session) if r[6] != "str"]
            devices = registry.enabled_devices(session)
            units = registry.ingest_tag_units(session)
        self.table = TagTable(
            ids=np.array([r[0] for r in rows], np.int32),
            names=pa.array([f"{r[1]}/{r[3]}" for r in rows], pa.string()),
            range_min=np.array([np.nan if r[4] is None else r[4] for r in rows], np.float64),
            range_max=np.array([np.nan if r[5] is None else r[5] for r in rows], np.float64),
            integral=np.array([r[6] in ("int", "bool") for r in rows], bool),
            units=pa.array([units.get(r[0], "") for r in rows], pa.string()),
        )
        self.tag_device = np.array([r[1] for r in rows], np.int64)
        self.device_company = devices
        self._loaded_at = time.monotonic()
