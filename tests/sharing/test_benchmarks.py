"""Private complex benchmarks through the service and the API, on real per-company readings:
k and dominance withhold, a balanced group is published with the figures worked out by hand,
a company learns its own percentile and nothing of anyone else, and differential privacy
spends a persisted budget until it refuses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sharing_world import hour_floor, minutes_of
from sqlalchemy import select

from conftest import PASSWORD, World
from sandan.analytics.shifts import ShiftPlan
from sandan.core.context import Context
from sandan.core.errors import ValidationFailed
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.registry import schemas, service
from sandan.registry.validators import brn_check_digit
from sandan.sharing.models import PrivacyBudget
from sandan.sharing.service import benchmarks as bench
from sandan.telemetry import quality
from sandan.telemetry.store import TelemetryStore

API = "/api/v1/sharing/benchmarks"
MINUTES = 360  # each plant's readings cover the last 6 whole hours
SYSTEM = Principal.system("test")


@dataclass(frozen=True)
class Plant:
    """A company with one machine: `stop` minutes planned stop, then `idle`, then `run`
    running at 10 units a minute, drawing `kw` all along."""

    company_id: int
    token: str
    tags: tuple[int, ...]
    run: int
    busy: int
    kw: float

    @property
    def oee(self) -> float:
        return self.run / self.busy  # performance and quality are 1: no rejects, full speed

    @property
    def kwh_per_unit(self) -> float:
        return self.kw * MINUTES / 60 / (10 * self.run)


def _brn(n: int) -> str:
    nine = f"3{n:02d}81{1234 + n:04d}"
    return nine + str(brn_check_digit(nine))


def _company(ctx: Context, world: World, n: int, ksic: str, zone: str) -> tuple[int, int, str]:
    """A company with an admin's token and a site; returns its id, site id and token."""
    with ctx.db.unit(SYSTEM) as s:
        company = service.create_company(
            s,
            SYSTEM,
            schemas.CompanyIn(brn=_brn(n), name=f"벤치{n}", ksic=ksic, zone_id=world.zones[zone]),
        )
        site = service.create_site(s, SYSTEM, schemas.SiteIn(company_id=company.id, name="p"))
        user = identity.create_user(
            s,
            SYSTEM,
            email=f"bench{n}@test.example",
            name=f"bench{n}",
            password=PASSWORD,
            role=Role.company_admin.value,
            company_id=company.id,
        )
        scopes = [sc.value for sc in ROLE_SCOPES[Role.company_admin]]
        _, token = identity.issue_api_token(
            s, identity.principal_for(user), name="t", scopes=scopes, days=1
        )
        return company.id, site.id, token


def _machine(ctx: Context, site_id: int) -> dict[str, int]:
    with ctx.db.unit(SYSTEM) as s:
        area = service.create_asset(
            s, SYSTEM, schemas.AssetIn(site_id=site_id, level="area", code="A", name="A")
        )
        line = service.create_asset(
            s,
            SYSTEM,
            schemas.AssetIn(site_id=site_id, parent_id=area.id, level="line", code="L", name="L"),
        )
        machine = service.create_asset(
            s,
            SYSTEM,
            schemas.AssetIn(
                site_id=site_id, parent_id=line.id, level="machine", code="M", name="M"
            ),
        )
        device = service.create_device(
            s, SYSTEM, schemas.DeviceIn(site_id=site_id, machine_id=machine.id, name="gw")
        )
        return {
            name: service.create_tag(
                s,
                SYSTEM,
                schemas.TagIn(
                    device_id=device.id, name=name, data_type="float" if name == "power" else "int"
                ),
            ).id
            for name in ("state", "cycle_count", "power")
        }


def add_plant(
    ctx: Context,
    world: World,
    store: TelemetryStore,
    n: int,
    *,
    ksic: str,
    zone: str,
    run: int,
    idle: int = 0,
    kw: float = 60.0,
) -> Plant:
    """One reading a minute from a minute before the 6 hours; the last reading (at their end)
    is a planned stop drawing nothing, so that no state or power is held past them."""
    company_id, site_id, token = _company(ctx, world, n, ksic, zone)
    tags = _machine(ctx, site_id)
    stop = MINUTES - idle - run
    state = np.concatenate([[np.nan], np.repeat([0.0, 2.0, 1.0], [stop, idle, run]), [0.0]])
    made = np.concatenate([[0.0], np.full(stop + idle, 0.0), np.full(run, 10.0), [0.0]])
    power = np.concatenate([[np.nan], np.full(MINUTES, kw), [0.0]])
    end = hour_floor(datetime.now(UTC))
    series = {tags["state"]: state, tags["cycle_count"]: np.cumsum(made), tags["power"]: power}
    store.append(minutes_of(end - timedelta(minutes=MINUTES + 1), series))
    return Plant(company_id, token, tuple(tags.values()), run, idle + run, kw)


