"""Hub and spoke: two real Sandan servers (uvicorn on 127.0.0.1, each with its own SQLite data
directory, telemetry store and secret) that know each other as partner connectors. A company
of the spoke finds an offer of a hub company in the hub's catalogue over HTTP, negotiates,
both sides sign, it takes a token and pulls the rows; connectors that are not partners, and
messages whose signatures do not hold, are refused.

SQLite only by design: each instance is a whole platform with its own embedded stores."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from sharing_world import add_company_c, constraint, only_for, plant_with_readings, use
from sqlalchemy import select

from conftest import World, build_world, free_port, square
from sandan.app import create_app
from sandan.core.audit.models import AuditEntry
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.settings import Settings
from sandan.sharing import dsp_client, signing
from sandan.sharing.models import SigningKey
from sandan.sharing.service import parties, partners

API = "/api/v1/sharing"
SPOKE_BRN = "1078134251"  # company C of sharing_world
SPOKE_PARTICIPANT = f"urn:sandan:ULSAN:{SPOKE_BRN}"
PURPOSE = "quality_improvement"


@dataclass
class Instance:
    """One running Sandan: its settings, database context, address and server."""

    settings: Settings
    ctx: Context
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.base_url}{path}", params=params, headers=auth, timeout=30)

    def post(self, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{self.base_url}{path}", json=body, headers=auth, timeout=30)


@dataclass
class Pair:
    hub: Instance
    spoke: Instance
    world: World  # the hub's companies A (the provider) and B
    spoke_token: str  # an API token of the spoke company's admin
    plant: dict[str, Any]
    stranger_key: Any  # a connector key the hub lists as a partner of some other complex


def _platform_key(settings: Settings) -> str:
    """The instance's platform public key, made on first use, as an operator would read it."""
    ctx = Context.build(settings)
    try:
        with ctx.db.unit() as s:
            row, _ = parties.signing_key(s, None, settings.resolved_secret_key())
            return row.public_key
    finally:
        ctx.db.dispose()


def _seed_spoke(ctx: Context) -> str:
    """The spoke complex (Ulsan) and its one company, the sharing tests' company C, with an
    admin; the admin's API token."""
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        cx = service.create_complex(
            s,
            system,
            schemas.ComplexIn(code="ULSAN", name="울산", center_lat=35.5, center_lon=129.3),
        )
        zone = service.create_zone(
            s,
            system,
            schemas.ZoneIn(complex_id=cx.id, code="Z3", name="3", boundary=square(129, 35)),
        )
    spoke = World(complex_id=cx.id, zones={"Z3": zone.id})
    add_company_c(ctx, spoke)
    return spoke.tokens["admin_c"]


def _serve(settings: Settings, ctx: Context, port: int) -> Instance:
    app = create_app(settings, with_ui=False, ctx=ctx)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return Instance(settings, ctx, f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Pair]:
    """The hub and the spoke, migrated, seeded, each the other's partner, serving."""
    base: dict[str, Settings] = {}
    for name in ("hub", "spoke"):
        directory = tmp_path_factory.mktemp(name)
        shutil.copy(sqlite_template, directory / "sandan.db")
        base[name] = Settings(data_dir=directory, secret_key=f"{name}-secret-key")
    keys = {name: _platform_key(s) for name, s in base.items()}
    ports = {name: free_port() for name in base}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    stranger = signing.generate_key()
    stranger_entry = f"http://127.0.0.1:9={signing.public_key_to_text(stranger.public_key())}"
    hub_settings = base["hub"].model_copy(
        update={"dsp_partners": f"{url['spoke']}={keys['spoke']}, {stranger_entry}"}
    )
    spoke_settings = base["spoke"].model_copy(
        update={"dsp_partners": f"{url['hub']}={keys['hub']}"}
    )
    hub_ctx, spoke_ctx = Context.build(hub_settings), Context.build(spoke_settings)
    world = build_world(hub_ctx)
    spoke_token = _seed_spoke(spoke_ctx)
    hub = _serve(hub_settings, hub_ctx, ports["hub"])
    spoke = _serve(spoke_settings, spoke_ctx, ports["spoke"])
    # The readings go into the running hub's own telemetry store.
    app = hub.server.config.app
    plant = plant_with_readings(hub_ctx, world, SimpleNamespace(app=app))  # type: ignore[arg-type]
    try:
        yield Pair(hub, spoke, world, spoke_token, plant, stranger)
    finally:
        for instance in (spoke, hub):
            instance.server.should_exit = True
            instance.thread.join(timeout=30)
            instance.ctx.db.dispose()


