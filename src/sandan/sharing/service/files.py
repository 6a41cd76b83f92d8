"""Uploaded file offers on the data plane: a CSV or Parquet upload checked and read with
PyArrow, kept as Parquet under the data directory (content-addressed per company), and read
back column by column for a governed pull: only the asked fields, an optional time window,
limit and offset, as JSON rows, CSV or Parquet.

The file row (`OfferFile`) keeps the name as uploaded and, as its content, a small JSON
manifest (stored path, sha256, rows, bytes, schema); the table predates the on-disk store,
so no migration was needed."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from sandan.core.clock import as_utc
from sandan.core.errors import NotFound, ValidationFailed
from sandan.settings import Settings
from sandan.sharing.models import Offer, OfferFile
from sandan.sharing.service.data import Request, Source, check_fields
from sandan.telemetry.store import TelemetryStore

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # 50 MB as uploaded
MAX_COLUMNS = 500
JSON_PAGE = 10_000  # rows of a JSON pull that names no limit
UTC_US = pa.timestamp("us", tz="UTC")


def bad(reason: str) -> ValidationFailed:
    return ValidationFailed.one("file", reason)


def files_dir(data_dir: Path) -> Path:
    """Where uploaded offers' Parquet files live: `<data_dir>/sharing/files/<company>/`."""
    return data_dir / "sharing" / "files"


def source(settings: Settings, store: TelemetryStore) -> Source:
    """Where this platform reads offers' data from."""
    return Source(store, settings.plant_timezone, files_dir(settings.data_dir))


@dataclass(frozen=True)
class Parsed:
    """An upload read into Arrow, its types normalised for storing and serving."""

    table: pa.Table
    format: str  # csv | parquet
    time_column: str | None


