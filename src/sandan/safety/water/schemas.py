"""API shapes of the water area. Flows are m³/h, pressures metres of head, times UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


class DmaOut(BaseModel):
    code: str
    zone: str
    factories: int
    inlet_tag_id: int | None
    lat: float
    lon: float


class NetworkOut(BaseModel):
    """The network for the map: DMAs plus GeoJSON features of nodes (Point) and pipes
    (LineString), each with `kind` and `dma` properties."""

    dmas: list[DmaOut]
    junctions: int
    pipes: int
    mains_km: float
    features: dict[str, Any]


class BalancePoint(BaseModel):
    ts: datetime
    inlet: float | None
    metered: float | None
    loss: float | None  # inlet − Σ metered customer use (non-revenue water)


class BalanceOut(BaseModel):
    dma: str
    meters: int  # customer meters with a water_flow tag in this DMA
    points: list[BalancePoint]


class NightOut(BaseModel):
    """One night (02-04 h local time) of one DMA."""

    night: date
    mnf: float | None  # minimum night flow: mean inlet flow 02-04 h
    legitimate: float | None  # Σ factories' night use (measured, else their night profile)
    unexplained: float | None  # mnf − legitimate
    baseline: float | None  # robust median of the unexplained flow over the previous nights
    threshold: float | None  # how far above the baseline counts as an exceedance
    exceeds: bool
    suspect: bool  # exceeded on k consecutive nights


class NightFlowOut(BaseModel):
    dma: str
    window: int
    consecutive: int
    nights: list[NightOut]


class SuspicionOut(BaseModel):
    dma: str
    zone: str
    since: date  # the first night of the run of exceedances
    nights: int
    excess: float  # unexplained − baseline on the latest night, m³/h
    threshold: float
    lat: float
    lon: float


class ProfileNight(BaseModel):
    night: date
    use: float | None


class NightProfileOut(BaseModel):
    """A factory's own night use (02-04 h) from its smart meter: what the DMA analysis
    expects from it at night instead of a textbook share of the population."""

    company_id: int
    dma: str | None
    tag_id: int | None
    median: float | None
    mad: float | None
    nights: list[ProfileNight]


class WhatIfIn(BaseModel):
    """Break (or close) one pipe, or open a large leak at one node."""

    pipe: str | None = Field(default=None, max_length=60)
    node: str | None = Field(default=None, max_length=60)
    mode: Literal["break", "close"] = "break"
    leak_area_cm2: float = Field(default=100.0, gt=0, le=5000)
    hour: int | None = Field(default=None, ge=0, le=23, description="local hour; default now")
    threshold_m: float = Field(default=20.0, gt=0, le=100)

    @model_validator(mode="after")
    def _one_target(self) -> WhatIfIn:
        if (self.pipe is None) == (self.node is None):
            raise ValueError("give exactly one of pipe or node")
        return self


class ImpactOut(BaseModel):
    company_id: int
    name: str
    dma: str
    before_m: float
    after_m: float
    drop_m: float


class WhatIfOut(BaseModel):
    target: str
    mode: str
    hour: int
    threshold_m: float
    affected: list[ImpactOut]  # below the threshold after, sorted by drop
    lowest: list[ImpactOut]  # the ten largest drops, for context


class PanelDma(BaseModel):
    code: str
    zone: str
    night: date | None
    unexplained: float | None
    baseline: float | None
    threshold: float | None
    suspect: bool


class PanelOut(BaseModel):
    dmas: list[PanelDma]
    suspicions: list[SuspicionOut]
