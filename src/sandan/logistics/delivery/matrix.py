"""Road distances and travel times between stops, estimated from coordinates.

No road network is stored for the complex (and the machine that plans may be offline), so a
leg is the great-circle distance stretched by a road factor (1.3 is typical for an industrial
grid) at an average speed. OR-Tools wants integers: metres and whole seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
IntMatrix = npt.NDArray[np.int64]


def haversine_m(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres between every pair of points (a square matrix)."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    out: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def road_distances_m(lat: npt.ArrayLike, lon: npt.ArrayLike, road_factor: float) -> IntMatrix:
    """Estimated road metres: great-circle distance × road factor, rounded."""
    return np.rint(haversine_m(lat, lon) * road_factor).astype(np.int64)


def travel_seconds(distance_m: IntMatrix, speed_kmh: float) -> IntMatrix:
    """Whole seconds to drive each leg at an average speed (rounded up: never optimistic)."""
    out: IntMatrix = np.ceil(distance_m * (3.6 / speed_kmh)).astype(np.int64)
    return out
