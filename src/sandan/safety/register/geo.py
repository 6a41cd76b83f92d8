"""Great-circle distances on numpy columns: one call for every point of the complex."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # the mean Earth radius (IUGG)


def haversine_m(
    lat: float, lon: float, lats: npt.ArrayLike, lons: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Metres from (lat, lon) to each (lats[i], lons[i]) along the sphere."""
    phi1 = np.radians(lat)
    phi2 = np.radians(np.asarray(lats, dtype=np.float64))
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lons, dtype=np.float64) - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return result
