"""Every protected route, called as anonymous, as another company, as the owner and as the
operator. A new route fails `test_every_route_is_in_the_matrix` until it is added here."""

from __future__ import annotations

import base64
import copy
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, VALID_BRNS, World, build_world
from logistics.authz_world import seed_wms
from logistics.delivery.authz_seed import seed_delivery
from safety.register.authz_hazards import seed_for_matrix
from sandan.app import create_app
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.safety.alarms import service as alarm_service
from sandan.settings import Settings
from sharing.sharing_world import add_company_c

CALLERS = {"anonymous": "anonymous", "other": "admin_b", "owner": "admin_a", "operator": "operator"}
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expect: tuple[int, int, int, int]  # anonymous, other company, owner, operator
    body: dict[str, Any] | None = None
    leak_key: str | None = None  # list routes: the field that must never be company A's
    params: dict[str, Any] | None = None


def _ids(w: World) -> dict[str, int]:
    return {
        "company_id": w.companies["A"],
        "site_id": w.sites["A"],
        "asset_id": w.machines["A"],
        "device_id": w.devices["A"],
        "tag_id": w.tags["A"],
        "contact_id": w.contacts["A"],
        "user_id": w.users["member_a"],
        "token_id": w.token_ids["admin_a"],
        "complex_id": w.complex_id,
        "zone_id": w.zones["Z1"],
        "run_id": w.import_run,
        "line": w.lines["A"],
        "machine_id": w.machines["A"],
        "letter_id": w.dead_letters.get("A", 1),
        "line_id": w.lines["A"],
        "event_id": DOWNTIME.get("A", 1),
        **SHARED,
    }


DOWNTIME: dict[str, int] = {}  # a downtime event of each company, found by `readings`
SHARED: dict[str, Any] = {"period": f"{datetime.now(UTC):%Y-%m}"}  # filled by `shared`
S = "/api/v1/sharing"
NO_PARTNER = "http://127.0.0.1:9"  # a connector address no test registers as a partner


