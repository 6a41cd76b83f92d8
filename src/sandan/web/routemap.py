"""An offline map of delivery routes: each route a coloured line from the depot through its
numbered stops and back, dropped stops as red crosses. Plain SVG, so it draws with no tile
server (the complex's machines may have no internet)."""

from __future__ import annotations

import html
import math
from typing import Any

PALETTE = (
    "#2563eb",
    "#16a34a",
    "#ea580c",
    "#9333ea",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ca8a04",
    "#4f46e5",
    "#0f766e",
    "#b45309",
    "#be123c",
)
DROPPED = "#dc2626"


def colour(seq: int) -> str:
    """The colour of route number `seq` (1-based), the same on the map and in the tables."""
    return PALETTE[(seq - 1) % len(PALETTE)]


def render(
    depot: dict[str, Any],
    routes: list[dict[str, Any]],
    dropped: list[dict[str, Any]],
    width: int = 960,
    partial: bool = False,
) -> str:
    """SVG of the plan; points are {"lat", "lon"} dicts, a route's stops in visiting order.
    `partial`: the routes hold only some of their stops (a tenant's), so their lines are
    dashed: they give the order, not the road the truck drives."""
    points = [(depot["lat"], depot["lon"])]
    points += [(s["lat"], s["lon"]) for r in routes for s in r["stops"]]
    points += [(s["lat"], s["lon"]) for s in dropped]
    lat_lo, lat_hi = min(p[0] for p in points), max(p[0] for p in points)
    lon_lo, lon_hi = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((lat_lo + lat_hi) / 2))  # true shapes at this latitude
    span = max((lon_hi - lon_lo) * kx, lat_hi - lat_lo, 1e-4)
    pad = 28
    scale = (width - 2 * pad) / span
    height = int(max((lat_hi - lat_lo) * scale, 200) + 2 * pad)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return pad + (lon - lon_lo) * kx * scale, pad + (lat_hi - lat) * scale

    dx, dy = xy(depot["lat"], depot["lon"])
    parts = [
        f'<svg id="route-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-height:70vh;background:#f8fafc;border-radius:8px">'
    ]
    dash = ' stroke-dasharray="8 5"' if partial else ""
    for route in routes:
        c = colour(int(route["seq"]))
        path = [(dx, dy), *(xy(s["lat"], s["lon"]) for s in route["stops"]), (dx, dy)]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
        parts.append(
            f'<polyline class="route" data-route="{int(route["seq"])}" points="{line}" '
            f'fill="none" stroke="{c}" stroke-width="2.5" stroke-linejoin="round" '
            f'stroke-opacity="0.85"{dash}><title>{html.escape(str(route["plate"]))}</title></polyline>'
        )
    for route in routes:
        c = colour(int(route["seq"]))
        for stop in route["stops"]:
            x, y = xy(stop["lat"], stop["lon"])
            tip = html.escape(f"{route['plate']} #{stop['position']} · {stop['ship_to']}")
            parts.append(
                f'<g class="stop" data-route="{int(route["seq"])}"><title>{tip}</title>'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="white" stroke="{c}" '
                f'stroke-width="2"/><text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="10" '
                f'font-weight="700" text-anchor="middle" fill="{c}">{stop["position"]}</text></g>'
            )
    for stop in dropped:
        x, y = xy(stop["lat"], stop["lon"])
        tip = html.escape(f"{stop['ship_to']} · {stop['dropped_reason']}")
        parts.append(
            f'<g class="dropped"><title>{tip}</title>'
            f'<path d="M{x - 6:.1f},{y - 6:.1f} L{x + 6:.1f},{y + 6:.1f} M{x - 6:.1f},'
            f'{y + 6:.1f} L{x + 6:.1f},{y - 6:.1f}" stroke="{DROPPED}" stroke-width="3"/></g>'
        )
    parts.append(
        f'<g id="route-depot"><title>{html.escape(str(depot["name"]))}</title>'
        f'<rect x="{dx - 9:.1f}" y="{dy - 9:.1f}" width="18" height="18" rx="3" '
        f'fill="#1e293b"/><text x="{dx:.1f}" y="{dy + 4:.1f}" font-size="11" fill="white" '
        f'text-anchor="middle">D</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)
