"""Backfill a CSV file into a running Sandan over HTTP (`POST /api/v1/telemetry/readings.csv`),
in chunks of whole lines, each sent with the header: a file of any size reaches a remote
server (which takes at most 1 GiB a request), and the store's (tag, ts) key makes sending the
file again after a failure safe (what was stored is counted as duplicates)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from sandan.telemetry.csv_import import CsvReport

CHUNK_BYTES = 16 * 1024 * 1024
TIMEOUT_S = 300.0


class UploadFailed(Exception):
    """The server refused a chunk: its status and error, and the report of the chunks before
    it (they are stored)."""

    def __init__(self, status: int, error: str, done: CsvReport) -> None:
        super().__init__(f"HTTP {status}: {error}")
        self.status = status
        self.error = error
        self.done = done


def chunks(path: Path, size: int) -> Iterator[tuple[bytes, int, int]]:
    """(the header and whole lines of about `size` bytes, the file line of the chunk's first
    data line, bytes of the file read so far)."""
    with path.open("rb") as file:
        header = file.readline()
        read, line = len(header), 2
        while True:
            body = file.read(size)
            if not body:
                return
            if not body.endswith(b"\n"):
                body += file.readline()  # finish the line the chunk cut
            read += len(body)
            yield header + body, line, read
            line += body.count(b"\n")


def _merge(total: CsvReport, part: dict[str, Any], first_line: int) -> None:
    """Add a chunk's answer to the total, its reject lines made file lines (the chunk's header
    is its line 1, its first data line the file's `first_line`)."""
    for key in ("received", "stored", "duplicates", "rejected", "lines"):
        setattr(total, key, getattr(total, key) + int(part.get(key) or 0))
    for name, n in (part.get("quality") or {}).items():
        total.quality[name] = total.quality.get(name, 0) + int(n)
    for reject in part.get("rejects") or []:
        if isinstance(reject.get("line"), int):
            reject = {**reject, "line": reject["line"] - 2 + first_line}
        total.rejects.append(reject)
    total.dead_letter_id = part.get("dead_letter_id") or total.dead_letter_id


def upload_csv(
    path: Path,
    base_url: str,
    token: str,
    device_id: int,
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    transport: httpx.BaseTransport | None = None,
) -> CsvReport:
    """Send `path` chunk by chunk as the user or device of `token`; `progress(rows, bytes)`
    after each. Raises UploadFailed on the first refused chunk."""
    total = CsvReport(received=0, stored=0, duplicates=0, rejected=0)
    url = base_url.rstrip("/") + "/api/v1/telemetry/readings.csv"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    with httpx.Client(timeout=TIMEOUT_S, transport=transport) as client:
        for body, first_line, read in chunks(path, chunk_bytes):
            answer = client.post(
                url, params={"device_id": device_id}, content=body, headers=headers
            )
            if answer.status_code >= 400:
                try:
                    error = answer.json()
                    text = f"{error.get('error', '')}: {error.get('detail', answer.text)}"
                except ValueError:
                    text = answer.text[:500]
                raise UploadFailed(answer.status_code, text, total)
            _merge(total, answer.json(), first_line)
            if progress:
                progress(total.received, read)
    return total
