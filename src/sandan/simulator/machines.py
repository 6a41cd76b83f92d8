"""A synthetic complex: every machine runs a state machine and its tags follow its state.

States (the `state` tag): 0 planned stop, 1 running, 2 idle, 3 down (breakdown), 4 changeover.
Counters (`*_count`, `yarn_breaks`) only grow; production counters grow while running, defect
counters with a small share of production; `power` follows the state; other quantities drift
inside their expected range, higher while running. Everything is vectorised over all tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import orjson

PLANNED_STOP, RUNNING, IDLE, DOWN, CHANGEOVER = 0, 1, 2, 3, 4

# Transition rates per hour: from state -> {to state: rate}.
RATES: dict[int, dict[int, float]] = {
    RUNNING: {IDLE: 4.0, DOWN: 0.6, CHANGEOVER: 0.5},
    IDLE: {RUNNING: 30.0},
    DOWN: {RUNNING: 3.0},
    CHANGEOVER: {RUNNING: 4.0},
    PLANNED_STOP: {RUNNING: 2.0},
}
POWER_SHARE = {PLANNED_STOP: 0.03, RUNNING: 0.8, IDLE: 0.25, DOWN: 0.05, CHANGEOVER: 0.3}
LEVEL_SHARE = {PLANNED_STOP: 0.15, RUNNING: 0.65, IDLE: 0.45, DOWN: 0.2, CHANGEOVER: 0.4}
# The same as arrays indexed by state, so a step looks them up for every tag at once.
_POWER = np.array([POWER_SHARE[s] for s in range(5)])
_LEVEL = np.array([LEVEL_SHARE[s] for s in range(5)])
DEFECT_NAMES = ("defect_count", "fail_count", "yarn_breaks")
ENV_NAMES = ("temperature", "humidity", "gas", "pm2_5", "co2")
# Where an environmental sensor rests, as a share of its range: a gas detector reads near
# zero unless something leaks; a room sits at about 24 °C and 50 % humidity.
ENV_SHARE = {"temperature": 0.55, "humidity": 0.5, "gas": 0.02, "pm2_5": 0.06, "co2": 0.03}


@dataclass(frozen=True)
class TagRow:
    """What the simulator needs to know of a tag."""

    tag_id: int
    device_id: int
    company_id: int
    name: str
    range_min: float | None
    range_max: float | None
    data_type: str


class ComplexSimulator:
    """Machines (one per device) and their tags, stepped forward in time."""

    def __init__(self, tags: list[TagRow], seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        company_of = {t.device_id: t.company_id for t in tags}
        self.devices = sorted(company_of)
        index = {d: i for i, d in enumerate(self.devices)}
        self.company = np.array([company_of[d] for d in self.devices], np.int64)
        self.names = [t.name for t in tags]
        self.tag_device = np.array([index[t.device_id] for t in tags], np.int64)
        low = np.array([0.0 if t.range_min is None else t.range_min for t in tags])
        high = np.array([np.nan if t.range_max is None else t.range_max for t in tags])
        self.low, self.high = low, np.where(np.isnan(high), low + 100.0, high)
        names = np.array(self.names, dtype=object)
        self.is_state = names == "state"
        self.is_power = names == "power"
        self.is_counter = np.array([t.data_type == "int" and t.name != "state" for t in tags])
        self.is_defect = np.isin(names, DEFECT_NAMES) | (
            self.is_counter
            & np.array([n.endswith(("fail_count", "defect_count")) for n in self.names])
        )
        self.is_env = np.isin(names, ENV_NAMES)
        self.env_share = np.array([ENV_SHARE.get(n, 0.5) for n in self.names])
        self.forced: dict[int, tuple[float, float]] = {}  # tag index -> (value, until epoch s)
        self.held: dict[int, float] = {}  # tag index -> value written by a command
        self.is_bool = np.array([t.data_type == "bool" for t in tags])
        n_dev = len(self.devices)
        self.state_held = np.zeros(n_dev, dtype=bool)  # a commanded state, kept until changed
        self.state = np.where(self.rng.random(n_dev) < 0.8, RUNNING, IDLE).astype(np.int64)
        self.cycle_rate = self.rng.uniform(0.2, 2.0, n_dev)  # parts per second while running
        self.counter = np.zeros(len(tags))
        self.level = low + (self.high - low) * self.rng.uniform(0.4, 0.6, len(tags))
        self.tag_ids = np.array([t.tag_id for t in tags], np.int64)

    def resume(self, latest: dict[int, float]) -> None:
        """Carry on from the last stored values (after a restart): states, counters, levels."""
        for i, tag_id in enumerate(self.tag_ids.tolist()):
            value = latest.get(tag_id)
            if value is None:
                continue
            if self.is_state[i]:
                self.state[self.tag_device[i]] = int(value)
            elif self.is_counter[i]:
                self.counter[i] = value
            elif not self.is_power[i] and not self.is_bool[i]:
                self.level[i] = value

    def _transition(self, dt: float) -> None:
        draw = self.rng.random(len(self.state))
        before = self.state.copy()  # each machine moves at most once per step
        for origin, targets in RATES.items():
            here = (before == origin) & ~self.state_held
            threshold = 0.0
            for target, rate in targets.items():
                p = rate * dt / 3600.0
                move = here & (draw >= threshold) & (draw < threshold + p)
                self.state[move] = target
                threshold += p

    def step(self, dt: float) -> np.ndarray:
        """Advance `dt` seconds; returns the value of every tag."""
        self._transition(dt)
        state = self.state[self.tag_device]
        running = state == RUNNING
        span = self.high - self.low
        produced = self.rng.poisson(self.cycle_rate[self.tag_device] * dt) * running
        defects = self.rng.binomial(produced.astype(np.int64), 0.02)
        self.counter += np.where(self.is_defect, defects, produced) * self.is_counter
        share = np.where(self.is_env, self.env_share, _LEVEL[state])
        target = self.low + span * share
        self.level += (target - self.level) * min(1.0, dt / 30.0)
        self.level += self.rng.normal(0, 0.01, len(self.level)) * span * np.sqrt(dt)
        power = self.high * _POWER[state] * self.rng.uniform(0.95, 1.05, len(state))
        values = np.clip(self.level, self.low, self.high)
        values = np.where(self.is_power, power, values)
        values = np.where(self.is_counter, self.counter, values)
        values = np.where(self.is_state, state, values)
        values = np.where(self.is_bool, (self.rng.random(len(state)) < 0.01).astype(float), values)
        if self.held:
            values[list(self.held)] = list(self.held.values())
        return values

    def write(self, index: int, value: float) -> None:
        """Set tag `index` as a command does (a Sparkplug DCMD), from the next step on.

        `state` puts the machine in that state and keeps it there until another command
        (a planned stop stays stopped), except running (1), from which the machine follows
        its state machine again; a counter goes on counting from `value`; any other tag
        (a setpoint, a flag) holds `value`. Raises ValueError for a value the tag cannot take.
        """
        if not np.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        if self.is_state[index]:
            state = int(value)
            if state != value or state not in RATES:
                raise ValueError(f"a state is one of 0-4, not {value!r}")
            device = self.tag_device[index]
            self.state[device] = state
            self.state_held[device] = state != RUNNING
        elif self.is_counter[index]:
            if value < 0 or value != int(value):
                raise ValueError(f"a counter is a whole number >= 0, not {value!r}")
            self.counter[index] = value
        else:
            if self.is_bool[index] and value not in (0.0, 1.0):
                raise ValueError(f"a flag is 0 or 1, not {value!r}")
            self.held[index] = float(value)
            self.level[index] = float(value)

    def inject(self, tag_id: int, value: float, seconds: float, now: float) -> bool:
        """Hold one tag at `value` (with 2 % noise) for `seconds` from `now` (epoch s): a gas
        leak or a fire for a drill. False when the simulator has no such tag."""
        hits = np.flatnonzero(self.tag_ids == tag_id)
        if len(hits) == 0:
            return False
        self.forced[int(hits[0])] = (value, now + seconds)
        return True

    def _force(self, values: np.ndarray, now: float) -> np.ndarray:
        for index, (value, until) in list(self.forced.items()):
            if now >= until:
                del self.forced[index]
                continue
            values[index] = value * self.rng.uniform(0.98, 1.02)
        return values

    def messages(self, at: datetime, dt: float) -> list[tuple[str, bytes, float]]:
        """One MQTT-shaped message per device: (topic, JSON payload, received ms)."""
        values = self._force(self.step(dt), at.timestamp())
        now_ms = at.timestamp() * 1000
        per_device: list[dict[str, float]] = [{} for _ in self.devices]
        for i, value in enumerate(values.tolist()):
            per_device[self.tag_device[i]][self.names[i]] = round(value, 3)
        ts = int(now_ms)
        return [
            (
                f"sandan/v1/{self.company[i]}/{device}/data",
                orjson.dumps({"ts": ts, "values": per_device[i]}),
                now_ms,
            )
            for i, device in enumerate(self.devices)
        ]
