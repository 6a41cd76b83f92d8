"""Sizing the simulated complex, and seeding the registry the ingest workers read."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import select

from sandan.core.context import Context
from sandan.registry.models import Company, Device, Tag
from sandan.simulator.machines import CHANGEOVER, PLANNED_STOP, ComplexSimulator, TagRow
from sandan.simulator.scale import (
    GUMI_FACTORIES,
    GUMI_TAGS,
    extra_tag,
    seed_registry,
    sized_complex,
    tag_count,
)
from sandan.simulator.sparkplug_edge import sparkplug_address


def _company_tags(demo_company: object) -> list[list[str]]:
    from sandan.registry.demo_data import DemoCompany

    assert isinstance(demo_company, DemoCompany)
    return [
        [t.name for t in m.tags]
        for s in demo_company.sites
        for a in s.areas
        for line in a.lines
        for m in line.machines
    ]


def test_full_gumi_complex_is_100k_tags_and_one_step_covers_them() -> None:
    demo = sized_complex(GUMI_FACTORIES, GUMI_TAGS // GUMI_FACTORIES)
    assert len(demo.companies) == 2000
    assert tag_count(demo) == 100_000
    rows: list[TagRow] = []
    device = 0
    for company_id, company in enumerate(demo.companies, start=1):
        machines = _company_tags(company)
        assert sum(map(len, machines)) == 50  # every factory exactly
        for names in machines:
            assert len(set(names)) == len(names)  # tag names stay unique on a device
            device += 1
            for name in names:
                kind = "int" if name == "state" or name.endswith(("_count", "breaks")) else "float"
                rows.append(TagRow(len(rows) + 1, device, company_id, name, 0.0, 100.0, kind))
    sim = ComplexSimulator(rows, seed=1)
    values = sim.step(1.0)
    assert values.shape == (100_000,)
    assert np.isfinite(values).all()
    states = values[sim.is_state]
    assert len(states) == device - sum(  # one state per machine; env sensors have none
        1 for c in demo.companies for m in _company_tags(c) if "state" not in m
    )
    assert ((states >= PLANNED_STOP) & (states <= CHANGEOVER)).all()
    assert (values[sim.is_counter] >= 0).all()


def test_sizing_grows_and_shrinks_plants_but_keeps_state() -> None:
    natural = sized_complex(20)
    small, large = sized_complex(20, 8), sized_complex(20, 120)
    for before, few, many in zip(natural.companies, small.companies, large.companies, strict=True):
        machines = _company_tags(before)
        assert sum(map(len, _company_tags(few))) == max(8, len(machines))
        assert sum(map(len, _company_tags(many))) == 120
        for old, shrunk, grown in zip(
            machines, _company_tags(few), _company_tags(many), strict=True
        ):
            assert shrunk  # at least one tag per machine
            if "state" in old:
                assert "state" in shrunk
            assert grown[: len(old)] == old or len(grown) < len(old)
    assert extra_tag(0).name == "vibration"
    assert extra_tag(8).name == "vibration_2"  # the kit again, numbered


def test_seeding_wires_devices_for_their_protocol(ctx: Context) -> None:
    assert seed_registry(ctx.db, "sparkplug", 3, 60, opcua=2, opcua_port=49000)
    assert not seed_registry(ctx.db, "json", 3)  # never twice
    with ctx.db.unit() as s:
        devices = s.scalars(select(Device).order_by(Device.id)).all()
        brns = set(s.scalars(select(Company.brn)))
        tags = s.scalars(select(Tag).order_by(Tag.id)).all()
        assert sorted(Counter(t.company_id for t in tags).values()) == [60, 60, 60]
        protocols = Counter(d.protocol for d in devices)
        assert protocols["opcua"] == 2 and protocols["sparkplug"] == len(devices) - 2
        opcua = [d for d in devices if d.protocol == "opcua"]
        assert [urlsplit(d.external_id).port for d in opcua] == [49000, 49001]
        assert all(d.external_id.endswith("/sandan/") for d in opcua)
        for tag in tags:
            device = next(d for d in devices if d.id == tag.device_id)
            expected = f"ns=2;s={tag.name}" if device.protocol == "opcua" else ""
            assert tag.source_address == expected
        addresses = [sparkplug_address(d.external_id) for d in devices if d.protocol != "opcua"]
        assert all(a is not None and a[0] in brns for a in addresses)
        assert len(set(addresses)) == len(addresses)  # one Sparkplug device per machine
