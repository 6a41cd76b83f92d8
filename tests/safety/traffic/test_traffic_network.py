"""The complex's road network and its shift-change demand, built by the real netconvert
and duarouter: deterministic, signalised where it should be, seeded, and shaped like a shift
change (the incoming shift before the hour, the outgoing after it, mostly from the city
side)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sandan.safety.traffic.demand import DemandSpec, build_routes, make_trips
from sandan.safety.traffic.network import COMPLEX, SMALL, build_network
from sandan.safety.traffic.plans import read_programmes, webster_plan


def test_the_same_spec_compiles_to_the_same_network(tmp_path: Path) -> None:
    one = build_network(SMALL, tmp_path / "one")
    two = build_network(SMALL, tmp_path / "two")
    assert (
        one.net_file.read_bytes().split(b"-->", 1)[1]
        == (
            two.net_file.read_bytes().split(b"-->", 1)[1]  # after SUMO's dated header comment
        )
    )
    assert sorted(p.name for p in one.directory.iterdir()) == ["net.net.xml"]  # no leftovers


def test_complex_network_has_sixteen_signals_in_four_zones_and_arterials(tmp_path: Path) -> None:
    net = build_network(COMPLEX, tmp_path)
    programmes = read_programmes(net.net_file)
    assert len(programmes) == 16
    for _program, kind, phases in programmes.values():
        assert kind == "static"
        assert sum(p.duration_s for p in phases) == COMPLEX.cycle_s
        assert [p.kind for p in phases].count("yellow") >= 2  # a yellow after every green
        assert all(p.duration_s == COMPLEX.yellow_s for p in phases if p.kind == "yellow")
    assert sorted(z for z, edges in net.gates.items() if edges) == [1, 2, 3, 4]
    assert all(len(net.entries[side]) == 4 for side in "WSEN")
    text = net.net_file.read_text()
    assert 'id="J2_0-J2_1_1"' in text  # the middle row is an arterial: a second lane
    assert 'id="J0_0-J0_1_1"' not in text  # an estate road has one


def test_demand_is_seeded_and_shaped_like_a_shift_change(tmp_path: Path) -> None:
    net = build_network(COMPLEX, tmp_path)
    demand = DemandSpec()
    trips = make_trips(net, demand)
    again = make_trips(net, demand)
    other = make_trips(net, DemandSpec(seed=demand.seed + 1))
    assert np.array_equal(trips.depart, again.depart)
    assert np.array_equal(trips.origin, again.origin)
    assert not np.array_equal(trips.origin[:100], other.origin[:100])
    assert np.all(np.diff(trips.depart) >= 0)
    entries = {e for edges in net.entries.values() for e in edges}
    exits = {e for edges in net.exits.values() for e in edges}
    cars = trips.kind == 0
    inbound = cars & np.isin(trips.origin, list(entries))
    outbound = cars & np.isin(trips.destination, list(exits))
    assert np.median(trips.depart[inbound]) < demand.shift_at_s < np.median(trips.depart[outbound])
    west = np.isin(trips.origin[inbound], net.entries["W"]).mean()
    north = np.isin(trips.origin[inbound], net.entries["N"]).mean()
    assert west > 0.4 > 0.2 > north  # most workers come from the city side
    assert 0 < (trips.kind == 1).sum() < cars.sum()  # freight runs alongside


def test_routes_and_a_webster_plan_for_the_demand(tmp_path: Path) -> None:
    net = build_network(SMALL, tmp_path)
    demand = DemandSpec(commuters_in=120, commuters_out=80, trucks_per_hour=30).scaled(900)
    routes = build_routes(net, demand)
    assert routes.read_text().count("<vehicle ") == len(make_trips(net, demand).depart)
    assert build_routes(net, demand) == routes  # made once, reused
    plan = webster_plan(net, routes, yellow_s=3, min_green_s=10)
    programmes = read_programmes(plan)
    assert len(programmes) == 4
    cycles = {sum(p.duration_s for p in phases) for _i, _k, phases in programmes.values()}
    assert len(cycles) == 1  # one common cycle
    for _program, _kind, phases in programmes.values():
        assert all(p.duration_s >= 10 for p in phases if p.kind == "green")
