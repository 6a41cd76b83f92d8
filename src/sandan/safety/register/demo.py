"""Demo data of the hazard register: every demo company keeps what its industry typically
stores (a semiconductor or display fab: hydrofluoric acid, ammonia, chlorine, silane; a chemical
plant: acids, caustic, chlorine; a metal works: LPG, oxygen, acetylene ...) in tanks and
cabinets beside its plant, with two 24-hour contacts; the complex has shelters and assembly
points and one evacuation route per zone (Gumi's zones 1-4, see registry/demo_data.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.orm import Session

from sandan.core.identity.principal import Principal
from sandan.registry import service as registry
from sandan.safety.register import schemas, service

# (name, CAS, unit, quantity range, GHS classes)
Material = tuple[str, str, str, tuple[float, float], tuple[str, ...]]
HF: Material = (
    "불산 (hydrofluoric acid 55%)",
    "7664-39-3",
    "t",
    (2, 20),
    ("GHS05", "GHS06", "H300", "H310", "H330", "H314"),
)
NH3: Material = (
    "암모니아 (ammonia, anhydrous)",
    "7664-41-7",
    "t",
    (1, 10),
    ("GHS04", "GHS05", "GHS06", "H221", "H331", "H314"),
)
CL2: Material = (
    "염소 (chlorine)",
    "7782-50-5",
    "kg",
    (200, 900),
    ("GHS03", "GHS04", "GHS06", "H270", "H331", "H315"),
)
SIH4: Material = ("실란 (silane)", "7803-62-5", "kg", (50, 400), ("GHS02", "GHS04", "H220", "H250"))
NF3: Material = (
    "삼불화질소 (nitrogen trifluoride)",
    "7783-54-2",
    "kg",
    (100, 800),
    ("GHS03", "GHS04", "H270", "H332"),
)
HCL: Material = (
    "염산 (hydrochloric acid 35%)",
    "7647-01-0",
    "t",
    (1, 15),
    ("GHS05", "GHS07", "H314", "H335"),
)
H2SO4: Material = ("황산 (sulfuric acid 98%)", "7664-93-9", "t", (2, 30), ("GHS05", "H314"))
NAOH: Material = (
    "수산화나트륨 (sodium hydroxide 45%)",
    "1310-73-2",
    "t",
    (2, 25),
    ("GHS05", "H314"),
)
H2O2: Material = (
    "과산화수소 (hydrogen peroxide 35%)",
    "7722-84-1",
    "t",
    (1, 8),
    ("GHS03", "GHS05", "H271", "H314"),
)
IPA: Material = (
    "이소프로필알코올 (IPA)",
    "67-63-0",
    "L",
    (500, 8000),
    ("GHS02", "GHS07", "H225", "H319"),
)
TOLUENE: Material = (
    "톨루엔 (toluene)",
    "108-88-3",
    "L",
    (500, 5000),
    ("GHS02", "GHS08", "H225", "H304"),
)
LPG: Material = (
    "LPG (liquefied petroleum gas)",
    "68476-85-7",
    "kg",
    (500, 3000),
    ("GHS02", "GHS04", "H220"),
)
O2: Material = (
    "산소 (oxygen, compressed)",
    "7782-44-7",
    "Nm3",
    (100, 2000),
    ("GHS03", "GHS04", "H270"),
)
C2H2: Material = ("아세틸렌 (acetylene)", "74-86-2", "kg", (20, 200), ("GHS02", "GHS04", "H220"))
H2: Material = ("수소 (hydrogen)", "1333-74-0", "Nm3", (50, 800), ("GHS02", "GHS04", "H220"))

# By KSIC division: (facility kind, facility name, materials)
Store = tuple[str, str, tuple[Material, ...]]
BY_DIVISION: dict[str, tuple[Store, ...]] = {
    "26": (
        ("storage_tank", "약품 탱크 (chemical tank farm)", (HF, H2SO4, H2O2)),
        ("gas_cabinet", "특수가스 캐비닛 (specialty gas cabinets)", (NH3, CL2, SIH4, NF3)),
    ),
    "20": (
        ("storage_tank", "산·알칼리 탱크 (acid and caustic tanks)", (HCL, H2SO4, NAOH, HF)),
        ("cylinder_store", "고압가스 저장소 (pressurised gas store)", (CL2, NH3)),
        ("warehouse", "위험물 창고 (solvent store)", (TOLUENE, IPA)),
    ),
    "28": (
        ("storage_tank", "도금 약품 탱크 (plating chemicals)", (H2SO4, NAOH)),
        ("cylinder_store", "가스 용기 보관소", (H2, LPG)),
    ),
    "24": (("cylinder_store", "용단 가스 저장소 (cutting gas store)", (O2, C2H2, LPG)),),
    "25": (("cylinder_store", "용접 가스 저장소 (welding gas store)", (O2, C2H2, LPG)),),
}
DEFAULT: tuple[Store, ...] = (
    ("cylinder_store", "LPG 저장소", (LPG,)),
    ("warehouse", "위험물 창고", (IPA,)),
)

SHELTERS = (
    ("구미시민운동장 (Gumi civic stadium)", "shelter", 36.1188, 128.3492, 3000),
    ("동락공원 (Dongnak park)", "assembly_point", 36.1015, 128.4205, 5000),
    ("구미 1단지 체육관 (Zone 1 gymnasium)", "shelter", 36.0823, 128.3705, 800),
    ("3단지 근로자 복지회관 (Zone 3 workers' hall)", "shelter", 36.1345, 128.3890, 600),
    ("4단지 북문 집결지 (Zone 4 north gate)", "assembly_point", 36.1502, 128.4215, 1500),
    ("2단지 수출대로 집결지 (Zone 2 assembly point)", "assembly_point", 36.0860, 128.4130, 1200),
)
ROUTES = (
    (
        "1단지 → 구미시민운동장",
        "Z1",
        ((36.0985, 128.3700), (36.1080, 128.3600), (36.1188, 128.3492)),
    ),
    ("2단지 → 동락공원", "Z2", ((36.0980, 128.4125), (36.1000, 128.4170), (36.1015, 128.4205))),
    (
        "3단지 → 근로자 복지회관",
        "Z3",
        ((36.1220, 128.4100), (36.1300, 128.3980), (36.1345, 128.3890)),
    ),
    ("4단지 → 북문 집결지", "Z4", ((36.1410, 128.4190), (36.1460, 128.4200), (36.1502, 128.4215))),
)
_SURNAMES = "김이박최정강조윤장임"
_GIVEN = ("민수", "지현", "서연", "도윤", "하은", "성호", "태희", "준혁")


@dataclass(frozen=True)
class Seeded:
    """What the demo seeding made."""

    facilities: int
    materials: int
    contacts: int
    shelters: int
    routes: int


def seed_hazards(session: Session, seed: int = 11) -> Seeded:
    """A register for every demo company and the complex's shelters and routes."""
    system = Principal.system("demo-seed")
    rng = random.Random(seed)
    first_place: dict[int, registry.Place] = {}
    for place in registry.company_places(session, system):
        first_place.setdefault(place.company_id, place)
    profiles = registry.company_profiles(session, list(first_place))
    facilities = materials = contacts = 0
    for company_id, place in sorted(first_place.items()):
        stores = BY_DIVISION.get(profiles[company_id].ksic[:2], DEFAULT)
        for i, (kind, name, held) in enumerate(stores):
            facility = service.create_facility(
                session,
                system,
                schemas.FacilityIn(
                    company_id=company_id,
                    name=name,
                    kind=kind,
                    lat=round(place.lat + 0.0003 * (i + 1), 6),  # ~30 m apart, beside the plant
                    lon=round(place.lon + rng.uniform(-0.0004, 0.0004), 6),
                ),
            )
            facilities += 1
            for label, cas, unit, (low, high), classes in held:
                quantity = round(rng.uniform(low, high), 1)
                service.create_material(
                    session,
                    system,
                    schemas.MaterialIn(
                        facility_id=facility.id,
                        name=label,
                        cas=cas,
                        quantity=quantity,
                        unit=unit,
                        max_quantity=round(high * 1.25, 1),
                        hazard_classes=list(classes),
                    ),
                )
                materials += 1
        given = rng.sample(_GIVEN, 2)  # two different people
        for order, role in enumerate(("안전관리자 (safety manager)", "야간 당직 (night duty)"), 1):
            person = rng.choice(_SURNAMES) + given[order - 1]
            service.create_contact(
                session,
                system,
                schemas.EmergencyContactIn(
                    company_id=company_id,
                    name=person,
                    role=role,
                    phone=f"010-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}",
                    call_order=order,
                ),
            )
            contacts += 1
    for name, kind, lat, lon, capacity in SHELTERS:
        service.create_shelter(
            session,
            system,
            schemas.ShelterIn(name=name, kind=kind, lat=lat, lon=lon, capacity=capacity),
        )
    for name, zone, points in ROUTES:
        service.create_route(
            session, system, schemas.RouteIn(name=name, zone=zone, points=list(points))
        )
    return Seeded(facilities, materials, contacts, len(SHELTERS), len(ROUTES))
