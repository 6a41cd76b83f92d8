"""The joint-delivery routes page end to end, in a real browser against a real `sandan demo`
server (the fixtures of test_pages.py): the logistics operator sets up a warehouse and two
trucks; the first demo company enters its deliveries itself, the operator enters the second
company's (one too heavy for any truck); the operator plans the day, reads it on the page
(every route on the offline map, the dropped stop with its reason), re-plans from it with
the page's button; the first company's admin then reads the same plan in English and sees
only its own stops.

Screenshots land in test-artifacts/e2e/: the operator's page in Korean, the tenant's in
English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import test_pages
from test_pages import ADMIN, OPERATOR, PASSWORD, Server, log_in, shot, url_re

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)

SECOND = "admin@nakdong-new-display.example"  # company_admin of the second demo company
D = "/api/v1/logistics/delivery"
DAY = "2026-12-01"
LAT0, LON0 = 36.10, 128.38


@contextmanager
def _api(server: Server, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def _stop(warehouse_id: int, i: int, name: str, **extra: Any) -> dict[str, Any]:
    hour = 9 + i % 5
    return {
        "warehouse_id": warehouse_id,
        "ship_to": name,
        "lat": LAT0 + ((i * 37) % 17 - 8) / 111.0,
        "lon": LON0 + ((i * 53) % 19 - 9) / 90.0,
        "window_start": f"{DAY}T{hour:02d}:00:00+09:00",
        "window_end": f"{DAY}T{hour + 3:02d}:00:00+09:00",
        "weight_kg": 8.0,
    } | extra


def _plan_the_day(server: Server) -> dict[str, Any]:
    """Warehouse, fleet and stops through the API; the operator's first plan."""
    with _api(server, SECOND) as second:
        second_company = second.get("/api/v1/auth/me").json()["company_id"]
    with _api(server, OPERATOR) as ops:
        made = ops.post(
            "/api/v1/logistics/warehouses",
            json={"code": "E2E-RT", "name": "구미 공동물류센터", "lat": LAT0, "lon": LON0},
        )
        assert made.status_code == 201, made.text
        wid = made.json()["id"]
        for plate in ("경북80바1001", "경북80바1002"):
            truck = ops.post(f"{D}/vehicles", json={"plate": plate, "capacity_kg": 40})
            assert truck.status_code == 201, truck.text
        for i in range(4):
            body = _stop(wid, 10 + i, f"낙동 납품처 {i + 1}", owner_company_id=second_company)
            assert ops.post(f"{D}/stops", json=body).status_code == 201
        heavy = _stop(wid, 20, "낙동 대형 화물", owner_company_id=second_company, weight_kg=900)
        assert ops.post(f"{D}/stops", json=heavy).status_code == 201
    with _api(server, ADMIN) as admin:
        for i in range(5):
            body = _stop(wid, i, f"화신 고객 {i + 1}")
            assert admin.post(f"{D}/stops", json=body).status_code == 201
    with _api(server, OPERATOR) as ops:
        planned = ops.post(f"{D}/plans", json={"warehouse_id": wid, "day": DAY, "time_limit_s": 2})
        assert planned.status_code == 201, planned.text
        return dict(planned.json())


def _switch_user(page: Page, server: Server, email: str, path: str, lang: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sandan_lang", "value": lang, "url": server.base_url}])
    log_in(page, server, email, path)


def test_operator_and_tenant_read_the_routes(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    plan = _plan_the_day(server)
    routes = len(plan["routes"])
    assert routes >= 2 and plan["stops_dropped"] == 1

    _switch_user(page, server, OPERATOR, "/", "ko")
    page.locator("#nav-routes").click()  # 공동배송 in the header
    expect(page).to_have_url(url_re(server, "/logistics/routes"))
    svg = page.locator("#route-map")
    expect(svg.locator("polyline.route")).to_have_count(routes)
    expect(svg.locator("g.stop")).to_have_count(9)
    expect(svg.locator("g.dropped")).to_have_count(1)
    expect(page.locator("#route-totals")).to_contain_text(f"운행 차량: {routes}")
    dropped = page.locator("#route-dropped")
    expect(dropped).to_contain_text("낙동 대형 화물")
    expect(dropped).to_contain_text("어느 차량에도 실을 수 없음")
    expect(page.locator("#route-stops")).to_contain_text("화신 고객 1")
    expect(page.locator("#route-stops")).to_contain_text("낙동 납품처 1")
    expect(page.locator("#route-trucks")).to_contain_text("경북80바1001")
    shot(page, "logistics-routes-operator-ko.png")

    page.locator("#route-replan").click()
    expect(page).to_have_url(url_re(server, "/logistics/routes"))
    expect(page.locator("#route-plan")).to_contain_text(f"{DAY} · v2")
    expect(page.locator("#route-totals")).to_contain_text("이전 계획에서 시작")
    expect(page.locator("#route-map g.stop")).to_have_count(9)

    _switch_user(page, server, ADMIN, "/logistics/routes", "en")
    expect(page.locator("#route-map g.stop")).to_have_count(5)
    expect(page.locator("#route-map g.dropped")).to_have_count(0)
    dashed = page.locator("#route-map polyline.route").first  # the order, not the road
    expect(dashed).to_have_attribute("stroke-dasharray", "8 5")
    expect(page.locator("#route-totals")).to_contain_text("Your stops: 5")
    stops = page.locator("#route-stops")
    expect(stops).to_contain_text("화신 고객 5")
    expect(stops).not_to_contain_text("낙동")
    expect(page.locator("#route-dropped")).to_contain_text("No stop was dropped")
    expect(page.locator("#route-replan")).to_have_count(0)
    shot(page, "logistics-routes-tenant-en.png")
