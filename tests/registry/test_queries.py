"""Query-count baselines for list routes (no N+1) and durability of acknowledged writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from conftest import World, square
from sandan.core.context import Context
from sandan.registry.models import Site
from sandan.registry.validators import brn_check_digit
from sandan.settings import Settings


@contextmanager
def count_queries(ctx: Context) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", before)


def test_list_routes_use_a_constant_number_of_queries(
    client: TestClient, world: World, ctx: Context
) -> None:
    h = world.headers("operator")
    routes = [
        "/api/v1/companies",
        "/api/v1/sites",
        "/api/v1/assets",
        "/api/v1/devices",
        "/api/v1/tags",
        "/api/v1/users",
        "/api/v1/overview",
    ]
    client.get("/api/v1/auth/me", headers=h)  # the token's first use records last_used_at
    baseline = {}
    for route in routes:
        with count_queries(ctx) as queries:
            assert client.get(route, headers=h).status_code == 200
        baseline[route] = len(queries)
    for i in range(20):  # ten times more companies, each with a site
        first = f"31081{i:04d}"
        r = client.post(
            "/api/v1/companies",
            headers=h,
            json={
                "brn": first + str(brn_check_digit(first)),
                "name": f"N+1 검사 {i}",
                "ksic": "26110",
                "zone_id": world.zones["Z3"],
                "footprint": square(128.4 + i * 0.002, 36.1),
            },
        )
        assert r.status_code == 201
        client.post("/api/v1/sites", headers=h, json={"company_id": r.json()["id"], "name": "s"})
    for route in routes:
        with count_queries(ctx) as queries:
            assert client.get(route, headers=h).status_code == 200
        assert len(queries) == baseline[route], (route, queries)


def test_acknowledged_write_is_durable_before_the_answer(
    client: TestClient, world: World, settings: Settings
) -> None:
    r = client.post(
        "/api/v1/sites",
        headers=world.headers("admin_a"),
        json={"company_id": world.companies["A"], "name": "Plant 2"},
    )
    assert r.status_code == 201
    fresh = Context.build(settings)  # another process's view: a new engine and connection
    try:
        with fresh.db.unit() as s:
            assert s.scalar(select(Site.name).where(Site.id == r.json()["id"])) == "Plant 2"
    finally:
        fresh.db.dispose()
