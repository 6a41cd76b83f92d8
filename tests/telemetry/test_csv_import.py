"""CSV backfill: over HTTP (text/csv body or multipart file) and with `sandan telemetry
import-csv` straight into the store; bad rows come back with line, field and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import World
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry import csv_import, csv_upload
from sandan.telemetry.factory import make_store


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) - delta).isoformat()


def _backfill_csv() -> tuple[str, dict[int, tuple[str, str]]]:
    """Good rows a year old, and one row of every kind of trouble: line -> (field, reason)."""
    year = timedelta(days=365)
    lines = [
        "tag,ts,value,comment",
        f"spindle_speed,{_iso(year)},4200,ok",
        f"spindle_speed,{int((datetime.now(UTC) - year).timestamp() * 1000) + 1000},4210,ok",
        "spindle_speed,last tuesday,4220,bad time",
        f"feed_rate,{_iso(year - timedelta(seconds=2))},3,unknown tag",
        f"spindle_speed,{_iso(year - timedelta(seconds=3))},90000,out of range",
        "",
        f"spindle_speed,{_iso(year - timedelta(seconds=4))},1e999,not finite",
        f"spindle_speed,{_iso(year - timedelta(seconds=5))},fast,not a number",
        f"spindle_speed,{_iso(-timedelta(days=1))},4230,in the future",
        "spindle_speed,2026-01-01T00:00:00Z,1,too,many,cells",
        f'spindle_speed,"{_iso(year - timedelta(seconds=6))}", 4240 ,quoted and padded',
    ]
    expected = {
        4: ("ts", "not epoch milliseconds or an ISO-8601 time"),
        5: ("tag", "not a tag of this device"),
        8: ("value", "not a finite number"),
        9: ("value", "not a number"),
        10: ("ts", "in the future"),
        11: ("row", "expected 4 columns, found 6"),
    }
    return "\n".join(lines) + "\n", expected


def test_csv_upload_stores_the_good_rows_and_names_each_reject(
    client: TestClient, world: World
) -> None:
    text, expected = _backfill_csv()
    r = client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": world.devices["A"]},
        headers={**world.headers("admin_a"), "Content-Type": "text/csv"},
        content=text.encode(),
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["received"], out["stored"], out["rejected"]) == (10, 4, 6)
    assert {x["line"]: (x["field"], x["reason"]) for x in out["rejects"]} == expected
    assert out["quality"] == {"good": 3, "suspect": 0, "bad": 1}  # 90,000 rpm: stored as BAD
    assert out["lines"] == 12
    tag = world.tags["A"]
    raw = client.get(
        "/api/v1/telemetry/raw",
        params={"tag_id": tag, "start": _iso(timedelta(days=366)), "end": _iso(timedelta(0))},
        headers=world.headers("member_a"),
    ).json()
    assert [(p["value"], p["quality"]) for p in raw] == [
        (4200.0, 0),
        (4210.0, 0),
        (90000.0, 2),
        (4240.0, 0),
    ]
    letters = client.get("/api/v1/telemetry/dead-letters", headers=world.headers("admin_a"))
    letter = letters.json()["items"][0]
    assert letter["id"] == out["dead_letter_id"] and letter["source"] == "csv"
    assert letter["count"] == 6 and letter["reasons"]["tag: not a tag of this device"] == 1
    assert letter["rows"][1]["reading"] == {
        "tag": "feed_rate",
        "ts": text.splitlines()[4].split(",")[1],
        "value": "3",
    }
    again = client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": world.devices["A"]},
        headers={**world.headers("admin_a"), "Content-Type": "text/csv"},
        content=text.encode(),
    ).json()
    assert again["stored"] == 0 and again["duplicates"] == 4  # re-sending a file is safe


def test_csv_as_a_multipart_file_with_tag_ids_and_epoch_millis(
    client: TestClient, world: World
) -> None:
    base = int((datetime.now(UTC) - timedelta(days=30)).timestamp() * 1000)
    rows = [f"{world.tags['A']},{base + i * 1000},{i}" for i in range(1000)]
    rows.append(f"{world.tags['B']},{base},1")  # company B's tag: not this device's
    text = "\ufefftag_id,ts,value\n" + "\n".join(rows)  # BOM, no newline at the end
    r = client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": world.devices["A"]},
        headers=world.headers("operator"),
        files={"file": ("history.csv", text.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] == 1000 and out["rejected"] == 1
    assert out["rejects"][0]["line"] == 1002 and out["rejects"][0]["field"] == "tag"


def test_csv_without_the_columns_is_refused(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": world.devices["A"]},
        headers={**world.headers("admin_a"), "Content-Type": "text/csv"},
        content=b"name,time,reading\nx,1,2\n",
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "file"
    multipart = client.post(
        "/api/v1/telemetry/readings.csv",
        params={"device_id": world.devices["A"]},
        headers=world.headers("admin_a"),
        files={"other": ("x.csv", b"tag,ts,value\n", "text/csv")},
    )
    assert multipart.status_code == 422 and multipart.json()["fields"][0]["field"] == "file"


def _env(settings: Settings) -> dict[str, str]:
    env = {"SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    return env


def test_cli_backfills_a_large_file_block_by_block(
    settings: Settings,
    ctx: Context,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(csv_import, "BLOCK_SIZE", 64 * 1024)  # many blocks, same code path
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    lines = ["tag,ts,value"]
    for i in range(20_000):
        ts = (start + timedelta(minutes=i)).isoformat()
        lines.append(f"spindle_speed,{ts},{i % 12000}" if i != 15_000 else f"nope,{ts},1")
    path = tmp_path / "years.csv"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        cli,
        ["telemetry", "import-csv", str(path), "--device", str(world.devices["A"])],
        env=_env(settings),
    )
    assert result.exit_code == 0, result.output
    assert "20,000 rows" in result.output  # the progress bar
    assert "19999 readings stored" in result.output
    assert "1 of 20000 rows rejected" in result.output
    assert "15002" in result.output  # the bad row's line: header + 15,000 rows before it
    store = make_store(settings)
    try:
        raw = store.raw([world.tags["A"]], start - timedelta(1), datetime.now(UTC), 100_000)
        assert raw.num_rows == 19_999
        assert raw.column("value")[-1].as_py() == float(19_999 % 12000)
    finally:
        store.close()
    missing = CliRunner().invoke(
        cli,
        ["telemetry", "import-csv", str(path), "--device", "999999"],
        env=_env(settings),
    )
    assert missing.exit_code == 1 and "device 999999 not found" in missing.output


def test_cli_sends_a_file_to_a_running_server_chunk_by_chunk(
    api: str, settings: Settings, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import-csv --url`: the file goes over HTTP in chunks of whole lines (here about 64 KiB,
    so many), rejects come back with their line in the file, and sending it again stores
    nothing twice."""
    monkeypatch.setattr(csv_upload, "CHUNK_BYTES", 64 * 1024)
    start = datetime.now(UTC) - timedelta(days=400)
    lines = ["tag,ts,value"]
    for i in range(12_000):
        ts = (start + timedelta(minutes=i)).isoformat()
        lines.append(f"spindle_speed,{ts},{i % 12000}" if i != 9_000 else f"nope,{ts},1")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    args = ["telemetry", "import-csv", str(path), "--device", str(world.devices["A"])]
    args += ["--url", api, "--token", world.tokens["admin_a"]]
    first = CliRunner().invoke(cli, args, env=_env(settings))
    assert first.exit_code == 0, first.output
    assert "12,000 rows" in first.output  # the progress bar
    assert "11999 readings stored" in first.output and "1 of 12000 rows rejected" in first.output
    assert "9002" in first.output  # the bad row's line in the file, not in its chunk
    again = CliRunner().invoke(cli, args, env=_env(settings))
    assert "0 readings stored" in again.output and "11999 duplicates" in again.output
    store = make_store(settings)
    try:
        raw = store.raw([world.tags["A"]], start - timedelta(1), datetime.now(UTC), 100_000)
        assert raw.num_rows == 11_999
    finally:
        store.close()
    other = CliRunner().invoke(  # a company admin may not write another company's device
        cli,
        [*args[:4], str(world.devices["B"]), *args[5:]],
        env=_env(settings),
    )
    assert other.exit_code == 1 and "refused: HTTP 404" in other.output
