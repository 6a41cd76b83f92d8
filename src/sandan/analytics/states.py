"""Where a machine's state comes from: its `state` tag, or, for a machine without one, its
`power` tag read through a state rule (power thresholds).

A rule bands power: at or above `run_kw` the machine is running, at or above `idle_kw` idle,
below that in its `off_state` (planned stop or down, as the factory says a machine without
power usually is). A state tag, when the machine has one, wins: the operator's own signal
knows a changeover from idling, power does not. The same bands are applied to a minute's
mean power inside the telemetry store (`state_sql`, for the rollups) and to raw readings in
numpy (`PowerRule.states`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sandan.analytics.oee import DOWN, IDLE, PLANNED_STOP, RUNNING
from sandan.registry.service import MachineTags

OFF_STATES: dict[str, int] = {"planned_stop": PLANNED_STOP, "down": DOWN}
OFF_NAMES = {code: name for name, code in OFF_STATES.items()}


@dataclass(frozen=True)
class PowerRule:
    """Thresholds in kW and the state below idle (0 planned stop or 3 down)."""

    idle_kw: float
    run_kw: float
    off_state: int

    def states(self, kw: np.ndarray) -> np.ndarray:
        """The state of each power value (a missing value counts as no power)."""
        bands = np.where(kw >= self.idle_kw, IDLE, self.off_state)
        result: np.ndarray = np.where(kw >= self.run_kw, RUNNING, bands).astype(np.int64)
        return result

    def state(self, kw: float) -> int:
        """The state of one power value."""
        return int(self.states(np.array([kw], np.float64))[0])


def power_rules(
    machines: list[MachineTags], rules: Mapping[int, PowerRule]
) -> dict[int, PowerRule]:
    """power tag id -> rule, for the machines whose states come from power: a rule, a power
    tag, and no state tag."""
    return {
        m.tags["power"]: rules[m.id]
        for m in machines
        if m.id in rules and "power" in m.tags and "state" not in m.tags
    }


def state_source(machine: MachineTags, rules: Mapping[int, PowerRule]) -> int | None:
    """The tag a machine's states are read from: its state tag, else its power tag when a rule
    bands it, else none."""
    if "state" in machine.tags:
        return machine.tags["state"]
    if machine.id in rules and "power" in machine.tags:
        return machine.tags["power"]
    return None


def state_sql(by_tag: Mapping[int, PowerRule]) -> tuple[str, str]:
    """The SQL of a 1-minute bucket's state over the store's `rollups` (columns `tag_id`,
    `last`, `avg`), and the join that brings the rules in: the last reading of a state tag,
    or the band of the minute's mean power for a tag in `by_tag`. Without rules the
    expression is the plain one and there is no join."""
    if not by_tag:
        return "CAST(last AS INTEGER)", ""
    rows = ", ".join(
        f"({int(tag)}, CAST({float(r.idle_kw)!r} AS DOUBLE PRECISION), "
        f"CAST({float(r.run_kw)!r} AS DOUBLE PRECISION), {int(r.off_state)})"
        for tag, r in sorted(by_tag.items())
    )
    join = (
        f" LEFT JOIN (VALUES {rows}) AS r(rule_tag, idle_kw, run_kw, off_state)"
        " ON r.rule_tag = tag_id"
    )
    state = (
        "CASE WHEN r.rule_tag IS NULL THEN CAST(last AS INTEGER)"
        f" WHEN avg >= r.run_kw THEN {RUNNING} WHEN avg >= r.idle_kw THEN {IDLE}"
        " ELSE r.off_state END"
    )
    return state, join