R, W = (401, 200, 200, 200), (401, 404, 200, 200)
CASES = [
    Case("GET", "/api/v1/auth/me", R),
    Case("GET", "/api/v1/users", R, leak_key="company_id"),
    Case(
        "POST",
        "/api/v1/users",
        (401, 403, 201, 201),
        {
            "email": "new@a.example",
            "name": "New",
            "password": "long-enough-pw",
            "role": "company_member",
            "company_id": "{company_id}",
        },
    ),
    Case("GET", "/api/v1/users/{user_id}", W),
    Case("PATCH", "/api/v1/users/{user_id}", W, {"name": "Renamed"}),
    Case("GET", "/api/v1/tokens", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/tokens", (401, 201, 201, 201), {"name": "t", "scopes": ["registry:read"]}
    ),
    Case("DELETE", "/api/v1/tokens/{token_id}", W),
    Case("GET", "/api/v1/overview", R),
    Case("GET", "/api/v1/complexes", R),
    Case(
        "POST",
        "/api/v1/complexes",
        (401, 403, 403, 201),
        {
            "code": "SPOKE",
            "name": "김천",
            "kind": "spoke",
            "hub_id": "{complex_id}",
            "center_lat": 36.1,
            "center_lon": 128.1,
        },
    ),
    Case("GET", "/api/v1/complexes/{complex_id}", R),
    Case("PATCH", "/api/v1/complexes/{complex_id}", (401, 403, 403, 200), {"name_en": "Gumi NIC"}),
    Case("GET", "/api/v1/zones", R),
    Case(
        "POST",
        "/api/v1/zones",
        (401, 403, 403, 201),
        {"complex_id": "{complex_id}", "code": "Z9", "name": "9단지"},
    ),
    Case("GET", "/api/v1/zones/{zone_id}", R),
    Case("PATCH", "/api/v1/zones/{zone_id}", (401, 403, 403, 200), {"name_en": "Zone One"}),
    Case("GET", "/api/v1/companies", R, leak_key="id"),
    Case(
        "POST",
        "/api/v1/companies",
        (401, 403, 403, 201),
        {"brn": "305-86-12346", "name": "신규(주)", "ksic": "C29", "zone_id": "{zone_id}"},
    ),
    Case("GET", "/api/v1/companies/{company_id}", W),
    Case("PATCH", "/api/v1/companies/{company_id}", W, {"address": "구미시 1공단로 1"}),
    Case("GET", "/api/v1/companies/{company_id}/asset-tree", W),
    Case("GET", "/api/v1/companies/{company_id}/contacts", W),
    Case(
        "POST", "/api/v1/companies/{company_id}/contacts", (401, 404, 201, 201), {"name": "홍길동"}
    ),
    Case("PATCH", "/api/v1/contacts/{contact_id}", W, {"phone": "054-111-2222"}),
    Case("DELETE", "/api/v1/contacts/{contact_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/sites", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/sites", (401, 404, 201, 201), {"company_id": "{company_id}", "name": "P2"}
    ),
    Case("GET", "/api/v1/sites/{site_id}", W),
    Case("PATCH", "/api/v1/sites/{site_id}", W, {"name": "Plant 1"}),
    Case("DELETE", "/api/v1/sites/{site_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/assets", R, leak_key="company_id"),
    Case(
        "POST",
        "/api/v1/assets",
        (401, 404, 201, 201),
        {
            "site_id": "{site_id}",
            "parent_id": "{line}",
            "level": "machine",
            "code": "M99",
            "name": "Press",
        },
    ),
    Case("GET", "/api/v1/assets/{asset_id}", W),
    Case("PATCH", "/api/v1/assets/{asset_id}", W, {"name": "CNC One"}),
    Case("DELETE", "/api/v1/assets/{asset_id}", (401, 404, 204, 204)),
    Case("GET", "/api/v1/devices", R, leak_key="company_id"),
    Case("POST", "/api/v1/devices", (401, 404, 201, 201), {"site_id": "{site_id}", "name": "gw2"}),
    Case("GET", "/api/v1/devices/{device_id}", W),
    Case("PATCH", "/api/v1/devices/{device_id}", W, {"enabled": False}),
    Case("DELETE", "/api/v1/devices/{device_id}", (401, 404, 204, 204)),
    Case("POST", "/api/v1/devices/{device_id}/credentials", (401, 404, 201, 201)),
    Case("GET", "/api/v1/tags", R, leak_key="company_id"),
    Case(
        "POST", "/api/v1/tags", (401, 404, 201, 201), {"device_id": "{device_id}", "name": "temp"}
    ),
    Case("GET", "/api/v1/tags/{tag_id}", W),
    Case("PATCH", "/api/v1/tags/{tag_id}", W, {"unit": "1/min"}),
    Case("DELETE", "/api/v1/tags/{tag_id}", (401, 404, 204, 204)),
    Case("POST", "/api/v1/import/companies", (401, 403, 403, 200)),
    Case("GET", "/api/v1/import/runs/{run_id}", (401, 403, 403, 200)),
    Case(
        "POST",
        "/api/v1/telemetry/readings",
        W,
        {"tag": ["spindle_speed"], "ts": ["{now}"], "value": [6000]},
        params={"device_id": "{device_id}"},
    ),
    Case("GET", "/api/v1/telemetry/latest", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/raw", R, params={"tag_id": "{tag_id}"}),
    Case(
        "GET",
        "/api/v1/telemetry/stream",
        (401, 404, 200, 200),
        params={"tag_id": "{tag_id}", "seconds": 1},
    ),
    Case("GET", "/api/v1/telemetry/rollups", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/series", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/gaps", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/quality", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/export.parquet", R, params={"tag_id": "{tag_id}"}),
    Case("GET", "/api/v1/telemetry/dead-letters", R, leak_key="company_id"),
    Case("POST", "/api/v1/telemetry/dead-letters/{letter_id}/replay", W),
    Case("POST", "/api/v1/telemetry/readings.csv", W, params={"device_id": "{device_id}"}),
    Case("GET", "/api/v1/analytics/machines/{machine_id}/oee", W),
    Case("GET", "/api/v1/analytics/companies/{company_id}/oee", W, params={"group_by": "day"}),
    Case("GET", "/api/v1/analytics/lines/{line_id}/oee", W, params={"group_by": "machine"}),
    Case("GET", "/api/v1/analytics/companies/{company_id}/downtime", W),
    Case("GET", "/api/v1/analytics/machines/{machine_id}/downtime", W),
    Case(
        "PATCH",
        "/api/v1/analytics/downtime/{event_id}",
        W,
        {"reason": "breakdown_electrical", "note": "fuse"},
    ),
    Case("GET", "/api/v1/analytics/downtime-reasons", R),
    Case("GET", "/api/v1/analytics/machines/{machine_id}/state-rule", W),
    Case(
        "PUT",
        "/api/v1/analytics/machines/{machine_id}/state-rule",
        W,
        {"idle_kw": 1.5, "run_kw": 6, "off_state": "down"},
    ),
    Case("DELETE", "/api/v1/analytics/machines/{machine_id}/state-rule", (401, 404, 204, 204)),
    Case("GET", "/api/v1/analytics/companies/{company_id}/state-rules", W, leak_key="company_id"),
    Case("GET", f"{S}/purposes", R),
    Case("GET", f"{S}/offers", R, leak_key="company_id"),
    Case("GET", f"{S}/catalog", R),
    Case("GET", f"{S}/benchmarks", R),
    # a company's own percentile: another company is told it does not exist
    Case("GET", f"{S}/benchmarks/position", W, params={"company_id": "{company_id}"}),
    Case(
        "POST",
        f"{S}/offers",
        (401, 201, 201, 201),
        {
            "company_id": "{company_id}",
            "title": "Daily OEE",
            "selection": {"type": "product", "product": "daily_oee"},
            "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
        },
    ),
    Case("GET", f"{S}/offers/{{offer_id}}", W),
    Case("POST", f"{S}/offers/{{offer_id}}/withdraw", W),
    Case(
        "POST",
        f"{S}/negotiations",
        (401, 404, 422, 403),
        {"offer_id": "{offer_id}", "purpose": "quality_improvement"},
    ),
    Case("GET", f"{S}/negotiations", R, leak_key="provider_company_id"),
    Case("GET", f"{S}/negotiations/{{negotiation_id}}", W),
    Case(
        "POST",
        f"{S}/negotiations/{{negotiation_id}}/counter",
        (401, 404, 200, 409),
        {"policy": {"uid": "urn:p:2", "permissions": [{"action": "use"}]}},
    ),
    Case("POST", f"{S}/negotiations/{{negotiation_id}}/accept", (401, 404, 200, 409), {}),
    Case("POST", f"{S}/negotiations/{{negotiation_id}}/terminate", (401, 404, 200, 409), {}),
    Case("GET", f"{S}/agreements", R, leak_key="provider_company_id"),
    Case("GET", f"{S}/agreements/{{agreement_id}}", W),
    Case("GET", f"{S}/agreements/{{agreement_id}}/verify", W),
    Case("GET", f"{S}/agreements/{{agreement_id}}/document", W),
    Case("POST", f"{S}/agreements/{{agreement_id}}/terminate", W, {"note": "end"}),
    Case("POST", f"{S}/agreements/{{agreement_id}}/token", (401, 404, 403, 403)),
    Case("POST", f"{S}/token/refresh", (401, 401, 401, 401), {"refresh_token": "x" * 40}),
    Case(
        "GET",
        f"{S}/agreements/{{agreement_id}}/data",
        (401, 401, 401, 401),
        params={"start": "{now}", "end": "{now}", "purpose": "quality_improvement"},
    ),
    Case(
        "GET",
        f"{S}/agreements/{{agreement_id}}/stream",
        (401, 401, 401, 401),
        params={"purpose": "quality_improvement"},
    ),
    Case("GET", f"{S}/companies/{{company_id}}/usage", W),
    Case("GET", f"{S}/companies/{{company_id}}/balance", W),
    Case("GET", f"{S}/companies/{{company_id}}/statements/{{period}}", W),
    Case("POST", f"{S}/settlements/{{period}}", (401, 403, 403, 200)),
    # A partner complex's connector: none is registered here, so a company is told so (422);
    # operators do not negotiate or pull for a company (403).
    Case("GET", f"{S}/remote/catalog", (401, 422, 422, 422), params={"connector_url": NO_PARTNER}),
    Case(
        "POST",
        f"{S}/remote/negotiations",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER, "offer_id": "1", "purpose": "quality_improvement"},
    ),
    Case(
        "POST",
        f"{S}/remote/negotiations/{{negotiation_id}}/finalize",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER},
    ),
    Case(
        "POST",
        f"{S}/remote/transfers",
        (401, 422, 422, 403),
        {"connector_url": NO_PARTNER, "agreement_id": "urn:sandan:agreement:x"},
    ),
    Case(
        "POST",
        f"{S}/remote/pull",
        (401, 422, 422, 403),
        {
            "connector_url": NO_PARTNER,
            "agreement_id": "urn:sandan:agreement:x",
            "start": "{now}",
            "end": "{now}",
            "purpose": "quality_improvement",
        },
    ),
    Case("GET", "/api/v1/audit", (401, 403, 403, 200)),
    Case("GET", "/api/v1/audit/verify", (401, 403, 403, 200)),
]

