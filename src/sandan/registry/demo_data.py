"""Deterministic demo data for the Gumi National Industrial Complex (구미국가산업단지).

Pure data, no database: the seeder, the bulk-import demo and tests all need a believable
complex (zones, companies, sites, lines, machines, tags) that is identical for a given seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from sandan.registry.validators import brn_check_digit


@dataclass(frozen=True)
class DemoTag:
    """One signal of a machine; units are pint-parseable ("" for plain counts and states)."""

    name: str
    quantity: str
    unit: str
    data_type: str
    range_min: float | None
    range_max: float | None
    sampling_ms: int


@dataclass(frozen=True)
class DemoMachine:
    code: str
    name: str
    kind: str
    tags: tuple[DemoTag, ...]


@dataclass(frozen=True)
class DemoLine:
    code: str
    name: str
    machines: tuple[DemoMachine, ...]


@dataclass(frozen=True)
class DemoArea:
    code: str
    name: str
    lines: tuple[DemoLine, ...]


@dataclass(frozen=True)
class DemoSite:
    name: str
    address: str
    lat: float
    lon: float
    footprint: dict[str, Any]
    areas: tuple[DemoArea, ...]


@dataclass(frozen=True)
class DemoContact:
    name: str
    role: str
    phone: str
    email: str


@dataclass(frozen=True)
class DemoCompany:
    brn: str
    name: str
    name_en: str
    ksic: str
    industry: str
    zone_code: str
    employees: int
    contacts: tuple[DemoContact, ...]
    footprint: dict[str, Any]
    sites: tuple[DemoSite, ...]


@dataclass(frozen=True)
class DemoZone:
    code: str
    name: str
    name_en: str
    boundary: dict[str, Any]


@dataclass(frozen=True)
class DemoComplex:
    code: str
    name: str
    name_en: str
    center: tuple[float, float]
    zones: tuple[DemoZone, ...]
    companies: tuple[DemoCompany, ...]


# The physical quantity follows from the unit unless a tag says otherwise (humidity, O2 share).
_QUANTITY = {
    "rpm": "angular_velocity",
    "percent": "ratio",
    "degC": "temperature",
    "bar": "pressure",
    "Pa": "pressure",
    "s": "time",
    "m/min": "velocity",
    "mm/s": "velocity",
    "kN": "force",
    "N": "force",
    "1/min": "frequency",
    "V": "voltage",
    "A": "current",
    "m**3/h": "flow",
    "L/min": "flow",
    "ppm": "concentration",
    "um": "length",
    "ug/m**3": "mass_concentration",
    "kW": "power",
}


def _f(name: str, unit: str, lo: float, hi: float, ms: int = 1000, q: str = "") -> DemoTag:
    return DemoTag(name, q or _QUANTITY[unit], unit, "float", lo, hi, ms)


def _n(name: str) -> DemoTag:
    return DemoTag(name, "count", "", "int", 0.0, None, 1000)


def _kw(hi: float) -> DemoTag:
    return _f("power", "kW", 0.0, hi)


_ST = DemoTag("state", "state", "", "int", 0.0, 4.0, 1000)
_DOOR = DemoTag("door_open", "status", "", "bool", None, None, 1000)

# kind -> (display name, tags); a machine gets the first 3..6 tags, so the key ones come first.
_KINDS: dict[str, tuple[str, tuple[DemoTag, ...]]] = {
    "cnc": (
        "CNC 가공기",
        (
            _f("spindle_speed", "rpm", 0, 12000, 200),
            _kw(30),
            _ST,
            _f("spindle_load", "percent", 0, 120, 200),
            _n("cycle_count"),
            _f("part_temp", "degC", 15, 80),
        ),
    ),
    "injection": (
        "사출성형기",
        (
            _f("barrel_temp", "degC", 150, 320),
            _f("injection_pressure", "bar", 0, 2000),
            _f("cycle_time", "s", 5, 90),
            _kw(80),
            _ST,
            _n("cycle_count"),
        ),
    ),
    "smt": (
        "SMT 마운터",
        (_n("board_count"), _n("defect_count"), _kw(15), _f("conveyor_speed", "m/min", 0, 5), _ST),
    ),
    "reflow": (
        "리플로우 오븐",
        (
            _f("zone_temp", "degC", 20, 280),
            _kw(60),
            _f("conveyor_speed", "m/min", 0, 2),
            _f("o2", "ppm", 0, 2000),
            _ST,
        ),
    ),
    "aoi": ("자동광학검사기", (_n("inspected_count"), _n("defect_count"), _ST, _kw(5))),
    "press": (
        "프레스",
        (
            _n("stroke_count"),
            _f("tonnage", "kN", 0, 8000, 200),
            _ST,
            _kw(150),
            _f("stroke_rate", "1/min", 0, 60),
            _f("die_temp", "degC", 15, 120),
        ),
    ),
    "furnace": (
        "열처리로",
        (
            _f("chamber_temp", "degC", 0, 1200),
            _kw(400),
            _ST,
            _f("gas_flow", "m**3/h", 0, 200),
            _f("o2", "percent", 0, 21, q="concentration"),
            _DOOR,
        ),
    ),
    "formation": (
        "화성 충방전기",
        (
            _f("cell_voltage", "V", 2.5, 4.4, 500),
            _f("charge_current", "A", -200, 200, 500),
            _ST,
            _f("chamber_temp", "degC", 15, 60),
            _kw(120),
            _n("cell_count"),
        ),
    ),
    "aging": (
        "에이징 챔버",
        (
            _f("chamber_temp", "degC", 15, 60),
            _f("ocv", "V", 2.5, 4.4),
            _ST,
            _f("humidity", "percent", 0, 100, q="humidity"),
            _n("cell_count"),
        ),
    ),
    "coater": (
        "코터",
        (
            _f("line_speed", "m/min", 0, 120, 500),
            _f("coating_thickness", "um", 0, 300, 500),
            _kw(250),
            _f("dryer_temp", "degC", 20, 180),
            _f("web_tension", "N", 0, 600),
            _ST,
        ),
    ),
    "cvd": (
        "증착 장비",
        (
            _f("chamber_pressure", "Pa", 0, 1000, 200),
            _f("chamber_temp", "degC", 20, 800),
            _ST,
            _f("rf_power", "kW", 0, 10),
            _f("gas_flow", "L/min", 0, 50),
            _n("wafer_count"),
        ),
    ),
    "tester": (
        "검사·시험기",
        (_n("tested_count"), _n("fail_count"), _ST, _kw(10), _f("test_time", "s", 0, 600)),
    ),
    "robot": (
        "산업용 로봇",
        (
            _f("joint_torque", "percent", 0, 150, 200),
            _n("cycle_count"),
            _ST,
            _kw(12),
            _f("tcp_speed", "mm/s", 0, 2000, 200),
        ),
    ),
    "loom": (
        "직기",
        (_f("loom_speed", "rpm", 0, 1200), _n("yarn_breaks"), _ST, _kw(15), _n("pick_count")),
    ),
    "reactor": (
        "반응조",
        (
            _f("reactor_temp", "degC", 0, 250),
            _f("reactor_pressure", "bar", 0, 40),
            _ST,
            _f("agitator_speed", "rpm", 0, 600),
            _f("level", "percent", 0, 100),
            _kw(90),
        ),
    ),
    "env": (
        "환경 센서",
        (
            _f("temperature", "degC", -20, 60, 5000),
            _f("gas", "ppm", 0, 500, 5000),
            _f("humidity", "percent", 0, 100, 5000, "humidity"),
            _f("pm2_5", "ug/m**3", 0, 500, 5000),
            _f("co2", "ppm", 300, 5000, 5000),
        ),
    ),
}


@dataclass(frozen=True)
class _Industry:
    key: str
    weight: int
    ksic: tuple[str, ...]
    suffixes: tuple[tuple[str, str], ...]  # (Korean, English) name endings
    zones: str  # preferred zone digits, repeats weight the choice
    lines: tuple[tuple[str, tuple[str, ...]], ...]  # (line name, machine kinds in flow order)


def _pairs(text: str, sep: str = " ") -> tuple[tuple[str, str], ...]:
    """Split "ko:en ko:en" into (Korean, English) pairs; keeps the name tables compact."""
    return tuple((k, e) for k, e in (p.split(":") for p in text.split(sep)))


def _ind(key: str, weight: int, ksic: str, suffixes: str, zones: str, lines: str) -> _Industry:
    """Parse one compact table row: "ko:en|ko:en" suffixes and "name:kind kind|..." lines."""
    flows = _pairs(lines, "|")
    return _Industry(
        key,
        weight,
        tuple(ksic.split()),
        _pairs(suffixes, "|"),
        zones,
        tuple((name, tuple(kinds.split())) for name, kinds in flows),
    )


# Weighted towards electronics and machinery, as in Gumi; KSIC codes are 10th-revision.
_INDUSTRIES: tuple[_Industry, ...] = (
    _ind(
        "electronics",
        24,
        "26211 26212 26222 26224 26295 26422",
        "전자:Electronics|디스플레이:Display|일렉트릭:Electric|전자부품:Electronic Parts"
        "|옵틱스:Optics",
        "12233",
        "SMT:smt smt reflow aoi robot|조립:robot press aoi tester|사출:injection injection robot",
    ),
    _ind(
        "semiconductor",
        6,
        "26110 26129",
        "반도체:Semiconductor|세미콘:Semicon|실리콘:Silicon",
        "234",
        "패키징:cvd cvd aoi tester|테스트:tester tester aoi",
    ),
    _ind(
        "battery",
        5,
        "28202",
        "에너지:Energy|배터리:Battery|셀텍:Celltech",
        "344",
        "전극:coater coater press furnace|화성:formation formation aging aging",
    ),
    _ind(
        "machinery",
        20,
        "29223 29224 29271 29272 29280 29199",
        "정밀:Precision|기계:Machinery|엔지니어링:Engineering|오토메이션:Automation"
        "|로보틱스:Robotics",
        "1234",
        "가공:cnc cnc cnc robot|판금:press press robot|조립:robot tester cnc",
    ),
    _ind(
        "mobility",
        10,
        "30320 30332 30392 30399",
        "모빌리티:Mobility|오토텍:Autotech|자동차부품:Auto Parts",
        "134",
        "프레스:press press robot|가공:cnc cnc robot|사출:injection injection robot",
    ),
    _ind(
        "aerospace",
        3,
        "31322 31312",
        "에어로:Aero|항공:Aviation|에어로텍:Aerotech",
        "34",
        "정밀가공:cnc cnc cnc aoi|열처리:furnace furnace tester",
    ),
    _ind(
        "chemicals",
        5,
        "20501 20499 20119",
        "케미칼:Chemical|카본:Carbon|소재:Materials",
        "234",
        "반응:reactor reactor furnace|탄소화:furnace furnace coater",
    ),
    _ind(
        "defence_it",
        4,
        "26429 27211 62010 62021",
        "시스템:Systems|디펜스:Defense|아이티:IT",
        "23",
        "SMT:smt reflow aoi tester|시험:tester tester aoi",
    ),
    _ind(
        "textiles",
        5,
        "13102 13213 13402",
        "섬유:Textile|화섬:Synthetic Fiber|방직:Spinning",
        "112",
        "제직:loom loom loom|염색:reactor furnace coater",
    ),
    _ind(
        "metal",
        10,
        "25913 25921 25922 25924",
        "메탈:Metal|금속:Metal Works|열처리:Heat Treatment|단조:Forging",
        "1234",
        "프레스:press press furnace|표면처리:reactor furnace robot|가공:cnc cnc robot",
    ),
)

_PREFIXES = _pairs(
    "구미:Gumi 금오:Geumo 낙동:Nakdong 선산:Seonsan 한빛:Hanbit 대성:Daesung 동양:Dongyang "
    "세진:Sejin 신성:Shinsung 태영:Taeyoung 삼우:Samwoo 유진:Yujin 우성:Woosung 경북:Gyeongbuk "
    "영남:Yeongnam 진영:Jinyoung 미래:Mirae 성원:Sungwon 대원:Daewon 한성:Hansung 동아:Donga "
    "세원:Sewon 화신:Hwashin 대한:Daehan 서진:Seojin 인동:Indong 옥계:Okgye 해평:Haepyeong "
    "도개:Dogae 형곡:Hyeonggok 원평:Wonpyeong 고아:Goa 산동:Sandong 양호:Yangho 임수:Imsu "
    "비산:Bisan 광평:Gwangpyeong 송정:Songjeong 칠곡:Chilgok 오성:Osung"
)
_MIDDLES = (
    ("", ""),
    ("하이", "Hi"),
    ("에스", "S"),
    ("제이", "J"),
    ("케이", "K"),
    ("글로벌", "Global"),
    ("첨단", "Advanced"),
    ("뉴", "New"),
)
_SURNAMES = "김이박최정강조윤장임한오서신권황안송류전"
_GIVEN_1 = "민서지현수영준도하은성재우태동"
_GIVEN_2 = "호진훈아연희석민준빈경철수혁미"
_ROLES = (("대표", "ceo"), ("공장장", "plant"), ("안전관리자", "safety"))

# Zone rectangles (lat_min, lat_max, lon_min, lon_max): Zone 1 on the west bank of the
# Nakdong, zones 2-4 on the east bank running north; gaps keep them disjoint.
_ZONES: dict[str, tuple[float, float, float, float]] = {
    "Z1": (36.085, 36.112, 128.355, 128.385),
    "Z2": (36.088, 36.108, 128.400, 128.425),
    "Z3": (36.112, 36.132, 128.395, 128.425),
    "Z4": (36.134, 36.148, 128.400, 128.438),
}
_ROADS = {"Z1": "1공단로", "Z2": "수출대로", "Z3": "3공단로", "Z4": "4공단로"}
_M_PER_DEG_LAT = 110_950.0

_Box = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1


def _polygon(box: _Box) -> dict[str, Any]:
    """A closed, counter-clockwise GeoJSON rectangle (lon first, as GeoJSON demands)."""
    lon0, lat0, lon1, lat1 = (round(v, 6) for v in box)
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _layout(zone: str, count: int, rng: random.Random) -> list[_Box]:
    """Give each of `count` companies its own grid cell in the zone, a rectangle well inside it.

    One company per cell with a 10 % margin means footprints can never overlap or leave the
    zone; in crowded zones the cells (and so the 60-150 m footprints) simply shrink.
    """
    lat_min, lat_max, lon_min, lon_max = _ZONES[zone]
    m_lon = _M_PER_DEG_LAT * math.cos(math.radians((lat_min + lat_max) / 2))
    width_m, height_m = (lon_max - lon_min) * m_lon, (lat_max - lat_min) * _M_PER_DEG_LAT
    cols = max(1, math.ceil(math.sqrt(count * width_m / height_m)))
    rows = max(1, math.ceil(count / cols))
    cell_w, cell_h = width_m / cols, height_m / rows
    boxes: list[_Box] = []
    for slot in rng.sample(range(cols * rows), count):
        w = min(rng.uniform(60, 150), 0.8 * cell_w)
        h = min(rng.uniform(60, 150), 0.8 * cell_h)
        x0 = (slot % cols) * cell_w + 0.1 * cell_w + rng.uniform(0, 0.8 * cell_w - w)
        y0 = (slot // cols) * cell_h + 0.1 * cell_h + rng.uniform(0, 0.8 * cell_h - h)
        boxes.append(
            (
                lon_min + x0 / m_lon,
                lat_min + y0 / _M_PER_DEG_LAT,
                lon_min + (x0 + w) / m_lon,
                lat_min + (y0 + h) / _M_PER_DEG_LAT,
            )
        )
    return boxes


def make_brn(rng: random.Random) -> str:
    """A random business registration number with a correct check digit (corporate 8x type)."""
    first_nine = f"{rng.randint(101, 999)}{rng.choice(('81', '86', '87', '88'))}"
    first_nine += f"{rng.randint(1, 9999):04d}"
    return first_nine + str(brn_check_digit(first_nine))


def _unique_name(rng: random.Random, ind: _Industry, used: set[str]) -> tuple[str, str]:
    """A Korean/English company base name not used yet (numbered only as a last resort)."""
    for _ in range(50):
        (pk, pe), (mk, me), (sk, se) = (
            rng.choice(_PREFIXES),
            rng.choice(_MIDDLES),
            rng.choice(ind.suffixes),
        )
        ko, en = pk + mk + sk, " ".join(p for p in (pe, me, se) if p)
        if ko not in used:
            used.add(ko)
            return ko, en
    n = len(used) + 1  # fallback names are numbered by a counter that only grows
    used.add(f"{ko}{n}")
    return f"{ko}{n}", f"{en} {n}"


def _contacts(rng: random.Random, domain: str) -> tuple[DemoContact, ...]:
    """One or two people at different roles, with Gumi (054-4xx) phone numbers."""
    return tuple(
        DemoContact(
            rng.choice(_SURNAMES) + rng.choice(_GIVEN_1) + rng.choice(_GIVEN_2),
            role,
            f"054-4{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}",
            f"{local}@{domain}",
        )
        for role, local in rng.sample(_ROLES, rng.choice((1, 1, 2)))
    )


def _plant(rng: random.Random, ind: _Industry) -> tuple[DemoArea, ...]:
    """Areas, lines, machines and tags of one site; each area's first line carries an env sensor."""
    areas: list[DemoArea] = []
    for a in range(1, rng.choices((1, 2), (6, 4))[0] + 1):
        lines: list[DemoLine] = []
        for li in range(1, rng.choices((1, 2, 3), (35, 40, 25))[0] + 1):
            line_name, flow = rng.choice(ind.lines)
            n = rng.randint(2, 5)
            kinds = [flow[i % len(flow)] for i in range(n - 1 if li == 1 else n)]
            if li == 1:
                kinds.append("env")
            machines = []
            for m, kind in enumerate(kinds, start=1):
                label, tags = _KINDS[kind]
                k = rng.randint(3, min(6, len(tags)))
                machines.append(DemoMachine(f"M{m:02d}", f"{label} #{m:02d}", kind, tags[:k]))
            lines.append(DemoLine(f"L{li}", f"{line_name} {li}라인", tuple(machines)))
        areas.append(DemoArea(f"A{a}", f"제{a}생산동", tuple(lines)))
    return tuple(areas)


