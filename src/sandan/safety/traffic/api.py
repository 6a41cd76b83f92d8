"""HTTP routes of the traffic signals: the plans anyone logged in may read, and the
comparison of fixed time with max-pressure the control centre runs."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sandan.core.http import Authenticated, SafetyOperate, get_context
from sandan.safety.traffic import service
from sandan.safety.traffic.schemas import (
    ComparisonIn,
    ComparisonOut,
    ComparisonState,
    NetworkName,
    SignalsOut,
)

router = APIRouter(prefix="/traffic")


@router.get("/signals", response_model=SignalsOut)
def signals(
    request: Request, principal: Authenticated, network: NetworkName = "complex"
) -> SignalsOut:
    """Every signalised junction's programme (phases with durations and states); while a
    comparison runs on this network, the adaptive controller's current phase at each."""
    del principal  # public infrastructure: any logged-in user
    return service.signal_plans(get_context(request).settings, network)


@router.get("/comparison", response_model=ComparisonState)
def comparison(request: Request, principal: Authenticated) -> ComparisonState:
    """The last fixed-time vs max-pressure comparison, and whether one is running."""
    del principal
    return service.last_comparison(get_context(request).settings)


@router.post("/comparison", response_model=ComparisonOut)
def run_comparison(request: Request, principal: SafetyOperate, body: ComparisonIn) -> ComparisonOut:
    """Run fixed time and max-pressure on the same shift-change demand in SUMO and keep the
    result as the last comparison. A sync route: FastAPI runs it in a worker thread, so the
    event loop serves other requests (and the live signal view) meanwhile. 409 while
    another comparison runs."""
    return service.run_comparison(get_context(request).settings, principal, body)
