"""The registry of the complex: complexes, zones, companies (tenants), sites, ISA-95 assets,
devices and tags. Every company-owned row carries company_id for the permission filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandan.core.audit.mixins import Audited
from sandan.core.clock import utcnow
from sandan.core.db import Base


class Complex(Audited, Base):
    """An industrial complex; a spoke names its hub."""

    __tablename__ = "complexes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(10), default="hub")  # hub | spoke
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("complexes.id"))
    center_lat: Mapped[float] = mapped_column(Float)
    center_lon: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Zone(Audited, Base):
    """A zone (단지) of a complex, with its boundary on the map."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("complex_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complex_id: Mapped[int] = mapped_column(ForeignKey("complexes.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Company(Audited, Base):
    """A tenant: a factory-owning company, identified by its business registration number."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    complex_id: Mapped[int] = mapped_column(ForeignKey("complexes.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    brn: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    ksic: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    employees: Mapped[int | None]
    footprint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def company_id(self) -> int:
        """A company owns itself, so the same permission filter applies."""
        return self.id


class Contact(Audited, Base):
    """A person to call at a company (representative, plant manager, safety manager)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")


class Site(Audited, Base):
    """A plant or building of a company."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    footprint: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Asset(Audited, Base):
    """An ISA-95 equipment node: area > line > cell/unit > machine, under a site."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("site_id", "parent_id", "code"),
        Index("ix_assets_company_level", "company_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(10))  # area | line | cell | unit | machine
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60), default="")


class Device(Audited, Base):
    """A gateway, PLC or sensor box that sends readings; belongs to a machine or a site."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(20), default="mqtt")  # mqtt|sparkplug|opcua|http
    external_id: Mapped[str] = mapped_column(String(120), default="")
    enabled: Mapped[bool] = mapped_column(default=True)


class Tag(Audited, Base):
    """A measured quantity of a device: unit, data type, expected range, sampling interval."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("device_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    machine_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[str] = mapped_column(String(60), default="")
    unit: Mapped[str] = mapped_column(String(30), default="")
    data_type: Mapped[str] = mapped_column(String(10), default="float")
    range_min: Mapped[float | None] = mapped_column(Float)
    range_max: Mapped[float | None] = mapped_column(Float)
    sampling_ms: Mapped[int] = mapped_column(default=1000)
    # Where the device reports it when that is not its name: an OPC UA node id
    # ("ns=2;s=Press1.Power"); empty means the tag's name (MQTT JSON key, Sparkplug metric).
    source_address: Mapped[str] = mapped_column(String(300), default="")


class ImportRun(Base):
    """A bulk CSV onboarding run; its rejected rows stay here for inspection."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), default="companies")
    filename: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows_total: Mapped[int] = mapped_column(default=0)
    companies_created: Mapped[int] = mapped_column(default=0)
    sites_created: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