SAFE = "/api/v1/safety"
OPS = (401, 403, 403, 200)  # the control centre's own routes: safety:operate only
CASES += [
    Case("GET", f"{SAFE}/alerts/recent", R),
    Case("GET", f"{SAFE}/alerts/stream", R, params={"seconds": 0.3}),
    Case("GET", f"{SAFE}/cctv/cameras", R, leak_key="company_id"),
    Case("POST", f"{SAFE}/cctv/cameras", (401, 403, 403, 201), {"name": "authz-new-cam"}),
    Case("PATCH", f"{SAFE}/cctv/cameras/{{camera_id}}", OPS, {"label": "Gate 2"}),
    Case("GET", f"{SAFE}/cctv/events", R, leak_key="company_id"),
    Case("GET", f"{SAFE}/cctv/events/{{cctv_event_id}}", W),
    Case("GET", f"{SAFE}/cctv/events/{{cctv_event_id}}/snapshot", W),
    Case(
        "POST",
        f"{SAFE}/cctv/webhook",
        OPS,
        {
            "type": "update",
            "camera": "authz-cam",
            "object_id": "o-1",
            "label": "person",
            "score": 0.9,
            "started_at": "{now}",
        },
    ),
    Case("GET", f"{SAFE}/notifications/channels", OPS),
    Case(
        "POST",
        f"{SAFE}/notifications/channels",
        (401, 403, 403, 201),
        {"name": "duty", "kind": "email", "target": "duty@sandan.example"},
    ),
    Case("PATCH", f"{SAFE}/notifications/channels/{{channel_id}}", OPS, {"enabled": False}),
    Case("GET", f"{SAFE}/notifications/deliveries", OPS),
]

# Traffic signals: plans are public infrastructure (any login reads them); running a
# comparison (a real SUMO run, here the small network over five minutes) is safety:operate.
TRAFFIC = "/api/v1/safety/traffic"
CASES += [
    Case("GET", f"{TRAFFIC}/signals", R, params={"network": "small"}),
    Case("GET", f"{TRAFFIC}/comparison", R),
    Case(
        "POST",
        f"{TRAFFIC}/comparison",
        (401, 403, 403, 200),
        {"network": "small", "horizon_s": 300},
    ),
]

# Eco-smart water: the network, balances, night flow, suspicions and simulations are the
# control centre's (safety:operate); a company admin reads its own factory's night profile.
WATER = "/api/v1/safety/water"
SHARED["dma"] = "Z1-1"  # the world's company A is the one factory of DMA Z1-1
CASES += [
    Case("GET", f"{WATER}/network", OPS),
    Case("GET", f"{WATER}/dmas/{{dma}}/balance", OPS, params={"hours": 6}),
    Case("GET", f"{WATER}/dmas/{{dma}}/night-flow", OPS),
    Case("GET", f"{WATER}/suspicions", OPS),
    Case("POST", f"{WATER}/evaluate", OPS, {}),
    Case("POST", f"{WATER}/what-if", OPS, {"pipe": "Z1-1-IN", "mode": "close"}),
    Case("GET", f"{WATER}/companies/{{company_id}}/night-profile", W),
]

