"""HTTP routes of the safety control centre: one router under /api/v1/safety that gathers
the routers of each area (alarms, hazard register, incidents, CCTV, water, traffic)."""

from __future__ import annotations

from fastapi import APIRouter

from sandan.safety.alarms.api import router as alarms_router
from sandan.safety.alerts_api import router as alerts_router
from sandan.safety.cctv.api import router as cctv_router
from sandan.safety.incidents.api import router as incidents_router
from sandan.safety.notify.api import router as notify_router
from sandan.safety.register.api import router as register_router
from sandan.safety.traffic.api import router as traffic_router
from sandan.safety.water.api import router as water_router

router = APIRouter(prefix="/api/v1/safety", tags=["safety"])
for area in (alerts_router, cctv_router, notify_router, register_router, incidents_router):
    router.include_router(area)
router.include_router(water_router)
router.include_router(alarms_router)
router.include_router(traffic_router)
