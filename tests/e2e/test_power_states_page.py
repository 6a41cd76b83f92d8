"""Machine states from power, end to end on a real `sandan demo` in a real Chromium: the admin
of a company whose machines meter power without a state tag sees their demo rules on the OEE
page, is told which field is wrong when the run level is not above the idle level, saves new
thresholds, and the machine's OEE and its live state come from its power."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest
import test_pages
from test_pages import PASSWORD, Server, log_in, shot, url_re

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)
# The second demo company's admin: its plant has injection moulders and coaters that meter
# power but send no state.
ADMIN_2 = "admin@nakdong-new-display.example"


def test_admin_sets_power_thresholds(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, ADMIN_2)
    me = page.request.get("/api/v1/auth/me").json()
    company_id = me["company_id"]
    page.goto(f"/companies/{company_id}/oee")
    expect(page).to_have_url(url_re(server, f"/companies/{company_id}/oee"))
    rows = page.locator("#state-rules .state-rule")
    expect(rows.first).to_be_visible(timeout=20_000)
    expect(rows.first.locator(".rule-status")).to_have_text("설정됨")  # the demo's rule
    machine_id = rows.first.get_attribute("data-machine")
    assert machine_id and machine_id.isdigit()

    page.locator(f"#rule-idle-{machine_id}").fill("50")
    page.locator(f"#rule-run-{machine_id}").fill("10")
    page.locator(f"#rule-save-{machine_id}").click()
    expect(page.locator(".q-notification").filter(has_text="run_kw")).to_be_visible()

    page.locator(f"#rule-idle-{machine_id}").fill("2")
    page.locator(f"#rule-run-{machine_id}").fill("9.5")
    page.locator(f"#rule-off-{machine_id}").click()
    page.locator(".q-menu .q-item").filter(has_text="계획정지").click()
    page.locator(f"#rule-save-{machine_id}").click()
    expect(page.get_by_text("저장되었습니다")).to_be_visible()
    shot(page, "oee-state-rules.png")

    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        api.post("/api/v1/auth/login", json={"email": ADMIN_2, "password": PASSWORD})
        rule = api.get(f"/api/v1/analytics/machines/{machine_id}/state-rule").json()
        oee = api.get(f"/api/v1/analytics/machines/{machine_id}/oee").json()
    assert (rule["idle_kw"], rule["run_kw"], rule["off_state"], rule["in_effect"]) == (
        2.0,
        9.5,
        "planned_stop",
        True,
    )
    assert sum(oee["seconds_in_state"].values()) > 0  # states from the simulated power

    page.goto(f"/companies/{company_id}/live")
    banded = page.locator(".power-state")
    expect(banded.first).to_have_text(re.compile(r"^(가동|대기|계획정지)$"), timeout=15_000)
    shot(page, "live-power-states.png")
