"""Sparkplug B topic names.

spBv1.0/<group_id>/<NBIRTH|NDEATH|NDATA|NCMD>/<edge_node_id>
spBv1.0/<group_id>/<DBIRTH|DDEATH|DDATA|DCMD>/<edge_node_id>/<device_id>
spBv1.0/STATE/<host_id>
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

NAMESPACE: Final = "spBv1.0"
STATE: Final = "STATE"


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    NDATA = "NDATA"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    DDATA = "DDATA"
    DCMD = "DCMD"


NODE_TYPES: Final = frozenset(
    {MessageType.NBIRTH, MessageType.NDEATH, MessageType.NDATA, MessageType.NCMD}
)
_BY_NAME: Final = {t.value: t for t in MessageType}
_FORBIDDEN: Final = ("+", "#")


class TopicError(ValueError):
    """Not a Sparkplug B topic."""


@dataclass(frozen=True, slots=True)
class Topic:
    """An edge node or device topic."""

    group: str
    type: MessageType
    edge_node: str
    device: str | None = None

    def __str__(self) -> str:
        return topic(self.group, self.type, self.edge_node, self.device)


@dataclass(frozen=True, slots=True)
class StateTopic:
    """A host application's STATE topic."""

    host_id: str

    def __str__(self) -> str:
        return state_topic(self.host_id)


def _check_id(kind: str, value: str) -> None:
    if not value or "/" in value or any(c in value for c in _FORBIDDEN):
        raise TopicError(f"bad {kind} {value!r}")


def topic(group: str, type: MessageType | str, edge_node: str, device: str | None = None) -> str:
    """The topic of a message; a device is needed for D* types and refused for N* types."""
    mtype = _BY_NAME.get(str(type))
    if mtype is None:
        raise TopicError(f"unknown message type {type!r}")
    _check_id("group id", group)
    _check_id("edge node id", edge_node)
    if group == STATE:
        raise TopicError("'STATE' is reserved and cannot be a group id")
    if (mtype in NODE_TYPES) != (device is None):
        raise TopicError(f"{mtype} {'takes no' if mtype in NODE_TYPES else 'needs a'} device id")
    base = f"{NAMESPACE}/{group}/{mtype}/{edge_node}"
    if device is None:
        return base
    _check_id("device id", device)
    return f"{base}/{device}"


def state_topic(host_id: str) -> str:
    _check_id("host id", host_id)
    return f"{NAMESPACE}/{STATE}/{host_id}"


def subscriptions(state: str, groups: list[str] | None, share_group: str | None) -> list[str]:
    """The topic filters of a host application whose STATE topic is `state`, for these group
    ids (None: all). With an MQTT 5 `share_group`, NDATA/DDATA are shared between the members
    while BIRTH and DEATH are not, so every member keeps every alias table."""
    if share_group is None:
        if groups is None:
            return [f"{NAMESPACE}/#"]  # covers the own STATE topic as well
        return [state, *(f"{NAMESPACE}/{g}/#" for g in groups)]
    share = f"$share/{share_group}"
    filters = [state]
    for g in groups or ["+"]:
        filters += [
            f"{NAMESPACE}/{g}/NBIRTH/+",
            f"{NAMESPACE}/{g}/NDEATH/+",
            f"{NAMESPACE}/{g}/DBIRTH/+/+",
            f"{NAMESPACE}/{g}/DDEATH/+/+",
            f"{share}/{NAMESPACE}/{g}/NDATA/+",
            f"{share}/{NAMESPACE}/{g}/DDATA/+/+",
        ]
    return filters


def parse(name: str) -> Topic | StateTopic:
    """Parse a Sparkplug B topic; raises TopicError for anything else."""
    if "+" in name or "#" in name:
        raise TopicError(f"wildcards in a topic name: {name!r}")
    parts = name.split("/")
    if len(parts) < 3 or parts[0] != NAMESPACE:
        raise TopicError(f"not a {NAMESPACE} topic: {name!r}")
    if parts[1] == STATE:
        if len(parts) != 3 or not parts[2]:
            raise TopicError(f"bad STATE topic: {name!r}")
        return StateTopic(parts[2])
    if len(parts) not in (4, 5):
        raise TopicError(f"wrong number of levels: {name!r}")
    mtype = _BY_NAME.get(parts[2])
    if mtype is None:
        raise TopicError(f"unknown message type {parts[2]!r} in {name!r}")
    if (mtype in NODE_TYPES) != (len(parts) == 4):
        raise TopicError(f"{mtype} with the wrong number of levels: {name!r}")
    if not all(parts[1:]):
        raise TopicError(f"empty level in {name!r}")
    return Topic(parts[1], mtype, parts[3], parts[4] if len(parts) == 5 else None)
