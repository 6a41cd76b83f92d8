"""Fixed-time signal plans: the static programmes in a compiled network, and a Webster plan
computed for a demand by SUMO's own `tlsCycleAdaptation.py`.

The static programme is what netconvert lays down (an even split of one cycle); Webster's
plan sizes the cycle and splits to the demand's flows, C₀ = (1.5L + 5)/(1 − Y). Both are
fixed-time, so comparing max-pressure with both shows how much of its gain is adaptivity
rather than just better splits.
"""

from __future__ import annotations

import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from sandan.safety.traffic.control import Phase
from sandan.safety.traffic.network import Network, produce


def read_programmes(net_file: Path) -> dict[str, tuple[str, str, tuple[Phase, ...]]]:
    """junction id → (programme id, type, phases) of every tlLogic in a SUMO network file."""
    found: dict[str, tuple[str, str, tuple[Phase, ...]]] = {}
    for _event, el in ET.iterparse(net_file):
        if el.tag == "tlLogic":
            phases = tuple(
                Phase(i, float(p.get("duration", 0)), p.get("state", ""))
                for i, p in enumerate(el.iter("phase"))
            )
            found[el.get("id", "")] = (el.get("programID", "0"), el.get("type", "static"), phases)
            el.clear()
        elif el.tag in ("edge", "connection", "junction"):
            el.clear()
    return dict(sorted(found.items()))


def webster_plan(network: Network, routes: Path, yellow_s: int, min_green_s: int) -> Path:
    """Webster fixed-time plan for these routes (one common cycle, so the junctions keep in
    step), written next to the routes as an additional file; reused once made."""
    import sumo

    out = routes.parent / f"webster-y{yellow_s}-g{min_green_s}.add.xml"
    if not out.exists():
        partial = out.with_name(f"{out.stem}.{uuid.uuid4().hex}.partial")
        tool = Path(sumo.SUMO_HOME) / "tools" / "tlsCycleAdaptation.py"
        produce(
            [
                sys.executable, str(tool),
                "--net-file", str(network.net_file),
                "--route-files", str(routes),
                "--output-file", str(partial),
                "--begin", "0",
                "--yellow-time", str(yellow_s),
                "--min-green", str(min_green_s),
                "--min-cycle", "40",
                "--max-cycle", "120",
                "--unified-cycle",
                "--sorted",
            ],
            partial,
            out,
        )  # fmt: skip
    return out
