"""The data-sharing pages end to end, in a real browser against a real `sandan demo` server
(the fixtures of test_pages.py): the first demo company's admin publishes an offer for the
second company through the guided form, naming it by its business registration number; the
second company's admin finds it in the catalogue and requests it; the first accepts in the
inbox; the second sees the active agreement with both signatures valid, takes a token and
pulls with it; both read the usage log and the monthly statement.

Screenshots land in test-artifacts/e2e/: the catalogue, publish form and agreements in
Korean (the default), the inbox in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import test_pages
from test_pages import ADMIN, PASSWORD, Server, log_in, shot, url_re

from sandan.core.clock import utcnow

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

# test_pages's fixtures under their names: Chromium, the served demo, a fresh page per test
chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)

SUPPLIER = ADMIN  # company_admin of the first demo company
PARENT = "admin@nakdong-new-display.example"  # company_admin of the second
TITLE = "E2E 라인 에너지·OEE (line energy and OEE)"
API = "/api/v1/sharing"


@contextmanager
def _api(server: Server, email: str) -> Iterator[httpx.Client]:
    """An API client logged in as `email` (a session cookie, like the pages use)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def _parent_company(server: Server) -> dict[str, Any]:
    """The second company as its own admin reads it: its id, name and business number."""
    with _api(server, PARENT) as api:
        me = api.get("/api/v1/auth/me").json()
        company = api.get(f"/api/v1/companies/{me['company_id']}")
    assert company.status_code == 200, company.text
    return dict(company.json())


