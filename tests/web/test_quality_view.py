"""The data-quality page's own rules (web/quality_view.py): worst tags first, colours, the
hover text, durations, and names escaped in the server-rendered heat map. The page itself is
driven in a browser in tests/e2e/test_quality_page.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from sandan.web import quality_view as view

D1, D2 = date(2026, 11, 2), date(2026, 11, 3)


def _row(tag_id: int, day: date, score: float, received: int = 10) -> dict[str, Any]:
    return {
        "tag_id": tag_id,
        "day": day,
        "score": score,
        "expected": 1440.0,
        "received": received,
        "good": received,
        "suspect": 0,
        "bad": 0,
        "rejected": 0,
        "completeness": 0.5,
        "validity": None if received == 0 else 1.0,
        "continuity": 0.25,
    }


def _line(tag_id: int, name: str, label: str) -> view.TagLine:
    return view.TagLine(tag_id, name, "", 1000, f"m{tag_id}", label)


def test_worst_first_by_the_mean_or_by_machine() -> None:
    lines = [_line(1, "b", "M2"), _line(2, "a", "M1"), _line(3, "c", "M1")]
    cells = {
        (1, D1): _row(1, D1, 90),
        (1, D2): _row(1, D2, 90),
        (2, D1): _row(2, D1, 100),
        (2, D2): _row(2, D2, 60),  # mean 80
        (3, D1): _row(3, D1, 0, received=0),  # silent: its zeros count
        (3, D2): _row(3, D2, 100),
    }
    assert [x.id for x in view.ordered(lines, cells, [D1, D2], "worst")] == [3, 2, 1]
    assert [x.id for x in view.ordered(lines, cells, [D1, D2], "machine")] == [2, 3, 1]
    assert view.mean_score(cells, 2, [D1, D2]) == 80.0


def test_colours_and_the_hover_text() -> None:
    assert view.colour(_row(1, D1, 0, received=0)) == view.NO_DATA_COLOUR
    assert view.colour(_row(1, D1, 40)) == "hsl(0, 75%, 78%)"
    assert view.colour(_row(1, D1, 75)) == "hsl(60, 75%, 78%)"
    assert view.colour(_row(1, D1, 100)) == "hsl(120, 75%, 78%)"
    title = view.cell_title(_row(1, D1, 72.5), "en")
    assert title.split("\n") == [
        "2026-11-02 · Score 72.5",
        "Completeness 50.0% · Validity 100.0% · Continuity 25.0%",
        "Received 10 · Good 10 · Suspect 0 · Bad 0 · Rejected 0 (Expected 1,440)",
    ]
    assert "유효성 –" in view.cell_title(_row(1, D1, 0, received=0), "ko")


def test_durations_as_people_say_them() -> None:
    assert view.duration(4.25, "en") == "4.2 s"
    assert view.duration(1260, "en") == "21 min 0 s"
    assert view.duration(1260, "ko") == "21분 0초"
    assert view.duration(3 * 3600 + 300, "en") == "3 h 05 min"
    assert view.duration(3 * 3600 + 300, "ko") == "3시간 05분"


def test_names_are_escaped_in_the_heat_map() -> None:
    line = _line(1, "temp", "<script>alert(1)</script>")
    html = view.heatmap_html([line], {(1, D1): _row(1, D1, 50)}, [D1], "en", selected=1)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "data-tag='1' data-day='2026-11-02'" in html and ">50.0</td>" in html
