"""Offer previews: a few sample rows shown in the catalogue, computed when an offer is
published from the provider's own data through the same reads a pull uses.

A preview is seen by every company that may see the offer, before any agreement, so it must
never show more than the offer's terms would hand over: only fields that every `use`
permission allows (and no prohibition of use bars), at a resolution every permission allows.
A flat prohibition of use, or a provider who opted out, leaves it empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sandan.core.clock import as_utc, utcnow
from sandan.core.errors import SandanError
from sandan.sharing import policy as odrl
from sandan.sharing.models import Offer
from sandan.sharing.service import data, files
from sandan.sharing.service.offers import PRODUCT_SCHEMAS

PREVIEW_ROWS = 5
_SHAPING = (odrl.Operand.fields, odrl.Operand.resolution)
# how far back a preview looks, by the resolution it is read at
_LOOK_BACK = {0: timedelta(hours=1), 60: timedelta(hours=6), 3600: timedelta(days=2)}
_TICK = timedelta(microseconds=1)  # windows are [start, end): one tick past the newest row


def _holds(
    constraints: tuple[odrl.Constraint, ...], ctx: odrl.AccessContext, *, all_of: bool
) -> bool:
    shaping = [
        c
        for c in constraints
        if c.left in _SHAPING and (all_of or c.operator is not odrl.Operator.is_all_of)
    ]
    return all(odrl.satisfied(c, ctx) for c in shaping)


def allows(policy: odrl.Policy, resolution: int | None, fields: frozenset[str]) -> bool:
    """Whether every `use` permission lets these fields out at this resolution and no
    prohibition of use bars them. A permission's `is_all_of` (fields one must ask for) does
    not narrow a preview; a prohibition's does."""
    ctx = odrl.AccessContext(at=utcnow(), resolution=resolution, fields=fields)
    uses = [p for p in policy.permissions if p.action is odrl.Action.use]
    if not uses or not all(_holds(p.constraints, ctx, all_of=False) for p in uses):
        return False
    for p in policy.prohibitions:
        if p.action is not odrl.Action.use:
            continue
        if not p.constraints:
            return False
        shaping = [c for c in p.constraints if c.left in _SHAPING]
        if shaping and _holds(p.constraints, ctx, all_of=True):
            return False
    return True


def shown_fields(offer: Offer, resolution: int | None) -> frozenset[str]:
    """The offer's fields a preview at this resolution may show (empty: no preview)."""
    policy = odrl.Policy.model_validate(offer.contract_policy)
    names = [f["name"] for f in offer.data_schema]
    fields = frozenset(n for n in names if allows(policy, resolution, frozenset({n})))
    return fields if fields and allows(policy, resolution, fields) else frozenset()


def window(
    offer: Offer, back: timedelta, step: int, plant_tz: str, newest: datetime | None = None
) -> tuple[datetime, datetime]:
    """The latest `back` of the offer's coverage, up to the last whole step (minute, hour or
    day in the plant's zone), so that a preview shows no half-made hour. With `newest` (the
    last reading of a telemetry offer) the window ends there when the data stopped earlier,
    so a device that went quiet still previews its last rows."""
    now = utcnow()
    if newest is not None:
        now = min(now, newest + (timedelta(seconds=step) if step else _TICK))
    local = now.astimezone(ZoneInfo(plant_tz))
    if step >= 86_400:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif step >= 3600:
        local = local.replace(minute=0, second=0, microsecond=0)
    elif step >= 60:
        local = local.replace(second=0, microsecond=0)
    end = local.astimezone(UTC)
    if offer.temporal_end is not None:
        end = min(end, as_utc(offer.temporal_end))
    return _start(offer, end - back), end


def _start(offer: Offer, start: datetime) -> datetime:
    return start if offer.temporal_start is None else max(start, as_utc(offer.temporal_start))


def _newest(source: data.Source, offer: Offer) -> datetime | None:
    """When the offer's tags last reported (None: never, or not a telemetry offer)."""
    if offer.kind != "telemetry":
        return None
    last = source.store.latest([int(t) for t in offer.selection["tag_ids"]]).column("ts")
    return max((as_utc(t) for t in last.to_pylist() if t is not None), default=None)


def _stored(session: Session, source: data.Source, offer: Offer) -> list[dict[str, Any]]:
    if offer.kind == "file":
        resolution = data.resolution_of(offer, None)
        fields = shown_fields(offer, resolution)
        if not fields:
            return []
        req = data.Request(None, None, None, fields, limit=PREVIEW_ROWS)
        return files.deliver(session, source.files_dir, offer, req, None, "json").rows
    if offer.kind == "product":
        resolution = PRODUCT_SCHEMAS[str(offer.selection["product"])][0]
        options = [resolution]
        back = timedelta(days=2 if resolution == 3600 else 8)
    else:
        offered = int(offer.selection.get("resolution", 3600))
        options = [r for r in (0, 60, 3600) if r >= offered]
        back = timedelta(0)
    for resolution in options:
        fields = shown_fields(offer, resolution)
        if fields:
            back = back or _LOOK_BACK[resolution]
            newest = _newest(source, offer)
            start, end = window(offer, back, resolution, source.plant_tz, newest)
            if start >= end:
                return []
            req = data.Request(start, end, resolution, fields)
            rows = data.fetch(session, source.store, offer, req, source.plant_tz)
            return rows[-PREVIEW_ROWS:]
    return []


def preview(session: Session, source: data.Source, offer: Offer) -> list[dict[str, Any]]:
    """A few of the offer's latest rows (a file's first), as its terms would deliver them;
    empty when the provider opted out, the terms allow no preview or there is no data yet."""
    if offer.selection.get("preview") is False:
        return []
    try:
        return _stored(session, source, offer)
    except SandanError:  # e.g. no readings yet: the offer stands without a preview
        return []
