"""Size the demo complex for load tests: N factories with a given number of tags each.

The demo plan (`registry/demo_data.py`) gives each company a believable plant of about 40
tags. `sized_complex` keeps that plant and brings every company to exactly
`tags_per_factory` tags: machines get extra condition-monitoring signals (vibration, motor
and bearing temperatures, currents, pressures, ...) round-robin when the plant has too few,
and lose their last tags (never `state`) when it has too many; environment sensors
keep their own signals. A company keeps at least one
tag per machine. 2,000 factories x 50 tags is the full Gumi complex, 100,000 tags.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

from sandan.core.db import Database
from sandan.core.identity.principal import Principal
from sandan.registry.demo import OPCUA_PORT, Wiring, is_seeded, seed_demo
from sandan.registry.demo_data import (
    DemoArea,
    DemoCompany,
    DemoComplex,
    DemoLine,
    DemoMachine,
    DemoSite,
    DemoTag,
    build_demo_complex,
)

GUMI_FACTORIES = 2000
GUMI_TAGS = 100_000

# Signals a retrofit sensor kit adds to any machine (name, quantity, unit, low, high).
_EXTRA: tuple[tuple[str, str, str, float, float], ...] = (
    ("vibration", "velocity", "mm/s", 0.0, 20.0),
    ("motor_temp", "temperature", "degC", 20.0, 110.0),
    ("motor_current", "current", "A", 0.0, 200.0),
    ("bearing_temp", "temperature", "degC", 20.0, 100.0),
    ("supply_voltage", "voltage", "V", 360.0, 420.0),
    ("air_pressure", "pressure", "bar", 0.0, 10.0),
    ("coolant_temp", "temperature", "degC", 10.0, 40.0),
    ("oil_pressure", "pressure", "bar", 0.0, 10.0),
)


def extra_tag(n: int) -> DemoTag:
    """The n-th extra signal (0-based): the kit in order, then numbered repeats of it."""
    name, quantity, unit, low, high = _EXTRA[n % len(_EXTRA)]
    round_ = n // len(_EXTRA)
    return DemoTag(
        name if round_ == 0 else f"{name}_{round_ + 1}", quantity, unit, "float", low, high, 1000
    )


def _grow(tags: tuple[DemoTag, ...], count: int) -> tuple[DemoTag, ...]:
    names = {t.name for t in tags}
    extra = (t for t in map(extra_tag, itertools.count()) if t.name not in names)
    return tags + tuple(itertools.islice(extra, count))


def _shrink(tags: tuple[DemoTag, ...], count: int) -> tuple[DemoTag, ...]:
    """Drop `count` tags from the end, keeping `state` and at least one tag."""
    kept = list(tags)
    for i in range(len(kept) - 1, -1, -1):
        if count == 0 or len(kept) == 1:
            break
        if kept[i].name != "state":
            del kept[i]
            count -= 1
    return tuple(kept)


def _share(counts: list[int], growable: list[int], target: int) -> list[int]:
    """New tag counts per machine summing to `target` (at least 1 each), changing the
    machines with the most (shrinking) or fewest (growing, `growable` only) tags first."""
    counts = list(counts)
    total = sum(counts)
    while total != target:
        if total < target:
            i = min(growable, key=counts.__getitem__)
            counts[i] += 1
            total += 1
        else:
            i = max(range(len(counts)), key=counts.__getitem__)
            if counts[i] == 1:
                break
            counts[i] -= 1
            total -= 1
    return counts


def _resize_company(company: DemoCompany, target: int) -> DemoCompany:
    machines = [
        m for s in company.sites for a in s.areas for line in a.lines for m in line.machines
    ]
    if not machines:
        return company
    growable = [i for i, m in enumerate(machines) if m.kind != "env"] or list(range(len(machines)))
    counts = [len(m.tags) for m in machines]
    wanted = iter(_share(counts, growable, max(target, len(machines))))

    def machine(m: DemoMachine) -> DemoMachine:
        n = next(wanted)
        have = len(m.tags)
        tags = _grow(m.tags, n - have) if n >= have else _shrink(m.tags, have - n)
        return replace(m, tags=tags)

    def line(dl: DemoLine) -> DemoLine:
        return replace(dl, machines=tuple(machine(m) for m in dl.machines))

    def area(da: DemoArea) -> DemoArea:
        return replace(da, lines=tuple(line(dl) for dl in da.lines))

    def site(ds: DemoSite) -> DemoSite:
        return replace(ds, areas=tuple(area(da) for da in ds.areas))

    return replace(company, sites=tuple(site(ds) for ds in company.sites))


def sized_complex(
    factories: int, tags_per_factory: int | None = None, seed: int = 7
) -> DemoComplex:
    """The demo complex with `factories` companies; with `tags_per_factory`, each company
    has exactly that many tags (or one per machine, if it has more machines)."""
    demo = build_demo_complex(n_companies=factories, seed=seed)
    if tags_per_factory is None:
        return demo
    companies = tuple(_resize_company(c, tags_per_factory) for c in demo.companies)
    return replace(demo, companies=companies)


def tag_count(demo: DemoComplex) -> int:
    """How many tags the complex's machines have."""
    return sum(
        len(m.tags)
        for c in demo.companies
        for s in c.sites
        for a in s.areas
        for line in a.lines
        for m in line.machines
    )


def seed_registry(
    db: Database,
    protocol: str,
    factories: int,
    tags_per_factory: int | None = None,
    opcua: int = 0,
    progress: Callable[[int], None] | None = None,
    opcua_port: int = OPCUA_PORT,
) -> bool:
    """Seed an empty registry with the sized complex, every device registered for
    `protocol` (json is MQTT) except the first `opcua` machines, which are OPC UA servers
    on ports from `opcua_port`; False (and nothing written) when a complex exists already."""
    with db.unit(Principal.system("simulate-seed")) as session:
        if is_seeded(session):
            return False
        wiring = Wiring(
            protocol={"json": "mqtt"}.get(protocol, protocol), opcua=opcua, opcua_port=opcua_port
        )
        plan = sized_complex(factories, tags_per_factory)
        seed_demo(session, demo=plan, wiring=wiring, progress=progress)
    return True
