"""The data plane's reads: an offer's data as its provider sees it, narrowed to the offer's
selection, in rows a consumer can take away (JSON or CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Request:
    """What a consumer asks for in one pull; a file offer needs no window."""

    start: datetime | None
    end: datetime | None
    resolution: int | None  # seconds; None: the offer's own
    fields: frozenset[str] | None
    limit: int | None = None  # rows of the answer, after `offset`
    offset: int = 0


@dataclass(frozen=True)
class Source:
    """Where offers' data is read from: the telemetry store (telemetry and products, in the
    plant's time zone) and the directory of uploaded files."""

    store: TelemetryStore
    plant_tz: str
    files_dir: Path


def resolution_of(offer: Offer, asked: int | None) -> int | None:
    """The resolution a pull delivers: a product's own, what the consumer asked of a
    telemetry offer (never finer than the offer), or a file's finest time step (None when it
    has no time column)."""
    if offer.kind == "file":
        if asked is not None:
            raise ValidationFailed.one("resolution", "a file is delivered as it was uploaded")
        found = offer.selection.get("resolution")
        return None if found is None else int(found)
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
    session: Session, store: TelemetryStore, offer: Offer, req: Request, window: Window
) -> list[dict[str, Any]]:
    view = provider_view(offer.company_id)
    tags = [int(t) for t in offer.selection["tag_ids"]]
    start, end = window
    if req.resolution == 0:
        rows = telemetry.raw(session, view, store, tags, start, end, MAX_RAW_ROWS)
        return [{"tag_id": r["tag_id"], "ts": r["ts"], "value": r["value"]} for r in rows]
    resolution: Literal["1m", "1h"] = "1m" if req.resolution == 60 else "1h"
    rows = telemetry.rollups(session, view, store, tags, start, end, resolution)
    keep = ("avg", "min", "max", "count", "last")  # the store names the time `bucket`
    return [{"tag_id": r["tag_id"], "ts": r["bucket"], **{k: r[k] for k in keep}} for r in rows]


def _product(
    session: Session, store: TelemetryStore, offer: Offer, window: Window, plant_tz: str
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
        start=window[0],
        end=window[1],
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
    """The rows of one pull of a telemetry or product offer, only of the requested fields."""
    if req.start is None or req.end is None:
        raise ValidationFailed.one("start" if req.start is None else "end", "is required")
    window = (req.start, req.end)
    if req.start >= req.end:
        raise ValidationFailed.one("start", "must be before end")
    if offer.temporal_start and req.start < offer.temporal_start:
        raise ValidationFailed.one("start", "is before the offer's coverage")
    if offer.temporal_end and req.end > offer.temporal_end:
        raise ValidationFailed.one("end", "is after the offer's coverage")
    check_fields(offer, req.fields)
    if offer.kind == "telemetry":
        rows = _telemetry(session, store, offer, req, window)
    else:
        rows = _product(session, store, offer, window, plant_tz)
    stop = None if req.limit is None else req.offset + req.limit
    return _narrow(rows[req.offset : stop], req.fields)


def check_fields(offer: Offer, fields: frozenset[str] | None) -> None:
    """Only fields of the offer's schema may be asked for (422 naming the unknown ones)."""
    if fields is not None:
        unknown = sorted(fields - set(field_names(offer)))
        if unknown:
            raise ValidationFailed.one("fields", f"the offer has no fields {unknown}")
