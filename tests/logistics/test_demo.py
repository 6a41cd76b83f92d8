"""The demo warehouse seeds through the services on a fresh world: a full floor, today's
trucks to receive, stock put away into storage bins, a pick list ready, and a ledger that
reconciles with every stock level."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World
from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics.demo import seed_warehouse_demo
from sandan.logistics.models import Bin, Order, Wave
from sandan.logistics.service import docks, inbound, inventory, picking, putaway
from sandan.logistics.service.ledger import reconcile
from sandan.logistics.timezone import local_day


def test_demo_warehouse_has_work_and_reconciles(ctx: Context, world: World) -> None:
    op = Principal.system("test")
    with ctx.db.unit(op) as session:
        w = seed_warehouse_demo(session)
    assert w is not None
    with ctx.db.unit(op) as session:
        assert seed_warehouse_demo(session) is None  # seeds once
        categories = set(session.scalars(select(Bin.category).where(Bin.warehouse_id == w)))
        assert {"general", "hazardous", "cold", "bulk"} <= categories
        today = docks.appointments(session, op, day=local_day(utcnow()))
        assert len(today) >= 2 and all(a.asn_id for a in today)
        open_asns = inbound.list_asns(session, op, status="open")
        assert {a.id for a in open_asns} >= {a.asn_id for a in today}
        stored = [q for q in inventory.stock(session, op) if q.bin_code[:2] not in ("RE", "OU")]
        assert stored and {q.owner_company_id for q in stored} == {world.companies["A"]}
        assert putaway.suggest(session, op, w) == []  # everything found a bin
        wave = session.scalars(select(Wave)).one()
        tasks = picking.pick_list(session, op, wave.id).tasks
        assert sum(t.qty for t in tasks) == 120
        assert session.scalar(select(Order.status).where(Order.ref == "SO-DEMO-2")) == "open"
        report = reconcile(session)
        assert report.ok, report.mismatches
        assert report.movements > 0


def test_a_tenant_reads_only_its_own_demo_stock(
    client: TestClient, ctx: Context, world: World
) -> None:
    with ctx.db.unit(Principal.system("test")) as session:
        seed_warehouse_demo(session)
    mine = client.get("/api/v1/logistics/stock", headers=world.headers("admin_a")).json()
    assert mine and {q["owner_company_id"] for q in mine} == {world.companies["A"]}
    theirs = client.get("/api/v1/logistics/stock", headers=world.headers("admin_b")).json()
    assert theirs == []
