"""Shared warehouse: stock transactions per second with 16 concurrent clerks on PostgreSQL.

Each clerk repeats one cycle of four transactions, each its own unit of work through the
real services (row locks, CHECK constraints, ledger rows, quant updates, as in production):

1. receive 5 units of an item blind at the dock (ledger `receive`);
2. put them away into a storage bin (capacity and owner checks, ledger `putaway`);
3. place an order for 5 and reserve it (order row lock, quants locked in (item, id) order);
4. pick the reservation to the outbound bin (ledger `pick`).

Sixteen clerks (four client processes, like four API workers, of four threads each) share
four items, so they queue on the same quant rows, as on a busy floor.
Reference, same run: the same number of bare transactions from 16 threads with psycopg,
each an INSERT of one ledger-like row and an UPDATE of one of four counter rows - the
database's floor for a write transaction that touches a hot row. The ratio is ours / floor.

The run uses its own database (created and dropped here) on the server of
SANDAN_BENCH_DATABASE_URL, else SANDAN_TEST_DATABASE_URL, else postgres@127.0.0.1:5432, and
checks at the end that the ledger reconciles with the stock levels.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from sandan.core.clock import utcnow
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.logistics import schemas, schemas_out
from sandan.logistics.models import OrderLine, Reservation
from sandan.logistics.service import inbound, layout, outbound, picking, putaway
from sandan.logistics.service.items import create_item
from sandan.logistics.service.ledger import reconcile
from sandan.migrate import upgrade
from sandan.registry import schemas as registry_schemas
from sandan.registry import service as registry
from sandan.settings import Settings

CLERKS, ITEMS, PROCESSES = 16, 4, 4  # 16 clients: 4 processes (API workers) × 4 threads
SYSTEM = Principal.system("bench")


def server_url() -> str:
    raw = (
        os.environ.get("SANDAN_BENCH_DATABASE_URL")
        or os.environ.get("SANDAN_TEST_DATABASE_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def seed(ctx: Context) -> tuple[int, int, int, list[int], list[int]]:
    """(warehouse, receiving bin, owner, storage bins, items) of a fresh warehouse."""
    with ctx.db.unit(SYSTEM) as s:
        cx = registry.create_complex(
            s,
            SYSTEM,
            registry_schemas.ComplexIn(code="B", name="bench", center_lat=36.1, center_lon=128.4),
        )
        zone = registry.create_zone(
            s, SYSTEM, registry_schemas.ZoneIn(complex_id=cx.id, code="Z1", name="z")
        )
        owner = registry.create_company(
            s,
            SYSTEM,
            registry_schemas.CompanyIn(
                brn="1248100998", name="bench", ksic="26110", zone_id=zone.id
            ),
        ).id
        w = layout.create_warehouse(
            s, SYSTEM, schemas.WarehouseIn(code="B", name="b", lat=36, lon=128)
        )
        z = layout.create_zone(s, SYSTEM, w.id, schemas.ZoneIn(code="S", sequence=1))
        receiving = layout.create_bin(
            s, SYSTEM, schemas.BinIn(zone_id=z.id, code="R", kind="receiving")
        )
        layout.create_bin(s, SYSTEM, schemas.BinIn(zone_id=z.id, code="O", kind="outbound"))
        grid = layout.create_bin_grid(
            s, SYSTEM, schemas.BinGridIn(zone_id=z.id, aisles=2, racks=4, levels=2)
        )
        items = [
            create_item(
                s, SYSTEM, schemas.ItemIn(owner_company_id=owner, sku=f"SKU{i}", name="x")
            ).id
            for i in range(ITEMS)
        ]
        return w.id, receiving.id, owner, [b.id for b in grid], items


def run_threads(work: Callable[[int], None]) -> float:
    """Run `work(n)` on CLERKS threads started together; the wall time in seconds."""
    barrier = threading.Barrier(CLERKS + 1)
    errors: list[BaseException] = []

    def body(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(CLERKS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


Seeded = tuple[int, int, int, list[int], list[int]]


def clerk(ctx: Context, seeded: Seeded, n: int, cycles: int) -> None:
    """One clerk's cycles, each step its own unit of work."""
    warehouse, receiving, owner, bins, items = seeded
    now = utcnow()
    item, home = items[n % ITEMS], bins[n % len(bins)]
    for c in range(cycles):
        with ctx.db.unit(SYSTEM) as s:
            got = inbound.receive(
                s,
                SYSTEM,
                schemas.ReceiveIn(
                    warehouse_id=warehouse,
                    owner_company_id=owner,
                    lines=[schemas.ReceiveLineIn(item_id=item, qty_good=5)],
                ),
            )
            lot = got.lines[0].lot_id
        with ctx.db.unit(SYSTEM) as s:
            putaway.move(
                s,
                SYSTEM,
                schemas.StockLeg(
                    item_id=item,
                    lot_id=lot,
                    owner_company_id=owner,
                    from_bin_id=receiving,
                    to_bin_id=home,
                    qty=5,
                ),
            )
        with ctx.db.unit(SYSTEM) as s:
            order = outbound.create_order(
                s,
                SYSTEM,
                schemas_out.OrderIn(
                    owner_company_id=owner,
                    warehouse_id=warehouse,
                    ref=f"{n}-{c}",
                    ship_to="x",
                    lat=36,
                    lon=128,
                    ship_date=now.date(),
                    window_start=now,
                    window_end=now + timedelta(hours=2),
                    lines=[schemas_out.OrderLineIn(item_id=item, qty=5)],
                ),
            )
            outbound.reserve(s, SYSTEM, order.id)
            held = s.scalars(
                select(Reservation.id)
                .join(OrderLine, OrderLine.id == Reservation.order_line_id)
                .where(OrderLine.order_id == order.id, Reservation.qty > 0)
            ).all()
        with ctx.db.unit(SYSTEM) as s:
            for rid in held:
                res = s.get(Reservation, rid)
                assert res is not None
                picking.pick(s, SYSTEM, schemas_out.PickIn(reservation_id=rid, qty=res.qty))


