"""Which registry device and tag a Sparkplug B or OPC UA address stands for.

A Sparkplug device is registered with `protocol="sparkplug"` and
`external_id="<group_id>/<edge_node_id>/<device_id>"` (an edge node's own metrics:
`"<group_id>/<edge_node_id>"`); its metrics map to the tags of the same name. An OPC UA
device has `protocol="opcua"` and `external_id="opc.tcp://host:port/path"`; each tag is read
from its `source_address` (a node id), or `ns=2;s=<tag name>` when that is empty.

`EndpointDirectory` extends the MQTT worker's `TagDirectory` (the numeric tags `refine`
checks against) with these maps, reloaded together when stale or after registry events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandan.core.db import Database
from sandan.registry import service as registry
from sandan.telemetry.directory import TagDirectory

__all__ = ["EndpointDevice", "EndpointDirectory", "EndpointTag", "opcua_node_id"]


def opcua_node_id(tag_name: str, source_address: str | None) -> str:
    """The OPC UA node a tag is read from: its source address, else `ns=2;s=<name>`."""
    return source_address or f"ns=2;s={tag_name}"


@dataclass(frozen=True, slots=True)
class EndpointTag:
    tag_id: int
    name: str
    source_address: str
    data_type: str  # float | int | bool | str


@dataclass(slots=True)
class EndpointDevice:
    """An enabled device of the protocol, with its tags by name."""

    device_id: int
    company_id: int
    external_id: str
    tags: dict[str, EndpointTag] = field(default_factory=dict)


class EndpointDirectory(TagDirectory):
    """The tag table of every enabled device, plus the devices of one protocol by external
    id. `version` grows with every reload, so callers can drop what they derived from it."""

    def __init__(self, db: Database, protocol: str, max_age: float = 10.0) -> None:
        super().__init__(db, max_age)
        self.protocol = protocol
        self.devices: dict[str, EndpointDevice] = {}  # the first (lowest id) per external id
        self.endpoints: dict[str, list[EndpointDevice]] = {}  # every device per external id
        self.tag_owner: dict[int, EndpointDevice] = {}
        self.version = 0

    def _load(self) -> None:
        super()._load()
        with self.db.unit() as session:
            rows = registry.protocol_tag_rows(session, self.protocol)
        endpoints: dict[str, list[EndpointDevice]] = {}
        by_id: dict[int, EndpointDevice] = {}
        owner: dict[int, EndpointDevice] = {}
        for device_id, company_id, external_id, tag_id, name, address, data_type in rows:
            device = by_id.get(device_id)
            if device is None:
                device = by_id[device_id] = EndpointDevice(device_id, company_id, external_id)
                endpoints.setdefault(external_id, []).append(device)
            if tag_id is not None and name is not None:
                device.tags[name] = EndpointTag(tag_id, name, address or "", data_type or "float")
                owner[tag_id] = device
        self.endpoints = endpoints
        # Two Sparkplug devices with the same external id: the first (lowest id) receives.
        self.devices = {ext: found[0] for ext, found in endpoints.items()}
        self.tag_owner = owner
        self.version += 1