# The alarm engine: a company reads its own definitions and alarms; operating them is the
# control centre's (safety:operate). The seeded alarm is unacknowledged and not shelved or
# latched, so unshelve and reset are refused by its state (409) once the caller may act.
ALARMS = "/api/v1/safety"
ALARM_OPS = (401, 403, 403, 200)
CASES += [
    Case("GET", f"{ALARMS}/alarm-definitions", R, leak_key="company_id"),
    Case(
        "POST",
        f"{ALARMS}/alarm-definitions",
        (401, 403, 403, 201),
        {"tag_id": "{tag_id}", "name": "Overspeed", "h": 11000, "deadband": 100},
    ),
    Case("GET", f"{ALARMS}/alarm-definitions/{{definition_id}}", W),
    Case("PATCH", f"{ALARMS}/alarm-definitions/{{definition_id}}", ALARM_OPS, {"priority": "high"}),
    Case("DELETE", f"{ALARMS}/alarm-definitions/{{definition_id}}", (401, 403, 403, 204)),
    Case("GET", f"{ALARMS}/alarms", R, leak_key="company_id"),
    Case("GET", f"{ALARMS}/alarms/kpi", R, params={"operators": 2}),
    Case("GET", f"{ALARMS}/alarms/kpi.csv", R),
    Case("GET", f"{ALARMS}/alarms/{{alarm_id}}", W),
    Case("GET", f"{ALARMS}/alarms/{{alarm_id}}/journal", W),
    Case("POST", f"{ALARMS}/alarms/{{alarm_id}}/ack", ALARM_OPS, {"note": "seen"}),
    Case(
        "POST",
        f"{ALARMS}/alarms/{{alarm_id}}/shelve",
        ALARM_OPS,
        {"minutes": 30, "reason": "calibration"},
    ),
    Case("POST", f"{ALARMS}/alarms/{{alarm_id}}/unshelve", (401, 403, 403, 409), {}),
    Case(
        "POST", f"{ALARMS}/alarms/{{alarm_id}}/out-of-service", ALARM_OPS, {"out_of_service": True}
    ),
    Case("POST", f"{ALARMS}/alarms/{{alarm_id}}/reset", (401, 403, 403, 409), {}),
]


# Joint delivery: the fleet and planning are the logistics operator's (warehouse:operate); a
# tenant enters its own stops (warehouse:order) and reads a plan's stops of its own only.
DLV = "/api/v1/logistics/delivery"
DLV_OPS = (401, 403, 403, 200)
CASES += [
    Case("GET", f"{DLV}/vehicles", DLV_OPS),
    Case("POST", f"{DLV}/vehicles", (401, 403, 403, 201), {"plate": "authz-1", "capacity_kg": 90}),
    Case("PATCH", f"{DLV}/vehicles/{{vehicle_id}}", DLV_OPS, {"cost_per_km": 1200}),
    Case("GET", f"{DLV}/stops", R, leak_key="owner_company_id"),
    Case(
        "POST",
        f"{DLV}/stops",
        (401, 403, 201, 201),
        {
            "owner_company_id": "{company_id}",
            "warehouse_id": "{dlv_warehouse_id}",
            "ship_to": "A 고객",
            "lat": 36.11,
            "lon": 128.4,
            "window_start": "2026-12-01T09:00:00+09:00",
            "window_end": "2026-12-01T11:00:00+09:00",
        },
    ),
    Case("DELETE", f"{DLV}/stops/{{stop_id}}", (401, 404, 204, 204)),
    Case(
        "POST",
        f"{DLV}/plans",
        (401, 403, 403, 201),
        {"warehouse_id": "{dlv_warehouse_id}", "day": "2026-12-01", "time_limit_s": 0.5},
    ),
    Case("GET", f"{DLV}/plans", R),
    Case("GET", f"{DLV}/plans/{{plan_id}}", R),  # company B reads none of A's stops (below)
]


# The hazard register: company rows (a company's admin keeps its own, the safety duties all);
# shelters and routes readable by everyone, kept by safety:operate; the neighbours of a point
# and incidents only for the control centre.
HZ = "/api/v1/safety"
HZ_OPS = (401, 403, 403, 200)
HZ_MADE = (401, 403, 403, 201)
HZ_GONE = (401, 403, 403, 204)
HZ_NEW_FACILITY = {
    "company_id": "{company_id}",
    "name": "Tank 2",
    "kind": "storage_tank",
    "lat": 36.06,
    "lon": 128.31,
}
CASES += [
    Case("GET", f"{HZ}/hazards/companies/{{company_id}}", W),
    Case("GET", f"{HZ}/hazards/facilities", R, leak_key="company_id"),
    Case("POST", f"{HZ}/hazards/facilities", (401, 404, 201, 201), HZ_NEW_FACILITY),
    Case("PATCH", f"{HZ}/hazards/facilities/{{facility_id}}", W, {"name": "T-1a"}),
    Case("DELETE", f"{HZ}/hazards/facilities/{{facility_id}}", (401, 404, 204, 204)),
    Case("GET", f"{HZ}/hazards/materials", R, leak_key="company_id"),
    Case(
        "POST",
        f"{HZ}/hazards/materials",
        (401, 404, 201, 201),
        {"facility_id": "{facility_id}", "name": "암모니아", "cas": "7664-41-7", "quantity": 1},
    ),
    Case("PATCH", f"{HZ}/hazards/materials/{{material_id}}", W, {"quantity": 4}),
    Case("DELETE", f"{HZ}/hazards/materials/{{material_id}}", (401, 404, 204, 204)),
    Case("GET", f"{HZ}/hazards/contacts", R, leak_key="company_id"),
    Case(
        "POST",
        f"{HZ}/hazards/contacts",
        (401, 404, 201, 201),
        {"company_id": "{company_id}", "name": "야간 당직", "phone": "054-000-0000"},
    ),
    Case("PATCH", f"{HZ}/hazards/contacts/{{emergency_contact_id}}", W, {"call_order": 2}),
    Case("DELETE", f"{HZ}/hazards/contacts/{{emergency_contact_id}}", (401, 404, 204, 204)),
    Case(
        "GET",
        f"{HZ}/hazards/affected",
        HZ_OPS,
        params={"lat": 36.06, "lon": 128.31, "radius_m": 1000},
    ),
    Case("GET", f"{HZ}/shelters", R),
    Case("POST", f"{HZ}/shelters", HZ_MADE, {"name": "공원", "lat": 36.1, "lon": 128.4}),
    Case("DELETE", f"{HZ}/shelters/{{shelter_id}}", HZ_GONE),
    Case("GET", f"{HZ}/evacuation-routes", R),
    Case(
        "POST",
        f"{HZ}/evacuation-routes",
        HZ_MADE,
        {"name": "남문", "points": [[36.06, 128.31], [36.05, 128.3]]},
    ),
    Case("DELETE", f"{HZ}/evacuation-routes/{{route_id}}", HZ_GONE),
    Case("GET", f"{HZ}/incidents", HZ_OPS),
    Case(
        "POST",
        f"{HZ}/incidents",
        HZ_MADE,
        {"title": "화재", "kind": "fire", "severity": 2, "lat": 36.06, "lon": 128.31},
    ),
    Case("GET", f"{HZ}/incidents/{{incident_id}}", HZ_OPS),
    Case("PATCH", f"{HZ}/incidents/{{incident_id}}", HZ_OPS, {"severity": 4}),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/alarms", HZ_OPS, {"alarm_ids": ["{alarm_id}"]}),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/notes", HZ_MADE, {"text": "현장 도착"}),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/tasks", HZ_MADE, {"title": "차단"}),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/tasks/{{task_id}}/done", HZ_OPS),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/status", HZ_OPS, {"status": "stable"}),
    Case("POST", f"{HZ}/incidents/{{incident_id}}/close", HZ_OPS, {"summary": "진화"}),
    Case("GET", f"{HZ}/incidents/{{incident_id}}/report", HZ_OPS, params={"format": "csv"}),
]


