"""FastAPI dependencies that hand routes the app's telemetry store and live hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sandan.telemetry.live import LiveHub
from sandan.telemetry.store import TelemetryStore


def get_store(request: Request) -> TelemetryStore:
    store: TelemetryStore = request.app.state.telemetry_store
    return store


Store = Annotated[TelemetryStore, Depends(get_store)]


def get_hub(request: Request) -> LiveHub:
    hub: LiveHub = request.app.state.live_hub
    return hub


Hub = Annotated[LiveHub, Depends(get_hub)]
