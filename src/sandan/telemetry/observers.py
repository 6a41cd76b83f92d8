"""Batch observers: other domains react to every stored batch inside the ingest's unit of
work (e.g. the alarm engine), without telemetry importing them. The app registers them at
startup; `store_batch` calls them after the append, so what they write commits or rolls back
with the batch."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
from sqlalchemy.orm import Session

from sandan.telemetry.store import TelemetryStore

BatchObserver = Callable[[Session, TelemetryStore, pa.Table], object]

_observers: list[BatchObserver] = []


def register(observer: BatchObserver) -> None:
    """Call `observer(session, store, batch)` for every stored batch (registering twice is
    harmless: each app start registers the same functions)."""
    if observer not in _observers:
        _observers.append(observer)


def unregister(observer: BatchObserver) -> None:
    if observer in _observers:
        _observers.remove(observer)


def notify(session: Session, store: TelemetryStore, batch: pa.Table) -> None:
    """Hand a stored batch to every observer, in registration order."""
    for observer in tuple(_observers):
        observer(session, store, batch)