# The shared warehouse: tenants (warehouse:order) place their own items, ASNs, bookings and
# orders; the floor (receiving, putaway, picking, counts, layout, tariffs) is the operator's;
# every read is filtered to the caller's own rows.
WMS = "/api/v1/logistics"
WMS_R, WMS_W = (401, 200, 200, 200), (401, 404, 200, 200)
FLOOR = (401, 403, 403, 201)
FLOOR_200 = (401, 403, 403, 200)
TENANT = (401, 403, 201, 201)  # company B may not act for company A
_stock_leg = {
    "item_id": "{item_id}",
    "lot_id": "{wms_lot_id}",
    "owner_company_id": "{company_id}",
    "qty": 1,
}
CASES += [
    Case("POST", f"{WMS}/warehouses", FLOOR, {"code": "GM9", "name": "x", "lat": 36, "lon": 128}),
    Case("GET", f"{WMS}/warehouses", WMS_R),
    Case("POST", f"{WMS}/warehouses/{{warehouse_id}}/zones", FLOOR, {"code": "Z9"}),
    Case("GET", f"{WMS}/warehouses/{{warehouse_id}}/zones", WMS_R),
    Case("POST", f"{WMS}/bins", FLOOR, {"zone_id": "{wms_zone_id}", "code": "X-1"}),
    Case(
        "POST",
        f"{WMS}/bins/grid",
        FLOOR,
        {"zone_id": "{wms_zone_id}", "aisles": 1, "racks": 1, "levels": 9},
    ),
    Case("GET", f"{WMS}/warehouses/{{warehouse_id}}/bins", WMS_R),
    Case(
        "POST",
        f"{WMS}/warehouses/{{warehouse_id}}/docks",
        FLOOR,
        {"code": "D9", "opens": "08:00", "closes": "18:00"},
    ),
    Case("GET", f"{WMS}/warehouses/{{warehouse_id}}/docks", WMS_R),
    Case("GET", f"{WMS}/docks/{{dock_id}}/slots", WMS_R, params={"day": "{wms_day}"}),
    Case(
        "POST",
        f"{WMS}/items",
        TENANT,
        {"owner_company_id": "{company_id}", "sku": "NEW-1", "name": "new", "gtin": "96385074"},
    ),
    Case("GET", f"{WMS}/items", WMS_R, leak_key="owner_company_id"),
    Case("GET", f"{WMS}/items/{{item_id}}", WMS_W),
    Case(
        "POST",
        f"{WMS}/asns",
        TENANT,
        {
            "owner_company_id": "{company_id}",
            "warehouse_id": "{warehouse_id}",
            "ref": "PO-9",
            "expected_at": "{now}",
            "lines": [{"item_id": "{item_id}", "qty_expected": 5}],
        },
    ),
    Case("GET", f"{WMS}/asns", WMS_R, leak_key="owner_company_id"),
    Case("GET", f"{WMS}/asns/{{asn_id}}", WMS_W),
    Case(
        "POST",
        f"{WMS}/appointments",
        TENANT,
        {
            "dock_id": "{dock_id}",
            "owner_company_id": "{company_id}",
            "starts_at": "{wms_slot_start}",
            "ends_at": "{wms_slot_end}",
            "truck_plate": "56다7890",
        },
    ),
    Case("GET", f"{WMS}/appointments", WMS_R, leak_key="owner_company_id"),
    Case("POST", f"{WMS}/appointments/{{appointment_id}}/cancel", WMS_W),
    Case(
        "POST",
        f"{WMS}/receipts",
        FLOOR,
        {
            "warehouse_id": "{warehouse_id}",
            "owner_company_id": "{company_id}",
            "lines": [{"item_id": "{item_id}", "qty_good": 1}],
        },
    ),
    Case("GET", f"{WMS}/warehouses/{{warehouse_id}}/putaway", FLOOR_200),
    Case(
        "POST",
        f"{WMS}/putaway",
        FLOOR,
        {**_stock_leg, "from_bin_id": "{wms_receiving_id}", "to_bin_id": "{wms_shelf_id}"},
    ),
    Case(
        "POST",
        f"{WMS}/moves",
        FLOOR,
        {**_stock_leg, "from_bin_id": "{wms_shelf_id}", "to_bin_id": "{wms_free_shelf_id}"},
    ),
    Case(
        "POST",
        f"{WMS}/yard/check-in",
        FLOOR,
        {"warehouse_id": "{warehouse_id}", "truck_plate": "78라1234"},
    ),
    Case(
        "POST",
        f"{WMS}/yard/check-out",
        FLOOR_200,
        {"warehouse_id": "{warehouse_id}", "truck_plate": "34나5678"},
    ),
    Case("GET", f"{WMS}/warehouses/{{warehouse_id}}/yard", WMS_R, leak_key="owner_company_id"),
    Case(
        "POST",
        f"{WMS}/orders",
        TENANT,
        {
            "owner_company_id": "{company_id}",
            "warehouse_id": "{warehouse_id}",
            "ref": "SO-9",
            "ship_to": "x",
            "lat": 36.0,
            "lon": 128.0,
            "ship_date": "2026-12-01",
            "window_start": "{now}",
            "window_end": "2099-01-01T00:00:00Z",
            "lines": [{"item_id": "{item_id}", "qty": 1}],
        },
    ),
    Case("GET", f"{WMS}/orders", WMS_R, leak_key="owner_company_id"),
    Case("GET", f"{WMS}/orders/{{order_id}}", WMS_W),
    Case("POST", f"{WMS}/orders/{{order_id}}/reserve", WMS_W),
    Case("POST", f"{WMS}/orders/{{order_id}}/cancel", WMS_W),
    # Nothing of this order is picked yet: the operator passes the check and is told so.
    Case("POST", f"{WMS}/orders/{{order_id}}/pack", (401, 403, 403, 409), {"packages": 1}),
    Case(
        "POST",
        f"{WMS}/waves",
        FLOOR,
        {"warehouse_id": "{warehouse_id}", "order_ids": ["{order_id}"]},
    ),
    Case("GET", f"{WMS}/waves/{{wave_id}}/picklist", FLOOR_200),
    Case("POST", f"{WMS}/picks", FLOOR_200, {"reservation_id": "{wms_reservation_id}", "qty": 1}),
    Case("GET", f"{WMS}/shipments", WMS_R, leak_key="owner_company_id"),
    Case("GET", f"{WMS}/shipments/{{shipment_id}}", WMS_W),
    Case("POST", f"{WMS}/shipments/{{shipment_id}}/ship", FLOOR_200),
    Case("GET", f"{WMS}/shipments/{{shipment_id}}/delivery-note.pdf", WMS_W),
    Case("GET", f"{WMS}/stock", WMS_R, leak_key="owner_company_id"),
    Case("GET", f"{WMS}/movements", WMS_R, leak_key="owner_company_id"),
    Case(
        "POST",
        f"{WMS}/adjustments",
        FLOOR,
        {**_stock_leg, "bin_id": "{wms_shelf_id}", "delta": 1, "reason": "found"},
    ),
    Case(
        "POST",
        f"{WMS}/counts",
        FLOOR,
        {"warehouse_id": "{warehouse_id}", "bin_ids": ["{wms_shelf_id}"]},
    ),
    Case("GET", f"{WMS}/counts/{{count_id}}", FLOOR_200),
    Case("POST", f"{WMS}/counts/{{count_id}}/submit", FLOOR_200, {"lines": []}),
    Case("GET", f"{WMS}/reconcile", FLOOR_200),
    Case("PUT", f"{WMS}/tariffs", FLOOR_200, {"pallet_day_krw": 1200}),
    Case("GET", f"{WMS}/invoices/{{company_id}}/{{period}}", WMS_W),
    Case("GET", f"{WMS}/invoices/{{company_id}}/{{period}}/csv", WMS_W),
    Case("GET", f"{WMS}/invoices/{{company_id}}/{{period}}/pdf", WMS_W),
]

