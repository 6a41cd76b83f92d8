"""GeoJSON polygons for zone boundaries and company footprints."""

from __future__ import annotations

from typing import Any


def polygon_problem(value: Any) -> str | None:
    """Why a value is not a usable GeoJSON Polygon/MultiPolygon in WGS84, or None."""
    if not isinstance(value, dict):
        return "must be a GeoJSON object"
    kind = value.get("type")
    coords = value.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list):
        polygons = coords
    else:
        return "type must be Polygon or MultiPolygon"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "coordinates must be a list of linear rings"
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                return "each ring needs at least 4 positions"
            for pos in ring:
                if (
                    not isinstance(pos, list | tuple)
                    or len(pos) < 2
                    or not all(isinstance(c, int | float) for c in pos[:2])
                ):
                    return "each position must be [longitude, latitude]"
                lon, lat = pos[0], pos[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return f"position {pos} is outside longitude/latitude range"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return "each ring must be closed (first position equals last)"
    return None


def rings(value: dict[str, Any]) -> list[list[list[float]]]:
    """The outer rings of a Polygon or MultiPolygon."""
    if value.get("type") == "Polygon":
        return [value["coordinates"][0]]
    return [polygon[0] for polygon in value.get("coordinates", [])]


def centroid(value: dict[str, Any]) -> tuple[float, float]:
    """A simple (lat, lon) centre of the outer rings' vertices, good enough for labels."""
    points = [p for ring in rings(value) for p in ring[:-1]]
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    return lat, lon
