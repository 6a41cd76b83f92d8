"""Seed the demo complex (Gumi, four zones, ~60 companies with plants, lines, machines and tags)
and its demo logins. Runs once, on an empty database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import Role
from sandan.registry import schemas, service
from sandan.registry.demo_data import DemoComplex, build_demo_complex
from sandan.registry.models import Asset, Company, Contact, Device, Site, Tag

DEMO_PASSWORD = "sandan-demo-2026"
_PROTOCOLS = ("mqtt", "sparkplug", "opcua", "mqtt", "http")
OPCUA_PORT = 48400


@dataclass
class Wiring:
    """Which protocol each machine's gateway device speaks, and so its address.

    `protocol=None` is the demo's mix; otherwise every device speaks `protocol`, except the
    first `opcua` machines, which are OPC UA servers. Addresses follow the ingest workers'
    conventions, so `sandan simulate` can serve and publish exactly what the registry says:
    Sparkplug `<BRN>/S<site>/<area>-<line>-<machine>` (group, edge node, device; metric =
    tag name), OPC UA `opc.tcp://127.0.0.1:<opcua_port + k>/sandan/` for the k-th OPC UA
    device, each tag at node `ns=2;s=<tag name>`.
    """

    protocol: str | None = None
    opcua: int = 0
    opcua_port: int = OPCUA_PORT
    _opcua_seen: int = field(default=0, init=False, repr=False)

    def pick(self, machine_id: int) -> str:
        if self.protocol is None:
            return _PROTOCOLS[machine_id % len(_PROTOCOLS)]
        return "opcua" if self._opcua_seen < self.opcua else self.protocol

    def address(self, protocol: str, brn: str, site: int, path: tuple[str, str, str]) -> str:
        if protocol == "sparkplug":
            return f"{brn}/S{site}/{'-'.join(path)}"
        if protocol == "opcua":
            port = self.opcua_port + self._opcua_seen
            if port > 65535:
                raise ValueError(f"OPC UA device {self._opcua_seen + 1} would need port {port}")
            self._opcua_seen += 1
            return f"opc.tcp://127.0.0.1:{port}/sandan/"
        return f"{brn}-{'-'.join(path)}"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    company: str
    password: str = DEMO_PASSWORD


def is_seeded(session: Session) -> bool:
    """Whether a complex already exists (the demo never seeds twice)."""
    return bool(session.scalar(select(func.count()).select_from(Company)))


def seed_demo(
    session: Session,
    n_companies: int = 60,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
    *,
    demo: DemoComplex | None = None,
    wiring: Wiring | None = None,
) -> list[DemoLogin]:
    """Create the demo complex through the registry's rules, then its users; returns logins.
    `demo` replaces the generated complex (the simulator passes a resized one)."""
    principal = Principal.system("demo-seed")
    demo = demo or build_demo_complex(n_companies=n_companies, seed=seed)
    wiring = wiring or Wiring()
    cx = service.create_complex(
        session,
        principal,
        schemas.ComplexIn(
            code=demo.code,
            name=demo.name,
            name_en=demo.name_en,
            kind="hub",
            center_lat=demo.center[0],
            center_lon=demo.center[1],
        ),
    )
    zones = {
        z.code: service.create_zone(
            session,
            principal,
            schemas.ZoneIn(
                complex_id=cx.id, code=z.code, name=z.name, name_en=z.name_en, boundary=z.boundary
            ),
        )
        for z in demo.zones
    }
    companies: list[Company] = []
    for dc in demo.companies:
        company = Company(
            complex_id=cx.id,
            zone_id=zones[dc.zone_code].id,
            brn=dc.brn,
            name=dc.name,
            name_en=dc.name_en,
            ksic=dc.ksic,
            address=dc.sites[0].address,
            employees=dc.employees,
            footprint=dc.footprint,
        )
        companies.append(company)
    session.add_all(companies)
    session.flush()
    for company, dc in zip(companies, demo.companies, strict=True):
        session.add_all(
            Contact(company_id=company.id, name=c.name, role=c.role, phone=c.phone, email=c.email)
            for c in dc.contacts
        )
        _seed_plant(session, company, dc.sites, wiring)
        if progress is not None:
            progress(1)
    session.flush()
    return _seed_users(session, principal, companies)


def _seed_plant(
    session: Session, company: Company, sites: tuple[object, ...], wiring: Wiring
) -> None:
    """Sites, the ISA-95 tree, one gateway device per machine and its tags."""
    from sandan.registry.demo_data import DemoSite

    for site_no, ds in enumerate(sites, start=1):
        assert isinstance(ds, DemoSite)
        site = Site(
            company_id=company.id,
            name=ds.name,
            address=ds.address,
            lat=ds.lat,
            lon=ds.lon,
            footprint=ds.footprint,
        )
        session.add(site)
        session.flush()
        for da in ds.areas:
            area = Asset(
                company_id=company.id, site_id=site.id, level="area", code=da.code, name=da.name
            )
            session.add(area)
            session.flush()
            for dl in da.lines:
                line = Asset(
                    company_id=company.id,
                    site_id=site.id,
                    parent_id=area.id,
                    level="line",
                    code=dl.code,
                    name=dl.name,
                )
                session.add(line)
                session.flush()
                machines = [
                    Asset(
                        company_id=company.id,
                        site_id=site.id,
                        parent_id=line.id,
                        level="machine",
                        code=dm.code,
                        name=dm.name,
                        kind=dm.kind,
                    )
                    for dm in dl.machines
                ]
                session.add_all(machines)
                session.flush()
                devices = []
                for m in machines:
                    protocol = wiring.pick(m.id)
                    external_id = wiring.address(
                        protocol, company.brn, site_no, (da.code, dl.code, m.code)
                    )
                    devices.append(
                        Device(
                            company_id=company.id,
                            site_id=site.id,
                            machine_id=m.id,
                            name=f"{m.code}-gw",
                            protocol=protocol,
                            external_id=external_id,
                        )
                    )
                session.add_all(devices)
                session.flush()
                session.add_all(
                    Tag(
                        company_id=company.id,
                        device_id=dev.id,
                        machine_id=m.id,
                        name=t.name,
                        quantity=t.quantity,
                        unit=t.unit,
                        data_type=t.data_type,
                        range_min=t.range_min,
                        range_max=t.range_max,
                        sampling_ms=t.sampling_ms,
                        source_address=f"ns=2;s={t.name}" if dev.protocol == "opcua" else "",
                    )
                    for dev, m, dm in zip(devices, machines, dl.machines, strict=True)
                    for t in dm.tags
                )


def _seed_users(
    session: Session, principal: Principal, companies: list[Company]
) -> list[DemoLogin]:
    first, others = companies[0], companies[1:2]  # a one-factory simulation has no second
    people = [
        ("operator@sandan.example", "산단 운영자 (Complex operator)", Role.complex_operator, None),
        (f"admin@{_domain(first)}", f"{first.name} 관리자", Role.company_admin, first),
        (f"member@{_domain(first)}", f"{first.name} 직원", Role.company_member, first),
        *((f"admin@{_domain(c)}", f"{c.name} 관리자", Role.company_admin, c) for c in others),
        ("safety@sandan.example", "통합관제 운영자 (Safety operator)", Role.safety_operator, None),
        ("logistics@sandan.example", "물류센터 운영자 (Logistics)", Role.logistics_operator, None),
        ("auditor@sandan.example", "감사 (Auditor)", Role.auditor, None),
    ]
    logins = []
    for email, name, role, company in people:
        identity.create_user(
            session,
            principal,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role.value,
            company_id=company.id if company else None,
        )
        logins.append(
            DemoLogin(email=email, role=role.value, company=company.name if company else "—")
        )
    return logins


def _domain(company: Company) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in company.name_en.lower().split(" co")[0])
    return f"{slug.strip('-') or company.brn}.example"


def demo_logins(session: Session) -> list[DemoLogin]:
    """The demo logins of an already seeded database (for printing on later runs)."""
    from sandan.core.identity.models import User

    users = session.scalars(select(User).order_by(User.id).limit(7)).all()
    names = {
        c.id: c.name
        for c in session.scalars(
            select(Company).where(Company.id.in_([u.company_id for u in users if u.company_id]))
        )
    }
    return [
        DemoLogin(email=u.email, role=u.role, company=names.get(u.company_id or 0, "—"))
        for u in users
    ]