def process_clerks(url: str, seeded: Seeded, clerks: list[int], cycles: int, barrier: Any) -> None:
    """A client process (like an API worker): its own engine, its clerks on threads."""
    ctx = Context.build(Settings(database_url=url, secret_key="bench"))
    threads = [threading.Thread(target=clerk, args=(ctx, seeded, n, cycles)) for n in clerks]
    barrier.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctx.db.dispose()


def ours(ctx: Context, url: str, cycles: int) -> tuple[float, int, bool]:
    """16 clerks as PROCESSES processes × threads; the wall time from the common start."""
    seeded = seed(ctx)
    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(PROCESSES + 1)
    per = CLERKS // PROCESSES
    procs = [
        mp.Process(
            target=process_clerks,
            args=(url, seeded, list(range(i * per, (i + 1) * per)), cycles, barrier),
        )
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    if any(p.exitcode for p in procs):
        raise RuntimeError("a client process failed")
    with ctx.db.unit(SYSTEM) as s:
        ok = reconcile(s).ok
    return CLERKS * cycles * 4 / elapsed, CLERKS * cycles * 4, ok


def floor(url: str, transactions: int) -> float:
    """Bare psycopg: INSERT one row and UPDATE one of four hot rows per transaction."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_ledger (id bigserial PRIMARY KEY, item int, qty int,"
            " at timestamptz DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE bench_levels (item int PRIMARY KEY, qty int NOT NULL CHECK (qty >= 0))"
        )
        conn.execute("INSERT INTO bench_levels SELECT g, 0 FROM generate_series(0, 3) g")
    each = transactions // CLERKS

    def worker(n: int) -> None:
        with psycopg.connect(dsn) as conn:
            for _ in range(each):
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO bench_ledger (item, qty) VALUES (%s, 5)", (n % ITEMS,)
                    )
                    conn.execute(
                        "UPDATE bench_levels SET qty = qty + 5 WHERE item = %s", (n % ITEMS,)
                    )

    return each * CLERKS / run_threads(worker)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="100 cycles per clerk, not 25")
    cycles = 100 if parser.parse_args().full else 25
    server = make_url(server_url())
    name = f"sandan_bench_wms_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        settings = Settings(database_url=url, secret_key="bench")
        upgrade(settings)
        ctx = Context.build(settings)
        try:
            value, transactions, reconciled = ours(ctx, url, cycles)
        finally:
            ctx.db.dispose()
        reference = floor(url, transactions)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(
        json.dumps(
            {
                "metric": "wms_stock_transactions_per_second",
                "value": round(value, 1),
                "unit": "transactions/s",
                "reference": round(reference, 1),
                "reference_name": "bare psycopg INSERT + hot-row UPDATE transactions, 16 threads",
                "ratio": round(value / reference, 3),
                "target": 500,
                "details": {
                    "clients": CLERKS,
                    "client_processes": PROCESSES,
                    "items_shared": ITEMS,
                    "transactions": transactions,
                    "mix": "receive, putaway, order+reserve, pick (one unit of work each)",
                    "ledger_reconciles": reconciled,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
