"""Tables of the hazard register. Facilities, materials and emergency contacts are company
rows (company_id, hazards resource); shelters and evacuation routes belong to the complex."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class Facility(Audited, Base):
    """Where a company keeps hazardous materials: a storage tank, gas cabinet, warehouse."""

    __tablename__ = "safety_facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # storage_tank | gas_cabinet | warehouse | ...
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HazardousMaterial(Audited, Base):
    """A hazardous substance held at a facility, named by its CAS registry number."""

    __tablename__ = "safety_materials"
    __table_args__ = (Index("ix_safety_materials_company_cas", "company_id", "cas"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("safety_facilities.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    cas: Mapped[str] = mapped_column(String(12))  # normalised 7664-39-3
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(10))  # kg | t | L | m3 | Nm3
    max_quantity: Mapped[float | None] = mapped_column(Float)
    hazard_classes: Mapped[list[str]] = mapped_column(JSON, default=list)  # GHS02, H314, ...
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmergencyContact(Audited, Base):
    """A person to call day and night when something happens at the company (in call order),
    apart from the registry's business contacts."""

    __tablename__ = "safety_emergency_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254), default="")
    call_order: Mapped[int] = mapped_column(default=1)


class Shelter(Audited, Base):
    """A shelter or an outdoor assembly point of the complex."""

    __tablename__ = "safety_shelters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # shelter | assembly_point
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    capacity: Mapped[int] = mapped_column(default=0)


class EvacuationRoute(Audited, Base):
    """A way out of a zone, drawn on the map as a polyline of [lat, lon] points."""

    __tablename__ = "safety_evacuation_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[str] = mapped_column(String(20), default="")  # the zone code, e.g. Z1
    points: Mapped[list[list[float]]] = mapped_column(JSON)
