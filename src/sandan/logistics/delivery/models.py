"""Tables of joint delivery: the shared fleet, the stops of a day, and the plans made for it.

A stop belongs to one tenant (`owner_company_id`) and usually stands for a warehouse shipment;
a plan belongs to the operator and keeps every stop's outcome in `delivery_plan_stops`, with
the owner copied there so a tenant's read of a plan is filtered inside the query. Plans are
derived data (re-planning writes a new version; the previous one is its warm start), so they
are not audited row by row; the fleet and the stops, which people edit, are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class Vehicle(Audited, Base):
    """A truck of the shared fleet: what it carries, when its driver works, what a km costs."""

    __tablename__ = "delivery_vehicles"
    __table_args__ = (
        CheckConstraint("capacity_kg > 0", "capacity_kg"),
        CheckConstraint("shift_end_min > shift_start_min", "shift"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(16), unique=True)
    capacity_kg: Mapped[float] = mapped_column(Float)
    capacity_m3: Mapped[float | None] = mapped_column(Float)
    shift_start_min: Mapped[int] = mapped_column(Integer, default=8 * 60)  # minutes after 00:00
    shift_end_min: Mapped[int] = mapped_column(Integer, default=18 * 60)
    cost_per_km: Mapped[int] = mapped_column(Integer, default=1000)  # KRW
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStop(Audited, Base):
    """One tenant's delivery on a day: a destination, a window to start unloading in, and the
    load; from a warehouse shipment (`shipment_id`) or entered for the joint run."""

    __tablename__ = "delivery_stops"
    __audit_company__: ClassVar[str] = "owner_company_id"
    __table_args__ = (
        Index("ix_delivery_stops_day", "warehouse_id", "day", "status"),
        CheckConstraint("window_end > window_start", "window"),
        CheckConstraint("weight_kg >= 0 AND volume_m3 >= 0", "load"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    shipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("wms_shipments.id", ondelete="CASCADE"), unique=True
    )
    day: Mapped[date] = mapped_column(Date)
    ref: Mapped[str] = mapped_column(String(40), default="")
    ship_to: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    service_min: Mapped[int] = mapped_column(Integer, default=10)
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    volume_m3: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryPlan(Base):
    """One solve of a day: the settings it ran with and its totals. The newest version of a
    (warehouse, day) is the plan in force."""

    __tablename__ = "delivery_plans"
    __table_args__ = (UniqueConstraint("warehouse_id", "day", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("wms_warehouses.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    opens_min: Mapped[int] = mapped_column(Integer)
    closes_min: Mapped[int] = mapped_column(Integer)
    road_factor: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float] = mapped_column(Float)
    time_limit_s: Mapped[float] = mapped_column(Float)
    quick: Mapped[bool] = mapped_column(default=False)
    warm_started: Mapped[bool] = mapped_column(default=False)
    solver_status: Mapped[str] = mapped_column(String(48))
    solve_seconds: Mapped[float] = mapped_column(Float)
    cost: Mapped[int] = mapped_column(BigInteger)  # KRW of driving
    distance_m: Mapped[int] = mapped_column(BigInteger)
    objective: Mapped[int] = mapped_column(BigInteger)  # cost plus drop penalties
    start_objective: Mapped[int | None] = mapped_column(BigInteger)  # of the warm start
    stops_total: Mapped[int] = mapped_column(Integer)
    stops_dropped: Mapped[int] = mapped_column(Integer)
    vehicles_used: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryRoute(Base):
    """One vehicle's tour in a plan (the plate is copied: a plan outlives fleet edits)."""

    __tablename__ = "delivery_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("delivery_plans.id", ondelete="CASCADE"), index=True
    )
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_vehicles.id", ondelete="SET NULL")
    )
    plate: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ...: the route's number and colour
    depart_at: Mapped[datetime]
    return_at: Mapped[datetime]
    distance_m: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger)
    weight_kg: Mapped[float] = mapped_column(Float)
    volume_m3: Mapped[float] = mapped_column(Float)


class PlannedStop(Base):
    """What a plan does with one stop: its place on a route and times, or why it was dropped."""

    __tablename__ = "delivery_plan_stops"
    __table_args__ = (
        UniqueConstraint("plan_id", "stop_id"),
        Index("ix_delivery_plan_stops_owner", "plan_id", "owner_company_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("delivery_plans.id", ondelete="CASCADE"))
    stop_id: Mapped[int] = mapped_column(ForeignKey("delivery_stops.id", ondelete="CASCADE"))
    owner_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    route_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_routes.id", ondelete="CASCADE")
    )
    position: Mapped[int | None] = mapped_column(Integer)  # 1-based on its route
    arrival_at: Mapped[datetime | None]
    start_at: Mapped[datetime | None]
    departure_at: Mapped[datetime | None]
    dropped_reason: Mapped[str | None] = mapped_column(String(24))
    dropped_detail: Mapped[str] = mapped_column(String(300), default="")
