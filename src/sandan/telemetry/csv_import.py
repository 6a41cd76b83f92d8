"""CSV backfill: a file of `tag` (or `tag_id`), `ts`, `value` columns, read with pyarrow.csv
block by block, through the same refine, store and dead-letter path as every other source.

- `ts` is epoch milliseconds or ISO-8601 (without an offset: UTC); `value` a number, `true` or
  `false`; other columns are ignored; a UTF-8 byte-order mark is accepted.
- Backfill is for history: the 7-day late-arrival window does not apply (a reading must still
  be after 1970 and, when raw retention is set, younger than it; never in the future).
- Bad rows are rejected with their **line number** (the header is line 1) and kept in one
  dead letter for the whole file; the valid rest is stored. Blank lines are skipped.
- Work is per block (`BLOCK_SIZE` bytes): parsing, time and value conversion are vectorised
  with Arrow compute; only a block that holds an unreadable time or value is re-read row by
  row to find which rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.core.db import Database
from sandan.core.errors import ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.telemetry import service
from sandan.telemetry.decode import Columns
from sandan.telemetry.refine import Refined, TagTable, refine
from sandan.telemetry.store import QUALITY_NAMES, TelemetryStore

SOURCE = "csv"
BLOCK_SIZE = 4 * 1024 * 1024
EPOCH = datetime(1970, 1, 1)
TIME_REASON = "not epoch milliseconds or an ISO-8601 time"
_NUMERIC = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_MAX_MS = 9.2e15  # |epoch ms| whose microseconds fit in int64

Progress = Callable[[int, int], None]  # (rows read so far, bytes read so far)


@dataclass
class CsvReport(service.IngestReport):
    """An ingest report with the lines read and the quality of the accepted readings."""

    lines: int = 0
    quality: dict[str, int] = field(default_factory=dict)


def backfill_window(now: datetime, raw_retention: timedelta | None = None) -> timedelta:
    """How far back a backfill reaches: to 1970, or to the raw retention when one is set
    (older readings would be deleted at the next retention run)."""
    since_epoch = now.replace(tzinfo=None) - EPOCH
    return since_epoch if raw_retention is None else min(raw_retention, since_epoch)


# --- text columns to typed columns -----------------------------------------------------------


def _py_micros(text: str | None) -> int | None:
    """One time as epoch microseconds (slow path for a block with an unreadable time)."""
    if text is None:
        return None
    text = text.strip()
    try:
        if re.match(_NUMERIC, text):
            ms = float(text)
            return round(ms * 1000) if abs(ms) < _MAX_MS else None
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return (parsed - EPOCH) // timedelta(microseconds=1)


def parse_times(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Strings of epoch milliseconds or ISO-8601 times as timestamp[us] (naive UTC), and a
    mask of the unreadable ones (null in the result)."""
    text = pc.utf8_trim_whitespace(text.cast(pa.string()))
    numeric = pc.fill_null(pc.match_substring_regex(text, _NUMERIC), False)
    try:
        ms = pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())
        in_range = pc.fill_null(pc.less(pc.abs(ms), _MAX_MS), True)
        ms = pc.if_else(in_range, ms, pa.scalar(None, pa.float64()))
        epoch_us = pc.cast(pc.round(pc.multiply(ms, 1000.0)), pa.int64())
        iso = pc.if_else(numeric, pa.scalar(None, pa.string()), text)
        zoned = pc.fill_null(
            pc.match_substring_regex(iso, r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"), False
        )
        iso = pc.if_else(zoned, iso, pc.binary_join_element_wise(iso, "+00:00", ""))
        iso_us = pc.cast(pc.cast(iso, pa.timestamp("us", tz="UTC")), pa.int64())
        micros = pc.if_else(numeric, epoch_us, iso_us)
        return micros.cast(pa.timestamp("us")), pc.is_null(micros).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = [_py_micros(t) for t in text.to_pylist()]
    bad = np.array([v is None for v in values], dtype=bool)
    return pa.array(values, pa.int64()).cast(pa.timestamp("us")), bad


def _py_value(text: str | None) -> tuple[float | None, bool]:
    """(value, readable) of one cell; an empty cell is a missing value, not an unreadable one."""
    if text is None or not text.strip():
        return None, True
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return float(lowered == "true"), True
    try:
        return float(lowered), True
    except ValueError:
        return None, False


def parse_values(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Strings of numbers (or true/false) as float64, and a mask of the unreadable ones."""
    text = pc.utf8_trim_whitespace(text.cast(pa.string()))
    lowered = pc.utf8_lower(text)
    empty = pc.equal(text, "")
    cleaned = pc.if_else(empty, pa.scalar(None, pa.string()), lowered)
    cleaned = pc.replace_substring_regex(cleaned, "^true$", "1")
    cleaned = pc.replace_substring_regex(cleaned, "^false$", "0")
    try:
        return pc.cast(cleaned, pa.float64()), np.zeros(len(text), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parsed = [_py_value(t) for t in text.to_pylist()]
    bad = np.array([not ok for _, ok in parsed], dtype=bool)
    return pa.array([v for v, _ in parsed], pa.float64()), bad


def parse_tag_ids(text: pa.Array) -> pa.Array:
    """Strings of tag ids as int32; anything else is null (refine rejects it as not a tag)."""
    text = pc.utf8_trim_whitespace(text.cast(pa.string()))
    digits = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]{1,9}$"), False)
    return pc.cast(pc.if_else(digits, text, pa.scalar(None, pa.string())), pa.int32())


def text_columns(
    key: str, tags: pa.Array, ts: pa.Array, value: pa.Array
) -> tuple[Columns, list[tuple[int, str, str]]]:
    """Decoded Columns of text cells (CSV, or dead-letter readings being replayed)."""
    times, bad_ts = parse_times(ts)
    values, bad_value = parse_values(value)
    problems = [(int(i), "ts", TIME_REASON) for i in np.flatnonzero(bad_ts)]
    problems += [(int(i), "value", "not a number") for i in np.flatnonzero(bad_value & ~bad_ts)]
    if pa.types.is_integer(tags.type):
        tag_column = tags.cast(pa.int32())
    else:
        tag_column = parse_tag_ids(tags) if key == "tag_id" else tags.cast(pa.string())
    columns = Columns(tags=tag_column, ts=times, value=values, problems=problems)
    return columns, problems


# --- reading a file --------------------------------------------------------------------------


def _header(stream: BinaryIO) -> tuple[str, list[str]]:
    """The tag key and the columns to read, from the first line (the stream is rewound)."""
    start = stream.tell()
    first = stream.readline(1 << 16)
    stream.seek(start)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.one("file", "must be UTF-8 CSV") from None
    raw = next(csv.reader(io.StringIO(text)), [])
    names = {n.strip(): n for n in reversed(raw)}  # stripped -> as written (first one wins)
    key = "tag" if "tag" in names else "tag_id"
    if key not in names or "ts" not in names or "value" not in names:
        raise ValidationFailed.one(
            "file", "the header line must name the columns ts, value and tag (or tag_id)"
        )
    return key, [names[key], names["ts"], names["value"]]


@dataclass
class CsvRun:
    """The state of one file's import: counts, the first rejected rows, reasons, quality."""

    table: TagTable
    now: datetime
    window: timedelta
    report: CsvReport = field(
        default_factory=lambda: CsvReport(received=0, stored=0, duplicates=0, rejected=0)
    )
    kept: list[dict[str, Any]] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    quality: Counter[str] = field(default_factory=Counter)
    skipped_lines: list[int] = field(default_factory=list)  # physical lines of invalid rows
    rows_read: int = 0

    def _reject(self, line: int | None, field_name: str, reason: str, reading: Any) -> None:
        self.report.rejected += 1
        self.reasons[f"{field_name}: {reason}"] += 1
        if len(self.kept) < service.MAX_DEAD_ROWS:
            self.kept.append(
                {"line": line, "field": field_name, "reason": reason, "reading": reading}
            )

    def _invalid_row(self, row: pcsv.InvalidRow) -> str:
        self.skipped_lines.append(row.number)
        self.report.received += 1
        self._reject(
            row.number,
            "row",
            f"expected {row.expected_columns} columns, found {row.actual_columns}",
            {"text": row.text[:200]},
        )
        return "skip"

    def _lines(self, count: int) -> np.ndarray:
        """Physical line numbers of the next `count` parsed rows (header = line 1)."""
        lines = np.arange(count, dtype=np.int64) + self.rows_read + 2
        for skipped in sorted(s for s in self.skipped_lines if s is not None):
            lines += lines >= skipped
        self.rows_read += count
        return lines

    def refined_batches(
        self, stream: BinaryIO, progress: Progress | None = None
    ) -> Iterator[Refined]:
        """Read, convert and refine the stream block by block; the caller stores each batch
        (in its own transaction or not) and reports what was stored with `stored`."""
        key, columns = _header(stream)
        try:
            reader = pcsv.open_csv(  # reads the first block
                stream,
                read_options=pcsv.ReadOptions(use_threads=False, block_size=BLOCK_SIZE),
                parse_options=pcsv.ParseOptions(
                    ignore_empty_lines=False, invalid_row_handler=self._invalid_row
                ),
                convert_options=pcsv.ConvertOptions(
                    include_columns=columns,
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
            raise ValidationFailed.one("file", f"not readable as CSV: {exc}") from None
        while True:
            try:
                block = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:  # e.g. bytes that are not UTF-8: stop here
                self.report.received += 1
                self._reject(None, "file", f"could not read the rest of the file: {exc}", None)
                break
            refined = self._refine(key, block)
            if refined is not None:
                yield refined
            if progress is not None:
                progress(self.report.received, stream.tell())

    def _refine(self, key: str, block: pa.RecordBatch) -> Refined | None:
        lines = self._lines(block.num_rows)
        tags, ts, value = (block.column(i) for i in range(3))
        blank = (
            pc.equal(tags, "").to_numpy(zero_copy_only=False)
            & pc.equal(ts, "").to_numpy(zero_copy_only=False)
            & pc.equal(value, "").to_numpy(zero_copy_only=False)
        )
        self.report.lines = int(lines[-1]) if len(lines) else self.report.lines
        if blank.any():
            keep = pa.array(~blank)
            tags, ts, value = (c.filter(keep) for c in (tags, ts, value))
            lines = lines[~blank]
        if len(lines) == 0:
            return None
        columns, _ = text_columns(key, tags, ts, value)
        refined = refine(columns, self.table, now=self.now, late_window=self.window)
        self.report.received += len(lines)
        if refined.rejects:
            raw = {key: tags, "ts": ts, "value": value}
            for index, field_name, reason in refined.rejects:
                reading = {name: col[index].as_py() for name, col in raw.items()}
                self._reject(int(lines[index]), field_name, reason, reading)
        codes = refined.batch.column("quality").to_numpy()
        for code, n in zip(*np.unique(codes, return_counts=True), strict=True):
            self.quality[QUALITY_NAMES[int(code)]] += int(n)
        return refined

    def stored(self, refined: Refined, stored: int) -> None:
        """Count what the store kept of a batch."""
        self.report.stored += stored
        self.report.duplicates += refined.batch.num_rows - stored + refined.in_batch_duplicates

    def finish(self, session: Session, company_id: int, device_id: int) -> CsvReport:
        """Keep the rejects as one dead letter and return the report."""
        report = self.report
        report.quality = {name: self.quality.get(name, 0) for name in QUALITY_NAMES.values()}
        self.kept.sort(key=lambda row: row["line"] or 1 << 62)  # invalid rows came first
        if report.rejected:
            letter = service.keep_rejects(
                session,
                SOURCE,
                company_id,
                device_id,
                self.kept,
                total=report.rejected,
                reasons=dict(self.reasons),
            )
            report.dead_letter_id = letter.id
            report.rejects = self.kept[: service.SHOWN_REJECTS]
        return report


def _store(session: Session, store: TelemetryStore, run: CsvRun, refined: Refined) -> None:
    stored = service.store_batch(
        session,
        store,
        refined.batch,
        source=SOURCE,
        in_batch_duplicates=refined.in_batch_duplicates,
    )
    run.stored(refined, stored)


def ingest_csv(
    session: Session,
    principal: Principal,
    store: TelemetryStore,
    stream: BinaryIO,
    *,
    device_id: int | None,
    raw_retention: timedelta | None = None,
    now: datetime | None = None,
) -> CsvReport:
    """An uploaded CSV in one unit of work (HTTP): who may send is decided as for JSON."""
    device, tags = registry.ingest_tags(session, principal, device_id)
    at = now or utcnow()
    run = CsvRun(service.tag_table(tags), at, backfill_window(at, raw_retention))
    for refined in run.refined_batches(stream):
        _store(session, store, run, refined)
    return run.finish(session, device.company_id, device.id)


def import_csv_file(
    db: Database,
    store: TelemetryStore,
    path: Path,
    *,
    device_id: int,
    principal: Principal,
    raw_retention: timedelta | None = None,
    progress: Progress | None = None,
) -> CsvReport:
    """A CSV file from the operator's disk (the CLI): each block is stored and committed on
    its own, so a long backfill holds no transaction open and an interrupted one keeps what
    it stored (re-running it stores the rest; stored readings count as duplicates)."""
    with db.unit(principal) as session:
        device, tags = registry.ingest_tags(session, principal, device_id)
    at = utcnow()
    run = CsvRun(service.tag_table(tags), at, backfill_window(at, raw_retention))
    with path.open("rb") as stream:
        for refined in run.refined_batches(stream, progress):
            with db.unit(principal) as session:
                _store(session, store, run, refined)
    with db.unit(principal) as session:
        return run.finish(session, device.company_id, device.id)
