"""DCMD: write metrics of a Sparkplug B device registered in the registry.

`device_command` decides whether the principal may (who may change the device's company in
the registry and send its readings may command its devices: `registry:write` and
`telemetry:write` in that company, or the operator),
checks the metrics against the device's tags (by name: a Sparkplug metric is the tag of the
same name) and builds the DCMD, by name with datatypes, as Sparkplug 3.0 allows a host to
send without knowing the edge node's aliases. It audits the command; `publish` sends it
(QoS 0, not retained, as the specification requires for commands). The caller publishes
inside the unit of work, so a command that could not be sent is not in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiomqtt
from sqlalchemy.orm import Session

from sandan.core.audit import service as audit
from sandan.core.errors import PermissionDenied, ValidationFailed
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.core.mqtt import Broker
from sandan.core.tenancy import ensure_writable
from sandan.registry import service as registry
from sandan.telemetry.sparkplug import topics
from sandan.telemetry.sparkplug.codec import DataType, Metric, encode_payload, now_ms
from sandan.telemetry.sparkplug.topics import MessageType

_TYPES = {"float": DataType.Double, "int": DataType.Int64, "bool": DataType.Boolean}
_TRUE, _FALSE = ("true", "1", "on"), ("false", "0", "off")


@dataclass(frozen=True)
class DeviceCommand:
    """A DCMD ready to publish, and what it writes."""

    device_id: int
    topic: str
    payload: bytes
    values: dict[str, float | int | bool]


def _value(name: str, data_type: str, text: str) -> float | int | bool:
    """A metric's value from text, as the tag's data type wants it."""
    raw = text.strip()
    try:
        if data_type == "bool":
            if raw.lower() in _TRUE + _FALSE:
                return raw.lower() in _TRUE
            raise ValueError
        number = float(raw)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError
        if data_type == "int":
            if not number.is_integer():
                raise ValueError
            return int(number)
        return number
    except ValueError:
        kind = {"bool": "true or false", "int": "a whole number"}.get(data_type, "a number")
        raise ValidationFailed.one("value", f"{name}: {raw!r} is not {kind}") from None


def device_command(
    session: Session, principal: Principal, device_id: int, writes: Mapping[str, str]
) -> DeviceCommand:
    """A DCMD setting these metrics (tag name -> value as text) of a Sparkplug device the
    principal may change; audited."""
    if not writes:
        raise ValidationFailed.one("metrics", "name at least one metric to write")
    if not (principal.has(Scope.registry_write) and principal.has(Scope.telemetry_write)):
        raise PermissionDenied("commanding a device needs registry:write and telemetry:write")
    device, tags = registry.ingest_tags(session, principal, device_id)
    ensure_writable(principal, device.company_id, "the devices")
    parts = device.external_id.split("/")
    if device.protocol != "sparkplug" or len(parts) != 3:
        raise ValidationFailed.one(
            "device_id",
            f"device {device_id} is not a Sparkplug device (protocol sparkplug, external id "
            "<group>/<edge node>/<device>)",
        )
    try:
        topic = topics.topic(parts[0], MessageType.DCMD, parts[1], parts[2])
    except topics.TopicError as exc:
        raise ValidationFailed.one("device_id", f"external id: {exc}") from None
    types = {t.name: t.data_type for t in tags}
    values: dict[str, float | int | bool] = {}
    for name, text in writes.items():
        data_type = types.get(name)
        if data_type is None:
            raise ValidationFailed.one("metric", f"{name}: not a tag of device {device_id}")
        if data_type not in _TYPES:
            raise ValidationFailed.one("metric", f"{name}: a {data_type} tag cannot be written")
        values[name] = _value(name, data_type, text)
    metrics = [Metric(n, v, _TYPES[types[n]]) for n, v in values.items()]
    payload = encode_payload(metrics, seq=None, timestamp=now_ms())
    after: dict[str, Any] = {"topic": topic, "values": values}
    audit.append(
        session,
        principal,
        action="command",
        entity="device",
        entity_id=device.id,
        company_id=device.company_id,
        after=after,
    )
    return DeviceCommand(device.id, topic, payload, values)


async def publish(broker: Broker, command: DeviceCommand) -> None:
    """Send the DCMD on its own short connection (raises aiomqtt.MqttError)."""
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.password,
        tls_context=broker.ssl_context,
    ) as client:
        await client.publish(command.topic, command.payload, qos=0, retain=False)
