"""Shared fixtures: a migrated database on SQLite and (when configured) PostgreSQL, the app,
and a small two-company world with a user of every role.

PostgreSQL runs when SANDAN_TEST_DATABASE_URL is set (CI sets it). With
SANDAN_REQUIRE_SERVICES=1 a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sandan import models
from sandan.app import create_app
from sandan.core.context import Context
from sandan.core.identity import service as identity
from sandan.core.identity.principal import Principal
from sandan.core.identity.roles import ROLE_SCOPES, Role
from sandan.migrate import upgrade
from sandan.registry import schemas, service
from sandan.registry.importer import import_companies
from sandan.registry.models import Contact
from sandan.settings import Settings

# Tests check behaviour, never timings: Hypothesis' per-example deadline (200 ms) failed
# examples on a loaded 2-core machine, so it is off for every property test.
hypothesis_settings.register_profile("sandan", deadline=None)
hypothesis_settings.load_profile("sandan")

PASSWORD = "correct-horse-battery"
REQUIRE = os.environ.get("SANDAN_REQUIRE_SERVICES") == "1"


def need_service(reason: str) -> None:
    """Skip locally, fail in CI, when a real service a test needs is not there."""
    if REQUIRE:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, cheap parameters: tests create many users."""
    monkeypatch.setattr(
        identity, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test."""
    directory = tmp_path_factory.mktemp("template")
    upgrade(Settings(data_dir=directory))
    return directory / "sandan.db"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, built by the real migrations."""
    base = os.environ.get("SANDAN_TEST_DATABASE_URL")
    if not base:
        need_service("set SANDAN_TEST_DATABASE_URL to run the PostgreSQL suite")
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"sandan_pytest_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        need_service(f"PostgreSQL at {url.render_as_string()} unavailable: {exc}")
    test_url = url.set(database=name).render_as_string(hide_password=False)
    upgrade(Settings(database_url=test_url))
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Every table of the schema: a new domain's tables are reset without editing this list.
TABLES = tuple(t.name for t in reversed(models.Base.metadata.sorted_tables))


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings for one test on each backend, on an empty migrated schema."""
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "sandan.db")
        return Settings(data_dir=tmp_path, secret_key="test-secret")
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        # A superuser's reset between tests; the append-only triggers would refuse it.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return Settings(data_dir=tmp_path, database_url=url, secret_key="test-secret")


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context.build(settings)
    yield context
    context.db.dispose()


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, with_ui=False, ctx=ctx)) as test_client:
        yield test_client


@dataclass
class World:
    """Two companies in two zones, each with a plant, and a user (and token) per role."""

    complex_id: int = 0
    zones: dict[str, int] = field(default_factory=dict)
    companies: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    machines: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    import_run: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)  # set by tests that send

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}


VALID_BRNS = {"A": "1248100998", "B": "2208162517"}
PEOPLE = {
    "operator": (Role.complex_operator, None),
    "admin_a": (Role.company_admin, "A"),
    "member_a": (Role.company_member, "A"),
    "admin_b": (Role.company_admin, "B"),
    "member_b": (Role.company_member, "B"),
    "safety": (Role.safety_operator, None),
    "logistics": (Role.logistics_operator, None),
    "auditor": (Role.auditor, None),
}


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, object]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_world(ctx: Context) -> World:
    """Seed the world through the services, as the system."""
    world = World()
    system = Principal.system("test")
    with ctx.db.unit(system) as s:
        cx = service.create_complex(
            s,
            system,
            schemas.ComplexIn(
                code="GUMI",
                name="구미국가산업단지",
                name_en="Gumi",
                center_lat=36.1,
                center_lon=128.38,
            ),
        )
        world.complex_id = cx.id
        for i, code in enumerate(("Z1", "Z2", "Z3", "Z4")):
            zone = service.create_zone(
                s,
                system,
                schemas.ZoneIn(
                    complex_id=cx.id,
                    code=code,
                    name=f"{i + 1}단지",
                    name_en=f"Zone {i + 1}",
                    boundary=square(128.30 + i * 0.05, 36.05, 0.04),
                ),
            )
            world.zones[code] = zone.id
        for key, zone in (("A", "Z1"), ("B", "Z2")):
            company = service.create_company(
                s,
                system,
                schemas.CompanyIn(
                    brn=VALID_BRNS[key],
                    name=f"회사{key}",
                    name_en=f"Company {key}",
                    ksic="26110",
                    zone_id=world.zones[zone],
                    footprint=square(128.31 + (key == "B") * 0.05, 36.06),
                    contacts=[
                        schemas.ContactIn(
                            name=f"담당{key}",
                            role="공장장",
                            phone="054-400-0000",
                            email=f"plant@{key.lower()}.example",
                        )
                    ],
                ),
            )
            cid = world.companies[key] = company.id
            site = service.create_site(
                s, system, schemas.SiteIn(company_id=cid, name=f"{key} plant")
            )
            world.sites[key] = site.id
            area = service.create_asset(
                s,
                system,
                schemas.AssetIn(site_id=site.id, level="area", code="A1", name="Assembly"),
            )
            line = service.create_asset(
                s,
                system,
                schemas.AssetIn(
                    site_id=site.id, parent_id=area.id, level="line", code="L1", name="Line 1"
                ),
            )
            machine = service.create_asset(
                s,
                system,
                schemas.AssetIn(
                    site_id=site.id,
                    parent_id=line.id,
                    level="machine",
                    code="M01",
                    name="CNC 1",
                    kind="cnc",
                ),
            )
            world.areas[key], world.lines[key], world.machines[key] = area.id, line.id, machine.id
            device = service.create_device(
                s,
                system,
                schemas.DeviceIn(site_id=site.id, machine_id=machine.id, name=f"{key}-gw"),
            )
            world.devices[key] = device.id
            tag = service.create_tag(
                s,
                system,
                schemas.TagIn(
                    device_id=device.id,
                    name="spindle_speed",
                    quantity="rotational speed",
                    unit="rpm",
                    range_min=0,
                    range_max=12000,
                    sampling_ms=1000,
                ),
            )
            world.tags[key] = tag.id
            contact = s.scalars(
                service.owned_readable(Contact, system).where(Contact.company_id == cid)
            ).first()
            assert contact is not None
            world.contacts[key] = contact.id
        for who, (role, company_key) in PEOPLE.items():
            user = identity.create_user(
                s,
                system,
                email=f"{who}@test.example",
                name=who,
                password=PASSWORD,
                role=role.value,
                company_id=world.companies[company_key] if company_key else None,
            )
            world.users[who] = user.id
            as_user = identity.principal_for(user)
            cred, token = identity.issue_api_token(
                s, as_user, name="test", scopes=[sc.value for sc in ROLE_SCOPES[role]], days=1
            )
            world.tokens[who], world.token_ids[who] = token, cred.id
        report = import_companies(s, system, ["brn,name,ksic,zone\n", "1,bad,26110,Z1\n"])
        world.import_run = report.run_id
    return world


@pytest.fixture
def world(ctx: Context) -> World:
    return build_world(ctx)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api(settings: Settings, ctx: Context) -> Iterator[str]:
    """The platform (API only) served by a real uvicorn on a free port: its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, with_ui=False, ctx=ctx),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def own_mosquitto(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own on a free port (yields the port), set up as
    docs/operations.md advises for ingest: for tests whose topics other people's runs on
    the shared broker would also publish to."""
    if shutil.which("mosquitto") is None:
        need_service("the mosquitto binary is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
        "max_inflight_messages 1000\nmax_queued_messages 100000\npersistence false\n"
    )
    process = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, "mosquitto exited"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)
