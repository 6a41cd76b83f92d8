"""The control centre end to end, on a real `sandan demo` server in a real Chromium: the
safety operator starts a gas-leak drill (the simulator holds a gas detector above HH through
the real ingest path), the alarm appears on the live map and in the list within seconds, the
operator acknowledges it, opens an incident from it, sees the neighbours within the radius
with their hazardous materials and emergency contacts, and closes the incident with a
summary; the closing report downloads."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import httpx
import pytest
import test_pages
from test_pages import PASSWORD, Server, log_in, shot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)
SAFETY = "safety@sandan.example"


def test_gas_leak_drill_to_closed_incident(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, SAFETY, "/safety")
    expect(page.locator("#safety-map svg")).to_be_visible()
    expect(page.locator("#water-panel")).to_be_visible()
    expect(page.locator("#traffic-panel")).to_be_visible()
    expect(page.locator("#kpi-rate")).to_be_visible()
    shot(page, "safety-centre.png")

    rows = page.locator("#alarm-list [data-alarm]")
    before = {rows.nth(i).get_attribute("data-alarm") for i in range(rows.count())}
    started = time.monotonic()
    page.locator("#gas-drill").click()
    alarm_id = None
    while alarm_id is None:
        assert time.monotonic() - started < 30, "no gas alarm 30 s after the drill"
        for i in range(rows.count()):
            ident, text = rows.nth(i).get_attribute("data-alarm"), rows.nth(i).inner_text()
            if ident not in before and "high-high" in text and "unacknowledged" in text:
                alarm_id = ident
        page.wait_for_timeout(100)
    seen_after = time.monotonic() - started
    assert alarm_id and alarm_id.isdigit()
    marker = page.locator(f"#safety-map .alarm-marker[data-alarm='{alarm_id}']")
    expect(marker).to_be_attached()
    print(f"gas alarm visible {seen_after:.1f} s after the drill started")
    shot(page, "safety-gas-alarm.png")

    page.locator(f"#ack-{alarm_id}").click()
    acked = page.locator(f"#alarm-list [data-alarm='{alarm_id}']")
    expect(acked).to_contain_text("acknowledged")
    expect(page.locator(f"#ack-{alarm_id}")).to_have_count(0)

    page.locator(f"#incident-{alarm_id}").click()
    page.locator("#new-incident-title").fill("E2E 가스 누출 (gas leak drill)")
    page.locator("#incident-create").click()
    expect(page).to_have_url(re.compile(r"/safety/incidents/\d+$"))
    incident_id = page.url.rsplit("/", 1)[1]
    affected = page.locator("#incident-affected")
    expect(affected).to_be_visible()
    expect(affected).to_contain_text(re.compile(r"CAS|\d+-\d\d-\d"))
    expect(page.locator("#incident-alarms")).to_contain_text(alarm_id)
    shot(page, "safety-incident.png")

    page.locator("#note-text textarea, textarea#note-text").first.fill(
        "환기 가동, 주변 대피 완료 (ventilation on, area evacuated)"
    )
    page.locator("#note-add").click()
    expect(page.locator("#incident-timeline")).to_contain_text("ventilation on")
    page.locator("#incident-close").click()
    page.locator("#close-summary textarea, textarea#close-summary").first.fill(
        "훈련 종료: 누출 차단 (drill over: leak isolated)"
    )
    page.locator("#close-confirm").click()
    expect(page.locator("#incident-summary")).to_contain_text("leak isolated")
    shot(page, "safety-incident-closed.png")

    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        login = api.post("/api/v1/auth/login", json={"email": SAFETY, "password": PASSWORD})
        assert login.status_code == 200, login.text
        report = api.get(f"/api/v1/safety/incidents/{incident_id}/report", params={"format": "md"})
    assert report.status_code == 200, report.text
    assert "leak isolated" in report.text and "ventilation on" in report.text
