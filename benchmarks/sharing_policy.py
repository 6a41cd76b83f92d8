"""Governed data sharing: policy decisions per second, and what governance adds to a pull.

1. Policy decisions/s: `sharing.policy.evaluate` of a realistic agreement policy (purpose,
   recipient, elapsed time, pull count, resolution, fields; a prohibition of passing the data
   on and one for an industry) on thousands of varied access contexts, about half allowed.
   Reference, same run: a hand-written Python function checking the same conditions on the
   same contexts (the floor any evaluator costs); the two must agree on every context.
2. Governed pull overhead: the same rows read (a) through `access.pull` (row lock on the
   agreement, policy evaluated, metered into the usage log and the hash-chained audit log,
   committed) and (b) straight through `service.data.fetch` in a unit of work, with no
   governance. Two offers of one line: its four tags' hourly rollups over a day (96 rows) and
   the `line_hourly` product (24 rows of OEE and kWh). Then end to end through a real uvicorn
   server: the governed route with the agreement's bearer token against the route the owner
   would use for the same data (`/telemetry/rollups`, `/analytics/lines/{id}/oee`).
   The calls alternate, governed and not, so that load on the shared machine hits both.

The last line's figure is the service-level p50 of the rollup pull (the lightest read, so
governance is the largest share of it); the issue's target is at most 10% overhead, i.e. a
ratio of at most 1.10. The line before it is the policy figure; every figure is in details.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import uvicorn
from _plant import bench_plant
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sandan.app import create_app
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.registry.models import Company
from sandan.sharing import policy as odrl
from sandan.sharing.schemas import NegotiationRequest, OfferIn, ProductSelection, TelemetrySelection
from sandan.sharing.service import access, data, negotiations, offers
from sandan.sharing.service.data import HOURLY
from sandan.sharing.service.negotiations import Keys
from sandan.telemetry.store import READINGS, TelemetryStore

DAY = 86_400
PURPOSE = "quality_improvement"
NAMES = ("state", "cycle_count", "defect_count", "power")
PRODUCT_FIELDS = ("hour", "kwh", "availability", "performance", "quality", "oee")
FAIL = 0.08  # each condition of a context fails this often: 0.92^8, about half allowed
progress = Progress(
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
    console=Console(stderr=True),
)


def agreement_policy(consumer: int, fields: Iterable[str], pulls: int) -> odrl.Policy:
    """What a supplier typically signs: its parent may use the data for quality or energy work
    for 30 days, `pulls` times, hourly or coarser, only these fields; it may not pass it on,
    and no chemicals maker (KSIC C20) may use it."""
    return odrl.parse_policy(
        {
            "uid": "urn:sandan:policy:bench",
            "permissions": [
                {
                    "action": "use",
                    "constraints": [
                        {
                            "left": "purpose",
                            "operator": "is_any_of",
                            "right": [PURPOSE, "energy_management"],
                        },
                        {"left": "recipient", "operator": "eq", "right": consumer},
                        {"left": "elapsed_time", "operator": "lteq", "right": "P30D"},
                        {"left": "count", "operator": "lteq", "right": pulls},
                        {"left": "resolution", "operator": "gteq", "right": 3600},
                        {"left": "fields", "operator": "is_any_of", "right": sorted(fields)},
                    ],
                }
            ],
            "prohibitions": [
                {"action": "distribute"},
                {
                    "action": "use",
                    "constraints": [
                        {"left": "recipient_industry", "operator": "eq", "right": "C20"}
                    ],
                },
            ],
        }
    )


# --- 1. policy decisions -------------------------------------------------------------------


def _contexts(n: int, consumer: int, pulls: int, rng: random.Random) -> list[odrl.AccessContext]:
    """Varied accesses: each of eight conditions fails now and then, independently."""
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def bad() -> bool:
        return rng.random() < FAIL

    out = []
    for _ in range(n):
        fields = set(rng.sample(PRODUCT_FIELDS, rng.randint(1, len(PRODUCT_FIELDS))))
        if bad():
            fields.add("good")
        out.append(
            odrl.AccessContext(
                at=now,
                action=odrl.Action.distribute if bad() else odrl.Action.use,
                purpose=rng.choice(["research", None]) if bad() else PURPOSE,
                recipient=consumer + 1 if bad() else consumer,
                recipient_industry="C20111" if bad() else rng.choice(["26110", "C26120"]),
                recipient_zone="Z2",
                agreed_at=now - timedelta(seconds=rng.randint(31 * DAY, 60 * DAY))
                if bad()
                else now - timedelta(seconds=rng.randint(0, 30 * DAY)),
                count=rng.randint(pulls + 1, 2 * pulls) if bad() else rng.randint(1, pulls),
                rows=rng.randint(0, 10**6),
                bytes=rng.randint(0, 10**8),
                resolution=rng.choice([0, 60]) if bad() else rng.choice([3600, 86_400]),
                fields=frozenset(fields),
            )
        )
    return out


def _by_hand(consumer: int, pulls: int) -> Callable[[odrl.AccessContext], bool]:
    """The same policy as plain Python: the least any evaluator of it can cost."""
    purposes = frozenset({PURPOSE, "energy_management"})
    allowed_fields = frozenset(PRODUCT_FIELDS)
    limit = 30 * DAY

    def check(ctx: odrl.AccessContext) -> bool:
        if ctx.action is not odrl.Action.use:
            return False
        industry = ctx.recipient_industry
        if industry is None or industry.lstrip("ABCDEFGHIJKLMNOPQRSTU").startswith("20"):
            return False
        return (
            ctx.purpose in purposes
            and ctx.recipient == consumer
            and ctx.agreed_at is not None
            and (ctx.at - ctx.agreed_at).total_seconds() <= limit
            and ctx.count is not None
            and ctx.count <= pulls
            and ctx.resolution is not None
            and ctx.resolution >= 3600
            and ctx.fields is not None
            and ctx.fields <= allowed_fields
        )

    return check


def _rate(decide: Callable[[odrl.AccessContext], Any], contexts: list[odrl.AccessContext]) -> float:
    started = time.perf_counter()
    for ctx in contexts:
        decide(ctx)
    return len(contexts) / (time.perf_counter() - started)


def policy_figure(n: int, rounds: int) -> dict[str, Any]:
    consumer, pulls = 2, 1000
    policy = agreement_policy(consumer, PRODUCT_FIELDS, pulls)
    contexts = _contexts(n, consumer, pulls, random.Random(7))
    by_hand = _by_hand(consumer, pulls)
    verdicts = [odrl.evaluate(policy, c).allowed for c in contexts]
    disagree = sum(v != by_hand(c) for v, c in zip(verdicts, contexts, strict=True))
    if disagree:
        raise SystemExit(f"the hand-written check disagrees with evaluate on {disagree} contexts")
    allowed = [c for c, v in zip(contexts, verdicts, strict=True) if v]
    denied = [c for c, v in zip(contexts, verdicts, strict=True) if not v]

    def evaluate(c: odrl.AccessContext) -> odrl.Decision:
        return odrl.evaluate(policy, c)

    ours, ref, ours_allowed, ours_denied = [], [], [], []
    task = progress.add_task("Policy decisions", total=rounds)
    for _ in range(rounds):  # alternate, so that a busy moment hits both
        ours.append(_rate(evaluate, contexts))
        ref.append(_rate(by_hand, contexts))
        ours_allowed.append(_rate(evaluate, allowed))
        ours_denied.append(_rate(evaluate, denied))
        progress.advance(task)
    value, reference = statistics.median(ours), statistics.median(ref)
    return {
        "metric": "policy_decisions_per_second",
        "value": round(value),
        "unit": "decisions/s",
        "reference": round(reference),
        "reference_name": "the same conditions hand-written in Python (no reasons, no duties)",
        "ratio": round(value / reference, 4),
        "target": None,
        "details": {
            "contexts": n,
            "allowed_share": round(len(allowed) / n, 3),
            "rounds": rounds,
            "allowed_only_per_s": round(statistics.median(ours_allowed)),
            "denied_only_per_s": round(statistics.median(ours_denied)),
            "us_per_decision": round(1e6 / value, 2),
            "constraints": 6,
            "prohibitions": 2,
        },
    }


# --- 2. governed pulls -----------------------------------------------------------------------


def _readings(tags: dict[str, int], start: datetime, hours: int) -> pa.Table:
    """One reading per tag every 10 s: a machine that runs with a stop now and then, makes
    about 1 unit every 10 s, rejects 2 %, and draws 40 to 60 kW while running."""
    rng = np.random.default_rng(11)
    n = hours * 360 + 1
    running = (rng.random(n) > 0.05).astype(np.float64)
    made = rng.poisson(1.0, n) * running
    bad = rng.binomial(made.astype(np.int64), 0.02)
    series = {
        tags["state"]: running,
        tags["cycle_count"]: np.cumsum(made),
        tags["defect_count"]: np.cumsum(bad).astype(np.float64),
        tags["power"]: running * rng.uniform(40, 60, n) + 2.0,
    }
    base = np.datetime64(start.replace(tzinfo=None), "us")
    stamps = base + (np.arange(n) * 10).astype("timedelta64[s]")
    return pa.table(
        {
            "tag_id": pa.array(np.repeat(list(series), n), pa.int32()),
            "ts": pa.array(np.tile(stamps, len(series)), pa.timestamp("us")),
            "value": pa.array(np.concatenate(list(series.values())), pa.float64()),
            "quality": pa.array(np.zeros(n * len(series), np.uint8), pa.uint8()),
        },
        schema=READINGS,
    )


def _admin(s: Any, company_id: int, email: str) -> tuple[Principal, str]:
    """A company admin and an API token of theirs (the owner reads its own data with it)."""
    user = identity.create_user(
        s,
        Principal.system("bench"),
        email=email,
        name=email,
        password="bench-password-123",
        role=Role.company_admin.value,
        company_id=company_id,
    )
    me = identity.principal_for(user)
    scopes = [sc.value for sc in ROLE_SCOPES[Role.company_admin]]
    _, token = identity.issue_api_token(s, me, name="bench", scopes=scopes, days=1)
    return me, token


def _world(directory: Path, start: datetime, hours: int) -> dict[str, Any]:
    """Company A with one line and machine of four tags; company B, its parent, holding an
    agreement for the tags' hourly rollups and one for the line's hourly product."""
    settings, ctx, s, system, a, site = bench_plant(directory)
    with s:
        zone_id = s.get(Company, a).zone_id  # type: ignore[union-attr]
        b = registry.create_company(
            s,
            system,
            schemas.CompanyIn(brn="2208162517", name="parent", ksic="26110", zone_id=zone_id),
        ).id
        area = registry.create_asset(
            s, system, schemas.AssetIn(site_id=site, level="area", code="A", name="area")
        )
        line = registry.create_asset(
            s,
            system,
            schemas.AssetIn(site_id=site, parent_id=area.id, level="line", code="L1", name="l"),
        )
        machine = registry.create_asset(
            s,
            system,
            schemas.AssetIn(site_id=site, parent_id=line.id, level="machine", code="M1", name="m"),
        )
        device = registry.create_device(
            s, system, schemas.DeviceIn(site_id=site, machine_id=machine.id, name="gw")
        )
        tags = {
            name: registry.create_tag(
                s,
                system,
                schemas.TagIn(device_id=device.id, name=name, data_type="float"),
            ).id
            for name in NAMES
        }
        owner, owner_token = _admin(s, a, "owner@a.example")
        parent, _ = _admin(s, b, "parent@b.example")
        keys = Keys(settings.resolved_secret_key(), settings.sharing_fee_rate)

        def sign(title: str, selection: Any, fields: list[str]) -> tuple[int, int]:
            offer = offers.create_offer(
                s,
                owner,
                OfferIn(
                    title=title,
                    selection=selection,
                    contract_policy=agreement_policy(b, fields, 10**9),
                    price_model="per_1000_rows",
                    price_krw=100,
                ),
            )
            n = negotiations.start(
                s, parent, NegotiationRequest(offer_id=offer.id, purpose=PURPOSE), keys
            )
            agreement = negotiations.agreement_of(s, n.id)
            assert agreement is not None and agreement.status == "active", n.state
            return offer.id, agreement.id

        telemetry_fields = [f["name"] for f in offers.TELEMETRY_SCHEMA]
        product_fields = [f["name"] for f in offers.PRODUCT_SCHEMAS["line_hourly"][1]]
        rollups = sign(
            "hourly rollups", TelemetrySelection(tag_ids=list(tags.values())), telemetry_fields
        )
        product = sign(
            "line hourly", ProductSelection(product="line_hourly", line_id=line.id), product_fields
        )
        tokens = {
            aid: access.issue_token(s, parent, aid).access_token for _, aid in (rollups, product)
        }
        s.commit()
    app = create_app(settings, with_ui=False, ctx=ctx)
    store: TelemetryStore = app.state.telemetry_store
    store.append(_readings(tags, start - timedelta(minutes=1), hours))
    return {
        "settings": settings,
        "ctx": ctx,
        "app": app,
        "store": store,
        "owner": owner,
        "owner_token": owner_token,
        "line": line.id,
        "tags": list(tags.values()),
        "cases": {"rollups_4_tags_1h": rollups, "line_hourly_product": product},
        "tokens": tokens,
    }


def _summary(governed: list[float], plain: list[float]) -> dict[str, float]:
    g50, g99 = statistics.median(governed), float(np.percentile(governed, 99))
    p50, p99 = statistics.median(plain), float(np.percentile(plain, 99))
    return {
        "governed_p50_ms": round(g50 * 1e3, 3),
        "governed_p99_ms": round(g99 * 1e3, 3),
        "ungoverned_p50_ms": round(p50 * 1e3, 3),
        "ungoverned_p99_ms": round(p99 * 1e3, 3),
        "added_p50_ms": round((g50 - p50) * 1e3, 3),
        "overhead_p50_pct": round((g50 / p50 - 1) * 100, 1),
        "overhead_p99_pct": round((g99 / p99 - 1) * 100, 1),
    }


def _alternate(
    name: str, n: int, governed: Callable[[], int], plain: Callable[[], int], rows: int
) -> dict[str, Any]:
    """n calls of each, alternating, after a few unmeasured ones; both must give `rows` rows."""
    for _ in range(5):
        governed(), plain()
    times: tuple[list[float], list[float]] = ([], [])
    task = progress.add_task(name, total=n)
    for _ in range(n):
        for i, call in enumerate((governed, plain)):
            started = time.perf_counter()
            got = call()
            times[i].append(time.perf_counter() - started)
            if got != rows:
                raise SystemExit(f"{name}: {got} rows instead of {rows}")
        progress.advance(task)
    return {"rows": rows, "calls_each": n, **_summary(*times)}


def service_figures(w: dict[str, Any], start: datetime, end: datetime, n: int) -> dict[str, Any]:
    ctx: Context = w["ctx"]
    store, tz = w["store"], w["settings"].plant_timezone
    req = data.Request(start, end, None, None)
    out = {}
    for name, (offer_id, aid) in w["cases"].items():
        with ctx.db.unit() as s:
            offer = offers.get_offer(s, w["owner"], offer_id)
            expected = data.fetch(s, store, offer, req, tz)
            outcome = access.pull(s, store, aid, "bench-consumer", req, PURPOSE, tz)
        if not outcome.allowed or outcome.rows != expected:  # checked once, outside the timing
            raise SystemExit(f"{name}: the governed pull differs: {outcome.reasons}")

        def governed(aid: int = aid) -> int:
            with ctx.db.unit() as s:
                outcome = access.pull(s, store, aid, "bench-consumer", req, PURPOSE, tz)
            return len(outcome.rows) if outcome.allowed else -1

        def plain(offer_id: int = offer_id) -> int:
            with ctx.db.unit() as s:
                offer = offers.get_offer(s, w["owner"], offer_id)
                return len(data.fetch(s, store, offer, req, tz))

        out[name] = _alternate(f"Service: {name}", n, governed, plain, len(expected))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_figures(w: dict[str, Any], start: datetime, end: datetime, n: int) -> dict[str, Any]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(w["app"], host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    window = {"start": start.isoformat(), "end": end.isoformat()}
    owner = {"Authorization": f"Bearer {w['owner_token']}"}
    (_, rollup_aid), (_, product_aid) = w["cases"].values()
    tz = w["settings"].plant_timezone
    owner_routes: dict[int, tuple[str, dict[str, Any], Callable[[Any], int]]] = {
        rollup_aid: (
            "/api/v1/telemetry/rollups",
            {**window, "tag_id": w["tags"], "resolution": "1h"},
            len,
        ),
        product_aid: (
            f"/api/v1/analytics/lines/{w['line']}/oee",
            {**window, "group_by": "day_shift", "shifts": HOURLY, "tz": tz},
            lambda body: len(body["groups"]),
        ),
    }
    out = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for name, (_, aid) in w["cases"].items():
                bearer = {"Authorization": f"Bearer {w['tokens'][aid]}"}
                path, params, count = owner_routes[aid]

                def governed(aid: int = aid, bearer: dict[str, str] = bearer) -> int:
                    answer = client.get(
                        f"/api/v1/sharing/agreements/{aid}/data",
                        params={**window, "purpose": PURPOSE},
                        headers=bearer,
                    )
                    answer.raise_for_status()
                    return int(answer.json()["count"])

                def plain(
                    path: str = path,
                    params: dict[str, Any] = params,
                    count: Callable[[Any], int] = count,
                ) -> int:
                    answer = client.get(path, params=params, headers=owner)
                    answer.raise_for_status()
                    return count(answer.json())

                rows = plain()
                out[name] = {
                    "owner_route": path,
                    **_alternate(f"HTTP: {name}", n, governed, plain, rows),
                }
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="more contexts and calls")
    full = parser.parse_args().full
    scale = 3 if full else 1
    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    with progress:
        policy = policy_figure(5000 * scale, 7)
        with tempfile.TemporaryDirectory() as directory:
            began = time.perf_counter()
            end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            start = end - timedelta(hours=24)
            w = _world(Path(directory), start, 24)
            prepared = time.perf_counter() - began
            in_process = service_figures(w, start, end, 200 * scale)
            over_http = http_figures(w, start, end, 150 * scale)
            w["ctx"].db.dispose()
    load = max(load, os.getloadavg()[0])
    head = in_process["rollups_4_tags_1h"]
    print(json.dumps(policy))
    print(
        json.dumps(
            {
                "metric": "governed_pull_p50_ms",
                "value": head["governed_p50_ms"],
                "unit": "ms",
                "reference": head["ungoverned_p50_ms"],
                "reference_name": (
                    "the same 96 hourly rollup rows through service.data.fetch in a unit of "
                    "work, without policy, lock, metering or audit"
                ),
                "ratio": round(head["governed_p50_ms"] / head["ungoverned_p50_ms"], 4),
                "target": round(head["ungoverned_p50_ms"] * 1.10, 3),
                "details": {
                    "target_rule": "at most 10% over the ungoverned read (ratio <= 1.10)",
                    "service": in_process,
                    "http": over_http,
                    "policy": policy,
                    "prepare_s": round(prepared, 1),
                    "database": "sqlite",
                    "store": "duckdb",
                    "load_average_1m": round(load, 2),
                    "cores": os.cpu_count(),
                    "python": sys.version.split()[0],
                },
            }
        )
    )


if __name__ == "__main__":
    main()
