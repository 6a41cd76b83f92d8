"""The data-quality page end to end, in a real browser against a real `sandan demo` server
(the fixtures of test_pages.py).

The demo's simulator has fed its tags for a few minutes only, so the first company's admin
adds a probe: an HTTP gateway (on no machine) with a 1-minute temperature tag, and sends it
30 hours of readings through the real HTTP ingest, with two holes (27 and 5 hours ago), a few
drifting (SUSPECT) and impossible (BAD) values, refused readings, and nothing for the last ten
minutes. The page's figures for that tag are then compared with what `GET /telemetry/quality`
and `/gaps` answer the same viewer: every cell of the days that are over, today's counts, the
detail table and the gaps. The operator sees the company too (worst tags first); another
company's admin is refused the page and the data.

Screenshots land in test-artifacts/e2e/: quality-ko.png, quality-en.png, quality-operator.png.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import test_pages
from test_pages import ADMIN, MEMBER, OPERATOR, Server, api_as, choose, log_in, shot, url_re

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.e2e

chromium, server, browser, page = (
    test_pages.chromium,
    test_pages.server,
    test_pages.browser,
    test_pages.page,
)

OTHER = "admin@nakdong-new-display.example"  # company_admin of the second demo company
T = "/api/v1/telemetry"
SEOUL = ZoneInfo("Asia/Seoul")  # the demo's plant time zone (SANDAN_PLANT_TIMEZONE default)
GATEWAY = "DQ probe gateway"
TAG = "dq_probe_temp"
HOURS = 30
HOLE_A = range(180, 240)  # minutes after the first reading: 27 to 26 hours ago
HOLE_B = range(1500, 1520)  # 5 hours ago, 20 readings: a 21-minute gap in the last 24 h
QUIET = 10  # minutes without readings at the end: an ongoing gap


@dataclass(frozen=True)
class Probe:
    company_id: int
    tag_id: int
    first: datetime  # the first reading, UTC


def _value(i: int) -> float:
    """Range 0-100: 103 drifts by 3 % of the span (SUSPECT), 150 is BAD."""
    return 103.0 if i % 97 == 0 else 150.0 if i % 211 == 0 else 50.0 + (i % 7)


@pytest.fixture(scope="module")
def probe(server: Server) -> Probe:
    """The probe device and tag, and their readings sent through the HTTP ingest."""
    with api_as(server, ADMIN) as api:
        company_id = api.get("/api/v1/auth/me").json()["company_id"]
        site = api.get("/api/v1/sites", params={"company_id": company_id}).json()["items"][0]
        device = api.post(
            "/api/v1/devices",
            json={"site_id": site["id"], "name": GATEWAY, "protocol": "http"},
        )
        assert device.status_code == 201, device.text
        tag = api.post(
            "/api/v1/tags",
            json={
                "device_id": device.json()["id"],
                "name": TAG,
                "quantity": "temperature",
                "unit": "degC",
                "range_min": 0,
                "range_max": 100,
                "sampling_ms": 60_000,
            },
        )
        assert tag.status_code == 201, tag.text
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        first = now - timedelta(hours=HOURS)
        minutes = [i for i in range(HOURS * 60 - QUIET + 1) if i not in HOLE_A and i not in HOLE_B]
        stamps = [(first + timedelta(minutes=i)).isoformat() for i in minutes]
        values: list[float | None] = [_value(i) for i in minutes]
        # four refused readings (not a finite number), yesterday at noon and a half minute
        noon = datetime.combine(now.date() - timedelta(days=1), datetime.min.time(), UTC)
        refused = [
            (noon + timedelta(hours=12, minutes=k, seconds=30)).isoformat() for k in range(4)
        ]
        body = {
            "tag": [TAG] * (len(stamps) + 4),
            "ts": stamps + refused,
            "value": values + [None] * 4,
        }
        sent = api.post(f"{T}/readings", params={"device_id": device.json()["id"]}, json=body)
        assert sent.status_code == 200, sent.text
        assert sent.json()["stored"] == len(stamps) and sent.json()["rejected"] == 4, sent.text
    return Probe(company_id, tag.json()["id"], first)


def _quality(api: httpx.Client, tag_id: int, days: list[str]) -> dict[str, dict[str, Any]]:
    rows = api.get(f"{T}/quality", params={"tag_id": tag_id, "start": days[0], "end": days[-1]})
    assert rows.status_code == 200, rows.text
    return {row["day"]: row for row in rows.json()}


def _gaps(api: httpx.Client, tag_id: int) -> list[dict[str, Any]]:
    rows = api.get(f"{T}/gaps", params={"tag_id": tag_id, "order": "newest"})
    assert rows.status_code == 200, rows.text
    return list(rows.json())


def _local(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(SEOUL).strftime("%m-%d %H:%M:%S")


def _cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def _shown_days(page: Page, tag_id: int) -> list[str]:
    cells = page.locator(f"#dq-heatmap td.dq-cell[data-tag='{tag_id}']")
    days = [cells.nth(i).get_attribute("data-day") or "" for i in range(cells.count())]
    assert len(days) == 7 and days == sorted(days), days
    return days


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _check_day_cells(page: Page, probe: Probe, api: httpx.Client) -> dict[str, dict[str, Any]]:
    """Every past day's cell of the probe equals the API's score and shows its shares and
    counts on hover; today's cell shows the same counts (its score moves with the clock)."""
    days = _shown_days(page, probe.tag_id)
    truth = _quality(api, probe.tag_id, days)
    assert sorted(truth) == days
    for day in days:
        row = truth[day]
        cell = page.locator(f"#dq-heatmap td.dq-cell[data-tag='{probe.tag_id}'][data-day='{day}']")
        title = cell.get_attribute("title") or ""
        counts = re.findall(r"[\d,]+", title.split("\n")[2])
        assert [int(c.replace(",", "")) for c in counts[:5]] == [
            row[k] for k in ("received", "good", "suspect", "bad", "rejected")
        ], (day, title, row)
        if day != days[-1]:
            assert cell.inner_text().strip() == f"{row['score']:.1f}", (day, row)
            for share in ("completeness", "validity", "continuity"):
                assert _pct(row[share]) in title.split("\n")[1], (day, share, title, row)
    return truth


