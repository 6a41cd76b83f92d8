"""A file offer taken through the governed path: the parent company negotiates, gets a token
scoped to the agreement and pulls; the policy is checked at each pull (fields, count, rows),
each pull is metered in rows and bytes and written to the audit log, an unrelated company
sees nothing, and the file cannot be streamed."""

from __future__ import annotations

import io
from typing import Any

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sharing_world import add_company_c, constraint
from test_file_offers import FIELDS, HOURS, file_terms, published

from conftest import Context, World

API = "/api/v1/sharing"
PURPOSE = {"purpose": "quality_improvement"}


def signed(client: TestClient, world: World, offer_id: int) -> tuple[int, dict[str, str]]:
    """B asks on the offer's own terms (automatic approval signs at once) and takes a token."""
    asked = client.post(
        f"{API}/negotiations",
        json={"offer_id": offer_id, "purpose": "quality_improvement"},
        headers=world.headers("admin_b"),
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "finalized"
    aid = asked.json()["agreement_id"]
    token = client.post(f"{API}/agreements/{aid}/token", headers=world.headers("admin_b"))
    assert token.status_code == 200, token.text
    assert token.json()["stream_endpoint"] is None  # a file has no live stream
    return aid, {"Authorization": f"Bearer {token.json()['access_token']}"}


def _get(client: TestClient, aid: int, bearer: dict[str, str], **params: Any) -> Any:
    return client.get(f"{API}/agreements/{aid}/data", params={**PURPOSE, **params}, headers=bearer)


def test_a_file_offer_through_agreement_token_policy_meter_and_audit(
    client: TestClient, ctx: Context, world: World
) -> None:
    add_company_c(ctx, world)
    offer = published(client, world, file_terms(world, pulls=3))

    # An unrelated company sees nothing of it and cannot ask for it.
    c = world.headers("admin_c")
    assert client.get(f"{API}/offers?kind=file", headers=c).json()["items"] == []
    assert client.get(f"{API}/offers/{offer['id']}", headers=c).status_code == 404
    asked_by_c = client.post(
        f"{API}/negotiations", json={"offer_id": offer["id"], "purpose": "research"}, headers=c
    )
    assert asked_by_c.status_code == 404
    assert client.get(f"{API}/catalog", headers=c).json()["dcat:dataset"] == []

    aid, bearer = signed(client, world, offer["id"])
    assert _get(client, aid, {}, fields="ts,kwh").status_code == 401  # the token is the key

    # All columns include the supplier's unit cost, which the terms keep back: refused.
    everything = _get(client, aid, bearer)
    assert everything.status_code == 403
    assert [r["code"] for r in everything.json()["reasons"]] == ["fields"]
    assert "unit_cost" in everything.json()["detail"]

    # 1. JSON rows of the permitted columns, a page of 10 from row 5.
    page = _get(client, aid, bearer, fields="ts,kwh", limit=10, offset=5)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["count"] == 10 and body["next_offset"] == 15 and body["truncated"] is False
    assert body["rows"][0] == {"ts": "2026-02-28T20:00:00Z", "kwh": 12.5}
    assert all(set(r) == {"ts", "kwh"} for r in body["rows"])

    # 2. A window on the file's time column, as Parquet.
    window = {"start": "2026-03-01T00:00:00Z", "end": "2026-03-01T06:00:00Z"}
    parquet = _get(client, aid, bearer, fields=",".join(FIELDS), format="parquet", **window)
    assert parquet.status_code == 200, parquet.text
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column_names == FIELDS and table.num_rows == 6
    assert table.column("machine").to_pylist()[:2] == ["M2", "M1"]  # 09:00 Seoul is row 9

    # 3. The whole permitted file as CSV.
    csv = _get(client, aid, bearer, fields="machine,kwh", format="csv")
    assert csv.status_code == 200
    assert pa_csv.read_csv(io.BytesIO(csv.content)).num_rows == HOURS

    # 4. The fourth pull is over the limit of three: refused with the reason.
    over = _get(client, aid, bearer, fields="kwh")
    assert over.status_code == 403
    assert over.json()["reasons"][0]["code"] == "count"

    # Metered: rows and bytes per pull, the agreement's totals, and the denials.
    usage = client.get(
        f"{API}/companies/{world.companies['A']}/usage", headers=world.headers("admin_a")
    ).json()["items"]
    assert [(u["kind"], u["allowed"], u["rows"]) for u in reversed(usage)] == [
        ("pull", False, 0),
        ("file", True, 10),
        ("file", True, 6),
        ("file", True, HOURS),
        ("pull", False, 0),
    ]
    allowed = [u for u in usage if u["allowed"]]
    sizes = sorted(u["bytes"] for u in allowed)
    assert sizes[0] > 0 and len(parquet.content) in sizes and len(csv.content) in sizes
    agreement = client.get(f"{API}/agreements/{aid}", headers=world.headers("admin_b")).json()
    assert agreement["pulls"] == 3 and agreement["rows"] == 10 + 6 + HOURS
    assert agreement["bytes"] == sum(sizes)
    # ... and each access is in the hash-chained audit log.
    audit = client.get(
        "/api/v1/audit?entity=sharing_usage", headers=world.headers("operator")
    ).json()
    assert audit["total"] == 5
    assert {e["after"]["kind"] for e in audit["items"]} == {"file", "pull"}
    assert client.get("/api/v1/audit/verify", headers=world.headers("operator")).json()["ok"]


def test_a_file_offer_cannot_stream_nor_take_a_resolution(client: TestClient, world: World) -> None:
    offer = published(client, world, file_terms(world, pulls=5))
    aid, bearer = signed(client, world, offer["id"])
    stream = client.get(f"{API}/agreements/{aid}/stream", params=PURPOSE, headers=bearer)
    assert stream.status_code == 409
    assert "no live stream" in stream.json()["detail"]
    finer = _get(client, aid, bearer, fields="kwh", resolution=60)
    assert finer.status_code == 422 and finer.json()["fields"][0]["field"] == "resolution"
    unknown = _get(client, aid, bearer, fields="kwh,secret")
    assert unknown.status_code == 403  # not in the terms' list, so refused before it is read


def test_a_rows_limit_cuts_the_pull_that_reaches_it(client: TestClient, world: World) -> None:
    terms = file_terms(world, pulls=10, extra=(constraint("rows", "lteq", 30),))
    offer = published(client, world, terms)
    aid, bearer = signed(client, world, offer["id"])
    first = _get(client, aid, bearer, fields="ts,kwh").json()
    assert first["count"] == 30 and first["truncated"] is True and "next_offset" not in first
    spent = _get(client, aid, bearer, fields="ts,kwh")
    assert spent.status_code == 403 and spent.json()["reasons"][0]["code"] == "rows"


def test_a_window_needs_the_file_to_have_times(client: TestClient, world: World) -> None:
    from test_file_offers import draft, upload

    offer = draft(client, world, {"uid": "urn:p:open", "permissions": [{"action": "use"}]})
    assert upload(client, world, offer["id"], "m.csv", b"machine,kwh\nM1,1\n").status_code == 200
    aid, bearer = signed(client, world, offer["id"])
    windowed = _get(client, aid, bearer, start="2026-03-01T00:00:00Z")
    assert windowed.status_code == 422 and windowed.json()["fields"][0]["field"] == "start"
    whole = _get(client, aid, bearer)
    assert whole.json()["rows"] == [{"machine": "M1", "kwh": 1}]
