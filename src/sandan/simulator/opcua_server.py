"""OPC UA endpoints for simulated machines: one asyncua server per machine on 127.0.0.1.

A device registered with `protocol="opcua"` and `external_id="opc.tcp://127.0.0.1:<port>/…"`
is served at exactly that endpoint, each tag as a variable at its `source_address` (by
default `ns=2;s=<tag name>`), so `sandan ingest opcua` reads what the registry says. Values
are written into the address space every step; a subscribed client gets them as data
changes. An asyncua server takes a few seconds to build its standard address space, so
serve tens of machines this way, not thousands.

With a `ServerSecurity` (`sandan simulate --opcua-secure`) the servers offer only
Basic256Sha256 with SignAndEncrypt and accept only the user `sandan-sim`, as real machine
servers often do; `collector_file` writes the matching `SANDAN_OPCUA_SECURITY_FILE`. All
simulated machines share one server certificate (real machines each have their own).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from cryptography.x509.oid import ExtendedKeyUsageOID

from sandan.telemetry.opcua_security.pki import ApplicationCertificate, own_certificate

NAMESPACE = "urn:sandan:simulator"
_VARIANT = {"float": ua.VariantType.Double, "int": ua.VariantType.Int64}
SIM_USER = "sandan-sim"


@dataclass(frozen=True)
class ServerSecurity:
    """What secured simulated machines present and require."""

    certificate: ApplicationCertificate
    username: str
    password: str = field(repr=False)


def server_security(directory: Path) -> ServerSecurity:
    """The simulator's server certificate and login, made once in `directory` and reused,
    so a collector that trusted them keeps trusting them."""
    certificate = own_certificate(
        directory / "cert.der",
        directory / "key.pem",
        "urn:sandan:simulator:opcua",
        ExtendedKeyUsageOID.SERVER_AUTH,
        "localhost",
    )
    path = directory / "password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(18))
    return ServerSecurity(certificate, SIM_USER, path.read_text().strip())


def collector_file(path: Path, endpoints: list[str], security: ServerSecurity) -> Path:
    """A security file for the collector (`SANDAN_OPCUA_SECURITY_FILE`) with these endpoints."""
    lines = ["# Written by `sandan simulate --opcua-secure` for the simulated machines."]
    for endpoint in endpoints:
        lines += [
            f"[endpoints.{json.dumps(endpoint)}]",
            'policy = "Basic256Sha256"',
            'mode = "SignAndEncrypt"',
            f"username = {json.dumps(security.username)}",
            f"password = {json.dumps(security.password)}",
            "",
        ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    return path


class _OneUser(UserManager):
    def __init__(self, security: ServerSecurity) -> None:
        self.security = security

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        login = (self.security.username, self.security.password)
        return User(role=UserRole.User) if (username, password) == login else None


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


async def start_machine(
    machine: ServedMachine, values: list[float], security: ServerSecurity | None = None
) -> None:
    """Build and start the machine's server with its variables at their first values."""
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # no warnings per server
    server = Server(user_manager=_OneUser(security) if security is not None else None)
    await server.init()
    server.set_endpoint(machine.endpoint)
    server.set_server_name(f"Sandan simulator: {machine.name}")
    if security is None:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    else:
        await server.set_application_uri(security.certificate.application_uri)
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        server.set_identity_tokens([ua.UserNameIdentityToken])
        await server.load_certificate(security.certificate.cert_der, "der")
        await server.load_private_key(security.certificate.key_der, None, "der")
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
    security: ServerSecurity | None = None,
) -> None:
    """Start the servers one after another (building one is CPU work, not waiting)."""
    for machine in machines:
        await start_machine(machine, values, security)
        if progress is not None:
            progress(1)
