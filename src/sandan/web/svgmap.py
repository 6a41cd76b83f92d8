"""An offline map of the complex: zones and company footprints drawn as SVG, no tile server."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# One colour per KSIC division that Gumi's industries fall in; others get grey.
DIVISION_COLOURS = {
    "26": "#2563eb",
    "27": "#0891b2",
    "28": "#16a34a",
    "29": "#ea580c",
    "30": "#9333ea",
    "31": "#db2777",
    "20": "#65a30d",
    "13": "#ca8a04",
    "25": "#78716c",
    "62": "#0f766e",
}


def _rings(geom: dict[str, Any] | None) -> list[list[list[float]]]:
    if not geom:
        return []
    if geom.get("type") == "Polygon":
        return [geom["coordinates"][0]]
    if geom.get("type") == "MultiPolygon":
        return [p[0] for p in geom["coordinates"]]
    return []


def render(
    zones: list[dict[str, Any]],
    companies: list[dict[str, Any]],
    width: int = 960,
    highlight: int | None = None,
    overlays: Sequence[Overlay] = (),
) -> str:
    """SVG of zone boundaries and footprints; each footprint links to its company page.
    Overlays (alarms, incidents, shelters, routes) are drawn on top, in their order."""
    points = [p for z in zones for r in _rings(z.get("boundary")) for p in r]
    points += [p for c in companies for r in _rings(c.get("footprint")) for p in r]
    points += [list(p) for o in overlays for p in o.points]
    if not points:
        return ""
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    kx = math.cos(math.radians((min_lat + max_lat) / 2))  # keep shapes true at this latitude
    span_x = max((max_lon - min_lon) * kx, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    pad = 12
    scale = (width - 2 * pad) / span_x
    height = int(span_y * scale + 2 * pad)

    def xy(p: list[float]) -> str:
        x = pad + (p[0] - min_lon) * kx * scale
        y = pad + (max_lat - p[1]) * scale
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<svg id="complex-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-height:72vh;background:#f8fafc;border-radius:8px">'
    ]
    labels: list[str] = []
    for z in zones:
        for ring in _rings(z.get("boundary")):
            parts.append(
                f'<polygon class="zone" data-zone="{html.escape(str(z["code"]))}" '
                f'points="{" ".join(xy(p) for p in ring)}" fill="#e2e8f0" stroke="#64748b" '
                f'stroke-width="1.5" stroke-dasharray="6 3"/>'
            )
            top = min(ring, key=lambda p: -p[1])
            x, y = xy([min(p[0] for p in ring), top[1]]).split(",")
            # drawn after the footprints, with a halo, so a footprint never hides a zone's name
            labels.append(
                f'<text x="{float(x) + 6}" y="{float(y) + 18}" font-size="15" font-weight="600" '
                f'fill="#334155" stroke="#f8fafc" stroke-width="4" stroke-linejoin="round" '
                f'paint-order="stroke" pointer-events="none">'
                f"{html.escape(z.get('label') or z['code'])}</text>"
            )
    for c in companies:
        colour = c.get("fill") or DIVISION_COLOURS.get(str(c.get("ksic", ""))[:2], "#94a3b8")
        stroke = (
            ' stroke="#dc2626" stroke-width="3"'
            if c["id"] == highlight
            else ' stroke="#1e293b" stroke-width="0.5"'
        )
        for ring in _rings(c.get("footprint")):
            cid = int(c["id"])
            parts.append(
                f'<a href="/companies/{cid}" class="company" data-company="{cid}">'
                f'<polygon points="{" ".join(xy(p) for p in ring)}" fill="{colour}" '
                f'fill-opacity="0.75"{stroke}><title>{html.escape(c["name"])}</title></polygon></a>'
            )
    parts.extend(labels)
    metres = scale / 111_320.0  # px per metre (a degree of latitude is ~111.32 km)
    parts.extend(_overlay(o, xy, metres) for o in overlays)
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Overlay:
    """Something drawn over the map: a point (an alarm, a shelter), a circle of a radius in
    metres (an incident's area), or a line (an evacuation route). `points` are (lon, lat)."""

    kind: Literal["point", "circle", "line"]
    points: tuple[tuple[float, float], ...]
    colour: str
    title: str = ""
    css_class: str = ""
    radius_m: float = 0.0
    size: float = 7.0
    href: str | None = None
    attrs: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _overlay(o: Overlay, xy: Callable[[list[float]], str], metres: float) -> str:
    extra = "".join(f' {k}="{html.escape(v)}"' for k, v in o.attrs)
    title = f"<title>{html.escape(o.title)}</title>" if o.title else ""
    cls = f' class="{html.escape(o.css_class)}"' if o.css_class else ""
    if o.kind == "line":
        path = " ".join(xy(list(p)) for p in o.points)
        body = (
            f'<polyline{cls}{extra} points="{path}" fill="none" stroke="{o.colour}" '
            f'stroke-width="3" stroke-linecap="round" stroke-dasharray="8 4">{title}</polyline>'
        )
    else:
        x, y = xy(list(o.points[0])).split(",")
        if o.kind == "circle":
            r = max(o.radius_m * metres, 4.0)
            body = (
                f'<circle{cls}{extra} cx="{x}" cy="{y}" r="{r:.1f}" fill="{o.colour}" '
                f'fill-opacity="0.15" stroke="{o.colour}" stroke-width="2">{title}</circle>'
            )
        else:
            body = (
                f'<circle{cls}{extra} cx="{x}" cy="{y}" r="{o.size:.1f}" fill="{o.colour}" '
                f'stroke="#ffffff" stroke-width="2">{title}</circle>'
            )
    return f'<a href="{html.escape(o.href)}">{body}</a>' if o.href else body
