"""The joint-delivery routes page (/logistics/routes): the day's plan on an offline map, each
route a coloured line through its numbered stops, the dropped stops with their reasons, and
the totals. The logistics operator sees every truck and can re-plan from the plan shown; a
tenant sees only its own stops, with the truck and the arrival time.

The page draws only what `plans.plan_detail` returns for the viewer, so a tenant's page
cannot show another tenant's stop by mistake."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from sqlalchemy.orm import Session

from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Scope
from sandan.logistics.delivery import plans
from sandan.logistics.delivery.schemas import PlanIn
from sandan.web import routemap
from sandan.web.shell import PageContext, act, header, to_login, viewer

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("공동배송 경로", "Joint delivery routes"),
    "plan": ("배송 계획", "Plan"),
    "none": ("아직 배송 계획이 없습니다", "No delivery plan yet"),
    "replan": ("다시 계획 (이전 계획에서 시작)", "Re-plan (from this plan)"),
    "replanned": ("새 계획을 만들었습니다", "A new plan was made"),
    "vehicles": ("운행 차량", "Trucks on the road"),
    "served": ("배송 정류지", "Stops served"),
    "dropped": ("제외된 정류지", "Stops dropped"),
    "distance": ("총 거리", "Distance"),
    "cost": ("운행 비용", "Driving cost"),
    "solve": ("계산 시간", "Solve time"),
    "warm": ("이전 계획에서 시작", "warm-started"),
    "cold": ("처음부터 계산", "solved from scratch"),
    "yours": ("우리 회사 정류지", "Your stops"),
    "trucks": ("배송 차량", "on trucks"),
    "map": ("경로 지도", "Route map"),
    "legend_depot": ("D = 공동물류센터", "D = shared warehouse"),
    "legend_drop": ("✕ = 제외된 정류지", "✕ = dropped stop"),
    "legend_partial": (
        "점선은 우리 회사 정류지의 방문 순서입니다 (차량은 다른 곳에도 들릅니다)",
        "Dashed lines give the order of your stops (the truck also stops elsewhere)",
    ),
    "stops": ("정류지 순서", "Stops in order"),
    "col_route": ("차량", "Truck"),
    "col_pos": ("순번", "#"),
    "col_ship_to": ("받는 곳", "Ship to"),
    "col_window": ("시간창", "Window"),
    "col_arrival": ("도착", "Arrival"),
    "col_start": ("하역 시작", "Unloading"),
    "col_load": ("무게 (kg)", "Weight (kg)"),
    "col_reason": ("사유", "Reason"),
    "col_detail": ("설명", "Detail"),
    "routes": ("차량별 경로", "Routes by truck"),
    "col_depart": ("출발", "Leaves"),
    "col_return": ("복귀", "Returns"),
    "col_km": ("거리 (km)", "km"),
    "col_count": ("정류지", "Stops"),
    "no_drops": ("제외된 정류지가 없습니다", "No stop was dropped"),
}
REASONS: dict[str, tuple[str, str]] = {
    "over_capacity": ("어느 차량에도 실을 수 없음", "heavier or bulkier than any truck"),
    "window_unreachable": ("시간창 안에 도착 불가", "its window cannot be reached"),
    "no_vehicle_fits": ("실을 수 있는 차량이 제때 도착 불가", "the trucks that fit are too late"),
    "fleet_capacity_full": ("차량 적재 여유 없음", "no truck has room left"),
    "fleet_time_full": ("경로에 시간 여유 없음", "no route has time left"),
    "not_placed": ("계산 시간 안에 배정 못 함", "not placed within the search time"),
}


def tr(page: PageContext, key: str, table: dict[str, tuple[str, str]] = TEXTS) -> str:
    ko, en = table.get(key, (key, key))
    return ko if page.lang == "ko" else en


def hhmm(value: datetime | str | None, tz: ZoneInfo) -> str:
    if value is None:
        return "–"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(tz).strftime("%H:%M")


def _choose(heads: list[dict[str, Any]], wanted: str | None) -> int | None:
    """The plan asked for by ?plan=, else the newest."""
    ids = [int(h["id"]) for h in heads]
    if wanted and wanted.isdigit() and int(wanted) in ids:
        return int(wanted)
    return ids[0] if ids else None


def _totals(page: PageContext, plan: dict[str, Any]) -> None:
    """The plan's figures: all of them for the operator, the own stops' for a tenant."""
    served = sum(len(r["stops"]) for r in plan["routes"])
    with ui.row().classes("gap-6 items-baseline").props('id="route-totals"'):
        if plan["cost"] is None:
            ui.label(f"{tr(page, 'yours')}: {served + len(plan['dropped'])}")
            ui.label(f"{tr(page, 'trucks')}: {len(plan['routes'])}")
            ui.label(f"{tr(page, 'dropped')}: {len(plan['dropped'])}")
            return
        ui.label(f"{tr(page, 'vehicles')}: {plan['vehicles_used']}")
        ui.label(f"{tr(page, 'served')}: {served}")
        ui.label(f"{tr(page, 'dropped')}: {plan['stops_dropped']}")
        ui.label(f"{tr(page, 'distance')}: {plan['distance_m'] / 1000:,.1f} km")
        ui.label(f"{tr(page, 'cost')}: {plan['cost']:,}원")
        warm = tr(page, "warm" if plan["warm_started"] else "cold")
        ui.label(f"{tr(page, 'solve')}: {plan['solve_seconds']:.1f} s ({warm})").classes(
            "text-slate-500"
        )


def _legend(page: PageContext, plan: dict[str, Any]) -> None:
    with ui.row().classes("gap-3 text-xs text-slate-600 items-center"):
        for route in plan["routes"]:
            with ui.row().classes("items-center gap-1"):
                ui.element("span").style(
                    f"display:inline-block;width:14px;height:4px;"
                    f"background:{routemap.colour(route['seq'])}"
                )
                ui.label(str(route["plate"]))
        ui.label(tr(page, "legend_depot"))
        ui.label(tr(page, "legend_drop"))
        if plan["cost"] is None:
            ui.label(tr(page, "legend_partial"))


def _stop_rows(plan: dict[str, Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "key": s["stop_id"],
            "route": f"{route['seq']} · {route['plate']}",
            "pos": s["position"],
            "ship_to": s["ship_to"],
            "window": f"{hhmm(s['window_start'], tz)}–{hhmm(s['window_end'], tz)}",
            "arrival": hhmm(s["arrival_at"], tz),
            "start": hhmm(s["start_at"], tz),
            "load": f"{s['weight_kg']:g}",
        }
        for route in plan["routes"]
        for s in route["stops"]
    ]


def _columns(page: PageContext, names: list[str]) -> list[dict[str, str]]:
    return [{"name": n, "label": tr(page, f"col_{n}"), "field": n, "align": "left"} for n in names]


def _tables(page: PageContext, plan: dict[str, Any], tz: ZoneInfo) -> None:
    if plan["cost"] is not None:
        ui.label(tr(page, "routes")).classes("text-lg font-semibold mt-2")
        rows = [
            {
                "key": r["seq"],
                "route": f"{r['seq']} · {r['plate']}",
                "count": len(r["stops"]),
                "depart": hhmm(r["depart_at"], tz),
                "return": hhmm(r["return_at"], tz),
                "km": f"{(r['distance_m'] or 0) / 1000:,.1f}",
                "load": f"{r['weight_kg'] or 0:g}",
            }
            for r in plan["routes"]
        ]
        cols = ["route", "count", "depart", "return", "km", "load"]
        ui.table(columns=_columns(page, cols), rows=rows, row_key="key").classes("w-full").props(
            'id="route-trucks" dense flat'
        )
    ui.label(tr(page, "stops")).classes("text-lg font-semibold mt-2")
    cols = ["route", "pos", "ship_to", "window", "arrival", "start", "load"]
    ui.table(columns=_columns(page, cols), rows=_stop_rows(plan, tz), row_key="key").classes(
        "w-full"
    ).props('id="route-stops" dense flat')
    ui.label(tr(page, "dropped")).classes("text-lg font-semibold mt-2")
    dropped = [
        {
            "key": s["stop_id"],
            "ship_to": s["ship_to"],
            "window": f"{hhmm(s['window_start'], tz)}–{hhmm(s['window_end'], tz)}",
            "load": f"{s['weight_kg']:g}",
            "reason": tr(page, s["dropped_reason"] or "", REASONS),
            "detail": s["dropped_detail"],
        }
        for s in plan["dropped"]
    ]
    cols = ["ship_to", "window", "load", "reason", "detail"]
    ui.table(columns=_columns(page, cols), rows=dropped, row_key="key").classes("w-full").props(
        f'id="route-dropped" dense flat no-data-label="{tr(page, "no_drops")}"'
    )


def _replan(ctx: Context, page: PageContext, plan: dict[str, Any]) -> None:
    """Plan the same warehouse and day again, starting from the plan on the screen."""

    def again(session: Session, principal: Principal) -> int:
        opens, closes = (time.fromisoformat(plan["depot"][k]) for k in ("opens", "closes"))
        body = PlanIn(
            warehouse_id=plan["warehouse_id"], day=plan["day"], opens=opens, closes=closes
        )
        return plans.plan_day(session, principal, body, ZoneInfo(ctx.settings.plant_timezone)).id

    new_id = act(page, again)
    if new_id is None:
        return
    ui.notify(tr(page, "replanned"), type="positive")
    ui.navigate.to(f"/logistics/routes?plan={new_id}")


def register(ctx: Context) -> None:
    @ui.page("/logistics/routes")
    def routes_page(request: Request) -> RedirectResponse | None:
        page = viewer(ctx, request)
        if page is None:
            return to_login(request)
        tz = ZoneInfo(ctx.settings.plant_timezone)
        header(page, tr(page, "title"))
        ui.label(tr(page, "title")).classes("text-2xl font-bold")
        with ctx.db.unit(page.principal) as session:
            heads = plans.plans(session, page.principal, limit=60)
            chosen = _choose(heads, request.query_params.get("plan"))
            plan = plans.plan_detail(session, page.principal, chosen) if chosen else None
        if plan is None:
            ui.label(tr(page, "none")).props('id="route-none"')
            return None
        options = {int(h["id"]): f"{h['day']} · v{h['version']}" for h in heads}
        with ui.row().classes("items-center gap-4"):
            ui.select(
                options,
                value=plan["id"],
                label=tr(page, "plan"),
                on_change=lambda e: ui.navigate.to(f"/logistics/routes?plan={e.value}"),
            ).props('id="route-plan" dense outlined').classes("min-w-[14rem]")
            if page.principal.has(Scope.warehouse_operate):
                ui.button(tr(page, "replan"), on_click=lambda: _replan(ctx, page, plan)).props(
                    'id="route-replan" no-caps'
                )
        _totals(page, plan)
        with ui.card().classes("w-full"):
            ui.label(tr(page, "map")).classes("text-lg font-semibold")
            ui.html(
                routemap.render(
                    plan["depot"], plan["routes"], plan["dropped"], partial=plan["cost"] is None
                ),
                sanitize=False,
            ).classes("w-full")
            _legend(page, plan)
        _tables(page, plan, tz)
        return None
