"""Offers of uploaded files: a supplier uploads a CSV or Parquet file, the catalogue shows its
schema, coverage and a preview within the terms, and a parent company takes it through the
same governed path as any other offer (agreement, token, policy at the time of use, meter,
audit). Bad files are refused naming `file`."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sharing_world import constraint, only_for, use

from conftest import World
from sandan.settings import Settings
from sandan.sharing.service import files

API = "/api/v1/sharing"
START = datetime(2026, 3, 1, 0, 0)  # plant time (Asia/Seoul): 2026-02-28 15:00 UTC
HOURS = 48
FIELDS = ["ts", "machine", "kwh"]  # what the terms let out; unit_cost stays with the supplier


def energy_csv(hours: int = HOURS) -> bytes:
    """Hourly energy of two machines as a factory exports it: local times without a zone."""
    lines = ["ts,machine,kwh,unit_cost"]
    for h in range(hours):
        at = (START + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{at},M{h % 2 + 1},{10 + h * 0.5},{1000 + h}")
    return ("\n".join(lines) + "\n").encode()


def file_terms(
    world: World, *, pulls: int, extra: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    return {
        "uid": f"urn:sandan:policy:file-{pulls}",
        "permissions": [
            use(
                constraint("purpose", "eq", "quality_improvement"),
                constraint("recipient", "eq", world.companies["B"]),
                constraint("count", "lteq", pulls),
                constraint("fields", "is_any_of", FIELDS),
                *extra,
            )
        ],
        "prohibitions": [{"action": "distribute", "constraints": []}],
    }


def draft(client: TestClient, world: World, terms: dict[str, Any]) -> dict[str, Any]:
    made = client.post(
        f"{API}/offers",
        json={
            "title": "Hourly energy per machine (file)",
            "keywords": ["energy", "csv"],
            "selection": {"type": "file"},
            "access_policy": only_for(world, "B"),
            "contract_policy": terms,
        },
        headers=world.headers("admin_a"),
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def upload(
    client: TestClient, world: World, offer_id: int, name: str, content: bytes, who: str = "admin_a"
) -> Any:
    return client.post(
        f"{API}/offers/{offer_id}/file",
        files={"file": (name, content, "application/octet-stream")},
        headers=world.headers(who),
    )


def published(client: TestClient, world: World, terms: dict[str, Any]) -> dict[str, Any]:
    offer = draft(client, world, terms)
    done = upload(client, world, offer["id"], "energy.csv", energy_csv())
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_a_csv_upload_describes_stores_and_publishes_the_offer(
    client: TestClient, world: World, settings: Settings
) -> None:
    offer = draft(client, world, file_terms(world, pulls=5))
    assert offer["status"] == "draft" and offer["data_schema"] == [] and offer["preview"] == []
    # A draft is the owner's only: the company it is meant for does not see it yet.
    assert (
        client.get(f"{API}/offers/{offer['id']}", headers=world.headers("admin_b")).status_code
        == 404
    )

    content = energy_csv()
    done = upload(client, world, offer["id"], "energy.csv", content)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "published"
    assert [(f["name"], f["type"]) for f in body["data_schema"]] == [
        ("ts", "datetime"),
        ("machine", "string"),
        ("kwh", "float"),
        ("unit_cost", "int"),
    ]
    selection = body["selection"]
    assert selection["format"] == "csv" and selection["filename"] == "energy.csv"
    assert selection["rows"] == HOURS and selection["bytes"] == len(content)
    assert selection["sha256"] == hashlib.sha256(content).hexdigest()
    assert selection["time_column"] == "ts" and selection["resolution"] == 3600
    # Plant time 2026-03-01 00:00 in Seoul is 2026-02-28 15:00 UTC; the last row 47 h later.
    first = datetime(2026, 2, 28, 15, tzinfo=UTC)
    assert datetime.fromisoformat(body["temporal_start"]).replace(tzinfo=UTC) == first
    assert datetime.fromisoformat(body["temporal_end"]).replace(tzinfo=UTC) == first + timedelta(
        hours=HOURS - 1
    )
    # The preview: the first five rows, only of the fields the terms let out.
    assert body["preview"][0] == {"ts": "2026-02-28T15:00:00Z", "machine": "M1", "kwh": 10.0}
    assert len(body["preview"]) == 5
    assert all(set(r) == set(FIELDS) for r in body["preview"])

    stored = (
        files.files_dir(settings.data_dir) / f"{world.companies['A']}/{selection['sha256']}.parquet"
    )
    table = pq.read_table(stored)
    assert table.num_rows == HOURS and table.column_names == ["ts", "machine", "kwh", "unit_cost"]
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    # The parent company now sees it, with its preview.
    seen = client.get(f"{API}/offers/{offer['id']}", headers=world.headers("admin_b")).json()
    assert seen["preview"] == body["preview"] and seen["kind"] == "file"
    listed = client.get(f"{API}/offers?kind=file", headers=world.headers("admin_b")).json()
    assert [o["id"] for o in listed["items"]] == [offer["id"]]


def test_a_parquet_upload_keeps_its_types(client: TestClient, world: World) -> None:
    stamps = [datetime(2026, 3, 2, h, tzinfo=UTC) for h in range(0, 24, 6)]
    table = pa.table(
        {
            "at": pa.array(stamps, pa.timestamp("ms", tz="UTC")),
            "line": pa.array(["L1", "L2", "L1", "L2"]).dictionary_encode(),
            "good": pa.array([590, 600, 580, 610], pa.int32()),
            "cost": pa.array([Decimal("1.50"), Decimal("2.25"), None, Decimal("0.75")]),
            "ok": [True, False, True, True],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    offer = draft(client, world, {"uid": "urn:p:open", "permissions": [{"action": "use"}]})
    done = upload(client, world, offer["id"], "shifts.parquet", sink.getvalue())
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["selection"]["format"] == "parquet" and body["selection"]["rows"] == 4
    assert [(f["name"], f["type"]) for f in body["data_schema"]] == [
        ("at", "datetime"),
        ("line", "string"),
        ("good", "int"),
        ("cost", "float"),
        ("ok", "bool"),
    ]
    assert body["selection"]["resolution"] == 6 * 3600
    assert body["preview"][2] == {
        "at": "2026-03-02T12:00:00Z",
        "line": "L1",
        "good": 580,
        "cost": None,
        "ok": True,
    }


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


BAD_FILES = [
    ("empty.csv", b"", "is empty"),
    ("sheet.xlsx", b"PK\x03\x04 a spreadsheet", "only CSV or Parquet"),
    ("dump.csv", b"a,b\n\x00\x01\x02,3\n", "only CSV or Parquet"),
    ("ragged.csv", b"a,b\n1,2,3\n", "unreadable CSV"),
    ("header.csv", b"ts,kwh\n", "has no rows"),
    ("twice.csv", b"kwh,kwh\n1,2\n", "more than once"),
    ("noname.csv", b"kwh,\n1,2\n", "need a name"),
    ("fake.parquet", b"a,b\n1,2\n", "not a Parquet file"),
    ("broken.parquet", b"PAR1 not really PAR1", "unreadable Parquet"),
    ("nested.parquet", _parquet(pa.table({"v": [[1, 2], [3]]})), "only numbers, text"),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_naming_the_file(
    client: TestClient, world: World, name: str, content: bytes, reason: str
) -> None:
    offer = draft(client, world, file_terms(world, pulls=5))
    refused = upload(client, world, offer["id"], name, content)
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["fields"]
    assert problem["field"] == "file" and reason in problem["reason"]
    again = client.get(f"{API}/offers/{offer['id']}", headers=world.headers("admin_a")).json()
    assert again["status"] == "draft"  # nothing was published


def test_a_file_over_the_size_limit_is_refused(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 1024)  # 50 MB in production
    offer = draft(client, world, file_terms(world, pulls=5))
    refused = upload(client, world, offer["id"], "energy.csv", energy_csv())
    assert refused.status_code == 422
    assert refused.json()["fields"] == [{"field": "file", "reason": "is larger than 1024 bytes"}]


def test_a_korean_excel_csv_in_cp949_is_read(client: TestClient, world: World) -> None:
    offer = draft(client, world, {"uid": "urn:p:open", "permissions": [{"action": "use"}]})
    content = "설비,전력량\n프레스1,12.5\n".encode("cp949")
    done = upload(client, world, offer["id"], "전력.csv", content)
    assert done.status_code == 200, done.text
    assert done.json()["preview"] == [{"설비": "프레스1", "전력량": 12.5}]
    assert done.json()["selection"]["time_column"] is None


def test_who_may_upload_and_when(client: TestClient, world: World) -> None:
    offer = draft(client, world, file_terms(world, pulls=5))
    csv = energy_csv()
    assert upload(client, world, offer["id"], "e.csv", csv, "admin_b").status_code == 404
    assert upload(client, world, offer["id"], "e.csv", csv, "member_a").status_code == 403
    product = client.post(
        f"{API}/offers",
        json={
            "title": "Daily OEE",
            "selection": {"type": "product", "product": "daily_oee"},
            "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
        },
        headers=world.headers("admin_a"),
    ).json()
    wrong = upload(client, world, product["id"], "e.csv", csv)
    assert wrong.status_code == 409 and "only a file offer" in wrong.json()["detail"]
    # A file offer cannot ask to stream.
    live = client.post(
        f"{API}/offers",
        json={
            "title": "Live file",
            "selection": {"type": "file", "live": True},
            "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
        },
        headers=world.headers("admin_a"),
    )
    assert live.status_code == 422
    # Replaced before anyone asked; fixed once asked for.
    assert upload(client, world, offer["id"], "e.csv", csv).status_code == 200
    assert upload(client, world, offer["id"], "e.csv", energy_csv(24)).status_code == 200
    asked = client.post(
        f"{API}/negotiations",
        json={"offer_id": offer["id"], "purpose": "quality_improvement"},
        headers=world.headers("admin_b"),
    )
    assert asked.status_code == 201, asked.text
    fixed = upload(client, world, offer["id"], "e.csv", csv)
    assert fixed.status_code == 409 and "negotiated" in fixed.json()["detail"]