def window() -> bench.Window:
    """Both UTC days the 6 hours may touch."""
    end = hour_floor(datetime.now(UTC))
    return bench.Window.of((end - timedelta(hours=7)).date(), datetime.now(UTC).date())


PLAN = ShiftPlan.parse("06:00,14:00,22:00", "Asia/Seoul")


def _store(client: TestClient) -> TelemetryStore:
    store: TelemetryStore = client.app.state.telemetry_store  # type: ignore[attr-defined]
    return store


def groups(
    ctx: Context,
    client: TestClient,
    metric: bench.Metric,
    by: bench.Grouping,
    policy: bench.Policy | None = None,
    *,
    win: bench.Window | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, bench.Group]:
    principal = Principal.system("viewer")
    with ctx.db.unit(principal) as s:
        found = bench.benchmarks(
            s,
            principal,
            _store(client),
            PLAN,
            metric,
            by,
            win or window(),
            policy or bench.Policy(),
            rng=rng,
        )
    return {g.key: g for g in found}


def balanced(ctx: Context, world: World, client: TestClient) -> list[Plant]:
    """Five companies of electronics (KSIC 26): three in zone Z3, two in Z4, each busy for
    6 hours and running 1 to 5 of them."""
    zones = ("Z3", "Z3", "Z3", "Z4", "Z4")
    return [
        add_plant(
            ctx, world, _store(client), i, ksic="26120", zone=z, run=60 * (i + 1), idle=300 - 60 * i
        )
        for i, z in enumerate(zones)
    ]


# --- the acceptance cases ----------------------------------------------------------------------


def test_four_contributors_are_withheld(ctx: Context, world: World, client: TestClient) -> None:
    for i in range(4):
        add_plant(ctx, world, _store(client), i, ksic="29120", zone="Z3", run=120, idle=240)
    found = groups(ctx, client, "oee", "industry")
    assert list(found) == ["29"]  # companies A and B have no machine state: no OEE
    group = found["29"]
    assert (group.contributors, group.figures) == (4, None)
    assert group.withheld is not None and group.withheld.code == "too_few"
    assert group.withheld.message == "4 companies contribute; at least 5 are needed"
    assert "최소 5곳" in group.withheld.message_ko


def test_one_dominant_company_of_five_is_withheld(
    ctx: Context, world: World, client: TestClient
) -> None:
    """Weights are busy hours: 6 h against four times 30 min is 75 % of the total."""
    add_plant(ctx, world, _store(client), 0, ksic="29120", zone="Z3", run=300, idle=60)
    for i in range(1, 5):
        add_plant(ctx, world, _store(client), i, ksic="29120", zone="Z3", run=20, idle=10)
    for by in ("industry", "zone"):
        (group,) = groups(ctx, client, "oee", by).values()  # type: ignore[arg-type]
        assert (group.contributors, group.figures) == (5, None)
        assert group.withheld is not None and group.withheld.code == "dominance"
        assert "75%" in group.withheld.message


def test_five_balanced_companies_are_published(
    ctx: Context, world: World, client: TestClient
) -> None:
    plants = balanced(ctx, world, client)
    oee = groups(ctx, client, "oee", "industry")["26"]
    # OEE 1/6, 2/6, ... 5/6 with equal weights (6 busy hours each)
    assert oee.withheld is None and oee.figures is not None and oee.contributors == 5
    assert [p.oee for p in plants] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6])
    assert oee.figures.mean == pytest.approx(0.5)
    assert oee.figures.median == pytest.approx(0.5)
    assert (oee.figures.p25, oee.figures.p75) == pytest.approx((1 / 3, 2 / 3))
    assert (oee.figures.noisy, oee.figures.epsilon_spent) == (False, 0.0)
    # 36 kWh each over 600 ... 3000 good units: the weighted mean is 180 kWh / 9000 units
    energy = groups(ctx, client, "kwh_per_good_unit", "industry")["26"]
    assert [p.kwh_per_unit for p in plants] == pytest.approx([0.6, 0.3, 0.2, 0.15, 0.12])
    assert energy.figures is not None
    assert energy.figures.mean == pytest.approx(0.2)
    assert (energy.figures.p25, energy.figures.median, energy.figures.p75) == pytest.approx(
        (0.15, 0.2, 0.3)
    )
    # by zone: three and two companies, both too few
    zones = groups(ctx, client, "oee", "zone")
    assert {k: (g.contributors, g.withheld and g.withheld.code) for k, g in zones.items()} == {
        "GUMI/Z3": (3, "too_few"),
        "GUMI/Z4": (2, "too_few"),
    }


