"""API shapes of the hazard register. A CAS number is checked by its check digit here, so a
wrong one is a 422 naming `cas` before any service runs."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from sandan.core.types import DbId
from sandan.safety.register.validators import cas_problem, normalize_cas

Lat = Field(ge=-90, le=90)
Lon = Field(ge=-180, le=180)
Unit = Literal["kg", "t", "L", "m3", "Nm3"]
ShelterKind = Literal["shelter", "assembly_point"]
# GHS pictograms (GHS01-GHS09), hazard statements (H200-H499, EUH...) and UN classes (e.g. 2.3)
_HAZARD_RE = re.compile(r"^(GHS0[1-9]|H[2-4][0-9]{2}[A-Za-z]*|EUH[0-9]{3}|[1-9](\.[0-9])?)$")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _cas(value: str) -> str:
    if problem := cas_problem(value):
        raise ValueError(problem)
    return normalize_cas(value)


def _hazards(values: list[str]) -> list[str]:
    cleaned = [v.strip().upper() for v in values if v.strip()]
    bad = [v for v in cleaned if not _HAZARD_RE.match(v)]
    if bad:
        raise ValueError(f"unknown hazard class {bad[0]} (use GHS02, H314 or a UN class 2.3)")
    return list(dict.fromkeys(cleaned))


class FacilityIn(BaseModel):
    company_id: DbId
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=40, examples=["storage_tank", "gas_cabinet"])
    site_id: DbId | None = None
    lat: float = Lat
    lon: float = Lon


class FacilityPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, min_length=1, max_length=40)
    site_id: DbId | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class FacilityOut(_Out):
    id: int
    company_id: int
    site_id: int | None
    name: str
    kind: str
    lat: float
    lon: float


class MaterialIn(BaseModel):
    facility_id: DbId
    name: str = Field(min_length=1, max_length=200)
    cas: str = Field(min_length=5, max_length=14, examples=["7664-39-3"])
    quantity: float = Field(ge=0, le=1e12)
    unit: Unit = "kg"
    max_quantity: float | None = Field(default=None, ge=0, le=1e12)
    hazard_classes: list[str] = Field(default_factory=list, max_length=20)

    _check_cas = field_validator("cas")(_cas)
    _check_hazards = field_validator("hazard_classes")(_hazards)


class MaterialPatch(BaseModel):
    facility_id: DbId | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    cas: str | None = Field(default=None, min_length=5, max_length=14)
    quantity: float | None = Field(default=None, ge=0, le=1e12)
    unit: Unit | None = None
    max_quantity: float | None = Field(default=None, ge=0, le=1e12)
    hazard_classes: list[str] | None = Field(default=None, max_length=20)

    @field_validator("cas")
    @classmethod
    def _check_cas(cls, value: str | None) -> str | None:
        return None if value is None else _cas(value)

    @field_validator("hazard_classes")
    @classmethod
    def _check_hazards(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _hazards(value)


class MaterialOut(_Out):
    id: int
    company_id: int
    facility_id: int
    name: str
    cas: str
    quantity: float
    unit: str
    max_quantity: float | None
    hazard_classes: list[str]


class EmergencyContactIn(BaseModel):
    company_id: DbId
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="", max_length=100)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^[0-9+()\-\s]+$")
    email: EmailStr | Literal[""] = ""
    call_order: int = Field(default=1, ge=1, le=99)


class EmergencyContactPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[0-9+()\-\s]+$")
    email: EmailStr | Literal[""] | None = None
    call_order: int | None = Field(default=None, ge=1, le=99)


class EmergencyContactOut(_Out):
    id: int
    company_id: int
    name: str
    role: str
    phone: str
    email: str
    call_order: int


class ShelterIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: ShelterKind = "assembly_point"
    lat: float = Lat
    lon: float = Lon
    capacity: int = Field(default=0, ge=0, le=1_000_000)


class ShelterOut(_Out):
    id: int
    name: str
    kind: str
    lat: float
    lon: float
    capacity: int


class RouteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    zone: str = Field(default="", max_length=20)
    points: list[tuple[float, float]] = Field(min_length=2, max_length=500)

    @field_validator("points")
    @classmethod
    def _check_points(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lat, lon in value:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"point [{lat}, {lon}] is not a [latitude, longitude]")
        return value


class RouteOut(_Out):
    id: int
    name: str
    zone: str
    points: list[list[float]]


class HazardRegister(BaseModel):
    """A company's whole register, as its page and the incident view show it."""

    company_id: int
    company_name: str
    facilities: list[FacilityOut]
    materials: list[MaterialOut]
    contacts: list[EmergencyContactOut]


class AffectedCompany(BaseModel):
    """A company with premises within an incident's radius, nearest point first."""

    company_id: int
    company_name: str
    distance_m: float
    nearest: str  # what lies nearest: "site: 1공장", "facility: HF tank", "premises"
    materials: list[MaterialOut]
    contacts: list[EmergencyContactOut]