def _csv_text(content: bytes) -> bytes:
    """UTF-8 for Arrow: UTF-8 (with or without BOM) as is, else Korean Excel's CP949."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return content.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            continue
    raise bad("is not text in UTF-8 or CP949 (EUC-KR), so not a CSV file")


def _read(filename: str, content: bytes) -> tuple[pa.Table, str]:
    suffix = PurePosixPath(filename.lower()).suffix
    magic = content[:4] == b"PAR1" and content[-4:] == b"PAR1"
    if magic or suffix in (".parquet", ".pq"):
        if not magic:
            raise bad("is not a Parquet file (no PAR1 magic bytes)")
        try:
            return pq.read_table(io.BytesIO(content)), "parquet"
        except (pa.ArrowException, OSError) as exc:
            raise bad(f"is an unreadable Parquet file: {exc}") from None
    if suffix not in ("", ".csv", ".txt") or b"\x00" in content[:65_536]:
        raise bad("only CSV or Parquet files can be offered")
    try:
        return pa_csv.read_csv(io.BytesIO(_csv_text(content))), "csv"
    except (pa.ArrowException, OSError) as exc:
        raise bad(f"is an unreadable CSV file: {exc}") from None


def _column(name: str, col: pa.ChunkedArray, plant_tz: str) -> pa.ChunkedArray:
    """One column in a type the data plane serves; nested and binary types are refused."""
    kind = col.type
    if pa.types.is_dictionary(kind):
        col, kind = col.cast(kind.value_type), kind.value_type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:  # local plant time, as factories write it
            col = pc.assume_timezone(col, timezone=plant_tz, ambiguous="earliest")
        return col.cast(UTC_US)
    if pa.types.is_date64(kind):
        return col.cast(pa.date32())
    if pa.types.is_decimal(kind):
        return col.cast(pa.float64())
    if pa.types.is_large_string(kind):
        return col.cast(pa.string())
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_date32(kind)
        or pa.types.is_null(kind)
    ):
        return col
    raise bad(
        f"column {name!r} has type {kind}; only numbers, text, booleans, dates and "
        "timestamps can be offered"
    )


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{n // mb} MB" if n >= mb else f"{n} bytes"


def parse(filename: str, content: bytes, plant_tz: str) -> Parsed:
    """Check and read an upload: CSV or Parquet, readable, not empty, not too large, named
    columns; times without a zone are taken as the plant's local time."""
    if not content:
        raise bad("is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise bad(f"is larger than {_size(MAX_UPLOAD_BYTES)}")
    table, fmt = _read(filename, content)
    names = table.column_names
    if table.num_columns == 0 or table.num_rows == 0:
        raise bad("has no rows" if table.num_columns else "has no columns")
    if table.num_columns > MAX_COLUMNS:
        raise bad(f"has {table.num_columns} columns; at most {MAX_COLUMNS}")
    blank = [i + 1 for i, n in enumerate(names) if not n.strip() or len(n) > 100]
    if blank:
        raise bad(f"columns {blank} need a name of 1 to 100 characters")
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise bad(f"has columns named more than once: {twice}")
    cols = [_column(n, table.column(n), plant_tz) for n in names]
    table = pa.table(cols, names=names)
    times = [n for n in names if pa.types.is_timestamp(table.schema.field(n).type)]
    dates = [n for n in names if pa.types.is_date32(table.schema.field(n).type)]
    return Parsed(table, fmt, (times or dates or [None])[0])


TYPE_NAMES = (
    (pa.types.is_integer, "int"),
    (pa.types.is_floating, "float"),
    (pa.types.is_boolean, "bool"),
    (pa.types.is_timestamp, "datetime"),
    (pa.types.is_date32, "date"),
    (pa.types.is_string, "string"),
)


def schema_of(table: pa.Table) -> list[dict[str, str]]:
    """The offer's schema in the catalogue's words, with the Arrow type for the precise."""
    out = []
    for f in table.schema:
        word = next((w for test, w in TYPE_NAMES if test(f.type)), "null")
        out.append({"name": f.name, "type": word, "arrow": str(f.type)})
    return out


def moments(table: pa.Table, column: str, plant_tz: str) -> pa.ChunkedArray:
    """A time column as UTC instants; a date is its midnight in the plant's zone."""
    col = table.column(column)
    if pa.types.is_date32(col.type):
        local = col.cast(pa.timestamp("us"))
        return pc.assume_timezone(local, timezone=plant_tz).cast(UTC_US)
    return col


@dataclass(frozen=True)
class Coverage:
    start: datetime | None
    end: datetime | None
    resolution: int | None  # the finest step between distinct times, in seconds


def coverage(parsed: Parsed, plant_tz: str) -> Coverage:
    """The file's temporal coverage and finest time step, from its time column."""
    if parsed.time_column is None:
        return Coverage(None, None, None)
    times = moments(parsed.table, parsed.time_column, plant_tz)
    distinct = np.sort(pc.unique(times.drop_null()).cast(pa.int64()).to_numpy())
    if len(distinct) == 0:
        return Coverage(None, None, None)
    steps = distinct[1:] - distinct[:-1]
    step = int(steps.min() // 1_000_000) if len(steps) else None
    low, high = pc.min_max(times).values()
    return Coverage(low.as_py(), high.as_py(), step if step else None)


def store(directory: Path, company_id: int, table: pa.Table, digest: str) -> tuple[str, int]:
    """Write the table as Parquet at `<company>/<sha256>.parquet` (atomically), returning the
    path relative to the files directory and the stored size."""
    relative = f"{company_id}/{digest}.parquet"
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, target)
    return relative, target.stat().st_size


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def manifest(row: OfferFile) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(row.content)
    return found


def keep(session: Session, offer: Offer, filename: str, record: dict[str, Any]) -> None:
    """Record the stored file of an offer, replacing an earlier upload's record."""
    row = session.get(OfferFile, offer.id)
    content = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    if row is None:
        session.add(OfferFile(offer_id=offer.id, filename=filename[:200], content=content))
    else:
        row.filename, row.content = filename[:200], content


def json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as plain JSON values, converted a column at a time: UTC times with Z, dates as
    text, NaN and infinities as null (JSON has no form for them)."""
    cols = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            whole = pc.all(pc.equal(pc.subsecond(col), 0)).as_py() is not False
            shown = col.cast(pa.timestamp("s", tz="UTC")) if whole else col
            col = pc.strftime(shown, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_date32(col.type):
            col = col.cast(pa.string())
        elif pa.types.is_floating(col.type):
            finite = pc.is_finite(col)
            col = pc.if_else(finite, col, pa.scalar(None, col.type))
        cols.append(col)
    rows: list[dict[str, Any]] = pa.table(cols, names=table.column_names).to_pylist()
    return rows


@dataclass(frozen=True)
class Delivered:
    """What a pull of a file offer hands over: JSON rows or the encoded download."""

    rows: list[dict[str, Any]]
    count: int  # rows delivered, in whichever format
    payload: bytes | None  # CSV or Parquet bytes; None for JSON
    nbytes: int
    truncated: bool  # cut at the rows the agreement still allows
    next_offset: int | None  # more rows match: ask again from here


def _path(session: Session, directory: Path, offer: Offer) -> Path:
    row = session.get(OfferFile, offer.id)
    path = directory / str(manifest(row)["path"]) if row is not None else None
    if path is None or not path.is_file():
        raise NotFound(f"the file of offer {offer.id} is not on this server")
    return path


def _window(table: pa.Table, offer: Offer, req: Request) -> pa.Table:
    column = offer.selection.get("time_column")
    if column is None:
        raise ValidationFailed.one("start", "this file has no time column to filter on")
    tz = str(offer.selection.get("time_zone", "UTC"))
    times = moments(table, column, tz)
    keep_rows = pc.is_valid(times)
    if req.start is not None:
        keep_rows = pc.and_(
            keep_rows, pc.greater_equal(times, pa.scalar(as_utc(req.start), UTC_US))
        )
    if req.end is not None:
        keep_rows = pc.and_(keep_rows, pc.less(times, pa.scalar(as_utc(req.end), UTC_US)))
    return table.filter(keep_rows)


def deliver(
    session: Session, directory: Path, offer: Offer, req: Request, cap: int | None, fmt: str
) -> Delivered:
    """Read only what one pull may take: the asked columns, the window, the page, at most
    `cap` rows (the agreement's remaining rows), encoded as asked."""
    check_fields(offer, req.fields)
    if req.start is not None and req.end is not None and req.start >= req.end:
        raise ValidationFailed.one("start", "must be before end")
    names = [f["name"] for f in offer.data_schema]
    wanted = [n for n in names if req.fields is None or n in req.fields]
    windowed = req.start is not None or req.end is not None
    time_column = offer.selection.get("time_column")
    read = [*wanted, time_column] if windowed and time_column not in wanted else wanted
    table = pq.read_table(_path(session, directory, offer), columns=[c for c in read if c])
    if windowed:
        table = _window(table, offer, req)
    table = table.select(wanted)
    total = table.num_rows
    limit = req.limit if req.limit is not None else (JSON_PAGE if fmt == "json" else None)
    table = table.slice(req.offset, limit)
    truncated = cap is not None and table.num_rows > cap
    if truncated:
        table = table.slice(0, cap)
    after = req.offset + table.num_rows
    more = after if after < total and not truncated else None
    if fmt == "json":
        rows = json_rows(table)
        return Delivered(rows, len(rows), None, len(orjson.dumps(rows)), truncated, more)
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink, compression="zstd")
    else:
        pa_csv.write_csv(table, sink)
    payload = sink.getvalue()
    return Delivered([], table.num_rows, payload, len(payload), truncated, more)
