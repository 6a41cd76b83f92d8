"""Who may send a Sparkplug DCMD to a registered device, what it carries, and the refusals
(the command reaching a real edge node is in tests/simulator/test_sparkplug_host.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import World
from sandan.core.audit.models import AuditEntry
from sandan.core.context import Context
from sandan.core.errors import NotFound, PermissionDenied, ValidationFailed
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.registry import schemas
from sandan.registry import service as registry
from sandan.telemetry.sparkplug.codec import DataType, decode
from sandan.telemetry.sparkplug.commands import device_command


def _sparkplug_device(ctx: Context, world: World) -> int:
    """Company A's device as a Sparkplug device with float, int, bool and str tags."""
    system = Principal.system("test")
    device_id = world.devices["A"]
    with ctx.db.unit(system) as s:
        patch = schemas.DevicePatch(protocol="sparkplug", external_id="plant-a/edge-1/press-1")
        registry.update_device(s, system, device_id, patch)
        for name, data_type in (("state", "int"), ("door_open", "bool"), ("recipe", "str")):
            registry.create_tag(s, system, schemas.TagIn(
                device_id=device_id, name=name, quantity="state", unit="",
                data_type=data_type, sampling_ms=1000,
            ))  # fmt: skip
    return device_id


def _as(ctx: Context, world: World, who: str) -> Principal:
    """The principal of `who`'s API token (their role's scopes)."""
    with ctx.db.unit() as s:
        return identity.principal_for_bearer(s, world.tokens[who])


def test_a_dcmd_by_tag_name_with_the_tags_types(ctx: Context, world: World) -> None:
    device_id = _sparkplug_device(ctx, world)
    admin = _as(ctx, world, "admin_a")
    writes = {"spindle_speed": "4200.5", "state": "0", "door_open": "true"}
    with ctx.db.unit(admin) as s:
        command = device_command(s, admin, device_id, writes)
    assert command.topic == "spBv1.0/plant-a/DCMD/edge-1/press-1"
    assert command.values == {"spindle_speed": 4200.5, "state": 0, "door_open": True}
    payload = decode(command.payload)
    assert payload.seq is None and payload.names == ["spindle_speed", "state", "door_open"]
    assert payload.values.tolist() == [4200.5, 0.0, 1.0]
    assert payload.datatypes.tolist() == [DataType.Double, DataType.Int64, DataType.Boolean]
    with ctx.db.unit() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "command")).one()
    assert entry.entity == "device" and entry.entity_id == str(device_id)
    assert entry.after is not None and entry.after["values"]["state"] == 0


@pytest.mark.parametrize(
    ("who", "error"),
    [("operator", None), ("admin_a", None), ("member_a", PermissionDenied),
     ("admin_b", NotFound), ("safety", PermissionDenied)],
)  # fmt: skip
def test_who_may_command_a_device(
    ctx: Context, world: World, who: str, error: type[Exception] | None
) -> None:
    device_id = _sparkplug_device(ctx, world)
    principal = _as(ctx, world, who)
    with ctx.db.unit(principal) as s:
        if error is None:
            assert device_command(s, principal, device_id, {"state": "1"}).values == {"state": 1}
        else:
            with pytest.raises(error, match=r"commanding a device needs|not found"):
                device_command(s, principal, device_id, {"state": "1"})


@pytest.mark.parametrize(
    ("writes", "field", "reason"),
    [
        ({"no_such": "1"}, "metric", "no_such: not a tag of device"),
        ({"recipe": "A"}, "metric", "recipe: a str tag cannot be written"),
        ({"state": "1.5"}, "value", "state: '1.5' is not a whole number"),
        ({"door_open": "maybe"}, "value", "door_open: 'maybe' is not true or false"),
        ({"spindle_speed": "nan"}, "value", "spindle_speed: 'nan' is not a number"),
        ({}, "metrics", "name at least one metric"),
    ],
)
def test_bad_commands_name_the_field_and_reason(
    ctx: Context, world: World, writes: dict[str, str], field: str, reason: str
) -> None:
    device_id = _sparkplug_device(ctx, world)
    operator = _as(ctx, world, "operator")
    with ctx.db.unit(operator) as s, pytest.raises(ValidationFailed) as caught:
        device_command(s, operator, device_id, writes)
    (problem,) = caught.value.problems
    assert problem.field == field and reason in problem.reason


def test_only_sparkplug_devices_take_commands(ctx: Context, world: World) -> None:
    operator = _as(ctx, world, "operator")
    with ctx.db.unit(operator) as s, pytest.raises(ValidationFailed, match="not a Sparkplug"):
        device_command(s, operator, world.devices["B"], {"spindle_speed": "1"})
