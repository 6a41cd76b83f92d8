"""Errors of the traffic signals."""

from __future__ import annotations

from sandan.core.errors import SandanError


class SimulationFailed(SandanError):
    """SUMO (netconvert, duarouter or the simulation) failed: the platform's side, not the
    caller's input, so a 503 that names the tool rather than a bare 500."""

    status_code = 503
