"""API shapes of the shared warehouse; field rules live here so a bad field gets a 422
naming it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandan.core.types import DbId
from sandan.logistics.validators import gtin_problem, normalise_plate

Category = Literal["general", "hazardous", "cold", "bulk"]
HHMM = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
Qty = Field(ge=0, le=10_000_000)
PosQty = Field(ge=1, le=10_000_000)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WarehouseIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class WarehouseOut(WarehouseIn, Out):
    id: int


class ZoneIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(default="", max_length=120)
    category: Category = "general"
    owner_company_id: DbId | None = None
    sequence: int = Field(default=0, ge=0, le=10_000)


class ZoneOut(ZoneIn, Out):
    id: int
    warehouse_id: int


class Capacity(BaseModel):
    max_volume_m3: float = Field(default=0.0, ge=0, le=10_000)
    max_weight_kg: float = Field(default=0.0, ge=0, le=1_000_000)
    max_pallets: int = Field(default=0, ge=0, le=1000)


class BinIn(Capacity):
    zone_id: DbId
    code: str = Field(min_length=1, max_length=30)
    kind: Literal["storage", "receiving", "outbound"] = "storage"
    category: Category = "general"
    aisle: int = Field(default=0, ge=0, le=999)
    rack: int = Field(default=0, ge=0, le=999)
    level: int = Field(default=0, ge=0, le=99)
    fixed_item_id: DbId | None = None


class BinGridIn(Capacity):
    """Aisles × racks × levels of storage bins coded ZONE-AA-RR-L."""

    zone_id: DbId
    aisles: int = Field(ge=1, le=50)
    racks: int = Field(ge=1, le=100)
    levels: int = Field(ge=1, le=10)
    category: Category = "general"


class BinOut(BinIn, Out):
    id: int
    warehouse_id: int


class DockIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    kind: Literal["inbound", "outbound", "both"] = "both"
    max_trucks: int = Field(default=1, ge=1, le=10)
    slot_minutes: int = Field(default=30, ge=5, le=480)
    opens: str = HHMM
    closes: str = HHMM
    truck_classes: list[str] = Field(default_factory=lambda: ["1t", "2.5t", "5t", "11t"])


class DockOut(DockIn, Out):
    id: int
    warehouse_id: int


class ItemIn(BaseModel):
    owner_company_id: DbId | None = None
    sku: str = Field(min_length=1, max_length=40)
    gtin: str | None = Field(default=None, max_length=14)
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="EA", min_length=1, max_length=8)
    length_mm: int = Field(default=0, ge=0, le=100_000)
    width_mm: int = Field(default=0, ge=0, le=100_000)
    height_mm: int = Field(default=0, ge=0, le=100_000)
    weight_kg: float = Field(default=0.0, ge=0, le=100_000)
    units_per_pallet: int = Field(default=1, ge=1, le=1_000_000)
    tracking: Literal["none", "lot", "serial"] = "none"
    category: Category = "general"

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        if value is not None and (problem := gtin_problem(value)):
            raise ValueError(problem)
        return value


class ItemOut(ItemIn, Out):
    id: int
    owner_company_id: int
    volume_m3: float


class AsnLineIn(BaseModel):
    item_id: DbId
    qty_expected: int = PosQty
    lot_code: str = Field(default="", max_length=40)
    expiry: date | None = None


class AsnIn(BaseModel):
    owner_company_id: DbId | None = None
    warehouse_id: DbId
    ref: str = Field(min_length=1, max_length=40)
    supplier: str = Field(default="", max_length=120)
    expected_at: datetime
    lines: list[AsnLineIn] = Field(min_length=1, max_length=500)


class AsnLineOut(Out):
    id: int
    item_id: int
    lot_code: str
    expiry: date | None
    qty_expected: int
    qty_received: int
    qty_damaged: int
    qty_over: int = 0
    qty_short: int = 0


class AsnOut(Out):
    id: int
    owner_company_id: int
    warehouse_id: int
    ref: str
    supplier: str
    expected_at: datetime
    status: str
    lines: list[AsnLineOut] = Field(default_factory=list)


class AppointmentIn(BaseModel):
    dock_id: DbId
    owner_company_id: DbId | None = None
    asn_id: DbId | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    starts_at: datetime
    ends_at: datetime
    truck_plate: str = Field(min_length=1, max_length=16)
    truck_class: str = Field(default="5t", max_length=6)

    @field_validator("truck_plate")
    @classmethod
    def _plate(cls, value: str) -> str:
        plate = normalise_plate(value)
        if plate is None:
            raise ValueError("a Korean plate like 12가3456 or 서울82바1234")
        return plate

    @model_validator(mode="after")
    def _span(self) -> AppointmentIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AppointmentOut(Out):
    id: int
    owner_company_id: int
    dock_id: int
    asn_id: int | None
    direction: str
    starts_at: datetime
    ends_at: datetime
    truck_plate: str
    truck_class: str
    status: str


class SlotOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    booked: int
    free: int


class ReceiveLineIn(BaseModel):
    asn_line_id: DbId | None = None
    item_id: DbId | None = None
    lot_code: str = Field(default="", max_length=40)
    expiry: date | None = None
    qty_good: int = Qty
    qty_damaged: int = Field(default=0, ge=0, le=10_000_000)


class ReceiveIn(BaseModel):
    """Against an ASN (asn_id, lines name asn_line_id) or blind (owner and item per line)."""

    warehouse_id: DbId
    asn_id: DbId | None = None
    appointment_id: DbId | None = None
    owner_company_id: DbId | None = None
    lines: list[ReceiveLineIn] = Field(min_length=1, max_length=500)


class ReceiptLineOut(Out):
    id: int
    owner_company_id: int
    asn_line_id: int | None
    item_id: int
    lot_id: int
    qty_good: int
    qty_damaged: int
    received_at: datetime


class ReceiptOut(BaseModel):
    lines: list[ReceiptLineOut]
    asn: AsnOut | None = None


class StockLeg(BaseModel):
    """Units of one owner's lot from one bin to another (putaway or move)."""

    item_id: DbId
    lot_id: DbId
    owner_company_id: DbId
    from_bin_id: DbId
    to_bin_id: DbId
    qty: int = PosQty


class Suggestion(BaseModel):
    item_id: int
    lot_id: int
    owner_company_id: int
    from_bin_id: int
    to_bin_id: int | None
    to_bin_code: str | None
    qty: int
    rule: str


class AdjustIn(BaseModel):
    item_id: DbId
    lot_id: DbId
    owner_company_id: DbId
    bin_id: DbId
    delta: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=1, max_length=60)


class QuantOut(Out):
    id: int
    item_id: int
    lot_id: int
    bin_id: int
    owner_company_id: int
    on_hand: int
    reserved: int
    sku: str = ""
    lot_code: str = ""
    expiry: date | None = None
    bin_code: str = ""


class MovementOut(Out):
    id: int
    item_id: int
    lot_id: int
    owner_company_id: int
    from_bin_id: int | None
    to_bin_id: int | None
    qty: int
    kind: str
    ref: str
    at: datetime
    by: str


class ReconcileOut(BaseModel):
    ok: bool
    quants: int
    movements: int
    mismatches: list[dict[str, object]]
