"""Demo data must be valid, geometrically sane and deterministic: seeders and imports rely on it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandan.registry.demo_csv import company_csv_rows, write_company_csv
from sandan.registry.demo_data import DemoComplex, build_demo_complex, make_brn
from sandan.registry.importer import COLUMNS
from sandan.registry.validators import brn_problem, ksic_problem

Bounds = tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


@pytest.fixture(scope="module")
def demo() -> DemoComplex:
    return build_demo_complex()


def _ring(polygon: dict[str, Any]) -> list[list[float]]:
    assert polygon["type"] == "Polygon"
    ring: list[list[float]] = polygon["coordinates"][0]
    assert len(ring) >= 4 and ring[0] == ring[-1], "ring must be closed"
    return ring


def _bounds(polygon: dict[str, Any]) -> Bounds:
    ring = _ring(polygon)
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _tag_count(c: DemoComplex) -> int:
    return sum(
        len(m.tags)
        for co in c.companies
        for s in co.sites
        for a in s.areas
        for ln in a.lines
        for m in ln.machines
    )


def test_zones_are_four_disjoint_polygons_in_gumi(demo: DemoComplex) -> None:
    assert demo.code == "GUMI" and [z.code for z in demo.zones] == ["Z1", "Z2", "Z3", "Z4"]
    boxes = [_bounds(z.boundary) for z in demo.zones]
    for i, box in enumerate(boxes):
        assert _inside(box, (128.33, 36.08, 128.44, 36.15))
        assert not any(_overlap(box, other) for other in boxes[i + 1 :])
    assert 36.08 < demo.center[0] < 36.15 and 128.33 < demo.center[1] < 128.44


def test_companies_have_valid_unique_identifiers(demo: DemoComplex) -> None:
    assert len(demo.companies) == 60
    brns = [c.brn for c in demo.companies]
    assert all(len(b) == 10 and brn_problem(b) is None for b in brns)
    assert len(set(brns)) == 60
    assert len({c.name for c in demo.companies}) == 60
    assert all(ksic_problem(c.ksic) is None and len(c.ksic) == 5 for c in demo.companies)
    assert {c.zone_code for c in demo.companies} <= {"Z1", "Z2", "Z3", "Z4"}
    industries = [c.industry for c in demo.companies]
    assert industries.count("electronics") + industries.count("machinery") >= 20


def test_contacts_look_korean_and_use_example_domains(demo: DemoComplex) -> None:
    for c in demo.companies:
        assert 1 <= len(c.contacts) <= 2
        for p in c.contacts:
            assert p.role in {"대표", "공장장", "안전관리자"}
            assert p.phone.startswith("054-4") and len(p.phone) == 12
            assert p.email.count("@") == 1 and p.email.endswith(".example")


def test_footprints_inside_zone_and_disjoint(demo: DemoComplex) -> None:
    _check_layout(demo)


def test_layout_scales_to_2000_companies() -> None:
    big = build_demo_complex(2000, seed=3)
    assert len({c.brn for c in big.companies}) == 2000
    assert len({c.name for c in big.companies}) == 2000
    _check_layout(big)


def _check_layout(c: DemoComplex) -> None:
    zones = {z.code: _bounds(z.boundary) for z in c.zones}
    by_zone: dict[str, list[Bounds]] = {code: [] for code in zones}
    for co in c.companies:
        box = _bounds(co.footprint)
        assert _inside(box, zones[co.zone_code])
        by_zone[co.zone_code].append(box)
        for site in co.sites:
            sbox = _bounds(site.footprint)
            assert _inside(sbox, box)
            assert sbox[1] < site.lat < sbox[3] and sbox[0] < site.lon < sbox[2]
        if len(co.sites) == 1:
            assert co.sites[0].footprint == co.footprint
    for boxes in by_zone.values():
        ordered = sorted(boxes)  # sweep along longitude: only neighbours in x can overlap
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if b[0] >= a[2]:
                    break
                assert not _overlap(a, b)


def test_plants_have_sensible_shape_and_tag_count(demo: DemoComplex) -> None:
    assert 1500 <= _tag_count(demo) <= 3000
    assert any(len(c.sites) == 2 for c in demo.companies)
    for co in demo.companies:
        for site in co.sites:
            assert 1 <= len(site.areas) <= 2
            assert len({a.code for a in site.areas}) == len(site.areas)
            for area in site.areas:
                assert 1 <= len(area.lines) <= 3
                assert len({ln.code for ln in area.lines}) == len(area.lines)
                assert any(m.kind == "env" for m in area.lines[0].machines)
                for line in area.lines:
                    assert 2 <= len(line.machines) <= 5
                    assert len({m.code for m in line.machines}) == len(line.machines)
                    for m in line.machines:
                        assert 3 <= len(m.tags) <= 6
                        assert len({t.name for t in m.tags}) == len(m.tags)
                        assert all(t.data_type in {"float", "int", "bool", "str"} for t in m.tags)


def test_units_are_pint_parseable(demo: DemoComplex) -> None:
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    units = {
        t.unit
        for co in demo.companies
        for s in co.sites
        for a in s.areas
        for ln in a.lines
        for m in ln.machines
        for t in m.tags
    }
    for unit in units:
        ureg.Unit(unit)


def test_deterministic_per_seed() -> None:
    assert build_demo_complex(seed=5) == build_demo_complex(seed=5)
    assert build_demo_complex(seed=5).companies != build_demo_complex(seed=6).companies
    assert company_csv_rows(50) == company_csv_rows(50)


def test_make_brn_is_valid() -> None:
    import random

    rng = random.Random(1)
    assert all(brn_problem(make_brn(rng)) is None for _ in range(1000))


def _footprint_ok(v: str) -> bool:
    if not v:
        return True
    try:
        return bool(json.loads(v)["type"] == "Polygon")
    except ValueError:
        return False


def _lat_ok(v: str) -> bool:
    try:
        return 36.0 < float(v) < 36.2
    except ValueError:
        return False


# One check per field that the CSV defects touch; a valid row passes them all.
CHECKS: dict[str, Callable[[str], bool]] = {
    "brn": lambda v: brn_problem(v) is None,
    "ksic": lambda v: ksic_problem(v) is None,
    "zone": lambda v: v in {"Z1", "Z2", "Z3", "Z4"},
    "contact_email": lambda v: v.count("@") == 1,
    "lat": _lat_ok,
    "footprint": _footprint_ok,
    "name": lambda v: v != "",
    "employees": str.isdigit,
}


def test_csv_rows_with_exactly_one_defect_per_invalid_row() -> None:
    rows, invalid = company_csv_rows(2000, 0.05)
    assert len(rows) == 2000 and len(invalid) == 100
    assert invalid <= set(range(1, 2001))
    assert all(tuple(r) == COLUMNS and all(isinstance(v, str) for v in r.values()) for r in rows)
    failed_fields: set[str] = set()
    for row_no, row in enumerate(rows, start=1):
        failing = [f for f, ok in CHECKS.items() if not ok(row[f])]
        assert len(failing) == (1 if row_no in invalid else 0), (row_no, failing)
        failed_fields.update(failing)
    assert failed_fields == set(CHECKS)  # every defect kind occurs
    valid_brns = [r["brn"] for i, r in enumerate(rows, start=1) if i not in invalid]
    assert len(set(valid_brns)) == len(valid_brns)
    assert any(r["footprint"] == "" for r in rows)


def test_write_company_csv(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    invalid = write_company_csv(path, 40, invalid_share=0.2)
    assert len(invalid) == 8
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        rows = list(reader)
    assert rows == company_csv_rows(40, 0.2)[0]
