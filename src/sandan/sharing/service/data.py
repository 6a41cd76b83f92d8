"""The data plane's reads: an offer's data as its provider sees it, narrowed to the offer's
selection, in rows a consumer can take away (JSON or CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from sandan.analytics import service as analytics
from sandan.analytics.shifts import ShiftPlan
from sandan.core.errors import ValidationFailed
from sandan.sharing.models import Offer
from sandan.sharing.service.offers import PRODUCT_SCHEMAS, provider_view
from sandan.telemetry import service as telemetry
from sandan.telemetry.store import TelemetryStore

HOURLY = ",".join(f"{h:02d}:00" for h in range(24))  # one "shift" per hour of the day
MAX_RAW_ROWS = 200_000


@dataclass(frozen=True)
class Request:
    """What a consumer asks for in one pull."""

    start: datetime
    end: datetime
    resolution: int | None  # seconds; None: the offer's own
    fields: frozenset[str] | None


def resolution_of(offer: Offer, asked: int | None) -> int:
    """The resolution a pull delivers: a product's own, or what the consumer asked of a
    telemetry offer (never finer than the offer)."""
    if offer.kind == "product":
        return PRODUCT_SCHEMAS[offer.selection["product"]][0]
    offered = int(offer.selection.get("resolution", 3600))
    chosen = offered if asked is None else asked
    if chosen not in (0, 60, 3600):
        raise ValidationFailed.one("resolution", "must be 0 (raw), 60 or 3600 seconds")
    if chosen < offered:
        raise ValidationFailed.one(
            "resolution", f"this offer delivers {offered} s or coarser, not {chosen} s"
        )
    return chosen


def field_names(offer: Offer) -> list[str]:
    return [f["name"] for f in offer.data_schema]


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def _narrow(rows: list[dict[str, Any]], fields: frozenset[str] | None) -> list[dict[str, Any]]:
    if fields is None:
        return [{k: _iso(v) for k, v in r.items()} for r in rows]
    return [{k: _iso(v) for k, v in r.items() if k in fields} for r in rows]


def _telemetry(
    session: Session, store: TelemetryStore, offer: Offer, req: Request
) -> list[dict[str, Any]]:
    view = provider_view(offer.company_id)
    tags = [int(t) for t in offer.selection["tag_ids"]]
    if req.resolution == 0:
        rows = telemetry.raw(session, view, store, tags, req.start, req.end, MAX_RAW_ROWS)
        return [{"tag_id": r["tag_id"], "ts": r["ts"], "value": r["value"]} for r in rows]
    resolution: Literal["1m", "1h"] = "1m" if req.resolution == 60 else "1h"
    rows = telemetry.rollups(session, view, store, tags, req.start, req.end, resolution)
    keep = ("tag_id", "ts", "avg", "min", "max", "count", "last")
    return [{k: r[k] for k in keep if k in r} for r in rows]


def _product(
    session: Session, store: TelemetryStore, offer: Offer, req: Request, plant_tz: str
) -> list[dict[str, Any]]:
    product = str(offer.selection["product"])
    line_id = offer.selection.get("line_id")
    hourly = product in ("line_hourly", "energy_profile")
    plan = ShiftPlan.parse(HOURLY if hourly else "00:00", plant_tz)
    report = analytics.oee_report(
        session,
        provider_view(offer.company_id),
        store,
        plan,
        company_id=None if line_id else offer.company_id,
        line_id=line_id,
        start=req.start,
        end=req.end,
        group_by="day_shift" if hourly else "day",
    )
    names = [f["name"] for f in PRODUCT_SCHEMAS[product][1]]
    out: list[dict[str, Any]] = []
    for g in report["groups"]:
        row = {k: g.get(k) for k in names if k in g}
        if hourly:
            hour = datetime.fromisoformat(f"{g['day']}T{g['shift']}").replace(tzinfo=plan.zone)
            row["hour"] = hour
        else:
            row["day"] = str(g["day"])
        out.append({k: row.get(k) for k in names})
    return out


def fetch(
    session: Session, store: TelemetryStore, offer: Offer, req: Request, plant_tz: str
) -> list[dict[str, Any]]:
    """The rows of one pull, only of the requested fields."""
    if req.start >= req.end:
        raise ValidationFailed.one("start", "must be before end")
    if offer.temporal_start and req.start < offer.temporal_start:
        raise ValidationFailed.one("start", "is before the offer's coverage")
    if offer.temporal_end and req.end > offer.temporal_end:
        raise ValidationFailed.one("end", "is after the offer's coverage")
    if req.fields is not None:
        unknown = sorted(req.fields - set(field_names(offer)))
        if unknown:
            raise ValidationFailed.one("fields", f"the offer has no fields {unknown}")
    if offer.kind == "telemetry":
        rows = _telemetry(session, store, offer, req)
    else:
        rows = _product(session, store, offer, req, plant_tz)
    return _narrow(rows, req.fields)