def _offer(pair: Pair, title: str, **extra: Any) -> dict[str, Any]:
    """An offer of hub company A on its line's hourly energy and OEE, open to the complex
    unless `access_policy` says otherwise."""
    body = {
        "title": title,
        "selection": {"type": "product", "product": "line_hourly", "line_id": pair.plant["line"]},
        "contract_policy": {
            "uid": f"urn:sandan:policy:{title.lower().replace(' ', '-')}",
            "permissions": [
                use(
                    constraint("purpose", "eq", PURPOSE),
                    constraint("count", "lteq", 10),
                    constraint("resolution", "gteq", 3600),
                )
            ],
            "prohibitions": [{"action": "distribute", "constraints": []}],
        },
        "approval": "auto",
        **extra,
    }
    made = pair.hub.post(f"{API}/offers", pair.world.tokens["admin_a"], body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _public_key(instance: Instance, company_id: int | None) -> str:
    with instance.ctx.db.unit() as s:
        stmt = select(SigningKey.public_key).where(
            SigningKey.company_id.is_(None)
            if company_id is None
            else SigningKey.company_id == company_id
        )
        key = s.scalar(stmt)
    assert key is not None
    return key


def test_a_spoke_company_finds_negotiates_signs_and_pulls_a_hub_offer(pair: Pair) -> None:
    hub, spoke, token = pair.hub, pair.spoke, pair.spoke_token
    a = pair.world.tokens["admin_a"]
    offer = _offer(pair, "Line L9 hourly for partners", price_model="one_off", price_krw=50_000)
    hidden = _offer(pair, "Line L9 hourly for B only", access_policy=only_for(pair.world, "B"))

    # The hub's catalogue, fetched by the spoke over signed DSP: the open offer, not B's.
    found = spoke.get(f"{API}/remote/catalog", token, connector_url=hub.base_url)
    assert found.status_code == 200, found.text
    ids = [d["@id"] for d in found.json()["dcat:dataset"]]
    assert f"urn:sandan:offer:{offer['id']}" in ids
    assert f"urn:sandan:offer:{hidden['id']}" not in ids
    dataset = next(d for d in found.json()["dcat:dataset"] if d["@id"].endswith(f":{offer['id']}"))
    assert dataset["odrl:hasPolicy"][0]["@type"] == "Offer"

    # Request, the provider signs at once (automatic approval), the spoke checks, countersigns.
    asked = spoke.post(
        f"{API}/remote/negotiations",
        token,
        {"connector_url": hub.base_url, "offer_id": dataset["@id"], "purpose": PURPOSE},
    )
    assert asked.status_code == 201, asked.text
    n = asked.json()
    assert n["state"] == "finalized"
    document = n["agreement"]
    assert document["assignee"] == SPOKE_PARTICIPANT
    assert document["assigner"] == dataset["dct:publisher"]
    assert document["target"] == dataset["@id"] and document["purpose"] == PURPOSE

    # Both signatures hold, and each is made by the key its own instance keeps for the company.
    provider_key = _public_key(hub, pair.world.companies["A"])
    with spoke.ctx.db.unit() as s:
        spoke_company = s.scalar(select(SigningKey.company_id).where(SigningKey.company_id > 0))
    consumer_key = _public_key(spoke, spoke_company)
    assert (n["provider_public_key"], n["consumer_public_key"]) == (provider_key, consumer_key)
    for signature, key in (
        (n["provider_signature"], provider_key),
        (n["consumer_signature"], consumer_key),
    ):
        parsed = signing.Signature.model_validate(signature)
        assert signing.verify(document, parsed, signing.public_key_from_text(key))
    assert not signing.verify(
        {**document, "purpose": "research"},
        signing.Signature.model_validate(n["consumer_signature"]),
        signing.public_key_from_text(consumer_key),
    )

    # The hub keeps the agreement with a remote consumer, both signatures, and the charge.
    agreements = hub.get(f"{API}/agreements", a, role="provider").json()
    mine = next(x for x in agreements if x["uid"] == n["agreement_id"])
    assert mine["consumer_company_id"] is None
    assert mine["consumer_participant"] == SPOKE_PARTICIPANT
    assert mine["status"] == "active"
    assert mine["consumer_signature"] == n["consumer_signature"]
    timeline = hub.get(f"{API}/negotiations/{n['negotiation_id']}", a).json()
    assert [m["message"] for m in timeline["messages"]] == [
        "contract_request",
        "agree",
        "verify",
        "finalize",
    ]
    assert consumer_key in timeline["messages"][2]["note"]
    balance = hub.get(f"{API}/companies/{pair.world.companies['A']}/balance", a).json()
    assert balance["credits"] == 47_500  # 50,000 less the platform's 5 %

    # The EDR: the hub's pull route and a bearer token; the rows come straight from the hub.
    edr = spoke.post(
        f"{API}/remote/transfers",
        token,
        {"connector_url": hub.base_url, "agreement_id": n["agreement_id"]},
    )
    assert edr.status_code == 200, edr.text
    assert edr.json()["endpoint"].startswith(f"{hub.base_url}{API}/agreements/")
    window = {
        "start": pair.plant["start"].isoformat(),
        "end": pair.plant["end"].isoformat(),
        "purpose": PURPOSE,
    }
    direct = httpx.get(
        edr.json()["endpoint"],
        params=window,
        headers={"Authorization": f"Bearer {edr.json()['access_token']}"},
    )
    assert direct.status_code == 200, direct.text
    assert direct.json()["count"] == 6
    assert direct.json()["rows"][0]["kwh"] == pytest.approx(60.0, rel=1e-6)

    # Or through the spoke's connector; the agreed policy is evaluated at the hub each time.
    pulled = spoke.post(
        f"{API}/remote/pull",
        token,
        {"connector_url": hub.base_url, "agreement_id": n["agreement_id"], **window},
    )
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["rows"] == direct.json()["rows"]
    refused = spoke.post(
        f"{API}/remote/pull",
        token,
        {
            "connector_url": hub.base_url,
            "agreement_id": n["agreement_id"],
            **window,
            "purpose": "research",
        },
    )
    assert refused.status_code == 403
    assert [r["code"] for r in refused.json()["reasons"]] == ["purpose"]
    usage = hub.get(f"{API}/companies/{pair.world.companies['A']}/usage", a).json()
    assert [u["allowed"] for u in usage["items"]] == [False, True, True]

    # What the spoke company signed is in the spoke's audit trail.
    audit = spoke_audit(pair, "remote_agreement")
    assert [e["entity_id"] for e in audit] == [n["agreement_id"]]
    assert audit[0]["after"]["consumer_signature"] == n["consumer_signature"]


def spoke_audit(pair: Pair, entity: str) -> list[dict[str, Any]]:
    with pair.spoke.ctx.db.unit() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity == entity))
        return [{"entity_id": r.entity_id, "after": r.after} for r in rows]


