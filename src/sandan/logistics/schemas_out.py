"""API shapes of outbound, yard, counts and billing."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from sandan.core.types import DbId
from sandan.logistics.schemas import Out, PosQty


class OrderLineIn(BaseModel):
    item_id: DbId
    qty: int = PosQty


class OrderIn(BaseModel):
    owner_company_id: DbId | None = None
    warehouse_id: DbId
    ref: str = Field(min_length=1, max_length=40)
    ship_to: str = Field(min_length=1, max_length=120)
    address: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    ship_date: date
    window_start: datetime
    window_end: datetime
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _window(self) -> OrderIn:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class OrderLineOut(Out):
    id: int
    item_id: int
    qty: int
    qty_reserved: int = 0
    qty_picked: int
    qty_shipped: int


class OrderOut(Out):
    id: int
    owner_company_id: int
    warehouse_id: int
    ref: str
    ship_to: str
    address: str
    lat: float
    lon: float
    ship_date: date
    window_start: datetime
    window_end: datetime
    status: str
    wave_id: int | None
    backorder_of_id: int | None
    lines: list[OrderLineOut] = Field(default_factory=list)


class WaveIn(BaseModel):
    warehouse_id: DbId
    order_ids: list[DbId] = Field(min_length=1, max_length=500)


class WaveOut(Out):
    id: int
    warehouse_id: int
    status: str
    created_at: datetime


class PickTask(BaseModel):
    reservation_id: int
    order_id: int
    order_line_id: int
    owner_company_id: int
    item_id: int
    sku: str
    lot_id: int
    lot_code: str
    bin_id: int
    bin_code: str
    zone: str
    aisle: int
    rack: int
    level: int
    qty: int


class PickList(BaseModel):
    wave_id: int
    tasks: list[PickTask]


class PickIn(BaseModel):
    reservation_id: DbId
    qty: int = Field(ge=0, le=10_000_000)  # less than reserved: a short pick


class PackIn(BaseModel):
    packages: int = Field(default=1, ge=1, le=10_000)


class ShipmentOut(Out):
    id: int
    owner_company_id: int
    warehouse_id: int
    order_id: int
    ship_to: str
    address: str
    lat: float
    lon: float
    ship_date: date
    window_start: datetime
    window_end: datetime
    weight_kg: float
    volume_m3: float
    packages: int
    status: str
    shipped_at: datetime | None
    backorder_id: int | None = None


class CheckInIn(BaseModel):
    warehouse_id: DbId
    truck_plate: str = Field(min_length=1, max_length=16)


class YardVisitOut(Out):
    id: int
    warehouse_id: int
    truck_plate: str
    appointment_id: int | None
    owner_company_id: int | None
    checked_in_at: datetime
    checked_out_at: datetime | None
    dock_code: str | None = None
    slot_start: datetime | None = None
    position: int = 0


class CountIn(BaseModel):
    warehouse_id: DbId
    bin_ids: list[DbId] = Field(min_length=1, max_length=500)


class CountLineIn(BaseModel):
    bin_id: DbId
    item_id: DbId
    lot_id: DbId
    owner_company_id: DbId
    counted: int = Field(ge=0, le=10_000_000)


class CountSubmit(BaseModel):
    lines: list[CountLineIn] = Field(max_length=5000)


class CountOut(Out):
    id: int
    warehouse_id: int
    bin_ids: list[int]
    status: str
    created_at: datetime
    done_at: datetime | None
    adjustments: int = 0


class TariffIn(BaseModel):
    owner_company_id: DbId | None = None
    basis: str = Field(default="pallet", pattern="^(pallet|m3)$")
    pallet_day_krw: int = Field(default=1000, ge=0, le=10_000_000)
    m3_day_krw: int = Field(default=700, ge=0, le=10_000_000)
    inbound_line_krw: int = Field(default=3000, ge=0, le=10_000_000)
    outbound_line_krw: int = Field(default=4000, ge=0, le=10_000_000)


class TariffOut(TariffIn, Out):
    id: int


class InvoiceLine(BaseModel):
    kind: str  # storage | inbound | outbound
    description: str
    quantity: float
    unit: str
    rate_krw: int
    amount_krw: int


class InvoiceOut(BaseModel):
    owner_company_id: int
    owner_name: str
    period: str
    basis: str
    lines: list[InvoiceLine]
    total_krw: int
    daily: list[dict[str, float]]  # {"day": 1, "pallets": 3, "m3": 1.2}
