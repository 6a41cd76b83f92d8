"""The control centre of the demo complex: alarm definitions on every gas detector and on the
temperature of the environment sensors, and cameras at the complex's gates and at a few
plants - so a drill (or the simulator) raises real alarms on the live map."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.safety.alarms import definitions
from sandan.safety.alarms.schemas import DefinitionIn
from sandan.safety.cctv import service as cctv

GAS = {"h": 50.0, "hh": 200.0, "deadband": 5.0, "on_delay_s": 3.0, "off_delay_s": 10.0}
HEAT = {"h": 50.0, "hh": 57.0, "deadband": 1.0, "on_delay_s": 10.0, "off_delay_s": 30.0}


def seed_safety(session: Session, principal: Principal) -> int:
    """Definitions and cameras; returns the number of definitions."""
    made = 0
    for tag_id, _company, name in registry.tags_named(session, principal, ["gas", "temperature"]):
        limits = GAS if name == "gas" else HEAT
        definitions.create_definition(
            session,
            principal,
            DefinitionIn(
                tag_id=tag_id,
                name="가스 농도 (gas concentration)" if name == "gas" else "실내 온도 (heat)",
                kind="gas" if name == "gas" else "fire",
                priority="critical" if name == "gas" else "high",
                escalate_after_s=300,
                **limits,
            ),
        )
        made += 1
    places = registry.company_locations(session, principal)
    for index, place in enumerate(places[:3]):
        cctv.create_camera(
            session,
            principal,
            {
                "name": f"plant{index + 1}-gate",
                "label": f"{place.name} 정문",
                "company_id": place.id,
                "lat": place.lat,
                "lon": place.lon,
                "alarm_labels": "person,fire,smoke",
            },
        )
    return made
