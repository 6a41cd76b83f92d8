"""The water routes as the control centre uses them: the network for the map, what-if
breaks, and clear errors for bad input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import World

API = "/api/v1/safety/water"


def test_the_network_is_geojson_with_its_dmas(client: TestClient, world: World) -> None:
    response = client.get(f"{API}/network", headers=world.headers("safety"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [d["code"] for d in body["dmas"]] == ["Z1-1", "Z2-1"]
    features = body["features"]["features"]
    kinds = {f["properties"]["kind"] for f in features}
    assert {"reservoir", "trunk", "inlet", "tap", "factory", "main", "service"} <= kinds
    factories = [f for f in features if f["properties"]["kind"] == "factory"]
    assert {f["properties"]["company_id"] for f in factories} == set(world.companies.values())
    pipes = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert len(pipes) == body["pipes"] and all(
        len(p["geometry"]["coordinates"]) == 2 for p in pipes
    )


def test_closing_an_inlet_lists_the_factories_that_lose_pressure(
    client: TestClient, world: World
) -> None:
    response = client.post(
        f"{API}/what-if",
        json={"pipe": "Z1-1-IN", "mode": "close", "hour": 10},
        headers=world.headers("safety"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [a["company_id"] for a in body["affected"]] == [world.companies["A"]]
    hit = body["affected"][0]
    assert hit["dma"] == "Z1-1" and hit["before_m"] >= 20 > hit["after_m"]
    assert hit["drop_m"] == round(hit["before_m"] - hit["after_m"], 2)
    drops = [row["drop_m"] for row in body["lowest"]]
    assert drops == sorted(drops, reverse=True)


def test_a_large_leak_at_a_node_is_a_what_if_too(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/what-if",
        json={"node": "Z2-1-IN", "leak_area_cm2": 400, "hour": 10},
        headers=world.headers("operator"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "leak"
    assert body["lowest"][0]["company_id"] == world.companies["B"]


def test_bad_what_if_input_names_the_field(client: TestClient, world: World) -> None:
    headers = world.headers("safety")
    cases = [
        ({"pipe": "NOPE"}, "pipe"),
        ({"node": "NOPE"}, "node"),
        ({"pipe": "Z1-1-IN", "leak_area_cm2": -1}, "leak_area_cm2"),
        ({"pipe": "Z1-1-IN", "hour": 24}, "hour"),
    ]
    for body, field in cases:
        response = client.post(f"{API}/what-if", json=body, headers=headers)
        assert response.status_code == 422, response.text
        assert field in response.text
    both = client.post(
        f"{API}/what-if", json={"pipe": "Z1-1-IN", "node": "Z1-1-IN"}, headers=headers
    )
    assert both.status_code == 422


def test_an_unknown_dma_is_404_and_no_readings_are_nulls(client: TestClient, world: World) -> None:
    headers = world.headers("safety")
    assert client.get(f"{API}/dmas/Z9-9/night-flow", headers=headers).status_code == 404
    response = client.get(f"{API}/dmas/Z1-1/balance", params={"hours": 3}, headers=headers)
    assert response.status_code == 200
    assert [p["loss"] for p in response.json()["points"]] == [None, None, None]
    assert client.get(f"{API}/suspicions", headers=headers).json() == []
    bad = client.get(f"{API}/dmas/Z1-1/balance", params={"hours": 0}, headers=headers)
    assert bad.status_code == 422 and "hours" in bad.text