def test_manual_approval_waits_for_the_provider_then_the_spoke_finalizes(pair: Pair) -> None:
    hub, spoke, token = pair.hub, pair.spoke, pair.spoke_token
    offer = _offer(pair, "Line L9 hourly on request", approval="manual")
    asked = spoke.post(
        f"{API}/remote/negotiations",
        token,
        {"connector_url": hub.base_url, "offer_id": str(offer["id"]), "purpose": PURPOSE},
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["state"] == "requested" and asked.json()["agreement"] is None
    nid = asked.json()["negotiation_id"]
    finalize = f"{API}/remote/negotiations/{nid}/finalize"
    early = spoke.post(finalize, token, {"connector_url": hub.base_url})
    assert early.status_code == 200 and early.json()["state"] == "requested"

    # The hub company sees the remote request in its inbox and accepts (it signs).
    inbox = hub.get(f"{API}/negotiations/{nid}", pair.world.tokens["admin_a"]).json()
    assert inbox["consumer_participant"] == SPOKE_PARTICIPANT
    assert inbox["allowed"] == ["contract_offer", "agree", "terminate"]
    agreed = hub.post(f"{API}/negotiations/{nid}/accept", pair.world.tokens["admin_a"], {})
    assert agreed.status_code == 200 and agreed.json()["state"] == "agreed", agreed.text

    done = spoke.post(finalize, token, {"connector_url": hub.base_url})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "finalized"
    again = spoke.post(finalize, token, {"connector_url": hub.base_url})
    assert again.json()["state"] == "finalized"  # nothing left to sign


def _raw(
    url: str,
    key: Any,
    path: str,
    payload: dict[str, Any],
    *,
    signed_body: bytes | None = None,
    at: Any = None,
    method: str = "POST",
) -> httpx.Response:
    """A DSP request signed with `key` by hand (over `signed_body` if given, to tamper)."""
    body = b"" if method == "GET" else signing.canonical_json(payload)
    when = at or utcnow()
    stamp = partners.stamp(key, method, path, body if signed_body is None else signed_body, at=when)
    return httpx.request(
        method,
        f"{url}{path}",
        content=body or None,
        headers={partners.SIGNATURE_HEADER: stamp.header, "Content-Type": "application/json"},
    )


def _spoke_platform_key(pair: Pair) -> Any:
    with pair.spoke.ctx.db.unit() as s:
        _, key = parties.signing_key(s, None, pair.spoke.settings.resolved_secret_key())
    return key


def test_connectors_must_be_partners_and_signatures_must_hold(pair: Pair) -> None:
    hub = pair.hub
    catalog = {"@type": "dspace:CatalogRequestMessage"}
    path = "/dsp/catalog/request"
    good = _spoke_platform_key(pair)

    # A partner's signed request is answered, and the answer is signed by the hub's key.
    ok = _raw(hub.base_url, good, path, catalog)
    assert ok.status_code == 200, ok.text
    connector = httpx.get(f"{hub.base_url}/dsp/connector").json()
    assert connector["sandan:publicKey"] == _public_key(hub, None)
    hub_partner = partners.parse_partners(connector["sandan:partnerEntry"])
    header = ok.headers[partners.SIGNATURE_HEADER]
    assert partners.check(
        hub_partner,
        header,
        partners.RESPONSE,
        path,
        ok.content,
        now=utcnow(),
        reply_to=ok.request.headers[partners.SIGNATURE_HEADER].rsplit("sig=", 1)[1],
        status=200,
    )
    with pytest.raises(partners.ConnectorUnauthenticated):  # the answer cannot be altered
        partners.check(
            hub_partner, header, partners.RESPONSE, path, ok.content + b" ", now=utcnow()
        )

    refusals = {
        "unsigned": httpx.post(f"{hub.base_url}{path}", json=catalog),
        "unknown connector": _raw(hub.base_url, signing.generate_key(), path, catalog),
        "body changed after signing": _raw(
            hub.base_url, good, path, catalog, signed_body=b'{"@type":"other"}'
        ),
        "signed for another path": _signed_elsewhere(hub.base_url, good, catalog),
        "stale": _raw(hub.base_url, good, path, catalog, at=utcnow() - timedelta(minutes=10)),
        "garbled": httpx.post(
            f"{hub.base_url}{path}",
            json=catalog,
            headers={partners.SIGNATURE_HEADER: "key_id=abc;ts=soon;sig=x"},
        ),
    }
    for why, response in refusals.items():
        assert response.status_code == 401, (why, response.text)
        body = response.json()
        assert body["error"] == "ConnectorUnauthenticated" and body["detail"], why
        assert partners.SIGNATURE_HEADER not in response.headers, why

    # The spoke refuses to talk to a connector that is not its partner.
    stranger = pair.spoke.get(
        f"{API}/remote/catalog", pair.spoke_token, connector_url="http://127.0.0.1:9"
    )
    assert stranger.status_code == 422
    assert stranger.json()["fields"][0]["field"] == "connector_url"


def _signed_elsewhere(url: str, key: Any, payload: dict[str, Any]) -> httpx.Response:
    """A request signed for the negotiation route, sent to the catalogue."""
    body = signing.canonical_json(payload)
    stamp = partners.stamp(key, "POST", "/dsp/negotiations/request", body, at=utcnow())
    return httpx.post(
        f"{url}/dsp/catalog/request",
        content=body,
        headers={partners.SIGNATURE_HEADER: stamp.header, "Content-Type": "application/json"},
    )


def test_a_partner_sees_only_its_own_negotiations_and_agreements(pair: Pair) -> None:
    hub, spoke, token = pair.hub, pair.spoke, pair.spoke_token
    offer = _offer(pair, "Line L9 hourly, one per partner")
    n = spoke.post(
        f"{API}/remote/negotiations",
        token,
        {"connector_url": hub.base_url, "offer_id": str(offer["id"]), "purpose": PURPOSE},
    ).json()
    assert n["state"] == "finalized"
    nid, uid = n["negotiation_id"], n["agreement_id"]

    # Another partner connector (signed with its own registered key) sees none of it.
    other = pair.stranger_key
    assert _raw(hub.base_url, other, f"/dsp/negotiations/{nid}", {}, method="GET").status_code == (
        404
    )
    transfer = {
        "dspace:consumerPid": "urn:uuid:x",
        "dspace:agreementId": uid,
        "sandan:consumer": SPOKE_PARTICIPANT,
    }
    assert _raw(hub.base_url, other, "/dsp/transfers/request", transfer).status_code == 404
    # The spoke's own connector may, but only for the company the agreement names.
    own = _spoke_platform_key(pair)
    state = _raw(hub.base_url, own, f"/dsp/negotiations/{nid}", {}, method="GET")
    assert state.status_code == 200 and state.json()["dspace:state"] == "dspace:FINALIZED"
    wrong_company = {**transfer, "sandan:consumer": "urn:sandan:ULSAN:2208162517"}
    assert _raw(hub.base_url, own, "/dsp/transfers/request", wrong_company).status_code == 404
    started = _raw(hub.base_url, own, "/dsp/transfers/request", transfer)
    assert started.status_code == 201, started.text
    assert started.json()["dspace:state"] == "dspace:STARTED"
    # A finalized negotiation cannot be verified again or terminated.
    verification = {
        "sandan:signature": n["consumer_signature"],
        "sandan:publicKey": n["consumer_public_key"],
    }
    twice = _raw(hub.base_url, own, f"/dsp/negotiations/{nid}/agreement/verification", verification)
    assert twice.status_code == 409, twice.text
    ended = _raw(hub.base_url, own, f"/dsp/negotiations/{nid}/termination", {})
    assert ended.status_code == 409
    huge = _raw(hub.base_url, own, f"/dsp/negotiations/{10**30}", {}, method="GET")
    assert huge.status_code == 422


def test_the_spoke_connector_may_terminate_a_negotiation_it_started(pair: Pair) -> None:
    offer = _offer(pair, "Line L9 hourly, declined", approval="manual")
    own = _spoke_platform_key(pair)
    request = {
        "dspace:consumerPid": "urn:uuid:z",
        "dspace:offer": {"@id": str(offer["id"])},
        "sandan:consumer": SPOKE_PARTICIPANT,
        "sandan:purpose": PURPOSE,
    }
    asked = _raw(pair.hub.base_url, own, "/dsp/negotiations/request", request)
    assert asked.status_code == 201 and asked.json()["dspace:state"] == "dspace:REQUESTED"
    nid = asked.json()["dspace:providerPid"]
    path = f"/dsp/negotiations/{nid}/termination"
    ended = _raw(pair.hub.base_url, own, path, {"dspace:code": "no-longer-needed"})
    assert ended.status_code == 200 and ended.json()["dspace:state"] == "dspace:TERMINATED"
    seen = pair.hub.get(f"{API}/negotiations/{nid}", pair.world.tokens["admin_a"]).json()
    assert seen["state"] == "terminated" and seen["allowed"] == []
    assert seen["messages"][-1]["note"] == "no-longer-needed"


def test_the_spoke_refuses_to_countersign_an_agreement_that_is_not_the_offer(pair: Pair) -> None:
    """The checks the spoke makes before its company's key signs, on a real signed answer."""
    offer = _offer(pair, "Line L9 hourly, checked", approval="manual")
    own = _spoke_platform_key(pair)
    request = {
        "dspace:consumerPid": "urn:uuid:y",
        "dspace:offer": {"@id": f"urn:sandan:offer:{offer['id']}"},
        "sandan:consumer": SPOKE_PARTICIPANT,
        "sandan:purpose": PURPOSE,
    }
    nid = _raw(pair.hub.base_url, own, "/dsp/negotiations/request", request).json()[
        "dspace:providerPid"
    ]
    pair.hub.post(f"{API}/negotiations/{nid}/accept", pair.world.tokens["admin_a"], {})
    answer = _raw(pair.hub.base_url, own, f"/dsp/negotiations/{nid}", {}, method="GET").json()
    wanted = _raw(
        pair.hub.base_url, own, f"/dsp/catalog/datasets/{offer['id']}", {}, method="GET"
    ).json()
    assert dsp_client.check_agreement(answer, wanted, SPOKE_PARTICIPANT, PURPOSE)

    document = answer["dspace:agreement"]
    other_key = signing.public_key_to_text(signing.generate_key().public_key())
    bad = {  # what is altered → what the refusal names
        "assignee": (answer, wanted, "urn:sandan:ULSAN:2208162517", PURPOSE),
        "purpose is 'quality_improvement', not 'research'": (
            answer,
            wanted,
            SPOKE_PARTICIPANT,
            "research",
        ),
        "the document changed after it was signed": (
            {**answer, "dspace:agreement": {**document, "purpose": "research"}},
            wanted,
            SPOKE_PARTICIPANT,
            None,
        ),
        "signed with key": (
            {**answer, "sandan:providerPublicKey": other_key},
            wanted,
            SPOKE_PARTICIPANT,
            PURPOSE,
        ),
        "policy prohibition": (
            answer,
            {**wanted, "odrl:hasPolicy": [{**wanted["odrl:hasPolicy"][0], "prohibition": []}]},
            SPOKE_PARTICIPANT,
            PURPOSE,
        ),
    }
    for named, (ans, want, me, purpose) in bad.items():
        with pytest.raises(dsp_client.RemoteUntrusted) as refused:
            dsp_client.check_agreement(ans, want, me, purpose)
        assert named in refused.value.message


def test_remote_requests_are_checked_here_and_at_the_hub(pair: Pair) -> None:
    spoke, hub = pair.spoke, pair.hub
    offer = _offer(pair, "Line L9 hourly, for checks")
    body = {"connector_url": hub.base_url, "offer_id": str(offer["id"]), "purpose": PURPOSE}
    path = f"{API}/remote/negotiations"
    assert httpx.post(f"{spoke.base_url}{path}", json=body).status_code == 401
    unknown = spoke.post(path, pair.spoke_token, {**body, "offer_id": "999999"})
    assert unknown.status_code == 404  # the hub's answer, passed on with where it came from
    assert hub.base_url in unknown.json()["detail"]
    assert unknown.json()["remote_status"] == 404
    odd = spoke.post(path, pair.spoke_token, {**body, "purpose": "astrology"})
    assert odd.status_code == 422
    assert "unknown purpose" in odd.json()["detail"]
    traversal = spoke.post(path, pair.spoke_token, {**body, "offer_id": "../negotiations/1"})
    assert traversal.status_code == 422
    assert traversal.json()["fields"][0]["field"] == "offer_id"
