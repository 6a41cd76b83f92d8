"""`sandan serve` can run the Sparkplug B and OPC UA ingest workers itself (settings
`sparkplug_ingest`, `opcua_ingest`), as it runs the MQTT one: the app's lifespan starts them,
a real edge node and a real OPC UA server feed them, and stopping the app stops them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

import aiomqtt
from sparkplug_edge import EdgeNode, standard_metrics
from test_opcua import _start_machine
from test_opcua_ingest import _opcua_device
from test_sparkplug_ingest import URL, _clear_retained, _sparkplug_device, _unique

from conftest import World, free_port, need_service
from sandan.app import create_app
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.store import TelemetryStore


def _latest(store: TelemetryStore, tag_id: int) -> float | None:
    rows = store.latest([tag_id]).to_pylist()
    return rows[0]["value"] if rows else None


async def _until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not stored in time"
        await asyncio.sleep(0.1)


async def test_serve_runs_the_sparkplug_and_opcua_workers(
    settings: Settings, ctx: Context, world: World
) -> None:
    parts = urlsplit(URL)
    try:
        async with asyncio.timeout(5), aiomqtt.Client(parts.hostname or "", parts.port or 1883):
            pass
    except (aiomqtt.MqttError, OSError) as exc:
        need_service(f"MQTT broker at {URL} unavailable: {exc}")
    group, host_id = _unique("sp-serve"), _unique("serve-host")
    _, spark = _sparkplug_device(ctx, world, f"{group}/edge-s/pump-1")
    port = free_port()
    _, opc = _opcua_device(ctx, world, f"opc.tcp://127.0.0.1:{port}/sandan/")
    machine = await _start_machine(port)
    served = settings.model_copy(
        update={
            "mqtt_url": URL,
            "sparkplug_ingest": True,
            "sparkplug_host_id": host_id,
            "opcua_ingest": True,
        }
    )
    app = create_app(served, with_ui=False, ctx=ctx)
    store: TelemetryStore = app.state.telemetry_store
    try:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(1.0)  # subscribed, and the OPC UA source connected
            async with EdgeNode(URL, group, "edge-s", "pump-1", standard_metrics()) as edge:
                await edge.ddata({"Temperature": 61.5})
                await _until(lambda: _latest(store, spark["Temperature"]) == 61.5)
            await machine.temp.write_value(88.25)
            await _until(lambda: _latest(store, opc["temperature"]) == 88.25)
    finally:
        await machine.server.stop()
        await _clear_retained(topics.state_topic(host_id))