def _split(box: _Box) -> tuple[_Box, _Box]:
    """Two sites side by side along the longer side of the company's lot, with a small gap."""
    lon0, lat0, lon1, lat1 = box
    if lon1 - lon0 >= (lat1 - lat0) * 1.23:  # compare in metres (cos 36° ≈ 0.81)
        mid, gap = (lon0 + lon1) / 2, (lon1 - lon0) * 0.03
        return (lon0, lat0, mid - gap, lat1), (mid + gap, lat0, lon1, lat1)
    mid, gap = (lat0 + lat1) / 2, (lat1 - lat0) * 0.03
    return (lon0, lat0, lon1, mid - gap), (lon0, mid + gap, lon1, lat1)


def plan_companies(n: int, seed: int, with_plants: bool) -> tuple[DemoCompany, ...]:
    """Companies in a fixed order; plants use a per-company RNG so the CSV matches the tree."""
    rng = random.Random(seed)
    inds = rng.choices(_INDUSTRIES, [i.weight for i in _INDUSTRIES], k=n)
    zones = [f"Z{rng.choice(ind.zones)}" for ind in inds]
    boxes: dict[int, _Box] = {}
    for z in _ZONES:
        members = [i for i, zc in enumerate(zones) if zc == z]
        boxes.update(zip(members, _layout(z, len(members), rng), strict=True))
    names: set[str] = set()
    brns: set[str] = set()
    out: list[DemoCompany] = []
    for i, (ind, zone) in enumerate(zip(inds, zones, strict=True)):
        brn = make_brn(rng)
        while brn in brns:
            brn = make_brn(rng)
        brns.add(brn)
        base, base_en = _unique_name(rng, ind, names)
        name = rng.choices((f"{base}(주)", f"(주){base}", f"주식회사 {base}"), (6, 3, 1))[0]
        domain = base_en.lower().replace(" ", "-") + ".example"
        employees = max(5, min(5000, int(rng.lognormvariate(4.2, 1.0))))
        number = rng.randint(1, 300)
        footprint = _polygon(boxes[i])
        lots = _split(boxes[i]) if employees >= 300 else (boxes[i],)
        plant_rng = random.Random(f"{seed}:{i}")
        sites = tuple(
            DemoSite(
                name="본사공장" if s == 0 else "제2공장",
                address=f"경상북도 구미시 {_ROADS[zone]} {number + 2 * s}",
                lat=round((lot[1] + lot[3]) / 2, 6),
                lon=round((lot[0] + lot[2]) / 2, 6),
                footprint=footprint if len(lots) == 1 else _polygon(lot),
                areas=_plant(plant_rng, ind) if with_plants else (),
            )
            for s, lot in enumerate(lots)
        )
        out.append(
            DemoCompany(
                brn=brn,
                name=name,
                name_en=f"{base_en} Co., Ltd.",
                ksic=rng.choice(ind.ksic),
                industry=ind.key,
                zone_code=zone,
                employees=employees,
                contacts=_contacts(rng, domain),
                footprint=footprint,
                sites=sites,
            )
        )
    return tuple(out)


def build_demo_complex(n_companies: int = 60, seed: int = 7) -> DemoComplex:
    """The whole demo complex: four zones and `n_companies` companies with plants and tags."""
    zones = tuple(
        DemoZone(
            code, f"구미 {code[1]}단지", f"Gumi Zone {code[1]}", _polygon((lon0, lat0, lon1, lat1))
        )
        for code, (lat0, lat1, lon0, lon1) in _ZONES.items()
    )
    lats = [v for b in _ZONES.values() for v in b[:2]]
    lons = [v for b in _ZONES.values() for v in b[2:]]
    center = (round((min(lats) + max(lats)) / 2, 6), round((min(lons) + max(lons)) / 2, 6))
    return DemoComplex(
        "GUMI",
        "구미국가산업단지",
        "Gumi National Industrial Complex",
        center,
        zones,
        plan_companies(n_companies, seed, with_plants=True),
    )