def test_member_reads_the_quality_of_their_tags(page: Page, server: Server, probe: Probe) -> None:
    from playwright.sync_api import expect

    log_in(page, server, MEMBER, f"/companies/{probe.company_id}")
    page.locator("#quality-link").click()
    expect(page).to_have_url(url_re(server, f"/companies/{probe.company_id}/quality"))
    heatmap = page.locator("#dq-heatmap")
    expect(heatmap.locator("tr.dq-row").first).to_be_visible(timeout=30_000)
    assert heatmap.locator("tr.dq-row").count() > 10  # the demo's tags and the probe

    # worst first: the 7-day means never fall down the table
    means = [float(x) for x in heatmap.locator("td.dq-mean").all_inner_texts()]
    assert means == sorted(means)

    # only the probe's gateway (it hangs on no machine)
    choose(page, page.locator("#dq-machine"), GATEWAY)
    expect(heatmap.locator("tr.dq-row")).to_have_count(1)
    expect(heatmap.locator("tr.dq-row td.dq-tag")).to_have_text(TAG)
    expect(page.locator("#dq-tags")).to_have_text("1")

    with api_as(server, MEMBER) as api:
        truth = _check_day_cells(page, probe, api)
        gaps = _gaps(api, probe.tag_id)

    # the 24 hours hold two silences: the 5-hour-old hole and the one going on now
    assert [g["ongoing"] for g in gaps] == [True, False], gaps
    ongoing, hole = gaps
    last = probe.first + timedelta(minutes=HOURS * 60 - QUIET)
    assert datetime.fromisoformat(ongoing["start"]) == last
    assert (hole["seconds"], hole["missing"]) == (21 * 60, 20)
    table = page.locator("#dq-gaps tbody tr")
    expect(table).to_have_count(2)
    label, start, end, _, _, going = _cells(table.nth(0))  # its length grows with the clock
    assert (label, start, end, going) == (
        f"{GATEWAY} (설비 미지정) · {TAG}",
        _local(last.isoformat()),
        "",
        "예",
    )
    assert _cells(table.nth(1)) == [
        f"{GATEWAY} (설비 미지정) · {TAG}",
        _local(hole["start"]),
        _local(hole["end"]),
        "21분 0초",
        "20",
        "",
    ]

    # the row's detail: its days, newest first, and its gaps
    heatmap.locator("tr.dq-row").click()
    expect(page.locator("#dq-detail-title")).to_contain_text(f"{TAG} [degC] · 60,000 ms")
    detail = page.locator("#dq-detail-days tbody tr")
    expect(detail).to_have_count(7)
    yesterday = sorted(truth)[-2]
    row = truth[yesterday]
    assert _cells(detail.nth(1)) == [
        yesterday,
        f"{row['score']:.1f}",
        _pct(row["completeness"]),
        _pct(row["validity"]),
        _pct(row["continuity"]),
        f"{row['expected']:,.0f}",
        *(f"{row[k]:,}" for k in ("received", "good", "suspect", "bad", "rejected")),
    ]
    assert row["suspect"] > 0 and row["rejected"] == 4  # the drift and the refused readings
    detail_gaps = page.locator("#dq-detail-gaps tbody tr")
    expect(detail_gaps).to_have_count(2)
    assert _cells(detail_gaps.nth(1)) == _cells(table.nth(1))
    shot(page, "quality-ko.png")

    # the same page in English
    page.locator("#lang-switch").click()
    expect(page.locator("#dq-heatmap tr.dq-row").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Score by tag and day")).to_be_visible()
    choose(page, page.locator("#dq-machine"), GATEWAY)
    expect(heatmap.locator("tr.dq-row")).to_have_count(1)
    expect(page.locator("#dq-gaps tbody tr").nth(1)).to_contain_text("21 min 0 s")
    expect(page.locator("#dq-gaps tbody tr").nth(0)).to_contain_text("yes")
    title = heatmap.locator(f"td.dq-cell[data-day='{yesterday}']").get_attribute("title") or ""
    assert f"Received {row['received']:,} · Good {row['good']:,}" in title
    assert f"Rejected {row['rejected']:,}" in title
    heatmap.locator("tr.dq-row").click()
    expect(page.locator("#dq-detail-days tbody tr")).to_have_count(7)
    shot(page, "quality-en.png")
    page.locator("#lang-switch").click()  # back to Korean for the next tests
    expect(page.get_by_text("태그 × 일자 품질 점수")).to_be_visible()


def test_operator_sees_the_company_and_others_are_refused(
    page: Page, server: Server, probe: Probe
) -> None:
    from playwright.sync_api import expect

    path = f"/companies/{probe.company_id}/quality"
    anonymous = httpx.get(f"{server.base_url}{path}", follow_redirects=False, timeout=10)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={path}"

    log_in(page, server, OPERATOR, path)
    heatmap = page.locator("#dq-heatmap")
    expect(heatmap.locator(f"tr.dq-row[data-tag='{probe.tag_id}']")).to_be_visible(timeout=30_000)
    with api_as(server, OPERATOR) as api:
        _check_day_cells(page, probe, api)
    machines = heatmap.locator("tr.dq-row td:first-child")
    first = min(x.strip() for x in machines.all_inner_texts())
    page.locator("#dq-sort").get_by_text("설비별").click()
    expect(machines.first).to_have_text(first)  # redrawn by machine
    labels = [x.strip() for x in machines.all_inner_texts()]
    assert labels == sorted(labels)
    shot(page, "quality-operator.png")

    # another company's admin: no page, and the API shows none of the probe's data
    page.context.clear_cookies()
    log_in(page, server, OTHER, path)
    expect(page.get_by_text("찾을 수 없습니다")).to_be_visible()
    expect(page.locator("#dq-heatmap")).to_have_count(0)
    page.wait_for_timeout(1_000)  # nothing arrives later either
    assert TAG not in page.content()
    with api_as(server, OTHER) as api:
        assert _quality(api, probe.tag_id, [datetime.now(UTC).date().isoformat()]) == {}
        assert _gaps(api, probe.tag_id) == []
