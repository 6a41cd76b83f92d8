"""`sandan simulate --opcua-secure`: simulated machines that require Basic256Sha256 with
SignAndEncrypt and a login, read by the real OPC UA ingest with the file the simulator writes."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from asyncua import Client
from test_simulate_cli import seeded_opcua_machine

from sandan.core.context import Context
from sandan.settings import Settings
from sandan.simulator.opcua_server import collector_file, server_security
from sandan.simulator.run import SimulateConfig, Simulation
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.opcua_security import load_opcua_security, trusted_dir
from sandan.telemetry.opcua_worker import OpcUaIngest


async def test_secured_simulated_machines_feed_the_secured_collector(
    settings: Settings, ctx: Context, tmp_path: Path
) -> None:
    device_id, endpoint, rows = seeded_opcua_machine(ctx)
    numeric = {r[3] for r in rows if r[6] != "str"}
    security = server_security(tmp_path / "sim")
    assert server_security(tmp_path / "sim") == security  # made once, reused
    sim = Simulation(
        ctx.db,
        SimulateConfig(opcua=1, rate=0.2, devices=frozenset({device_id}), opcua_security=security),
    )
    stop = asyncio.Event()
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    worker: OpcUaIngest | None = None
    task: asyncio.Task[None] | None = None
    try:
        await sim.prepare()
        run = asyncio.create_task(sim.run(stop))
        # only an encrypted endpoint with a login is offered: no anonymous, plain access
        offered = await Client(endpoint, timeout=5).connect_and_get_server_endpoints()
        assert {(e.SecurityPolicyUri.rpartition("#")[2], e.SecurityMode.name) for e in offered} == {
            ("Basic256Sha256", "SignAndEncrypt")
        }
        tokens = {t.TokenType.name for e in offered for t in e.UserIdentityTokens}
        assert tokens == {"UserName"}

        path = collector_file(tmp_path / "collector.toml", [endpoint], security)
        collector = settings.model_copy(update={"opcua_security_file": path})
        trusted = trusted_dir(collector)
        trusted.mkdir(parents=True, exist_ok=True)
        shutil.copy(security.certificate.cert_path, trusted)
        worker = OpcUaIngest(
            ctx.db,
            store,
            flush_ms=50,
            source_options={"publishing_interval_ms": 100, "flush_ms": 50},
            security=load_opcua_security(collector),
        )
        task = asyncio.create_task(worker.run())
        deadline = asyncio.get_running_loop().time() + 30
        while {r["tag_id"] for r in store.latest(sorted(numeric)).to_pylist()} != numeric:
            assert asyncio.get_running_loop().time() < deadline, worker.sources
            await asyncio.sleep(0.05)
        _, source, _ = worker.sources[endpoint]
        assert source.refusals == 0 and worker.stats.rejected == 0
        stop.set()
        await run
    finally:
        stop.set()
        if worker is not None and task is not None:
            await worker.stop()
            await asyncio.wait_for(task, 10)
        await sim.close()
        store.close()