# Sharing: a file offer's upload. The seeded offer is company A's product offer, which only C
# may see: B is told it does not exist; A and the operator reach the rule that only a file
# offer takes a file (409).
UPLOAD = f"{S}/offers/{{offer_id}}/file"
CASES += [Case("POST", UPLOAD, (401, 404, 409, 409))]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if value == "{now}":
        return datetime.now(UTC).isoformat()
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def call(client: TestClient, world: World, case: Case, who: str) -> Any:
    ids = _ids(world)
    path = case.path.format(**ids)
    if who != "anonymous":  # a real web login: session cookie, like a browser
        login = client.post(
            "/api/v1/auth/login", json={"email": f"{who}@test.example", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
    kwargs: dict[str, Any] = {}
    if case.path == "/api/v1/import/companies":
        csv_text = "brn,name,ksic,zone\n3058612346,신규,26110,Z1\n"
        kwargs["files"] = {"file": ("c.csv", csv_text.encode(), "text/csv")}
    elif case.path == UPLOAD:
        kwargs["files"] = {"file": ("energy.csv", b"kwh\n1.5\n", "text/csv")}
    elif case.path == "/api/v1/telemetry/readings.csv":
        kwargs["content"] = f"tag,ts,value\nspindle_speed,{datetime.now(UTC).isoformat()},6000\n"
        kwargs["headers"] = {"Content-Type": "text/csv"}
    elif case.body is not None:
        kwargs["json"] = _fill(case.body, ids)
    if case.params is not None:
        kwargs["params"] = _fill(case.params, ids)
    return client.request(case.method, path, **kwargs)


def seed_readings(client: TestClient, ctx: Context, world: World) -> None:
    """A reading and a rejected one on each company's device, sent with its own device key."""
    for key in ("A", "B"):
        state = client.post(
            "/api/v1/tags",
            headers=world.headers("operator"),
            json={
                "device_id": world.devices[key],
                "name": "state",
                "data_type": "int",
                "range_min": 0,
                "range_max": 4,
            },
        )
        assert state.status_code == 201, state.text
        made = client.post(
            f"/api/v1/devices/{world.devices[key]}/credentials", headers=world.headers("operator")
        )
        device_key = {"Authorization": f"Bearer {made.json()['token']}"}
        sent = client.post(
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["spindle_speed", "nope"],
                "ts": [datetime.now(UTC).isoformat()] * 2,
                "value": [5000, 1],
            },
        )
        assert sent.status_code == 200 and sent.json()["stored"] == 1, sent.text
        world.dead_letters[key] = sent.json()["dead_letter_id"]
        running = client.post(
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["state", "state"],
                "value": [1, 2],
                "ts": [(datetime.now(UTC) - timedelta(minutes=m)).isoformat() for m in (14, 4)],
            },
        )
        assert running.json()["stored"] == 2, running.text
        broke = client.post(  # a 10-minute breakdown three hours ago: a downtime event
            "/api/v1/telemetry/readings",
            headers=device_key,
            json={
                "tag": ["state", "state"],
                "value": [3, 1],
                "ts": [(datetime.now(UTC) - timedelta(minutes=m)).isoformat() for m in (180, 170)],
            },
        )
        assert broke.json()["stored"] == 2, broke.text
        found = client.get(
            f"/api/v1/analytics/machines/{world.machines[key]}/downtime",
            headers=world.headers("operator"),
        )
        DOWNTIME[key] = found.json()["items"][0]["id"]