def _switch_user(page: Page, server: Server, email: str, path: str, lang: str = "ko") -> None:
    """Log out by dropping the cookies, choose the language, and log in as someone else."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sandan_lang", "value": lang, "url": server.base_url}])
    log_in(page, server, email, path)


def _choose(page: Page, select: Locator, option: str) -> None:
    """Pick an option of a Quasar select by its visible text."""
    select.click()
    page.locator(".q-menu .q-item").filter(has_text=option).first.click()


def _next(page: Page) -> None:
    page.locator(".publish-next").filter(visible=True).click()


def _publish(page: Page, server: Server, parent: dict[str, Any]) -> None:
    """A's admin walks through the stepper: a line product, only for B, 50 pulls, paid,
    approved by hand; the review shows the terms as B will read them."""
    from playwright.sync_api import expect

    _switch_user(page, server, SUPPLIER, "/")
    page.locator("header").get_by_role("link", name="데이터 공유").click()
    expect(page).to_have_url(url_re(server, "/sharing"))
    page.locator("#sharing-nav-publish").click()
    expect(page).to_have_url(url_re(server, "/sharing/publish"))

    page.locator("#publish-title").fill(TITLE)
    page.locator("#publish-keywords").fill("oee, energy, e2e")
    expect(page.locator("#publish-line")).to_contain_text("L")  # the first line is chosen
    _next(page)

    page.locator("#publish-audience").get_by_text("특정 기업 한 곳").click()
    page.locator("#publish-brn").fill(parent["brn"])
    page.locator("#publish-find").click()
    expect(page.locator("#publish-recipient")).to_contain_text(parent["name"])
    _next(page)

    expect(page.locator("#publish-purpose")).to_contain_text("품질 개선")
    page.locator("#publish-days").fill("30")
    page.locator("#publish-pulls").fill("50")
    _choose(page, page.locator("#publish-resolution"), "1시간 이상")
    _next(page)

    _choose(page, page.locator("#publish-price-model"), "1회 결제")
    page.locator("#publish-price").fill("50000")
    expect(page.locator("#publish-approval")).to_contain_text("제공 기업이 직접 승인")
    _next(page)

    terms = page.locator("#publish-terms")
    expect(terms).to_contain_text("목적 품질 개선")
    expect(terms).to_contain_text("계약 후 경과 시간 30일 이하")
    expect(terms).to_contain_text("조회 횟수 50 이하")
    expect(terms).to_contain_text("데이터 해상도 1시간 이상")
    expect(terms).to_contain_text(f"수령 회사 {parent['id']} = {parent['name']}")
    expect(page.locator("#publish-review")).to_contain_text("50,000원 · 1회 결제")
    shot(page, "sharing-publish.png")
    page.locator("#publish-submit").click()
    expect(page).to_have_url(url_re(server, "/sharing"))
    own = page.locator(".offer-card").filter(has_text=TITLE)
    expect(own).to_contain_text("우리 회사 데이터")


def _request(page: Page, server: Server) -> None:
    """B's admin searches the catalogue, reads the terms and asks for the offer."""
    from playwright.sync_api import expect

    _switch_user(page, server, PARENT, "/sharing")
    expect(page.locator("#catalogue .offer-card").first).to_be_visible()
    page.locator("#catalogue-search").fill("E2E")
    card = page.locator("#catalogue .offer-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(TITLE)
    expect(card).to_contain_text("화신반도체")  # the provider
    expect(card).to_contain_text("조회 횟수 50 이하")
    expect(card).to_contain_text("50,000원 · 1회 결제")
    shot(page, "sharing-catalogue.png")
    card.locator(".offer-request").click()
    expect(page.locator("#request-purpose")).to_contain_text("품질 개선")  # from the terms
    page.locator("#request-send").click()
    expect(page).to_have_url(url_re(server, "/sharing/negotiations"))
    mine = page.locator(".negotiation").filter(has_text=TITLE)
    expect(mine.locator(".q-badge").first).to_have_text("요청됨")
    expect(mine.locator(".negotiation-accept")).to_have_count(0)  # the provider decides


def _accept(page: Page, server: Server) -> None:
    """A's admin, in English, sees the request with its timeline and accepts: both sign."""
    from playwright.sync_api import expect

    _switch_user(page, server, SUPPLIER, "/sharing/negotiations", lang="en")
    thread = page.locator(".negotiation").filter(has_text=TITLE)
    expect(thread.locator(".q-badge").first).to_have_text("Requested")
    expect(thread).to_contain_text("As provider")
    expect(thread).to_contain_text("Consumer · Contract request")
    expect(thread.locator(".negotiation-counter")).to_have_text("Counter-offer")
    expect(thread.locator(".negotiation-terminate")).to_be_visible()
    shot(page, "sharing-inbox.png")
    thread.locator(".negotiation-accept").click()
    page.locator("#negotiation-note").fill("OK for quality work")
    page.locator("#negotiation-confirm").click()
    expect(thread.locator(".q-badge").first).to_have_text("Finalized")
    expect(thread).to_contain_text("Provider · Agreement signed")
    expect(thread).to_contain_text("Consumer · Verified and countersigned")
    expect(thread).to_contain_text("OK for quality work")


def _agreement(page: Page, server: Server) -> str:
    """B's admin sees the agreement in force with both signatures valid, and takes a token
    (shown once); returns the access token."""
    from playwright.sync_api import expect

    _switch_user(page, server, PARENT, "/sharing/agreements")
    card = page.locator(".agreement").filter(has_text=TITLE)
    expect(card.locator(".q-badge").first).to_have_text("유효")
    expect(card).to_contain_text("이용자로서")
    signatures = card.locator("[id$='-signatures']")
    expect(signatures).to_contain_text("✓ 제공자 서명: 유효")
    expect(signatures).to_contain_text("✓ 이용자 서명: 유효")
    expect(card).to_contain_text("조회 횟수: 0 / 50")
    shot(page, "sharing-agreements.png")
    card.locator(".agreement-token").click()
    dialog = page.locator("#token-dialog")
    expect(dialog).to_contain_text("토큰은 지금 한 번만 표시됩니다")
    fields = dialog.locator("input")
    expect(fields.first).to_have_value(re.compile(r"/api/v1/sharing/agreements/\d+/data$"))
    return fields.nth(1).input_value()


def test_publish_request_accept_and_pull(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    parent = _parent_company(server)
    _publish(page, server, parent)
    _request(page, server)
    _accept(page, server)
    token = _agreement(page, server)

    # the agreement through the API: signed by both, in force, on the terms set in the form
    with _api(server, PARENT) as api:
        mine = [a for a in api.get(f"{API}/agreements").json() if a["status"] == "active"]
        ours = [a for a in mine if a["provider_company_id"] != parent["id"]]
        agreement = max(ours, key=lambda a: a["id"])
        verified = api.get(f"{API}/agreements/{agreement['id']}/verify").json()
    assert agreement["consumer_company_id"] == parent["id"]
    assert agreement["price_krw"] == 50_000 and agreement["purpose"] == "quality_improvement"
    assert verified["provider_signature_valid"] and verified["consumer_signature_valid"]

    # the token from the page pulls data; the pull shows in the usage log
    end = utcnow()
    pulled = httpx.get(
        f"{server.base_url}{API}/agreements/{agreement['id']}/data",
        params={
            "start": (end - timedelta(hours=3)).isoformat(),
            "end": end.isoformat(),
            "purpose": "quality_improvement",
            "resolution": 3600,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert pulled.status_code == 200, pulled.text
    page.goto("/sharing/usage")
    log = page.locator("#usage-table")
    expect(log).to_contain_text("✓ 허용")
    expect(log).to_contain_text("화신반도체")
    expect(page.locator("#balance-debits")).to_contain_text("원")
    assert page.locator("#balance-debits").inner_text() != "0원"


def test_statement_and_csv(page: Page, server: Server) -> None:
    """The provider's month shows the sale after the platform's fee, and the page's CSV link
    downloads the same statement with the session cookie."""
    from playwright.sync_api import expect

    log_in(page, server, SUPPLIER, "/sharing/statements")
    table = page.locator("#statement-table")
    expect(table).to_contain_text("낙동뉴디스플레이")
    expect(table).to_contain_text("1회 결제")
    expect(page.locator("#statement-credit")).not_to_have_text("0원")
    link = page.locator("#statement-csv")
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/api/v1/sharing/companies/\d+/statements/\d{4}-\d{2}\.csv", href)
    answer = page.request.get(href)
    assert answer.ok, answer.text()
    assert "text/csv" in answer.headers["content-type"]
    assert "낙동뉴디스플레이" in answer.text()


def test_counter_offer_then_the_consumer_ends_it(page: Page, server: Server) -> None:
    """B asks for the complex-wide daily OEE offer; A counters with a pull limit and a term
    through the terms form; B sees the new terms with its own buttons, and ends it."""
    from playwright.sync_api import expect

    daily = "일별 OEE (Daily OEE)"  # the demo's offer to the whole complex, approved by hand
    _switch_user(page, server, PARENT, "/sharing")
    card = page.locator("#catalogue .offer-card").filter(has_text=daily)
    card.locator(".offer-request").click()
    _choose(page, page.locator("#request-purpose"), "벤치마킹")
    page.locator("#request-send").click()
    expect(page).to_have_url(url_re(server, "/sharing/negotiations"))

    _switch_user(page, server, SUPPLIER, "/sharing/negotiations")
    thread = page.locator(".negotiation").filter(has_text=daily).first
    expect(thread.locator(".q-badge").first).to_have_text("요청됨")
    thread.locator(".negotiation-counter").click()
    page.locator("#counter-days").fill("7")
    page.locator("#counter-pulls").fill("10")
    page.locator("#counter-note").fill("10회까지")
    page.locator("#counter-send").click()
    expect(thread.locator(".q-badge").first).to_have_text("제안됨")
    expect(thread).to_contain_text("제공자 · 조건 제안")
    expect(thread.locator(".negotiation-counter")).to_have_count(0)  # B's turn now

    _switch_user(page, server, PARENT, "/sharing/negotiations")
    thread = page.locator(".negotiation").filter(has_text=daily).first
    expect(thread.locator(".q-badge").first).to_have_text("제안됨")
    expect(thread).to_contain_text("조회 횟수 10 이하")
    expect(thread).to_contain_text("계약 후 경과 시간 7일 이하")
    expect(thread).to_contain_text("10회까지")
    expect(thread.locator(".negotiation-accept")).to_have_text("제안 수락")
    expect(thread.locator(".negotiation-counter")).to_have_text("조건 변경 요청")
    thread.locator(".negotiation-terminate").click()
    page.locator("#negotiation-confirm").click()
    expect(thread.locator(".q-badge").first).to_have_text("종료됨")
    expect(thread.locator("button")).to_have_count(0)


def test_publish_a_file_offer_with_its_preview(page: Page, server: Server, tmp_path: Path) -> None:
    """A's admin uploads a CSV in the publish form; the catalogue shows the file offer with
    its first rows in the preview."""
    from playwright.sync_api import expect

    title = "E2E 설비별 전력량 파일 (energy per machine)"
    csv_path = tmp_path / "energy.csv"
    csv_path.write_text(
        "ts,machine,kwh\n2026-03-01 00:00:00,M1,12.5\n2026-03-01 01:00:00,M2,13.25\n"
    )
    _switch_user(page, server, SUPPLIER, "/sharing/publish")
    page.locator("#publish-title").fill(title)
    page.locator("#publish-kind").get_by_text("파일").click()
    page.locator("#publish-file input[type=file]").set_input_files(str(csv_path))
    expect(page.locator("#publish-file-name")).to_contain_text("energy.csv")
    for _ in range(4):  # what, then who (the whole complex), terms and price as they come
        _next(page)
    expect(page.locator("#publish-review")).to_contain_text(title)
    page.locator("#publish-submit").click()
    expect(page).to_have_url(url_re(server, "/sharing"))
    card = page.locator(".offer-card").filter(has_text=title)
    expect(card).to_contain_text("파일")
    card.locator(".offer-preview .q-item").click()
    preview = card.locator(".offer-preview table")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("13.25")
    expect(preview).to_contain_text("2026-02-28T16:00:00Z")  # 01:00 in Seoul, shown in UTC
    page.wait_for_timeout(400)  # the expansion's opening animation, for the screenshot only
    shot(page, "sharing-file-offer.png")
