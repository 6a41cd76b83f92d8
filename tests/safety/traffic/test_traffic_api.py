"""The traffic routes: any logged-in user reads the signal plans; only the control centre
runs a comparison (in the real SUMO), which is then the last comparison and the panel's;
one comparison at a time; while it runs, the plans show the adaptive controller's phases."""

from __future__ import annotations

import threading
import time

import traci
from fastapi.testclient import TestClient

from conftest import World
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.traffic import service
from sandan.safety.traffic.schemas import ComparisonIn, ComparisonOut

API = "/api/v1/safety/traffic"
SMALL_RUN = {"network": "small", "horizon_s": 600, "webster": True}


def test_any_logged_in_user_reads_the_signal_plans(client: TestClient, world: World) -> None:
    assert client.get(f"{API}/signals").status_code == 401
    answer = client.get(f"{API}/signals", headers=world.headers("member_b"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["junctions"]) == 16 and body["adaptive_running"] is False
    junction = body["junctions"][0]
    assert junction["cycle_s"] == sum(p["duration_s"] for p in junction["phases"])
    assert {p["kind"] for p in junction["phases"]} == {"green", "yellow"}
    assert {j["zone"] for j in body["junctions"]} == {1, 2, 3, 4}
    safety = world.headers("safety")
    small = client.get(f"{API}/signals", params={"network": "small"}, headers=safety)
    assert len(small.json()["junctions"]) == 4
    bad = client.get(f"{API}/signals", params={"network": "city"}, headers=safety)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "network"


def test_only_the_control_centre_runs_a_comparison(client: TestClient, world: World) -> None:
    for who in ("admin_a", "member_a", "logistics"):
        denied = client.post(f"{API}/comparison", json=SMALL_RUN, headers=world.headers(who))
        assert denied.status_code == 403, who
    assert client.get(f"{API}/comparison", headers=world.headers("member_a")).json() == {
        "running": False,
        "last": None,
    }
    ran = client.post(f"{API}/comparison", json=SMALL_RUN, headers=world.headers("safety"))
    assert ran.status_code == 200, ran.text
    out = ran.json()
    assert out["junctions"] == 4 and out["vehicles"] > 0
    for run in ("fixed", "adaptive", "webster"):
        assert out[run]["vehicles_loaded"] == out["vehicles"]
    assert out["fixed"]["phase_switches"] == 0 < out["adaptive"]["phase_switches"]
    fixed, adaptive = out["fixed"]["mean_delay_s"], out["adaptive"]["mean_delay_s"]
    assert out["delay_reduction_pct"] == round(100 * (fixed - adaptive) / fixed, 2)
    assert out["requested_by"] == f"token:{world.token_ids['safety']}/user:{world.users['safety']}"
    last = client.get(f"{API}/comparison", headers=world.headers("member_b")).json()
    assert last == {"running": False, "last": out}


def test_bad_input_names_the_field(client: TestClient, world: World) -> None:
    for body, field in (
        ({"horizon_s": 10}, "horizon_s"),
        ({"min_green_s": 2}, "min_green_s"),
        ({"network": "seoul"}, "network"),
        ({"demand_scale": 0}, "demand_scale"),
    ):
        answer = client.post(f"{API}/comparison", json=body, headers=world.headers("operator"))
        assert answer.status_code == 422
        assert [f["field"] for f in answer.json()["fields"]] == [field]


def test_one_comparison_at_a_time(client: TestClient, ctx: Context, world: World) -> None:
    board = service.live_board(ctx.settings)
    with board.run_lock:  # as if a comparison were running
        busy = client.post(f"{API}/comparison", json=SMALL_RUN, headers=world.headers("operator"))
        state = client.get(f"{API}/comparison", headers=world.headers("member_a")).json()
    assert busy.status_code == 409 and busy.json()["error"] == "Conflict"
    assert state["running"] is True


def test_live_phases_show_while_the_adaptive_run_goes(ctx: Context) -> None:
    """Poll the plans while a comparison runs in another thread, as the page would."""
    done: list[ComparisonOut] = []
    request = ComparisonIn(network="small", horizon_s=1200)
    worker = threading.Thread(
        target=lambda: done.append(
            service.run_comparison(ctx.settings, Principal.system(), request)
        )
    )
    worker.start()
    seen = []
    while worker.is_alive():
        plans = service.signal_plans(ctx.settings, "small")
        if plans.adaptive_running and all(j.live is not None for j in plans.junctions):
            seen.append(plans)
        time.sleep(0.05)
    worker.join()
    assert done and seen
    greens = {j.id: {p.index for p in j.phases if p.kind == "green"} for j in seen[-1].junctions}
    for junction in seen[-1].junctions:
        assert junction.live is not None
        assert junction.live.phase_index in greens[junction.id]
        assert junction.live.since_s <= (seen[-1].sim_time_s or 0)
    after = service.signal_plans(ctx.settings, "small")
    assert not after.adaptive_running and all(j.live is None for j in after.junctions)
    assert not service.signal_plans(ctx.settings).adaptive_running  # other network: no live


def test_panel_summarises_plans_and_the_last_comparison(ctx: Context) -> None:
    empty = service.panel(ctx.settings)
    assert empty["junctions"] == 16 and empty["last"] is None
    assert empty["plans"][0]["greens_s"] == [42.0, 42.0]
    out = service.run_comparison(
        ctx.settings, Principal.system(), ComparisonIn(network="small", horizon_s=600)
    )
    panel = service.panel(ctx.settings)
    assert panel["last"]["delay_reduction_pct"] == out.delay_reduction_pct
    assert panel["last"]["fixed_delay_s"] == round(out.fixed.mean_delay_s, 1)
    assert panel["last"]["adaptive_throughput"] == out.adaptive.arrived_in_horizon


def test_a_failing_simulation_is_a_503_not_a_500(
    client: TestClient, ctx: Context, world: World
) -> None:
    """SUMO refusing its input (here a route on a road that does not exist) is named."""
    net = service.network(ctx.settings, "small")
    demand = service.DEMANDS["small"].scaled(600, 1.0, 7)
    routes = net.directory / demand.key() / "routes.rou.xml"
    routes.parent.mkdir(parents=True, exist_ok=True)
    routes.write_text('<routes><route id="r" edges="nowhere"/></routes>')
    body = {"network": "small", "horizon_s": 600}
    failed = client.post(f"{API}/comparison", json=body, headers=world.headers("operator"))
    assert failed.status_code == 503, failed.text
    assert failed.json()["error"] == "SimulationFailed" and "SUMO" in failed.json()["detail"]
    assert service.last_comparison(ctx.settings).running is False  # the lock was let go
    assert not [c for c in traci.connection._connections if c.startswith("sandan-")]
