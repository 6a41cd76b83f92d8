"""API shapes of the registry. Validation names the field that is wrong and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from sandan.core.types import DbId
from sandan.registry.geo import polygon_problem
from sandan.registry.validators import brn_problem, ksic_problem, normalize_brn, normalize_ksic

AssetLevel = Literal["area", "line", "cell", "unit", "machine"]
DataType = Literal["float", "int", "bool", "str"]
Protocol = Literal["mqtt", "sparkplug", "opcua", "http"]


def _polygon(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and (problem := polygon_problem(value)):
        raise ValueError(problem)
    return value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ComplexIn(BaseModel):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    kind: Literal["hub", "spoke"] = "hub"
    hub_id: DbId | None = None
    center_lat: float = Field(ge=-90, le=90)
    center_lon: float = Field(ge=-180, le=180)


class ComplexPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: Literal["hub", "spoke"] | None = None
    hub_id: DbId | None = None


class ComplexOut(_Out):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    hub_id: int | None
    center_lat: float
    center_lon: float


class ZoneIn(BaseModel):
    complex_id: DbId
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    boundary: dict[str, Any] | None = None

    _check_boundary = field_validator("boundary")(_polygon)


class ZonePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    boundary: dict[str, Any] | None = None

    _check_boundary = field_validator("boundary")(_polygon)


class ZoneOut(_Out):
    id: int
    complex_id: DbId
    code: str
    name: str
    name_en: str
    boundary: dict[str, Any] | None


class ContactIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40, pattern=r"^[0-9+\-() ]*$")
    email: EmailStr | Literal[""] = ""


class ContactPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]*$")
    email: EmailStr | Literal[""] | None = None


class ContactOut(_Out):
    id: int
    company_id: DbId
    name: str
    role: str
    phone: str
    email: str


class _CompanyFields(BaseModel):
    @field_validator("ksic", check_fields=False)
    @classmethod
    def _ksic(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if problem := ksic_problem(value):
            raise ValueError(problem)
        return normalize_ksic(value)

    _check_footprint = field_validator("footprint", check_fields=False)(_polygon)


class CompanyIn(_CompanyFields):
    brn: str = Field(description="Business registration number, 123-45-67891")
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(default="", max_length=200)
    ksic: str = Field(description="KSIC industry code, e.g. 26110 or C26110")
    zone_id: DbId
    address: str = Field(default="", max_length=300)
    employees: int | None = Field(default=None, ge=0, le=1_000_000)
    footprint: dict[str, Any] | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)

    @field_validator("brn")
    @classmethod
    def _brn(cls, value: str) -> str:
        if problem := brn_problem(value):
            raise ValueError(problem)
        return normalize_brn(value)


class CompanyPatch(_CompanyFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    ksic: str | None = None
    zone_id: DbId | None = None
    address: str | None = Field(default=None, max_length=300)
    employees: int | None = Field(default=None, ge=0, le=1_000_000)
    footprint: dict[str, Any] | None = None
    active: bool | None = None


class CompanyOut(_Out):
    id: int
    complex_id: DbId
    zone_id: DbId
    brn: str
    name: str
    name_en: str
    ksic: str
    address: str
    employees: int | None
    footprint: dict[str, Any] | None
    active: bool
    created_at: datetime


class SiteIn(BaseModel):
    company_id: DbId
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    footprint: dict[str, Any] | None = None

    _check_footprint = field_validator("footprint")(_polygon)


class SitePatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    footprint: dict[str, Any] | None = None

    _check_footprint = field_validator("footprint")(_polygon)


class SiteOut(_Out):
    id: int
    company_id: DbId
    name: str
    address: str
    lat: float | None
    lon: float | None
    footprint: dict[str, Any] | None


class AssetIn(BaseModel):
    site_id: DbId
    parent_id: DbId | None = None
    level: AssetLevel
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="", max_length=60)


class AssetPatch(BaseModel):
    code: str | None = Field(default=None, min_length=1, max_length=40)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, max_length=60)


class AssetOut(_Out):
    id: int
    company_id: DbId
    site_id: DbId
    parent_id: int | None
    level: str
    code: str
    name: str
    kind: str


class AssetNode(BaseModel):
    """A node of a company's asset tree (sites at the top)."""

    id: str
    label: str
    level: str
    children: list[AssetNode] = Field(default_factory=list)


class DeviceIn(BaseModel):
    site_id: DbId
    machine_id: DbId | None = None
    name: str = Field(min_length=1, max_length=200)
    protocol: Protocol = "mqtt"
    external_id: str = Field(default="", max_length=120)


class DevicePatch(BaseModel):
    machine_id: DbId | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    protocol: Protocol | None = None
    external_id: str | None = Field(default=None, max_length=120)
    enabled: bool | None = None


class DeviceOut(_Out):
    id: int
    company_id: DbId
    site_id: DbId
    machine_id: int | None
    name: str
    protocol: str
    external_id: str
    enabled: bool


class DeviceSecret(BaseModel):
    device_id: DbId
    credential_id: int
    token: str = Field(description="Shown once: the device sends it as a bearer token.")


class TagIn(BaseModel):
    device_id: DbId
    name: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.:/\-]+$")
    quantity: str = Field(default="", max_length=60)
    unit: str = Field(default="", max_length=30)
    data_type: DataType = "float"
    range_min: float | None = None
    range_max: float | None = None
    sampling_ms: int = Field(default=1000, ge=1, le=86_400_000)
    source_address: str = Field(
        default="", max_length=300, description="OPC UA node id; empty means the tag's name."
    )

    @model_validator(mode="after")
    def _range(self) -> TagIn:
        if (
            self.range_min is not None
            and self.range_max is not None
            and self.range_min > self.range_max
        ):
            raise ValueError("range_min must not exceed range_max")
        return self


class TagPatch(BaseModel):
    quantity: str | None = Field(default=None, max_length=60)
    unit: str | None = Field(default=None, max_length=30)
    data_type: DataType | None = None
    range_min: float | None = None
    range_max: float | None = None
    sampling_ms: int | None = Field(default=None, ge=1, le=86_400_000)
    source_address: str | None = Field(default=None, max_length=300)


class TagOut(_Out):
    id: int
    company_id: DbId
    device_id: DbId
    machine_id: int | None
    name: str
    quantity: str
    unit: str
    data_type: str
    range_min: float | None
    range_max: float | None
    sampling_ms: int
    source_address: str


class CountRow(BaseModel):
    key: str
    label: str
    count: int


class Overview(BaseModel):
    """What the complex map shows: zones, counts, and the footprints the caller may see."""

    complex: ComplexOut | None
    zones: list[ZoneOut]
    companies_total: int
    by_zone: list[CountRow]
    by_industry: list[CountRow]
    footprints: list[dict[str, Any]]


class ImportProblem(BaseModel):
    line: int
    field: str
    reason: str
    brn: str = ""


class ImportReportOut(BaseModel):
    run_id: int
    rows_total: int
    companies_created: int
    sites_created: int
    rejected: int
    problems: list[ImportProblem]
    seconds: float


class ImportRunOut(_Out):
    """An import run as kept for inspection, with every rejected line."""

    id: int
    filename: str
    actor: str
    started_at: datetime
    rows_total: int
    companies_created: int
    sites_created: int
    rejected: int
    rejects: list[dict[str, Any]]
