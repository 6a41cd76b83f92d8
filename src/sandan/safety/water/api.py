"""HTTP routes of the water area, under /api/v1/safety/water. The control centre
(safety:operate) reads and simulates; a company admin reads its own factory's night profile.
Routes are plain `def`, so FastAPI runs them (and the ~1 s simulations) in worker threads,
off the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sandan.core.http import DbSession, RegistryRead, SafetyOperate
from sandan.core.types import DbId
from sandan.safety.water import schemas, service
from sandan.telemetry.deps import Store

router = APIRouter(prefix="/water", tags=["safety: water"])


@router.get("/network")
def network(principal: SafetyOperate, session: DbSession) -> schemas.NetworkOut:
    """The complex's water network for the map: DMAs, nodes and pipes as GeoJSON."""
    return service.network(session, principal)


@router.get("/dmas/{dma}/balance")
def balance(
    dma: str,
    principal: SafetyOperate,
    session: DbSession,
    store: Store,
    hours: Annotated[int, Query(ge=1, le=744)] = 48,
) -> schemas.BalanceOut:
    """Hourly flow balance of a DMA: inlet, metered factory use, and the loss between."""
    return service.balance(session, principal, store, dma, hours)


@router.get("/dmas/{dma}/night-flow")
def night_flow(
    dma: str, principal: SafetyOperate, session: DbSession, store: Store
) -> schemas.NightFlowOut:
    """A DMA's minimum night flow per night against its baseline, with leak suspicion."""
    return service.night_flow(session, principal, store, dma)


@router.get("/suspicions")
def suspicions(
    principal: SafetyOperate, session: DbSession, store: Store
) -> list[schemas.SuspicionOut]:
    """DMAs whose night flow has exceeded its baseline for k nights in a row."""
    return service.suspicions(session, principal, store)


@router.post("/evaluate")
def evaluate(
    principal: SafetyOperate, session: DbSession, store: Store
) -> list[schemas.SuspicionOut]:
    """Judge the latest night now: raise leak alarms for suspected DMAs, clear the others."""
    return service.evaluate(session, principal, store)


@router.post("/what-if")
def what_if(
    body: schemas.WhatIfIn, principal: SafetyOperate, session: DbSession
) -> schemas.WhatIfOut:
    """Simulate a pipe break or closure (or a large leak at a node) and list the factories
    whose pressure falls below the service threshold, by drop."""
    return service.what_if(session, principal, body)


@router.get("/companies/{company_id}/night-profile")
def night_profile(
    company_id: DbId, principal: RegistryRead, session: DbSession, store: Store
) -> schemas.NightProfileOut:
    """A factory's night use (02-04 h) from its smart meter, and its profile."""
    return service.night_profile(session, principal, store, company_id)
