"""OPC UA endpoints for simulated machines: one asyncua server per machine on 127.0.0.1.

A device registered with `protocol="opcua"` and `external_id="opc.tcp://127.0.0.1:<port>/…"`
is served at exactly that endpoint, each tag as a variable at its `source_address` (by
default `ns=2;s=<tag name>`), so `sandan ingest opcua` reads what the registry says. Values
are written into the address space every step; a subscribed client gets them as data
changes. An asyncua server takes a few seconds to build its standard address space, so
serve tens of machines this way, not thousands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

from asyncua import ua
from asyncua.server.server import Server

NAMESPACE = "urn:sandan:simulator"
_VARIANT = {"float": ua.VariantType.Double, "int": ua.VariantType.Int64}


@dataclass(frozen=True)
class ServedTag:
    index: int  # position in the layout (the step's values)
    name: str
    node_id: str
    data_type: str


@dataclass
class ServedMachine:
    device_id: int
    endpoint: str
    name: str
    tags: list[ServedTag]
    server: Server | None = None
    nodes: list[tuple[ua.NodeId, ua.VariantType, ServedTag]] = field(default_factory=list)


def local_endpoint(external_id: str) -> tuple[str, int] | None:
    """(host, port) of an `opc.tcp://` endpoint on this machine, else None."""
    parts = urlsplit(external_id)
    if parts.scheme != "opc.tcp" or parts.hostname not in ("127.0.0.1", "localhost"):
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if port else None


def _variant(tag: ServedTag) -> ua.VariantType:
    if tag.data_type == "bool":
        return ua.VariantType.Boolean
    if tag.name == "state":
        return ua.VariantType.Int32
    return _VARIANT.get(tag.data_type, ua.VariantType.Double)


def _typed(value: float, vtype: ua.VariantType) -> Any:
    if vtype == ua.VariantType.Boolean:
        return value > 0.5
    if vtype in (ua.VariantType.Int32, ua.VariantType.Int64):
        return round(value)
    return round(value, 3)


async def start_machine(machine: ServedMachine, values: list[float]) -> None:
    """Build and start the machine's server with its variables at their first values."""
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # no warnings per server
    server = Server()
    await server.init()
    server.set_endpoint(machine.endpoint)
    server.set_server_name(f"Sandan simulator: {machine.name}")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    namespaces = [await server.register_namespace(NAMESPACE)]
    folder = await server.nodes.objects.add_object(
        ua.NodeId(ua.String(f"machine:{machine.name}"), ua.Int16(namespaces[0])), machine.name
    )
    for tag in machine.tags:
        node_id = ua.NodeId.from_string(tag.node_id)
        while node_id.NamespaceIndex > namespaces[-1]:  # a source address in a later ns
            namespaces.append(await server.register_namespace(f"{NAMESPACE}:{len(namespaces)}"))
        vtype = _variant(tag)
        await folder.add_variable(
            node_id, tag.name, _typed(values[tag.index], vtype), varianttype=vtype
        )
        machine.nodes.append((node_id, vtype, tag))
    await server.start()
    machine.server = server


async def write_values(machine: ServedMachine, values: list[float], at: datetime) -> int:
    """Write the step's values into the machine's address space; returns how many."""
    server = machine.server
    if server is None:
        return 0
    stamp = cast(ua.DateTime, at.astimezone(UTC))
    for node_id, vtype, tag in machine.nodes:
        value = ua.DataValue(
            ua.Variant(_typed(values[tag.index], vtype), vtype),
            SourceTimestamp=stamp,
            ServerTimestamp=stamp,
        )
        await server.write_attribute_value(node_id, value)
    return len(machine.nodes)


async def stop_machine(machine: ServedMachine) -> None:
    if machine.server is not None:
        server, machine.server = machine.server, None
        await server.stop()


async def start_all(
    machines: list[ServedMachine],
    values: list[float],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Start the servers one after another (building one is CPU work, not waiting)."""
    for machine in machines:
        await start_machine(machine, values)
        if progress is not None:
            progress(1)
