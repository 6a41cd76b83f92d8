"""The acceptance path of data sharing, through the HTTP API: a supplier offers its line's
hourly energy and OEE to its parent company, they negotiate and sign, the parent pulls and
subscribes live, the ledger settles, the 101st pull is refused, an unrelated company sees
nothing, and after expiry the stream stops."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sharing_world import (
    add_company_c,
    constraint,
    only_for,
    plant_with_readings,
    sse_frames,
    terms,
)

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.sharing import api as sharing_api
from sandan.sharing.models import Agreement
from sandan.sharing.service import access

API = "/api/v1/sharing"


def _offer(client: TestClient, world: World, line: int, pulls: int) -> dict[str, Any]:
    body = {
        "title": "Line L9 hourly energy and OEE",
        "description": "에너지와 OEE, 시간별",
        "keywords": ["OEE", "energy", "hourly"],
        "selection": {"type": "product", "product": "line_hourly", "line_id": line, "live": True},
        "access_policy": only_for(world, "B"),
        "contract_policy": terms(world, pulls=pulls),
        "price_model": "one_off",
        "price_krw": 120_000,
        "approval": "manual",
    }
    response = client.post(f"{API}/offers", json=body, headers=world.headers("admin_a"))
    assert response.status_code == 201, response.text
    return response.json()


def _sign(client: TestClient, world: World, offer_id: int) -> dict[str, Any]:
    """B counter-offers (100 pulls instead of 50), A accepts, both sign."""
    counter = terms(world, pulls=100)
    n = client.post(
        f"{API}/negotiations",
        json={"offer_id": offer_id, "purpose": "quality_improvement", "policy": counter},
        headers=world.headers("admin_b"),
    )
    assert n.status_code == 201, n.text
    assert n.json()["state"] == "requested"
    nid = n.json()["id"]
    inbox = client.get(f"{API}/negotiations", headers=world.headers("admin_a")).json()
    assert [x["id"] for x in inbox] == [nid]
    assert inbox[0]["allowed"] == ["contract_offer", "agree", "terminate"]
    accepted = client.post(
        f"{API}/negotiations/{nid}/accept", json={"note": "OK"}, headers=world.headers("admin_a")
    )
    assert accepted.status_code == 200, accepted.text
    done = accepted.json()
    assert done["state"] == "finalized"
    assert [m["message"] for m in done["messages"]] == [
        "contract_request",
        "agree",
        "verify",
        "finalize",
    ]
    assert done["agreement_id"] is not None
    return done


def _token(client: TestClient, world: World, agreement_id: int) -> dict[str, str]:
    t = client.post(f"{API}/agreements/{agreement_id}/token", headers=world.headers("admin_b"))
    assert t.status_code == 200, t.text
    return {"Authorization": f"Bearer {t.json()['access_token']}"}


def test_supplier_to_parent_end_to_end(
    client: TestClient, ctx: Context, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant = plant_with_readings(ctx, world, client)
    add_company_c(ctx, world)
    offer = _offer(client, world, plant["line"], pulls=50)

    # 6. An unrelated company cannot see the offer at all; the parent can.
    seen_by_c = client.get(f"{API}/offers", headers=world.headers("admin_c")).json()
    assert offer["id"] not in [o["id"] for o in seen_by_c["items"]]
    assert (
        client.get(f"{API}/offers/{offer['id']}", headers=world.headers("admin_c")).status_code
        == 404
    )
    refused = client.post(
        f"{API}/negotiations",
        json={"offer_id": offer["id"], "purpose": "quality_improvement"},
        headers=world.headers("admin_c"),
    )
    assert refused.status_code == 404
    catalog_c = client.get(f"{API}/catalog", headers=world.headers("admin_c")).json()
    assert catalog_c["dcat:dataset"] == []
    seen_by_b = client.get(f"{API}/offers?q=oee", headers=world.headers("admin_b")).json()
    assert [o["id"] for o in seen_by_b["items"]] == [offer["id"]]
    dataset = client.get(f"{API}/catalog", headers=world.headers("admin_b")).json()["dcat:dataset"]
    assert dataset[0]["odrl:hasPolicy"][0]["@type"] == "Offer"

    # 1-2. Offer, counter-offer, acceptance, signatures.
    negotiation = _sign(client, world, offer["id"])
    aid = negotiation["agreement_id"]
    verified = client.get(f"{API}/agreements/{aid}/verify", headers=world.headers("admin_b"))
    assert verified.json()["provider_signature_valid"] is True
    assert verified.json()["consumer_signature_valid"] is True
    agreement = client.get(f"{API}/agreements/{aid}", headers=world.headers("admin_a")).json()
    assert agreement["status"] == "active"
    assert agreement["policy"]["permissions"][0]["constraints"][3]["right"] == 100
    assert (
        client.get(f"{API}/agreements/{aid}", headers=world.headers("admin_c")).status_code == 404
    )

    # 4. The ledger settles the one-off price: B pays 120,000, A gets 114,000, 6,000 fee.
    assert client.get(
        f"{API}/companies/{world.companies['B']}/balance", headers=world.headers("admin_b")
    ).json() == {"debits": 120_000, "credits": 0, "net": -120_000}
    assert client.get(
        f"{API}/companies/{world.companies['A']}/balance", headers=world.headers("admin_a")
    ).json() == {"debits": 0, "credits": 114_000, "net": 114_000}
    period = utcnow().strftime("%Y-%m")
    sheet = client.get(
        f"{API}/companies/{world.companies['B']}/statements/{period}.csv",
        headers=world.headers("admin_b"),
    )
    assert sheet.status_code == 200
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["date", "transaction", "agreement"]
    assert rows[1][6] == "120000" and rows[-1][0] == "closing"

    # 3. The parent pulls hourly rows: 60 kWh and OEE (10 a minute, 1 reject an hour).
    bearer = _token(client, world, aid)
    window = {
        "start": plant["start"].isoformat(),
        "end": plant["end"].isoformat(),
        "purpose": "quality_improvement",
    }
    pulled = client.get(f"{API}/agreements/{aid}/data", params=window, headers=bearer)
    assert pulled.status_code == 200, pulled.text
    body = pulled.json()
    assert body["count"] == 6 and len(body["rows"]) == 6
    first = body["rows"][0]
    assert first["kwh"] == pytest.approx(60.0, rel=1e-6)
    assert first["availability"] == pytest.approx(1.0)
    assert first["quality"] == pytest.approx(599 / 600)
    assert body["duties"][0]["action"] == "compensate"
    # Without the token, or with B's own API token, there is no data.
    assert client.get(f"{API}/agreements/{aid}/data", params=window).status_code == 401
    assert (
        client.get(
            f"{API}/agreements/{aid}/data", params=window, headers=world.headers("admin_b")
        ).status_code
        == 401
    )

    # 5. Pulls 2..100 pass; the 101st is refused with a reason, metered and audited.
    one_hour = {**window, "start": (plant["end"] - timedelta(hours=1)).isoformat()}
    for _ in range(99):
        assert (
            client.get(f"{API}/agreements/{aid}/data", params=one_hour, headers=bearer).status_code
            == 200
        )
    over = client.get(f"{API}/agreements/{aid}/data", params=one_hour, headers=bearer)
    assert over.status_code == 403
    assert over.json()["reasons"][0]["code"] == "count"
    assert "100" in over.json()["detail"]
    usage = client.get(
        f"{API}/companies/{world.companies['A']}/usage?limit=1", headers=world.headers("admin_a")
    ).json()
    assert usage["total"] == 101 and usage["items"][0]["allowed"] is False
    audit = client.get(
        "/api/v1/audit?entity=sharing_usage&limit=1", headers=world.headers("operator")
    ).json()
    assert audit["total"] == 101
    assert audit["items"][0]["after"]["allowed"] is False

    # 3 and 7. The live subscription gets readings, and stops within seconds after expiry.
    monkeypatch.setattr(sharing_api, "STREAM_RECHECK_S", 0.3)
    real_now = access.utcnow

    def expire_later() -> None:
        time.sleep(1.0)
        monkeypatch.setattr(access, "utcnow", lambda: real_now() + timedelta(days=31))

    jump = threading.Thread(target=expire_later)
    jump.start()
    stream = client.get(
        f"{API}/agreements/{aid}/stream",
        params={"purpose": "quality_improvement", "seconds": 60},
        headers=bearer,
    )
    jump.join()
    frames = sse_frames(stream.text)
    assert frames[0][0] == "readings" and frames[0][1]
    assert {r["tag_id"] for r in frames[0][1]} == set(plant["machine"].tags.values())
    assert frames[-1][0] == "end"
    assert "expired" in frames[-1][1]["reason"]


def test_denials_one_by_one_each_403_readable_and_audited(
    client: TestClient, ctx: Context, world: World
) -> None:
    plant = plant_with_readings(ctx, world, client)
    window = {"start": plant["start"].isoformat(), "end": plant["end"].isoformat()}

    def agreement(extra: tuple[dict[str, Any], ...] = (), product: str = "line_hourly") -> int:
        body = {
            "title": f"offer {len(extra)} {product}",
            "selection": {"type": "product", "product": product, "line_id": plant["line"]},
            "contract_policy": terms(world, pulls=100, extra=extra),
            "approval": "auto",
        }
        offer = client.post(f"{API}/offers", json=body, headers=world.headers("admin_a"))
        assert offer.status_code == 201, offer.text
        n = client.post(
            f"{API}/negotiations",
            json={"offer_id": offer.json()["id"], "purpose": "quality_improvement"},
            headers=world.headers("admin_b"),
        ).json()
        assert n["state"] == "finalized"  # automatic approval of the offer's own terms
        return int(n["agreement_id"])

    def pull(aid: int, **params: Any) -> Any:
        bearer = _token(client, world, aid)
        return client.get(
            f"{API}/agreements/{aid}/data",
            params={**window, "purpose": "quality_improvement", **params},
            headers=bearer,
        )

    plain = agreement()
    cases = {
        "purpose": pull(plain, purpose="research"),
        "fields": pull(
            agreement((constraint("fields", "is_any_of", ["hour", "kwh"]),)), fields="hour,oee"
        ),
        "recipient_zone": pull(agreement((constraint("recipient_zone", "eq", "Z3"),))),
        "recipient": pull(
            agreement((constraint("recipient", "is_any_of", [world.companies["A"]]),))
        ),
        "resolution": pull(
            agreement((constraint("resolution", "gteq", 86_400),), product="line_hourly")
        ),
    }
    for code, response in cases.items():
        assert response.status_code == 403, (code, response.text)
        assert code in [r["code"] for r in response.json()["reasons"]], response.json()
        assert response.json()["detail"], code
    # Expired: the 30-day agreement, signed 31 days ago (moved back in time in the database).
    expiring = agreement()
    bearer = _token(client, world, expiring)
    with ctx.db.unit() as s:
        row = s.get(Agreement, expiring)
        assert row is not None and row.expires_at is not None
        row.signed_at -= timedelta(days=31)
        row.expires_at -= timedelta(days=31)
    late = client.get(
        f"{API}/agreements/{expiring}/data",
        params={**window, "purpose": "quality_improvement"},
        headers=bearer,
    )
    assert late.status_code == 403
    assert late.json()["reasons"][0]["code"] == "expired"
    assert "expired" in late.json()["detail"]
    # Terminated: the agreement no longer allows anything.
    ended = agreement()
    bearer = _token(client, world, ended)
    client.post(
        f"{API}/agreements/{ended}/terminate",
        json={"note": "supplier stopped"},
        headers=world.headers("admin_a"),
    )
    gone = client.get(
        f"{API}/agreements/{ended}/data",
        params={**window, "purpose": "quality_improvement"},
        headers=bearer,
    )
    assert gone.status_code == 401  # its tokens were revoked with it
    audit = client.get(
        "/api/v1/audit?entity=sharing_usage", headers=world.headers("operator")
    ).json()
    denied = [e["after"] for e in audit["items"] if e["after"]["allowed"] is False]
    codes = {r["code"] for d in denied for r in d["reasons"]}
    assert {"purpose", "fields", "recipient", "recipient_zone", "resolution", "expired"} <= codes


def test_a_telemetry_offer_is_never_pulled_finer_than_offered(
    client: TestClient, world: World
) -> None:
    body = {
        "title": "Spindle speed, hourly",
        "selection": {"type": "telemetry", "tag_ids": [world.tags["A"]], "resolution": 3600},
        "contract_policy": {"uid": "urn:p:open", "permissions": [{"action": "use"}]},
    }
    offer = client.post(f"{API}/offers", json=body, headers=world.headers("admin_a")).json()
    n = client.post(
        f"{API}/negotiations",
        json={"offer_id": offer["id"], "purpose": "maintenance"},
        headers=world.headers("admin_b"),
    ).json()
    bearer = _token(client, world, n["agreement_id"])
    now = utcnow()
    window = {
        "start": (now - timedelta(hours=2)).isoformat(),
        "end": now.isoformat(),
        "purpose": "maintenance",
    }
    url = f"{API}/agreements/{n['agreement_id']}/data"
    finer = client.get(url, params={**window, "resolution": 60}, headers=bearer)
    assert finer.status_code == 422
    assert finer.json()["fields"][0]["field"] == "resolution"
    hourly = client.get(url, params=window, headers=bearer)
    assert hourly.status_code == 200 and hourly.json()["rows"] == []
    foreign = {**body, "selection": {**body["selection"], "tag_ids": [world.tags["B"]]}}
    refused = client.post(f"{API}/offers", json=foreign, headers=world.headers("admin_a"))
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "selection.tag_ids"