def test_data_quality_is_the_mean_of_each_companys_daily_tag_scores(
    ctx: Context, world: World, client: TestClient
) -> None:
    """A tag counts from the first day it is heard from: the days before the plants were
    connected are left out, and company B's tag, never heard from, makes B no contributor."""
    plants = balanced(ctx, world, client)
    _store(client).append(
        minutes_of(hour_floor(datetime.now(UTC)), {world.tags["A"]: np.array([6000.0])})
    )
    win = bench.Window(window().first - timedelta(days=2), window().last)
    tags_of = {p.company_id: list(p.tags) for p in plants} | {
        world.companies["A"]: [world.tags["A"]]
    }
    expected, naive = [], []
    with ctx.db.unit(SYSTEM) as s:
        for tags in tags_of.values():
            rows = quality.quality_daily(s, SYSTEM, _store(client), tags, win.first, win.last)
            first_heard = {
                t: min(r["day"] for r in rows if r["tag_id"] == t and r["received"]) for t in tags
            }
            kept = [r["score"] for r in rows if r["day"] >= first_heard[r["tag_id"]]]
            expected.append(np.mean(kept))
            naive.append(np.mean([r["score"] for r in rows]))
    group = groups(ctx, client, "data_quality", "industry", win=win)["26"]
    assert group.figures is not None and group.contributors == 6
    assert group.figures.mean == pytest.approx(np.mean(expected))
    assert group.figures.median == pytest.approx(np.median(expected))
    assert np.mean(naive) < np.mean(expected)  # the silent days before would drag it down
    assert min(expected) > 0.0


