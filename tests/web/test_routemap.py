"""The offline route map: one line per route through its numbered stops, crosses for the
dropped ones, the depot, and dashed lines when the routes show only some of their stops."""

from __future__ import annotations

import re

from sandan.web.routemap import colour, render

DEPOT = {"name": "구미 <공동> 물류", "lat": 36.10, "lon": 128.38}


def _stop(pos: int, lat: float, lon: float) -> dict[str, object]:
    return {"position": pos, "ship_to": f"고객 {pos}", "lat": lat, "lon": lon}


ROUTES = [
    {"seq": 1, "plate": "경북1", "stops": [_stop(1, 36.11, 128.39), _stop(2, 36.12, 128.37)]},
    {"seq": 2, "plate": "경북2", "stops": [_stop(1, 36.09, 128.40)]},
]
DROPPED = [{"ship_to": "먼 곳", "lat": 36.05, "lon": 128.30, "dropped_reason": "over_capacity"}]


def test_each_route_is_a_coloured_line_through_numbered_stops() -> None:
    svg = render(DEPOT, ROUTES, DROPPED)
    lines = re.findall(r'<polyline class="route" data-route="(\d)" points="([^"]+)"', svg)
    assert [seq for seq, _ in lines] == ["1", "2"]
    first = lines[0][1].split()
    assert len(first) == 4 and first[0] == first[-1]  # depot, two stops, depot
    assert svg.count('class="stop"') == 3 and svg.count('class="dropped"') == 1
    assert f'stroke="{colour(2)}"' in svg and colour(1) != colour(2)
    assert "구미 &lt;공동&gt; 물류" in svg  # names are escaped
    assert "stroke-dasharray" not in svg


def test_a_tenants_partial_routes_are_dashed() -> None:
    svg = render(DEPOT, ROUTES[:1], [], partial=True)
    assert svg.count('stroke-dasharray="8 5"') == 1


def test_a_plan_of_one_point_still_draws() -> None:
    svg = render(DEPOT, [], [])
    assert svg.startswith("<svg") and 'id="route-depot"' in svg
