"""HTTP routes of telemetry: batch ingest from devices, latest values, raw readings."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from starlette.datastructures import UploadFile

from sandan.core.errors import NotFound, ValidationFailed
from sandan.core.http import Authenticated, DbSession, RegistryRead, principal_from_request
from sandan.core.pagination import Page, PageParams, paginate
from sandan.core.types import MAX_ID, IdPath, IdQuery
from sandan.telemetry import csv_import, quality, service
from sandan.telemetry.decode import decode_json
from sandan.telemetry.deps import Hub, Store
from sandan.telemetry.live import permission_recheck, stream_readings
from sandan.telemetry.models import DeadLetter
from sandan.telemetry.replay import replay as replay_letter
from sandan.telemetry.retention import raw_retention
from sandan.telemetry.schemas import (
    CsvIngestOut,
    DeadLetterOut,
    GapOut,
    IngestOut,
    QualityOut,
    ReadingOut,
    ReplayOut,
    RollupOut,
)

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
    # Off the event loop: the batch observers (alarms) write rows, and a wait for the SQLite
    # write lock on the loop would stall the request holding it from committing.
    report = await run_in_threadpool(
        service.ingest, session, principal, store, columns, device_id=device_id
    )
    return IngestOut(**report.__dict__)  # counted for /metrics inside the pipeline


@router.get("/latest", response_model=list[ReadingOut])
def latest(
    tag_ids: TagIds, principal: RegistryRead, session: DbSession, store: Store
) -> list[ReadingOut]:
    """The newest reading of each tag you may read."""
    return [ReadingOut(**r) for r in service.latest(session, principal, store, _ids(tag_ids))]


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream(
    tag_ids: TagIds,
    request: Request,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    hub: Hub,
    seconds: Annotated[float, Query(ge=1, le=86_400)] = 3600,
    min_interval: Annotated[float, Query(ge=0.2, le=60)] = 1.0,
) -> StreamingResponse:
    """Server-Sent Events: a `readings` snapshot of the tags you may read, then each newer
    reading as it is committed (at most every `min_interval` s), until `seconds` pass or your
    access ends (`end` says why). A browser's EventSource reconnects by itself."""
    if not service.readable_tags(session, principal, _ids(tag_ids)):
        raise NotFound("none of these tags exists or is yours to read")
    ctx = request.app.state.sandan
    check = permission_recheck(
        ctx.db, lambda s: principal_from_request(ctx, s, request), _ids(tag_ids)
    )
    frames = stream_readings(
        store,
        hub,
        check,
        seconds=seconds,
        min_interval=min_interval,
    )
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


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


@router.get("/series", response_model=list[RollupOut])
def series(
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    points: Annotated[int, Query(ge=10, le=5000)] = 500,
) -> list[RollupOut]:
    """For charts: at most `points` buckets per tag over any window (default: the last day),
    read from the coarsest resolution that suffices; min and max keep spikes visible."""
    start, end = _window(start, end, timedelta(days=1))
    rows = service.series(session, principal, store, _ids(tag_ids), start, end, points)
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


Factor = Annotated[float, Query(ge=1.0, le=1000.0)]
MAX_QUALITY_DAYS = 92


@router.get("/gaps", response_model=list[GapOut])
def gaps(
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    factor: Factor = 3.0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    order: Literal["tag", "newest"] = "tag",
) -> list[GapOut]:
    """Silences longer than `factor` × each tag's sampling interval in [start, end) (default:
    the last day), clipped to the window, by tag then time, or with `order=newest` the latest
    start first (then `limit` keeps the most recent)."""
    start, end = _window(start, end, timedelta(days=1))
    rows = quality.gaps(
        session,
        principal,
        store,
        _ids(tag_ids),
        start,
        end,
        factor=factor,
        limit=limit,
        newest_first=order == "newest",
    )
    return [GapOut(**r) for r in rows]


@router.get("/quality", response_model=list[QualityOut])
def quality_daily(
    tag_ids: TagIds,
    principal: RegistryRead,
    session: DbSession,
    store: Store,
    day: date | None = None,
    start: date | None = None,
    end: date | None = None,
    factor: Factor = 3.0,
) -> list[QualityOut]:
    """The daily data-quality score (0-100) per tag and UTC day: one `day`, or `start` to
    `end` inclusive (at most 92 days); default today, judged up to now."""
    if day is not None and (start is not None or end is not None):
        raise ValidationFailed.one("day", "give a day, or start and end, not both")
    today = datetime.now(UTC).date()
    first, last = (day, day) if day is not None else (start or end or today, end or today)
    if last < first:
        raise ValidationFailed.one("end", "is before start")
    if (last - first).days >= MAX_QUALITY_DAYS:
        raise ValidationFailed.one("end", f"at most {MAX_QUALITY_DAYS} days at a time")
    rows = quality.quality_daily(
        session, principal, store, _ids(tag_ids), first, last, factor=factor
    )
    return [QualityOut(**r) for r in rows]


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


@router.post("/dead-letters/{letter_id}/replay", response_model=ReplayOut)
def replay_dead_letter(
    letter_id: IdPath, request: Request, principal: Authenticated, session: DbSession, store: Store
) -> ReplayOut:
    """Run a dead letter's readings through refining again (after you created the missing
    tag or fixed a range): those that pass now are stored, the rest stay with their reason."""
    retention = raw_retention(request.app.state.sandan.settings)
    report = replay_letter(session, principal, store, letter_id, raw_retention=retention)
    return ReplayOut(**report.__dict__)


MAX_CSV_BODY = 1024 * 1024 * 1024
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


@router.post("/readings.csv", response_model=CsvIngestOut, openapi_extra=CSV_BODY)
async def ingest_csv(
    request: Request,
    principal: Authenticated,
    session: DbSession,
    store: Store,
    device_id: IdQuery = None,
) -> CsvIngestOut:
    """Backfill from CSV with columns `tag` (or `tag_id`), `ts`, `value`: the body as
    `text/csv`, or a multipart `file` (at most 1 GiB; `sandan telemetry import-csv` for more).
    No late-arrival window; bad rows are rejected with their line, the rest stored."""
    retention = raw_retention(request.app.state.sandan.settings)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        await _spool_csv(request, spool)
        report = await run_in_threadpool(
            csv_import.ingest_csv,
            session,
            principal,
            store,
            spool,  # type: ignore[arg-type]
            device_id=device_id,
            raw_retention=retention,
        )
    return CsvIngestOut(**report.__dict__)


async def _spool_csv(request: Request, spool: IO[bytes]) -> None:
    """Copy the upload to a spool file (memory, then disk) without holding it all."""
    size = 0

    def write(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > MAX_CSV_BODY:
            raise ValidationFailed.one("body", f"larger than {MAX_CSV_BODY} bytes; split it")
        spool.write(chunk)

    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed.one("file", "send the CSV as the multipart field `file`")
            while chunk := await upload.read(1 << 20):
                write(chunk)
    else:
        async for chunk in request.stream():
            write(chunk)
    spool.seek(0)


def _window(
    start: datetime | None, end: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    return start or end - default, end


def _ids(tag_ids: list[int]) -> list[int]:
    return [i for i in tag_ids if 1 <= i <= MAX_ID]
