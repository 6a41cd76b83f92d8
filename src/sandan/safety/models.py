"""Every table of the safety domain, gathered from its areas so Alembic and the other
modules see one `sandan.safety.models`."""

from __future__ import annotations

from sandan.safety.alarms.models import Alarm, AlarmDefinition, AlarmJournal, EvalState
from sandan.safety.cctv.models import Camera, CctvEvent
from sandan.safety.incidents.models import (
    Incident,
    IncidentAlarm,
    IncidentTask,
    TimelineEntry,
)
from sandan.safety.notify.models import NotificationChannel, NotificationDelivery
from sandan.safety.register.models import (
    EmergencyContact,
    EvacuationRoute,
    Facility,
    HazardousMaterial,
    Shelter,
)

__all__: list[str] = [
    "Alarm",
    "AlarmDefinition",
    "AlarmJournal",
    "Camera",
    "CctvEvent",
    "EmergencyContact",
    "EvacuationRoute",
    "EvalState",
    "Facility",
    "HazardousMaterial",
    "Incident",
    "IncidentAlarm",
    "IncidentTask",
    "NotificationChannel",
    "NotificationDelivery",
    "Shelter",
    "TimelineEntry",
]
