"""The hazard register and incident pages end to end, in a real browser against a real
`sandan demo` server (the fixtures of test_pages.py).

The first demo company's admin opens its hazard register and types a CAS number with a wrong
check digit: the field says why. A safety operator opens an incident at the company's
hydrofluoric-acid tank (through the API, as the control centre does), opens its page, sees the
company among the affected with its materials and contacts, adds a note, marks it stable,
closes it with a summary, and the closing report carries the note and the summary.

Screenshots land in test-artifacts/e2e/: the register with the CAS error, the incident before
and after closing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import test_pages
from test_pages import ADMIN, PASSWORD, Server, log_in, shot

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
API = "/api/v1/safety"
NOTE = "E2E: 방재팀 현장 도착, 중화제 투입 (neutraliser applied)"
SUMMARY = "E2E: 누출 차단, 인명 피해 없음 (leak stopped, nobody hurt)"


@contextmanager
def _api(server: Server, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def _hf_tank(server: Server) -> dict[str, Any]:
    """The first demo company's hydrofluoric-acid tank, as its admin reads the register."""
    with _api(server, ADMIN) as api:
        company_id = api.get("/api/v1/auth/me").json()["company_id"]
        register = api.get(f"{API}/hazards/companies/{company_id}").json()
    hf = min((m for m in register["materials"] if m["cas"] == "7664-39-3"), key=lambda m: m["id"])
    (tank,) = [f for f in register["facilities"] if f["id"] == hf["facility_id"]]
    return {"company": register["company_name"], **tank}


def test_register_shows_a_wrong_cas_on_the_field(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, ADMIN, "/safety/register")
    expect(page.locator(".hz-cas").filter(has_text="7664-39-3").first).to_be_visible()
    page.locator("#material-name").fill("불산 (E2E)")
    page.locator("#material-cas").fill("7664-39-4")
    page.locator("#material-quantity").fill("1")
    page.locator("#material-add").click()
    expect(page.get_by_text("check digit does not match (expected 3)").first).to_be_visible()
    shot(page, "safety-register-cas-error.png")
    page.locator("#material-cas").fill("7664-39-3")
    page.locator("#material-add").click()
    expect(page.get_by_text("불산 (E2E)")).to_be_visible()


def test_incident_note_and_close(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    tank = _hf_tank(server)
    with _api(server, SAFETY) as api:
        made = api.post(
            f"{API}/incidents",
            json={
                "title": "E2E 불산 누출 (HF leak)",
                "kind": "chemical",
                "severity": "critical",
                "lat": tank["lat"],
                "lon": tank["lon"],
                "radius_m": 400,
            },
        )
        assert made.status_code == 201, made.text
        incident = made.json()

    log_in(page, server, SAFETY, f"/safety/incidents/{incident['id']}")
    expect(page.locator("#incident-title")).to_contain_text("E2E 불산 누출")
    expect(page.locator("#incident-status")).to_contain_text("대응 중")
    affected = page.locator("#incident-affected")
    expect(affected).to_contain_text(tank["company"])
    expect(affected.locator(".affected-cas").filter(has_text="7664-39-3").first).to_be_visible()
    expect(affected.locator(".affected-contact").first).to_be_visible()
    shot(page, "safety-incident-open.png")

    page.locator("#note-text").fill(NOTE)
    page.locator("#note-add").click()
    expect(page.locator("#incident-timeline")).to_contain_text(NOTE)
    page.locator("#status-stable").click()
    expect(page.locator("#incident-status")).to_contain_text("안정화")

    page.locator("#incident-close").click()
    page.locator("#close-summary").fill(SUMMARY)
    page.locator("#close-confirm").click()
    expect(page.locator("#incident-status")).to_contain_text("종료")
    expect(page.locator("#incident-summary")).to_contain_text(SUMMARY)
    expect(page.locator("#note-add")).to_have_count(0)  # nothing changes after closing
    shot(page, "safety-incident-closed.png")

    with _api(server, SAFETY) as api:
        report = api.get(f"{API}/incidents/{incident['id']}/report", params={"format": "md"})
        csv_text = api.get(f"{API}/incidents/{incident['id']}/report", params={"format": "csv"})
        pdf = api.get(f"{API}/incidents/{incident['id']}/report", params={"format": "pdf"})
    assert report.status_code == 200 and NOTE in report.text and SUMMARY in report.text
    assert tank["company"] in report.text and "7664-39-3" in report.text
    assert [line.split(",")[1] for line in csv_text.text.splitlines()[1:]] == [
        "opened",
        "note",
        "status_changed",
        "closed",
    ]
    assert pdf.content.startswith(b"%PDF-")
    href = page.locator("#report-pdf").get_attribute("href")
    assert href == f"{API}/incidents/{incident['id']}/report?format=pdf&lang=ko"
