"""HTTP routes of telemetry: batch ingest from devices, latest values, raw readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse

from sandan.core.http import Authenticated, DbSession, RegistryRead
from sandan.core.pagination import Page, PageParams, paginate
from sandan.core.types import MAX_ID, IdQuery
from sandan.telemetry import service
from sandan.telemetry.decode import decode_json
from sandan.telemetry.deps import Store
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.schemas import DeadLetterOut, IngestOut, ReadingOut, RollupOut

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])
TagIds = Annotated[list[int], Query(alias="tag_id", min_length=1, max_length=1000)]
MAX_BODY = 64 * 1024 * 1024


@router.post("/readings", response_model=IngestOut)
async def ingest_readings(
    request: Request,
    principal: Authenticated,
    session: DbSession,
    store: Store,
    device_id: IdQuery = None,
) -> IngestOut:
    """Send a batch of readings (device key, or a user with telemetry:write and `device_id`).

    Columnar `{"tag": [...], "ts": [...], "value": [...]}` or `{"readings": [{tag, ts, value}]}`.
    Valid readings are stored even when others are rejected; rejects are kept as a dead letter.
    """
    body = await request.body()
    if len(body) > MAX_BODY:
        from sandan.core.errors import ValidationFailed

        raise ValidationFailed.one("body", f"larger than {MAX_BODY} bytes; split the batch")
    columns = decode_json(body)
    report = service.ingest(session, principal, store, columns, device_id=device_id)
    metrics = request.app.state.sandan.metrics
    metrics.readings.labels("stored").inc(report.stored)
    metrics.readings.labels("duplicate").inc(report.duplicates)
    metrics.readings.labels("rejected").inc(report.rejected)
    return IngestOut(**report.__dict__)


@router.get("/latest", response_model=list[ReadingOut])
def latest(
    tag_ids: TagIds, principal: RegistryRead, session: DbSession, store: Store
) -> list[ReadingOut]:
    """The newest reading of each tag you may read."""
    return [ReadingOut(**r) for r in service.latest(session, principal, store, _ids(tag_ids))]


@router.get("/raw", response_model=list[ReadingOut])
def raw(
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[ReadingOut]:
    """Readings in [start, end) (default: the last hour), oldest first."""
    start, end = _window(start, end, timedelta(hours=1))
    rows = service.raw(session, principal, store, _ids(tag_ids), start, end, limit)
    return [ReadingOut(**r) for r in rows]


@router.get("/rollups", response_model=list[RollupOut])
def rollups(
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    resolution: Literal["1m", "1h"] = "1m",
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[RollupOut]:
    """Min, max, average, count and last value per minute or hour (default: the last day)."""
    start, end = _window(start, end, timedelta(days=1))
    rows = service.rollups(session, principal, store, _ids(tag_ids), start, end, resolution)
    return [RollupOut(**r) for r in rows]


@router.get("/export.parquet", response_class=FileResponse)
def export_parquet(
    request: Request,
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    background: BackgroundTasks,
    resolution: Literal["raw", "1m", "1h"] = "raw",
    start: datetime | None = None,
    end: datetime | None = None,
) -> FileResponse:
    """Download a selection as Parquet (columns as in /raw or /rollups)."""
    start, end = _window(start, end, timedelta(days=1))
    directory = request.app.state.sandan.settings.data_dir / "exports"
    path, _ = service.export_parquet(
        session, principal, store, _ids(tag_ids), start, end, resolution, directory
    )
    background.add_task(path.unlink, missing_ok=True)
    return FileResponse(
        path, media_type="application/vnd.apache.parquet", filename=f"sandan-{resolution}.parquet"
    )


@router.get("/dead-letters", response_model=Page[DeadLetterOut])
def dead_letters(
    principal: RegistryRead,
    session: DbSession,
    page: Annotated[PageParams, Depends()],
    device_id: IdQuery = None,
) -> Page[DeadLetterOut]:
    """Rejected readings with their reasons, newest first, for your company's devices."""
    stmt = service.dead_letters_readable(principal).order_by(DeadLetter.id.desc())
    if device_id is not None:
        stmt = stmt.where(DeadLetter.device_id == device_id)
    rows, total = paginate(session, stmt, page)
    return Page[DeadLetterOut](
        items=[DeadLetterOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


def _window(
    start: datetime | None, end: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    return start or end - default, end


def _ids(tag_ids: list[int]) -> list[int]:
    return [i for i in tag_ids if 1 <= i <= MAX_ID]