def seed_state_rules(client: TestClient, ctx: Context, world: World) -> None:
    """A state rule (power thresholds) on each company's machine."""
    for key in ("A", "B"):
        made = client.put(
            f"/api/v1/analytics/machines/{world.machines[key]}/state-rule",
            headers=world.headers("operator"),
            json={"idle_kw": 1, "run_kw": 5},
        )
        assert made.status_code == 200, made.text


def seed_sharing(client: TestClient, ctx: Context, world: World) -> None:
    """An offer of company A seen only by a third company C, which asked for it twice: one
    request waits for A (manual approval), one was signed (the offer's own terms)."""
    add_company_c(ctx, world)
    c = world.headers("admin_c")
    only_c = {
        "uid": "urn:p:c",
        "permissions": [
            {
                "action": "use",
                "constraints": [
                    {"left": "recipient", "operator": "eq", "right": world.companies["C"]}
                ],
            }
        ],
    }
    made = {}
    for approval in ("manual", "auto"):
        offer = client.post(
            f"{S}/offers",
            headers=world.headers("admin_a"),
            json={
                "title": f"Line OEE ({approval})",
                "selection": {"type": "product", "product": "daily_oee"},
                "access_policy": only_c,
                "contract_policy": {"uid": "urn:p:1", "permissions": [{"action": "use"}]},
                "approval": approval,
            },
        )
        assert offer.status_code == 201, offer.text
        asked = client.post(
            f"{S}/negotiations",
            headers=c,
            json={"offer_id": offer.json()["id"], "purpose": "quality_improvement"},
        )
        assert asked.status_code == 201, asked.text
        made[approval] = (offer.json()["id"], asked.json())
    SHARED["offer_id"] = made["manual"][0]
    SHARED["negotiation_id"] = made["manual"][1]["id"]
    SHARED["agreement_id"] = made["auto"][1]["agreement_id"]


def seed_safety(client: TestClient, ctx: Context, world: World) -> None:
    """A camera of company A with one detection (and its snapshot), and a channel."""
    ops = world.headers("operator")
    cam = client.post(
        f"{SAFE}/cctv/cameras",
        json={"name": "authz-cam", "company_id": world.companies["A"], "lat": 36.1, "lon": 128.4},
        headers=ops,
    )
    assert cam.status_code == 201, cam.text
    jpeg = base64.b64encode(b"\xff\xd8\xff\xd9").decode()
    event = client.post(
        f"{SAFE}/cctv/webhook",
        json={
            "type": "new",
            "camera": "authz-cam",
            "object_id": "o-1",
            "label": "person",
            "score": 0.9,
            "started_at": datetime.now(UTC).isoformat(),
            "snapshot_b64": jpeg,
        },
        headers=ops,
    )
    assert event.status_code == 200, event.text
    channel = client.post(
        f"{SAFE}/notifications/channels",
        json={"name": "seed", "kind": "webhook", "target": "http://127.0.0.1:9/x"},
        headers=ops,
    )
    assert channel.status_code == 201, channel.text
    SHARED.update(
        camera_id=cam.json()["id"],
        cctv_event_id=event.json()["id"],
        channel_id=channel.json()["id"],
    )


def seed_alarm(client: TestClient, ctx: Context, world: World) -> None:
    """An alarm definition on company A's tag and an unacknowledged gas alarm of company A."""
    made = client.post(
        f"{ALARMS}/alarm-definitions",
        json={"tag_id": world.tags["A"], "name": "Spindle overspeed", "h": 11000},
        headers=world.headers("operator"),
    )
    assert made.status_code == 201, made.text
    with ctx.db.unit(Principal.system("authz")) as s:
        alarm = alarm_service.raise_external(
            s,
            source="authz:gas",
            condition="HIGH",
            priority="high",
            message="gas high",
            company_id=world.companies["A"],
            lat=36.1,
            lon=128.4,
            at=datetime.now(UTC),
            kind="gas",
        )
        SHARED.update(definition_id=made.json()["id"], alarm_id=alarm.id)


