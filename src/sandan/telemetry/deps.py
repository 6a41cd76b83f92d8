"""The FastAPI dependency that hands routes the app's telemetry store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sandan.telemetry.store import TelemetryStore


def get_store(request: Request) -> TelemetryStore:
    store: TelemetryStore = request.app.state.telemetry_store
    return store


Store = Annotated[TelemetryStore, Depends(get_store)]
