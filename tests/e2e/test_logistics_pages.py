"""The warehouse clerk's tablet pages end to end, in a real browser against a real `sandan
demo` server (the fixtures of test_pages.py). The logistics operator opens today's trucks,
counts the first tenant's delivery (one line short with damaged units), confirms the receipt
and every putaway the page suggests; then walks the demo's pick list, taking ten fewer than
asked on the first line (a short pick) and the rest in full. The API then shows the ASN's
short and damaged figures, the order's picked quantity, and a ledger that reconciles. A
tenant's admin is refused the floor pages.

Screenshots land in test-artifacts/e2e/: the count sheet, the putaway list and the pick list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import pytest
import test_pages
from test_pages import ADMIN, PASSWORD, Server, log_in, shot, url_re

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)

LOGISTICS = "logistics@sandan.example"
L = "/api/v1/logistics"


@contextmanager
def _api(server: Server, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def test_clerk_receives_puts_away_and_picks(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, LOGISTICS, "/")
    page.locator("#nav-receiving").click()
    expect(page).to_have_url(url_re(server, "/logistics/receiving"))
    expect(page.locator("#wms-no-putaway")).to_be_visible()  # yesterday's goods are stored
    card = page.locator(".wms-asn", has_text="ASN-DEMO-2")
    expect(card).to_contain_text("D1")
    card.locator("button").click()
    expect(page.locator("#wms-count")).to_contain_text("ASN-DEMO-2")
    page.locator("#recv-good-0").fill("50")
    page.locator("#recv-damaged-0").fill("5")
    page.locator("#recv-good-2").fill("4")
    page.locator("#recv-good-2").press("Tab")
    shot(page, "logistics-receiving-count-ko.png")
    page.locator("#recv-confirm").click()
    expect(page.locator("#wms-count")).to_have_count(0)
    expect(page.locator(".wms-asn", has_text="ASN-DEMO-2")).to_have_count(0)
    expect(page.locator(".wms-put").first).to_be_visible()
    shot(page, "logistics-receiving-putaway-ko.png")
    page.locator("#put-all").click()
    expect(page.locator("#wms-no-putaway")).to_be_visible()

    page.locator("#nav-picking").click()
    expect(page).to_have_url(url_re(server, "/logistics/picking"))
    rows = page.locator(".wms-pick")
    expect(rows.first).to_contain_text("BRK-100")
    shot(page, "logistics-picking-ko.png")
    first = rows.first.get_attribute("id") or ""
    rid = first.removeprefix("pick-row-")
    qty = page.locator(f"#pick-qty-{rid}")
    asked = int(float(qty.input_value()))
    qty.fill(str(asked - 10))
    qty.press("Tab")
    page.locator(f"#pick-{rid}").click()
    expect(page.locator(f"#pick-row-{rid}")).to_have_count(0)
    while page.locator(".wms-pick").count():
        button = page.locator(".wms-pick button").first
        gone = page.locator(".wms-pick").count() - 1
        button.click()
        expect(page.locator(".wms-pick")).to_have_count(gone)
    expect(page.locator("#wms-no-picks")).to_be_visible()

    with _api(server, LOGISTICS) as ops:
        asn = next(a for a in ops.get(f"{L}/asns").json() if a["ref"] == "ASN-DEMO-2")
        lines = ops.get(f"{L}/asns/{asn['id']}").json()["lines"]
        assert asn["status"] == "received"
        assert (lines[0]["qty_received"], lines[0]["qty_damaged"], lines[0]["qty_short"]) == (
            50,
            5,
            5,
        )
        assert lines[2]["qty_received"] == 4
        order = next(o for o in ops.get(f"{L}/orders").json() if o["ref"] == "SO-DEMO-1")
        detail = ops.get(f"{L}/orders/{order['id']}").json()
        assert detail["lines"][0]["qty_picked"] == 110
        assert ops.get(f"{L}/reconcile").json()["ok"] is True

    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sandan_lang", "value": "en", "url": server.base_url}])
    log_in(page, server, ADMIN, "/logistics/picking")
    expect(page.locator("#wms-denied")).to_contain_text("Only the warehouse operator")
    expect(page.locator("#nav-picking")).to_have_count(0)


def test_stock_by_owner_and_todays_docks(page: Page, server: Server) -> None:
    """The operator reads every tenant's stock and today's trucks; a tenant's admin only its
    own (in English)."""
    from playwright.sync_api import expect

    with _api(server, LOGISTICS) as ops:  # the second tenant's truck arrives, counted in full
        asn = next(a for a in ops.get(f"{L}/asns").json() if a["ref"] == "ASN-DEMO-3")
        lines = [{"asn_line_id": x["id"], "qty_good": x["qty_expected"]} for x in asn["lines"]]
        body = {"warehouse_id": asn["warehouse_id"], "asn_id": asn["id"], "lines": lines}
        assert ops.post(f"{L}/receipts", json=body).status_code == 201
        assert (
            ops.post(
                f"{L}/yard/check-in",
                json={"warehouse_id": asn["warehouse_id"], "truck_plate": "경북83바1203"},
            ).status_code
            == 201
        )

    log_in(page, server, LOGISTICS, "/")
    page.locator("#nav-stock").click()
    expect(page).to_have_url(url_re(server, "/logistics/stock"))
    stock = page.locator("#wms-stock")
    expect(stock).to_contain_text("BRK-100")
    expect(stock).to_contain_text("화신반도체")
    expect(stock).to_contain_text("PCB-A1")
    expect(stock).to_contain_text("낙동뉴디스플레이")
    page.locator("#nav-docks").click()
    expect(page).to_have_url(url_re(server, "/logistics/docks"))
    calendar = page.locator("#wms-calendar")
    expect(calendar).to_contain_text("경북83바1203")
    expect(calendar).to_contain_text("낙동뉴디스플레이")
    expect(page.locator("#wms-yard")).to_contain_text("경북83바1203")
    shot(page, "logistics-docks-ko.png")

    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sandan_lang", "value": "en", "url": server.base_url}])
    log_in(page, server, ADMIN, "/logistics/stock")
    stock = page.locator("#wms-stock")
    expect(stock).to_contain_text("BRK-100")
    expect(stock).not_to_contain_text("PCB-A1")  # the second tenant's item
    expect(stock).not_to_contain_text("낙동")
    shot(page, "logistics-stock-tenant-en.png")
    page.goto("/logistics/docks")
    calendar = page.locator("#wms-calendar")
    expect(calendar).to_contain_text("경북82바1202")
    expect(calendar).not_to_contain_text("경북83바1203")


def test_monthly_bill_for_the_operator_and_for_the_tenant(page: Page, server: Server) -> None:
    """The operator picks a tenant and sees this month's bill, the same figures as the API's
    invoice, and downloads it as CSV and PDF with the session cookie; the tenant's admin
    sees only its own bill (in English)."""
    from playwright.sync_api import expect

    anonymous = httpx.get(f"{server.base_url}/logistics/billing", follow_redirects=False)
    assert anonymous.headers["location"] == "/login?next=/logistics/billing"
    log_in(page, server, LOGISTICS, "/")
    page.locator("#nav-billing").click()
    expect(page).to_have_url(url_re(server, "/logistics/billing"))
    page.locator("#bill-company").click()
    page.locator(".q-menu .q-item").filter(has_text="화신반도체").first.click()
    expect(page).to_have_url(re.compile(r".*/logistics/billing\?company=\d+&period=\d{4}-\d{2}$"))
    company = int(page.url.split("company=")[1].split("&")[0])
    period = page.url.split("period=")[1]
    with _api(server, LOGISTICS) as ops:
        bill = ops.get(f"{L}/invoices/{company}/{period}").json()
    assert bill["lines"][0]["amount_krw"] > 0  # the demo's received goods are in store
    expect(page.locator("#bill-total")).to_have_text(f"{bill['total_krw']:,}원")
    lines = page.locator("#bill-lines")
    expect(lines).to_contain_text("보관료")
    expect(lines).to_contain_text(f"{bill['lines'][0]['quantity']:,.0f} 팔레트-일")
    expect(lines).to_contain_text(f"{bill['lines'][0]['amount_krw']:,}원")
    expect(page.locator("#bill-daily canvas")).to_have_count(1)
    shot(page, "logistics-billing-ko.png")
    csv_href = page.locator("#bill-csv").get_attribute("href")
    assert csv_href == f"{L}/invoices/{company}/{period}/csv"
    answer = page.request.get(csv_href)
    assert answer.ok and "text/csv" in answer.headers["content-type"]
    assert str(bill["total_krw"]) in answer.text()
    pdf = page.request.get(page.locator("#bill-pdf").get_attribute("href") or "")
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sandan_lang", "value": "en", "url": server.base_url}])
    log_in(page, server, ADMIN, "/logistics/billing")
    expect(page.locator("#bill-total")).to_have_text(f"{bill['total_krw']:,} KRW")
    expect(page.locator("#bill-lines")).to_contain_text("Storage")
    page.locator("#bill-company").click()
    options = page.locator(".q-menu .q-item")
    expect(options).to_have_count(1)  # its own company, nobody else's
    expect(options).to_contain_text("화신반도체")
    shot(page, "logistics-billing-tenant-en.png")
