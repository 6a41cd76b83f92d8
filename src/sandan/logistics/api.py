"""HTTP routes of the shared warehouse under /api/v1/logistics."""

from __future__ import annotations

from fastapi import APIRouter

from sandan.logistics.delivery.api import router as delivery_router
from sandan.logistics.routes import inbound, layout, outbound, stock

router = APIRouter(prefix="/api/v1/logistics", tags=["logistics"])
for _part in (layout.router, inbound.router, outbound.router, stock.router):
    router.include_router(_part)
router.include_router(delivery_router)  # joint delivery: /api/v1/logistics/delivery/...
