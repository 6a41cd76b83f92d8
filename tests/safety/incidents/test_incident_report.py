"""The closing report (Markdown, HTML, CSV timeline, PDF in a Korean font), the bus events of
an incident, and the append-only timeline."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import World
from safety.register.hazard_world import API, SPILL, raise_alarms, seed_register
from sandan.core.context import Context
from sandan.core.db import EVENTS_KEY
from sandan.core.identity.principal import Principal
from sandan.safety.incidents import report, service
from sandan.safety.incidents.models import TimelineEntry
from sandan.safety.incidents.schemas import IncidentIn, TaskIn

ALARM = [0]  # the alarm the closed incident was opened from


@pytest.fixture
def closed_incident(client: TestClient, ctx: Context, world: World) -> int:
    seed_register(client, world)
    (alarm,) = raise_alarms(ctx, world, 1)
    ALARM[0] = alarm
    h = world.headers("safety")
    inc = client.post(
        f"{API}/incidents",
        json={
            "title": "불산 누출 T-1",
            "kind": "chemical",
            "severity": 4,
            "alarm_ids": [alarm],
            "lat": SPILL[0],
            "lon": SPILL[1],
            "radius_m": 2000,
        },
        headers=h,
    ).json()
    n = f"{API}/incidents/{inc['id']}"
    client.post(
        f"{n}/tasks", json={"title": "방제복 착용 후 밸브 차단", "assignee": "방재팀"}, headers=h
    )
    client.post(f"{n}/notes", json={"text": 'valve "V-3" closed, 잔류 가스 측정'}, headers=h)
    closed = client.post(f"{n}/close", json={"summary": "누출 차단, 부상자 없음"}, headers=h)
    assert closed.status_code == 200, closed.text
    return int(inc["id"])


def _get(client: TestClient, world: World, incident_id: int, fmt: str, lang: str = "ko") -> bytes:
    response = client.get(
        f"{API}/incidents/{incident_id}/report",
        params={"format": fmt, "lang": lang},
        headers=world.headers("safety"),
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def test_markdown_and_html_carry_the_whole_story(
    client: TestClient, world: World, closed_incident: int
) -> None:
    md = _get(client, world, closed_incident, "md").decode()
    assert md.startswith(f"# 사고 종료 보고서 #{closed_incident}: 불산 누출 T-1")
    for expected in (
        "심각도: 4 (critical)",
        "누출 차단, 부상자 없음",
        f"#{ALARM[0]} high HF 감지기 1 고농도",
        "불산 (hydrofluoric acid 55%) (CAS 7664-39-3) 12.5 t",
        "김안전",
        "010-1234-5678",
        "[진행 중] 방제복 착용 후 밸브 차단 — 방재팀",
        "closed · safety",
    ):
        assert expected in md, expected
    assert md.index("회사A") < md.index("회사B")  # nearest first
    page = _get(client, world, closed_incident, "html", "en").decode()
    assert "<h1>Incident closing report" in page and "Affected companies (2)" in page
    assert "valve &quot;V-3&quot; closed" in page  # escaped


def test_timeline_csv(client: TestClient, world: World, closed_incident: int) -> None:
    text = _get(client, world, closed_incident, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["opened", "alarm_linked", "task_added", "note", "closed"]
    assert rows[3]["text"] == 'valve "V-3" closed, 잔류 가스 측정'
    assert rows[-1]["author"] == "safety"


def test_pdf_renders_korean_with_the_system_font(
    client: TestClient, world: World, closed_incident: int
) -> None:
    assert report.korean_font() is not None, "install fonts-noto-cjk (CI does)"
    pdf = _get(client, world, closed_incident, "pdf")
    assert pdf.startswith(b"%PDF-") and b"/FontFile" in pdf  # a Korean font, embedded


def test_pdf_without_a_korean_font_still_renders(
    client: TestClient, world: World, closed_incident: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "korean_font", lambda: None)
    pdf = _get(client, world, closed_incident, "pdf")
    assert pdf.startswith(b"%PDF-") and b"/FontFile" not in pdf
    monkeypatch.setattr(report, "korean_font", lambda: ("/nonexistent/font.ttf", 0))
    assert _get(client, world, closed_incident, "pdf").startswith(b"%PDF-")


def test_events_and_append_only_timeline(ctx: Context, world: World) -> None:
    safety = Principal.system("safety-test")
    with ctx.db.unit(safety) as s:
        inc = service.open_incident(
            s,
            safety,
            IncidentIn(title="가스", kind="gas", severity=2, lat=36.1, lon=128.4),
        )
        service.add_task(s, safety, inc.id, TaskIn(title="환기"))
        service.change_status(s, safety, inc.id, "stable")
        events = [(e.subject, e.payload.get("change")) for e in s.info[EVENTS_KEY]]
    assert events == [
        ("safety.incident_opened", None),
        ("safety.incident_changed", "task"),
        ("safety.incident_changed", "status"),
    ]
    with ctx.db.unit(safety) as s:
        entry = s.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == inc.id)).first()
        assert entry is not None
        entry.text = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            s.flush()
        s.rollback()
