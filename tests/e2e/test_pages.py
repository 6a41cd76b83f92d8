"""The web pages end to end: a real `sandan demo` server and a real headless Chromium.

The server runs as a subprocess on a free port with its own data directory, exactly as a user
starts it; the browser is Debian's Chromium driven by Playwright's sync API (no browser
download). Without Chromium the tests skip, unless SANDAN_REQUIRE_SERVICES=1 makes them fail.
Screenshots land in test-artifacts/e2e/ (git-ignored), plus FAILED-<test>.png when a test fails.

The fixtures live here rather than in a conftest.py: tests/conftest.py is imported by name
(`from conftest import ...`), and a second conftest module would shadow it.

The tests share one seeded server and run in file order; the onboarding test adds companies,
so it comes last.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest

from conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRE = os.environ.get("SANDAN_REQUIRE_SERVICES") == "1"
READY_TIMEOUT = 180.0
TIMEOUT_MS = 15_000
PASSWORD = "sandan-demo-2026"
OPERATOR = "operator@sandan.example"
MEMBER = "member@hwashin-semiconductor.example"  # company_member of the first demo company
ADMIN = "admin@hwashin-semiconductor.example"  # its company_admin
DEMO_COMPANIES = 60
# ...and the complex's industrial-water utility, which owns the DMA inlet meters (no footprint)
COMPLEX_COMPANIES = DEMO_COMPANIES + 1
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


# --------------------------------------------------------------------------- fixtures


def _unavailable(reason: str) -> None:
    """Skip, or fail when the run must have every service (SANDAN_REQUIRE_SERVICES=1)."""
    if REQUIRE:
        pytest.fail(f"{reason} (and SANDAN_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The Chromium executable, checked before a server is started for nothing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is missing (uv sync --group dev)")
    return CHROMIUM


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    log: Path


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`sandan demo` on a free port with a fresh data directory: migrated, seeded, serving."""
    root = tmp_path_factory.mktemp("e2e-server")
    data_dir, log = root / "data", root / "server.log"
    port = free_port()
    # the server is configured by its arguments alone, not by the tester's SANDAN_* variables
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDAN_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-c", "from sandan.cli import main; main()", "demo"]
    command += ["--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`sandan demo` exited with {proc.returncode}:\n{_tail(log)}")
            try:
                if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`sandan demo` not ready after {READY_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.2)
        yield Server(base_url, data_dir, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test. A failing test leaves a screenshot; an
    uncaught JavaScript error in the page fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:  # the call phase is reported by now
        shot(page, f"FAILED-{request.node.name}.png")
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


# --------------------------------------------------------------------------- helpers


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/e2e/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def url_re(server: Server, path: str) -> re.Pattern[str]:
    """The page's address is exactly base_url + path (a query string allowed)."""
    return re.compile(re.escape(server.base_url + path) + r"(\?.*)?$")


def log_in(page: Page, server: Server, email: str, next_path: str = "/") -> None:
    """Log in through the login page like a person, and land on `next_path`."""
    from playwright.sync_api import expect

    page.goto(f"/login?next={quote(next_path)}")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-button").click()
    expect(page).to_have_url(url_re(server, next_path))


@contextmanager
def api_as(server: Server, email: str) -> Iterator[httpx.Client]:
    """An API client logged in as `email` (it keeps the session cookie)."""
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def choose(page: Page, select: Locator, option: str) -> None:
    """Pick an option of a Quasar select by its visible text."""
    select.click()
    page.locator(".q-menu .q-item").filter(has_text=option).first.click()


def wait_for_chart(page: Page) -> None:
    """The industry chart is drawn on a canvas; let its opening animation finish."""
    page.locator(".nicegui-echart canvas").first.wait_for()
    page.wait_for_timeout(1200)


# --------------------------------------------------------------------------- tests


def test_anonymous_is_sent_to_login(page: Page, server: Server) -> None:
    """No session: a page answers with a redirect to the login page, in HTTP and in a browser."""
    from playwright.sync_api import expect

    response = httpx.get(f"{server.base_url}/", follow_redirects=False, timeout=10)
    assert response.status_code in (302, 303, 307), response.status_code
    assert response.headers["location"].startswith("/login")
    response = httpx.get(f"{server.base_url}/companies/1", follow_redirects=False, timeout=10)
    assert response.headers["location"] == "/login?next=/companies/1"
    # With the pages mounted, the API still answers unknown routes in JSON, not HTML.
    response = httpx.get(f"{server.base_url}/api/v1/no-such-thing", timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    # The language switch goes back to the referring page of this site, never elsewhere.
    for referer, target in (
        ("http://x/companies?q=1", "/companies?q=1"),
        ("http://x//evil.example/p", "/evil.example/p"),
    ):
        back = httpx.get(
            f"{server.base_url}/lang/en",
            headers={"referer": referer},
            follow_redirects=False,
            timeout=10,
        )
        assert back.status_code == 303 and back.headers["location"] == target
    health = httpx.get(f"{server.base_url}/health", timeout=10)
    assert health.json() == {"status": "ok"}

    page.goto("/")
    expect(page).to_have_url(re.compile(re.escape(server.base_url) + r"/login\?next=(%2F|/)$"))
    expect(page.locator("#login-button")).to_be_visible()
    expect(page.locator("svg#complex-map")).to_have_count(0)


def test_operator_sees_the_map_and_opens_a_company(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, OPERATOR)
    complex_map = page.locator("svg#complex-map")
    expect(complex_map).to_be_visible()
    footprints = complex_map.locator("a.company")
    expect(footprints).to_have_count(DEMO_COMPANIES)
    expect(complex_map.locator("polygon.zone")).to_have_count(4)
    expect(page.locator("#companies-total")).to_have_text(str(COMPLEX_COMPANIES))
    box = complex_map.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 400, box
    wait_for_chart(page)
    shot(page, "overview.png")

    # a footprint is a link to its company: click one in the middle of the list
    target = footprints.nth(DEMO_COMPANIES // 2)
    company_id = target.get_attribute("data-company")
    name = target.locator("title").text_content()
    assert company_id and name
    target.click()
    expect(page).to_have_url(url_re(server, f"/companies/{company_id}"))
    expect(page.locator("#company-name")).to_have_text(name)
    tree = page.locator("#asset-tree")
    expect(tree).to_be_visible()
    expect(tree).to_contain_text("본사공장")  # every demo company's first site
    expect(tree.locator(".q-tree__node-header").first).to_be_visible()
    assert tree.locator(".q-tree__node-header").count() >= 2
    expect(page.locator("svg#complex-map a.company")).to_have_count(1)  # the lot on its zone
    shot(page, "company.png")

    # the companies list links to the same page
    page.goto("/companies")
    table = page.locator("#companies-table")
    expect(table.locator("tbody tr")).to_have_count(25)  # a page of the table
    # typed at once, before the page's socket is up: must not be wiped by the first update
    table.get_by_role("textbox").fill(name)
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(url_re(server, f"/companies/{company_id}"))
    expect(page.locator("#company-name")).to_have_text(name)


def test_member_sees_only_their_own_company(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    log_in(page, server, MEMBER)
    own = page.locator("svg#complex-map a.company")
    expect(own).to_have_count(1)
    # the counts are complex-wide aggregates (by design); only the rows are filtered
    expect(page.locator("#companies-total")).to_have_text(str(COMPLEX_COMPANIES))
    own_id = int(own.get_attribute("data-company") or 0)
    own_name = own.locator("title").text_content()
    assert own_id and own_name
    wait_for_chart(page)
    shot(page, "member-overview.png")

    page.goto(f"/companies/{own_id}")
    expect(page.locator("#company-name")).to_have_text(own_name)

    # another company (its name through the operator's API, for the leak check)
    other_id = own_id % DEMO_COMPANIES + 1
    with httpx.Client(base_url=server.base_url, timeout=10) as api:
        api.post("/api/v1/auth/login", json={"email": OPERATOR, "password": PASSWORD})
        other = api.get(f"/api/v1/companies/{other_id}")
        assert other.status_code == 200, other.text
    other_name = other.json()["name"]

    page.goto(f"/companies/{other_id}")
    expect(page.get_by_text("찾을 수 없습니다")).to_be_visible()
    expect(page.locator("#company-name")).to_have_count(0)
    expect(page.locator("#asset-tree")).to_have_count(0)
    assert other_name not in page.content()
    shot(page, "member-other-company.png")


def test_overview_shows_the_complex_live(page: Page, server: Server) -> None:
    """The operator's overview: machines by state now, and the map coloured by how much of
    each factory is running."""
    from playwright.sync_api import expect

    log_in(page, server, OPERATOR)
    status = page.locator("#live-status")
    expect(status).to_contain_text(re.compile(r"가동 \d+"))
    running = int(re.search(r"가동 (\d+)", status.inner_text()).group(1))  # type: ignore[union-attr]
    assert running > 100  # the simulated complex runs hundreds of machines
    page.locator("#map-mode").get_by_text("가동 현황").click()
    fills = page.locator("svg#complex-map a.company polygon")
    expect(fills.first).to_have_attribute("fill", re.compile(r"#(16a34a|f59e0b|dc2626)"))
    colours = {fills.nth(i).get_attribute("fill") for i in range(fills.count())}
    assert colours <= {"#16a34a", "#f59e0b", "#dc2626", "#94a3b8"} and "#16a34a" in colours
    wait_for_chart(page)
    shot(page, "overview-live.png")


def test_live_machines_move(page: Page, server: Server) -> None:
    """The simulator feeds the demo: a member's live page shows machine states and the power
    figures change within seconds."""
    from playwright.sync_api import expect

    log_in(page, server, MEMBER)
    page.goto("/")
    page.locator("svg#complex-map a.company").first.click()
    page.locator("#live-link").click()
    expect(page).to_have_url(re.compile(r".*/companies/\d+/live$"))
    summary = page.locator("#live-summary")
    expect(summary).to_contain_text("가동", timeout=15_000)
    expect(page.locator(".machine-state").first).not_to_have_text("…")
    first = summary.inner_text()
    page.wait_for_timeout(4_500)
    expect(summary).not_to_have_text(first)  # power is live: it moves every second
    expect(page.locator("#oee-value")).to_have_text(re.compile(r"^\d+\.\d%$"))
    wait_for_chart(page)
    shot(page, "live.png")


def test_oee_page_and_a_downtime_reason(page: Page, server: Server) -> None:
    """A company admin reads OEE with its losses by machine, gives a stop its reason, and
    reads the production and energy summary."""
    from playwright.sync_api import expect

    log_in(page, server, ADMIN)
    own = page.locator("svg#complex-map a.company").first
    company_id = own.get_attribute("data-company")
    page.goto(f"/companies/{company_id}")
    page.locator("#oee-link").click()
    expect(page).to_have_url(url_re(server, f"/companies/{company_id}/oee"))
    expect(page.locator("#oee-oee")).to_have_text(re.compile(r"^\d+\.\d%$"), timeout=20_000)
    expect(page.locator("#oee-table tbody tr").nth(2)).to_be_visible()  # machines, then total
    expect(page.locator("#oee-table")).to_contain_text("합계")
    stop = page.locator(".downtime-event").first
    expect(stop).to_be_visible(timeout=20_000)
    stop.locator(".downtime-reason").click()
    page.locator(".q-menu .q-item").first.click()
    stop.locator(".downtime-save").click()
    expect(page.get_by_text("저장했습니다")).to_be_visible()
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        api.post("/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        answer = api.get(f"/api/v1/analytics/companies/{company_id}/downtime").json()
    assert any(item["reason"] and item["reason_by"] for item in answer["items"])
    wait_for_chart(page)
    shot(page, "oee.png")

    page.goto(f"/companies/{company_id}/summary")
    expect(page.locator("#summary-produced")).to_have_text(re.compile(r"^[\d,]+$"), timeout=20_000)
    expect(page.locator("#summary-kwh_per_good_unit")).to_have_text(re.compile(r"^\d+\.\d{4}$"))
    expect(page.locator("#summary-table tbody tr").first).to_be_visible()
    wait_for_chart(page)
    shot(page, "summary.png")


def test_language_switch(page: Page, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto("/login")
    expect(page.locator("#login-button")).to_have_text("로그인")
    expect(page.locator("html")).to_have_attribute("lang", "ko-KR")
    page.locator("#lang-switch").click()
    expect(page).to_have_url(url_re(server, "/login"))
    expect(page.locator("#login-button")).to_have_text("Log in")
    expect(page.locator("#lang-switch")).to_have_text("한국어")
    shot(page, "login-en.png")

    # the choice is a cookie: it holds after logging in
    page.locator("#login-email").fill(OPERATOR)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-password").press("Enter")
    expect(page).to_have_url(url_re(server, "/"))
    expect(page.get_by_text("Map of the complex")).to_be_visible()
    expect(page.get_by_text("Gumi National Industrial Complex")).to_be_visible()
    expect(page.locator("#zone-counts")).to_contain_text("Gumi Zone 1")
    expect(page.locator("svg#complex-map")).to_contain_text("Gumi Zone 1")
    expect(page.locator("header")).to_contain_text("Log out")
    wait_for_chart(page)
    shot(page, "overview-en.png")

    page.locator("#lang-switch").click()  # and back
    expect(page.get_by_text("단지 지도")).to_be_visible()


def test_benchmarks_show_groups_and_only_the_own_position(page: Page, server: Server) -> None:
    """A member reads the complex benchmarks: groups published or withheld with the reason in
    Korean, and the own company's percentile, never another company's value."""
    from playwright.sync_api import expect

    log_in(page, server, MEMBER, "/sharing/benchmarks")
    industry = page.locator("#bench-oee-industry")
    expect(industry.locator("tbody tr").first).to_be_visible(timeout=30_000)
    expect(industry).to_contain_text("공개")
    expect(industry).to_contain_text("최소 5곳이 필요합니다")
    expect(page.locator("#bench-oee-zone")).to_contain_text("GUMI/Z")
    expect(page.locator("#bench-oee-position")).to_contain_text(re.compile(r"백분위 \d+"))
    shot(page, "benchmarks.png")


def test_operator_onboards_companies_from_csv(page: Page, server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from sandan.registry.demo_csv import write_company_csv

    csv_path = tmp_path / "new-companies.csv"
    bad_rows = write_company_csv(csv_path, 20, 0.1, seed=99)  # seeded demo uses seed 7
    assert len(bad_rows) == 2
    bad_lines = sorted(row + 1 for row in bad_rows)  # line 1 is the header
    imported = 20 - len(bad_rows)

    log_in(page, server, OPERATOR)
    before = int(page.locator("#companies-total").inner_text())
    page.locator("header").get_by_role("link", name="기업 등록").click()
    expect(page).to_have_url(url_re(server, "/admin/onboarding"))
    expect(page.locator("#import-problems")).to_be_hidden()

    page.locator("input[type=file]").set_input_files(str(csv_path))
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text(f"등록 완료: {imported} ")
    expect(summary).to_contain_text(f"오류 행: {len(bad_rows)} / 20")
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(len(bad_lines))
    lines = [int(cell) for cell in problems.locator("td:first-child").all_inner_texts()]
    assert sorted(lines) == bad_lines
    page.wait_for_timeout(500)  # the upload's progress bar fades out
    shot(page, "onboarding.png")

    page.goto("/")
    expect(page.locator("#companies-total")).to_have_text(str(before + imported))