def seed_joint_delivery(client: TestClient, ctx: Context, world: World) -> None:
    """A plan of one stop of company A and one of B."""
    SHARED.update(seed_delivery(ctx, world))


def seed_warehouse(client: TestClient, ctx: Context, world: World) -> None:
    """Company A's and B's items, stock, ASN, booking, orders, wave, shipment and a count."""
    SHARED.update(seed_wms(ctx, world))


def seed_hazards(client: TestClient, ctx: Context, world: World) -> None:
    """Company A's facility, material and emergency contact; a shelter, a route, an incident."""
    SHARED.update(seed_for_matrix(ctx, world))


# Every seeder runs once per run, into a template the tests copy (seeding per test made the
# matrix the slowest part of the suite). A new area appends its seeder here.
SEEDERS: list[Callable[[TestClient, Context, World], None]] = [
    seed_readings,
    seed_state_rules,
    seed_sharing,
    seed_safety,
    seed_alarm,
    seed_joint_delivery,
    seed_hazards,
    seed_warehouse,
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> tuple[Path, World]:
    """Company A and B's world with every seeder's rows, built once (SQLite)."""
    directory = tmp_path_factory.mktemp("authz-seeded")
    shutil.copy(sqlite_template, directory / "sandan.db")
    settings = Settings(data_dir=directory, secret_key="test-secret")
    ctx = Context.build(settings)
    try:
        with TestClient(create_app(settings, with_ui=False, ctx=ctx)) as client:
            world = build_world(ctx)
            for seed in SEEDERS:
                seed(client, ctx, world)
    finally:
        ctx.db.dispose()
    return directory, world


@pytest.fixture
def settings(seeded: tuple[Path, World], tmp_path: Path) -> Settings:
    """Each test of this module starts from its own copy of the seeded world."""
    data = tmp_path / "data"
    shutil.copytree(seeded[0], data)
    return Settings(data_dir=data, secret_key="test-secret")


@pytest.fixture
def world(seeded: tuple[Path, World]) -> World:
    return copy.deepcopy(seeded[1])


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    """Routes and matrix agree: nothing protected goes untested."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, ops in paths.items()
        for method in ops
        if path.startswith("/api/")
    }
    covered = {(c.method, c.path) for c in CASES} | PUBLIC
    assert routes - covered == set(), "add these routes to the authorization matrix"
    assert {(c.method, c.path) for c in CASES} <= routes


@pytest.mark.auth
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_as_each_caller(
    client: TestClient,
    world: World,
    case: Case,
    caller: str,
) -> None:
    """The answer each kind of caller gets, and no row of company A for another company."""
    expected = case.expect[list(CALLERS).index(caller)]
    response = call(client, world, case, CALLERS[caller])
    assert response.status_code == expected, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] and body["detail"]
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/stream":
        assert f'"tag_id":{world.tags["A"]}' in response.text  # the snapshot
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/latest":
        assert [r["tag_id"] for r in response.json()] == [world.tags["A"]]
    if caller in ("owner", "operator") and case.path.endswith("/machines/{machine_id}/oee"):
        oee = response.json()  # 10 min running, then idle (still, as the seeded world ages)
        assert abs(oee["seconds_in_state"]["1"] - 600) < 1 and oee["seconds_in_state"]["2"] > 0
    if caller in ("owner", "operator") and case.path.endswith("/{company_id}/oee"):
        total = response.json()["total"]  # and before: down 10 min, then running 15 (held)
        assert total["seconds_in_state"]["1"] == 1500 and total["seconds_in_state"]["3"] == 600
    if caller in ("owner", "operator") and case.path.endswith("/downtime"):
        events = {e["id"]: e for e in response.json()["items"]}  # (+ the idle, once long)
        assert events[DOWNTIME["A"]]["state_name"] == "down"
        assert {e["company_id"] for e in events.values()} == {world.companies["A"]}
    if caller in ("owner", "operator") and case.path.endswith("/state-rules"):
        assert [r["machine_id"] for r in response.json()] == [world.machines["A"]]
    if caller in ("owner", "operator") and case.method == "PATCH" and "downtime" in case.path:
        assert response.json()["reason"] == "breakdown_electrical"
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/export.parquet":
        assert pq.read_table(io.BytesIO(response.content)).num_rows == 1
    if caller in ("owner", "operator") and case.path == "/api/v1/telemetry/quality":
        assert [(r["tag_id"], r["received"]) for r in response.json()] == [(world.tags["A"], 1)]
    if caller == "other" and response.status_code == 200:
        text = response.text
        assert f'"brn":"{VALID_BRNS["A"]}"' not in text
        if case.leak_key is not None:
            body = response.json()
            items = body["items"] if isinstance(body, dict) else body
            leaked = [item for item in items if item.get(case.leak_key) == world.companies["A"]]
            assert leaked == []
        if case.path in (
            "/api/v1/telemetry/latest",
            "/api/v1/telemetry/raw",
            "/api/v1/telemetry/rollups",
            "/api/v1/telemetry/series",
            "/api/v1/telemetry/gaps",
            "/api/v1/telemetry/quality",
        ):
            assert response.json() == []  # company A's readings stay with company A
        if case.path == "/api/v1/telemetry/export.parquet":
            assert pq.read_table(io.BytesIO(response.content)).num_rows == 0
        if case.path == "/api/v1/overview":
            assert {f["id"] for f in response.json()["footprints"]} == {world.companies["B"]}
        if case.path == f"{DLV}/plans/{{plan_id}}":
            plan = response.json()  # B's own stop is there, A's nowhere
            seen = [s for r in plan["routes"] for s in r["stops"]] + plan["dropped"]
            assert {s["owner_company_id"] for s in seen} == {world.companies["B"]}