def test_a_company_learns_its_own_percentile_and_no_one_elses(
    ctx: Context, world: World, client: TestClient
) -> None:
    plants = balanced(ctx, world, client)
    me = plants[3]  # OEE 4/6: three companies below, none level
    response = client.get(
        f"{API}/position",
        params={"metric": "oee", "start": window().first, "end": window().last},
        headers={"Authorization": f"Bearer {me.token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["company_id"] == me.company_id
    industry, zone = body["places"]
    assert (industry["by"], industry["key"], industry["percentile"]) == ("industry", "26", 70.0)
    assert (zone["by"], zone["key"], zone["percentile"]) == ("zone", "GUMI/Z4", None)
    assert zone["withheld"]["code"] == "too_few" and zone["contributing"]
    others = [p for p in plants if p is not me]
    assert _ids_in(body) == {me.company_id}
    for other in others:
        assert str(round(other.oee, 6))[:6] not in response.text
    listed = client.get(
        API,
        params={"metric": "oee", "by": "industry", "start": window().first},
        headers={"Authorization": f"Bearer {me.token}"},
    )
    assert listed.status_code == 200, listed.text
    assert _ids_in(listed.json()) == set()
    assert set(listed.json()[0]) == {"metric", "by", "key", "contributors", "figures", "withheld"}


def _ids_in(body: Any) -> set[int]:
    """Every value under a key naming a company, anywhere in a JSON body."""
    if isinstance(body, list):
        return set().union(*(_ids_in(x) for x in body)) if body else set()
    if isinstance(body, dict):
        own = {v for k, v in body.items() if "company" in k}
        return own.union(*(_ids_in(v) for v in body.values()))
    return set()


def test_differential_privacy_spends_the_budget_until_it_refuses(
    ctx: Context, world: World, client: TestClient
) -> None:
    balanced(ctx, world, client)
    policy = bench.Policy(epsilon=0.5, epsilon_total=1.0)
    win = window()
    means = []
    for seed in (1, 2):
        group = groups(ctx, client, "oee", "industry", policy, rng=np.random.default_rng(seed))
        figures = group["26"].figures
        assert figures is not None and figures.noisy and figures.median is None
        # Laplace noise of scale dominance_share * (1 - 0) / epsilon on the exact 0.5
        noise = np.random.default_rng(seed).laplace(0.0, 0.6 / 0.5)
        assert figures.mean == pytest.approx(float(np.clip(0.5 + noise, 0.0, 1.0)))
        means.append(figures.mean)
    refused = groups(ctx, client, "oee", "industry", policy)["26"]
    assert refused.figures is None and refused.withheld is not None
    assert refused.withheld.code == "budget_exhausted"
    with ctx.db.unit(SYSTEM) as s:
        rows = {
            r.statistic: (r.epsilon_total, r.epsilon_spent)
            for r in s.scalars(select(PrivacyBudget))
        }
    # only the published group opened a budget; the withheld zones opened none
    assert rows == {bench.statistic_key("oee", "industry", "26", win): (1.0, 1.0)}
    # another window (or metric) is another statistic with its own budget
    other = bench.Window(win.first - timedelta(days=1), win.last)
    again = groups(ctx, client, "oee", "industry", policy, win=other)["26"]
    assert again.figures is not None and again.figures.epsilon_spent == 0.5


# --- the window and the position's company -----------------------------------------------------


def test_windows_are_whole_days_and_bounded() -> None:
    today = date(2024, 5, 20)
    assert bench.Window.of(None, None, today=today) == bench.Window(
        date(2024, 5, 13), date(2024, 5, 19)
    )
    assert bench.Window.of(date(2024, 5, 18), None, today=today).last == today
    assert bench.Window.of(None, date(2024, 5, 1), today=today).first == date(2024, 4, 25)
    w = bench.Window(date(2024, 5, 1), date(2024, 5, 2))
    assert (w.start.isoformat(), w.end.isoformat()) == (
        "2024-05-01T00:00:00+00:00",
        "2024-05-03T00:00:00+00:00",
    )
    for first, last, field in (
        (date(2024, 5, 3), date(2024, 5, 2), "start"),
        (None, date(2024, 5, 21), "end"),
        (date(2024, 1, 1), date(2024, 5, 1), "end"),
    ):
        with pytest.raises(ValidationFailed) as err:
            bench.Window.of(first, last, today=today)
        assert err.value.problems[0].field == field


def test_position_needs_a_company(ctx: Context, world: World, client: TestClient) -> None:
    """Operators act for the complex: they name the company; a company sees only its own."""
    operator = client.get(f"{API}/position", headers=world.headers("operator"))
    assert operator.status_code == 422
    assert "name the company" in operator.json()["detail"]
    a = world.companies["A"]
    named = client.get(
        f"{API}/position", params={"company_id": a}, headers=world.headers("operator")
    )
    assert named.status_code == 200 and named.json()["company_id"] == a
    assert (
        client.get(
            f"{API}/position", params={"company_id": a}, headers=world.headers("admin_b")
        ).status_code
        == 404
    )
    mine = client.get(
        f"{API}/position", params={"metric": "oee"}, headers=world.headers("member_a")
    )
    assert mine.status_code == 200
    # A has no machine state: it contributes to no OEE group
    assert [(p["by"], p["contributing"], p["contributors"]) for p in mine.json()["places"]] == [
        ("industry", False, 0),
        ("zone", False, 0),
    ]


def test_the_routes_check_their_input(world: World, client: TestClient) -> None:
    for params in (
        {"metric": "profit"},
        {"by": "street"},
        {"start": "2024-01-01", "end": "2024-06-01"},
    ):
        response = client.get(API, params=params, headers=world.headers("admin_a"))
        assert response.status_code == 422, params
    assert client.get(API).status_code == 401


def test_the_dashboard_has_every_metric_and_grouping_with_the_own_place(
    ctx: Context, world: World, client: TestClient
) -> None:
    plants = balanced(ctx, world, client)
    me = Principal.for_user(0, "me", plants[0].company_id, frozenset({Role.company_member}))
    with ctx.db.unit(me) as s:
        boards = bench.dashboard(s, me, _store(client), PLAN, window(), bench.Policy())
    assert [(b.metric, b.by) for b in boards] == [
        (m, by) for m in bench.METRIC_CODES for by in bench.GROUPINGS
    ]
    oee = boards[0]
    assert oee.place is not None and oee.place.percentile == 10.0  # the lowest of five
    assert asdict(oee.groups[0])["key"] == "26"
